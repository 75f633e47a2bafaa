// Where a HyperTuner's study lives: in memory, or in the storage `fashion-ann search` uses (the embedded database in
// a study folder, or a PostgreSQL server), so a re-run after a kernel restart resumes it.
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import type { SearchSpace, Params } from "../core/space";
import { type Action, applyAction, finishTrial, type StudyState, type TrialRecord } from "../core/study";
import { openStudy, type SqlStudyStore, type StoredTrial, type StudyDefinition } from "../storage";
import type { Tuner } from "../tuner";
import { isProcessAlive } from "../../io/process";

/** A trial as the tuner shows it: the study's record and every metric per epoch. */
export type TunerTrial = TrialRecord & { metrics: Record<string, number[]> };

/** The study operations a HyperTuner needs, one trial at a time. */
export interface TunerStudy {
  /** Where it lives, for messages: "memory", a folder, or a URL without its password. */
  readonly where: string;
  /** The space an earlier session stored (empty for a new study): the tuner checks its build function against it. */
  readonly storedSpace: SearchSpace;
  /** The next trial to run over `space` (the parameters met so far), or done. */
  next(space: SearchSpace): Promise<Extract<Action, { kind: "start" | "continue" | "done" }>>;
  /**
   * The values the trial's build function used (a conditional parameter only where its branch ran), and the space
   * it has met so far (stored at once, so a kernel that dies now leaves the space the next suggestion needs).
   */
  setParams(id: string, params: Params, space: SearchSpace): Promise<void>;
  /** Records the trial's epochs so far; true when the pruner stops it. */
  recordEpochs(id: string, history: number[], metrics: Record<string, number[]>): Promise<boolean>;
  finish(id: string, status: "completed" | "pruned" | "failed", seconds: number): Promise<void>;
  trials(): Promise<TunerTrial[]>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when `owner` (a worker id, host:pid:tag) is a process of this host that is gone: a kernel that died or restarted. */
function deadHere(owner: string | null): boolean {
  const [host, pid] = (owner ?? "").split(":");
  return host === os.hostname() && /^\d+$/.test(pid ?? "") && !isProcessAlive(Number(pid));
}

/** The study in this process only (the tuner without a directory). */
export function memoryStudy(tuner: Tuner, objective: StudyState["objective"]): TunerStudy {
  let state: StudyState = { space: {}, objective, trials: [] };
  const metrics = new Map<string, Record<string, number[]>>();
  const change = (id: string, fn: (t: TrialRecord) => TrialRecord) => {
    state = { ...state, trials: state.trials.map((t) => (t.id === id ? fn(t) : t)) };
  };
  return {
    where: "memory",
    storedSpace: {},
    async next(space) {
      const action = tuner.sampler.nextAction({ ...state, space });
      if (action.kind !== "start") return { kind: "done" };
      state = applyAction({ ...state, space }, action);
      return action;
    },
    async setParams(id, params) {
      change(id, (t) => ({ ...t, params }));
    },
    async recordEpochs(id, history, m) {
      change(id, (t) => ({ ...t, history }));
      metrics.set(id, m);
      return tuner.pruner.shouldPrune(state, id);
    },
    async finish(id, status, seconds) {
      state = finishTrial(state, id, status);
      change(id, (t) => ({ ...t, seconds }));
    },
    async trials() {
      return state.trials.map((t) => ({ ...t, metrics: metrics.get(t.id) ?? {} }));
    },
    async close() {},
  };
}

export interface StoredStudyOptions {
  /** postgresql://...; default the embedded database in `folder`. */
  storage?: string;
  /** The study folder (its embedded database, trials/, trials.csv). */
  folder: string;
  /** Seconds between heartbeats of the running trial (PostgreSQL: another worker takes a silent one back after 60). */
  heartbeatSeconds?: number;
  /** The refusals' remedy, in the tuner's words. */
  fix: string;
}

/** Heartbeat timeout of a PostgreSQL study's trials, as `search`'s default. */
const TIMEOUT_SECONDS = 60;

/**
 * The study in `search`'s storage. The embedded database takes one process (its lock), so a trial it holds as
 * running was left by a kernel that died: it is handed out again at once (claim timeout 0). On a server, other
 * workers may hold trials: those are taken back after the heartbeat timeout, as `search` does, except a trial whose
 * worker was a process of this host that is gone (the notebook's kernel before its restart).
 */
export async function storedStudy(def: StudyDefinition, o: StoredStudyOptions): Promise<TunerStudy> {
  const store: SqlStudyStore = await openStudy(o.storage, o.folder, def, undefined, { growingSpace: true, fix: o.fix });
  const worker = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const timeout = o.storage ? TIMEOUT_SECONDS : 0;
  let beat: NodeJS.Timeout | undefined;
  const stopBeat = () => {
    clearInterval(beat);
    beat = undefined;
  };
  return {
    where: store.where,
    storedSpace: store.definition.space,
    async next(space) {
      await store.widenSpace(space);
      // A restarted kernel's own trials need not wait for the heartbeat timeout: its old process is gone.
      for (const t of (await store.load()).trials) {
        if (t.status === "running" && deadHere(t.owner)) await store.finish(t.owner!, t.id, "released");
      }
      for (;;) {
        const action = await store.claim(worker, timeout);
        if (action.kind === "start" || action.kind === "continue") {
          const id = action.trialId;
          beat = setInterval(() => void store.heartbeat(worker, id).catch(() => {}), (o.heartbeatSeconds ?? 10) * 1000);
          return action;
        }
        if (action.kind === "done") return action;
        // Every remaining trial runs on another worker: wait for them (or for a silent one's timeout).
        await sleep(2000);
      }
    },
    async setParams(id, params, space) {
      await store.widenSpace(space);
      await store.setParams(worker, id, params);
    },
    async recordEpochs(id, history, metrics) {
      return (await store.recordEpochs(worker, id, history, metrics)).stop;
    },
    async finish(id, status, seconds) {
      stopBeat();
      await store.finish(worker, id, status, seconds);
    },
    async trials(): Promise<StoredTrial[]> {
      return (await store.load()).trials;
    },
    async close() {
      stopBeat();
      await store.close();
    },
  };
}
