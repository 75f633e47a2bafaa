import type { Objective } from "../../search/core/objective";
import { parseSearchSpace, type SearchSpace } from "../../search/core/space";
import { type Action, applyAction, finishTrial, recordEpoch, type StudyState } from "../../search/core/study";
import { TunerSpec, tunerFor } from "../../search/tuner";
import type { SamplerObjective, SyntheticObjective } from "./objectives";

/** Our samplers the benchmark runs, by --tuner name. */
export type OurSampler = "tpe" | "bayesian" | "random";

/**
 * CPU seconds this process spent in f: the sampler's own work, which wall time on a shared, loaded machine hides
 * behind the wait for a core. Optuna's side is measured the same way (time.process_time).
 */
function cpuSeconds(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

const MINIMISE: Objective = { name: "value", direction: "min" };

export const spaceOf = (o: SamplerObjective): SearchSpace => parseSearchSpace(o.space, Object.keys(o.space));

/** One study's outcome: the best value after each trial, and the sampler's own CPU time per suggestion. */
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
export async function runStudy(sampler: OurSampler, objective: SamplerObjective, seed: number, trials: number): Promise<StudyRun> {
  const { sampler: s } = tunerFor(tunerSpec(sampler, trials, seed));
  let study: StudyState = { space: spaceOf(objective), objective: MINIMISE, trials: [] };
  const bestSoFar: number[] = [];
  const suggestSeconds: number[] = [];
  for (let i = 0; i < trials; i++) {
    const asked: Action[] = [];
    suggestSeconds.push(cpuSeconds(() => asked.push(s.nextAction(study))));
    const action = asked[0]!;
    if (action.kind !== "start") throw new Error(`${sampler}: expected a new trial at trial ${i}, got ${action.kind}`);
    study = applyAction(study, action);
    const value = await objective.evaluate(action.params);
    study = finishTrial(recordEpoch(study, action.trialId, value), action.trialId, "completed");
    bestSoFar.push(Math.min(value, bestSoFar.at(-1) ?? Infinity));
  }
  return { bestSoFar, suggestSeconds };
}

/** A study of `history` finished trials: random search's params (seed 1) with their objective values. */
export function filledStudy(objective: SyntheticObjective, history: number): StudyState {
  const { sampler: r } = tunerFor(tunerSpec("random", history, 1));
  let study: StudyState = { space: spaceOf(objective), objective: MINIMISE, trials: [] };
  for (let a = r.nextAction(study); a.kind === "start"; a = r.nextAction(study)) {
    study = finishTrial(recordEpoch(applyAction(study, a), a.trialId, objective.evaluate(a.params)), a.trialId, "completed");
  }
  return study;
}

/** The median of `repeats` CPU timings (seconds) of the same decision by `sampler` on `study`. */
export function suggestionSeconds(sampler: OurSampler, study: StudyState, repeats = 5): number {
  const { sampler: s } = tunerFor(tunerSpec(sampler, study.trials.length + 1, 7));
  const times = Array.from({ length: repeats }, () => cpuSeconds(() => s.nextAction(study))).sort((a, b) => a - b);
  return times[repeats >> 1]!;
}
