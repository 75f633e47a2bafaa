import { Worker } from "node:worker_threads";

/*
 * The run locks' heartbeats, on a thread of their own. On the main thread a heartbeat is a timer, and a timer waits for
 * the event loop: a holder busy in one long synchronous step (a big epoch on the native engine, a slow synchronous
 * save) missed its beats and, after LOCK_STALE_SECONDS, another host took its folder over while it was still
 * writing there. A worker thread has its own event loop, so a live process keeps beating however busy its main
 * thread is; only a process that is gone (or stopped) falls silent.
 */

/**
 * The thread's code (plain CommonJS, evaluated, so it runs the same from dist/ and from the TypeScript sources under
 * vitest). Every `ms` it rewrites each lock file in place with the bytes it was given, which moves the file's time;
 * a lock that is gone or holds other bytes (released, taken over) is dropped.
 */
const BEATER = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const locks = new Map();
function beat(file, text) {
  const fd = fs.openSync(file, "r+");
  try {
    if (fs.readFileSync(fd, "utf8") !== text) throw new Error("the lock changed hands");
    fs.writeSync(fd, text, 0);
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on("message", (m) => (m.text === undefined ? locks.delete(m.file) : locks.set(m.file, m.text)));
setInterval(() => {
  for (const [file, text] of locks) {
    try {
      beat(file, text);
    } catch {
      locks.delete(file);
    }
  }
}, workerData.ms);
`;

let thread: Worker | undefined;

function beater(intervalSeconds: number): Worker {
  if (!thread) {
    thread = new Worker(BEATER, { eval: true, workerData: { ms: intervalSeconds * 1000 } });
    // The heartbeat never keeps a finished process alive, nor fails it: a lost beat is what a dead holder looks like.
    thread.unref();
    thread.on("error", () => {
      thread = undefined;
    });
  }
  return thread;
}

/** Starts beating `file` (whose content is `text`) every `intervalSeconds`, whatever the main thread is doing. */
export function startLockHeartbeat(file: string, text: string, intervalSeconds: number): void {
  beater(intervalSeconds).postMessage({ file, text });
}

/** Stops beating `file` (before it is deleted on release). */
export function stopLockHeartbeat(file: string): void {
  thread?.postMessage({ file });
}
