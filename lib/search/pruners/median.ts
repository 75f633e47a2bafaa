import { z } from "zod";
import { bestOf } from "../core/objective";
import type { StudyState } from "../core/study";
import type { Pruner } from "./pruner";

/**
 * Median stopping (Google Vizier's rule, Optuna's MedianPruner): after `warmupEpochs`, stop a trial whose best
 * objective so far is worse than the median of the completed trials' running means at the same epoch.
 */
export const MedianStopping = z
  .object({
    kind: z.literal("median"),
    /** Completed trials needed before anything is stopped: a median of one or two trials is noise. */
    minTrials: z.number().int().min(1).default(3),
    /** Epochs every trial runs before it can be stopped: the first epochs rank trials poorly. */
    warmupEpochs: z.number().int().min(0).default(1),
  })
  .strict();
export type MedianStopping = z.infer<typeof MedianStopping>;

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * True when the trial's best objective so far is worse than the median, over completed trials that ran at least as
 * long, of their mean objective up to the same epoch. Always false before warmupEpochs, at the trial's last epoch,
 * or with too few completed trials.
 */
export class MedianPruner implements Pruner {
  readonly label = "median stopping";

  constructor(private readonly spec: MedianStopping) {}

  /** After the warm-up, and never at the trial's last epoch. */
  judgesAt(epoch: number, epochsTarget: number): boolean {
    return epoch > this.spec.warmupEpochs && epoch < epochsTarget;
  }

  shouldPrune(study: StudyState, id: string): boolean {
    const { objective } = study;
    const trial = study.trials.find((t) => t.id === id);
    if (!trial) throw new Error(`no trial "${id}" in the study`);
    const epoch = trial.history.length;
    if (!this.judgesAt(epoch, trial.epochsTarget)) return false;
    const means = study.trials
      .filter((t) => t.id !== id && t.status === "completed" && t.history.length >= epoch)
      .map((t) => t.history.slice(0, epoch).reduce((a, b) => a + b, 0) / epoch)
      .filter(Number.isFinite);
    if (means.length < this.spec.minTrials) return false;
    const best = bestOf(trial.history, objective.direction);
    if (!best) return true; // nothing finite yet: it cannot beat anyone
    const m = median(means);
    return objective.direction === "max" ? best.value < m : best.value > m;
  }
}
