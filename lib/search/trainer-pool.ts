/*
 * A search worker's trainers: one long-lived process per slot (lib/cli/trainer-worker.ts) that runs trial after
 * trial, each as `fashion-ann train <args>` in-process with its output in the trial's log. A fresh `train` child per
 * trial paid about 5 s of fixed cost (node's start, loading tfjs and the engine, reading and scaling the dataset) for
 * a 1 s epoch; a kept process pays it once per slot. A trial still gets its own run folder and reports its epochs
 * over the IPC channel (epoch-report.ts), and a process whose state could differ from a fresh one's is replaced:
 * after it died or was stopped outside training, when a trial asks for another engine (backend, threads, kernels),
 * or when a model moved it off its engine.
 */
import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { childEnvironment, resolveConfig } from "../config";
import { isEpochReport } from "./epoch-report";

/** What a worker asks its trainer process: run `train <args>` with output appended to `log`, or stop that training. */
export type TrainerRequest =
  | { kind: "fashion-ann/trial"; id: number; args: string[]; log: string }
  // `id` names the trial to stop: a stop sent as its trial ended must not reach the next one.
  | { kind: "fashion-ann/stop"; id: number; signal: NodeJS.Signals };

/** What the trainer process answers after a trial: `train`'s exit code, and whether it must not be reused. */
export interface TrainerReply {
  kind: "fashion-ann/trial-end";
  code: number;
  retire: boolean;
  /**
   * When `train` stopped because its own write met a full disk (ENOSPC), its sentence ("disk full while writing
   * <path> (<n> MB free left on that file system); ..."): the worker stops the search then instead of failing the
   * trial. Sent over the channel because on a full disk the trial's log may not get it.
   */
  diskFull?: string;
}

export function isTrainerRequest(m: unknown): m is TrainerRequest {
  const kind = (m as { kind?: unknown } | null)?.kind;
  return typeof m === "object" && m !== null && (kind === "fashion-ann/trial" || kind === "fashion-ann/stop");
}

function isTrainerReply(m: unknown): m is TrainerReply {
  return typeof m === "object" && m !== null && (m as TrainerReply).kind === "fashion-ann/trial-end";
}

/** The built trainer-process entry (from dist/lib/search/, and from tests through dist). */
function trainerEntry(): string {
  const here = path.join(__dirname, "..", "cli", "trainer-worker.js");
  return fs.existsSync(here) ? here : path.join(__dirname, "..", "..", "dist", "lib", "cli", "trainer-worker.js");
}

/**
 * What a trainer process fixes at its first trial and cannot change later: the engine (tfjs starts one backend, and
 * its threads, per process). Fields a trial's config leaves out take the defaults (environment included).
 */
export function engineKey(config: Record<string, unknown>): string {
  const d = resolveConfig();
  return JSON.stringify([config.backend ?? d.backend, config.threads ?? d.threads, config.stockKernels ?? d.stockKernels]);
}

/**
 * One trial on a trainer process, shaped as the child process it replaces: "message" events carry its epoch
 * reports, kill(signal) stops its training after the current batch (the process keeps its epochs, as on that
 * signal), `closed` resolves with `train`'s exit code (null when the process died of a signal).
 */
export class TrialRun extends EventEmitter {
  ended = false;
  /** The trainer's disk-full sentence (TrainerReply.diskFull), once the trial ended on a full disk. */
  diskFull: string | undefined;
  readonly closed: Promise<number | null>;
  private resolveClosed!: (code: number | null) => void;

  constructor(
    private readonly child: ChildProcess,
    readonly id: number,
  ) {
    super();
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** The trainer process's id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.ended) return false;
    if (!this.child.connected) return this.child.kill(signal);
    this.child.send({ kind: "fashion-ann/stop", id: this.id, signal } satisfies TrainerRequest);
    return true;
  }

  /** @internal the pool ends it. */
  end(code: number | null, diskFull?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.diskFull = diskFull;
    this.resolveClosed(code);
  }
}

interface Slot {
  child: ChildProcess;
  key: string;
  current: TrialRun | undefined;
  reusable: boolean;
  exited: Promise<void>;
}

export class TrainerPool {
  private readonly slots = new Map<number, Slot>();
  private trials = 0;

  /** `fresh`: a new process for every trial, as before the processes were kept (bench/trial_cost.ts compares). */
  constructor(private readonly fresh = false) {}

  /** Runs `train <args>` on slot `slot`'s process (started, or replaced, as needed). */
  async run(slot: number, args: string[], log: string, key: string): Promise<TrialRun> {
    let s = this.slots.get(slot);
    if (s && (this.fresh || !s.reusable || s.key !== key)) {
      await this.retire(s);
      s = undefined;
    }
    if (!s) {
      s = this.start(key);
      this.slots.set(slot, s);
    }
    const run = new TrialRun(s.child, ++this.trials);
    s.current = run;
    s.child.send({ kind: "fashion-ann/trial", id: run.id, args, log } satisfies TrainerRequest);
    return run;
  }

  /** Ends every process (each between trials, so it just exits) and waits for them. */
  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => this.retire(s)));
    this.slots.clear();
  }

  private start(key: string): Slot {
    const child = fork(trainerEntry(), [], {
      // Each trial's output goes to its own log (the process redirects it); stderr outside a trial (a crash) is the search's.
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      // Structured clone keeps a diverged epoch's NaN a NaN (JSON would make it null).
      serialization: "advanced",
      env: childEnvironment({ FORCE_COLOR: "0" }),
    });
    const slot: Slot = { child, key, current: undefined, reusable: true, exited: Promise.resolve() };
    // A request sent as the process dies fails here; what it means arrives with 'close'.
    child.on("error", () => {});
    child.on("message", (m: unknown) => {
      if (isEpochReport(m)) slot.current?.emit("message", m);
      else if (isTrainerReply(m)) {
        if (m.retire) slot.reusable = false;
        slot.current?.end(m.code, m.diskFull);
        slot.current = undefined;
      }
    });
    // Ended once it exited and its IPC channel delivered its last message ('close' would also wait for that, but
    // never comes after the worker closed the channel itself).
    slot.exited = new Promise((resolve) => {
      let exitCode: number | null | undefined;
      let disconnected = false;
      const ended = () => {
        if (exitCode === undefined || !disconnected) return;
        slot.reusable = false;
        slot.current?.end(exitCode);
        slot.current = undefined;
        resolve();
      };
      child.on("exit", (code) => {
        exitCode = code;
        ended();
      });
      child.on("disconnect", () => {
        disconnected = true;
        ended();
      });
    });
    return slot;
  }

  private async retire(s: Slot): Promise<void> {
    s.reusable = false;
    if (s.child.connected) s.child.disconnect();
    await s.exited;
  }
}
