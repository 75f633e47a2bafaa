import { gridPoint, gridSize } from "./grid";
import { bestOf } from "./objective";
import { uniqueTrialParams } from "./random";
import type { Params } from "./space";
import { type Action, isBusy, resumeAction, type StudyState, takenParams, trialId } from "./study";

/**
 * Random and grid search: up to maxTrials trials, each trained for maxEpochs in one go. Trial i gets the i-th
 * random draw or the i-th grid point, so the decision depends on the number of recorded trials only.
 */
export function sequentialAction(study: StudyState): Action {
  const { tuner, space } = study;
  if (tuner.kind === "hyperband") throw new Error("sequentialAction is for random and grid studies; use hyperbandAction");
  const resume = resumeAction(study);
  if (resume) return resume;
  const i = study.trials.length;
  let params: Params | undefined;
  if (tuner.kind === "grid") {
    if (i < Math.min(tuner.maxTrials ?? Infinity, gridSize(space))) params = gridPoint(space, i);
  } else if (i < tuner.maxTrials) {
    params = uniqueTrialParams(space, tuner.seed, i, takenParams(study));
  }
  // A space over `epochs` itself (a sweep's --grid epochs=5,10) sets the trial's length.
  const epochs = typeof params?.epochs === "number" ? params.epochs : tuner.maxEpochs;
  if (params) return { kind: "start", trialId: trialId(i), params, epochs, bracket: 0, round: 0 };
  return study.trials.some(isBusy) ? { kind: "wait" } : { kind: "done" };
}

const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The median stopping rule, asked after each epoch of a running trial: true when its best objective so far is
 * worse than the median, over completed trials that ran at least as long, of their mean objective up to the
 * same epoch. Always false when the study has no pruning, before warmupEpochs, or with too few completed trials.
 */
export function medianStop(study: StudyState, id: string): boolean {
  const { tuner, objective } = study;
  if (tuner.kind === "hyperband" || !tuner.pruning) return false;
  const trial = study.trials.find((t) => t.id === id);
  if (!trial) throw new Error(`no trial "${id}" in the study`);
  const epoch = trial.history.length;
  if (epoch <= tuner.pruning.warmupEpochs || epoch >= trial.epochsTarget) return false;
  const means = study.trials
    .filter((t) => t.id !== id && t.status === "completed" && t.history.length >= epoch)
    .map((t) => t.history.slice(0, epoch).reduce((a, b) => a + b, 0) / epoch)
    .filter(Number.isFinite);
  if (means.length < tuner.pruning.minTrials) return false;
  const best = bestOf(trial.history, objective.direction);
  if (!best) return true; // nothing finite yet: it cannot beat anyone
  const m = median(means);
  return objective.direction === "max" ? best.value < m : best.value > m;
}
