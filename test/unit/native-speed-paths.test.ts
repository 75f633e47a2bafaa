import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadAddon, type NativeTrainer, type TrainerOptimizerSpec, type TrainerSpec } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { nativeDenseStep } from "../../lib/engine/native/step";
import { skipWithoutAddon } from "../native";

/*
 * The native step's fast paths for optimizers other than plain SGD (native/src/trainer.cc):
 * - the update of a large kernel applied block by block as the gradient kernel finishes its rows, on
 *   whichever pool thread computed them, and the other variables' updates split into ranges on the pool;
 * - Adam with one division per element;
 * - dropout masks from a counter-based stream, two elements per 64-bit draw.
 * Each is checked against the plain computation (tfjs, or the update rule on the applied gradient),
 * and the thread count must not change a single bit.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);

/** Seeded values in [lo, hi). */
function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

interface Raw {
  trainer: NativeTrainer;
  /** Variables then their slots, in binding order. */
  values: Float32Array[];
  slots: Float32Array[][];
  state: Float32Array[];
}

/** A raw addon trainer over its own arrays: weights seeded, slots zero, Adam's β^t starting at β as tfjs's. */
function rawTrainer(spec: TrainerSpec): Raw {
  const trainer = new load.addon!.Trainer(spec);
  const sizes: number[] = [];
  let inSize = spec.inputSize;
  for (const layer of spec.layers) {
    sizes.push(inSize * layer.units);
    if (layer.useBias !== false) sizes.push(layer.units);
    inSize = layer.units;
  }
  const values = sizes.map((n, i) => uniform(n, 7 + i, -0.1, 0.1));
  const slots = sizes.map((n) => Array.from({ length: trainer.slotsPerVariable }, () => new Float32Array(n)));
  values.forEach((v, i) => trainer.bindVariable(i, v, slots[i]));
  const o = spec.optimizer;
  const state = [Float32Array.of(o.beta1 ?? 0.9), Float32Array.of(o.beta2 ?? 0.999)].slice(0, trainer.stateSize);
  state.forEach((s, i) => trainer.bindState(i, s));
  return { trainer, values, slots, state };
}

/** Every array a step writes, copied. */
function snapshot(r: Raw): Float32Array[] {
  return [...r.values, ...r.slots.flat(), ...r.state].map((a) => a.slice());
}

/** The first index where a and b differ in any bit, or -1 (Buffer.equals: fast on 235,200 values). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return -1;
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

const ADAM: TrainerOptimizerSpec = { kind: "adam", learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** The tutorial's 784 → 300 → 100 → 10 stack: the 784x300 kernel takes the fused kernel-and-update path. */
function tutorialSpec(overrides: Partial<TrainerSpec> = {}, dropout = 0.2): TrainerSpec {
  return {
    inputSize: 784,
    layers: [
      { units: 300, activation: "relu" },
      { units: 100, activation: "relu", dropout },
      { units: 10, dropout },
    ],
    optimizer: ADAM,
    seed: 5,
    ...overrides,
  };
}

function batch(rows: number, inputSize: number, seed: number): { x: Float32Array; y: Int32Array } {
  return { x: uniform(rows * inputSize, seed, 0, 1), y: Int32Array.from(uniform(rows, seed + 1, 0, 10), Math.floor) };
}

/** Trains `steps` batches of 32 on `threads` threads, returning every array the steps wrote. */
function train(spec: TrainerSpec, threads: number, steps = 3): Float32Array[] {
  const addon = load.addon!;
  addon.setThreads(threads);
  try {
    const r = rawTrainer(spec);
    for (let s = 0; s < steps; s++) {
      const { x, y } = batch(32, spec.inputSize, 50 + s);
      r.trainer.step(x, y, 32);
    }
    return snapshot(r);
  } finally {
    addon.setThreads(1);
  }
}

describe.skipIf(skipNative)(`native optimizer updates on the pool${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  afterEach(() => {
    load.addon?.setThreads(1);
    load.addon?.useOwnKernels(true);
  });

  const cases: Record<string, Partial<TrainerSpec>> = {
    "adam + dropout 0.2 (the issue 11 target)": {},
    "momentum 0.9 with l2 0.01 and clipvalue 0.001": {
      optimizer: { kind: "momentum", learningRate: 0.01, momentum: 0.9 },
      layers: [
        { units: 300, activation: "relu", l2: 0.01 },
        { units: 100, activation: "relu", dropout: 0.2, l2: 0.01 },
        { units: 10, l2: 0.01 },
      ],
      clipvalue: 0.001,
    },
    "centered rmsprop": { optimizer: { kind: "rmsprop", learningRate: 0.001, decay: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true } },
    "adam with clipnorm 0.5 (whole-gradient norm first)": { clipnorm: 0.5 },
  };
  for (const [name, overrides] of Object.entries(cases)) {
    it(`${name}: two threads give the same bits as one`, () => {
      const spec = tutorialSpec(overrides);
      const one = train(spec, 1);
      const two = train(spec, 2);
      expect(two.length).toBe(one.length);
      two.forEach((a, i) => expect(firstDifference(a, one[i]!), `array ${i}`).toBe(-1));
      // The steps did move every variable.
      const fresh = snapshot(rawTrainer(spec));
      one.slice(0, 6).forEach((a, i) => expect(firstDifference(a, fresh[i]!), `variable ${i}`).not.toBe(-1));
    });
  }

  it("with the addon's kernels off (BLAS products, every update in pool ranges): two threads give the same bits as one", () => {
    load.addon!.useOwnKernels(false);
    const spec = tutorialSpec();
    const one = train(spec, 1);
    train(spec, 2).forEach((a, i) => expect(firstDifference(a, one[i]!), `array ${i}`).toBe(-1));
  });

  // One step from zero slots: m = (1-β1)·g, v = (1-β2)·g², w -= lr·(m/(1-β1)) / (√(v/(1-β2)) + ε), tfjs's
  // formula in float64 (its float32 constants kept) on the gradient the trainer kept. 733 inputs: the gradient kernel's row blocks of
  // 8, 4 and 1 each hand their rows to the update.
  for (const [label, kernels] of [
    ["fused with the gradient kernel", true],
    ["after BLAS", false],
  ] as const) {
    it(`Adam's first step ${label} moves every weight by tfjs's rule on the applied gradient (float32 tolerance)`, () => {
      load.addon!.useOwnKernels(kernels);
      const spec: TrainerSpec = {
        inputSize: 733,
        layers: [{ units: 300, activation: "relu" }, { units: 10 }],
        optimizer: { ...ADAM, learningRate: 0.01 },
        keepGradients: true,
      };
      const r = rawTrainer(spec);
      const before = r.values.map((v) => v.slice());
      const { x, y } = batch(32, 733, 3);
      r.trainer.step(x, y, 32);
      const { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps } = spec.optimizer as Required<TrainerOptimizerSpec>;
      // tfjs keeps β^t as a float32 scalar and takes 1 - β^t in float32: 1 - 0.999f is 1.3e-5 off 0.001.
      const corr1 = Math.fround(1 - Math.fround(b1)),
        corr2 = Math.fround(1 - Math.fround(b2));
      let worst = 0,
        worstMoment = 0;
      for (let v = 0; v < r.values.length; v++) {
        const g = r.trainer.gradient(v);
        expect(g.some((e) => e !== 0)).toBe(true);
        for (let i = 0; i < g.length; i++) {
          const m = Math.fround(1 - b1) * g[i]!,
            s = Math.fround(1 - b2) * g[i]! ** 2;
          const want = before[v]![i]! - (lr * (m / corr1)) / (Math.sqrt(s / corr2) + eps);
          worstMoment = Math.max(worstMoment, Math.abs(r.slots[v]![0]![i]! - m) / Math.abs(m || 1));
          worst = Math.max(worst, Math.abs(r.values[v]![i]! - want) / Math.max(1e-3, Math.abs(want)));
        }
      }
      expect(worst).toBeLessThan(1e-5);
      expect(worstMoment).toBeLessThan(2e-7);
    });
  }
});

describe.skipIf(skipNative)(`native Adam on the kernels' shapes vs tfjs${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(() => {
    expect(registerNativeBackend()).toBeUndefined();
  });
  afterAll(async () => {
    load.addon?.setThreads(1);
    await tf.setBackend("cpu");
  });

  /** 733 → 100 relu → 4 softmax, Adam lr 0.01: the 733x100 kernel's gradient and update go through the fused path. */
  function build(): tf.Sequential {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [733],
          units: 100,
          activation: "relu",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.adam(0.01, 0.9, 0.999, 1e-7) });
    return model;
  }
  const data = [0, 1, 2].map((i) => ({
    x: uniform(13 * 733, 100 + i, 0, 1),
    y: Float32Array.from(uniform(13, 200 + i, 0, 4), Math.floor),
  }));

  async function weightsAndSlots(model: tf.LayersModel): Promise<Float32Array[]> {
    const [, ...slots] = await model.optimizer.getWeights();
    return [...model.getWeights(), ...slots.map((s) => s.tensor)].map((t) => t.dataSync().slice() as Float32Array);
  }

  it("five steps on two threads: weights and m, v as tfjs's applyGradients (float32 tolerance)", async () => {
    await tf.setBackend("cpu");
    const ref = build();
    const lossFn = (ref as unknown as { model: { lossFunctions: ((y: tf.Tensor, p: tf.Tensor) => tf.Tensor)[] } }).model.lossFunctions[0]!;
    const vars = ref.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let s = 0; s < 5; s++) {
      const { x, y } = data[s % 3]!;
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => tf.mean(lossFn(tf.tensor1d(y), ref.apply(tf.tensor2d(x, [13, 733])) as tf.Tensor)) as tf.Scalar,
          vars,
        );
        ref.optimizer.applyGradients(grads);
      });
    }
    const want = await weightsAndSlots(ref);

    await tf.setBackend(NATIVE_BACKEND);
    load.addon!.setThreads(2);
    const model = build();
    const choice = nativeDenseStep(model);
    if (!choice.step) throw new Error(choice.reason);
    for (let s = 0; s < 5; s++) choice.step(data[s % 3]!.x, data[s % 3]!.y);
    const got = await weightsAndSlots(model);
    expect(got.length).toBe(want.length);
    const weights = model.getWeights().length;
    got.forEach((a, i) => {
      let diff = 0,
        scale = 1e-3;
      a.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - want[i]![j]!));
        scale = Math.max(scale, Math.abs(want[i]![j]!));
      });
      // Adam divides by √v: where a gradient is a near-zero cancellation, the float32 rounding of any two
      // summation orders moves that weight by up to lr. So weights agree to 1% of lr per step (a wrong or
      // missed update is off by about lr); m and v, as every gradient, to float32 tolerance.
      if (i < weights) expect(diff, `weight ${i}`).toBeLessThan(0.01 * 0.01 * 5);
      else expect(diff / scale, `optimizer slot ${i - weights}`).toBeLessThan(2e-5);
    });
    ref.dispose();
    model.dispose();
  });
});

describe.skipIf(skipNative)(`native dropout masks${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  /**
   * Dropout on the input of a single 733 → 4 layer, one all-ones row per step: the kernel gradient's
   * row i is mask[i]·dz, so its zero rows are the dropped inputs (733 draws per step, an odd count).
   */
  function masks(rate: number, seed: number, steps: number): { dropped: boolean[][]; scaleOk: boolean } {
    const r = rawTrainer({
      inputSize: 733,
      layers: [{ units: 4, dropout: rate }],
      optimizer: { kind: "sgd", learningRate: 0 },
      seed,
      keepGradients: true,
    });
    const dropped: boolean[][] = [];
    let scaleOk = true;
    for (let s = 0; s < steps; s++) {
      r.trainer.step(new Float32Array(733).fill(1), Int32Array.of(s % 4), 1);
      const kernel = r.trainer.gradient(0),
        bias = r.trainer.gradient(1);
      const row: boolean[] = [];
      for (let i = 0; i < 733; i++) {
        const g = kernel.subarray(i * 4, i * 4 + 4);
        const zero = g.every((v) => v === 0);
        row.push(zero);
        if (!zero) g.forEach((v, j) => (scaleOk &&= Math.abs(v / bias[j]! - 1 / (1 - rate)) < 1e-5));
      }
      dropped.push(row);
    }
    return { dropped, scaleOk };
  }

  it("rate 0.2: about a fifth dropped, the rest scaled by 1/0.8, neighbours (one 64-bit draw) independent", () => {
    const { dropped, scaleOk } = masks(0.2, 9, 60);
    expect(scaleOk).toBe(true);
    const all = dropped.flat();
    // 43,980 Bernoulli(0.2) draws: the share is 0.2 ± 0.0019 (1 sd).
    const share = all.filter(Boolean).length / all.length;
    expect(Math.abs(share - 0.2)).toBeLessThan(0.01);
    // Elements 2p and 2p+1 share a draw's low and high bits: both dropped should be 0.04 ± 0.0013 (1 sd).
    let pairs = 0,
      both = 0;
    for (const row of dropped) {
      for (let p = 0; p + 1 < row.length; p += 2) {
        pairs++;
        if (row[p] && row[p + 1]) both++;
      }
    }
    expect(Math.abs(both / pairs - 0.04)).toBeLessThan(0.006);
    // The odd last element gets its own draw: dropped in some steps, kept in others.
    const last = dropped.map((row) => row[732]);
    expect(last.some(Boolean) && !last.every(Boolean)).toBe(true);
    // A fresh stretch of the stream each step.
    expect(new Set(dropped.map((row) => row.join(""))).size).toBe(dropped.length);
  });

  it("the same seed repeats the masks; another seed gives others", () => {
    const a = masks(0.5, 3, 4).dropped,
      b = masks(0.5, 3, 4).dropped,
      c = masks(0.5, 4, 4).dropped;
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it("setSeed restarts the stream", () => {
    const r = rawTrainer({
      inputSize: 733,
      layers: [{ units: 4, dropout: 0.5 }],
      optimizer: { kind: "sgd", learningRate: 0 },
      seed: 1,
      keepGradients: true,
    });
    const draw = () => {
      r.trainer.step(new Float32Array(733).fill(1), Int32Array.of(0), 1);
      return Array.from(r.trainer.gradient(0));
    };
    const first = draw();
    expect(draw()).not.toEqual(first);
    r.trainer.setSeed(1);
    expect(draw()).toEqual(first);
  });
});
