import { describe, expect, it } from "vitest";
import { BRANIN, branin, HARTMANN6, hartmann6 } from "../../lib/bench/samplers/objectives";
import { quantile, type SamplerBenchReport, samplerRow, targetLines } from "../../lib/bench/samplers/report";
import { spaceOf } from "../../lib/bench/samplers/simulate";
import { encodeParams, encodingOf } from "../../lib/search/samplers/encoding";
import { latinHypercubeParams } from "../../lib/search/samplers/latin-hypercube";
import { benchMode } from "../../lib/cli/commands/bench";

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

describe("bench modes and their flags (one table)", () => {
  it("picks the mode its flag names, with the flags that mode takes", () => {
    expect(benchMode([])).toBe("epochs");
    expect(benchMode(["epochs", "backends", "set"])).toBe("epochs");
    expect(benchMode(["samplers", "seeds", "trials", "objectives", "json"])).toBe("samplers");
    expect(benchMode(["latency", "repeats"])).toBe("latency");
    expect(benchMode(["kerasTarget", "epochs", "batchSize"])).toBe("kerasTarget");
  });

  it("refuses a flag its mode does not take, naming the mode's flags and the one to drop", () => {
    expect(() => benchMode(["samplers", "epochs"])).toThrow(
      /^--samplers takes only --seeds, --trials, --objectives, --data-dir and --json; drop --epochs$/,
    );
    expect(() => benchMode(["kerasTarget", "repeats"])).toThrow(/^--keras-target takes only .*; drop --repeats$/);
    expect(() => benchMode(["samplers", "latency"])).toThrow(/--samplers takes only .*; drop --latency$/);
  });

  it("says which modes take a flag given without one", () => {
    expect(() => benchMode(["trials"])).toThrow(/^--trials goes with --samplers$/);
    expect(() => benchMode(["seeds"])).toThrow(/^--seeds goes with --samplers or --fidelity$/);
    expect(() => benchMode(["objectives"])).toThrow(/^--objectives goes with --samplers$/);
  });
});

describe("the TPE's Latin hypercube startup", () => {
  it("puts the n startup rows in n different slices of every numeric axis, and spreads the choices", () => {
    const enc = encodingOf(spaceOf(HARTMANN6));
    const rows = Array.from({ length: 11 }, (_, i) => encodeParams(enc, latinHypercubeParams(enc, 5, i, 11)!)!);
    enc.dims.forEach((d, axis) => {
      if (d.kind === "categorical") {
        // Eleven values, eleven rows: each value once.
        expect(new Set(rows.map((r) => r[axis])).size).toBe(11);
        return;
      }
      const slices = rows.map((r) => Math.min(10, Math.floor(((r[axis]! - d.low) / (d.high - d.low)) * 11)));
      // x3 is an int axis of 21 values: rounding may move a row into the next slice, so at least 10 of 11 there.
      expect(new Set(slices).size).toBeGreaterThanOrEqual(d.step > 0 ? 10 : 11);
    });
    expect(latinHypercubeParams(enc, 5, 11, 11)).toBeUndefined();
    expect(latinHypercubeParams(enc, 5, 3, 11)).toEqual(latinHypercubeParams(enc, 5, 3, 11));
    expect(latinHypercubeParams(enc, 6, 3, 11)).not.toEqual(latinHypercubeParams(enc, 5, 3, 11));
  });
});
