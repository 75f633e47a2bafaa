/*
 * How a trial's trainer (a `fashion-ann train` child of a search worker) reports its epochs to the worker: over the
 * child's IPC channel, once per epoch, right after the epoch's checkpoint is written. The worker records each report
 * in the study and asks the pruner, so every epoch is seen, none is read back from a file.
 */

/** The message: every metric per epoch so far, counted from the trial's first epoch (History.history). */
export interface EpochReport {
  kind: "fashion-ann/epochs";
  history: Record<string, number[]>;
}

export function isEpochReport(message: unknown): message is EpochReport {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as EpochReport).kind === "fashion-ann/epochs" &&
    typeof (message as EpochReport).history === "object"
  );
}

/**
 * The trainer's side: a function that sends the history so far to the process that spawned this one, when it did so
 * with an IPC channel (a search worker does; a shell or a notebook does not, and then this is undefined). It
 * resolves once the message is handed to the channel, so the next epoch's report cannot overtake it. A worker that
 * is gone (its channel closed) does not stop training: the trial's checkpoint is still written, and the study
 * takes the trial back at its heartbeat timeout.
 */
export function parentEpochReporter(): ((history: Record<string, number[]>) => Promise<void>) | undefined {
  const send = process.send?.bind(process);
  if (!send) return undefined;
  return (history) =>
    new Promise((resolve) => {
      if (!process.connected) return resolve();
      const report: EpochReport = { kind: "fashion-ann/epochs", history };
      send(report, undefined, {}, () => resolve());
    });
}
