// The layers' math against real Keras 3 on TensorFlow (one server per file, test/keras/ops_layers.py): every hidden
// activation of the config, every BatchNormalization placement the fast steps train (model/dense-stack.ts), dropout
// at training and inference, the l2 penalty, on the native engine's fused step and on wasm's written-out step. Both
// sides start from the same weights, take the same batches in the same order with plain SGD (so no optimizer math is
// in play) and, where a model has Dropout, the same masks: ours are read off each engine's random stream and handed
// to Keras's Dropout. Then each step's loss, the first step's gradients, the weights and BN moving statistics after
// the last step, and the predictions before and after must agree to float32 round-off. Each initializer's
// distribution is checked against Keras's formula and against samples drawn by Keras.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVATIONS, type ConfigOverrides, INITIALIZERS, type InitializerName } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { nativeDenseStep } from "../../lib/engine/native";
import { compileModel, createModel } from "../../lib/model/factory";
import { planDenseStack } from "../../lib/model/dense-stack";
import { trainStep } from "../../lib/train/step";
import { seededRandom } from "../../lib/train/shuffle";
import { KerasServer, kerasTestsRun, readFloats, writeLabels } from "../keras/server";

const INPUT = 784;
const BATCH = 32;
const STEPS = 5;
// Large enough that five steps move the weights and BN statistics well away from where they started.
const LR = 0.05;
const EVAL_ROWS = 256;
const HIDDEN = [32, 16];

/*
 * Tolerances, each float32 round-off with room (the largest difference measured over every case and both engines
 * is printed per case; docs/keras.md has the table). A wrong formula (gelu's tanh form, BN's unbiased variance, a
 * missing 2·l2·W, dropout's scale) shows as 1e-3 or more.
 */
const TOL = {
  /** |loss ours - loss Keras| per step (loss about 2.3). */
  loss: 2e-5,
  /** max |g ours - g Keras| / max |g Keras| of the first step's gradients, g = (w0 - w1) / lr. */
  gradient: 1e-4,
  /** |w ours - w Keras| <= abs + rel·|w Keras| for every weight and BN moving statistic after the last step. */
  weightAbs: 2e-6,
  weightRel: 1e-4,
  /** max |p ours - p Keras| of the softmax probabilities on 256 held-out rows. */
  probs: 1e-5,
};
/** Where Keras's own float32 run is further than TOL from its float64 run, ours may be this many times as far. */
const KERAS_FACTOR = 4;

/** Seeded values in [lo, hi): the same inputs in every run. */
function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
}

/** One layer as ops_layers.py builds it in Keras. */
type LayerSpec =
  | { type: "dense"; units: number; activation: string; use_bias: boolean; l2: number }
  | { type: "batch_normalization"; momentum: number; epsilon: number }
  | { type: "dropout"; rate: number }
  | { type: "activation"; activation: string }
  | { type: "leaky_relu"; negative_slope: number };

/** Our model read back as Keras layers: the test builds Keras's model from what ours is, not from our config. */
function kerasSpec(model: tf.LayersModel): LayerSpec[] {
  return model.layers.flatMap((layer): LayerSpec[] => {
    const c = layer.getConfig() as Record<string, unknown>;
    switch (layer.getClassName()) {
      case "Flatten":
        return [];
      case "Dense": {
        const reg = (layer as unknown as { kernelRegularizer?: { l2?: number } }).kernelRegularizer;
        return [{ type: "dense", units: c.units as number, activation: c.activation as string, use_bias: c.useBias as boolean, l2: reg?.l2 ?? 0 }];
      }
      case "BatchNormalization":
        return [{ type: "batch_normalization", momentum: c.momentum as number, epsilon: c.epsilon as number }];
      case "Dropout":
        return [{ type: "dropout", rate: c.rate as number }];
      case "Activation":
        return [{ type: "activation", activation: c.activation as string }];
      case "LeakyReLU":
        return [{ type: "leaky_relu", negative_slope: c.alpha as number }];
      default:
        throw new Error(`no Keras spec for ${layer.getClassName()}`);
    }
  });
}

/** Input widths of the model's Dropout layers, in layer order (what each step's masks cover per row). */
function dropoutWidths(model: tf.LayersModel): { width: number; rate: number }[] {
  return model.layers.flatMap((layer) => {
    if (layer.getClassName() !== "Dropout") return [];
    const shape = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
    return [{ width: shape[shape.length - 1] as number, rate: (layer.getConfig() as { rate: number }).rate }];
  });
}

/*
 * The native step's dropout stream (native/src/trainer.cc, Trainer::drop), replayed: draw i is
 * mix64(key + i·γ) with key = mix64(seed + γ); each draw gives two elements 24 bits each, kept where bits ≥ ⌈rate·2²⁴⌉.
 */
const MASK64 = (1n << 64n) - 1n;
const GAMMA = 0x9e3779b97f4a7c15n;
function mix64(z0: bigint): bigint {
  let z = z0 & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}
function nativeMaskStream(seed: number): (size: number, rate: number) => Float32Array {
  const key = mix64(BigInt(seed) + GAMMA);
  let counter = 0n;
  return (size, rate) => {
    const threshold = Math.ceil(rate * 16777216);
    const flags = new Float32Array(size);
    const start = key + counter * GAMMA;
    const draws = Math.ceil(size / 2);
    for (let p = 0; p < draws; p++) {
      const z = mix64(start + BigInt(p + 1) * GAMMA);
      flags[2 * p] = Number((z & 0xffffffffn) >> 8n) >= threshold ? 1 : 0;
      if (2 * p + 1 < size) flags[2 * p + 1] = Number(z >> 40n) >= threshold ? 1 : 0;
    }
    counter += BigInt(draws);
    return flags;
  };
}

/** What one side's run gives: per-step losses, predictions before and after, weights after step 1 and at the end. */
interface Run {
  losses: number[];
  before: Float32Array | Float64Array;
  first: Float32Array | Float64Array;
  last: Float32Array | Float64Array;
  after: Float32Array | Float64Array;
  /** Keep flags (0/1) of every dropout mask, in the order the layers drew them. */
  masks: Float32Array;
}

/** Every weight in Keras's get_weights() order: layer by layer (tfjs's model.getWeights() puts all trainable ones first). */
const flatWeights = (model: tf.LayersModel) => {
  const parts = model.layers.flatMap((layer) => layer.getWeights().map((w) => w.dataSync() as Float32Array));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const predict = (model: tf.LayersModel, x: Float32Array) =>
  tf.tidy(() => (model.predict(tf.tensor(x, [x.length / INPUT, 28, 28])) as tf.Tensor).dataSync() as Float32Array);

/** STEPS steps of our engine (the native fused step or wasm's written-out step) on the batches of x, y. */
function trainOurs(model: tf.LayersModel, engine: "native" | "wasm", x: Float32Array, y: Float32Array, xEval: Float32Array): Run {
  const plan = planDenseStack(model);
  if (typeof plan === "string") throw new Error(`the fast steps do not cover the test model: ${plan}`);
  const before = predict(model, xEval);
  const losses: number[] = [];
  const masks: number[] = [];
  let first = new Float32Array();
  const seed = 1234;
  const drops = dropoutWidths(model);
  let step: (s: number) => number;
  if (engine === "native") {
    const choice = nativeDenseStep(model, { seed, maxBatch: BATCH });
    if (!choice.step) throw new Error(`the native step refused the test model: ${choice.reason}`);
    const native = choice.step;
    const stream = nativeMaskStream(seed);
    step = (s) => {
      for (const d of drops) masks.push(...stream(BATCH * d.width, d.rate));
      return native(x.subarray(s * BATCH * INPUT, (s + 1) * BATCH * INPUT), y.subarray(s * BATCH, (s + 1) * BATCH)).loss;
    };
  } else {
    // The written-out step keeps a unit where its uniform draw u ≥ rate (one rate per test model).
    const rate = drops[0]?.rate ?? 0;
    const draws = seededRandom(seed);
    const dense = trainStep(model, {
      random: () => {
        const u = draws();
        masks.push(u >= rate ? 1 : 0);
        return u;
      },
    });
    step = (s) =>
      tf.tidy(() => {
        const xb = tf.tensor(x.subarray(s * BATCH * INPUT, (s + 1) * BATCH * INPUT), [BATCH, 28, 28]);
        return dense(xb, y.subarray(s * BATCH, (s + 1) * BATCH)).loss;
      });
  }
  for (let s = 0; s < STEPS; s++) {
    losses.push(step(s));
    if (s === 0) first = flatWeights(model);
  }
  return { losses, before, first, last: flatWeights(model), after: predict(model, xEval), masks: Float32Array.from(masks) };
}

const maxAbs = (a: ArrayLike<number>) => Array.prototype.reduce.call(a, (m: number, v: number) => Math.max(m, Math.abs(v)), 0) as number;

describe.runIf(kerasTestsRun("keras-layers.test.ts"))("layers, BatchNormalization, Dropout and l2 against real Keras", () => {
  let keras: KerasServer;
  let tmp: string;
  const x = uniform(STEPS * BATCH * INPUT, 7, 0, 1);
  const y = Float32Array.from(uniform(STEPS * BATCH, 8, 0, 10), Math.floor);
  const xEval = uniform(EVAL_ROWS * INPUT, 9, 0, 1);
  const files = { x: "", y: "", xEval: "" };
  const file = (name: string) => path.join(tmp, name);
  const writeFloats = (name: string, data: Float32Array) => {
    fs.writeFileSync(file(name), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return file(name);
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-layers-"));
    keras = await KerasServer.start();
    files.x = writeFloats("x", x);
    files.y = writeLabels(file("y"), y);
    files.xEval = writeFloats("x_eval", xEval);
  });
  afterAll(async () => {
    await keras?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Keras's run from our model's starting weights, with our masks, computed in `floatx`. */
  async function trainKeras(model: tf.LayersModel, w0: Float32Array, masks: Float32Array, floatx: "float32" | "float64"): Promise<Run> {
    const out = file("keras.out");
    const reply = await keras.call<{ losses: number[]; sizes: [number, number] }>("layers_train", {
      layers: kerasSpec(model),
      input_size: INPUT,
      weights: writeFloats("w0", w0),
      x: files.x,
      y: files.y,
      x_eval: files.xEval,
      masks: masks.length ? writeFloats("masks", masks) : null,
      steps: STEPS,
      batch: BATCH,
      lr: LR,
      floatx,
      out,
    });
    const buf = fs.readFileSync(out);
    const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const [p, w] = reply.sizes;
    return {
      losses: reply.losses,
      before: all.subarray(0, p),
      first: all.subarray(p, p + w),
      last: all.subarray(p + w, p + 2 * w),
      after: all.subarray(p + 2 * w),
      masks,
    };
  }

  /** How far a float32 run is from the float64 reference, in the units of TOL. */
  function errors(w0: Float32Array, run: Run, ref: Run) {
    const loss = Math.max(...run.losses.map((l, i) => Math.abs(l - ref.losses[i]!)));
    const gRef = Array.from(w0, (w, i) => (w - ref.first[i]!) / LR);
    const gradient = maxAbs(Array.from(w0, (w, i) => (w - run.first[i]!) / LR - gRef[i]!)) / maxAbs(gRef);
    let weights = 0;
    ref.last.forEach((w, i) => {
      weights = Math.max(weights, Math.abs(run.last[i]! - w) / (TOL.weightAbs + TOL.weightRel * Math.abs(w)));
    });
    const probs = Math.max(
      maxAbs(Array.from(run.before, (p, i) => p - ref.before[i]!)),
      maxAbs(Array.from(run.after, (p, i) => p - ref.after[i]!)),
    );
    return { loss, gradient, weights, probs };
  }
  type Errors = ReturnType<typeof errors>;
  const describeErrors = (e: Errors) =>
    `loss ${e.loss.toExponential(1)}, gradient ${e.gradient.toExponential(1)}, weights ${e.weights.toFixed(3)}, probs ${e.probs.toExponential(1)}`;

  /**
   * Ours and Keras's float32 runs against Keras in float64 from the same start. Ours must be within TOL of the
   * reference, or, where the model itself magnifies float32 round-off past TOL (a BN with a near-constant unit
   * divides by sqrt(variance + 1e-3)), within KERAS_FACTOR times Keras's own float32 error.
   */
  async function compare(name: string, engine: "native" | "wasm", model: tf.LayersModel) {
    const w0 = flatWeights(model);
    const ours = trainOurs(model, engine, x, y, xEval);
    const k32 = await trainKeras(model, w0, ours.masks, "float32");
    const k64 = await trainKeras(model, w0, ours.masks, "float64");
    const e = errors(w0, ours, k64);
    const k = errors(w0, k32, k64);
    console.log(`${engine} ${name}: from Keras float64, ours: ${describeErrors(e)}; Keras float32: ${describeErrors(k)}`);
    // The weights moved: a step that did nothing would agree with Keras's start only.
    expect(maxAbs(Array.from(w0, (w, i) => w - ours.last[i]!))).toBeGreaterThan(1e-3);
    const bound = (key: keyof Errors, tol: number) => Math.max(tol, KERAS_FACTOR * k[key]);
    expect(e.loss).toBeLessThan(bound("loss", TOL.loss));
    expect(e.gradient).toBeLessThan(bound("gradient", TOL.gradient));
    expect(e.weights).toBeLessThan(bound("weights", 1));
    expect(e.probs).toBeLessThan(bound("probs", TOL.probs));
    return ours;
  }

  /** Hand-built stacks for the BN placements the config does not build but the fast steps train. */
  function handBuilt(layers: tf.layers.Layer[]): tf.Sequential {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), ...layers] });
    compileModel(model, LR);
    return model;
  }
  const bn = () => tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
  const dense = (units: number, activation: "relu" | "linear" | "softmax" | "selu", useBias = true) =>
    tf.layers.dense({ units, activation, useBias, kernelInitializer: tf.initializers.glorotUniform({ seed: units }) });

  const configured: [string, ConfigOverrides][] = [
    ...ACTIVATIONS.map((activation): [string, ConfigOverrides] => [activation, { activation }]),
    ["Dense(relu) -> BN (batchNorm true)", { batchNorm: true }],
    ["Dense -> BN -> elu (batchNorm before)", { batchNorm: "before", activation: "elu" }],
    ["Dense -> BN -> leaky_relu (batchNorm before)", { batchNorm: "before", activation: "leaky_relu" }],
    ["Dense(selu) -> Dropout 0.2", { activation: "selu", dropout: 0.2 }],
    ["Dense(relu) -> BN -> Dropout 0.3", { batchNorm: true, dropout: 0.3 }],
    ["l2 0.01", { l2: 0.01 }],
    ["l2 0.01, BN before, dropout 0.2", { l2: 0.01, batchNorm: "before", dropout: 0.2 }],
  ];
  const built: [string, () => tf.Sequential][] = [
    ["input BN: Flatten -> BN -> Dense(relu)", () => handBuilt([bn(), dense(32, "relu"), dense(10, "softmax")])],
    [
      "Dense(relu) -> Dropout 0.25 -> BN",
      () => handBuilt([dense(32, "relu"), tf.layers.dropout({ rate: 0.25 }), bn(), dense(10, "softmax")]),
    ],
    [
      "Dense -> Dropout 0.25 -> BN -> selu",
      () =>
        handBuilt([dense(32, "linear", false), tf.layers.dropout({ rate: 0.25 }), bn(), tf.layers.activation({ activation: "selu" }), dense(10, "softmax")]),
    ],
    ["input Dropout 0.3: Flatten -> Dropout -> Dense", () => handBuilt([tf.layers.dropout({ rate: 0.3 }), dense(32, "relu"), dense(10, "softmax")])],
  ];

  for (const engine of (process.env.KL_ENGINES?.split(",") ?? ["native", "wasm"]) as ("native" | "wasm")[]) {
    describe(`${engine} engine`, () => {
      beforeAll(async () => {
        const info = await initBackend(engine);
        expect(info.name).toBe(engine);
      });

      it.each(configured)("config %s: same losses, gradients, weights and BN statistics as Keras", async (name, overrides) => {
        const model = createModel({ hiddenUnits: HIDDEN, learningRate: LR, seed: 3, ...overrides });
        const ours = await compare(name, engine, model);
        if (overrides.dropout) expectDropRate(ours.masks, overrides.dropout);
        model.dispose();
      });

      it.each(built)("%s: same losses, gradients, weights and BN statistics as Keras", async (name, build) => {
        const model = build();
        const ours = await compare(name, engine, model);
        const rate = dropoutWidths(model)[0]?.rate;
        if (rate) expectDropRate(ours.masks, rate);
        model.dispose();
      });

      it("dropout scales the kept units by 1/(1 - rate) at training and passes everything at inference", () => {
        // One row through Flatten -> Dropout(0.3) -> Dense(10): the first step's gradients give dW[i][c] = x̃[i]·dz[c]
        // and db[c] = dz[c], so the dropped input x̃ = dW[·][c]/db[c] reads off the engine itself.
        const rate = 0.3;
        const model = handBuilt([tf.layers.dropout({ rate }), dense(10, "softmax")]);
        compileModel(model, 1);
        const row = uniform(INPUT, 11, 0.5, 1);
        const [k0, b0] = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
        if (engine === "native") {
          const step = nativeDenseStep(model, { seed: 5, maxBatch: 1 }).step!;
          step(row, Float32Array.of(3));
        } else {
          const step = trainStep(model, { seed: 5 });
          tf.tidy(() => step(tf.tensor(row, [1, 28, 28]), Float32Array.of(3)));
        }
        const [k1, b1] = model.getWeights().map((w) => w.dataSync() as Float32Array);
        const db = b0!.map((b, c) => b - b1![c]!);
        const c = db.reduce((best, v, i) => (Math.abs(v) > Math.abs(db[best]!) ? i : best), 0);
        let dropped = 0;
        let worst = 0;
        for (let i = 0; i < INPUT; i++) {
          const ratio = (k0![i * 10 + c]! - k1![i * 10 + c]!) / db[c]! / row[i]!;
          if (Math.abs(ratio) < 1e-4) dropped++;
          else worst = Math.max(worst, Math.abs(ratio - 1 / (1 - rate)));
        }
        // Read back through two float32 subtractions and a division: 1e-4 of the scale 1.43.
        expect(worst).toBeLessThan(1e-4);
        expectDropRate(Float32Array.from({ length: INPUT }, (_, i) => (i < dropped ? 0 : 1)), rate);
        // Inference: the identity, exactly (Keras's Dropout(training=False) returns its input).
        const ones = tf.ones([4, 28, 28]);
        const inferred = tf.tidy(() => (model.layers[1]!.apply(tf.reshape(ones, [4, INPUT]), { training: false }) as tf.Tensor).dataSync());
        expect([...new Set(inferred)]).toEqual([1]);
        tf.dispose(ones);
        model.dispose();
      });
    });
  }

  it("Keras's own Dropout keeps units scaled by 1/(1 - rate) at the rate, and is the identity at inference", async () => {
    const rate = 0.3;
    const r = await keras.call<{ dropped: number; kept_values: number[]; inference_values: number[] }>("layers_dropout", { rate, size: 100_000 });
    expect(r.kept_values).toEqual([Math.fround(1 / (1 - rate))]);
    expect(r.inference_values).toEqual([1]);
    expectDropRate(Float32Array.from({ length: 100_000 }, (_, i) => (i < r.dropped ? 0 : 1)), rate);
  });

  describe("initializers: our draws and Keras's against Keras's formula", () => {
    // A 784 x 300 kernel: 235,200 draws, so the sample mean and variance are within 1% of the truth (4 sigma).
    const FAN_IN = 784;
    const FAN_OUT = 300;
    // Keras's VarianceScaling truncates its normal at 2 stddev and widens it by 1/0.8796... so the variance stays scale/fan.
    const TRUNCATION = 0.87962566103423978;
    const variance: Record<InitializerName, number> = {
      glorot_uniform: 2 / (FAN_IN + FAN_OUT),
      glorot_normal: 2 / (FAN_IN + FAN_OUT),
      he_normal: 2 / FAN_IN,
      he_uniform: 2 / FAN_IN,
      lecun_normal: 1 / FAN_IN,
      lecun_uniform: 1 / FAN_IN,
    };
    const kerasName: Record<InitializerName, string> = {
      glorot_uniform: "GlorotUniform",
      glorot_normal: "GlorotNormal",
      he_normal: "HeNormal",
      he_uniform: "HeUniform",
      lecun_normal: "LecunNormal",
      lecun_uniform: "LecunUniform",
    };

    beforeAll(async () => {
      await initBackend("wasm");
    });

    it.each(INITIALIZERS)("%s: mean, variance and bounds as Keras's", async (name) => {
      const model = createModel({ hiddenUnits: [FAN_OUT], learningRate: LR, seed: 17, initializer: name });
      const ours = model.getWeights()[0]!.dataSync() as Float32Array;
      expect(ours.length).toBe(FAN_IN * FAN_OUT);
      model.dispose();
      const out = file("init");
      await keras.call("layers_initializer", { name: kerasName[name], shape: [FAN_IN, FAN_OUT], seed: 17, out });
      const theirs = readFloats(out);
      const v = variance[name];
      const bound = name.endsWith("uniform") ? Math.sqrt(3 * v) : (2 * Math.sqrt(v)) / TRUNCATION;
      for (const [who, sample] of [
        ["ours", ours],
        ["Keras", theirs],
      ] as const) {
        const n = sample.length;
        const mean = sample.reduce((s, w) => s + w, 0) / n;
        const sampleVar = sample.reduce((s, w) => s + (w - mean) ** 2, 0) / n;
        const max = maxAbs(sample);
        console.log(`${name} ${who}: mean ${mean.toExponential(2)}, variance ${(sampleVar / v).toFixed(4)} of Keras's, max |w| ${(max / bound).toFixed(4)} of the bound`);
        // The sample mean's standard error is sqrt(v/n); 4 of them.
        expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(v / n));
        // Sample variance within 1.5% (4 standard errors for either distribution at n = 235,200 is under 1%).
        expect(Math.abs(sampleVar / v - 1)).toBeLessThan(0.015);
        // Nothing beyond the bound (float32 rounding of the bound aside), and the draws reach close to it.
        expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(max).toBeGreaterThan(bound * 0.99);
      }
    });
  });
});

/** The share of zero flags is the rate within 4 standard errors of a binomial. */
function expectDropRate(flags: Float32Array, rate: number): void {
  expect(flags.length).toBeGreaterThan(0);
  const dropped = flags.reduce((n, f) => n + (f === 0 ? 1 : 0), 0) / flags.length;
  expect(Math.abs(dropped - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / flags.length));
}
