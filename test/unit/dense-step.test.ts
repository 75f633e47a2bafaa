import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type ModelConfig, createModel } from "../../lib/model/factory";
import { sparseCrossEntropy, denseStack, denseStep, genericStep } from "../../lib/train/step";
import { seededRandom } from "../../lib/train/shuffle";
import { OPTIMIZER_NAMES } from "../../lib/optimizers";
import { planDenseStack } from "../../lib/model/dense-stack";

/** The written-out step's reading of `model`, or null when the fast steps do not cover it. */
function writtenOut(model: tf.LayersModel) {
  const plan = planDenseStack(model);
  return typeof plan === "string" ? null : denseStack(plan);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const BATCH = 12;

function batch(seed: number): { xb: tf.Tensor; labels: Float32Array } {
  const random = seededRandom(seed);
  const x = Float32Array.from({ length: BATCH * 28 * 28 }, () => random());
  const labels = Float32Array.from({ length: BATCH }, () => Math.floor(random() * 10));
  return { xb: tf.tensor(x, [BATCH, 28, 28]), labels };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

function expectClose(a: number[][], b: number[][], digits = 5) {
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => {
    const worst = Math.max(...w.map((v, j) => Math.abs(v - b[i]![j]!) / Math.max(1, Math.abs(b[i]![j]!))));
    expect(worst, `weight ${i}`).toBeLessThan(10 ** -digits);
  });
}

/** Two identical models, three steps each on the same batches: the written-out step and the generic tf.variableGrads one. */
function bothPaths(config: Partial<ModelConfig>, clip: { clipNorm?: number; clipValue?: number } = {}) {
  const make = () => createModel({ hiddenUnits: [8, 6], learningRate: 0.05, seed: 3, ...config });
  const [fast, slow] = [make(), make()];
  const initial = weightsOf(fast);
  const stack = writtenOut(fast);
  expect(stack, "covered by the written-out step").not.toBeNull();
  const ours = denseStep(stack!, fast.optimizer, clip);
  const theirs = genericStep(slow, slow.optimizer, clip);
  const losses: [number, number][] = [];
  let tensors = 0;
  for (let s = 0; s < 3; s++) {
    const { xb, labels } = batch(s + 1);
    const a = ours(xb, labels);
    const b = theirs(xb, labels);
    expect(a.correct).toBe(b.correct);
    losses.push([a.loss, b.loss]);
    xb.dispose();
    if (s === 1) tensors = tf.memory().numTensors;
  }
  const result = { losses, fast: weightsOf(fast), slow: weightsOf(slow), initial, tensorsAfter: [tensors, tf.memory().numTensors] };
  fast.dispose();
  slow.dispose();
  return result;
}

function expectSamePath(r: ReturnType<typeof bothPaths>, digits = 5) {
  for (const [a, b] of r.losses) expect(Math.abs(a - b)).toBeLessThan(10 ** -digits);
  expectClose(r.fast, r.slow, digits);
  // The steps really moved the weights (an update of zero would also "match").
  expect(r.fast[0]!.some((v, j) => Math.abs(v - r.initial[0]![j]!) > 1e-5)).toBe(true);
  // A step leaves no tensors behind.
  expect(r.tensorsAfter[1]).toBe(r.tensorsAfter[0]);
}

describe("the written-out step against tf.variableGrads", () => {
  it.each(["relu", "elu", "selu", "leaky_relu", "gelu", "swish", "tanh", "sigmoid"] as const)("activation %s", (activation) => {
    expectSamePath(bothPaths({ activation, initializer: "he_normal" }));
  });

  it.each([true, "before"] as const)("batchNorm %s: batch statistics, gamma/beta gradients, moving averages", (batchNorm) => {
    const r = bothPaths({ batchNorm, activation: "elu" });
    expectSamePath(r);
    // The moving mean moved from 0 (so the comparison above covers its update).
    expect(r.fast.some((w, i) => w.length === 8 && r.initial[i]!.every((v) => v === 0) && w.some((v) => v !== 0 && v !== 1))).toBe(true);
  });

  it("l2: the penalty in the loss and 2·l2·W in the gradient", () => {
    const r = bothPaths({ l2: 0.01 });
    expectSamePath(r);
    const plain = bothPaths({});
    expect(r.losses[0]![0] - plain.losses[0]![0]).toBeGreaterThan(1e-4);
  });

  it.each(OPTIMIZER_NAMES)("optimizer %s", (optimizer) => {
    expectSamePath(bothPaths({ optimizer, learningRate: 0.01, batchNorm: true }));
  });

  it.each([
    ["momentum", { momentum: 0.9 }],
    ["nesterov", { momentum: 0.9, nesterov: true }],
  ] as const)("sgd with %s", (_name, config) => {
    expectSamePath(bothPaths(config));
  });

  it.each([
    ["clipNorm", { clipNorm: 0.05 }],
    ["clipValue", { clipValue: 0.001 }],
  ] as const)("%s, with plain sgd and with adam", (_name, clip) => {
    expectSamePath(bothPaths({}, clip));
    expectSamePath(bothPaths({ optimizer: "adam", learningRate: 0.001 }, clip));
  });

  it("dropout: the same mask gives the same loss, gradients and weights as the plain tfjs computation", () => {
    const rate = 0.25;
    // Keras's Adam (ε on the raw √v) takes a step of about lr for a gradient as small as 1e-6, so the last bits in which
    // the two gradient computations differ show at lr scale: Keras's default rate keeps that under the 1e-5 compared.
    const model = createModel({ hiddenUnits: [8], seed: 3, dropout: rate, optimizer: "adam" });
    const reference = createModel({ hiddenUnits: [8], seed: 3, optimizer: "adam" });
    const stack = writtenOut(model)!;
    expect(stack.layers[0]!.after).toEqual([{ kind: "dropout", rate }]);
    const step = denseStep(stack, model.optimizer, { seed: 11 });
    // The mask the step draws: its own stream, u >= rate kept and scaled by 1/(1 - rate).
    const random = seededRandom(11 + 0x5eed);
    const { xb, labels } = batch(1);
    const mask = tf.tensor2d(
      Float32Array.from({ length: BATCH * 8 }, () => (random() >= rate ? 1 / (1 - rate) : 0)),
      [BATCH, 8],
    );
    const [k0, b0, k1, b1] = reference.trainableWeights.map((w) => w.read() as tf.Variable);
    const y = tf.tensor1d(labels);
    const { value, grads } = tf.variableGrads(() => {
      const h = tf.mul(tf.relu(tf.add(tf.matMul(tf.reshape(xb, [BATCH, -1]), k0!), b0!)), mask);
      return sparseCrossEntropy(y, tf.softmax(tf.add(tf.matMul(h, k1!), b1!)));
    }, [k0!, b0!, k1!, b1!]);
    reference.optimizer.applyGradients(grads);
    const ours = step(xb, labels);
    expect(Math.abs(ours.loss - value.dataSync()[0]!)).toBeLessThan(1e-5);
    expectClose(weightsOf(model), weightsOf(reference));
    expect(mask.dataSync().some((v) => v === 0)).toBe(true);
    tf.dispose([xb, mask, y, value, ...Object.values(grads)]);
    model.dispose();
    reference.dispose();
  });

  it("still refuses what it does not write out (an L1 regularizer, a frozen layer, a non-softmax output)", () => {
    const l1 = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, kernelRegularizer: tf.regularizers.l1({ l1: 0.1 }) }),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    const noSoftmax = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: "sigmoid" })] });
    for (const m of [l1, noSoftmax]) m.compile({ loss: "sparseCategoricalCrossentropy", optimizer: "sgd" });
    const frozen = createModel({ hiddenUnits: [4], learningRate: 0.01, seed: 1, batchNorm: true });
    frozen.getLayer("batch_normalization").trainable = false;
    frozen.compile({ loss: "sparseCategoricalCrossentropy", optimizer: "sgd" });
    for (const m of [l1, noSoftmax, frozen]) expect(writtenOut(m)).toBeNull();
    for (const m of [l1, noSoftmax, frozen]) m.dispose();
  });
});
