import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { planDenseStack } from "../../lib/model/dense-stack";
import { denseStack, denseStep } from "../../lib/train/dense-step";
import { seededRandom } from "../../lib/train/shuffle";
import { fusedStep, relativeError, skipWithoutAddon } from "../native";

/*
 * A Dropout before a BatchNormalization (Dense(selu) -> Dropout -> BN, and Dense(linear) -> Dropout -> BN ->
 * Activation), in both fast steps against the plain tfjs computation on cpu: the same layers applied one by
 * one with training on, the step's own dropout mask multiplied in between, so the BN's batch statistics are
 * those of the dropped values. Loss, every gradient, weights and moving statistics after one step.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);
const ROWS = 12;
const INPUT = 6;
const UNITS = 8;
const CLASSES = 4;
const RATE = 0.25;

type Form = "after" | "before";

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const x = uniform(ROWS * INPUT, 7, -2, 2);
const y = Float32Array.from(uniform(ROWS, 8, 0, CLASSES), Math.floor);

/** after: Dense(selu) -> Dropout -> BN -> Dense(softmax); before: Dense(linear) -> Dropout -> BN -> Activation(elu) -> Dense(softmax). */
function buildModel(form: Form, withDropout: boolean): tf.Sequential {
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      inputShape: [INPUT],
      units: UNITS,
      activation: form === "after" ? "selu" : "linear",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 2 }),
    }),
    ...(withDropout ? [tf.layers.dropout({ rate: RATE })] : []),
    tf.layers.batchNormalization({
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 3 }),
      betaInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 4 }),
      movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 5 }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 6 }),
    }),
    ...(form === "before" ? [tf.layers.activation({ activation: "elu" })] : []),
    tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
  ];
  const model = tf.sequential({ layers });
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.1) });
  return model;
}

interface Result {
  loss: number;
  grads: Float32Array[];
  /** model.getWeights() after the step: trainable ones and the moving statistics. */
  weights: Float32Array[];
}

/** The plain tfjs step: the model without its Dropout, its layers applied one by one, `mask` after the first Dense. */
function reference(form: Form, mask: Float32Array): Result {
  return referenceStep(buildModel(form, false), mask, 0);
}

/** One tfjs step of `model` (disposed): its layers applied one by one in training mode, `mask` multiplied in after layer `maskAfter`. */
function referenceStep(model: tf.LayersModel, mask: Float32Array | null, maskAfter: number): Result {
  const lossFn = (model as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model.lossFunctions[0]!;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const result = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      let h: tf.Tensor = tf.tensor2d(x, [ROWS, INPUT]);
      model.layers.forEach((layer, i) => {
        h = layer.apply(h, { training: true }) as tf.Tensor;
        if (mask && i === maskAfter) h = tf.mul(h, tf.tensor(mask, h.shape));
      });
      return tf.mean(lossFn(tf.tensor1d(y), h)) as tf.Scalar;
    }, vars);
    const out = { loss: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array) };
    model.optimizer.applyGradients(grads);
    return out;
  });
  const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  model.dispose();
  return { ...result, weights };
}

function expectSame(got: Result, want: Result, tolerance = 2e-5) {
  expect(Math.abs(got.loss - want.loss)).toBeLessThan(tolerance);
  expect(got.grads.length).toBe(want.grads.length);
  got.grads.forEach((g, i) => expect(relativeError(g, want.grads[i]!), `gradient ${i}`).toBeLessThan(tolerance));
  expect(got.weights.length).toBe(want.weights.length);
  got.weights.forEach((w, i) => expect(relativeError(w, want.weights[i]!), `weight ${i}`).toBeLessThan(tolerance));
}

// The native step's dropout stream (native/src/trainer.cc): SplittableRandom's γ and splitmix64's finalizer.
const GAMMA = 0x9e3779b97f4a7c15n;
const M64 = (1n << 64n) - 1n;
function mix64(v: bigint): bigint {
  let z = v & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/** The first mask a freshly seeded native trainer draws for `size` values at `rate`. */
function nativeMask(seed: number, size: number, rate: number): Float32Array {
  const key = mix64(BigInt(seed) + GAMMA);
  const r = Math.fround(rate);
  const threshold = Math.ceil(r * 16777216);
  const scale = Math.fround(1 / (1 - r));
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const z = mix64(key + BigInt(i / 2 + 1) * GAMMA);
    mask[i] = Number((z & 0xffffffffn) >> 8n) >= threshold ? scale : 0;
    if (i + 1 < size) mask[i + 1] = Number(z >> 40n) >= threshold ? scale : 0;
  }
  return mask;
}

describe("Dropout before BatchNormalization is planned", () => {
  it.each(["after", "before"] as const)("as the BN's dropout (%s the activation)", (form) => {
    const model = buildModel(form, true);
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    expect(plan.blocks.map((b) => [b.dropout, b.batchNorm?.position, b.batchNorm?.dropout])).toEqual([
      [0, form, RATE],
      [0, undefined, undefined],
    ]);
    model.dispose();
  });
});

describe("the written-out step with a Dropout before BatchNormalization, against tfjs", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it.each(["after", "before"] as const)("Dropout -> BN %s the activation", (form) => {
    const model = buildModel(form, true);
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    const step = denseStep(denseStack(plan), model.optimizer, { seed: 11 });
    // The step's stream: u >= rate kept and scaled by 1/(1 - rate).
    const random = seededRandom(11 + 0x5eed);
    const mask = Float32Array.from({ length: ROWS * UNITS }, () => (random() >= RATE ? 1 / (1 - RATE) : 0));
    expect(mask.some((v) => v === 0)).toBe(true);
    const want = reference(form, mask);
    // The written-out step reports no gradients: compare the loss and the weights it leaves.
    const loss = step(tf.tensor2d(x, [ROWS, INPUT]), y).loss;
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.dispose();
    expectSame({ loss, grads: want.grads, weights }, want);
    // Without the mask the result differs: the dropout really sits before the statistics.
    const unmasked = reference(form, new Float32Array(ROWS * UNITS).fill(1));
    expect(relativeError(weights[2]!, unmasked.weights[2]!)).toBeGreaterThan(1e-4);
  });
});

describe.skipIf(skipNative)(
  `the native step with a Dropout before BatchNormalization, against tfjs${load.addon ? "" : ` (skipped: ${load.reason})`}`,
  () => {
    beforeAll(() => {
      expect(registerNativeBackend()).toBeUndefined();
    });
    afterAll(async () => {
      await tf.setBackend("cpu");
    });

    it.each(["after", "before"] as const)(
      "Dropout -> BN %s the activation: loss, every gradient, weights, moving statistics",
      async (form) => {
        await tf.setBackend(NATIVE_BACKEND);
        const model = buildModel(form, true);
        const step = fusedStep(model, { keepGradients: true, seed: 5 });
        const loss = step(x, y).loss;
        const grads = [...step.gradients().values()];
        const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
        model.dispose();
        await tf.setBackend("cpu");
        const mask = nativeMask(5, ROWS * UNITS, RATE);
        expect(mask.filter((v) => v === 0).length).toBeGreaterThan(ROWS * UNITS * 0.1);
        expectSame({ loss, grads, weights }, reference(form, mask));
      },
    );
  },
);

/** Géron's chapter 11 BN model in small: BN on the input, then Dense(relu) (-> BN) -> Dense(softmax); `dropout` puts a Dropout between the input BN and the first Dense. */
function inputBnModel(withDropout: boolean, hiddenBn: boolean): tf.Sequential {
  const bn = (seed: number, inputShape?: number[]) =>
    tf.layers.batchNormalization({
      ...(inputShape && { inputShape }),
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed }),
      betaInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: seed + 1 }),
      movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed + 2 }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: seed + 3 }),
    });
  const model = tf.sequential({
    layers: [
      bn(10, [INPUT]),
      ...(withDropout ? [tf.layers.dropout({ rate: RATE })] : []),
      tf.layers.dense({ units: UNITS, activation: "elu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      ...(hiddenBn ? [bn(20)] : []),
      tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
    ],
  });
  // SGD: the weights after one step carry the gradients themselves (Adam's first step is about lr·sign(g)).
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.1) });
  return model;
}

describe("BatchNormalization on the input (Flatten -> BN -> Dense), against tfjs", () => {
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("is planned with its gamma and beta first among the weights", () => {
    const model = inputBnModel(true, true);
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    expect(plan.inputBatchNorm).not.toBeNull();
    expect(plan.blocks[0]!.dropout).toBe(RATE);
    expect(plan.weights.map((w) => (w.read() as tf.Variable).name)).toEqual(
      model.trainableWeights.map((w) => (w.read() as tf.Variable).name),
    );
    expect(plan.buffers).toHaveLength(4);
    model.dispose();
  });

  it.each([
    ["alone", false],
    ["with a BN on the hidden layer too", true],
  ] as const)("the written-out step: %s", async (_, hiddenBn) => {
    await tf.setBackend("cpu");
    const model = inputBnModel(false, hiddenBn);
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    const loss = denseStep(denseStack(plan), model.optimizer, { seed: 11 })(tf.tensor2d(x, [ROWS, INPUT]), y).loss;
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.dispose();
    const want = referenceStep(inputBnModel(false, hiddenBn), null, 0);
    expectSame({ loss, grads: want.grads, weights }, want);
  });

  it("the written-out step: with a Dropout after the input BN", async () => {
    await tf.setBackend("cpu");
    const model = inputBnModel(true, false);
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    const loss = denseStep(denseStack(plan), model.optimizer, { seed: 11 })(tf.tensor2d(x, [ROWS, INPUT]), y).loss;
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.dispose();
    const random = seededRandom(11 + 0x5eed);
    const mask = Float32Array.from({ length: ROWS * INPUT }, () => (random() >= RATE ? 1 / (1 - RATE) : 0));
    const want = referenceStep(inputBnModel(false, false), mask, 0);
    expectSame({ loss, grads: want.grads, weights }, want);
  });

  it.skipIf(skipNative).each([
    ["alone", false, false],
    ["with a BN on the hidden layer too", false, true],
    ["with a Dropout after the input BN", true, false],
  ] as const)("the native step: %s (loss, every gradient, weights, moving statistics)", async (_, withDropout, hiddenBn) => {
    expect(registerNativeBackend()).toBeUndefined();
    await tf.setBackend(NATIVE_BACKEND);
    const model = inputBnModel(withDropout, hiddenBn);
    const step = fusedStep(model, { keepGradients: true, seed: 5 });
    const loss = step(x, y).loss;
    const grads = [...step.gradients().values()];
    const weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.dispose();
    await tf.setBackend("cpu");
    const mask = withDropout ? nativeMask(5, ROWS * INPUT, RATE) : null;
    expectSame({ loss, grads, weights }, referenceStep(inputBnModel(false, hiddenBn), mask, 0));
  });
});
