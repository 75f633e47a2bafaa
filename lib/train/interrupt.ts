import { inTslabKernel } from "../io/tslab";

/*
 * Ctrl-C in a terminal and Jupyter's interrupt button both send SIGINT. Training registers a stop
 * function here; the signal stops every active training after its current batch.
 *
 * tslab runs each cell's synchronous part under vm's breakOnSigint watchdog, which takes over the native
 * SIGINT handler while it runs: a listener added during that part leaves the kernel to be killed by the
 * next interrupt, and removing the last listener later resets SIGINT to its default (kill) as well.
 * So the listener is added once, after yielding out of the cell's synchronous part, and is never removed.
 */

const active = new Set<() => void>();
let installed = false;
let last: NodeJS.Signals | undefined;

/** The signal that last stopped training, so the CLI can exit 130 (SIGINT) or 143 (SIGTERM) as shells expect. */
export function lastInterruptSignal(): NodeJS.Signals | undefined {
  return last;
}

/** What a signal does while no training runs; the CLI sets it (only the CLI decides exit codes). */
let idle: (signal: NodeJS.Signals) => void = raiseDefault;

/** Sets what SIGINT/SIGTERM do while no training is running (the CLI exits with 130/143). */
export function onIdleSignal(handler: (signal: NodeJS.Signals) => void): void {
  idle = handler;
}

/**
 * Nothing to stop: behave as if we had not listened. A kernel ignores SIGINT; otherwise the signal's default
 * action (termination) is restored and the signal raised again, so the process ends as it would have.
 */
function raiseDefault(signal: NodeJS.Signals): void {
  if (signal === "SIGINT" && inTslabKernel()) return;
  process.removeListener("SIGINT", handle);
  process.removeListener("SIGTERM", handle);
  installed = false;
  process.kill(process.pid, signal);
}

function handle(signal: NodeJS.Signals): void {
  if (active.size > 0) {
    last = signal;
    for (const stop of active) stop();
    return;
  }
  idle(signal);
}

/**
 * Stops every active training as SIGINT/SIGTERM would (a search's long-lived trainer is told over IPC, not by a
 * signal). False when none runs: the caller decides what the request means then.
 */
export function interruptTrainings(signal: NodeJS.Signals): boolean {
  if (active.size === 0) return false;
  handle(signal);
  return true;
}

/** A stop asked while no training ran, for the next one to start (interruptNextTraining). */
let pending: NodeJS.Signals | undefined;

/**
 * Stops the next training as soon as it starts, as interruptTrainings would had it been running: a search's trainer
 * told to stop while its trial still loads (a late prune) stops that trial there, not the whole process, which
 * then takes the next trial without a fresh start. clearPendingInterrupt drops it (the trial ended without training).
 */
export function interruptNextTraining(signal: NodeJS.Signals): void {
  pending = signal;
}

export function clearPendingInterrupt(): void {
  pending = undefined;
}

/**
 * Resolves once the event loop has polled for I/O and signals: a signal, a search's stop over IPC or a notebook's
 * message that arrived while training ran synchronously is handled by then. One setImmediate is not enough: called
 * from an I/O callback (a trainer process's trial message), it resumes in the same turn's check phase, before any
 * poll; the second always comes after the next turn's poll.
 */
export async function letEventsIn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** Calls `stop` on SIGINT/SIGTERM until the returned function is called. */
export async function onInterrupt(stop: () => void): Promise<() => void> {
  if (!installed) {
    await new Promise((resolve) => setImmediate(resolve));
    process.on("SIGINT", handle);
    process.on("SIGTERM", handle);
    installed = true;
  }
  // A new training starts with no signal seen (a kernel may have been interrupted before).
  if (active.size === 0) last = undefined;
  active.add(stop);
  if (pending) {
    last = pending;
    pending = undefined;
    stop();
  }
  return () => {
    active.delete(stop);
  };
}
