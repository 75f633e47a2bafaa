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
import { createModel } from "../../lib/model/factory";
import { loadData } from "../../lib/runs/experiment";
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
    // 1,000 images: trained weights and BN statistics away from their initial values, in seconds on any backend.
    const n = 1000;
    const x = tf.tensor((train.x.data as Float32Array).subarray(0, n * 784), [n, 28, 28]);
    const y = tf.tensor(Float32Array.from(train.y.data).subarray(0, n), [n]);
    await model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0 });
    tf.dispose([x, y]);
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
