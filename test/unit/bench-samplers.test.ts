import { describe, expect, it } from "vitest";
import { BRANIN, branin, HARTMANN6, hartmann6 } from "../../lib/bench/samplers/objectives";
import { quantile, type SamplerBenchReport, samplerRow, targetLines } from "../../lib/bench/samplers/report";
import { spaceOf } from "../../lib/bench/samplers/simulate";
import { encodeParams, encodingOf } from "../../lib/search/samplers/encoding";

describe("sampler benchmark objectives", () => {
  it("have their published minima", () => {
    for (const x1 of [-Math.PI, Math.PI, 9.42478])
      expect(branin(x1, x1 === -Math.PI ? 12.275 : x1 === Math.PI ? 2.275 : 2.475)).toBeCloseTo(0.397887, 5);
    expect(hartmann6([0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])).toBeCloseTo(-3.32237, 4);
  });

  it("reach near the minima through their log, int and choice entries, which are valid points of their spaces", () => {
    const b = { x1: 31, x2: 3.275, offset: "none" };
    const h = { x1: 0.20169, x2: 0.200011, x3: 10, x4: 0.3, x5: 0.311652, x6: 0.6573 };
    expect(BRANIN.evaluate(b)).toBeLessThan(0.41);
    expect(HARTMANN6.evaluate(h)).toBeLessThan(-3.2);
    expect(encodeParams(encodingOf(spaceOf(BRANIN)), b)).toBeDefined();
    expect(encodeParams(encodingOf(spaceOf(HARTMANN6)), h)).toBeDefined();
    expect(BRANIN.evaluate({ ...b, offset: "large" })).toBeCloseTo(BRANIN.evaluate(b) + 10, 10);
  });
});

describe("sampler benchmark report", () => {
  it("takes quantiles as numpy does (linear interpolation)", () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it("checks the targets on the measured rows, and says when one is missed", () => {
    const report: SamplerBenchReport = {
      trials: 50,
      seeds: [0, 1, 2],
      environment: {},
      rows: [
        samplerRow("F", "tpe", [1, 2, 3], [0.001], 60),
        samplerRow("F", "optuna-tpe", [1, 1.5, 2], [0.01], null),
        samplerRow("F", "random", [3, 4, 5], [0.0001], null),
      ],
    };
    expect(targetLines(report).join("")).toBe(
      "F: tpe median 2.0000 vs optuna-tpe 1.5000: MISSED\nF: tpe median 2.0000 vs random 4.0000: met\nF: tpe suggestion at 1,000 trials 60.0 ms < 50 ms: MISSED\n",
    );
  });
});
