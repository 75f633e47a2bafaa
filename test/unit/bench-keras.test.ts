// bench --fidelity's statistics and bench --keras-target's verdict, on synthetic numbers.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerBench } from "../../lib/cli/commands/bench";
import { agreement, summarize } from "../../lib/bench/fidelity-stats";
import { KERAS_TARGET, kerasTargetLines, kerasTargetVerdict } from "../../lib/bench/keras-target";
import type { BenchResult } from "../../lib/bench/report";

describe("fidelity statistics", () => {
  it("summarize gives the mean and the sample (n - 1) standard deviation", () => {
    const s = summarize([0.88, 0.89, 0.9, 0.87, 0.86]);
    expect(s.n).toBe(5);
    expect(s.mean).toBeCloseTo(0.88, 12);
    // Σ(x - 0.88)² = 0.001, / 4 = 0.00025.
    expect(s.std).toBeCloseTo(Math.sqrt(0.00025), 12);
    expect(summarize([0.5]).std).toBe(0);
  });

  it("summarize refuses no values and non-finite ones", () => {
    expect(() => summarize([])).toThrow(/no values/);
    expect(() => summarize([0.8, Number.NaN])).toThrow(/every value must be finite/);
  });

  it("two engines whose means differ by less than twice the pooled std agree; by more, they differ", () => {
    const ours = summarize([0.885, 0.889, 0.887, 0.884, 0.89]);
    const close = summarize([0.886, 0.883, 0.888, 0.889, 0.885]);
    const a = agreement(ours, close);
    expect(a.agree).toBe(true);
    expect(a.pooledStd).toBeCloseTo(Math.sqrt((ours.std ** 2 + close.std ** 2) / 2), 12);
    const far = summarize([0.87, 0.872, 0.869, 0.871, 0.873]);
    const b = agreement(ours, far);
    expect(b.difference).toBeCloseTo(ours.mean - far.mean, 12);
    expect(Math.abs(b.difference)).toBeGreaterThan(2 * b.pooledStd);
    expect(b.agree).toBe(false);
  });

  it("Welch's t and degrees of freedom match a hand computation", () => {
    // a: mean 2, s² 1 (n 3); b: mean 0, s² 4 (n 5). SE² = 1/3 + 4/5 = 17/15, t = 2/√(17/15);
    // df = (17/15)² / ((1/3)²/2 + (4/5)²/4) = 1.28444 / 0.21556 = 5.9588.
    const a = summarize([1, 2, 3]);
    const b = summarize([-2, -2, 0, 2, 2]);
    expect(b.std ** 2).toBeCloseTo(4, 12);
    const w = agreement(a, b);
    expect(w.welchT).toBeCloseTo(2 / Math.sqrt(17 / 15), 10);
    expect(w.welchDf).toBeCloseTo((17 / 15) ** 2 / (1 / 18 + 0.16), 10);
  });

  it("no spread on either side: agreement only when the means are equal, no Welch t", () => {
    expect(agreement(summarize([1, 1]), summarize([1, 1]))).toMatchObject({ agree: true, welchT: null, welchDf: null });
    expect(agreement(summarize([1, 1]), summarize([2, 2])).agree).toBe(false);
  });
});

const row = (backend: BenchResult["backend"], seconds: number) => ({ backend, seconds_per_epoch: seconds }) as BenchResult;

describe("keras target verdict", () => {
  it("met at or below 0.25x Keras's seconds per epoch, not met above or without a Keras row", () => {
    expect(KERAS_TARGET).toBe(0.25);
    const met = kerasTargetVerdict("tutorial", "native", { results: [row("native", 0.8), row("pytorch", 2), row("keras", 3.2)] });
    expect(met).toMatchObject({ ratio: 0.25, met: true, engineSeconds: 0.8, kerasSeconds: 3.2 });
    const slow = kerasTargetVerdict("adam", "native", { results: [row("native", 1), row("keras", 3.2)] });
    expect(slow.met).toBe(false);
    const none = kerasTargetVerdict("adam", "native", { results: [row("native", 1)] });
    expect(none).toMatchObject({ ratio: null, met: false });
    const lines = kerasTargetLines({ verdicts: [met, slow, none], met: false });
    expect(lines).toEqual([
      "tutorial: native 0.80 s/epoch = 0.25x Keras's 3.20: met",
      "adam: native 1.00 s/epoch = 0.31x Keras's 3.20: not met",
      "adam: native: no verdict (the Keras peer did not run): not met",
      "Keras target (default engine <= 0.25x Keras's s/epoch on both configs, one sitting): NOT MET",
    ]);
  });
});

describe("bench --fidelity and --keras-target flags", () => {
  const parse = (...args: string[]) => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    registerBench(program);
    return program.parseAsync(["node", "cli", "bench", ...args]);
  };

  it("refuse the flags they do not take, naming them, before anything runs", async () => {
    await expect(parse("--fidelity", "--set", "optimizer=adam")).rejects.toThrow(
      /--fidelity takes only --seeds, --epochs, --seed, --data-dir and --json; drop --set/,
    );
    await expect(parse("--keras-target", "--backends", "wasm")).rejects.toThrow(
      /--keras-target takes only --epochs, --batch-size, --seed, --data-dir and --json; drop --backends/,
    );
    // It used to ignore --repeats silently: every mode now refuses what it does not take, from one table.
    await expect(parse("--keras-target", "--repeats", "3")).rejects.toThrow(/--keras-target takes only .*; drop --repeats/);
    await expect(parse("--seeds", "3")).rejects.toThrow(/--seeds goes with --samplers or --fidelity/);
    await expect(parse("--fidelity", "--seeds", "1")).rejects.toThrow(/--seeds expects at least 2 seeds with --fidelity .*got 1/);
  });
});
