import { hyperbandAction } from "./hyperband";
import { medianStop, sequentialAction } from "./sequential";
import type { Action, StudyState } from "./study";

/**
 * The one decision every driver loop asks: what to run next, from the study alone. Pure, so workers that share
 * a study (read under its lock) reach the same decision, and a resumed study carries on where it stopped:
 *
 *   for (;;) { a = nextAction(study); if done: break; if wait: sleep, reread; else apply, train, record, finish }
 */
export function nextAction(study: StudyState): Action {
  return study.tuner.kind === "hyperband" ? hyperbandAction(study) : sequentialAction(study);
}

/** Asked after each recorded epoch: should this running trial stop now (pruned)? Only median stopping says yes. */
export function shouldStop(study: StudyState, trialId: string): boolean {
  return medianStop(study, trialId);
}
