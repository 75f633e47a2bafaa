import { bestOf, compareScores, type Objective } from "./objective";
import type { Params } from "./space";
import type { TrialRecord, TrialStatus } from "./study";

/** One line of a results table. */
export interface ResultRow {
  trial: string;
  status: TrialStatus;
  params: Params;
  /** Epochs trained in all (over every Hyperband round). */
  epochsRun: number;
  /** Best objective over those epochs; null when no epoch gave a finite value. */
  best: number | null;
  /** The epoch (1-based) of that best value. */
  bestEpoch: number | null;
  /** Wall seconds the trial trained, when the study's storage kept them. */
  seconds: number | null;
}

const scoreOf = (t: TrialRecord, objective: Objective): number | undefined => bestOf(t.history, objective.direction)?.value;

/** Trials best first by their best objective (direction aware); trials without a finite value last; ties in start order. */
export function rankTrials<T extends TrialRecord>(trials: readonly T[], objective: Objective): T[] {
  return trials.slice().sort((a, b) => compareScores(scoreOf(a, objective), scoreOf(b, objective), objective.direction));
}

/** The best trial, or undefined while no trial has a finite objective. */
export function bestTrial<T extends TrialRecord>(trials: readonly T[], objective: Objective): T | undefined {
  const [first] = rankTrials(trials, objective);
  return first && scoreOf(first, objective) !== undefined ? first : undefined;
}

/** Rows for the results table, best first. */
export function resultRows(trials: readonly TrialRecord[], objective: Objective): ResultRow[] {
  return rankTrials(trials, objective).map((t) => {
    const best = bestOf(t.history, objective.direction);
    return {
      trial: t.id,
      status: t.status,
      params: t.params,
      epochsRun: t.history.length,
      best: best?.value ?? null,
      bestEpoch: best?.epoch ?? null,
      seconds: t.seconds ?? null,
    };
  });
}

/**
 * Flat records for a table printer or a DataFrame: trial, status, one column per parameter (lists and objects as
 * JSON, e.g. "[300,100]"), "epochs run", the objective's name (e.g. val_accuracy) for the best value, "best epoch"
 * (1-based) and, when the storage kept them, "seconds" (wall time the trial trained).
 */
export function tableRecords(rows: readonly ResultRow[], objective: Objective): Record<string, string | number | boolean | null>[] {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  return rows.map((r) => ({
    trial: r.trial,
    status: r.status,
    ...Object.fromEntries(
      names.map((n) => {
        const v = r.params[n];
        return [n, v === undefined ? null : v !== null && typeof v === "object" ? JSON.stringify(v) : v];
      }),
    ),
    "epochs run": r.epochsRun,
    [objective.name]: r.best,
    "best epoch": r.bestEpoch,
    ...(r.seconds === null ? {} : { seconds: Number(r.seconds.toFixed(2)) }),
  }));
}
