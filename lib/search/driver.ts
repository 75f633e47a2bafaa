import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { killPoint } from "../io/kill-point";
import { UserError } from "../errors/user-error";
import { recordTrialSession } from "../tensorboard/trial-session";
import { bestOf } from "./core/objective";
import { toOverrides } from "./core/space";
import type { Action } from "./core/study";
import { isEpochReport } from "./epoch-report";
import type { SqlStudyStore } from "./storage";
import { ensureTrialCheckpoint, readCheckpointFiles } from "./trial-checkpoint";
import { engineKey, TrainerPool, type TrialRun } from "./trainer-pool";

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
  /** Called after each epoch recorded and each trial finished (the live study view redraws then). */
  onChange?: () => void;
  /** A new trainer process for every trial instead of one kept per slot (only to measure what keeping saves). */
  freshTrainers?: boolean;
}

/** The dist/ entry point children are started with (works from dist/lib/search/ and from tests via dist). */
export function cliEntry(): string {
  const here = path.join(__dirname, "..", "cli", "main.js");
  return fs.existsSync(here) ? here : path.join(__dirname, "..", "..", "dist", "lib", "cli", "main.js");
}

type TrialAction = Extract<Action, { kind: "start" | "continue" }>;

export const trialDir = (out: string, id: string): string => path.join(out, "trials", id);

/**
 * What a worker says it does with a trial. A trial stopped after its last epoch but before it was marked finished
 * has no epoch left: `train --resume` then only finishes its run folder.
 */
export function actionLine(action: TrialAction): string {
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
  const sets = Object.entries(startOverrides(action, fixed)).flatMap(([k, v]) => ["--set", `${k}=${JSON.stringify(v)}`]);
  return ["train", "--out", trialDir(out, action.trialId), "--force", "--no-figures", ...sets];
}

/** A started trial's config overrides: the study's fixed config, the trial's params and epochs. */
function startOverrides(action: Extract<Action, { kind: "start" }>, fixed: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = { ...fixed, ...toOverrides(action.params), epochs: action.epochs };
  // Trainers share the cores with each other: one wasm thread each, unless the fixed config says otherwise.
  if (overrides.threads === undefined) overrides.threads = 1;
  return overrides;
}

/** The engine a trial trains on (trainer-pool.ts's engineKey): from its overrides, or a continued trial's config.json. */
function trialEngine(action: TrialAction, dir: string, fixed: Record<string, unknown>): string {
  if (action.kind === "start") return engineKey(startOverrides(action, fixed));
  // Unreadable: a process of its own, where `train --resume` says what is wrong with the folder.
  const config = readTrialJson(path.join(dir, "config.json")) as Record<string, unknown>;
  return Object.keys(config).length > 0 ? engineKey(config) : `unknown ${action.trialId}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A trial's trial.json, or {} when there is none or it is damaged (it is written again from the study). */
function readTrialJson(file: string): { params?: Record<string, unknown> } {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof SyntaxError) return {};
    throw err;
  }
}

/** What watching a trainer learned: whether the trial was lost or pruned, and its objective per epoch so far. */
interface TrialWatch {
  lost: boolean;
  pruned: boolean;
  history: number[] | undefined;
  /** Resolves once every report received so far is recorded; rejects with the first that could not be. */
  settled(): Promise<void>;
  /** Stops the heartbeat. */
  stop(): void;
}

/**
 * A worker process's part of a study: `parallel` loops, each claiming an action from the shared store, training
 * it as `fashion-ann train` on the slot's long-lived trainer process (trainer-pool.ts; one run folder per trial),
 * recording each epoch the trainer reports over its IPC channel, and finishing the trial. Returns when the study is done, or after stop() once the children saved
 * their epoch (their trials are released, so a re-run or another worker resumes them).
 */
export class SearchWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** The running trials' trainers (each on its slot's long-lived process in `pool`). */
  private readonly children = new Set<TrialRun>();
  private readonly pool: TrainerPool;
  private stopping: NodeJS.Signals | undefined;
  /** The first error of any slot: no new claims, and every trainer is stopped (it keeps its finished epochs). */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly store: SqlStudyStore,
    private readonly opts: WorkerOptions,
  ) {
    this.pool = new TrainerPool(opts.freshTrainers);
  }

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

  /**
   * Runs the slots until the study is done. A slot that fails stops the others: every trainer gets SIGTERM (it saves
   * its current epoch) and is awaited before the first error is thrown, so the caller closes the store last.
   */
  async run(): Promise<void> {
    const slots = Array.from({ length: this.opts.parallel }, (_, slot) => this.loop(slot).catch((error: unknown) => this.fail(error)));
    try {
      await Promise.all(slots);
    } finally {
      await this.pool.close();
    }
    if (this.failure) throw this.failure.error;
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    if (this.children.size > 0)
      this.opts.log(`search: stopping ${this.children.size} trainer(s) after their current batch: ${(error as Error).message}`);
    for (const c of this.children) c.kill("SIGTERM");
  }

  private async loop(slot: number): Promise<void> {
    while (!this.stopping && !this.failure) {
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

  /** One claimed action: its checkpoint in place, its trainer run to the end while epochs are recorded, its outcome. */
  private async runTrial(action: TrialAction, slot: number): Promise<void> {
    const dir = trialDir(this.opts.out, action.trialId);
    const say = (s: string) => this.opts.log(`  [${slot}] ${action.trialId}: ${s}`);
    say(actionLine(action));
    if (!(await this.checkpointInPlace(action, dir, say))) return;
    const started = performance.now();
    const trainer = await this.startTrainer(action, dir, slot);
    const watch = this.watch(trainer, action, dir, say);
    let code: number | null;
    try {
      code = await trainer.closed;
      await watch.settled();
    } finally {
      watch.stop();
      // Never leave a trainer behind: a failure above (the database went away) stops it and waits for its epoch.
      if (!trainer.ended) trainer.kill("SIGTERM");
      await trainer.closed;
      this.children.delete(trainer);
    }
    // Stopped because another slot failed: the trial stays claimed, and is taken back after the heartbeat timeout.
    const seconds = (performance.now() - started) / 1000;
    if (!watch.lost && !this.failure) await this.conclude(action, dir, { code, diskFull: trainer.diskFull }, watch, say, seconds);
    killPoint("trial-concluded", this.opts.out);
  }

  /** A continued trial needs its checkpoint in its run folder; false (and the trial failed) when none is found. */
  private async checkpointInPlace(action: TrialAction, dir: string, say: (s: string) => void): Promise<boolean> {
    if (action.kind !== "continue") return true;
    const found = await ensureTrialCheckpoint(this.store, action.trialId, dir);
    if (!found) {
      say(`no checkpoint in ${dir} nor in the study database; marked failed`);
      await this.store.finish(this.id, action.trialId, "failed");
      return false;
    }
    if (found === "restored") say(`checkpoint restored from the study database into ${dir}`);
    return true;
  }

  /**
   * The trial's `fashion-ann train` on this slot's trainer process (trainer-pool.ts), its output in <trial>.log,
   * reporting its epochs over the process's IPC channel (epoch-report.ts).
   */
  private async startTrainer(action: TrialAction, dir: string, slot: number): Promise<TrialRun> {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const { fixed } = this.store.definition;
    const trainer = await this.pool.run(slot, trainArgs(action, this.opts.out, fixed), `${dir}.log`, trialEngine(action, dir, fixed));
    this.children.add(trainer);
    // A stop asked while the process was being replaced reaches the new trainer.
    if (this.stopping || this.failure) trainer.kill(this.stopping ?? "SIGTERM");
    return trainer;
  }

  /**
   * Records each epoch the trainer reports, in order (the study, trial.json, then the checkpoint in the database),
   * stops the trainer when the pruner says so or the study took the trial back, and heartbeats the claim meanwhile.
   */
  private watch(child: Pick<TrialRun, "on" | "kill">, action: TrialAction, dir: string, say: (s: string) => void): TrialWatch {
    const id = action.trialId;
    const watch: TrialWatch = { lost: false, pruned: false, history: undefined, settled: async () => {}, stop: () => {} };
    const takeBack = () => {
      if (watch.lost) return;
      watch.lost = true;
      child.kill("SIGTERM");
    };
    // A continued trial's last recorded epoch is judged again: its judgement may have been cut short by a stop.
    let recorded = action.kind === "continue" ? Math.max(0, action.fromEpoch - 1) : 0;
    let stored = 0;
    const record = async (metrics: Record<string, number[]>) => {
      const values = metrics[this.store.definition.objective.name];
      if (!values) return;
      // One epoch at a time, and none after a prune: the study keeps the trial as it was when it was judged.
      while (values.length > recorded && !watch.pruned && !watch.lost) {
        const upTo = recorded + 1;
        const cut = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v.slice(0, upTo)]));
        const stopping = () => watch.lost || this.stopping !== undefined;
        const r = await this.store.recordEpochs(this.id, id, values.slice(0, upTo), cut, stopping);
        if (r.cancelled) break;
        recorded = upTo;
        watch.history = values.slice(0, upTo);
        this.writeStatus(dir, id, action, watch.history, "running");
        this.opts.onChange?.();
        if (!r.owned && !watch.lost) {
          say("taken back by the study (missed heartbeats); stopping its trainer");
          takeBack();
        } else if (r.stop && !watch.pruned) {
          watch.pruned = true;
          say(`pruned after epoch ${upTo} (${this.store.tuner.pruner.label})`);
          child.kill("SIGTERM");
        }
      }
      // The checkpoint goes to the database too, so a worker elsewhere can take the trial over without a shared
      // --out. A read that met the trainer pruning an epoch folder is retried at the next epoch.
      if (values.length > stored && !watch.lost) {
        const files = readCheckpointFiles(dir);
        if (files && (await this.store.saveCheckpoint(this.id, id, files))) stored = values.length;
      }
    };
    // One report at a time, in arrival order; the first failure (the database went away) is thrown by settled().
    let queue = Promise.resolve();
    let failure: unknown;
    child.on("message", (message) => {
      if (!isEpochReport(message)) return;
      queue = queue
        .then(() => (failure === undefined ? record(message.history) : undefined))
        .catch((err) => {
          failure ??= err;
          // Nothing more of this trial can be recorded: the trainer stops after its current batch.
          child.kill("SIGTERM");
        });
    });
    const beat = setInterval(() => {
      this.store.heartbeat(this.id, id).then(
        (owned) => owned || takeBack(),
        (err) => say(`heartbeat failed: ${(err as Error).message}`),
      );
    }, this.opts.intervalSeconds * 1000);
    watch.settled = async () => {
      await queue;
      if (failure !== undefined) throw failure;
    };
    watch.stop = () => clearInterval(beat);
    return watch;
  }

  /** Marks the trial completed, pruned, failed or released (a signal stopped this worker), and says so. */
  private async conclude(
    action: TrialAction,
    dir: string,
    { code, diskFull }: { code: number | null; diskFull: string | undefined },
    watch: TrialWatch,
    say: (s: string) => void,
    seconds: number,
  ) {
    const id = action.trialId;
    // A trainer stopped by a full disk (it says so over IPC) did nothing wrong: its trial waits (its kept epochs
    // resume) and the worker stops.
    const full = code !== 0 && !watch.pruned && !this.stopping ? diskFull : undefined;
    const status = watch.pruned ? "pruned" : this.stopping || full ? "released" : code === 0 ? "completed" : "failed";
    if (full) {
      this.fail(
        new UserError(
          `${id}'s trainer stopped: ${full.replace(/\); .*$/, ")")}; the search stopped with it, every finished epoch kept; once there is room, re-run the same command to resume the study`,
        ),
      );
    }
    await this.store.finish(this.id, id, status, seconds);
    this.opts.onChange?.();
    // A trainer that reported nothing (it failed before its first epoch) leaves the history the study has.
    const history = watch.history ?? (await this.store.load()).trials.find((t) => t.id === id)?.history ?? [];
    this.writeStatus(dir, id, action, history, status === "released" ? "pending" : status);
    // The best epoch's value, the score the results table ranks by (not the last epoch's).
    const { name, direction } = this.store.definition.objective;
    const best = bestOf(history, direction);
    const score = best ? ` (${name} ${best.value.toFixed(4)} at epoch ${best.epoch} of ${history.length}, ${seconds.toFixed(1)} s)` : "";
    say(
      `${status === "released" ? "interrupted, resumes on the next run" : status}${score}${status === "failed" ? `; see ${dir}.log` : ""}`,
    );
  }

  /** trial.json in the trial's run folder: its status, hyperparameters and objective per epoch. */
  private writeStatus(dir: string, id: string, action: Action, history: number[], status: string): void {
    if (!fs.existsSync(dir)) return;
    const prev = readTrialJson(path.join(dir, "trial.json"));
    const params = action.kind === "start" ? action.params : (prev.params ?? {});
    if (this.store.definition.fixed.tensorBoard !== false) {
      recordTrialSession(dir, { params, status, objective: this.store.definition.objective.name, history });
    }
    writeFileAtomic(
      path.join(dir, "trial.json"),
      `${JSON.stringify({ id, status, params, objective: this.store.definition.objective, history, worker: this.id }, null, 2)}\n`,
    );
  }
}
