import { stableStringify } from "../core/json";
import type { Objective } from "../core/objective";
import { type SearchSpace, spaceHash } from "../core/space";
import { type Action, applyAction, finishTrial, releaseTrial, type StudyState, type TrialRecord } from "../core/study";
import { type Tuner, type TunerSpec, tunerFor } from "../tuner";
import { type SqlClient, type SqlDatabase, StudyStorageError } from "./database";
import { migrate } from "./schema";

/** What a worker joining a study must agree on; fixed is the config shared by every trial (flags and --set). */
export interface StudyDefinition {
  name: string;
  tuner: TunerSpec;
  space: SearchSpace;
  objective: Objective;
  fixed: Record<string, unknown>;
}

/** A trial row as the store keeps it: the pure record plus who runs it and every metric per epoch (for curves). */
export interface StoredTrial extends TrialRecord {
  owner: string | null;
  /** Times the trial was handed to a worker (start, continue or resume after a takeover). */
  claims: number;
  /** Every metric per epoch (loss, accuracy, val_loss, val_accuracy, ...), as History.history. */
  metrics: Record<string, number[]>;
}

/** A trial's last checkpoint as files relative to its run folder (config.json, checkpoints/last.json, ...). */
export type CheckpointFiles = Record<string, Uint8Array>;

interface TrialRow {
  id: string;
  params: TrialRecord["params"];
  status: TrialRecord["status"];
  bracket: number;
  round: number;
  epochs_target: number;
  history: (number | null)[];
  metrics: Record<string, (number | null)[]>;
  owner: string | null;
  claims: number;
  seconds: number;
}

/** How often a pruning decision that waits for earlier trials looks again. */
const PRUNING_POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// jsonb has no NaN: a diverged epoch is stored as null and read back as NaN (it never ranks).
const fromJson = (xs: (number | null)[]): number[] => xs.map((x) => (x === null ? Number.NaN : x));
const toJson = (xs: number[]): (number | null)[] => xs.map((x) => (Number.isFinite(x) ? x : null));
const json = (v: unknown): string => JSON.stringify(v);

function toTrial(r: TrialRow): StoredTrial {
  return {
    id: r.id,
    params: r.params,
    status: r.status,
    bracket: r.bracket,
    round: r.round,
    epochsTarget: r.epochs_target,
    history: fromJson(r.history),
    owner: r.owner,
    claims: r.claims,
    seconds: r.seconds,
    metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, fromJson(v)])),
  };
}

/**
 * One study in a PostgreSQL database (embedded PGlite or a server). Every decision (nextAction) runs inside the
 * claiming transaction, after `SELECT ... FOR UPDATE` on the study's row: workers on any machine decide one at a
 * time, each from the committed per-epoch results of all. A worker heartbeats its trial; a trial whose heartbeat
 * is older than the timeout (by the database's clock, so machines' clocks do not matter) is handed back
 * (releaseTrial) at the next claim and resumes from its last recorded epoch.
 */
/**
 * The tuner a study is defined by, without its trial budget: maxTrials only caps how many trials are drawn (trial k's
 * values do not depend on it), so a study is continued with more trials, or stopped with fewer, by the same command
 * with another --max-trials, as Keras Tuner's max_trials and Optuna's n_trials continue a study.
 */
function withoutBudget(tuner: TunerSpec): Omit<TunerSpec, "maxTrials"> {
  const { maxTrials: _budget, ...rest } = tuner as TunerSpec & { maxTrials?: unknown };
  return rest;
}

/**
 * Records a study's new trial budget, and forgets that its best trial was retrained: trials beyond the old budget may
 * give another best, whose config the study's end then retrains into best/ (the old retrain would otherwise stand).
 */
async function newBudget(db: SqlDatabase, def: StudyDefinition): Promise<void> {
  await db.query("UPDATE fa_studies SET definition = jsonb_set(definition, '{tuner}', $2::jsonb), final_owner = NULL WHERE name = $1", [
    def.name,
    json(def.tuner),
  ]);
}

export class SqlStudyStore {
  /** The study's sampler and pruner, chosen once from its definition. */
  readonly tuner: Tuner;

  private constructor(
    private readonly db: SqlDatabase,
    private def: StudyDefinition,
  ) {
    this.tuner = tunerFor(def.tuner);
  }

  /** The study's name, tuner, space (grown by widenSpace for a growing study), objective and fixed config. */
  get definition(): StudyDefinition {
    return this.def;
  }

  /**
   * Creates the study, or joins it when it exists with the same space, tuner, objective and fixed config. The
   * database is first brought to the current schema version (see schema.ts); a newer one is refused.
   * `growingSpace`: the space is what a build function has asked for so far (HyperTuner), so a stored space that
   * differs is not refused here: the store takes the stored one, and the caller checks its own entries against it.
   * `fix`: the end of the refusal sentences (default: the command line's remedy).
   */
  static async open(db: SqlDatabase, def: StudyDefinition, opts: { growingSpace?: boolean; fix?: string } = {}): Promise<SqlStudyStore> {
    await migrate(db);
    const hash = spaceHash(def.space);
    const definition = { tuner: def.tuner, space: def.space, objective: def.objective, fixed: def.fixed };
    await db.query("INSERT INTO fa_studies (name, space_hash, definition) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", [
      def.name,
      hash,
      json(definition),
    ]);
    const { rows } = await db.query<{ space_hash: string; definition: Omit<StudyDefinition, "name"> }>(
      "SELECT space_hash, definition FROM fa_studies WHERE name = $1",
      [def.name],
    );
    const stored = rows[0]!;
    if (stored.space_hash !== hash && !opts.growingSpace) {
      throw new StudyStorageError(
        `study "${def.name}" in ${db.where} exists with another search space (sha256 ${stored.space_hash.slice(0, 12)}, this one ${hash.slice(0, 12)}); ${opts.fix ?? "use the same space file, or another --study name with its own --out"}`,
      );
    }
    for (const key of ["tuner", "objective", "fixed"] as const) {
      const [was, now] =
        key === "tuner" ? [withoutBudget(stored.definition.tuner), withoutBudget(def.tuner)] : [stored.definition[key], definition[key]];
      if (stableStringify(was as never) !== stableStringify(now as never)) {
        throw new StudyStorageError(
          `study "${def.name}" in ${db.where} exists with ${key} ${json(stored.definition[key])}, ${opts.fix ? `this tuner gives ${json(definition[key])}; ${opts.fix}` : `this command gives ${json(definition[key])}; run it with the same options, or another --study name with its own --out`}`,
        );
      }
    }
    if (stableStringify(stored.definition.tuner as never) !== stableStringify(def.tuner as never)) await newBudget(db, def);
    return new SqlStudyStore(db, opts.growingSpace ? { ...def, space: stored.definition.space } : def);
  }

  /**
   * Adds `space`'s entries to a growing study's stored space (a build function reached a new branch), under the
   * study's lock so workers sharing it merge theirs; returns the whole space, which the next suggestion uses.
   */
  async widenSpace(space: SearchSpace): Promise<SearchSpace> {
    const merged = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ definition: Omit<StudyDefinition, "name"> }>(
        "SELECT definition FROM fa_studies WHERE name = $1 FOR UPDATE",
        [this.def.name],
      );
      const stored = rows[0]!.definition.space;
      const all: SearchSpace = { ...stored, ...space };
      const sorted: SearchSpace = Object.fromEntries(
        Object.keys(all)
          .sort()
          .map((k) => [k, all[k]!]),
      );
      if (stableStringify(sorted as never) !== stableStringify(stored as never)) {
        await tx.query("UPDATE fa_studies SET space_hash = $2, definition = jsonb_set(definition, '{space}', $3::jsonb) WHERE name = $1", [
          this.def.name,
          spaceHash(sorted),
          json(sorted),
        ]);
      }
      return sorted;
    });
    this.def = { ...this.def, space: merged };
    return merged;
  }

  /** Replaces a claimed trial's params with the values its build function used (a growing study's trials). */
  async setParams(worker: string, id: string, params: TrialRecord["params"]): Promise<boolean> {
    const r = await this.db.query("UPDATE fa_trials SET params = $4 WHERE study = $1 AND id = $2 AND owner = $3 AND status = 'running'", [
      this.def.name,
      id,
      worker,
      json(params),
    ]);
    return r.rowCount === 1;
  }

  get where(): string {
    return this.db.where;
  }

  private async readTrials(q: SqlClient, lock: boolean): Promise<StoredTrial[]> {
    const { rows } = await q.query<TrialRow>(
      `SELECT id, params, status, bracket, round, epochs_target, history, metrics, owner, claims, seconds FROM fa_trials WHERE study = $1 ORDER BY idx${lock ? " FOR UPDATE" : ""}`,
      [this.definition.name],
    );
    return rows.map(toTrial);
  }

  private state(trials: TrialRecord[]): StudyState {
    const { space, objective } = this.definition;
    return { space, objective, trials };
  }

  /** The study as the pure core sees it, plus owners and metrics. */
  async load(): Promise<{ state: StudyState; trials: StoredTrial[] }> {
    const trials = await this.readTrials(this.db, false);
    return { state: this.state(trials), trials };
  }

  /**
   * Takes the next action for `worker` in one transaction: lock the study row, hand back trials whose worker
   * stopped heartbeating for `timeoutSeconds`, decide, and write the claimed trial (owner, heartbeat).
   */
  async claim(worker: string, timeoutSeconds: number): Promise<Action> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT name FROM fa_studies WHERE name = $1 FOR UPDATE", [this.definition.name]);
      await tx.query(
        `UPDATE fa_trials SET status = 'pending', owner = NULL
           WHERE study = $1 AND status = 'running' AND heartbeat_at < now() - make_interval(secs => $2)`,
        [this.definition.name, timeoutSeconds],
      );
      const trials = await this.readTrials(tx, true);
      const state = this.state(trials);
      const action = this.tuner.sampler.nextAction(state);
      if (action.kind !== "start" && action.kind !== "continue") return action;
      const t = applyAction(state, action).trials.find((x) => x.id === action.trialId)!;
      await tx.query(
        `INSERT INTO fa_trials (study, id, idx, params, status, bracket, round, epochs_target, owner, heartbeat_at, claims)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), 1)
         ON CONFLICT (study, id) DO UPDATE SET status = excluded.status, round = excluded.round,
           epochs_target = excluded.epochs_target, owner = excluded.owner, heartbeat_at = now(), claims = fa_trials.claims + 1`,
        [this.definition.name, t.id, Number(t.id.slice(6)), json(t.params), t.status, t.bracket, t.round, t.epochsTarget, worker],
      );
      return action;
    });
  }

  /** Keeps `worker`'s claim alive; false when the trial was taken back (the worker must stop training it). */
  async heartbeat(worker: string, id: string): Promise<boolean> {
    const r = await this.db.query(
      "UPDATE fa_trials SET heartbeat_at = now() WHERE study = $1 AND id = $2 AND owner = $3 AND status = 'running'",
      [this.definition.name, id, worker],
    );
    return r.rowCount === 1;
  }

  /**
   * Records a trial's history so far (the objective per epoch and every metric), as its checkpoint has it. Returns
   * owned false when another worker holds the trial now, and stop true when the study's pruner stops it. When the
   * pruner must wait for other trials (a reproducible study), this polls until it can decide, or until `cancelled`
   * says the worker stops (cancelled: the trial is released, and judged when resumed).
   */
  async recordEpochs(
    worker: string,
    id: string,
    history: number[],
    metrics: Record<string, number[]>,
    cancelled?: () => boolean,
  ): Promise<{ owned: boolean; stop: boolean; cancelled?: true }> {
    const r = await this.db.query(
      `UPDATE fa_trials SET history = $4, metrics = $5, heartbeat_at = now()
         WHERE study = $1 AND id = $2 AND owner = $3 AND status = 'running'`,
      [
        this.definition.name,
        id,
        worker,
        json(toJson(history)),
        json(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, toJson(v)]))),
      ],
    );
    if (r.rowCount !== 1) return { owned: false, stop: false };
    const { pruner } = this.tuner;
    for (;;) {
      const { state, trials } = await this.load();
      const mine = trials.find((t) => t.id === id);
      if (mine?.owner !== worker || mine.status !== "running") return { owned: false, stop: false };
      if (!pruner.ready || pruner.ready(state, id)) return { owned: true, stop: pruner.shouldPrune(state, id) };
      if (cancelled?.()) return { owned: true, stop: false, cancelled: true };
      await sleep(PRUNING_POLL_MS);
    }
  }

  /**
   * Marks a trial the study recorded `failed` as completed with the metrics its run folder kept: two processes on one
   * embedded study (before it was locked) could fail a trial the other completed. False when it was not `failed`.
   */
  async repairCompleted(id: string, metrics: Record<string, number[]>): Promise<boolean> {
    const history = metrics[this.definition.objective.name] ?? [];
    const r = await this.db.query(
      `UPDATE fa_trials SET status = 'completed', owner = NULL, history = $3, metrics = $4
         WHERE study = $1 AND id = $2 AND status = 'failed'`,
      [this.definition.name, id, json(toJson(history)), json(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, toJson(v)])))],
    );
    return r.rowCount === 1;
  }

  /** Ends `worker`'s run of a trial: completed, pruned, failed, or released (pending: another worker resumes it); adds the run's wall seconds. */
  async finish(worker: string, id: string, status: "completed" | "pruned" | "failed" | "released", seconds = 0): Promise<boolean> {
    const one = { ...this.state([]), trials: [{ id, status: "running" } as TrialRecord] };
    const next = status === "released" ? releaseTrial(one, id) : finishTrial(one, id, status);
    const r = await this.db.query(
      "UPDATE fa_trials SET status = $4, owner = NULL, seconds = seconds + $5 WHERE study = $1 AND id = $2 AND owner = $3 AND status = 'running'",
      [this.definition.name, id, worker, next.trials[0]!.status, seconds],
    );
    return r.rowCount === 1;
  }

  /**
   * Replaces the trial's stored checkpoint with `files`, in one transaction, while `worker` owns the trial: a worker
   * on another machine that takes the trial over restores it from here when it has no folder of its own.
   */
  async saveCheckpoint(worker: string, id: string, files: CheckpointFiles): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const owned = await tx.query(
        "SELECT id FROM fa_trials WHERE study = $1 AND id = $2 AND owner = $3 AND status = 'running' FOR UPDATE",
        [this.definition.name, id, worker],
      );
      if (owned.rows.length !== 1) return false;
      await tx.query("DELETE FROM fa_checkpoint_files WHERE study = $1 AND id = $2", [this.definition.name, id]);
      for (const [name, data] of Object.entries(files)) {
        await tx.query("INSERT INTO fa_checkpoint_files (study, id, name, data) VALUES ($1, $2, $3, $4)", [
          this.definition.name,
          id,
          name,
          data,
        ]);
      }
      return true;
    });
  }

  /** The trial's stored checkpoint (see saveCheckpoint), or undefined when none was stored. */
  async loadCheckpoint(id: string): Promise<CheckpointFiles | undefined> {
    const { rows } = await this.db.query<{ name: string; data: Uint8Array }>(
      "SELECT name, data FROM fa_checkpoint_files WHERE study = $1 AND id = $2",
      [this.definition.name, id],
    );
    if (rows.length === 0) return undefined;
    return Object.fromEntries(rows.map((r) => [r.name, new Uint8Array(r.data)]));
  }

  /** True for exactly one worker of the study: the one that retrains the best trial at the end. */
  async claimFinal(worker: string): Promise<boolean> {
    const r = await this.db.query("UPDATE fa_studies SET final_owner = $2 WHERE name = $1 AND final_owner IS NULL", [
      this.definition.name,
      worker,
    ]);
    return r.rowCount === 1;
  }

  /** Gives the retraining back (it failed), so the next run of the command retries it. */
  async releaseFinal(worker: string): Promise<void> {
    await this.db.query("UPDATE fa_studies SET final_owner = NULL WHERE name = $1 AND final_owner = $2", [this.definition.name, worker]);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
