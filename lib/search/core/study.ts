import { stableStringify } from "./json";
import type { Objective } from "./objective";
import type { Params, SearchSpace } from "./space";

const TRIAL_STATUSES = ["pending", "running", "completed", "pruned", "failed"] as const;
/**
 * pending: recorded but no worker on it (e.g. its worker died; nextAction hands it out again first);
 * running: a worker trains it; completed: it reached epochsTarget (a Hyperband trial may be continued later);
 * pruned: stopped early by the pruner; failed: training threw.
 */
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** One trial: one model, trained in one go (random, grid) or in rounds (Hyperband). */
export interface TrialRecord {
  /** trial-000, trial-001, ...: the order trials were started in; the number also seeds the trial's params. */
  id: string;
  params: Params;
  status: TrialStatus;
  /** Hyperband: the bracket's index in the plan (0 for random and grid). */
  bracket: number;
  /** Hyperband: the round the trial is in, or last finished (0 for random and grid). */
  round: number;
  /** Epochs the trial trains to in its current round, counted from its first epoch. */
  epochsTarget: number;
  /** The objective after each epoch trained so far: history[e - 1] is epoch e's. */
  history: number[];
  /** Wall seconds its trainers ran, over every claim (kept by the study's storage; absent in a pure study). */
  seconds?: number;
}

/**
 * Everything a decision depends on besides the sampler's and pruner's own settings; plain JSON, so it can be read
 * under the study's lock by every worker alike.
 */
export interface StudyState {
  space: SearchSpace;
  objective: Objective;
  trials: TrialRecord[];
}

/**
 * What to do next. start: build the model from params and train epochs 0..epochs. continue: load the trial's
 * checkpoint and train from epoch fromEpoch to toEpoch. wait: every remaining step needs results of running
 * trials. done: nothing left to run.
 */
export type Action =
  | { kind: "start"; trialId: string; params: Params; epochs: number; bracket: number; round: number }
  | { kind: "continue"; trialId: string; fromEpoch: number; toEpoch: number; round: number }
  | { kind: "wait" }
  | { kind: "done" };

/** The id of the index-th trial (0-based). */
export const trialId = (index: number): string => `trial-${String(index).padStart(3, "0")}`;

/** Every earlier trial's params as canonical JSON, for the tuners' duplicate check. */
export const takenParams = (study: StudyState): Set<string> => new Set(study.trials.map((t) => stableStringify(t.params)));

export const isBusy = (t: TrialRecord): boolean => t.status === "running" || t.status === "pending";

/** A pending trial is handed out again before anything new: from scratch, or from its last epoch. */
export function resumeAction(study: StudyState): Action | undefined {
  const t = study.trials.find((trial) => trial.status === "pending");
  if (!t) return undefined;
  if (t.history.length === 0) {
    return { kind: "start", trialId: t.id, params: t.params, epochs: t.epochsTarget, bracket: t.bracket, round: t.round };
  }
  return { kind: "continue", trialId: t.id, fromEpoch: t.history.length, toEpoch: t.epochsTarget, round: t.round };
}

function update<S extends StudyState>(study: S, id: string, change: (t: TrialRecord) => TrialRecord): S {
  const i = study.trials.findIndex((t) => t.id === id);
  if (i < 0) throw new Error(`no trial "${id}" in the study (it has ${study.trials.length} trials)`);
  const trials = study.trials.slice();
  trials[i] = change(study.trials[i]!);
  return { ...study, trials };
}

/**
 * The study once a worker has taken `action`: the trial is recorded (start) or moved to its next round
 * (continue) and marked running. Workers sharing a study apply it under the study's lock, so no two take
 * the same action.
 */
export function applyAction<S extends StudyState>(study: S, action: Action): S {
  if (action.kind === "start") {
    const running = { status: "running" as const, epochsTarget: action.epochs };
    if (study.trials.some((t) => t.id === action.trialId)) return update(study, action.trialId, (t) => ({ ...t, ...running }));
    const { trialId: id, params, bracket, round } = action;
    return { ...study, trials: [...study.trials, { id, params, bracket, round, history: [], ...running }] };
  }
  if (action.kind === "continue") {
    return update(study, action.trialId, (t) => {
      if (t.status !== "completed" && t.status !== "pending") {
        throw new Error(`${t.id} is ${t.status}; only a completed or pending trial can be continued`);
      }
      return { ...t, status: "running", round: action.round, epochsTarget: action.toEpoch };
    });
  }
  return study;
}

/** Appends one epoch's objective to a running trial. NaN is kept as is (it never ranks). */
export function recordEpoch<S extends StudyState>(study: S, id: string, value: number): S {
  return update(study, id, (t) => {
    if (t.status !== "running") throw new Error(`${t.id} is ${t.status}; epochs are recorded only for a running trial`);
    return { ...t, history: [...t.history, value] };
  });
}

/** Ends a trial's current run: completed, pruned (stopped early) or failed. */
export function finishTrial<S extends StudyState>(study: S, id: string, status: "completed" | "pruned" | "failed"): S {
  return update(study, id, (t) => ({ ...t, status }));
}

/** Hands a running trial back (its worker died or was stopped): nextAction gives it out again from its last epoch. */
export function releaseTrial<S extends StudyState>(study: S, id: string): S {
  return update(study, id, (t) => ({ ...t, status: t.status === "running" ? "pending" : t.status }));
}
