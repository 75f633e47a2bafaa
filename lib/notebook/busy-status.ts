/*
 * Jupyter front ends show the kernel status of the last iopub status message, whichever request it answers. tslab
 * handles shell messages concurrently: with Run All every cell's execute_request announces busy at once and waits in
 * tslab's queue, so the first cell's idle left JupyterLab 4 and Notebook 7 showing "Idle" while the later cells ran,
 * 04's whole fit included; a completion or kernel_info request answered during a cell did the same. IPython handles shell
 * messages one at a time, so its idle means idle. Here every request still gets its own busy and idle (nbclient waits
 * for a cell's idle), and an idle is followed by a busy for the oldest execute request still running or queued.
 */

/** What tslab's ZmqServer and its messages offer for this; typed here so tests can pass a fake. */
export interface StatusMessage {
  header: { msg_type: string };
}
export interface StatusPublisher<M extends StatusMessage = StatusMessage> {
  publishStatus(status: string, parent: M): void;
}

/** Wraps `server.publishStatus` so the last status a front end sees is busy while any cell runs or waits. */
export function keepBusyWhileQueued<M extends StatusMessage>(server: StatusPublisher<M>): void {
  const publish = server.publishStatus.bind(server);
  const cells: M[] = [];
  server.publishStatus = (status: string, parent: M): void => {
    const cell = parent.header.msg_type === "execute_request";
    if (cell && status === "busy") cells.push(parent);
    const at = cell && status === "idle" ? cells.indexOf(parent) : -1;
    if (at >= 0) cells.splice(at, 1);
    publish(status, parent);
    if (status === "idle" && cells.length > 0) publish("busy", cells[0]!);
  };
}
