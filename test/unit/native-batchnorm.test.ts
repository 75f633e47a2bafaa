import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon, type TrainerLayerSpec } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { planDenseStack } from "../../lib/model/dense-stack";
import { fusedStep, relativeError, skipWithoutAddon } from "../native";
import { createModel } from "../../lib/model/factory";

/*
 * BatchNormalization in the fused native step against plain tfjs on the cpu backend (tf.variableGrads
 * through model.apply with training: true, whose BN layers move their moving statistics, then the
 * optimizer's applyGradients): loss, every gradient (gamma and beta included), weights (moving mean and
 * variance included) and optimizer slots, for BN after and before the activation. Then inference with
 * the moving statistics against model.predict/evaluate, the plan's covered and refused BN forms, and
 * seeded repeatability. Skipped only when the addon is not built.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);
const CLASSES = 4;
const ROWS = 13;
const INPUT = 6;

interface Case {
  hidden: number[];
  /** "after": Dense(activation) -> BN; "before": Dense(linear, no bias) -> BN -> Activation. */
  bn: "after" | "before";
  activation?: "relu" | "tanh" | "elu";
  /** The activation as a LeakyReLU layer instead (before: Dense -> BN -> LeakyReLU; after: Dense -> LeakyReLU -> BN). */
  leaky?: boolean;
  optimizer?: () => tf.Optimizer;
  center?: boolean;
  scale?: boolean;
  dropout?: number;
  /** Values per input row; default INPUT. 784 with 100 units reaches the addon's own GEMM kernels. */
  input?: number;
}

type Batch = { x: Float32Array; y: Float32Array };

function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

function batches(count: number, input = INPUT): Batch[] {
  return Array.from({ length: count }, (_, i) => ({
    x: uniform(ROWS * input, 100 + i, -2, 2),
    y: Float32Array.from(uniform(ROWS, 200 + i, 0, CLASSES), Math.floor),
  }));
}

function buildModel(c: Case, stand?: "reference"): tf.Sequential {
  const model = tf.sequential();
  const sizes = [...c.hidden, CLASSES];
  const activation = c.activation ?? "relu";
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    const separate = !last && (c.bn === "before" || c.leaky);
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [c.input ?? INPUT] } : {}),
        units,
        activation: last ? "softmax" : separate ? "linear" : activation,
        useBias: last || c.bn !== "before",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 20 + i }),
      }),
    );
    if (last) return;
    const act = () => model.add(c.leaky ? tf.layers.leakyReLU({ alpha: 0.2 }) : tf.layers.activation({ activation }));
    if (c.bn === "after" && c.leaky) act();
    // Non-default gamma, beta and moving statistics, so a misplaced or ignored one shows.
    // tfjs-layers 4.22 cannot train BN with center or scale false (its training branch reads gamma and
    // beta regardless), so the reference stands in a constant gamma = 1 or beta = 0 it does not train.
    const missingGamma = c.scale === false && stand === "reference";
    const missingBeta = c.center === false && stand === "reference";
    model.add(
      tf.layers.batchNormalization({
        center: stand === "reference" ? true : c.center,
        scale: stand === "reference" ? true : c.scale,
        gammaInitializer: missingGamma ? "ones" : tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 30 + i }),
        betaInitializer: missingBeta ? "zeros" : tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: 40 + i }),
        movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 50 + i }),
        movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 60 + i }),
      }),
    );
    if (c.bn === "before") act();
    if (c.dropout) model.add(tf.layers.dropout({ rate: c.dropout }));
  });
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: c.optimizer?.() ?? tf.train.sgd(0.1) });
  return model;
}

interface Trace {
  losses: number[];
  /** Gradients of the first step, in trainableWeights order. */
  grads: Float32Array[];
  /** model.getWeights(): trainable ones and the moving statistics. */
  weights: Float32Array[];
  slots: Float32Array[];
}

async function reference(c: Case, data: Batch[], steps: number): Promise<Trace> {
  await tf.setBackend("cpu");
  const model = buildModel(c, "reference");
  const lossFn = (model as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model.lossFunctions[0]!;
  const stands = (name: string) => (c.scale === false && /\/gamma$/.test(name)) || (c.center === false && /\/beta$/.test(name));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => !stands(v.name));
  const trace: Trace = { losses: [], grads: [], weights: [], slots: [] };
  for (let s = 0; s < steps; s++) {
    const { x, y } = data[s % data.length]!;
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [y.length, c.input ?? INPUT]);
      const yt = tf.tensor1d(y);
      const { value, grads } = tf.variableGrads(
        () => tf.mean(lossFn(yt, model.apply(xt, { training: true }) as tf.Tensor)) as tf.Scalar,
        vars,
      );
      if (s === 0) trace.grads = vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array);
      model.optimizer.applyGradients(grads);
      trace.losses.push(value.dataSync()[0]!);
    });
  }
  return finishTrace(model, trace, stands);
}

async function finishTrace(model: tf.LayersModel, trace: Trace, stands = (_: string) => false): Promise<Trace> {
  trace.weights = model.weights.filter((w) => !stands(w.name)).map((w) => w.read().dataSync().slice() as Float32Array);
  const [iter, ...slots] = await model.optimizer.getWeights();
  trace.slots = slots.map((w) => w.tensor.dataSync().slice() as Float32Array);
  iter!.tensor.dispose();
  model.optimizer.dispose();
  model.dispose();
  return trace;
}

async function native(c: Case, data: Batch[], steps: number): Promise<Trace> {
  await tf.setBackend(NATIVE_BACKEND);
  const model = buildModel(c);
  const step = fusedStep(model, { keepGradients: true });
  const trace: Trace = { losses: [], grads: [], weights: [], slots: [] };
  for (let s = 0; s < steps; s++) {
    const { x, y } = data[s % data.length]!;
    trace.losses.push(step(x, y).loss);
    if (s === 0) trace.grads = [...step.gradients().values()];
  }
  return finishTrace(model, trace);
}

async function compare(c: Case, steps: number, tolerance = 2e-5): Promise<void> {
  const data = batches(3, c.input);
  const got = await native(c, data, steps);
  const want = await reference(c, data, steps);
  got.losses.forEach((l, i) => expect(Math.abs(l - want.losses[i]!), `loss at step ${i}`).toBeLessThan(tolerance));
  expect(got.grads.length).toBe(want.grads.length);
  got.grads.forEach((g, i) => expect(relativeError(g, want.grads[i]!), `gradient ${i}`).toBeLessThan(tolerance));
  expect(got.weights.length).toBe(want.weights.length);
  got.weights.forEach((w, i) => expect(relativeError(w, want.weights[i]!), `weight ${i}`).toBeLessThan(tolerance));
  expect(got.slots.length).toBe(want.slots.length);
  got.slots.forEach((s, i) => expect(relativeError(s, want.slots[i]!), `optimizer slot ${i}`).toBeLessThan(tolerance));
}

const adam = () => tf.train.adam(0.01);

describe.skipIf(skipNative)(`native step with BatchNormalization vs tfjs on cpu${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(() => {
    expect(registerNativeBackend()).toBeUndefined();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  describe("training steps: loss, every gradient (gamma, beta), weights and moving statistics, optimizer slots", () => {
    it.each([
      ["after relu, SGD, one step", { hidden: [8, 5], bn: "after" }, 1],
      ["after relu, SGD, five steps", { hidden: [8, 5], bn: "after" }, 5],
      ["after relu, Adam, five steps", { hidden: [8, 5], bn: "after", optimizer: adam }, 5],
      ["before relu (Dense without bias), SGD, one step", { hidden: [8, 5], bn: "before" }, 1],
      ["before relu, SGD, five steps", { hidden: [8, 5], bn: "before" }, 5],
      ["before relu, Adam, five steps", { hidden: [8, 5], bn: "before", optimizer: adam }, 5],
      [
        "before tanh, momentum 0.9, five steps",
        { hidden: [7], bn: "before", activation: "tanh", optimizer: () => tf.train.momentum(0.05, 0.9) },
        5,
      ],
      ["after elu, RMSprop, five steps", { hidden: [7], bn: "after", activation: "elu", optimizer: () => tf.train.rmsprop(0.01) }, 5],
      ["before LeakyReLU, Adam, five steps", { hidden: [8, 5], bn: "before", leaky: true, optimizer: adam }, 5],
      ["after LeakyReLU, SGD, five steps", { hidden: [8, 5], bn: "after", leaky: true }, 5],
      ["center false (no beta), Adam, five steps", { hidden: [8], bn: "after", center: false, optimizer: adam }, 5],
      ["scale false (no gamma), Adam, five steps", { hidden: [8], bn: "before", scale: false, optimizer: adam }, 5],
      // Momentum, not Adam, at this size: the gradients agree to float32 tolerance, but Adam's first steps
      // move a weight by about lr·g/(|g| + ε), so kernel entries whose gradient is within rounding of 0
      // turn the two sides' rounding into ~2e-4 relative weight differences after five steps.
      [
        "784 inputs, hidden [100, 8] (the addon's kernels), BN after, momentum, five steps",
        { hidden: [100, 8], bn: "after", input: 784, optimizer: () => tf.train.momentum(0.05, 0.9) },
        5,
      ],
      ["784 inputs, hidden [100, 8], BN before, SGD, five steps", { hidden: [100, 8], bn: "before", input: 784 }, 5],
    ] as [string, Case, number][])("%s", (_, c, steps) => compare(c, steps));
  });

  describe("inference uses the moving statistics", () => {
    it.each(["after", "before"] as const)(
      "BN %s: step.predict and step.evaluate after training equal model.predict and model.evaluate",
      async (bn) => {
        await tf.setBackend(NATIVE_BACKEND);
        const model = buildModel({ hidden: [8, 5], bn, optimizer: adam });
        const step = fusedStep(model, { keepGradients: true });
        const data = batches(3);
        for (let s = 0; s < 6; s++) step(data[s % 3]!.x, data[s % 3]!.y);
        const { x, y } = batches(4)[3]!;
        const xt = tf.tensor2d(x, [ROWS, INPUT]);
        const yt = tf.tensor1d(y);
        const want = (model.predict(xt) as tf.Tensor).dataSync();
        expect(relativeError(step.predict(x, ROWS), want)).toBeLessThan(1e-5);
        const loss = model.evaluate(xt, yt, { batchSize: ROWS }) as tf.Scalar;
        expect(step.evaluate(x, y).loss).toBeCloseTo(loss.dataSync()[0]!, 5);
        // Not the batch statistics: normalizing this batch by its own mean and variance gives other outputs.
        const batchStats = (model.apply(xt, { training: true }) as tf.Tensor).dataSync();
        expect(relativeError(batchStats, want)).toBeGreaterThan(1e-3);
        tf.dispose([xt, yt, loss]);
        model.dispose();
      },
    );
  });

  it("keeps the moving statistics bound after model.setWeights (a checkpoint restore): the same steps repeat", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = buildModel({ hidden: [8], bn: "after" });
    const step = fusedStep(model, { keepGradients: true });
    const initial = model.getWeights().map((w) => w.clone());
    const data = batches(2);
    const run = () => {
      for (const b of data) step(b.x, b.y);
      return model.getWeights().map((w) => w.dataSync().slice());
    };
    const first = run();
    model.setWeights(initial);
    const second = run();
    // weights: kernel, bias, gamma, beta, moving mean, moving variance, output kernel, bias
    expect(second).toHaveLength(8);
    second.forEach((w, i) => expect(Array.from(w), `weight ${i}`).toEqual(Array.from(first[i]!)));
    expect(Array.from(first[4]!)).not.toEqual(Array.from(initial[4]!.dataSync()));
    tf.dispose(initial);
    model.dispose();
  });

  describe("the addon's Trainer refuses BN specs it cannot run, naming the layer", () => {
    const Trainer = () => load.addon!.Trainer;
    const spec = (layers: object[]) => ({
      inputSize: 3,
      layers: layers as TrainerLayerSpec[],
      optimizer: { kind: "sgd" as const, learningRate: 0.1 },
    });
    it.each([
      [
        "on the softmax output",
        [
          { units: 4, activation: "relu" },
          { units: 2, batchNorm: {} },
        ],
        /layers\[1\]: batchNorm is covered on hidden layers only, not the softmax output/,
      ],
      [
        "a position other than after/before",
        [{ units: 4, batchNorm: { position: "middle" } }, { units: 2 }],
        /layers\[0\]\.batchNorm\.position must be after or before, got middle/,
      ],
      ["epsilon 0", [{ units: 4, batchNorm: { epsilon: 0 } }, { units: 2 }], /layers\[0\]\.batchNorm\.epsilon must be positive, got 0/],
      [
        "momentum 2",
        [{ units: 4, batchNorm: { momentum: 2 } }, { units: 2 }],
        /layers\[0\]\.batchNorm\.momentum must be a finite number in \[0, 1\], got 2/,
      ],
    ])("%s", (_, layers, reason) => {
      expect(() => new (Trainer())(spec(layers))).toThrow(reason);
    });

    it("a step before the moving statistics are bound, and a buffer index out of range", () => {
      const t = new (Trainer())(spec([{ units: 4, activation: "relu", batchNorm: { scale: false } }, { units: 2 }]));
      // kernel, bias, beta (no gamma: scale false), output kernel, bias
      expect(t.variableCount).toBe(5);
      expect(t.bufferCount).toBe(2);
      for (let i = 0; i < t.variableCount; i++) t.bindVariable(i, new Float32Array(12));
      t.bindBuffer(0, new Float32Array(4));
      expect(() => t.step(new Float32Array(6), new Int32Array([0, 1]), 2)).toThrow(
        /layers\[0\] batchNorm movingVariance is not bound; call bindBuffer first/,
      );
      expect(() => t.bindBuffer(2, new Float32Array(4))).toThrow(/buffer index 2 out of range \[0, 2\)/);
      expect(() => t.bindBuffer(1, new Float32Array(3))).toThrow(/movingVariance has 3 elements, needs 4/);
    });
  });

  it("trains bit for bit the same with the kernels on two threads as on one", async () => {
    const addon = load.addon!;
    await tf.setBackend(NATIVE_BACKEND);
    const data = batches(3, 784);
    const trainOnce = () => {
      const model = buildModel({ hidden: [100, 8], bn: "after", input: 784, optimizer: adam });
      const step = fusedStep(model, { keepGradients: true });
      for (const b of data) step(b.x, b.y);
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return weights;
    };
    const one = trainOnce();
    addon.setThreads(2);
    try {
      expect(trainOnce()).toEqual(one);
    } finally {
      addon.setThreads(1);
    }
  });

  it("repeats exactly with the same seed, dropout 0.2 and BN included", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const trainOnce = () => {
      const model = buildModel({ hidden: [8, 5], bn: "after", dropout: 0.2, optimizer: adam });
      const step = fusedStep(model, { keepGradients: true, seed: 7 });
      for (const b of batches(3)) step(b.x, b.y);
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return weights;
    };
    expect(trainOnce()).toEqual(trainOnce());
  });
});

describe("planDenseStack: BatchNormalization forms", () => {
  const dense = (units: number, activation = "linear", extra: object = {}) =>
    tf.layers.dense({ units, activation: activation as "linear", ...extra });
  const hand = (...layers: tf.layers.Layer[]) => {
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [INPUT] }), ...layers] });
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.1) });
    return model;
  };
  const bnOf = (model: tf.LayersModel) => {
    const plan = planDenseStack(model);
    if (typeof plan === "string") throw new Error(plan);
    return { bn: plan.blocks.map((b) => b.batchNorm?.position ?? null), weights: plan.weights.length, buffers: plan.buffers.length };
  };

  it.each([
    [
      "createModel batchNorm true: Dense(relu) -> BN",
      () => createModel({ hiddenUnits: [8, 4], learningRate: 0.01, seed: 1, batchNorm: true }),
      ["after", "after", null],
      10,
    ],
    [
      "createModel batchNorm before: Dense(linear, no bias) -> BN -> Activation",
      () => createModel({ hiddenUnits: [8, 4], learningRate: 0.01, seed: 1, batchNorm: "before" }),
      ["before", "before", null],
      8,
    ],
    [
      "createModel leaky_relu + batchNorm true: Dense -> LeakyReLU -> BN",
      () => createModel({ hiddenUnits: [8], learningRate: 0.01, seed: 1, batchNorm: true, activation: "leaky_relu" }),
      ["after", null],
      6,
    ],
    [
      "hand-built Dense(tanh) -> BN -> Dropout",
      () => hand(dense(8, "tanh"), tf.layers.batchNormalization(), tf.layers.dropout({ rate: 0.1 }), dense(4, "softmax")),
      ["after", null],
      6,
    ],
    [
      "hand-built Dense(selu) -> Dropout -> BN (the Dropout before the batch statistics)",
      () => hand(dense(8, "selu"), tf.layers.dropout({ rate: 0.2 }), tf.layers.batchNormalization(), dense(4, "softmax")),
      ["after", null],
      6,
    ],
    [
      "hand-built Dense(linear) -> Dropout -> BN -> Activation",
      () =>
        hand(
          dense(8),
          tf.layers.dropout({ rate: 0.2 }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: "elu" }),
          dense(4, "softmax"),
        ),
      ["before", null],
      6,
    ],
    [
      "hand-built BN on the input -> Dense(relu) -> BN",
      () => hand(tf.layers.batchNormalization(), dense(8, "relu"), tf.layers.batchNormalization(), dense(4, "softmax")),
      ["after", null],
      8,
    ],
    [
      "hand-built Dense -> BN -> ReLU layer",
      () => hand(dense(8), tf.layers.batchNormalization(), tf.layers.reLU(), dense(4, "softmax")),
      ["before", null],
      6,
    ],
    [
      "hand-built BN with center and scale false",
      () => hand(dense(8, "relu"), tf.layers.batchNormalization({ center: false, scale: false }), dense(4, "softmax")),
      ["after", null],
      4,
    ],
  ] as [string, () => tf.LayersModel, (string | null)[], number][])("%s is covered", (_, build, positions, weights) => {
    const model = build();
    const plan = bnOf(model);
    expect(plan.bn).toEqual(positions);
    expect(plan.weights).toBe(weights);
    expect(plan.buffers).toBe(2 * model.layers.filter((l) => l.getClassName() === "BatchNormalization").length);
    expect(plan.weights).toBe(model.trainableWeights.length);
    model.dispose();
  });

  it.each([
    [
      "BN on the output layer",
      () => hand(dense(8, "relu"), dense(4), tf.layers.batchNormalization(), tf.layers.activation({ activation: "softmax" })),
      /batch_normalization\S* \(BatchNormalization\): BatchNormalization on the output layer is not covered/,
    ],
    [
      "a Dropout before the input's BN",
      () => hand(tf.layers.dropout({ rate: 0.1 }), tf.layers.batchNormalization(), dense(8, "relu"), dense(4, "softmax")),
      /\(BatchNormalization\): a Dropout before the input's BatchNormalization is not covered/,
    ],
    [
      "two Dropouts before a BN",
      () =>
        hand(
          dense(8, "relu"),
          tf.layers.dropout({ rate: 0.1 }),
          tf.layers.dropout({ rate: 0.1 }),
          tf.layers.batchNormalization(),
          dense(4, "softmax"),
        ),
      /\(Dropout\): two Dropout layers in a row are not covered/,
    ],
    [
      "two BN on one Dense",
      () => hand(dense(8, "relu"), tf.layers.batchNormalization(), tf.layers.batchNormalization(), dense(4, "softmax")),
      /a second BatchNormalization on one Dense layer is not covered/,
    ],
    [
      "an activation on both sides of BN",
      () => hand(dense(8, "relu"), tf.layers.batchNormalization(), tf.layers.activation({ activation: "tanh" }), dense(4, "softmax")),
      /\(Activation\): follows a Dense layer that already has activation relu/,
    ],
    [
      "a gamma regularizer",
      () => hand(dense(8, "relu"), tf.layers.batchNormalization({ gammaRegularizer: tf.regularizers.l2() }), dense(4, "softmax")),
      /\(BatchNormalization\): gamma\/beta regularizers are not covered/,
    ],
    [
      "a beta constraint",
      () =>
        hand(
          dense(8, "relu"),
          tf.layers.batchNormalization({ betaConstraint: tf.constraints.maxNorm({ maxValue: 2 }) }),
          dense(4, "softmax"),
        ),
      /\(BatchNormalization\): gamma\/beta constraints are not covered/,
    ],
    [
      "a frozen BN",
      () => hand(dense(8, "relu"), tf.layers.batchNormalization({ trainable: false }), dense(4, "softmax")),
      /\(BatchNormalization\): frozen \(trainable false\) layers are not covered/,
    ],
  ] as [string, () => tf.LayersModel, RegExp][])("%s is refused, naming the layer", (_, build, reason) => {
    const model = build();
    expect(planDenseStack(model)).toMatch(reason);
    model.dispose();
  });
});
