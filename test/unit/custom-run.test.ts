import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { summarizeRuns, comparisonTable } from "../../lib/runs/compare";
import { readRunConfig, resumeCustomRun, trainCustomRun } from "../../lib/runs/custom-run";
import { environment, Run } from "../../lib/runs/run";
import type { LabeledImages } from "../../lib/train/fit";
import { seededRandom } from "../../lib/train/shuffle";
import { createOptimizer } from "../../lib/optimizers";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { skipWithoutAddon } from "../native";

function synthetic(n: number, seed: number, shape: number[] = [28, 28]): LabeledImages {
  const random = seededRandom(seed);
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 10;
    for (let j = 0; j < 784; j++) x[i * 784 + j] = Math.min(1, (y[i]! / 10) * random() * 2);
  }
  return { x: { data: x, shape: [n, ...shape] }, y: { data: y, shape: [n] } };
}

const data = { train: synthetic(48, 1), valid: synthetic(16, 2), test: synthetic(16, 3) };
const config = resolveConfig({ backend: "cpu" }, {});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-custom-"));
const quiet = { progress: "none" as const, log: () => {} };
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

/** Géron's Sequential API by hand: Flatten, Dense + Dropout, softmax; seeded, compiled with tfjs's own Adam. */
function denseDropout(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28] }),
      tf.layers.dense({ units: 16, activation: "relu", kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

/** A small CNN no fast path covers (the generic tf.variableGrads step), SGD with Nesterov momentum. */
function smallCnn(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 2,
        kernelSize: 5,
        strides: 4,
        activation: "relu",
        kernelInitializer: tf.initializers.heNormal({ seed: 3 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  model.compile({
    optimizer: createOptimizer({ optimizer: "sgd", learningRate: 0.05, momentum: 0.9, nesterov: true }),
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
  });
  return model;
}

const cnnData = { train: synthetic(48, 1, [28, 28, 1]), valid: synthetic(16, 2, [28, 28, 1]), test: synthetic(16, 3, [28, 28, 1]) };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("trainCustomRun: a hand-built model as a run folder", () => {
  it("writes config (architecture custom, optimizer and rate read from the model), model.json, summary, checkpoints, history, model, metrics", async () => {
    const dir = path.join(tmp(), "dense-dropout");
    const model = denseDropout();
    const { metrics } = await trainCustomRun(model, data, dir, { epochs: 2, batchSize: 16, config, ...quiet });
    for (const f of [
      "config.json",
      "model.json",
      "summary.txt",
      "environment.json",
      "history.csv",
      "history.json",
      "metrics.json",
      "checkpoints/last.json",
      "model/model.json",
    ]) {
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    }
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    expect(saved).toMatchObject({
      model: "custom",
      hiddenUnits: "custom",
      dropout: "custom",
      optimizer: "adam",
      learningRate: 0.01,
      epochs: 2,
      batchSize: 16,
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      samples: 48,
    });
    expect(saved.optimizerConfig).toMatchObject({ className: "Adam", config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999 } });
    expect(saved.layers).toEqual(model.layers.map((l) => `${l.name} (${l.getClassName()})`));
    expect(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")).class_name).toBe("Sequential");
    expect(fs.readFileSync(path.join(dir, "summary.txt"), "utf8")).toMatch(/dropout.*Dropout/);
    expect(fs.readdirSync(path.join(dir, "checkpoints", "epoch-002"))).toEqual(expect.arrayContaining(["optimizer.json", "optimizer.bin"]));
    expect(metrics?.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(readRunConfig(new Run(dir)).config).toMatchObject({ optimizer: "adam", learningRate: 0.01, hiddenUnits: [300, 100] });
    model.dispose();
  });

  it('compare: the hand-built run is a row with its optimizer and rate, "custom" for the MLP\'s fields', async () => {
    const root = tmp();
    const custom = path.join(root, "cnn");
    const model = smallCnn();
    await trainCustomRun(model, cnnData, custom, { epochs: 1, batchSize: 16, config, ...quiet });
    model.dispose();
    const tutorial = new Run(path.join(root, "tutorial"));
    fs.mkdirSync(tutorial.dir);
    tutorial.writeJson("config.json", resolveConfig({ epochs: 1 }, {}));
    tutorial.saveHistory({
      epoch: [0],
      history: { loss: [0.5], accuracy: [0.8], val_loss: [0.4], val_accuracy: [0.85] },
      params: { epochs: 1, steps: 1, batchSize: 32, samples: 1 },
    });
    const table = comparisonTable(summarizeRuns([tutorial.dir, custom]));
    const rows = dfdRows(table);
    expect(table.columns).toEqual(expect.arrayContaining(["run", "hidden", "act", "lr", "mom", "nesterov", "batch"]));
    expect(table.columns).not.toContain("layers");
    expect(rows[1]).toMatchObject({
      run: "cnn",
      hidden: "custom",
      lr: "0.05",
      mom: "0.9",
      nesterov: "true",
      batch: "16",
    });
    expect(rows[0]).toMatchObject({ run: "tutorial", hidden: "[300,100]", lr: "0.01" });
  });

  it.each([
    ["a Dense + Dropout stack with Adam", denseDropout, data],
    ["a CNN with Nesterov SGD (generic step)", smallCnn, cnnData],
  ])("resume after 2 of 4 epochs == uninterrupted, for %s: history, weights, optimizer iterations", async (_name, build, sets) => {
    const straight = build();
    const full = await trainCustomRun(straight, sets, path.join(tmp(), "straight"), { epochs: 4, batchSize: 16, config, ...quiet });

    const dir = path.join(tmp(), "interrupted");
    const first = build();
    const stop = {
      onEpochEnd: (e: number) => {
        if (e === 1) first.stopTraining = true;
      },
    };
    const cut = await trainCustomRun(first, sets, dir, { epochs: 4, batchSize: 16, config, callbacks: stop, ...quiet });
    expect(cut.history.epoch).toEqual([0, 1]);
    expect(cut.metrics).toBeUndefined();
    first.dispose();

    const resumed = await resumeCustomRun(new Run(dir), { data: sets, ...quiet });
    expect(resumed.history.epoch).toEqual([0, 1, 2, 3]);
    expect(resumed.history.history).toEqual(full.history.history);
    const last = JSON.parse(fs.readFileSync(path.join(dir, "checkpoints", "last.json"), "utf8"));
    const straightLast = JSON.parse(fs.readFileSync(path.join(full.run.dir, "checkpoints", "last.json"), "utf8"));
    expect(last.epoch).toBe(3);
    expect(fs.readFileSync(path.join(dir, "checkpoints", last.dir, "weights.bin"))).toEqual(
      fs.readFileSync(path.join(full.run.dir, "checkpoints", straightLast.dir, "weights.bin")),
    );
    expect(fs.readFileSync(path.join(dir, "checkpoints", last.dir, "optimizer.bin"))).toEqual(
      fs.readFileSync(path.join(full.run.dir, "checkpoints", straightLast.dir, "optimizer.bin")),
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, "checkpoints", last.dir, "optimizer.json"), "utf8")).iterations).toBe(4 * 3);
    expect(resumed.metrics?.test_loss).toBeCloseTo(full.metrics!.test_loss, 6);
    expect(weightsOf(straight)).toEqual(weightsOf(await new Run(dir).loadModel()));
    straight.dispose();
  });
});

describe("trainCustomRun and resumeCustomRun refuse bad input in one sentence", () => {
  it("an uncompiled model", async () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28] }), tf.layers.dense({ units: 10 })] });
    await expect(trainCustomRun(model, data, path.join(tmp(), "x"), { epochs: 1, ...quiet })).rejects.toThrow(
      /model "sequential_\d+" is not compiled; call model\.compile/,
    );
  });

  it("an out folder that is a file", async () => {
    const file = path.join(tmp(), "a-file");
    fs.writeFileSync(file, "x");
    await expect(trainCustomRun(denseDropout(), data, file, { epochs: 1, ...quiet })).rejects.toThrow(
      /run folder .*a-file is a file, expected a folder/,
    );
  });

  it("an out folder that holds another run, unless overwrite", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "history.csv"), "epoch\n");
    await expect(trainCustomRun(denseDropout(), data, dir, { epochs: 1, ...quiet })).rejects.toThrow(
      /run folder .* already exists and is not empty/,
    );
    await trainCustomRun(denseDropout(), data, dir, { epochs: 1, overwrite: true, config, ...quiet });
    expect(fs.existsSync(path.join(dir, "model.json"))).toBe(true);
  });

  it("a first epoch that fails (images of another shape) removes what it wrote, so the same call can run again", async () => {
    const dir = path.join(tmp(), "run");
    const wrongShape = { train: { x: { data: new Float32Array(48 * 27 * 27), shape: [48, 27, 27] }, y: data.train.y } };
    await expect(trainCustomRun(denseDropout(), wrongShape, dir, { epochs: 1, config, ...quiet })).rejects.toThrow(/shape/);
    expect(fs.existsSync(dir)).toBe(false);
    await trainCustomRun(denseDropout(), data, dir, { epochs: 1, config, ...quiet });
    expect(fs.existsSync(path.join(dir, "history.csv"))).toBe(true);
  });

  it("a resume whose model.json is missing", async () => {
    const dir = path.join(tmp(), "run");
    await trainCustomRun(denseDropout(), data, dir, { epochs: 1, config, ...quiet });
    fs.rmSync(path.join(dir, "model.json"));
    await expect(resumeCustomRun(new Run(dir), { data, epochs: 2, ...quiet })).rejects.toThrow(
      /model\.json is missing, so the hand-built model of this run cannot be rebuilt/,
    );
  });
});

describe("environment.json names the engine that trained", () => {
  it("the switched-to engine as backend, the one chosen at start and the reason beside it", () => {
    const native = { name: "native" as const, tfjsVersion: "4.22.0", skipped: [] };
    const wasm = { name: "wasm" as const, simd: true, threads: 2, tfjsVersion: "4.22.0", skipped: [] };
    const env = environment(native, { from: "native", to: wasm, reason: "the fused native step does not cover batchNorm" });
    expect(env.backend).toEqual(wasm);
    expect(env.backendAtStart).toEqual(native);
    expect(env.backendSwitch).toMatch(/does not cover batchNorm; trained on wasm instead/);
    expect(environment(native)).not.toHaveProperty("backendAtStart");
  });
});

const addon = loadAddon();
const skipNative = skipWithoutAddon(addon);

describe.skipIf(skipNative)(
  `environment.json after training on the native engine${addon.addon ? "" : ` (skipped: ${addon.reason})`}`,
  () => {
    it("a model the fused step hands to wasm (tfjs's own Adadelta rule): environment.json's backend is wasm, backendAtStart native", async () => {
      const started = await initBackend("native");
      const model = tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28] }),
          tf.layers.dense({ units: 8, activation: "relu" }),
          tf.layers.dense({ units: 10, activation: "softmax" }),
        ],
      });
      model.compile({ optimizer: tf.train.adadelta(1), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      const dir = path.join(tmp(), "adadelta");
      const { metrics } = await trainCustomRun(model, data, dir, { epochs: 1, batchSize: 16, backend: started, ...quiet });
      const env = JSON.parse(fs.readFileSync(path.join(dir, "environment.json"), "utf8"));
      expect(metrics?.backend).toBe("wasm");
      expect(env.backend.name).toBe("wasm");
      expect(env.backendAtStart.name).toBe("native");
      expect(env.backendSwitch).toMatch(/Adadelta.*; trained on wasm instead/);
      model.dispose();
      await tf.setBackend("cpu");
    });
  },
);

/** A danfojs DataFrame's rows as objects of strings. */
function dfdRows(df: { columns: string[]; values: unknown }): Record<string, string>[] {
  return (df.values as unknown[][]).map((row) => Object.fromEntries(df.columns.map((c, i) => [c, String(row[i])])));
}
