import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { lrFinderFigure } from "../../lib/figures/lr-finder";
import { createModel } from "../../lib/model/factory";
import { type LabeledImages, train } from "../../lib/train/fit";
import { findLearningRate, suggestRate } from "../../lib/train/lr-finder";
import { learningRateOf } from "../../lib/optimizers";
import { seededRandom } from "../../lib/train/shuffle";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { latestNativeCounters } from "../../lib/engine/native/step";
import { relativeError, skipWithoutAddon } from "../native";

/** n noisy 28x28 "images" in which class c lights up rows 2c..2c+2, so the loss falls within a few dozen steps. */
function synthetic(n: number, seed: number): LabeledImages {
  const random = seededRandom(seed);
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    y[i] = c;
    for (let j = 0; j < 784; j++) x[i * 784 + j] = 0.3 * random() + (Math.floor(j / 28 / 2) === c ? 0.7 : 0);
  }
  return { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
}

const data = synthetic(640, 3); // 40 batches of 16
const tiny = { hiddenUnits: [16], learningRate: 0.01, seed: 7 };
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("findLearningRate on 640 synthetic images, batch 16", () => {
  it("records one loss per batch at exponentially growing rates from minRate, and repeats exactly", async () => {
    const run = async () => {
      const model = createModel(tiny);
      const r = await findLearningRate(model, data, { batchSize: 16, minRate: 1e-4, maxRate: 1, stopFactor: Number.POSITIVE_INFINITY });
      model.dispose();
      return r;
    };
    const r = await run();
    expect(r.stoppedBy).toBe("end");
    expect(r.rates).toHaveLength(40);
    expect(r.losses).toHaveLength(40);
    expect(r.rates[0]).toBeCloseTo(1e-4, 12);
    expect(r.rates[39]).toBeCloseTo(1, 9);
    // Constant ratio between consecutive rates: (1 / 1e-4)^(1/39).
    for (let i = 1; i < 40; i++) expect(r.rates[i]! / r.rates[i - 1]!).toBeCloseTo(1e4 ** (1 / 39), 9);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    // The first batch's loss is that of the untrained model: about ln(10).
    expect(r.losses[0]).toBeGreaterThan(1.5);
    expect(r.losses[0]).toBeLessThan(3.5);
    expect(new Set(r.losses).size).toBeGreaterThan(30);
    expect(await run()).toEqual(r);
  });

  it("restores the weights, BN statistics, optimizer state and learning rate exactly: training afterwards equals training a fresh model", async () => {
    const config = { ...tiny, optimizer: "adam" as const, learningRate: 0.003, batchNorm: true, dropout: 0.1 };
    const fresh = createModel(config);
    const searched = createModel(config);
    const before = weightsOf(searched);
    const tensors = tf.memory().numTensors;
    await findLearningRate(searched, data, { batchSize: 16, maxRate: 10 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(weightsOf(searched)).toEqual(before);
    expect(learningRateOf(searched.optimizer)).toBe(0.003);
    const fit = { epochs: 1, batchSize: 32, seed: 1 };
    const h1 = await train(fresh, { train: data }, fit, { progress: "none" });
    const h2 = await train(searched, { train: data }, fit, { progress: "none" });
    expect(h2.history).toEqual(h1.history);
    expect(weightsOf(searched)).toEqual(weightsOf(fresh));
    fresh.dispose();
    searched.dispose();
  });

  it("stops once the smoothed loss passes stopFactor (3) x its best, and suggests a tenth of the rate at the lowest smoothed loss, within the range", async () => {
    const model = createModel(tiny);
    const r = await findLearningRate(model, data, { batchSize: 16, minRate: 1e-3, maxRate: 1e4, stopFactor: 3 });
    model.dispose();
    expect(["exploded", "diverged"]).toContain(r.stoppedBy);
    expect(r.rates.length).toBeLessThan(40);
    const best = Math.min(...r.smoothed);
    if (r.stoppedBy === "exploded") expect(r.smoothed.at(-1)).toBeGreaterThan(3 * best);
    expect(r.smoothed.slice(0, -1).every((s) => s <= 3 * best)).toBe(true);
    // The curve dips before it explodes: the lowest loss is well below the first.
    expect(best).toBeLessThan(0.9 * r.smoothed[0]!);
    expect(r.minimumRate).toBe(r.rates[r.smoothed.indexOf(best)]);
    expect(r.suggestion).toBeCloseTo(Math.max(1e-3, r.minimumRate / 10), 15);
    expect(r.suggestion).toBeGreaterThanOrEqual(1e-3);
    expect(r.suggestion).toBeLessThanOrEqual(1e4);
  });

  it("refuses an uncompiled model and a range that grows nowhere, naming the value", async () => {
    const model = createModel(tiny);
    await expect(findLearningRate(model, data, { minRate: 0.1, maxRate: 0.1 })).rejects.toThrow(
      /maxRate .*above minRate \(0\.1\), got 0\.1/,
    );
    await expect(findLearningRate(model, data, { batchSize: 10_000 })).rejects.toThrow(/batchSize .* 640 training images, got 10000/);
    const bare = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 10 })] });
    await expect(findLearningRate(bare, data)).rejects.toThrow(/is not compiled/);
    model.dispose();
    bare.dispose();
  });
});

describe.skipIf(skipWithoutAddon(loadAddon()))("findLearningRate on the native backend", () => {
  const search = async (backend: "native" | "cpu", config: Parameters<typeof createModel>[0]) => {
    await initBackend(backend);
    const model = createModel(config);
    const before = weightsOf(model);
    const r = await findLearningRate(model, data, { batchSize: 16, minRate: 1e-4, maxRate: 1, stopFactor: Number.POSITIVE_INFINITY });
    const after = weightsOf(model);
    const rate = learningRateOf(model.optimizer);
    const fusedSteps = latestNativeCounters()?.steps ?? 0;
    model.dispose();
    await tf.setBackend("cpu");
    return { r, before, after, rate, fusedSteps };
  };

  it("takes the fused step as fit does: the same losses as the tfjs step to float32 round-off, the model restored exactly", async () => {
    // No dropout: the two steps draw their masks from different generators.
    const config = { ...tiny, optimizer: "adam" as const, learningRate: 0.003, batchNorm: true };
    const native = await search("native", config);
    // Every batch went through the fused step (the native backend's own tfjs kernels are far slower).
    expect(native.fusedSteps).toBe(40);
    const tfjs = await search("cpu", config);
    expect(native.r.rates).toEqual(tfjs.r.rates);
    expect(relativeError(native.r.losses, tfjs.r.losses)).toBeLessThan(1e-4);
    expect(native.after).toEqual(native.before);
    expect(native.rate).toBe(0.003);
  });
});

describe("suggestRate", () => {
  it("takes a tenth of the rate at the lowest loss, never below the floor", () => {
    expect(suggestRate([1e-3, 1e-2, 1e-1, 1], [2, 1, 0.5, 3])).toEqual({ suggestion: 0.1 / 10, minimumRate: 0.1 });
    expect(suggestRate([1e-3, 1e-2], [0.5, 3], 1e-3)).toEqual({ suggestion: 1e-3, minimumRate: 1e-3 });
    expect(() => suggestRate([1], [])).toThrow(/as many losses as rates/);
  });
});

describe("lrFinderFigure", () => {
  it("draws the losses against the rates on a log x-axis with the suggestion as a vertical line", () => {
    const fig = lrFinderFigure({ rates: [1e-4, 1e-3, 1e-2], losses: [2.3, 1.5, 4], smoothed: [2.3, 2, 2.5], suggestion: 1e-3 });
    expect((fig.layout.xaxis as { type: string }).type).toBe("log");
    expect(fig.data).toHaveLength(3);
    const line = fig.data[2] as { x: number[]; name: string };
    expect(line.x).toEqual([1e-3, 1e-3]);
    expect(line.name).toMatch(/suggested 0\.001/);
    expect((fig.layout.yaxis as { range: number[] }).range[1]).toBeCloseTo(2.75, 9);
  });

  it("refuses losses that do not match the rates", () => {
    expect(() => lrFinderFigure({ rates: [1, 2], losses: [1], suggestion: 0.1 })).toThrow(/as many losses \(1\).* as rates \(2\)/);
  });
});
