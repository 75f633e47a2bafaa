import { bestOf } from "../core/objective";
import { isBusy, type StudyState } from "../core/study";
import { type Encoding, encodeParams } from "./encoding";

/** One trial as a model-based sampler learns from it. */
export interface Observation {
  /** Position in the study (trial-007 is 7): older trials weigh less in TPE's bad group, as in Optuna. */
  index: number;
  point: number[];
  /** The objective oriented so that smaller is better (a maximised metric is negated); Infinity: none finite. */
  loss: number;
  state: "completed" | "pruned" | "busy";
  /** Epochs the trial ran. */
  epochs: number;
}

/**
 * The study's trials for a model-based sampler, from the stored results alone: completed and pruned trials with
 * their best objective (the value the results table ranks by), and running or pending trials (busy) without one.
 * Failed trials and trials whose params are not in the space are left out.
 */
export function observationsOf(study: StudyState, enc: Encoding): Observation[] {
  const sign = study.objective.direction === "max" ? -1 : 1;
  const out: Observation[] = [];
  study.trials.forEach((t, index) => {
    if (t.status === "failed") return;
    const point = encodeParams(enc, t.params);
    if (!point) return;
    const best = bestOf(t.history, study.objective.direction);
    const state = isBusy(t) ? "busy" : t.status === "pruned" ? "pruned" : "completed";
    out.push({ index, point, loss: best ? sign * best.value : Infinity, state, epochs: t.history.length });
  });
  return out;
}

/**
 * Finished trials best first, Optuna's order: completed trials by loss, then pruned trials by the epoch they reached
 * (later first) and their loss. A pruned trial never outranks a completed one: its value is from fewer epochs.
 */
export function rankFinished(obs: readonly Observation[]): Observation[] {
  const completed = obs.filter((o) => o.state === "completed").sort((a, b) => a.loss - b.loss || a.index - b.index);
  const pruned = obs.filter((o) => o.state === "pruned").sort((a, b) => b.epochs - a.epochs || a.loss - b.loss || a.index - b.index);
  return [...completed, ...pruned];
}
