import { describe, expect, it } from "vitest";
import { objectiveFor } from "../../lib/search/core/objective";
import { parseSearchSpace, type Params } from "../../lib/search/core/space";
import { type Action, applyAction, finishTrial, recordEpoch, type StudyState } from "../../lib/search/core/study";
import { seededSource } from "../../lib/search/samplers/random";
import { TunerSpec, tunerFor } from "../../lib/search/tuner";

// Part 5 of issue 21 for Hyperband: the trial table (params, bracket, round, epochs, status per trial id) must not
// depend on how many workers ran the study, nor on which of them finished first.
const SPACE = parseSearchSpace(
  { learningRate: { type: "float", min: 0.0001, max: 0.03, log: true }, nNeurons: { type: "int", min: 16, max: 64 } },
  ["learningRate", "hiddenUnits"],
  { nHidden: 1, nNeurons: 32 },
);

// Coarse scores, so ties between trials happen and the tie-break is exercised too.
const accuracy = (p: Params, epoch: number): number =>
  Math.round(100 * (0.9 - 0.05 * Math.abs(Math.log10(p.learningRate as number) + 2.5)) * (1 - 0.5 ** epoch)) / 100;

/**
 * Runs a Hyperband study to the end with `workers` simulated workers whose jobs take a random time (seeded by
 * `timing`, independent of the epochs), so workers finish in an order the study cannot foresee. Trials whose id
 * `fails` names fail in their first round. Returns the table: one line per trial id.
 */
function table(spec: object, workers: number, timing: number, fails: (id: string) => boolean = () => false): string[] {
  const tuner = tunerFor(TunerSpec.parse(spec));
  let s: StudyState = { space: SPACE, objective: objectiveFor("val_accuracy"), trials: [] };
  const u = seededSource(timing, workers);
  const jobs: { until: number; action: Action & { kind: "start" | "continue" } }[] = [];
  let clock = 0;
  for (let step = 0; step < 10_000; step++) {
    while (jobs.length < workers) {
      const a = tuner.sampler.nextAction(s);
      if (a.kind === "wait" || a.kind === "done") break;
      s = applyAction(s, a);
      jobs.push({ until: clock + 0.1 + 3 * u(), action: a });
    }
    if (jobs.length === 0) {
      return s.trials.map((t) => [t.id, JSON.stringify(t.params), t.bracket, t.round, t.status, t.history.join(" ")].join(","));
    }
    jobs.sort((x, y) => x.until - y.until);
    const { until, action } = jobs.shift()!;
    clock = until;
    const t = s.trials.find((x) => x.id === action.trialId)!;
    if (fails(t.id)) {
      s = finishTrial(s, t.id, "failed");
      continue;
    }
    for (let e = t.history.length + 1; e <= t.epochsTarget; e++) s = recordEpoch(s, t.id, accuracy(t.params, e));
    s = finishTrial(s, t.id, "completed");
  }
  throw new Error("the study did not finish in 10,000 steps");
}

describe("a seeded Hyperband study gives the same trial table with 1, 2 and 3 workers", () => {
  for (const maxEpochs of [9, 10, 27]) {
    it(`max_epochs ${maxEpochs}, 5 timings each`, () => {
      const spec = { kind: "hyperband", maxEpochs, seed: 42 };
      const one = table(spec, 1, 0);
      for (const workers of [2, 3, 5]) for (let timing = 1; timing <= 5; timing++) expect(table(spec, workers, timing)).toEqual(one);
    });
  }

  it("with failed trials", () => {
    const spec = { kind: "hyperband", maxEpochs: 10, seed: 7 };
    const fails = (id: string) => Number(id.slice(6)) % 4 === 1;
    const one = table(spec, 1, 0, fails);
    for (const workers of [2, 3]) for (let timing = 1; timing <= 5; timing++) expect(table(spec, workers, timing, fails)).toEqual(one);
  });
});
