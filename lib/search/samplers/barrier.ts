import { suggestionView } from "../core/barrier";
import { type Action, isBusy, resumeAction, type StudyState } from "../core/study";
import type { Sampler } from "./sampler";

/**
 * Any sampler made reproducible under parallel workers: trial k is suggested from trials 0..k-1-lag once they all
 * ended (suggestionView), so it does not depend on which worker finished first. Up to lag + 1 trials train at once
 * without waiting; more workers than that wait. A pending trial (its worker stopped) is handed out first, as always.
 */
export class BarrierSampler implements Sampler {
  constructor(
    private readonly inner: Sampler,
    private readonly lag: number,
  ) {}

  nextAction(study: StudyState): Action {
    const resume = resumeAction(study);
    if (resume) return resume;
    const view = suggestionView(study, this.lag);
    if (!view) return { kind: "wait" };
    const action = this.inner.nextAction(view);
    if (action.kind === "start" || action.kind === "continue") return action;
    // The view shows the latest trials as running, so the inner sampler says wait where the study may be done.
    return study.trials.some(isBusy) ? { kind: "wait" } : { kind: "done" };
  }
}
