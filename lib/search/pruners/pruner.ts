import { pruningView } from "../core/barrier";
import type { StudyState } from "../core/study";

/**
 * Optuna's pruner: asked after each epoch a running trial reports, it says whether to stop the trial now (pruned).
 * Pure, from the recorded trials alone. One file per pruner, registered in ../tuner.ts.
 */
export interface Pruner {
  shouldPrune(study: StudyState, trialId: string): boolean;
  /** How a log line names the rule, e.g. "median stopping". */
  readonly label: string;
  /**
   * False while the decision must wait for other trials (a reproducible study, see core/barrier.ts); the worker asks
   * again later. Absent: always ready.
   */
  ready?(study: StudyState, trialId: string): boolean;
  /**
   * Whether the pruner can stop a trial at this epoch at all (ASHA: only at a rung). A reproducible study waits for
   * other trials only where this is true. Absent: at every epoch.
   */
  judgesAt?(epoch: number, epochsTarget: number): boolean;
}

/** No pruning: every trial trains to its target (Optuna's NopPruner). */
export const noPruning: Pruner = { shouldPrune: () => false, label: "no pruning" };

/**
 * A pruner that judges trial k at epoch e only against trials started before k, once each of them reached epoch e or
 * ended (pruningView): its decisions are the same whichever worker ran what first.
 */
export class OrderedPruner implements Pruner {
  readonly label: string;

  constructor(private readonly inner: Pruner) {
    this.label = `${inner.label}, in trial order`;
  }

  ready(study: StudyState, id: string): boolean {
    return !this.judges(study, id) || pruningView(study, id) !== undefined;
  }

  shouldPrune(study: StudyState, id: string): boolean {
    if (!this.judges(study, id)) return false;
    const view = pruningView(study, id);
    return view !== undefined && this.inner.shouldPrune(view, id);
  }

  private judges(study: StudyState, id: string): boolean {
    const t = study.trials.find((x) => x.id === id);
    return !t || !this.inner.judgesAt || this.inner.judgesAt(t.history.length, t.epochsTarget);
  }
}
