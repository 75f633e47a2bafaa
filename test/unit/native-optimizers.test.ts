import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { nativeDenseStep } from "../../lib/engine/native/step";
import { fusedStep, skipWithoutAddon } from "../native";
import { createOptimizer, type OptimizerSpec, setLearningRate } from "../../lib/optimizers";

/*
 * Nadam, AdamW, Adamax, Adagrad and (Keras's) Adadelta in the fused native step, against the optimizers
 * the model trains with in tfjs (createOptimizer's). The native step runs on a real model with
 * keepGradients; the gradients it applied are then given to a twin optimizer's applyGradients on the cpu
 * backend, from the same starting weights. Each native loop does tfjs's float32 operations in tfjs's
 * order, so weights, slots, optimizer-wide state and the iteration count must agree bit for bit.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);
const CLASSES = 4;
const ROWS = 13;
const INPUT = 6;

/** Seeded values in [lo, hi), so every run sees the same numbers. */
function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const data = Array.from({ length: 3 }, (_, i) => ({
  x: uniform(ROWS * INPUT, 100 + i, -2, 2),
  y: Float32Array.from(uniform(ROWS, 200 + i, 0, CLASSES), Math.floor),
}));

interface Case {
  spec: Partial<OptimizerSpec> & Pick<OptimizerSpec, "optimizer" | "learningRate">;
  /** Changes made to the optimizer after it is built (on both paths), e.g. Adamax's decay. */
  tweak?: (optimizer: tf.Optimizer) => void;
  activation?: "relu" | "tanh";
}

const makeOptimizer = (c: Case): tf.Optimizer => {
  const o = createOptimizer({ momentum: 0, nesterov: false, ...c.spec });
  c.tweak?.(o);
  return o;
};

// Hidden [16, 8]: kernels of 96 and 128 values and biases of 16 and 8 run the loops' vector bodies and tails.
function buildModel(c: Case): tf.Sequential {
  const sizes = [16, 8, CLASSES];
  const model = tf.sequential();
  sizes.forEach((units, i) =>
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [INPUT] } : {}),
        units,
        activation: i === sizes.length - 1 ? "softmax" : (c.activation ?? "relu"),
        kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 20 + i }),
      }),
    ),
  );
  model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: makeOptimizer(c) });
  return model;
}

/** Everything an optimizer's next step depends on, as plain numbers. */
interface Snapshot {
  weights: number[][];
  slots: number[][];
  /** getWeights() names without the variable part ("m", "accumulator", ...). */
  suffixes: string[];
  iterations: number;
  /** Optimizer-wide scalar variables (Adamax's iteration and accBeta1) and Nadam's Π, by field. */
  state: Record<string, number>;
}

const STATE_FIELDS = ["iteration", "accBeta1", "uProduct"];

async function snapshot(optimizer: tf.Optimizer, variables: tf.Tensor[]): Promise<Snapshot> {
  const [iter, ...slots] = await optimizer.getWeights();
  const fields = optimizer as unknown as Record<string, unknown>;
  const state: Record<string, number> = {};
  for (const f of STATE_FIELDS) {
    const v = fields[f];
    if (v instanceof tf.Tensor) state[f] = v.dataSync()[0]!;
    else if (typeof v === "number") state[f] = v;
  }
  const out = {
    weights: variables.map((v) => Array.from(v.dataSync())),
    slots: slots.map((s) => Array.from(s.tensor.dataSync())),
    suffixes: slots.map((s) => s.name.slice(s.name.lastIndexOf("/") + 1)),
    iterations: iter!.tensor.dataSync()[0]!,
    state,
  };
  iter!.tensor.dispose();
  return out;
}

interface NativeRun {
  initial: { values: Float32Array; shape: number[] }[];
  /** The gradients each step applied, in trainableWeights order. */
  grads: Float32Array[][];
  after: Snapshot[];
}

/** `steps` native steps; the learning rate becomes `lrAt.rate` before step `lrAt.step`, as a schedule would set it. */
async function nativeRun(c: Case, steps: number, lrAt?: { step: number; rate: number }): Promise<NativeRun> {
  await tf.setBackend(NATIVE_BACKEND);
  const model = buildModel(c);
  const variables = model.trainableWeights.map((w) => w.read());
  const run: NativeRun = {
    initial: variables.map((v) => ({ values: v.dataSync().slice() as Float32Array, shape: [...v.shape] })),
    grads: [],
    after: [],
  };
  const step = fusedStep(model, { keepGradients: true });
  for (let s = 0; s < steps; s++) {
    if (lrAt?.step === s) setLearningRate(model.optimizer, lrAt.rate);
    const { x, y } = data[s % data.length]!;
    step(x, y);
    run.grads.push([...step.gradients().values()]);
    run.after.push(await snapshot(model.optimizer, variables));
  }
  model.optimizer.dispose();
  model.dispose();
  return run;
}

let twins = 0;

/** tfjs's own optimizer on the cpu backend, fed the native run's gradients; its snapshot after each step. */
async function twinRun(c: Case, run: NativeRun, lrAt?: { step: number; rate: number }): Promise<Snapshot[]> {
  await tf.setBackend("cpu");
  const prefix = `twin${twins++}`;
  const variables = run.initial.map((w, i) => tf.variable(tf.tensor(w.values, w.shape), true, `${prefix}/v${i}`));
  const optimizer = makeOptimizer(c);
  const out: Snapshot[] = [];
  for (const [s, grads] of run.grads.entries()) {
    if (lrAt?.step === s) setLearningRate(optimizer, lrAt.rate);
    const named = grads.map((g, i) => ({ name: variables[i]!.name, tensor: tf.tensor(g, variables[i]!.shape) }));
    optimizer.applyGradients(named);
    tf.dispose(named.map((n) => n.tensor));
    out.push(await snapshot(optimizer, variables));
  }
  optimizer.dispose();
  tf.dispose(variables);
  return out;
}

const CASES: Record<string, Case> = {
  "nadam lr 0.01": { spec: { optimizer: "nadam", learningRate: 0.01 } },
  "adamw lr 0.01, weightDecay 0.05": { spec: { optimizer: "adamw", learningRate: 0.01, weightDecay: 0.05 } },
  "adamw with Keras's default weightDecay (0.004)": { spec: { optimizer: "adamw", learningRate: 0.003 } },
  "adamw weightDecay 0 (Keras's Adam)": { spec: { optimizer: "adamw", learningRate: 0.01, weightDecay: 0 } },
  "adamax lr 0.02": { spec: { optimizer: "adamax", learningRate: 0.02 } },
  "adamax lr 0.02 with tfjs's learning-rate decay 0.1": {
    spec: { optimizer: "adamax", learningRate: 0.02 },
    tweak: (o) => Object.assign(o, { decay: 0.1 }),
  },
  "adagrad lr 0.1 (initial accumulator 0.1)": { spec: { optimizer: "adagrad", learningRate: 0.1 } },
  "adagrad lr 0.1, initial accumulator 0.5": {
    spec: { optimizer: "adagrad", learningRate: 0.1 },
    tweak: (o) => Object.assign(o, { initialAccumulatorValue: 0.5 }),
  },
  "adadelta lr 1 (Keras's rule)": { spec: { optimizer: "adadelta", learningRate: 1 } },
  "adadelta lr 0.5, tanh": { spec: { optimizer: "adadelta", learningRate: 0.5 }, activation: "tanh" },
};

const SUFFIXES: Record<string, string[]> = {
  nadam: ["m", "v"],
  adamw: ["m", "v"],
  adamax: ["m", "v"],
  adagrad: ["accumulator"],
  adadelta: ["accum_grad", "accum_var"],
};

function expectSame(got: Snapshot, want: Snapshot, where: string): void {
  expect(got.iterations, `${where}: iterations`).toBe(want.iterations);
  expect(got.suffixes, `${where}: slot names`).toEqual(want.suffixes);
  expect(got.state, `${where}: optimizer-wide state`).toEqual(want.state);
  got.weights.forEach((w, i) => expect(w, `${where}: weight ${i}`).toEqual(want.weights[i]));
  got.slots.forEach((s, i) => expect(s, `${where}: slot ${i} (${got.suffixes[i]})`).toEqual(want.slots[i]));
}

describe.skipIf(skipNative)(`native optimizers vs tfjs's applyGradients${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(() => {
    expect(registerNativeBackend()).toBeUndefined();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: one step and five, bit for bit (weights, every slot, state, iterations)`, async () => {
      for (const steps of [1, 5]) {
        const run = await nativeRun(c, steps);
        const want = await twinRun(c, run);
        run.after.forEach((got, s) => expectSame(got, want[s]!, `${steps} steps, after step ${s + 1}`));
        const last = run.after[steps - 1]!;
        expect(last.iterations).toBe(steps);
        // Two slot kinds (or one) per variable (6 variables), named as tfjs names them.
        const suffixes = SUFFIXES[c.spec.optimizer]!;
        expect(last.suffixes).toEqual(suffixes.flatMap((s) => Array<string>(6).fill(s)));
        // The weights did move.
        expect(last.weights[0]).not.toEqual(Array.from(run.initial[0]!.values));
      }
    });
  }

  it.each(Object.keys(SUFFIXES))("%s follows a learning rate changed between steps (a schedule's setLearningRate)", async (optimizer) => {
    const c: Case = { spec: { optimizer: optimizer as OptimizerSpec["optimizer"], learningRate: 0.02 } };
    const lrAt = { step: 2, rate: 0.005 };
    const run = await nativeRun(c, 4, lrAt);
    const want = await twinRun(c, run, lrAt);
    run.after.forEach((got, s) => expectSame(got, want[s]!, `after step ${s + 1}`));
    // And the change mattered: without it the weights end elsewhere.
    const constant = await nativeRun(c, 4);
    expect(constant.after[3]!.weights[0]).not.toEqual(run.after[3]!.weights[0]);
  });

  it.each(Object.keys(SUFFIXES))(
    "%s: getWeights after native steps, setWeights into a fresh optimizer, continue: equal to uninterrupted",
    async (optimizer) => {
      const c: Case = { spec: { optimizer: optimizer as OptimizerSpec["optimizer"], learningRate: 0.02 } };
      await tf.setBackend(NATIVE_BACKEND);
      const straight = buildModel(c);
      const stepS = fusedStep(straight);
      for (let s = 0; s < 5; s++) stepS(data[s % 3]!.x, data[s % 3]!.y);

      const interrupted = buildModel(c);
      const stepI = fusedStep(interrupted);
      for (let s = 0; s < 2; s++) stepI(data[s % 3]!.x, data[s % 3]!.y);
      // As a checkpoint does: weights and optimizer state copied out, into a fresh model and optimizer.
      const weights = interrupted.getWeights().map((w) => w.clone());
      const state = (await interrupted.optimizer.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
      const resumed = buildModel(c);
      resumed.setWeights(weights);
      await resumed.optimizer.setWeights(state);
      const stepR = fusedStep(resumed);
      for (let s = 2; s < 5; s++) stepR(data[s % 3]!.x, data[s % 3]!.y);

      const a = await snapshot(
        resumed.optimizer,
        resumed.trainableWeights.map((w) => w.read()),
      );
      const b = await snapshot(
        straight.optimizer,
        straight.trainableWeights.map((w) => w.read()),
      );
      expectSame(a, b, "resumed vs uninterrupted");
      expect(a.iterations).toBe(5);
      tf.dispose([...weights, ...state.map((s) => s.tensor)]);
      for (const m of [straight, interrupted, resumed]) {
        m.optimizer.dispose();
        m.dispose();
      }
    },
  );

  it("a native step continues where tfjs's applyGradients left Nadam's Π and Adamax's state", async () => {
    // Steps 1-2 in tfjs, 3-4 native, on one model and optimizer: equal to four native steps.
    for (const optimizer of ["nadam", "adamax"] as const) {
      const c: Case = { spec: { optimizer, learningRate: 0.02 } };
      const run = await nativeRun(c, 4);
      await tf.setBackend(NATIVE_BACKEND);
      const model = buildModel(c);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      for (let s = 0; s < 2; s++) {
        const named = run.grads[s]!.map((g, i) => ({ name: variables[i]!.name, tensor: tf.tensor(g, variables[i]!.shape) }));
        model.optimizer.applyGradients(named);
        tf.dispose(named.map((n) => n.tensor));
      }
      const step = fusedStep(model);
      for (let s = 2; s < 4; s++) step(data[s % 3]!.x, data[s % 3]!.y);
      expectSame(await snapshot(model.optimizer, variables), run.after[3]!, `${optimizer}: tfjs then native`);
      model.optimizer.dispose();
      model.dispose();
    }
  });

  it("creates no tensors per step with Nadam (its per-step constants go to the trainer as numbers)", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = buildModel({ spec: { optimizer: "nadam", learningRate: 0.01 } });
    const step = fusedStep(model);
    step(data[0]!.x, data[0]!.y);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 10; s++) step(data[s % 3]!.x, data[s % 3]!.y);
    expect(tf.memory().numTensors).toBe(before);
    model.optimizer.dispose();
    model.dispose();
  });

  it("flushes denormal moments to zero inside its step, as TensorFlow does, and gives the caller its own mode back", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = buildModel({ spec: { optimizer: "adam", learningRate: 0.01 } });
    // Input column 0 is zero in every row, so the first kernel's row 0 gets a zero gradient: its moment only
    // decays (m ← 0.9·m), the path by which Adam's moments of border pixels and dead units reach denormals.
    const x = data[0]!.x.map((v, i) => (i % INPUT === 0 ? 0 : v));
    const step = fusedStep(model);
    step(x, data[0]!.y);
    const m = (await model.optimizer.getWeights())[1]!.tensor as tf.Variable;
    const denormal = 1e-39; // below float32's smallest normal, 1.18e-38
    const values = m.dataSync().slice() as Float32Array;
    values.fill(denormal, 0, 16);
    m.assign(tf.tensor(values, m.shape));
    expect(m.dataSync()[0]).toBeCloseTo(denormal, 45);
    step(x, data[0]!.y);
    // IEEE arithmetic would leave 0.9e-39 (tfjs's applyGradients does); flushed, the moment is 0.
    expect(Array.from(m.dataSync().subarray(0, 16))).toEqual(Array<number>(16).fill(0));
    // The mode is restored: JavaScript's own double denormals still compute.
    const tiny = new Float64Array([5e-324]);
    expect(tiny[0]! * 2).toBe(1e-323);
    expect(Math.fround(denormal)).toBeGreaterThan(0);
    model.optimizer.dispose();
    model.dispose();
  });

  it("refuses tfjs's own Adadelta rule, naming it", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [INPUT], units: 3, activation: "softmax" })] });
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.adadelta(1) });
    expect(nativeDenseStep(model).reason).toMatch(
      /tfjs's own Adadelta .* is not covered by the native step; createOptimizer's Keras Adadelta is/,
    );
    model.dispose();
  });
});
