import { performance } from "node:perf_hooks";
import type { Objective } from "../../search/core/objective";
import { parseSearchSpace, type SearchSpace } from "../../search/core/space";
import { applyAction, finishTrial, recordEpoch, type StudyState } from "../../search/core/study";
import { TunerSpec, tunerFor } from "../../search/tuner";
import type { SyntheticObjective } from "./objectives";

/** Our samplers the benchmark runs, by --tuner name. */
export type OurSampler = "tpe" | "bayesian" | "random";

const MINIMISE: Objective = { name: "value", direction: "min" };

export const spaceOf = (o: SyntheticObjective): SearchSpace => parseSearchSpace(o.space, Object.keys(o.space));

/** One study's outcome: the best value after each trial, and the sampler's own time per suggestion. */
export interface StudyRun {
  bestSoFar: number[];
  suggestSeconds: number[];
}

// Parsed, so each sampler gets its defaults as a stored study's spec does.
const tunerSpec = (sampler: OurSampler, maxTrials: number, seed: number): TunerSpec =>
  TunerSpec.parse({ kind: sampler, maxTrials, maxEpochs: 1, seed });

/**
 * Runs a study in memory, as a worker would: ask the sampler for the next action (timed), evaluate the objective
 * as the trial's single epoch, mark the trial completed. Sequential, so no trial is ever busy.
 */
export function runStudy(sampler: OurSampler, objective: SyntheticObjective, seed: number, trials: number): StudyRun {
  const { sampler: s } = tunerFor(tunerSpec(sampler, trials, seed));
  let study: StudyState = { space: spaceOf(objective), objective: MINIMISE, trials: [] };
  const bestSoFar: number[] = [];
  const suggestSeconds: number[] = [];
  for (let i = 0; i < trials; i++) {
    const t0 = performance.now();
    const action = s.nextAction(study);
    suggestSeconds.push((performance.now() - t0) / 1000);
    if (action.kind !== "start") throw new Error(`${sampler}: expected a new trial at trial ${i}, got ${action.kind}`);
    study = applyAction(study, action);
    const value = objective.evaluate(action.params);
    study = finishTrial(recordEpoch(study, action.trialId, value), action.trialId, "completed");
    bestSoFar.push(Math.min(value, bestSoFar.at(-1) ?? Infinity));
  }
  return { bestSoFar, suggestSeconds };
}

/**
 * The sampler's time for one suggestion once a study holds `history` finished trials (random params with their
 * objective values): the median of `repeats` timings of the same decision.
 */
export function suggestionSecondsAt(sampler: OurSampler, objective: SyntheticObjective, history: number, repeats = 5): number {
  const space = spaceOf(objective);
  const { sampler: r } = tunerFor(tunerSpec("random", history, 1));
  let study: StudyState = { space, objective: MINIMISE, trials: [] };
  for (let i = 0; i < history; i++) {
    const action = r.nextAction(study);
    if (action.kind !== "start") break;
    study = finishTrial(
      recordEpoch(applyAction(study, action), action.trialId, objective.evaluate(action.params)),
      action.trialId,
      "completed",
    );
  }
  const { sampler: s } = tunerFor(tunerSpec(sampler, history + 1, 7));
  const times = Array.from({ length: repeats }, () => {
    const t0 = performance.now();
    s.nextAction(study);
    return (performance.now() - t0) / 1000;
  }).sort((a, b) => a - b);
  return times[repeats >> 1]!;
}
