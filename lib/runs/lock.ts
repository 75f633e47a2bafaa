import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isErrnoError, makeFolder, pathError, withPathErrors } from "../io/fs-errors";
import { isProcessAlive, processStartTicks } from "../io/process";
import { UserError } from "../errors/user-error";
import { startLockHeartbeat, stopLockHeartbeat } from "./lock-heartbeat";

/**
 * One writer per run folder. Two `fashion-ann train` processes on the same folder would interleave
 * checkpoints, history and model files, so the first takes `<run>/.lock` and the second is refused
 * with the holder's pid. The lock file is created complete in one step (written to a temp file, then
 * hard-linked to `.lock`, which fails if it exists), so there is never a half-written lock to judge.
 * A lock whose process is gone (SIGKILL, power loss) is stale and taken over, saying so.
 *
 * On a folder shared between machines (a Kubernetes volume, NFS), a holder on another host cannot be
 * checked by pid. So a holder heartbeats: every LOCK_HEARTBEAT_SECONDS it rewrites its lock in place (same
 * bytes), which moves the file's modification time. A lock from another host whose time has not moved for
 * LOCK_STALE_SECONDS, as measured by the filesystem's own clock (a probe file's time, so the hosts' clocks
 * need not agree), belongs to a holder that is gone, and is taken over like a dead pid's.
 */

/** Seconds between a holder's heartbeats (rewrites of its lock file). */
export const LOCK_HEARTBEAT_SECONDS = 2;
/**
 * A lock from another host whose heartbeat is older than this is stale. Several missed heartbeats, so a slow disk
 * or a loaded machine is not taken for dead (a busy event loop cannot delay them: they beat on their own thread).
 */
export const LOCK_STALE_SECONDS = 15;

/** File name of the lock inside a run folder (hidden, ignored by the "folder not empty" check). */
export const LOCK_NAME = ".lock";

/** Who holds a run folder's lock; the JSON content of `.lock`. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The holder's command line, to recognise it in `ps`. */
  command: string;
  /**
   * The process's start time in clock ticks since boot (Linux /proc/<pid>/stat field 22), so a pid
   * reused by an unrelated process after a crash is not mistaken for the holder. Absent elsewhere.
   */
  procStart?: string;
  /** Seconds between the holder's heartbeats; absent in locks of versions without them (never judged stale across hosts). */
  heartbeatSeconds?: number;
}

export class RunLockError extends UserError {
  override name = "RunLockError";
}

export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Gives the lock up (after the last of this process's nested acquisitions). Idempotent. */
  release(): void;
}

/** Lock files this process holds, with how many nested acquisitions each has. */
const held = new Map<string, number>();
let exitHookInstalled = false;

function lockFileOf(dir: string): string {
  return path.join(path.resolve(dir), LOCK_NAME);
}

function currentHolder(): LockHolder {
  // The script as a path relative to the working directory (`node dist/lib/cli.js train ...`); the rest as typed.
  const [exe, script, ...args] = process.argv;
  const shown = [...(script ? [path.isAbsolute(script) ? path.relative(process.cwd(), script) || script : script] : []), ...args];
  return {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    command: [path.basename(exe ?? "node"), ...shown].join(" ").slice(0, 200),
    procStart: processStartTicks(process.pid),
    heartbeatSeconds: LOCK_HEARTBEAT_SECONDS,
  };
}

type HolderState = "self" | "alive" | "dead" | "elsewhere" | "gone";

/**
 * Where the holder is and whether it runs. Another host's holder is "gone" when its heartbeat has stopped,
 * "elsewhere" (alive, or unknowable for a lock without heartbeats) otherwise; judging it may wait up to
 * LOCK_STALE_SECONDS for the heartbeat to move or to lapse.
 */
function stateOf(h: LockHolder, file: string): HolderState {
  if (h.host !== os.hostname()) return h.heartbeatSeconds === undefined ? "elsewhere" : remoteState(file);
  const now = processStartTicks(h.pid);
  // Same pid but another start time: the holder died and its pid was reused.
  if (h.procStart !== undefined && now !== undefined && now !== h.procStart) return "dead";
  if (h.pid === process.pid) return "self";
  return isProcessAlive(h.pid) ? "alive" : "dead";
}

/** The holder recorded in `<dir>/.lock`, or undefined if there is none. Throws RunLockError if it is unreadable. */
export function readLock(dir: string): LockHolder | undefined {
  const file = lockFileOf(dir);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    // No lock file, or no folder to hold one (a file in the path is reported where the folder is made).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw isErrnoError(err) ? pathError(err, file) : err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && typeof h.host === "string") return h;
  } catch {
    // fall through
  }
  throw new RunLockError(
    `${file} is not a lock this program wrote (${JSON.stringify(text.slice(0, 80))}); if no other process is using ${path.dirname(file)}, delete it`,
  );
}

/**
 * Seconds since the lock file's last heartbeat, by the filesystem's clock: a probe file written now carries
 * the same clock's time. Falls back to this host's clock where the folder cannot be written. Undefined if
 * the lock is gone.
 */
function heartbeatAge(file: string): number | undefined {
  let beat: number;
  try {
    beat = fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const probe = `${file}.probe.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    fs.writeFileSync(probe, "");
    return (fs.statSync(probe).mtimeMs - beat) / 1000;
  } catch {
    return (Date.now() - beat) / 1000;
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Another host's holder: "elsewhere" as soon as its heartbeat moves, "gone" once it is LOCK_STALE_SECONDS
 * old. A holder killed just now is seen gone after the rest of that time (the caller waits, polling).
 */
function remoteState(file: string): HolderState {
  let last: number | undefined;
  for (;;) {
    const age = heartbeatAge(file);
    if (age === undefined) return "gone"; // released meanwhile: the retry takes it
    if (age > LOCK_STALE_SECONDS) return "gone";
    const beat = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
    if (last !== undefined && beat !== last) return "elsewhere";
    last = beat;
    sleepSync(Math.min(500, (LOCK_STALE_SECONDS - age) * 1000 + 50));
  }
}

function inUseMessage(dir: string, h: LockHolder, state: HolderState): string {
  const who = `pid ${h.pid} on ${h.host} (${h.command || "?"}), since ${h.started}`;
  if (state === "elsewhere" && h.heartbeatSeconds !== undefined) {
    return `run folder ${dir} is in use by ${who}, another machine whose heartbeat in ${lockFileOf(dir)} is fresh; wait for it to finish or stop it there, or use another folder`;
  }
  if (state === "elsewhere") {
    return `run folder ${dir} is locked by ${who}; that is another machine, so whether it still runs cannot be checked here. If it does not, delete ${lockFileOf(dir)}`;
  }
  return `run folder ${dir} is in use by ${who}; wait for it to finish or stop it (kill ${h.pid}), or use another folder`;
}

/**
 * Throws RunLockError if another live process holds the folder's lock. A stale lock (dead holder) or
 * this process's own lock does not block: notebooks re-run cells in one long-lived kernel.
 */
export function assertRunNotLocked(dir: string): void {
  const abs = path.resolve(dir);
  const h = readLock(abs);
  if (!h) return;
  const state = stateOf(h, lockFileOf(abs));
  if (state === "alive" || state === "elsewhere") throw new RunLockError(inUseMessage(abs, h, state));
}

/** Creates `file` holding `holder`, complete, or returns false if it exists. */
function createLockFile(file: string, holder: LockHolder): boolean {
  const text = JSON.stringify(holder) + "\n";
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, text, { flag: "wx" });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  // Filesystems without hard links: exclusive create (a crash between open and write leaves an empty lock).
  try {
    fs.writeFileSync(file, text, { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Moves a stale lock aside and deletes it. Renaming (not deleting) first means that if another process
 * took the stale lock over a moment earlier, what we moved is checked and put back instead of lost.
 */
function removeStale(file: string, stale: LockHolder): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  let moved: LockHolder | undefined;
  try {
    moved = JSON.parse(fs.readFileSync(aside, "utf8")) as LockHolder;
  } catch {
    moved = undefined;
  }
  if (moved && (moved.pid !== stale.pid || moved.started !== stale.started)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Someone else holds it now anyway; the retry will report them.
    }
  }
  fs.rmSync(aside, { force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Ctrl-C or an error exit releases the folder; SIGKILL cannot, which is what stale-lock takeover is for.
  process.on("exit", () => {
    for (const file of held.keys()) releaseFile(file);
  });
}

function releaseFile(file: string): void {
  held.delete(file);
  stopLockHeartbeat(file);
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
    if (h.pid === process.pid && h.host === os.hostname()) fs.rmSync(file, { force: true });
  } catch {
    // Already gone or replaced: nothing of ours to remove.
  }
}

/**
 * Takes the lock of a run folder (creating the folder if needed) for this process.
 * - another live process holds it: throws RunLockError naming the folder and the holder's pid;
 * - its holder is dead: takes it over and logs one line saying so;
 * - this process holds it already: nested acquisition, released by the matching release().
 * @param options.log receives the stale-lock notice (default console.error)
 */
export function acquireRunLock(dir: string, options: { log?: (msg: string) => void } = {}): RunLock {
  const abs = path.resolve(dir);
  const file = lockFileOf(abs);
  const log = options.log ?? ((m: string) => console.error(m));
  return withPathErrors(() => acquire(abs, file, log), file);
}

function acquire(abs: string, file: string, log: (msg: string) => void): RunLock {
  makeFolder(abs);
  installExitHook();
  for (let attempt = 0; attempt < 5; attempt++) {
    const mine = currentHolder();
    if (createLockFile(file, mine)) {
      held.set(file, 1);
      startHeartbeat(file, mine);
      return handle(file, mine);
    }
    const h = readLock(abs);
    if (!h) continue; // released between our attempt and the read
    const state = stateOf(h, file);
    if (state === "self") {
      held.set(file, (held.get(file) ?? 0) + 1);
      return handle(file, h);
    }
    if (state === "dead") {
      log(`${abs}: taking over a stale lock of pid ${h.pid} (${h.command || "?"}, since ${h.started}); that process no longer runs.`);
      removeStale(file, h);
      continue;
    }
    if (state === "gone") {
      log(
        `${abs}: taking over the lock of pid ${h.pid} on ${h.host} (${h.command || "?"}, since ${h.started}); its heartbeat stopped over ${LOCK_STALE_SECONDS} s ago.`,
      );
      removeStale(file, h);
      continue;
    }
    throw new RunLockError(inUseMessage(abs, h, state));
  }
  throw new RunLockError(`could not take the lock ${file}: it keeps changing hands; is another program creating and deleting it?`);
}

/**
 * Rewrites the lock's own bytes in place every LOCK_HEARTBEAT_SECONDS, which moves its modification time (by the
 * filesystem's clock), from a thread of its own (lock-heartbeat.ts): a holder whose main thread is busy for longer
 * than LOCK_STALE_SECONDS still beats. Stops when the lock is released or no longer holds these bytes.
 */
function startHeartbeat(file: string, holder: LockHolder): void {
  startLockHeartbeat(file, JSON.stringify(holder) + "\n", LOCK_HEARTBEAT_SECONDS);
}

function handle(file: string, holder: LockHolder): RunLock {
  let released = false;
  return {
    file,
    holder,
    release() {
      if (released) return;
      released = true;
      const n = (held.get(file) ?? 1) - 1;
      if (n > 0) held.set(file, n);
      else releaseFile(file);
    },
  };
}
