// The same math as Keras, checked against Keras 3.15 on TensorFlow (one server per file, test/keras/): Keras and this
// project start from the same weights of a tiny MLP (784 -> Dense 16 relu -> Dense 10 softmax) and train on the
// same Fashion-MNIST batches in the same order, then their weights, optimizer slots, iteration counts, losses and
// learning rates are compared, once on the native engine and once on wasm. Every optimizer of the config runs with
// Keras's defaults (no learning rate given on either side), then momentum, Nesterov, weight decay, clipnorm,
// clipvalue and the three schedules Keras has. The tolerances are in TOLERANCE and docs/keras.md.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigOverrides, resolveConfig } from "../../lib/config";
import type { LabeledImages } from "../../lib/data/images";
import { initBackend } from "../../lib/engine/backend";
import { createModel } from "../../lib/model/factory";
import { optimizerVariables } from "../../lib/optimizers";
import { loadData } from "../../lib/runs/experiment";
import { train } from "../../lib/train/fit";
import { seededRandom, shuffledIndices } from "../../lib/train/shuffle";
import { KerasServer, kerasTestsRun, writeImages, writeLabels } from "../keras/server";

/** 8 batches of 32 per epoch, 3 epochs (24 steps); 128 validation images for ReduceLROnPlateau. */
const TRAIN_ROWS = 256;
const VALID_ROWS = 128;
const EPOCHS = 3;
const HIDDEN = [16];
/** The config's seed: train()'s batch order (and the order Keras is given). */
const SEED = 3;

/**
 * Both sides compute in float32 with different matrix-product libraries (TensorFlow's Eigen, OpenBLAS on native,
 * XNNPACK on wasm), so each step's gradients differ in the last bits and 24 steps carry that on, more at a larger
 * rate. So a tensor's tolerance is a share of its own scale: weights within 3e-4 of how far training moved that
 * tensor from the shared start (max |w_Keras − w₀|), plus one float32 step of the largest weight (Adadelta's default
 * moves weights by 6e-5 only); slots within 3e-4 of the slot's largest |value|. Float noise measured up to 6.3e-5;
 * the errors this file found (Adam's ε, momentum under a schedule) were 0.05 to 0.2 of the movement.
 * Losses (per-epoch means, val_loss) within 1e-5 absolute; the learning rates to float32's precision.
 */
const TOLERANCE = { weights: 3e-4, slots: 3e-4, loss: 1e-5, learningRate: 1e-6 };
/** float32's relative step (2^-23): one unit in the last place of a value near 1. */
const FLOAT32_STEP = 2 ** -23;

/** Our slot suffix (`<variable>/<suffix>`) -> the name ops_optimizers.py gives Keras's slot, per optimizer. */
const SLOT_NAMES: Record<string, Record<string, string>> = {
  SGD: {},
  Momentum: { momentum: "momentum" },
  Adam: { m: "momentum", v: "velocity" },
  AdamW: { m: "momentum", v: "velocity" },
  Nadam: { m: "momentum", v: "velocity" },
  RMSProp: { rms: "velocity", momentum: "momentum" },
  Adamax: { m: "m", v: "u" },
  Adagrad: { accumulator: "accumulator" },
  Adadelta: { accum_grad: "accumulated_grad", accum_var: "accumulated_delta_var" },
};

interface Case {
  name: string;
  /** The project's config fields. */
  ours: ConfigOverrides;
  /** keras.optimizers.<optimizer>(**config); config.learning_rate may be a schedule. */
  keras: { optimizer: string; config: Record<string, unknown>; plateau?: Record<string, number> };
}

const CASES: Case[] = [
  { name: "sgd, Keras's defaults", ours: { optimizer: "sgd" }, keras: { optimizer: "SGD", config: {} } },
  { name: "rmsprop, Keras's defaults", ours: { optimizer: "rmsprop" }, keras: { optimizer: "RMSprop", config: {} } },
  { name: "adam, Keras's defaults", ours: { optimizer: "adam" }, keras: { optimizer: "Adam", config: {} } },
  { name: "adamax, Keras's defaults", ours: { optimizer: "adamax" }, keras: { optimizer: "Adamax", config: {} } },
  { name: "adagrad, Keras's defaults", ours: { optimizer: "adagrad" }, keras: { optimizer: "Adagrad", config: {} } },
  { name: "adadelta, Keras's defaults", ours: { optimizer: "adadelta" }, keras: { optimizer: "Adadelta", config: {} } },
  { name: "nadam, Keras's defaults", ours: { optimizer: "nadam" }, keras: { optimizer: "Nadam", config: {} } },
  { name: "adamw, Keras's defaults", ours: { optimizer: "adamw" }, keras: { optimizer: "AdamW", config: {} } },
  {
    name: "sgd momentum 0.9",
    ours: { optimizer: "sgd", momentum: 0.9 },
    keras: { optimizer: "SGD", config: { momentum: 0.9 } },
  },
  {
    name: "sgd Nesterov 0.9",
    ours: { optimizer: "sgd", momentum: 0.9, nesterov: true },
    keras: { optimizer: "SGD", config: { momentum: 0.9, nesterov: true } },
  },
  {
    name: "rmsprop momentum 0.9",
    ours: { optimizer: "rmsprop", momentum: 0.9 },
    keras: { optimizer: "RMSprop", config: { momentum: 0.9 } },
  },
  {
    name: "adamw weight_decay 0.1, lr 0.01",
    ours: { optimizer: "adamw", weightDecay: 0.1, learningRate: 0.01 },
    keras: { optimizer: "AdamW", config: { weight_decay: 0.1, learning_rate: 0.01 } },
  },
  {
    name: "sgd clipnorm 0.05",
    ours: { optimizer: "sgd", clipNorm: 0.05 },
    keras: { optimizer: "SGD", config: { clipnorm: 0.05 } },
  },
  {
    name: "adam clipvalue 0.002",
    ours: { optimizer: "adam", clipValue: 0.002 },
    keras: { optimizer: "Adam", config: { clipvalue: 0.002 } },
  },
  {
    name: "sgd momentum 0.9, ExponentialDecay(0.05, 4 steps, 0.5)",
    ours: { optimizer: "sgd", momentum: 0.9, learningRate: 0.05, lrSchedule: { type: "exponential", decaySteps: 4, decayRate: 0.5 } },
    keras: {
      optimizer: "SGD",
      config: { momentum: 0.9, learning_rate: { type: "exponential", initial_learning_rate: 0.05, decay_steps: 4, decay_rate: 0.5 } },
    },
  },
  {
    name: "adam, PiecewiseConstantDecay([5, 12], [0.01, 0.003, 0.001])",
    ours: { optimizer: "adam", lrSchedule: { type: "piecewise", boundaries: [5, 12], values: [0.01, 0.003, 0.001] } },
    keras: {
      optimizer: "Adam",
      config: { learning_rate: { type: "piecewise", boundaries: [5, 12], values: [0.01, 0.003, 0.001] } },
    },
  },
  {
    name: "sgd momentum 0.9 lr 0.05, ReduceLROnPlateau(factor 0.5, patience 0, min_delta 0.5)",
    ours: {
      optimizer: "sgd",
      momentum: 0.9,
      learningRate: 0.05,
      lrSchedule: { type: "reduce_on_plateau", factor: 0.5, patience: 0, minDelta: 0.5 },
    },
    keras: {
      optimizer: "SGD",
      config: { momentum: 0.9, learning_rate: 0.05 },
      plateau: { factor: 0.5, patience: 0, min_delta: 0.5, cooldown: 0, min_lr: 0 },
    },
  },
];

interface KerasResult {
  loss: number[];
  val_loss: number[];
  learning_rate: number[];
  iterations: number;
  weights: number[][];
  slots: Record<string, number[][]>;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

/** (max |ours − Keras| − floor) / scale, which must stay within `tolerance`; returns the ratio for the log line. */
function expectClose(what: string, ours: ArrayLike<number>, keras: ArrayLike<number>, scale: number, tolerance: number, floor = 0): number {
  const diff = Math.max(0, maxAbsDiff(ours, keras) - floor);
  const ratio = scale > 0 ? diff / scale : diff;
  expect(
    ratio,
    `${what}: max |ours - Keras| ${diff.toExponential(2)} is ${ratio.toExponential(2)} of ${scale.toExponential(2)}`,
  ).toBeLessThanOrEqual(tolerance);
  return ratio;
}

const maxAbs = (a: ArrayLike<number>): number => maxAbsDiff(a, new Float32Array(a.length));

describe.runIf(kerasTestsRun("keras-optimizers.test.ts"))("optimizers and schedules against real Keras", () => {
  let keras: KerasServer;
  let tmp: string;
  let trainSet: LabeledImages;
  let validSet: LabeledImages;
  let initial: { shape: number[]; values: number[] }[];
  const files = { x: "", y: "", vx: "", vy: "" };
  const kerasRuns = new Map<string, Promise<KerasResult>>();

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-opt-"));
    const started = KerasServer.start();
    await initBackend({ backend: "cpu" });
    const data = await loadData(resolveConfig({}));
    const rows = (set: LabeledImages, from: number, n: number): LabeledImages => ({
      x: { data: (set.x.data as Float32Array).slice(from * 784, (from + n) * 784), shape: [n, 28, 28] },
      y: { data: Uint8Array.from(set.y.data as ArrayLike<number>).slice(from, from + n), shape: [n] },
    });
    trainSet = rows(data.train, 0, TRAIN_ROWS);
    validSet = rows(data.valid, 0, VALID_ROWS);
    files.x = writeImages(path.join(tmp, "train.x"), trainSet.x.data as Float32Array);
    files.y = writeLabels(path.join(tmp, "train.y"), trainSet.y.data);
    files.vx = writeImages(path.join(tmp, "valid.x"), validSet.x.data as Float32Array);
    files.vy = writeLabels(path.join(tmp, "valid.y"), validSet.y.data);
    // The project's glorot_uniform draw, given to both sides.
    const model = createModel({ hiddenUnits: HIDDEN, seed: 7 });
    initial = model.getWeights().map((w) => ({ shape: [...w.shape], values: Array.from(w.dataSync()) }));
    model.dispose();
    keras = await started;
    // Keras works through every case while the engines train: requests queue in its one process.
    for (const c of CASES) void kerasRun(c, SEED).catch(() => {});
  });
  afterAll(async () => {
    await keras?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The batches train() takes for config.seed: its own shuffle, each epoch split into batches of 32. */
  function batchOrder(seed: number): number[][][] {
    const random = seededRandom(seed);
    return Array.from({ length: EPOCHS }, () => {
      const order = shuffledIndices(TRAIN_ROWS, random);
      return Array.from({ length: TRAIN_ROWS / 32 }, (_, b) => Array.from(order.subarray(b * 32, (b + 1) * 32)));
    });
  }

  /** Keras's run of a case, once per file (both engines compare with it). */
  function kerasRun(c: Case, seed: number): Promise<KerasResult> {
    let run = kerasRuns.get(c.name);
    if (!run) {
      run = keras.call<KerasResult>("optimizer_steps", {
        hidden: HIDDEN,
        weights: initial,
        optimizer: c.keras.optimizer,
        config: c.keras.config,
        plateau: c.keras.plateau,
        order: batchOrder(seed),
        n: TRAIN_ROWS,
        ...files,
      });
      kerasRuns.set(c.name, run);
    }
    return run;
  }

  for (const engine of ["native", "wasm"] as const) {
    describe(`${engine} engine`, () => {
      beforeAll(async () => {
        await initBackend({ backend: engine, threads: 1 });
      });

      it.each(CASES.map((c) => [c.name, c] as const))("%s: weights, slots, iterations, losses and rates match Keras", async (_, c) => {
        const config = resolveConfig({ hiddenUnits: HIDDEN, epochs: EPOCHS, batchSize: 32, seed: SEED, ...c.ours });
        const model = createModel(config);
        model.setWeights(initial.map((w) => tf.tensor(w.values, w.shape)));
        const history = await train(model, { train: trainSet, valid: validSet }, config, { progress: "none" });
        expect(history.engine?.step).toBe(engine === "native" ? "native" : "dense");
        const theirs = await kerasRun(c, config.seed);

        const weights = model.getWeights().map((w) => w.dataSync());
        const diffs = { weights: 0, slots: 0, loss: 0 };
        weights.forEach((w, i) => {
          const moved = maxAbsDiff(theirs.weights[i]!, initial[i]!.values);
          const ulp = FLOAT32_STEP * maxAbs(theirs.weights[i]!);
          diffs.weights = Math.max(diffs.weights, expectClose(`weight ${i}`, w, theirs.weights[i]!, moved, TOLERANCE.weights, ulp));
        });
        const variables = optimizerVariables(model.optimizer);
        // tfjs's Momentum keeps the velocity in gradient units (a), Keras in parameter units: m = −lr·a.
        const units = variables.className === "Momentum" ? -variables.learningRate() : 1;
        expect(variables.iterations()).toBe(theirs.iterations);
        const state = await variables.snapshot();
        const names = SLOT_NAMES[variables.className]!;
        const index = new Map(model.trainableWeights.map((w, i) => [(w.read() as tf.Variable).name, i]));
        const compared = new Set<string>();
        for (const slot of state.slots) {
          const cut = slot.name.lastIndexOf("/");
          const kind = names[slot.name.slice(cut + 1)];
          const i = index.get(slot.name.slice(0, cut));
          expect(kind, `slot ${slot.name}`).toBeDefined();
          expect(i, `slot ${slot.name}`).toBeDefined();
          const kerasSlot = theirs.slots[kind!]?.[i!];
          // tfjs's RMSProp keeps a momentum slot at momentum 0 too (it holds the last increment), Keras builds none.
          if (!kerasSlot && variables.className === "RMSProp" && kind === "momentum" && !c.ours.momentum) continue;
          expect(kerasSlot, `Keras's slot for ${slot.name}`).toBeDefined();
          const values = slot.values.map((v) => v * units);
          diffs.slots = Math.max(diffs.slots, expectClose(`slot ${slot.name}`, values, kerasSlot!, maxAbs(kerasSlot!), TOLERANCE.slots));
          compared.add(`${kind}/${i}`);
        }
        const kerasSlots = Object.entries(theirs.slots).flatMap(([kind, list]) => list.map((_, i) => `${kind}/${i}`));
        expect([...compared].sort()).toEqual(kerasSlots.sort());

        diffs.loss = expectClose("epoch losses", history.history.loss!, theirs.loss, 1, TOLERANCE.loss);
        expectClose("val_loss", history.history.val_loss!, theirs.val_loss, 1, TOLERANCE.loss);
        // min_delta 0.5 is more than epoch 2's val_loss gain (about 0.38), so the rate halves for epoch 3.
        if (c.ours.lrSchedule?.type === "reduce_on_plateau") {
          expect(theirs.learning_rate.map((r) => Number(r.toPrecision(6)))).toEqual([0.05, 0.05, 0.025]);
        }
        if (c.ours.lrSchedule) {
          expect(history.history.learning_rate).toHaveLength(EPOCHS);
          expectClose(
            "learning rates",
            history.history.learning_rate!,
            theirs.learning_rate,
            maxAbs(theirs.learning_rate),
            TOLERANCE.learningRate,
          );
        }
        console.log(
          `${engine}, ${c.name}: max |ours - Keras| / scale: weights ${diffs.weights.toExponential(1)}, slots ${diffs.slots.toExponential(1)}; ` +
            `loss ${diffs.loss.toExponential(1)}; lr ${theirs.learning_rate.map((r) => r.toPrecision(3)).join(" ")}; val_loss ${theirs.val_loss.map((r) => r.toFixed(4)).join(" ")}`,
        );
        model.dispose();
      });
    });
  }
});
