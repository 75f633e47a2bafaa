import { describe, expect, it } from "vitest";
import { stableStringify } from "../../lib/search/core/json";
import { sampleParam, seededSource, trialParams, uniqueTrialParams } from "../../lib/search/samplers/random";
import { parseSearchSpace, type ParamSpec } from "../../lib/search/core/space";

const FIELDS = ["hiddenUnits", "learningRate", "optimizer", "batchNorm", "batchSize"];
const SPACE = parseSearchSpace(
  {
    learningRate: { type: "float", min: 0.0001, max: 0.03, log: true },
    optimizer: { type: "choice", values: ["sgd", "adam"] },
    batchNorm: { type: "bool" },
    nHidden: { type: "int", min: 1, max: 4 },
    nNeurons: { type: "int", min: 16, max: 256, log: true },
  },
  FIELDS,
);

const draws = (spec: ParamSpec, n = 4000, seed = 7): number[] => {
  const u = seededSource(seed);
  return Array.from({ length: n }, () => sampleParam(spec, u) as number);
};
const fraction = (xs: number[], test: (x: number) => boolean): number => xs.filter(test).length / xs.length;

describe("seededSource", () => {
  it("repeats for the same seed and stream, in [0, 1)", () => {
    const a = seededSource(42, 3, 0);
    const b = seededSource(42, 3, 0);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it("gives unrelated numbers for neighbouring streams", () => {
    expect(seededSource(42, 3)()).not.toBe(seededSource(42, 4)());
    expect(seededSource(42, 3)()).not.toBe(seededSource(43, 3)());
  });
});

describe("trialParams", () => {
  it("depends only on (seed, trial index): the same for a resumed study or another worker", () => {
    expect(trialParams(SPACE, 42, 5)).toEqual(trialParams(SPACE, 42, 5));
    expect(trialParams(SPACE, 42, 5)).not.toEqual(trialParams(SPACE, 42, 6));
    expect(trialParams(SPACE, 42, 5)).not.toEqual(trialParams(SPACE, 43, 5));
  });

  it("keeps every value inside its range over 500 trials", () => {
    for (let i = 0; i < 500; i++) {
      const p = trialParams(SPACE, 1, i);
      expect(p.learningRate).toBeGreaterThanOrEqual(0.0001);
      expect(p.learningRate).toBeLessThanOrEqual(0.03);
      expect(["sgd", "adam"]).toContain(p.optimizer);
      expect(typeof p.batchNorm).toBe("boolean");
      expect([1, 2, 3, 4]).toContain(p.nHidden);
      expect(Number.isInteger(p.nNeurons) && (p.nNeurons as number) >= 16 && (p.nNeurons as number) <= 256).toBe(true);
    }
  });
});

describe("sampleParam", () => {
  it("spreads a log float evenly over decades: 1e-4..1e-2 puts half below 1e-3 (linear would put 9%)", () => {
    const xs = draws({ type: "float", min: 1e-4, max: 1e-2, log: true });
    expect(fraction(xs, (x) => x < 1e-3)).toBeGreaterThan(0.46);
    expect(fraction(xs, (x) => x < 1e-3)).toBeLessThan(0.54);
  });

  it("spreads a linear float evenly: 0..1 puts a tenth below 0.1", () => {
    expect(fraction(draws({ type: "float", min: 0, max: 1 }), (x) => x < 0.1)).toBeCloseTo(0.1, 1);
  });

  it("draws log ints log-uniformly then rounds: 16..256 puts about half below 64, the geometric middle", () => {
    const xs = draws({ type: "int", min: 16, max: 256, log: true });
    expect(xs.every((x) => Number.isInteger(x) && x >= 16 && x <= 256)).toBe(true);
    expect(fraction(xs, (x) => x < 64)).toBeGreaterThan(0.45);
    expect(fraction(xs, (x) => x < 64)).toBeLessThan(0.55);
    expect(new Set(xs)).toContain(16);
    expect(new Set(xs)).toContain(256);
  });

  it("respects a linear step: 32..128 step 32 gives 32, 64, 96, 128 about equally", () => {
    const xs = draws({ type: "int", min: 32, max: 128, step: 32 });
    expect([...new Set(xs)].sort((a, b) => a - b)).toEqual([32, 64, 96, 128]);
    expect(fraction(xs, (x) => x === 128)).toBeCloseTo(0.25, 1);
  });

  it("treats a log step as a factor: 32..512 step 2 gives the powers of two", () => {
    const xs = draws({ type: "int", min: 32, max: 512, step: 2, log: true });
    expect([...new Set(xs)].sort((a, b) => a - b)).toEqual([32, 64, 128, 256, 512]);
  });

  it("draws every integer of a plain int range, ends included", () => {
    expect([...new Set(draws({ type: "int", min: 1, max: 4 }))].sort()).toEqual([1, 2, 3, 4]);
  });

  it("draws every choice and both bools, and returns a copy of list values", () => {
    const spec: ParamSpec = { type: "choice", values: [[300, 100], [200], "x"] };
    const u = seededSource(3);
    const got = Array.from({ length: 200 }, () => sampleParam(spec, u));
    expect(new Set(got.map((v) => JSON.stringify(v)))).toEqual(new Set(["[300,100]", "[200]", '"x"']));
    expect(got.find(Array.isArray)).not.toBe(spec.values[0]);
    expect(new Set(Array.from({ length: 50 }, () => sampleParam({ type: "bool" }, u)))).toEqual(new Set([false, true]));
  });
});

describe("uniqueTrialParams", () => {
  const tiny = parseSearchSpace({ batchNorm: { type: "bool" } }, FIELDS);

  it("redraws params an earlier trial already has", () => {
    const first = trialParams(tiny, 42, 1, 0);
    const other = uniqueTrialParams(tiny, 42, 1, new Set([stableStringify(first)]));
    expect(other).toEqual({ batchNorm: !first.batchNorm });
  });

  it("returns undefined once a small space is used up", () => {
    const taken = new Set([stableStringify({ batchNorm: false }), stableStringify({ batchNorm: true })]);
    expect(uniqueTrialParams(tiny, 42, 2, taken)).toBeUndefined();
  });
});
