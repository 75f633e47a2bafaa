/**
 * The one job of a child process that `fashion-ann bench` forks: the parent sends one spec over IPC and gets back the
 * reply, or { error } with the error's first line. The child then exits explicitly, since a tfjs backend, the figure
 * renderer or tslab's file watchers may keep its event loop alive.
 */
export function serveOneRequest<Spec, Reply extends object>(name: string, work: (spec: Spec) => Promise<Reply>): void {
  if (!process.send) throw new Error(`${name}: start it with child_process.fork (it needs an IPC channel)`);
  const reply = (message: Reply | { error: string }): Promise<void> => new Promise((resolve) => process.send!(message, () => resolve()));
  process.once("message", (spec: Spec) => {
    work(spec)
      .then(reply)
      .catch((err: unknown) => reply({ error: err instanceof Error ? err.message.split("\n")[0]! : String(err) }))
      .finally(() => process.exit(0));
  });
}
