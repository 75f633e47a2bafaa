// Models that move both ways, checked with real Keras 3.15 on TensorFlow (one server per file, test/keras/):
// `fashion-ann export` writes a .keras archive that keras.models.load_model opens and that predicts what this project
// predicts on the 10,000 test images; a model trained in Keras, saved as .keras and as .h5, imported with
// `fashion-ann import`, evaluates here as in Keras, and predict, compare and `train --resume` take its run folder;
// bad files get one sentence each.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigOverrides, resolveConfig } from "../../lib/config";
import type { LabeledImages } from "../../lib/data/images";
import { initBackend } from "../../lib/engine/backend";
import { writeKerasArchive } from "../../lib/keras/archive";
import { readKerasModel } from "../../lib/keras/read";
import { toKerasOptimizerVariables } from "../../lib/keras/optimizer-state";
import { optimizerVariables } from "../../lib/optimizers";
import { createModel } from "../../lib/model/factory";
import { resumeCustomRun } from "../../lib/runs/custom-run";
import { loadData } from "../../lib/runs/experiment";
import { existingRun } from "../../lib/runs/run";
import { train as trainModel } from "../../lib/train/fit";
import { seededRandom, shuffledIndices } from "../../lib/train/shuffle";
import { KerasServer, kerasTestsRun, readFloats, writeImages, writeLabels } from "../keras/server";
import { runCli } from "./spawn";

const cli = (...args: string[]) => runCli(args, { timeout: 600_000 });
/** The sentence a refused command prints: one line, no stack. */
const sentence = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("fashion-ann: "));

describe.runIf(kerasTestsRun("keras-exchange.test.ts"))("Keras 3 models both ways, against real Keras", () => {
  let keras: KerasServer;
  let tmp: string;
  let test: LabeledImages;
  let train: LabeledImages;
  const files = { testX: "", testY: "", trainX: "", trainY: "" };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-e2e-"));
    const started = KerasServer.start();
    const config = resolveConfig({});
    await initBackend(config);
    const data = await loadData(config);
    test = data.test;
    // 5,000 training images: enough for BatchNormalization's moving statistics and a trained model, quick in both.
    const n = 5000;
    train = {
      x: { data: data.train.x.data.subarray(0, n * 784), shape: [n, 28, 28] },
      y: { data: data.train.y.data.slice(0, n) as Uint8Array, shape: [n] },
    };
    files.testX = writeImages(path.join(tmp, "test.x"), test.x.data as Float32Array);
    files.testY = writeLabels(path.join(tmp, "test.y"), test.y.data);
    files.trainX = writeImages(path.join(tmp, "train.x"), train.x.data as Float32Array);
    files.trainY = writeLabels(path.join(tmp, "train.y"), train.y.data);
    keras = await started;
  });
  afterAll(async () => {
    await keras?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const exported: [string, ConfigOverrides][] = [
    ["the tutorial's model", {}],
    [
      "BN before leaky_relu, dropout, l2, he_normal",
      { batchNorm: "before", activation: "leaky_relu", dropout: 0.2, l2: 1e-4, initializer: "he_normal" },
    ],
    [
      "BN after selu, lecun_normal, adam",
      { batchNorm: true, activation: "selu", initializer: "lecun_normal", optimizer: "adam", learningRate: 0.001 },
    ],
  ];
  it.each(exported)("%s: Keras's load_model predicts what ours predicts on the 10,000 test images", async (name, overrides) => {
    const config = resolveConfig(overrides);
    const model = createModel(config);
    // 1,000 images: trained weights and BN statistics away from their initial values. Trained as `fashion-ann train`
    // and the notebooks train (the native engine's fused step): tfjs's own model.fit runs the cpu backend's per-op
    // kernels under the native backend, 56-250 ms a step here against about 1 ms.
    const n = 1000;
    const first = {
      x: { data: (train.x.data as Float32Array).subarray(0, n * 784), shape: [n, 28, 28] },
      y: { data: (train.y.data as Uint8Array).subarray(0, n), shape: [n] },
    };
    await trainModel(model, { train: first }, { ...config, epochs: 1 }, { progress: "none" });
    const file = path.join(tmp, `${name.replace(/\W+/g, "-")}.keras`);
    await writeKerasArchive(model, file, { ...config });
    const ours = tf.tidy(() =>
      (model.predict(tf.tensor(test.x.data as Float32Array, [10_000, 28, 28])) as tf.Tensor).dataSync(),
    ) as Float32Array;
    const out = path.join(tmp, "keras.probs");
    await keras.call("predict", { model: file, x: files.testX, out });
    const theirs = readFloats(out);
    expect(theirs.length).toBe(ours.length);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    console.log(`export, ${name}: max |Keras - ours| over 10,000 x 10 probabilities = ${maxDiff.toExponential(2)}`);
    // float32 round-off between two BLAS libraries; a wrong weight, layer order or BN statistic shows as > 1e-2.
    expect(maxDiff).toBeLessThan(1e-5);
    model.dispose();
  });

  // The weights after ten continued steps must be this many times closer to Keras's than a fresh optimizer's are
  // (measured: 4e4 to 2e5 times; "adam" runs Keras's rule, ε added to √v, docs/keras.md).
  const continued: [string, ConfigOverrides, number][] = [
    ["adam", { optimizer: "adam", learningRate: 0.001 }, 1000],
    ["sgd, momentum 0.9, nesterov", { optimizer: "sgd", momentum: 0.9, nesterov: true }, 1000],
    ["rmsprop, momentum 0.5", { optimizer: "rmsprop", learningRate: 0.001, momentum: 0.5 }, 1000],
    ["nadam", { optimizer: "nadam", learningRate: 0.001 }, 1000],
    ["adamw", { optimizer: "adamw", learningRate: 0.001 }, 1000],
    ["adamax", { optimizer: "adamax", learningRate: 0.001 }, 1000],
    ["adagrad", { optimizer: "adagrad", learningRate: 0.01 }, 1000],
    ["adadelta", { optimizer: "adadelta", learningRate: 1 }, 1000],
  ];
  it.each(continued)("%s: the exported optimizer state lets Keras's fit continue as ours does", async (name, overrides, closer) => {
    const config = resolveConfig({ hiddenUnits: [64, 32], batchNorm: true, ...overrides });
    const model = createModel(config);
    // Ten steps here on 320 images, then ten more on the next 320: here, in Keras as exported, and in Keras with a
    // fresh optimizer (the control, which shows how far a lost state moves the weights).
    const batches = (from: number) => ({
      x: tf.tensor((train.x.data as Float32Array).subarray(from * 784, (from + 320) * 784), [320, 28, 28]),
      y: tf.tensor(Float32Array.from((train.y.data as Uint8Array).subarray(from, from + 320)), [320]),
    });
    const first = batches(0);
    await model.fit(first.x, first.y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    const state = await optimizerVariables(model.optimizer).snapshot();
    const vars = toKerasOptimizerVariables(
      state,
      config,
      config.learningRate,
      model.trainableWeights.map((w) => w.shape as number[]),
    );
    if (typeof vars === "string") throw new Error(vars);
    const file = path.join(tmp, `state-${name.replace(/\W+/g, "-")}.keras`);
    await writeKerasArchive(model, file, { ...config }, vars);
    const next = batches(320);
    const nextX = writeImages(path.join(tmp, "next.x"), next.x.dataSync() as Float32Array);
    const nextY = writeLabels(path.join(tmp, "next.y"), (train.y.data as Uint8Array).subarray(320, 640));
    const ours = await model.fit(next.x, next.y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    const ourLoss = ours.history.loss![0] as number;
    const ourWeights = Float32Array.from(model.trainableWeights.flatMap((w) => Array.from(w.read().dataSync())));
    tf.dispose([first.x, first.y, next.x, next.y]);
    model.dispose();
    const out = { out: path.join(tmp, "continued.w"), fresh_out: path.join(tmp, "fresh.w"), slot_out: path.join(tmp, "slot") };
    const keras1 = await keras.call<{ class: string; iterations: number; iterations_after: number; loss: number; fresh_loss: number }>(
      "continue_fit",
      { model: file, x: nextX, y: nextY, ...out },
    );
    expect(keras1.iterations).toBe(10);
    expect(keras1.iterations_after).toBe(20);
    const slot = readFloats(out.slot_out);
    const written = vars[2]!.data as Float32Array;
    expect(slot.length).toBe(written.length);
    expect(maxAbsDiff(slot, written)).toBe(0);
    const theirs = readFloats(out.out);
    const fresh = readFloats(out.fresh_out);
    const diff = maxAbsDiff(ourWeights, theirs);
    const control = maxAbsDiff(fresh, theirs);
    console.log(
      `optimizer state, ${name}: Keras ${keras1.class} at iterations ${keras1.iterations}; after 10 more steps max |Keras - ours| ` +
        `${diff.toExponential(2)} (fresh optimizer: ${control.toExponential(2)}); epoch loss ours ${ourLoss.toFixed(5)}, ` +
        `Keras ${keras1.loss.toFixed(5)}, Keras with a fresh optimizer ${keras1.fresh_loss.toFixed(5)}`,
    );
    // A lost or misplaced state moves the weights as far as the control; float32 round-off stays far below it.
    expect(diff).toBeLessThan(control / closer);
    expect(Math.abs(ourLoss - keras1.loss)).toBeLessThan(1e-3);
  });

  // Keras trains 157 steps and saves both formats; the .h5 is imported here and fine-tuned with train --resume's own
  // code (resumeCustomRun) for 10 steps, while Keras continues from the .keras saved at the same moment (Keras 3.15's
  // own load_model of a legacy .h5 restores only the iteration count: it builds the optimizer on the Sequential's
  // empty _trainable_variables, and its fit then refuses the model's variables). The control is Keras with a fresh
  // optimizer, which shows how far a lost state would move the weights.
  const fromH5: [string, string | Record<string, unknown>][] = [
    ["adam", "adam"],
    ["sgd, momentum 0.9, nesterov", { class_name: "SGD", config: { learning_rate: 0.01, momentum: 0.9, nesterov: true } }],
    ["rmsprop, momentum 0.5", { class_name: "RMSprop", config: { momentum: 0.5 } }],
  ];
  it.each(fromH5)(
    "%s: a legacy .h5 saved with its optimizer imports its state and train --resume continues Keras's fit",
    async (name, optimizer) => {
      const base = path.join(tmp, `h5-state-${name.replace(/\W+/g, "-")}`);
      await keras.call("train_save", {
        hidden_units: [64, 32],
        batch_norm: true,
        optimizer,
        epochs: 1,
        x: files.trainX,
        y: files.trainY,
        save: [`${base}.keras`, `${base}.h5`],
      });
      const [fromKeras, fromLegacy] = await Promise.all([readKerasModel(`${base}.keras`), readKerasModel(`${base}.h5`)]);
      fromKeras.model.dispose();
      fromLegacy.model.dispose();
      // The two files carry one state: the .h5's optimizer_weights are the .keras archive's optimizer/vars, in order.
      expect(fromLegacy.noOptimizerState).toBeUndefined();
      expect(fromLegacy.optimizerVariables?.map((v) => Array.from(v.data, Number))).toEqual(
        fromKeras.optimizerVariables?.map((v) => Array.from(v.data, Number)),
      );
      const runDir = `${base}-run`;
      const imported = await cli("import", `${base}.h5`, "--out", runDir);
      expect(imported.status, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/optimizer: Keras's \w+ state after 157 steps, which train --resume continues/);
      // The next 320 images, in the order the resumed run's seeded shuffle takes them, are Keras's batches too.
      const run = existingRun(runDir);
      const seed = run.readJson<{ seed: number }>("config.json").seed;
      const order = shuffledIndices(320, seededRandom(seed));
      const nextX = new Float32Array(320 * 784);
      const nextY = new Uint8Array(320);
      order.forEach((src, i) => {
        nextX.set((train.x.data as Float32Array).subarray((4000 + src) * 784, (4001 + src) * 784), i * 784);
        nextY[i] = (train.y.data as Uint8Array)[4000 + src]!;
      });
      const next = {
        x: { data: (train.x.data as Float32Array).slice(4000 * 784, 4320 * 784), shape: [320, 28, 28] },
        y: { data: (train.y.data as Uint8Array).slice(4000, 4320), shape: [320] },
      };
      const resumed = await resumeCustomRun(run, { data: { train: next }, epochs: 1, progress: "none", log: () => {} });
      const ourLoss = resumed.history.history.loss![0] as number;
      const model = await run.loadModel();
      const ourWeights = Float32Array.from(model.trainableWeights.flatMap((w) => Array.from(w.read().dataSync())));
      model.dispose();
      const out = { out: `${base}.continued`, fresh_out: `${base}.fresh`, slot_out: `${base}.slot` };
      const theirs = await keras.call<{ class: string; iterations: number; iterations_after: number; loss: number; fresh_loss: number }>(
        "continue_fit",
        {
          model: `${base}.keras`,
          x: writeImages(`${base}.next.x`, nextX),
          y: writeLabels(`${base}.next.y`, nextY),
          ...out,
        },
      );
      expect(theirs.iterations).toBe(157);
      expect(theirs.iterations_after).toBe(167);
      const diff = maxAbsDiff(ourWeights, readFloats(out.out));
      const control = maxAbsDiff(readFloats(out.fresh_out), readFloats(out.out));
      console.log(
        `.h5 optimizer state, ${name}: Keras ${theirs.class} at iterations ${theirs.iterations}; after 10 more steps max |Keras - ours| ` +
          `${diff.toExponential(2)} (fresh optimizer: ${control.toExponential(2)}); epoch loss ours ${ourLoss.toFixed(5)}, ` +
          `Keras ${theirs.loss.toFixed(5)}, Keras with a fresh optimizer ${theirs.fresh_loss.toFixed(5)}`,
      );
      // A lost or misplaced state moves the weights as far as the control; float32 round-off stays far below it.
      expect(diff).toBeLessThan(control / 1000);
      expect(Math.abs(ourLoss - theirs.loss)).toBeLessThan(1e-4);
    },
  );

  it("refuses a layer the format does not cover, naming it in one sentence", async () => {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 2, kernelSize: 3, name: "conv" }), tf.layers.flatten()],
    });
    await expect(writeKerasArchive(model, path.join(tmp, "conv.keras"))).rejects.toThrow(
      /^layer "conv" is a Conv2D, which the Keras exchange does not cover; it handles Flatten, Dense, BatchNormalization, Dropout, LeakyReLU and Activation layers in a Sequential model$/,
    );
  });

  it("a run exported on the CLI opens in Keras compiled: its evaluate() matches ours", async () => {
    const runDir = path.join(tmp, "run");
    const trained = await cli("train", "--epochs", "1", "--set", "batchNorm=true", "--set", "dropout=0.2", "--out", runDir);
    expect(trained.status, trained.stderr).toBe(0);
    const exported = await cli("export", runDir, "--out", path.join(tmp, "run.keras"));
    expect(exported.status, exported.stderr).toBe(0);
    const ours = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8")) as { test_loss: number; test_accuracy: number };
    const theirs = await keras.call<{ loss: number; accuracy: number }>("evaluate", {
      model: path.join(tmp, "run.keras"),
      x: files.testX,
      y: files.testY,
    });
    console.log(
      `export CLI: ours loss ${ours.test_loss.toFixed(5)} acc ${ours.test_accuracy}, Keras loss ${theirs.loss.toFixed(5)} acc ${theirs.accuracy}`,
    );
    expect(Math.abs(theirs.loss - ours.test_loss)).toBeLessThan(1e-4);
    expect(theirs.accuracy).toBeCloseTo(ours.test_accuracy, 4);
    const summary = await keras.call<{ layers: string[] }>("summary", { model: path.join(tmp, "run.keras") });
    expect(summary.layers).toEqual([
      "Flatten",
      "Dense",
      "BatchNormalization",
      "Dropout",
      "Dense",
      "BatchNormalization",
      "Dropout",
      "Dense",
    ]);
  });

  it("a model trained in Keras, saved as .keras and .h5, imports and evaluates here as in Keras; predict, compare and train --resume take it", async () => {
    const keras1 = path.join(tmp, "keras-trained.keras");
    const h5 = path.join(tmp, "keras-trained.h5");
    await keras.call("train_save", {
      hidden_units: [64, 32],
      batch_norm: true,
      dropout: 0.1,
      optimizer: "adam",
      epochs: 2,
      x: files.trainX,
      y: files.trainY,
      save: [keras1, h5],
    });
    const reference = await keras.call<{ loss: number; accuracy: number }>("evaluate", { model: keras1, x: files.testX, y: files.testY });
    for (const file of [keras1, h5]) {
      const runDir = path.join(tmp, `imported-${path.extname(file).slice(1)}`);
      const imported = await cli("import", file, "--out", runDir);
      expect(imported.status, imported.stderr).toBe(0);
      // 2 epochs of 157 batches: both formats carry Adam's state (the .h5 in its optimizer_weights group).
      expect(imported.stdout).toMatch(/optimizer: Keras's Adam state after 314 steps/);
      const evaluated = await cli("evaluate", runDir);
      expect(evaluated.status, evaluated.stderr).toBe(0);
      const ours = JSON.parse(evaluated.stdout.trim().split("\n").pop()!) as { test_loss: number; test_accuracy: number };
      console.log(
        `import ${path.basename(file)}: ours loss ${ours.test_loss.toFixed(5)} acc ${ours.test_accuracy}, Keras loss ${reference.loss.toFixed(5)} acc ${reference.accuracy}`,
      );
      expect(Math.abs(ours.test_loss - reference.loss)).toBeLessThan(1e-4);
      expect(ours.test_accuracy).toBeCloseTo(reference.accuracy, 4);
    }
    const runDir = path.join(tmp, "imported-h5");
    const predicted = await cli("predict", runDir, "--test-index", "0");
    expect(predicted.stdout).toMatch(/^test\[0\]: \S/m);
    const resumed = await cli("train", "--resume", runDir, "--epochs", "1");
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/test_accuracy 0\.[89]/);
    const compared = await cli("compare", path.join(tmp, "imported-keras"), runDir, "--out", tmp);
    expect(compared.status, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/imported-h5/);
  });

  it("a bad file, a non-Keras HDF5, a missing file and an unsupported layer each get one sentence", async () => {
    const text = path.join(tmp, "notes.keras");
    fs.writeFileSync(text, "not a model\n");
    const plain = path.join(tmp, "plain.h5");
    await keras.call("write_plain_h5", { save: plain });
    const conv = path.join(tmp, "conv.keras");
    await keras.call("save_conv", { save: conv });
    const cases: [string, RegExp][] = [
      [text, /is neither a Keras \.keras archive \(a zip\) nor an HDF5 file/],
      [plain, /is an HDF5 file without a Keras model_config, so not a model saved by Keras's model\.save/],
      [conv, /layer "reshape" is a Reshape, which this project cannot run; it reads Flatten, Dense/],
      [path.join(tmp, "missing.keras"), /missing\.keras/],
    ];
    for (const [file, expected] of cases) {
      const r = await cli("import", file, "--out", path.join(tmp, "refused"));
      expect(r.status, r.stderr).toBe(1);
      expect(sentence(r.stderr)).toHaveLength(1);
      expect(sentence(r.stderr)[0]).toMatch(expected);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(tmp, "refused"))).toBe(false);
    }
  });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
