import { z } from "zod";
import type { StudyState, TrialRecord } from "../core/study";
import type { Pruner } from "./pruner";

/**
 * Asynchronous successive halving (Li et al. 2018), as Optuna's SuccessiveHalvingPruner: rung r ends at epoch
 * minResource * reductionFactor^(minEarlyStoppingRate + r) (1, 3, 9, 27, ... with the defaults). A trial reaching a
 * rung's epoch goes on only if its value there is in the top 1/reductionFactor of every trial's value at that rung.
 */
export const SuccessiveHalving = z
  .object({
    kind: z.literal("asha"),
    /** Epochs before the first rung (Optuna's min_resource). */
    minResource: z.number().int().min(1).default(1),
    /** A rung keeps 1/reductionFactor of the trials and the next rung is reductionFactor times later. */
    reductionFactor: z.number().int().min(2).default(3),
    /** Skips the first rungs: rung r sits at minResource * reductionFactor^(rate + r). */
    minEarlyStoppingRate: z.number().int().min(0).default(0),
  })
  .strict();
export type SuccessiveHalving = z.infer<typeof SuccessiveHalving>;

/**
 * Optuna's _is_trial_promotable_to_next_rung: among `competing` (this trial's value included), the value must be at
 * least the (n / factor)-th best; with fewer than `factor` values (no one to halve yet) only the best goes on.
 */
export function promotable(value: number, competing: readonly number[], factor: number, direction: "min" | "max"): boolean {
  const sorted = competing.slice().sort((a, b) => a - b);
  const idx = Math.max(0, Math.floor(sorted.length / factor) - 1);
  return direction === "max" ? value >= sorted[sorted.length - 1 - idx]! : value <= sorted[idx]!;
}

/**
 * Stateless ASHA: a trial's rung value is its objective at the rung's epoch (not its best so far, as in Optuna),
 * read from the recorded histories, so a resumed or shared study decides from the stored trials alone. A trial is
 * judged once per rung, at the epoch the rung ends; never at its own last epoch (it is done anyway).
 */
export class AshaPruner implements Pruner {
  readonly label = "asynchronous successive halving";

  constructor(private readonly spec: SuccessiveHalving) {}

  /** The epoch rung r ends at (1-based). */
  rungEpoch(r: number): number {
    const { minResource, reductionFactor, minEarlyStoppingRate } = this.spec;
    return minResource * reductionFactor ** (minEarlyStoppingRate + r);
  }

  /** Only at a rung's epoch, and never at the trial's last. */
  judgesAt(epoch: number, epochsTarget: number): boolean {
    if (epoch === 0 || epoch >= epochsTarget) return false;
    let r = 0;
    while (this.rungEpoch(r) < epoch) r++;
    return this.rungEpoch(r) === epoch;
  }

  shouldPrune(study: StudyState, id: string): boolean {
    const trial = study.trials.find((t) => t.id === id);
    if (!trial) throw new Error(`no trial "${id}" in the study`);
    const epoch = trial.history.length;
    if (!this.judgesAt(epoch, trial.epochsTarget)) return false;
    const value = trial.history[epoch - 1]!;
    if (!Number.isFinite(value)) return true; // Optuna prunes a NaN at a rung
    const atRung = (t: TrialRecord): number | undefined => (t.history.length >= epoch ? t.history[epoch - 1] : undefined);
    const competing = study.trials.map(atRung).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return !promotable(value, competing, this.spec.reductionFactor, study.objective.direction);
  }
}
