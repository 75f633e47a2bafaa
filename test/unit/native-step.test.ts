import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { nativeDenseStep, type NativeStepOptions } from "../../lib/engine/native/step";
import { fusedStep, relativeError, skipWithoutAddon } from "../native";

/*
 * The fused native step against plain tfjs on the cpu backend: tf.variableGrads through the model and
 * its compiled loss, then the same kind of optimizer's applyGradients. Same initial weights and
 * batches; loss, gradients, weights and optimizer slots must agree to float32 rounding, for every
 * activation and optimizer the step covers. Skipped only when the addon is not built.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);
const CLASSES = 4;
// 13 rows: the forward kernel's row blocks of 8, 4 and 1 all run.
const ROWS = 13;

interface Case {
  /** Units of the hidden layers. */
  hidden: number[];
  /** tfjs-layers activation name of the hidden Dense layers. */
  activation?: string;
  /** Hidden Dense layers linear, each followed by a LeakyReLU layer (alpha undefined = the layer's default). */
  leakyRelu?: { alpha?: number };
  optimizer?: () => tf.Optimizer;
  l2?: number;
  /** Model input shape; [28, 28] puts a Flatten first. Default [6]. */
  inputShape?: number[];
  options?: NativeStepOptions;
}

type Batch = { x: Float32Array; y: Float32Array };

/** Seeded values in [lo, hi), so every run sees the same numbers. */
function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

function batches(c: Case, count: number, rows = ROWS): Batch[] {
  const size = (c.inputShape ?? [6]).reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, i) => ({
    x: uniform(rows * size, 100 + i, size > 100 ? 0 : -2, size > 100 ? 1 : 2),
    y: Float32Array.from(uniform(rows, 200 + i, 0, CLASSES), Math.floor),
  }));
}

function buildModel(c: Case): tf.Sequential {
  const inputShape = c.inputShape ?? [6];
  const model = tf.sequential();
  if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
  const sizes = [...c.hidden, CLASSES];
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    model.add(
      tf.layers.dense({
        ...(i === 0 && inputShape.length === 1 ? { inputShape } : {}),
        units,
        activation: (last ? "softmax" : c.leakyRelu ? "linear" : (c.activation ?? "relu")) as "relu",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }),
        // Non-zero biases, so a bias that is ignored or misplaced shows in the forward pass.
        biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 20 + i }),
        kernelRegularizer: c.l2 ? tf.regularizers.l2({ l2: c.l2 }) : undefined,
      }),
    );
    if (!last && c.leakyRelu) model.add(tf.layers.leakyReLU(c.leakyRelu.alpha === undefined ? {} : { alpha: c.leakyRelu.alpha }));
  });
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: c.optimizer?.() ?? tf.train.sgd(0.1) });
  return model;
}

interface Trace {
  losses: number[];
  /** Gradients applied at the first step, in trainableWeights order. */
  grads: Float32Array[];
  weights: Float32Array[];
  /** optimizer.getWeights() after the last step, without the iteration count. */
  slots: Float32Array[];
  iterations: number;
}

/** tfjs's own training on the cpu backend: variableGrads of the compiled loss (+ l2), clipped as Keras clips, applyGradients. */
async function reference(c: Case, data: Batch[], steps: number): Promise<Trace> {
  await tf.setBackend("cpu");
  const model = buildModel(c);
  const optimizer = model.optimizer;
  const lossFn = (model as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model.lossFunctions[0]!;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const trace: Trace = { losses: [], grads: [], weights: [], slots: [], iterations: 0 };
  for (let s = 0; s < steps; s++) {
    const { x, y } = data[s % data.length]!;
    tf.tidy(() => {
      const xt = tf.tensor(x, [y.length, ...(c.inputShape ?? [6])]);
      const yt = tf.tensor1d(y);
      const { value, grads } = tf.variableGrads(() => {
        let loss = tf.mean(lossFn(yt, model.apply(xt, { training: true }) as tf.Tensor));
        if (c.l2) for (const v of vars.filter((v) => v.name.endsWith("kernel"))) loss = tf.add(loss, tf.sum(tf.mul(c.l2, tf.square(v))));
        return loss as tf.Scalar;
      }, vars);
      const clipped = clip(grads, c.options ?? {});
      if (s === 0) trace.grads = vars.map((v) => clipped[v.name]!.dataSync().slice() as Float32Array);
      optimizer.applyGradients(clipped);
      trace.losses.push(value.dataSync()[0]!);
    });
  }
  return finishTrace(model, trace);
}

/** Keras's clipping: each gradient to norm ≤ clipnorm, then each element to [-clipvalue, clipvalue]. */
function clip(grads: tf.NamedTensorMap, o: NativeStepOptions): tf.NamedTensorMap {
  return Object.fromEntries(
    Object.entries(grads).map(([name, g]) => {
      let out = g;
      if (o.clipnorm) out = tf.div(tf.mul(out, o.clipnorm), tf.maximum(tf.norm(out), o.clipnorm));
      if (o.clipvalue) out = tf.clipByValue(out, -o.clipvalue, o.clipvalue);
      return [name, out];
    }),
  );
}

async function finishTrace(model: tf.LayersModel, trace: Trace): Promise<Trace> {
  trace.weights = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const [iter, ...slots] = await model.optimizer.getWeights();
  trace.iterations = iter!.tensor.dataSync()[0]!;
  trace.slots = slots.map((w) => w.tensor.dataSync().slice() as Float32Array);
  iter!.tensor.dispose();
  model.optimizer.dispose();
  model.dispose();
  return trace;
}

/** The same training through the fused native step on the native backend. */
async function native(c: Case, data: Batch[], steps: number): Promise<Trace> {
  await tf.setBackend(NATIVE_BACKEND);
  const model = buildModel(c);
  const step = fusedStep(model, { ...c.options, keepGradients: true });
  const trace: Trace = { losses: [], grads: [], weights: [], slots: [], iterations: 0 };
  for (let s = 0; s < steps; s++) {
    const { x, y } = data[s % data.length]!;
    trace.losses.push(step(x, y).loss);
    if (s === 0) trace.grads = [...step.gradients().values()];
  }
  return finishTrace(model, trace);
}

function expectSameTraining(got: Trace, want: Trace, tolerance = 2e-5): void {
  expect(got.losses.length).toBe(want.losses.length);
  got.losses.forEach((l, i) =>
    expect(Math.abs(l - want.losses[i]!) / Math.max(1, want.losses[i]!), `loss at step ${i}`).toBeLessThan(tolerance),
  );
  expect(got.grads.length).toBe(want.grads.length);
  got.grads.forEach((g, i) => expect(relativeError(g, want.grads[i]!), `gradient ${i}`).toBeLessThan(tolerance));
  got.weights.forEach((w, i) => expect(relativeError(w, want.weights[i]!), `weight ${i}`).toBeLessThan(tolerance));
  expect(got.slots.length, "optimizer slots").toBe(want.slots.length);
  got.slots.forEach((s, i) => expect(relativeError(s, want.slots[i]!), `optimizer slot ${i}`).toBeLessThan(tolerance));
  expect(got.iterations).toBe(want.iterations);
}

async function compare(c: Case, steps: number, tolerance?: number): Promise<void> {
  const data = batches(c, 3);
  expectSameTraining(await native(c, data, steps), await reference(c, data, steps), tolerance);
}

describe.skipIf(skipNative)(`native Dense step vs tfjs on cpu${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(() => {
    expect(registerNativeBackend()).toBeUndefined();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  describe("the tutorial's configuration (relu, SGD)", () => {
    it("28x28 inputs through Flatten, hidden [16, 8], one step: loss, gradients, weights", () =>
      compare({ hidden: [16, 8], inputShape: [28, 28] }, 1));
    it("28x28 inputs through Flatten, hidden [16, 8], five steps", () => compare({ hidden: [16, 8], inputShape: [28, 28] }, 5));
    it("hidden [8], five steps", () => compare({ hidden: [8] }, 5));
    // 784x100 weights reach the addon's AVX-512 kernels (kernels.h: >= 64K weights, <= 64 rows); 13 rows
    // and 100 columns exercise the forward kernel's 8/4/1-row blocks and a masked 4-column tail, and 733
    // inputs (8·91 + 4 + 1) the gradient kernel's row blocks of 8, 4 and 1.
    it("hidden [100, 8] on 28x28 inputs (the addon's kernels), five steps", () => compare({ hidden: [100, 8], inputShape: [28, 28] }, 5));
    it("hidden [100, 8] on 733 inputs (the gradient kernel's row tails), five steps", () =>
      compare({ hidden: [100, 8], inputShape: [1, 733] }, 5));
    it("with the kernels on two threads: the same training as tfjs, and bit for bit as on one thread", async () => {
      const addon = load.addon!;
      const c: Case = { hidden: [100, 8], inputShape: [28, 28], optimizer: () => tf.train.momentum(0.05, 0.9) };
      const data = batches(c, 3);
      const one = await native(c, data, 5);
      addon.setThreads(2);
      try {
        const two = await native(c, data, 5);
        expectSameTraining(two, await reference(c, data, 5));
        two.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(one.weights[i]!)));
        // The fused SGD update (accumulating kernel) on two threads.
        const sgd: Case = { hidden: [100, 8], inputShape: [28, 28] };
        await tf.setBackend(NATIVE_BACKEND);
        const runFused = () => {
          const model = buildModel(sgd);
          const step = fusedStep(model);
          for (const { x, y } of data) step(x, y);
          const w = model.getWeights().map((t) => Array.from(t.dataSync()));
          model.dispose();
          return w;
        };
        const fusedTwo = runFused();
        addon.setThreads(1);
        expect(fusedTwo).toEqual(runFused());
      } finally {
        addon.setThreads(1);
      }
    });

    it("with BLAS for every product (the addon's own kernels off), five steps", async () => {
      const addon = load.addon!;
      const was = addon.useOwnKernels();
      addon.useOwnKernels(false);
      try {
        await compare({ hidden: [100, 8], inputShape: [28, 28] }, 5);
      } finally {
        addon.useOwnKernels(was);
      }
    });

    it("the fused SGD update (no gradient buffers) gives the same weights as with keepGradients", async () => {
      const c: Case = { hidden: [100, 8], inputShape: [28, 28] };
      const data = batches(c, 3);
      await tf.setBackend(NATIVE_BACKEND);
      const run = (keepGradients: boolean) => {
        const model = buildModel(c);
        const step = fusedStep(model, { keepGradients });
        const losses = Array.from({ length: 5 }, (_, s) => step(data[s % 3]!.x, data[s % 3]!.y).loss);
        const weights = model.getWeights().map((w) => w.dataSync().slice());
        model.dispose();
        return { losses, weights };
      };
      const fused = run(false),
        kept = run(true);
      fused.losses.forEach((l, i) => expect(l).toBeCloseTo(kept.losses[i]!, 5));
      fused.weights.forEach((w, i) => expect(relativeError(w, kept.weights[i]!)).toBeLessThan(1e-6));
    });

    it("with lr = 1, one step moves each weight by minus its tfjs gradient", async () => {
      const c: Case = { hidden: [8], optimizer: () => tf.train.sgd(1) };
      const data = batches(c, 1);
      const want = await reference(c, data, 1);
      await tf.setBackend(NATIVE_BACKEND);
      const model = buildModel(c);
      const before = model.getWeights().map((w) => w.dataSync().slice());
      fusedStep(model)(data[0]!.x, data[0]!.y);
      model.getWeights().forEach((w, i) => {
        const moved = w.dataSync().map((v, j) => before[i]![j]! - v);
        expect(relativeError(moved, want.grads[i]!)).toBeLessThan(2e-5);
      });
      model.dispose();
    });
  });

  describe("every hidden activation: one step and five, hidden [8] and [16, 8]", () => {
    const activations = [
      "relu",
      "linear",
      "elu",
      "selu",
      "gelu",
      "gelu_new",
      "swish",
      "mish",
      "tanh",
      "sigmoid",
      "softplus",
      "softsign",
      "relu6",
      "hardSigmoid",
    ];
    for (const activation of activations) {
      it(`${activation}`, async () => {
        await compare({ hidden: [8], activation }, 1);
        await compare({ hidden: [16, 8], activation }, 5);
      });
    }
    it("LeakyReLU layers with tfjs's default alpha (0.3)", () => compare({ hidden: [16, 8], leakyRelu: {} }, 5));
    it("LeakyReLU layers with alpha 0.2", () => compare({ hidden: [16, 8], leakyRelu: { alpha: 0.2 } }, 5));
  });

  describe("every optimizer, five steps: weights and tfjs's own slots", () => {
    const optimizers: Record<string, () => tf.Optimizer> = {
      "sgd 0.05": () => tf.train.sgd(0.05),
      "momentum 0.9": () => tf.train.momentum(0.05, 0.9),
      "nesterov momentum 0.9": () => tf.train.momentum(0.05, 0.9, true),
      "adam (tfjs-layers' 'adam' defaults)": () => tf.train.adam(0.001, 0.9, 0.999, 1e-7),
      "adam lr 0.01, beta1 0.8": () => tf.train.adam(0.01, 0.8, 0.99, 1e-7),
      rmsprop: () => tf.train.rmsprop(0.001, 0.9, 0, 1e-7),
      "rmsprop momentum 0.5": () => tf.train.rmsprop(0.001, 0.9, 0.5, 1e-7),
      "rmsprop centered": () => tf.train.rmsprop(0.001, 0.9, 0.2, 1e-12, true),
    };
    for (const [name, optimizer] of Object.entries(optimizers)) {
      // tfjs's centered RMSProp takes √(ms − (mg² + ε)): NaN for a zero gradient (a dead relu unit's) and
      // for |g| ≲ 3√ε. Both paths share that rule; compare where it is defined: tanh, tiny ε.
      const activation = name.includes("centered") ? "tanh" : "relu";
      it(name, () => compare({ hidden: [16, 8], optimizer, activation }, 5));
    }
  });

  describe("regularization and clipping", () => {
    it("l2 0.01 on every kernel: the loss includes the penalty and the gradient 2·l2·W", () => compare({ hidden: [16, 8], l2: 0.01 }, 5));
    it("l2 with momentum", () => compare({ hidden: [16, 8], l2: 0.01, optimizer: () => tf.train.momentum(0.05, 0.9) }, 5));
    it("clipnorm 0.05 (per variable, as Keras's clipnorm)", () => compare({ hidden: [16, 8], options: { clipnorm: 0.05 } }, 5));
    it("clipvalue 0.002", () => compare({ hidden: [16, 8], options: { clipvalue: 0.002 } }, 5));
    it("clipnorm with adam", () =>
      compare({ hidden: [16, 8], options: { clipnorm: 0.1 }, optimizer: () => tf.train.adam(0.01, 0.9, 0.999, 1e-7) }, 5));
  });
});

describe.skipIf(skipNative)(`native Dense step: state, dropout, coverage${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(async () => {
    expect(registerNativeBackend()).toBeUndefined();
    await tf.setBackend(NATIVE_BACKEND);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  const tutorial: Case = { hidden: [16, 8], inputShape: [28, 28] };

  it("updates the variables in place: getWeights, predict and the step's own predict agree", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model);
    const { x, y } = batches(tutorial, 1)[0]!;
    const before = model.getWeights()[0]!.dataSync().slice();
    step(x, y);
    expect(relativeError(model.getWeights()[0]!.dataSync(), before)).toBeGreaterThan(0);
    const probs = tf.tidy(() => (model.predict(tf.tensor(x, [ROWS, 28, 28])) as tf.Tensor).dataSync());
    expect(relativeError(step.predict(x, ROWS), probs)).toBeLessThan(1e-6);
    model.dispose();
  });

  it("copy-on-write: a clone taken before a step keeps its values", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model);
    const { x, y } = batches(tutorial, 1)[0]!;
    const clones = model.getWeights().map((w) => w.clone());
    const saved = clones.map((c) => c.dataSync().slice());
    step(x, y);
    clones.forEach((c, i) => expect(Array.from(c.dataSync())).toEqual(Array.from(saved[i]!)));
    expect(relativeError(model.getWeights()[0]!.dataSync(), saved[0]!)).toBeGreaterThan(0);
    tf.dispose(clones);
    model.dispose();
  });

  it("model.setWeights between steps is what the next step trains", () => {
    const a = buildModel(tutorial),
      b = buildModel(tutorial);
    const data = batches(tutorial, 2);
    const stepA = fusedStep(a),
      stepB = fusedStep(b);
    stepA(data[0]!.x, data[0]!.y);
    b.setWeights(a.getWeights());
    expect(stepB(data[1]!.x, data[1]!.y).loss).toBeCloseTo(stepA(data[1]!.x, data[1]!.y).loss, 6);
    b.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(a.getWeights()[i]!.dataSync())));
    a.dispose();
    b.dispose();
  });

  it("follows the optimizer's learning rate when a schedule changes it", async () => {
    const c: Case = { hidden: [8], optimizer: () => tf.train.momentum(0.05, 0.9) };
    const data = batches(c, 2);
    const run = async (fused: boolean) => {
      await tf.setBackend(fused ? NATIVE_BACKEND : "cpu");
      const model = buildModel(c);
      const opt = model.optimizer as tf.MomentumOptimizer;
      const step = fused ? fusedStep(model) : null;
      for (let s = 0; s < 4; s++) {
        if (s === 2) opt.setLearningRate(0.01);
        const { x, y } = data[s % 2]!;
        if (step) step(x, y);
        else
          tf.tidy(() => {
            const lossFn = (model as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model
              .lossFunctions[0]!;
            opt.minimize(() => tf.mean(lossFn(tf.tensor1d(y), model.apply(tf.tensor2d(x, [ROWS, 6])) as tf.Tensor)) as tf.Scalar);
          });
      }
      const w = model.getWeights().map((t) => t.dataSync().slice());
      model.dispose();
      return w;
    };
    const fused = await run(true),
      ref = await run(false);
    fused.forEach((w, i) => expect(relativeError(w, ref[i]!)).toBeLessThan(2e-5));
    await tf.setBackend(NATIVE_BACKEND);
  });

  it("optimizer state survives getWeights/setWeights: a restored optimizer continues the same way", async () => {
    const c: Case = { hidden: [8], optimizer: () => tf.train.adam(0.01, 0.9, 0.999, 1e-7) };
    const data = batches(c, 2);
    const straight = buildModel(c);
    const stepS = fusedStep(straight);
    for (let s = 0; s < 4; s++) stepS(data[s % 2]!.x, data[s % 2]!.y);
    const resumed = buildModel(c);
    const stepR = fusedStep(resumed);
    for (let s = 0; s < 2; s++) stepR(data[s % 2]!.x, data[s % 2]!.y);
    // As a checkpoint would: copy weights and optimizer state out, into a fresh model and optimizer.
    const weights = resumed.getWeights().map((w) => w.clone());
    const state = (await resumed.optimizer.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const fresh = buildModel(c);
    fresh.setWeights(weights);
    await fresh.optimizer.setWeights(state);
    const stepF = fusedStep(fresh);
    for (let s = 2; s < 4; s++) stepF(data[s % 2]!.x, data[s % 2]!.y);
    // tfjs's Adam.setWeights recomputes β^t with pow(): a float32 ulp off the running product, so not bit-exact.
    fresh.getWeights().forEach((w, i) => expect(relativeError(w.dataSync(), straight.getWeights()[i]!.dataSync())).toBeLessThan(1e-5));
    expect(fresh.optimizer.iterations).toBe(4);
    tf.dispose([...weights, ...state.map((s) => s.tensor)]);
    [straight, resumed, fresh].forEach((m) => m.dispose());
  });

  it("evaluate matches the model's own loss and accuracy, and changes nothing", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model);
    const { x, y } = batches(tutorial, 1, 600)[0]!;
    const before = model.getWeights().map((w) => w.dataSync().slice());
    const r = step.evaluate(x, y);
    const [loss, correct] = tf.tidy(() => {
      const probs = model.predict(tf.tensor(x, [600, 28, 28])) as tf.Tensor;
      const lossFn = (model as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model
        .lossFunctions[0]!;
      return [
        tf.mean(lossFn(tf.tensor1d(y), probs)).dataSync()[0]!,
        tf.sum(tf.equal(tf.argMax(probs, -1), tf.tensor1d(y, "int32"))).dataSync()[0]!,
      ];
    });
    expect(r.loss).toBeCloseTo(loss, 5);
    expect(r.correct).toBe(correct);
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i]!)));
    model.dispose();
  });

  it("rows(): a step on rows picked from the whole set equals a step on the same rows copied out", () => {
    const set = batches(tutorial, 1, 40)[0]!;
    const rows = Uint32Array.of(39, 3, 17, 0, 25, 8, 8, 30);
    const picked = new Float32Array(rows.length * 784);
    rows.forEach((r, i) => picked.set(set.x.subarray(r * 784, (r + 1) * 784), i * 784));
    const labels = Float32Array.from(rows, (r) => set.y[r]!);
    const a = buildModel(tutorial),
      b = buildModel(tutorial);
    const byRows = fusedStep(a).rows(set.x, Uint8Array.from(set.y), rows);
    const copied = fusedStep(b)(picked, labels);
    expect(byRows).toEqual(copied);
    a.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(b.getWeights()[i]!.dataSync())));
    expect(() => fusedStep(a).rows(set.x, set.y, Uint32Array.of(1, 40))).toThrow(/row 40 is past the 40 labels/);
    expect(() => fusedStep(a).rows(set.x.subarray(0, 784 * 39), set.y, Uint32Array.of(1, 39))).toThrow(/row 39 is past the 39 rows of x/);
    a.dispose();
    b.dispose();
  });

  it("a batch larger than maxBatch grows the scratch buffers", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model, { maxBatch: 4 });
    const { x, y } = batches(tutorial, 1, 50)[0]!;
    expect(Number.isFinite(step(x, y).loss)).toBe(true);
    model.dispose();
  });

  it("the same seed and data give identical weights twice (dropout included)", () => {
    const run = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28] }),
          tf.layers.dropout({ rate: 0.2 }),
          tf.layers.dense({ units: 16, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.dropout({ rate: 0.3 }),
          tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.momentum(0.05, 0.9) });
      const step = fusedStep(model, { seed: 7 });
      for (const { x, y } of batches(tutorial, 3)) step(x, y);
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return w;
    };
    expect(run()).toEqual(run());
  });

  it("dropout at rate 0 is the identity: same training as without the layer", () => {
    const withDropout = (rate: number | null) => {
      const model = tf.sequential();
      model.add(tf.layers.flatten({ inputShape: [28, 28] }));
      if (rate !== null) model.add(tf.layers.dropout({ rate }));
      model.add(tf.layers.dense({ units: 16, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
      model.add(tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
      model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.1) });
      const step = fusedStep(model);
      const losses = batches(tutorial, 3).map(({ x, y }) => step(x, y).loss);
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return { losses, w };
    };
    expect(withDropout(0)).toEqual(withDropout(null));
  });

  it("dropout 0.5 on the input drops about half the inputs and scales the rest by 2", () => {
    // One all-ones row: the kernel gradient's row i is mask[i]·dz, the bias gradient is dz. So zero rows
    // are dropped inputs and every other row is exactly 1/(1 - rate) times the bias gradient.
    const model = tf.sequential({
      layers: [
        tf.layers.dropout({ inputShape: [784], rate: 0.5 }),
        tf.layers.dense({ units: CLASSES, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.01) });
    const step = fusedStep(model, { keepGradients: true, seed: 11 });
    const dropped: number[] = [];
    for (let s = 0; s < 20; s++) {
      step(new Float32Array(784).fill(1), Float32Array.of(s % CLASSES), 1);
      const [kernel, bias] = [...step.gradients().values()] as [Float32Array, Float32Array];
      let zeros = 0;
      for (let i = 0; i < 784; i++) {
        const row = kernel.subarray(i * CLASSES, (i + 1) * CLASSES);
        if (row.every((v) => v === 0)) zeros++;
        else row.forEach((v, j) => expect(v / bias[j]!).toBeCloseTo(2, 5));
      }
      dropped.push(zeros / 784);
    }
    // 20 x 784 Bernoulli(0.5) draws: the mean is 0.5 ± 0.004 (1 sd); each step's share 0.5 ± 0.018.
    const mean = dropped.reduce((a, b) => a + b) / dropped.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    dropped.forEach((d) => expect(Math.abs(d - 0.5)).toBeLessThan(0.1));
    // A fresh stream each step: the masks differ.
    expect(new Set(dropped).size).toBeGreaterThan(1);
    model.dispose();
  });

  it("creates no tensors per step (the slots exist once the step is made)", () => {
    const model = buildModel({ ...tutorial, optimizer: () => tf.train.adam(0.01, 0.9, 0.999, 1e-7) });
    const step = fusedStep(model);
    const data = batches(tutorial, 2);
    step(data[0]!.x, data[0]!.y);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 10; s++) step(data[s % 2]!.x, data[s % 2]!.y);
    step.evaluate(data[0]!.x, data[0]!.y);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("advances the optimizer's iteration count like applyGradients", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model);
    for (const { x, y } of batches(tutorial, 3)) step(x, y);
    expect(model.optimizer.iterations).toBe(3);
    model.dispose();
  });

  it("refuses labels that are not class indices, naming the row", () => {
    const model = buildModel(tutorial);
    const step = fusedStep(model);
    const { x } = batches(tutorial, 1)[0]!;
    expect(() => step(x, Float32Array.of(0, 1, 2, 3, 4, 0, 1, 2), 8)).toThrow(/labels\[4\] = 4 is not a class index in \[0, 4\)/);
    expect(() => step(x.subarray(0, 100), new Int32Array(8))).toThrow(/x has 100 elements, needs 6272/);
    model.dispose();
  });

  describe("says why a model is not covered", () => {
    const reasonFor = (model: tf.LayersModel) => {
      const choice = nativeDenseStep(model);
      model.dispose();
      return choice.reason;
    };
    const compiled = (
      layers: tf.layers.Layer[],
      optimizer: tf.Optimizer | string = tf.train.sgd(0.1),
      loss = "sparseCategoricalCrossentropy",
    ) => {
      const model = tf.sequential({ layers });
      model.compile({ loss, optimizer });
      return model;
    };

    it("BatchNormalization on the output layer (hidden ones are covered: native-batchnorm.test.ts)", () => {
      const model = compiled([
        tf.layers.dense({ inputShape: [6], units: 8, name: "d0" }),
        tf.layers.dense({ units: 3, name: "d1" }),
        tf.layers.batchNormalization({ name: "bn" }),
        tf.layers.activation({ activation: "softmax" }),
      ]);
      expect(reasonFor(model)).toMatch(/layer bn \(BatchNormalization\): BatchNormalization on the output layer is not covered/);
    });
    it("a loss other than sparse categorical cross-entropy", () => {
      const model = compiled(
        [tf.layers.dense({ inputShape: [6], units: 3, activation: "softmax" })],
        tf.train.sgd(0.1),
        "categoricalCrossentropy",
      );
      expect(reasonFor(model)).toMatch(
        /fast steps need the sparseCategoricalCrossentropy loss, the model is compiled with categoricalCrossentropy/,
      );
    });
    it("an optimizer it does not implement", () => {
      const model = compiled([tf.layers.dense({ inputShape: [6], units: 3, activation: "softmax" })], tf.train.adadelta(0.1));
      expect(reasonFor(model)).toMatch(/tfjs's own Adadelta .* is not covered/);
    });
    it("a non-softmax output", () => {
      const model = compiled([tf.layers.dense({ inputShape: [6], units: 3, activation: "sigmoid" })]);
      expect(reasonFor(model)).toMatch(/last Dense layer's activation is sigmoid; the fast steps need softmax/);
    });
    it("l1 regularization", () => {
      const model = compiled([
        tf.layers.dense({
          inputShape: [6],
          units: 3,
          activation: "softmax",
          kernelRegularizer: tf.regularizers.l1({ l1: 0.01 }),
          name: "out",
        }),
      ]);
      expect(reasonFor(model)).toMatch(/layer out \(Dense\): l1 regularization \(0\.01\) is not covered/);
    });
    it("a rank-3 input without Flatten", () => {
      const model = compiled([tf.layers.dense({ inputShape: [4, 6], units: 3, activation: "softmax" })]);
      expect(reasonFor(model)).toMatch(/the input is \[4, 6\] without a Flatten layer/);
    });
  });
});
