import type { StudyState } from "../core/study";

/**
 * Optuna's pruner: asked after each epoch a running trial reports, it says whether to stop the trial now (pruned).
 * Pure, from the recorded trials alone. One file per pruner, registered in ../tuner.ts.
 */
export interface Pruner {
  shouldPrune(study: StudyState, trialId: string): boolean;
  /** How a log line names the rule, e.g. "median stopping". */
  readonly label: string;
}

/** No pruning: every trial trains to its target (Optuna's NopPruner). */
export const noPruning: Pruner = { shouldPrune: () => false, label: "no pruning" };
