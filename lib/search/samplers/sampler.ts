import type { Params } from "../core/space";
import { type Action, isBusy, resumeAction, type StudyState, trialId } from "../core/study";

/**
 * Optuna's sampler, for a study whose trials train in epochs: it proposes the next step from the recorded trials
 * alone (start a new trial with drawn params, continue a kept one, wait for running trials, or done). Pure, so every
 * worker that reads the study under its lock reaches the same decision, and a resumed study carries on where it
 * stopped. One file per sampler, registered in ../tuner.ts.
 */
export interface Sampler {
  nextAction(study: StudyState): Action;
}

/**
 * The step of a sampler that only draws params (random, grid): trial i gets draw(i) and trains maxEpochs in one go;
 * a pending trial is handed out again first. draw returns undefined when the space or the budget is used up.
 */
export function drawnTrialAction(study: StudyState, maxEpochs: number, draw: (index: number) => Params | undefined): Action {
  const resume = resumeAction(study);
  if (resume) return resume;
  const i = study.trials.length;
  const params = draw(i);
  // A space over `epochs` itself (a sweep's --grid epochs=5,10) sets the trial's length.
  const epochs = typeof params?.epochs === "number" ? params.epochs : maxEpochs;
  if (params) return { kind: "start", trialId: trialId(i), params, epochs, bracket: 0, round: 0 };
  return study.trials.some(isBusy) ? { kind: "wait" } : { kind: "done" };
}
