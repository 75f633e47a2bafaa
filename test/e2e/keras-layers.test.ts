// The layers' math against real Keras 3 on TensorFlow (one server per file, test/keras/ops_layers.py): every hidden
// activation of the config, every BatchNormalization placement the fast steps train (model/dense-stack.ts), dropout
// at training and inference, the l2 penalty, on the native engine's fused step and on wasm's written-out step. Both
// sides start from the same weights, take the same batches in the same order with plain SGD (so no optimizer math is
// in play) and, where a model has Dropout, the same masks: ours are read off each engine's random stream and handed
// to Keras's Dropout. Keras then takes each step from our weights before it, and each step's loss, gradients and
// resulting weights (BN moving statistics included), and the predictions before and after, must agree to float32
// round-off. Each initializer's distribution is checked against Keras's formula and against samples drawn by Keras.
// Tolerances and measured differences: docs/keras.md, "Layers and initializers".
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVATIONS, type ConfigOverrides, INITIALIZERS } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { nativeDenseStep } from "../../lib/engine/native";
import { compileModel, createModel } from "../../lib/model/factory";
import { planDenseStack } from "../../lib/model/dense-stack";
import { trainStep } from "../../lib/train/step";
import { seededRandom } from "../../lib/train/shuffle";
import { KerasServer, kerasTestsRun, readFloats, writeLabels } from "../keras/server";
import { expectKerasDistribution, KERAS_CLASS_NAME } from "../reference/initializers";

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
  /** max |g ours - g Keras| / max |g Keras| of each step's gradients, g = (w_k - w_k+1) / lr. */
  gradient: 1e-4,
  /** |w ours - w Keras| <= abs + rel·|w Keras| for every weight and BN moving statistic after each step. */
  weightAbs: 2e-6,
  weightRel: 1e-4,
  /** max |p ours - p Keras| of the softmax probabilities on 256 held-out rows. */
  probs: 1e-5,
};

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
        return [
          { type: "dense", units: c.units as number, activation: c.activation as string, use_bias: c.useBias as boolean, l2: reg?.l2 ?? 0 },
        ];
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

/** Our run: each step's loss, the weights before each step and after the last, the predictions before and after. */
interface Run {
  losses: number[];
  snapshots: Float32Array[];
  before: Float32Array;
  after: Float32Array;
  /** Keep flags (0/1) of every dropout mask, in the order the layers drew them. */
  masks: Float32Array;
}

/** Keras's steps, each from our weights before it: its loss and the weights after it; its predictions at our first and last weights. */
interface KerasSteps {
  losses: number[];
  stepped: Float32Array[];
  before: Float32Array;
  after: Float32Array;
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
  const snapshots = [flatWeights(model)];
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
    snapshots.push(flatWeights(model));
  }
  return { losses, snapshots, before, after: predict(model, xEval), masks: Float32Array.from(masks) };
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

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

  /*
   * Keras's chained runs by what they depend on: the layers, our first weights and our masks. A model without Dropout
   * starts both engines from the same weights, so Keras's answer for the second engine is the first's; asking again
   * (two of a case's three requests) would only repeat it.
   */
  const chainedRuns = new Map<string, Promise<KerasSteps>>();

  /** Keras's step from each of our states, with our masks (chained: its own steps from our first state; float64: Keras computing in float64). */
  function kerasSteps(model: tf.LayersModel, ours: Run, options: { chained?: boolean; float64?: boolean } = {}): Promise<KerasSteps> {
    if (!options.chained) return kerasRequest(model, ours, options);
    const key = createHash("sha256")
      .update(JSON.stringify([kerasSpec(model), options.float64 ?? false]))
      .update(ours.snapshots[0]!)
      .update(ours.masks)
      .digest("hex");
    let run = chainedRuns.get(key);
    if (!run) {
      run = kerasRequest(model, ours, options);
      chainedRuns.set(key, run);
    }
    return run;
  }

  async function kerasRequest(
    model: tf.LayersModel,
    ours: Run,
    { chained = false, float64 = false }: { chained?: boolean; float64?: boolean },
  ): Promise<KerasSteps> {
    const out = file("keras.out");
    const all = new Float32Array(ours.snapshots.reduce((n, w) => n + w.length, 0));
    ours.snapshots.forEach((w, k) => all.set(w, k * w.length));
    const reply = await keras.call<{ losses: number[]; predictions: number }>("layers_train", {
      layers: kerasSpec(model),
      input_size: INPUT,
      weights: writeFloats("weights", all),
      x: files.x,
      y: files.y,
      x_eval: files.xEval,
      masks: ours.masks.length ? writeFloats("masks", ours.masks) : null,
      steps: STEPS,
      batch: BATCH,
      lr: LR,
      chained,
      float64,
      out,
    });
    const values = readFloats(out);
    const p = reply.predictions;
    const w = ours.snapshots[0]!.length;
    return {
      losses: reply.losses,
      before: values.subarray(0, p),
      stepped: Array.from({ length: STEPS }, (_, k) => values.subarray(p + k * w, p + (k + 1) * w)),
      after: values.subarray(p + STEPS * w),
    };
  }

  /**
   * Each of our steps against Keras's step from the same weights, batch and masks: the loss, the gradient
   * (g = (w_k - w_k+1) / lr) and the weights after it, BN moving statistics included; the predictions at the
   * first and the last weights. Step by step, so round-off does not compound: a BN over a near-constant unit
   * divides by sqrt(variance + 1e-3) and magnifies a 1e-7 difference ~100x over five steps, in Keras as here.
   */
  async function compare(name: string, engine: "native" | "wasm", model: tf.LayersModel) {
    const ours = trainOurs(model, engine, x, y, xEval);
    const theirs = await kerasSteps(model, ours);
    let loss = 0;
    let gradient = 0;
    let weights = 0;
    for (let k = 0; k < STEPS; k++) {
      const w = ours.snapshots[k]!;
      const next = ours.snapshots[k + 1]!;
      const stepped = theirs.stepped[k]!;
      loss = Math.max(loss, Math.abs(ours.losses[k]! - theirs.losses[k]!));
      const gKeras = Array.from(w, (v, i) => (v - stepped[i]!) / LR);
      gradient = Math.max(gradient, maxAbs(Array.from(w, (v, i) => (v - next[i]!) / LR - gKeras[i]!)) / maxAbs(gKeras));
      stepped.forEach((v, i) => {
        weights = Math.max(weights, Math.abs(next[i]! - v) / (TOL.weightAbs + TOL.weightRel * Math.abs(v)));
      });
    }
    const probs = Math.max(
      maxAbs(ours.before.map((p, i) => p - theirs.before[i]!)),
      maxAbs(ours.after.map((p, i) => p - theirs.after[i]!)),
    );
    const chained = await chainedAgainstFloat64(model, ours);
    console.log(
      `${engine} ${name}: loss ${loss.toExponential(1)}, gradient ${gradient.toExponential(1)} of its largest, weights ${weights.toFixed(3)} of the tolerance, probs ${probs.toExponential(1)}` +
        (chained
          ? `; chained: ours ${chained.ours.toFixed(3)}, Keras float32 ${chained.keras32.toFixed(3)} of the tolerance from Keras float64`
          : ""),
    );
    if (chained) expect(chained.ours).toBeLessThan(1);
    // The weights moved: steps that did nothing would agree with Keras's start only.
    expect(maxAbs(ours.snapshots[0]!.map((v, i) => v - ours.snapshots[STEPS]![i]!))).toBeGreaterThan(1e-3);
    expect(loss).toBeLessThan(TOL.loss);
    expect(gradient).toBeLessThan(TOL.gradient);
    expect(weights).toBeLessThan(1);
    expect(probs).toBeLessThan(TOL.probs);
    return ours;
  }

  /** max over the weights of |a - b| / (abs + rel·|b|): below 1 is within the weight tolerance. */
  const weightRatio = (a: Float32Array, b: Float32Array) => {
    let worst = 0;
    a.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - b[i]!) / (TOL.weightAbs + TOL.weightRel * Math.abs(b[i]!)));
    });
    return worst;
  };

  /**
   * Our five steps in a row against Keras's five in a row from the same start, batches and masks, computed in float64
   * (the exact math, up to float64): the weights after every step within the same tolerance. Keras's own float32 run
   * is measured beside it: through a BN over a near-constant unit it drifts up to 0.9 of the tolerance from float64,
   * so float64 is the reference that separates our rounding from Keras's. Not for l2 models: Keras's train_on_batch
   * cannot stack its float32 loss with a float64 penalty.
   */
  async function chainedAgainstFloat64(model: tf.LayersModel, ours: Run): Promise<{ ours: number; keras32: number } | undefined> {
    if (kerasSpec(model).some((l) => l.type === "dense" && l.l2 > 0)) return undefined;
    const k64 = await kerasSteps(model, ours, { chained: true, float64: true });
    const k32 = await kerasSteps(model, ours, { chained: true });
    let worst = 0;
    let keras32 = 0;
    for (let k = 0; k < STEPS; k++) {
      worst = Math.max(worst, weightRatio(ours.snapshots[k + 1]!, k64.stepped[k]!));
      keras32 = Math.max(keras32, weightRatio(k32.stepped[k]!, k64.stepped[k]!));
    }
    return { ours: worst, keras32 };
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
        handBuilt([
          dense(32, "linear", false),
          tf.layers.dropout({ rate: 0.25 }),
          bn(),
          tf.layers.activation({ activation: "selu" }),
          dense(10, "softmax"),
        ]),
    ],
    [
      "input Dropout 0.3: Flatten -> Dropout -> Dense",
      () => handBuilt([tf.layers.dropout({ rate: 0.3 }), dense(32, "relu"), dense(10, "softmax")]),
    ],
  ];

  for (const engine of ["native", "wasm"] as const) {
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
          const xb = tf.tensor(row, [1, 28, 28]);
          step(xb, Float32Array.of(3));
          xb.dispose();
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
        expectDropRate(
          Float32Array.from({ length: INPUT }, (_, i) => (i < dropped ? 0 : 1)),
          rate,
        );
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
    const r = await keras.call<{ dropped: number; kept_values: number[]; inference_values: number[] }>("layers_dropout", {
      rate,
      size: 100_000,
    });
    expect(r.kept_values).toEqual([Math.fround(1 / (1 - rate))]);
    expect(r.inference_values).toEqual([1]);
    expectDropRate(
      Float32Array.from({ length: 100_000 }, (_, i) => (i < r.dropped ? 0 : 1)),
      rate,
    );
  });

  describe("initializers: our draws and Keras's against Keras's formula", () => {
    // A 784 x 300 kernel: 235,200 draws, so the sample mean and variance are within 1% of the truth (4 sigma).
    const FAN_IN = 784;
    const FAN_OUT = 300;
    beforeAll(async () => {
      await initBackend("wasm");
    });

    it.each(INITIALIZERS)("%s: mean, variance and bounds as Keras's", async (name) => {
      const model = createModel({ hiddenUnits: [FAN_OUT], learningRate: LR, seed: 17, initializer: name });
      const ours = model.getWeights()[0]!.dataSync() as Float32Array;
      expect(ours.length).toBe(FAN_IN * FAN_OUT);
      model.dispose();
      const out = file("init");
      await keras.call("layers_initializer", { name: KERAS_CLASS_NAME[name], shape: [FAN_IN, FAN_OUT], seed: 17, out });
      const theirs = readFloats(out);
      for (const [who, sample] of [
        ["ours", ours],
        ["Keras", theirs],
      ] as const) {
        const stats = expectKerasDistribution(sample, name, FAN_IN, FAN_OUT);
        console.log(
          `${name} ${who}: mean ${stats.mean.toExponential(2)}, variance ${stats.variance.toFixed(4)} of Keras's, max |w| ${stats.max.toFixed(4)} of the bound`,
        );
      }
      // Ours against Keras's draws directly: the two-sample Kolmogorov-Smirnov distance, below its critical value at
      // alpha 1e-4 (sqrt(-ln(alpha/2)/2)·sqrt(2/n) = 0.0065); measured 0.0016 (uniform) and 0.0026 (normal).
      const d = ksDistance(ours, theirs);
      console.log(`${name}: Kolmogorov-Smirnov distance ours to Keras ${d.toFixed(4)}`);
      expect(d).toBeLessThan(Math.sqrt(-Math.log(1e-4 / 2) / 2) * Math.sqrt(2 / ours.length));
    });
  });
});

/** The share of zero flags is the rate within 4 standard errors of a binomial. */
function expectDropRate(flags: Float32Array, rate: number): void {
  expect(flags.length).toBeGreaterThan(0);
  const dropped = flags.reduce((n, f) => n + (f === 0 ? 1 : 0), 0) / flags.length;
  expect(Math.abs(dropped - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / flags.length));
}

/** The largest gap between the two samples' empirical distribution functions. */
function ksDistance(a: Float32Array, b: Float32Array): number {
  const x = Float32Array.from(a).sort();
  const y = Float32Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}
