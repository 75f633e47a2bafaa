import { describe, expect, it } from "vitest";
import { type Direction, objectiveFor } from "../../lib/search/core/objective";
import { type Params, parseSearchSpace, type SearchSpace } from "../../lib/search/core/space";
import { applyAction, finishTrial, recordEpoch, type StudyState, type TrialRecord } from "../../lib/search/core/study";
import { encodingOf, encodeParams, decodePoint } from "../../lib/search/samplers/encoding";
import { cholesky, GaussianProcess } from "../../lib/search/samplers/gaussian-process";
import { observationsOf } from "../../lib/search/samplers/observations";
import { latinHypercubeParams } from "../../lib/search/samplers/latin-hypercube";
import { trialWeights } from "../../lib/search/samplers/parzen";
import { trialParams } from "../../lib/search/samplers/random";
import { goodCount, splitObservations } from "../../lib/search/samplers/tpe";
import { TunerSpec, tunerFor } from "../../lib/search/tuner";

const MIXED = parseSearchSpace(
  {
    lr: { type: "float", min: 1e-4, max: 0.1, log: true },
    width: { type: "int", min: 16, max: 512, log: true },
    units: { type: "int", min: 32, max: 512, step: 2, log: true },
    depth: { type: "int", min: 1, max: 9, step: 2 },
    opt: { type: "choice", values: ["sgd", "adam", "nadam"] },
    bn: { type: "bool" },
    seed: { type: "fixed", value: 7 },
  },
  ["lr", "width", "units", "depth", "opt", "bn", "seed"],
);
const LINE = parseSearchSpace({ x: { type: "float", min: -10, max: 10 } }, ["x"]);

/**
 * Runs a study in memory with the given sampler, each trial one epoch whose value is f(params), and returns the
 * params in trial order.
 */
function run(
  kind: "tpe" | "bayesian" | "random",
  space: SearchSpace,
  f: (p: Params) => number,
  trials: number,
  seed = 1,
  direction: Direction = "min",
): Params[] {
  const { sampler } = tunerFor(TunerSpec.parse({ kind, maxTrials: trials, maxEpochs: 1, seed }));
  let study: StudyState = { space, objective: objectiveFor("value", direction), trials: [] };
  for (let a = sampler.nextAction(study); a.kind === "start"; a = sampler.nextAction(study)) {
    study = applyAction(study, a);
    study = finishTrial(recordEpoch(study, a.trialId, f(a.params)), a.trialId, "completed");
  }
  return study.trials.map((t) => t.params);
}

const quadratic = (p: Params) => ((p.x as number) - 3) ** 2;
/** The median distance of the trials' x from the optimum 3. */
const medianDistance = (ps: Params[]) => ps.map((p) => Math.abs((p.x as number) - 3)).sort((a, b) => a - b)[ps.length >> 1]!;

function expectInSpace(p: Params): void {
  expect(p.lr as number).toBeGreaterThanOrEqual(1e-4);
  expect(p.lr as number).toBeLessThanOrEqual(0.1);
  expect(Number.isInteger(p.width) && (p.width as number) >= 16 && (p.width as number) <= 512).toBe(true);
  expect([32, 64, 128, 256, 512]).toContain(p.units);
  expect([1, 3, 5, 7, 9]).toContain(p.depth);
  expect(["sgd", "adam", "nadam"]).toContain(p.opt);
  expect(typeof p.bn).toBe("boolean");
  expect(p.seed).toBe(7);
}

// A synthetic objective over the mixed space with its optimum inside: lr near 1e-2, width near 128, adam.
const mixedLoss = (p: Params) =>
  Math.log10((p.lr as number) / 1e-2) ** 2 +
  Math.log2((p.width as number) / 128) ** 2 / 4 +
  (p.opt === "adam" ? 0 : 1) +
  ((p.depth as number) - 5) ** 2 / 16;

describe.each(["tpe", "bayesian"] as const)("--tuner %s", (kind) => {
  it("repeats its trials from the seed, and another seed gives others", () => {
    const a = run(kind, MIXED, mixedLoss, 24, 5);
    expect(run(kind, MIXED, mixedLoss, 24, 5)).toEqual(a);
    expect(run(kind, MIXED, mixedLoss, 24, 6)).not.toEqual(a);
  });

  it("keeps every suggestion inside the space: log float range, int and log-int grids, choices, bools, fixed values", () => {
    const params = run(kind, MIXED, mixedLoss, 30);
    expect(params).toHaveLength(30);
    params.forEach(expectInSpace);
  });

  it(`starts with ${kind === "tpe" ? "a Latin hypercube" : "random search's own draws"}, then leaves it`, () => {
    const startup = kind === "tpe" ? 10 : 3 * 6; // Optuna's n_startup_trials; Keras Tuner's 3 per searched entry
    const params = run(kind, MIXED, mixedLoss, startup + 3);
    const enc = encodingOf(MIXED);
    const first = Array.from({ length: startup + 3 }, (_, i) =>
      kind === "tpe" ? latinHypercubeParams(enc, 1, i, startup) : trialParams(MIXED, 1, i),
    );
    expect(params.slice(0, startup)).toEqual(first.slice(0, startup));
    expect(params.slice(startup)).not.toEqual(Array.from({ length: 3 }, (_, i) => trialParams(MIXED, 1, startup + i)));
  });

  // Over [-10, 10], random search's trials lie a median 5 from the optimum; TPE keeps a prior kernel and explores more
  // than the Gaussian process does, as Optuna's does.
  const near = kind === "tpe" ? 2 : 1;

  it("concentrates near the optimum of a 1-D quadratic, much closer than random search", () => {
    const model = run(kind, LINE, quadratic, 60).slice(40);
    const random = run("random", LINE, quadratic, 60).slice(40);
    expect(medianDistance(model)).toBeLessThan(near);
    expect(medianDistance(model)).toBeLessThan(medianDistance(random) / 2);
  });

  it("maximises a maximised objective", () => {
    const model = run(kind, LINE, (p) => -quadratic(p), 60, 1, "max").slice(40);
    expect(medianDistance(model)).toBeLessThan(near);
  });
});

const trial = (i: number, x: number, status: TrialRecord["status"], history: number[]): TrialRecord => ({
  id: `trial-${i}`,
  params: { x },
  status,
  bracket: 0,
  round: 0,
  epochsTarget: 3,
  history,
});

describe("TPE's groups", () => {
  it("takes the best tenth of finished trials (Optuna's gamma, at most 25) and weighs old bad trials less", () => {
    expect([1, 10, 11, 100, 1000].map(goodCount)).toEqual([1, 1, 2, 10, 25]);
    expect(trialWeights(3)).toEqual([1, 1, 1]);
    const w = trialWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30);
    expect(w[4]).toBe(1);
    expect(w.slice(5).every((x) => x === 1)).toBe(true);
  });

  it("ranks completed trials before pruned ones, pruned ones by the epoch they reached, and counts busy trials as bad", () => {
    const trials = [
      trial(0, 1, "completed", [0.5, 0.6, 0.7]),
      trial(1, 2, "pruned", [0.9]),
      trial(2, 3, "pruned", [0.1, 0.2]),
      trial(3, 4, "running", [0.99]),
      trial(4, 5, "failed", []),
      ...Array.from({ length: 8 }, (_, k) => trial(5 + k, 6 + k, "completed", [0.1, 0.2, 0.3])),
    ];
    const study: StudyState = { space: LINE, objective: objectiveFor("val_accuracy"), trials };
    const obs = observationsOf(study, encodingOf(LINE));
    expect(obs.map((o) => o.index)).not.toContain(4); // failed: no information
    const { good, bad } = splitObservations(obs); // 11 finished: 2 good
    expect(good.map((o) => o.index)).toEqual([0, 5]); // 0.7 first, then the first of the 0.3 ties
    expect(bad.map((o) => o.index)).toContain(3); // running: Optuna's constant liar
    expect(bad.map((o) => o.index)).toContain(1); // pruned at 0.9 ranks below every completed trial
  });
});

describe("encoding", () => {
  it("round-trips every kind of entry and refuses a value outside the space", () => {
    const enc = encodingOf(MIXED);
    const p = { bn: true, depth: 7, lr: 0.003, opt: "nadam", seed: 7, units: 128, width: 100 };
    expect(decodePoint(enc, encodeParams(enc, p)!)).toEqual({ ...p, lr: expect.closeTo(0.003, 12) });
    expect(encodeParams(enc, { ...p, opt: "nadamm" })).toBeUndefined();
  });
});

describe("Gaussian process", () => {
  it("factors a positive-definite matrix and refuses one that is not", () => {
    const l = cholesky(new Float64Array([4, 2, 2, 3]), 2)!;
    expect(Array.from(l)).toEqual([2, 0, 1, Math.SQRT2]);
    expect(cholesky(new Float64Array([1, 2, 2, 1]), 2)).toBeUndefined();
  });

  it("passes through its observations with little doubt there and more doubt far away", () => {
    const x = [[0.1], [0.4], [0.5], [0.9]];
    const y = [1, 3, 2.5, -1];
    const gp = GaussianProcess.fit(x, y);
    x.forEach((p, i) => expect(gp.predict(p).mean).toBeCloseTo(y[i]!, 1));
    expect(gp.predict([0.7]).std).toBeGreaterThan(gp.predict([0.4]).std);
  });
});

describe("model-based samplers in a shared study", () => {
  // Keras Tuner's exploring beta for the process: at its default of 1 it settles on the optimum of this line so fast
  // that no later trial is worse than the median, and the pruner is never asked to stop one.
  const make = (kind: "tpe" | "bayesian") =>
    tunerFor(
      TunerSpec.parse({
        kind,
        maxTrials: 30,
        maxEpochs: 3,
        seed: 3,
        pruning: { kind: "median" },
        ...(kind === "bayesian" ? { beta: 2.6 } : {}),
      }),
    );

  it.each(["tpe", "bayesian"] as const)(
    "%s: decides from the stored study alone, hands a pending trial out first, and prunes with the median pruner",
    (kind) => {
      const { sampler, pruner } = make(kind);
      let study: StudyState = { space: LINE, objective: objectiveFor("val_loss"), trials: [] };
      let pruned = 0;
      for (let i = 0; i < 24; i++) {
        const a = sampler.nextAction(study);
        if (a.kind !== "start") throw new Error(`expected a start, got ${a.kind}`);
        // A copy read back from storage (JSON) reaches the same decision: nothing lives in the sampler between calls.
        expect(make(kind).sampler.nextAction(JSON.parse(JSON.stringify(study)))).toEqual(a);
        study = applyAction(study, a);
        let status: "completed" | "pruned" = "completed";
        for (let e = 1; e <= 3; e++) {
          study = recordEpoch(study, a.trialId, quadratic(a.params) + 1 / e);
          if (pruner.shouldPrune(study, a.trialId)) {
            status = "pruned";
            pruned++;
            break;
          }
        }
        study = finishTrial(study, a.trialId, status);
      }
      expect(pruned).toBeGreaterThan(0);
      const next = sampler.nextAction(study);
      expect(next.kind).toBe("start");
      // A trial left pending (its worker died) goes out again before any new suggestion.
      const running = applyAction(study, next);
      const pending = {
        ...running,
        trials: running.trials.map((t) => (t.status === "running" ? { ...t, status: "pending" as const } : t)),
      };
      expect(sampler.nextAction(pending)).toMatchObject({ kind: "start", trialId: next.kind === "start" ? next.trialId : "" });
      // While it runs, the next trial is another point (TPE counts it as a bad one; no sampler repeats params).
      const after = sampler.nextAction(running);
      expect(after.kind === "start" && after.params).not.toEqual(next.kind === "start" && next.params);
    },
  );
});
