import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { createModel } from "../../lib/model/factory";
import { fit as modelFit } from "../../lib/notebook/session";
import { learningRateOf } from "../../lib/optimizers";
import { seededRandom } from "../../lib/train/shuffle";

// What a notebook does with chapter 11's fields: overrides -> resolveConfig -> createModel(config) -> fit.
const images = (n: number, seed: number) => {
  const random = seededRandom(seed);
  const x = new Float32Array(n * 784).map(() => random());
  const y = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
};

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("the chapter 10-11 config fields from a notebook", () => {
  it("adam + dropout 0.2 + batch norm + an exponential schedule train one epoch through fit, recording learning_rate", async () => {
    const config = resolveConfig({
      optimizer: "adam",
      dropout: 0.2,
      batchNorm: true,
      lrSchedule: { type: "exponential", decaySteps: 100, decayRate: 0.9 },
      hiddenUnits: [8],
      learningRate: 0.001,
    });
    const model = createModel(config);
    expect(model.optimizer.getClassName()).toBe("Adam");
    expect(model.layers.map((l) => l.getClassName())).toEqual(["Flatten", "Dense", "BatchNormalization", "Dropout", "Dense"]);
    const train = images(320, 1);
    const valid = images(64, 2);
    const history = await modelFit(model, train.x, train.y, {
      epochs: 1,
      batchSize: 32,
      validationData: [valid.x, valid.y],
      lrSchedule: config.lrSchedule,
      progress: "none",
      curves: false,
    });
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]);
    // 10 steps of ExponentialDecay: the last step (iteration 9) runs at 0.001 * 0.9^(9/100).
    expect(history.history.learning_rate![0]).toBeCloseTo(0.001 * 0.9 ** (9 / 100), 9);
    expect(learningRateOf(model.optimizer)).toBeCloseTo(0.001 * 0.9 ** (9 / 100), 9);
    expect(Number.isFinite(history.history.val_loss![0])).toBe(true);
    model.dispose();
  });

  it("without a schedule the history has no learning_rate, as the tutorial's", async () => {
    const model = createModel(resolveConfig({ hiddenUnits: [8] }));
    const train = images(64, 3);
    const history = await modelFit(model, train.x, train.y, { epochs: 1, progress: "none", curves: false });
    expect(Object.keys(history.history).sort()).toEqual(["accuracy", "loss"]);
    model.dispose();
  });
});
