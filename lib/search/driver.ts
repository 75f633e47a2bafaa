import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { childEnvironment } from "../config";
import { writeFileAtomic } from "../io/atomic";
import { recordTrialSession } from "../tensorboard/trial-session";
import { toOverrides } from "./space";
import type { Action } from "./study";
import type { CheckpointFiles, SqlStudyStore } from "./storage";

/** How a worker keeps its claims alive, and when a silent worker's trial is taken back. */
export interface HeartbeatOptions {
  /** Seconds between heartbeats (default 10). */
  intervalSeconds: number;
  /** A running trial whose worker has not heartbeated for this long is handed to another worker (default 60). */
  timeoutSeconds: number;
}

export interface WorkerOptions extends HeartbeatOptions {
  /** The study folder; trial-007's run folder is out/trials/trial-007. */
  out: string;
  /** Trainers this process runs at once. */
  parallel: number;
  log: (s: string) => void;
  /** Seconds between looks at a running child's checkpoint (default 1). */
  pollSeconds?: number;
}

/** The dist/ entry point children are started with (works from dist/lib/search/ and from tests via dist). */
export function cliEntry(): string {
  const here = path.join(__dirname, "..", "cli", "main.js");
  return fs.existsSync(here) ? here : path.join(__dirname, "..", "..", "dist", "lib", "cli", "main.js");
}

export const trialDir = (out: string, id: string): string => path.join(out, "trials", id);

/**
 * What a worker says it does with a trial. A trial stopped after its last epoch but before it was marked finished
 * has no epoch left: `train --resume` then only finishes its run folder.
 */
export function actionLine(action: Extract<Action, { kind: "start" | "continue" }>): string {
  if (action.kind === "start") return `start ${JSON.stringify(action.params)} for ${action.epochs} epochs`;
  if (action.fromEpoch >= action.toEpoch) return `finish (its ${action.toEpoch} epochs were all kept before the interruption)`;
  return `continue epochs ${action.fromEpoch + 1}..${action.toEpoch}`;
}

/** The `train` arguments for an action: a fresh run with the trial's config, or --resume to a later epoch. */
export function trainArgs(action: Action, out: string, fixed: Record<string, unknown>): string[] {
  // --no-figures: Chromium would add seconds to every trial; the study draws the trials' curves itself.
  if (action.kind === "continue") {
    return ["train", "--resume", trialDir(out, action.trialId), "--epochs", String(action.toEpoch), "--no-figures"];
  }
  if (action.kind !== "start") throw new Error(`trainArgs takes a start or continue action, got ${action.kind}`);
  const overrides: Record<string, unknown> = { ...fixed, ...toOverrides(action.params), epochs: action.epochs };
  // Trainers share the cores with each other: one wasm thread each, unless the fixed config says otherwise.
  if (overrides.threads === undefined) overrides.threads = 1;
  const sets = Object.entries(overrides).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]);
  return ["train", "--out", trialDir(out, action.trialId), "--force", "--no-figures", ...sets];
}

interface Pointer {
  history?: { history?: Record<string, number[]> };
}
function readHistory(dir: string): Record<string, number[]> | undefined {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(dir, "checkpoints", "last.json"), "utf8")) as Pointer;
    return p.history?.history;
  } catch {
    return undefined; // not written yet
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What `train --resume` needs of a trial's run folder: config.json, trial.json, the checkpoint pointers and the
 * epoch folders they name. Read while the trainer may be writing the next epoch; undefined when a folder vanished
 * mid-read (pruned: the next look takes the newer epoch). Epoch folders are renamed into place complete, so what
 * is read is a whole checkpoint.
 */
export function readCheckpointFiles(dir: string): CheckpointFiles | undefined {
  const files: CheckpointFiles = {};
  try {
    const pointers = ["last.json", "best.json"].filter((p) => p === "last.json" || fs.existsSync(path.join(dir, "checkpoints", p)));
    const folders = new Set<string>();
    for (const p of pointers) {
      const text = fs.readFileSync(path.join(dir, "checkpoints", p));
      files[`checkpoints/${p}`] = text;
      folders.add((JSON.parse(text.toString("utf8")) as { dir: string }).dir);
    }
    for (const f of folders) {
      for (const name of fs.readdirSync(path.join(dir, "checkpoints", f))) {
        files[`checkpoints/${f}/${name}`] = fs.readFileSync(path.join(dir, "checkpoints", f, name));
      }
    }
    for (const name of ["config.json", "trial.json"]) {
      if (fs.existsSync(path.join(dir, name))) files[name] = fs.readFileSync(path.join(dir, name));
    }
    return files;
  } catch {
    return undefined;
  }
}

/** Writes a stored checkpoint into a trial's (new) run folder, pointers last so a half-restored folder has none. */
export function restoreCheckpointFiles(dir: string, files: CheckpointFiles): void {
  const names = Object.keys(files).sort((a, b) => Number(a.endsWith("last.json")) - Number(b.endsWith("last.json")));
  for (const name of names) {
    if (name.split("/").includes("..") || path.isAbsolute(name)) throw new Error(`stored checkpoint file name ${name} leaves ${dir}`);
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileAtomic(path.join(dir, name), files[name]!);
  }
}

/**
 * Makes sure a continued trial has its checkpoint in this machine's run folder: kept there, or restored from the
 * study database (the trial ran on another machine, or --out changed). False when neither has it.
 */
export async function ensureTrialCheckpoint(store: SqlStudyStore, id: string, dir: string): Promise<"local" | "restored" | false> {
  if (fs.existsSync(path.join(dir, "checkpoints", "last.json"))) return "local";
  const files = await store.loadCheckpoint(id);
  if (!files?.["checkpoints/last.json"]) return false;
  restoreCheckpointFiles(dir, files);
  return "restored";
}

/**
 * A worker process's part of a study: `parallel` loops, each claiming an action from the shared store, training
 * it in a `fashion-ann train` child (one run folder per trial), reporting each epoch's objective from the child's
 * checkpoint, and finishing the trial. Returns when the study is done, or after stop() once the children saved
 * their epoch (their trials are released, so a re-run or another worker resumes them).
 */
export class SearchWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly children = new Set<ChildProcess>();
  private stopping: NodeJS.Signals | undefined;

  constructor(
    private readonly store: SqlStudyStore,
    private readonly opts: WorkerOptions,
  ) {}

  /** SIGINT/SIGTERM: no new claims; children get the signal and save their current epoch. */
  stop(signal: NodeJS.Signals): void {
    if (this.stopping) return;
    this.stopping = signal;
    this.opts.log(`search: ${signal}: stopping ${this.children.size} trainer(s) after their current batch`);
    for (const c of this.children) c.kill(signal);
  }

  get stoppedBy(): NodeJS.Signals | undefined {
    return this.stopping;
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.parallel }, (_, slot) => this.loop(slot)));
  }

  private async loop(slot: number): Promise<void> {
    while (!this.stopping) {
      const action = await this.store.claim(this.id, this.opts.timeoutSeconds);
      if (action.kind === "done") return;
      if (action.kind === "wait") {
        // Every remaining step needs a running trial's results (or a silent worker's timeout): ask again soon.
        await sleep(Math.min(5, this.opts.intervalSeconds) * 1000);
        continue;
      }
      await this.runTrial(action, slot);
    }
  }

  private async runTrial(action: Extract<Action, { kind: "start" | "continue" }>, slot: number): Promise<void> {
    const { out, log } = this.opts;
    const id = action.trialId;
    const dir = trialDir(out, id);
    log(`  [${slot}] ${id}: ${actionLine(action)}`);
    if (action.kind === "continue") {
      const found = await ensureTrialCheckpoint(this.store, id, dir);
      if (!found) {
        log(`  [${slot}] ${id}: no checkpoint in ${dir} nor in the study database; marked failed`);
        await this.store.finish(this.id, id, "failed");
        return;
      }
      if (found === "restored") log(`  [${slot}] ${id}: checkpoint restored from the study database into ${dir}`);
    }
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const logFd = fs.openSync(`${dir}.log`, "a");
    const child = spawn(process.execPath, [cliEntry(), ...trainArgs(action, out, this.store.definition.fixed)], {
      stdio: ["ignore", logFd, logFd],
      env: childEnvironment({ FORCE_COLOR: "0" }),
    });
    this.children.add(child);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let recorded = -1;
    let lost = false;
    let pruned = false;
    const objective = this.store.definition.objective.name;
    let stored = 0;
    const report = async () => {
      const metrics = readHistory(dir);
      const values = metrics?.[objective];
      if (!metrics || !values) return;
      if (values.length > recorded) {
        recorded = values.length;
        const r = await this.store.recordEpochs(this.id, id, values, metrics);
        this.writeStatus(dir, id, action, values, "running");
        if (!r.owned && !lost) {
          lost = true;
          log(`  [${slot}] ${id}: taken back by the study (missed heartbeats); stopping its trainer`);
          child.kill("SIGTERM");
        } else if (r.stop && !pruned) {
          pruned = true;
          log(`  [${slot}] ${id}: pruned after epoch ${values.length} (median stopping)`);
          child.kill("SIGTERM");
        }
      }
      // The checkpoint goes to the database too, so a worker elsewhere can take the trial over without a shared
      // --out. A read that met the trainer pruning an epoch folder is retried at the next look.
      if (values.length > stored && !lost) {
        const files = readCheckpointFiles(dir);
        if (files && (await this.store.saveCheckpoint(this.id, id, files))) stored = values.length;
      }
    };
    const beat = setInterval(() => {
      this.store.heartbeat(this.id, id).then(
        (owned) => {
          if (!owned && !lost) {
            lost = true;
            child.kill("SIGTERM");
          }
        },
        (err) => log(`  [${slot}] ${id}: heartbeat failed: ${(err as Error).message}`),
      );
    }, this.opts.intervalSeconds * 1000);
    let code: number | null = null;
    try {
      for (let done = false; !done; ) {
        done = await Promise.race([exited.then(() => true), sleep((this.opts.pollSeconds ?? 1) * 1000).then(() => false)]);
        await report();
      }
      code = await exited;
    } finally {
      clearInterval(beat);
      this.children.delete(child);
      fs.closeSync(logFd);
    }
    if (lost) return;
    const status = pruned ? "pruned" : this.stopping ? "released" : code === 0 ? "completed" : "failed";
    await this.store.finish(this.id, id, status);
    const history = readHistory(dir)?.[objective] ?? [];
    this.writeStatus(dir, id, action, history, status === "released" ? "pending" : status);
    const last = history.at(-1);
    log(
      `  [${slot}] ${id}: ${status === "released" ? "interrupted, resumes on the next run" : status}${last === undefined ? "" : ` (${objective} ${last.toFixed(4)} at epoch ${history.length})`}${status === "failed" ? `; see ${dir}.log` : ""}`,
    );
  }

  /** trial.json in the trial's run folder: its status, hyperparameters and objective per epoch. */
  private writeStatus(dir: string, id: string, action: Action, history: number[], status: string): void {
    if (!fs.existsSync(dir)) return;
    const prev = fs.existsSync(path.join(dir, "trial.json")) ? JSON.parse(fs.readFileSync(path.join(dir, "trial.json"), "utf8")) : {};
    const params = action.kind === "start" ? action.params : prev.params;
    if (this.store.definition.fixed.tensorBoard !== false) {
      recordTrialSession(dir, { params, status, objective: this.store.definition.objective.name, history });
    }
    writeFileAtomic(
      path.join(dir, "trial.json"),
      `${JSON.stringify({ id, status, params, objective: this.store.definition.objective, history, worker: this.id }, null, 2)}\n`,
    );
  }
}
