// Child-process entry of a search worker's trainer slot (lib/search/trainer-pool.ts): a process that stays up across
// trials and runs `fashion-ann train` for each trial the worker sends, in-process. A fresh `train` child paid about
// 5 s per trial for node's start, loading tfjs and the engine, and reading and scaling the dataset; here the modules,
// the started engine and the scaled dataset (lib/data/resident.ts) stay from one trial to the next.
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { keepDatasetResident } from "../data/resident";
import { isErrnoError, PathError, pathError } from "../io/fs-errors";
import { isTrainerRequest, type TrainerReply } from "../search/trainer-pool";
import { clearPendingInterrupt, interruptNextTraining, interruptTrainings, onIdleSignal } from "../train/interrupt";
import { main } from "./main";

const exitCodeOfSignal = (signal: NodeJS.Signals): number => (signal === "SIGINT" ? 130 : 143);

/** Sends a reply; resolves once it is handed to the channel (or at once when the worker is gone). */
function reply(message: TrainerReply): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });
}

/**
 * Runs `write` with this process's stdout and stderr going to `file` (appended, synchronously, so the trial's
 * log holds what a `train` child with that file as its stdout would have written, in order).
 */
async function withOutputTo<T>(file: string, run: () => Promise<T>): Promise<T> {
  const fd = fs.openSync(file, "a");
  const out = process.stdout.write;
  const err = process.stderr.write;
  const write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown) => {
    fs.writeSync(
      fd,
      typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : chunk,
    );
    const done = typeof encoding === "function" ? encoding : cb;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = write;
  process.stderr.write = write;
  try {
    return await run();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    fs.closeSync(fd);
  }
}

/** The trial in hand, while one is. */
let current: number | undefined;
/** The backend the first trial started: a trial that ended on another (a model moved off the native engine) retires this process. */
let backendAtStart: string | undefined;

/** The one sentence of an error that is a full disk (ENOSPC, EDQUOT) met by this process's own write, else undefined. */
function diskFullSentence(err: unknown): string | undefined {
  const named = isErrnoError(err) ? pathError(err) : err;
  return named instanceof PathError && (named.code === "ENOSPC" || named.code === "EDQUOT") ? named.message : undefined;
}

async function runTrial(id: number, args: string[], log: string): Promise<void> {
  current = id;
  let diskFull: string | undefined;
  const code = await withOutputTo(log, () =>
    main([process.execPath, "fashion-ann", ...args], (err) => {
      diskFull = diskFullSentence(err);
    }),
  );
  current = undefined;
  // A stop that came after the trial's training (while it evaluated the test set) had nothing left to stop.
  clearPendingInterrupt();
  // The trial's model and optimizer state, also when it stopped or failed before disposing them itself.
  tf.disposeVariables();
  backendAtStart ??= tf.getBackend();
  // A later trial must start as in a fresh process: not on an engine a model moved it to, nor after a failure (a
  // diverged or crashed trial may leave anything half-done). A stopped trial (130/143: pruned) ended cleanly.
  const retire = tf.getBackend() !== backendAtStart || ![0, 130, 143].includes(code);
  await reply({ kind: "fashion-ann/trial-end", code, retire, ...(diskFull && { diskFull }) });
  if (!process.connected) process.exit(0);
}

if (require.main === module) {
  if (!process.send) throw new Error("trainer process: start it with child_process.fork from a search worker (it needs an IPC channel)");
  keepDatasetResident();
  // A signal while no trial trains (between trials, or while one loads) ends the process as it would a `train` child.
  onIdleSignal((signal) => process.exit(exitCodeOfSignal(signal)));
  process.on("message", (message: unknown) => {
    if (!isTrainerRequest(message)) return;
    if (message.kind === "fashion-ann/trial") {
      void runTrial(message.id, message.args, message.log);
      return;
    }
    // A stop that crossed its trial's end on the way: that trial is over, the one in hand is another.
    if (message.id !== current) return;
    // Pruned, taken back or the search stopping: the training stops after its batch and keeps its epochs, as on a
    // signal. A stop that arrives while the trial loads stops its training as it starts (before a batch), and one
    // that arrives while it evaluates after its last epoch has nothing left to stop: either way the process stays
    // up for the next trial instead of paying a fresh start.
    if (!interruptTrainings(message.signal)) interruptNextTraining(message.signal);
  });
  // The worker closed the channel (done, or it died): finish the trial in hand, whose checkpoint is still written.
  process.on("disconnect", () => {
    if (current === undefined) process.exit(0);
  });
}
