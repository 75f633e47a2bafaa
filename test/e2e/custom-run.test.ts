import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { asModelInput, trainCustomRun } from "../../lib/runs/custom-run";
import { loadData } from "../../lib/runs/experiment";
import { runCli } from "./spawn";

// A hand-built model (Géron's Sequential API; images as [n, 28, 28, 1], batch norm) trained on the real dataset into a run folder, interrupted after epoch 1 of 2, then finished, compared and
// reported by the CLI as any other run. (A CNN is covered by the unit tests: on the cpu kernels it costs minutes here.)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-custom-e2e-"));
const runDir = path.join(tmp, "hand-built");
const cli = (...args: string[]) => runCli(args, { timeout: 600_000 });

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("a hand-built model's run folder on the real dataset", () => {
  it("trains 1 of 2 epochs in-process, then `train --resume` finishes it on the CLI with a sane test accuracy", async () => {
    const config = resolveConfig({});
    const started = await initBackend(config);
    const data = await loadData(config);
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 64, activation: "relu", kernelInitializer: "heNormal" }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.003), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
    const shaped = (set: typeof data.train) => ({ x: asModelInput(model, set.x), y: set.y });
    const stop = {
      onEpochEnd: () => {
        model.stopTraining = true;
      },
    };
    const first = await trainCustomRun(model, { train: shaped(data.train), valid: shaped(data.valid) }, runDir, {
      epochs: 2,
      config,
      callbacks: stop,
      progress: "none",
    });
    expect(first.history.epoch).toEqual([0]);
    model.dispose();

    const r = await cli("train", "--resume", runDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming .*hand-built after epoch 1\/2/);
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8"));
    expect(metrics.test_accuracy).toBeGreaterThan(0.75);
    expect(fs.readFileSync(path.join(runDir, "history.csv"), "utf8").trim().split("\n")).toHaveLength(3);
    // The engine that trained is the one auto started (native where the addon built): the fused step covers this
    // stack, batch norm included, so nothing moved and environment.json records no switch.
    const env = JSON.parse(fs.readFileSync(path.join(runDir, "environment.json"), "utf8"));
    expect(started.name).toBe(loadAddon().addon ? "native" : "wasm");
    expect(metrics.backend).toBe(started.name);
    expect(env.backend.name).toBe(started.name);
    expect(env.backendAtStart).toBeUndefined();
  });

  it("compare lists it beside a tutorial run, with \"custom\" for the MLP's fields and adam's rate", async () => {
    const tutorial = path.join(tmp, "tutorial");
    const t = await cli("train", "--epochs", "1", "--hidden", "32", "--no-figures", "--out", tutorial);
    expect(t.status, t.stderr).toBe(0);
    const r = await cli("compare", tutorial, runDir, "--out", tmp);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hand-built.*│ custom /);
    expect(r.stdout).toMatch(/hand-built.*│ adam /);
  });

  it("report renders its architecture from the saved summary and its predictions from the [n, 28, 28, 1] model", async () => {
    const r = await cli("report", runDir, "--no-pdf");
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(path.join(runDir, "report.html"), "utf8");
    expect(html).toMatch(/A model built by hand/);
    expect(html).toMatch(/batch_normalization.*BatchNormalization/);
    expect(html).toMatch(/Test accuracy <b>\d+\.\d+ %<\/b>/);
  });
});
