import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { HyperParameters } from "../../lib/search/hypermodel/hyperparameters";
import { HyperTuner } from "../../lib/search/hypermodel/hyper-tuner";
import { compileModel } from "../../lib/model/factory";
import type { LabeledImages } from "../../lib/train/fit";
import { seededRandom } from "../../lib/train/shuffle";

/** n noisy 28x28 "images" in which class c lights up rows 2c..2c+2: a tiny model learns them in an epoch or two. */
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

/** Keras Tuner's build_model(hp) pattern: a layer count, a width per layer (a loop), dropout's rate only if dropout. */
function buildModel(hp: HyperParameters): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28] }));
  for (let i = 0; i < hp.Int("layers", 0, 2); i++) {
    model.add(tf.layers.dense({ units: hp.Int(`units_${i}`, 4, 16, { step: 4 }), activation: "relu" }));
  }
  if (hp.Boolean("dropout")) model.add(tf.layers.dropout({ rate: hp.Float("rate", 0.1, 0.5, { step: 0.1 }) }));
  model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  compileModel(model, {
    optimizer: hp.Choice("optimizer", ["sgd", "adam"] as const),
    learningRate: hp.Float("lr", 1e-3, 1e-1, { sampling: "log" }),
  });
  return model;
}

const data = { train: synthetic(200, 1), valid: synthetic(50, 2) };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("HyperParameters (Keras Tuner's hp)", () => {
  it("returns drawn values, defaults for what was not drawn, and refuses a parameter declared twice differently", () => {
    const hp = new HyperParameters({ units: 12 });
    expect(hp.Int("units", 4, 16, { step: 4 })).toBe(12);
    expect(hp.Float("lr", 1e-3, 1e-1, { sampling: "log", default: 0.01 })).toBe(0.01);
    expect(hp.Choice("optimizer", ["sgd", "adam"] as const)).toBe("sgd");
    expect(hp.Boolean("dropout")).toBe(false);
    expect(hp.values).toEqual({ units: 12, lr: 0.01, optimizer: "sgd", dropout: false });
    expect(hp.get("lr")).toBe(0.01);
    expect(() => hp.Int("units", 4, 32)).toThrow(/^hp "units" is declared twice with different ranges/);
    expect(() => new HyperParameters().Int("n", 5, 1)).toThrow(/^n: empty range, min 5 is above max 1$/);
  });
});

describe("HyperTuner: build_model(hp) through the study's samplers and pruners", () => {
  it("grows the space through conditional hyperparameters, prunes, ranks, and hands back the best values and models", async () => {
    const lines: string[] = [];
    const tuner = new HyperTuner(buildModel, {
      maxTrials: 8,
      maxEpochs: 3,
      pruner: "asha",
      seed: 5,
      batchSize: 20,
      log: (s) => lines.push(s),
    });
    await tuner.search(data);
    const trials = tuner.trials;
    expect(trials).toHaveLength(8);
    // Trial 0 met only the unconditional parameters, with their defaults (0 layers, no dropout).
    expect(trials[0]!.params).toEqual({ layers: 0, dropout: false, optimizer: "sgd", lr: 1e-3 });
    // Later trials drew the conditional ones where their branch ran, and only there.
    const used = trials.map((t) => t.params);
    expect(used.some((p) => "units_1" in p)).toBe(true);
    expect(used.some((p) => "rate" in p)).toBe(true);
    for (const p of used) {
      expect("units_1" in p).toBe((p.layers as number) >= 2);
      expect("rate" in p).toBe(p.dropout);
    }
    // ASHA judged every trial at epoch 1 against the others: some stopped there, and are kept as pruned.
    expect(trials.filter((t) => t.status === "pruned").every((t) => t.history.length === 1)).toBe(true);
    expect(trials.some((t) => t.status === "pruned")).toBe(true);
    expect(trials.every((t) => (t.seconds ?? 0) > 0)).toBe(true);

    const [best] = tuner.getBestHyperparameters(1);
    const bestScore = Math.max(...trials.flatMap((t) => t.history));
    const bestTrial = trials.find((t) => t.history.includes(bestScore))!;
    expect(best!.values).toEqual(bestTrial.params);
    const [model] = tuner.getBestModels(1);
    // The model is the best trial's at its best epoch: it scores that trial's best value on the validation set.
    const x = tf.tensor(data.valid.x.data, [50, 28, 28]);
    const predicted = (model!.predict(x) as tf.Tensor).argMax(-1).dataSync();
    const accuracy = Array.from(predicted).filter((c, i) => c === data.valid.y.data[i]).length / 50;
    expect(accuracy).toBeCloseTo(bestScore, 5);
    x.dispose();

    const summary = tuner.resultsSummary(2);
    expect(summary).toMatch(
      /^Results summary\nShowing 2 best trials\nObjective\(name="val_accuracy", direction="max"\)\n\nTrial trial-\d{3} summary/,
    );
    expect(summary).toContain(`Score: val_accuracy ${bestScore.toFixed(4)}`);
    expect(() => tuner.getBestModels(4)).toThrow(/only the best 3 models are kept; pass keepModels: 4/);
  }, 60_000);
});
