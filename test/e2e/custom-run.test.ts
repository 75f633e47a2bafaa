import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { asModelInput, trainCustomRun } from "../../lib/runs/custom-run";
import { loadData } from "../../lib/runs/experiment";
import { runCli } from "./spawn";

// A hand-built CNN (Géron's Sequential API, a layer no fast path covers) trained on the real dataset into a run folder,
// interrupted after epoch 1 of 2, then finished, compared and reported by the CLI as any other run.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-custom-e2e-"));
const runDir = path.join(tmp, "my-cnn");
const cli = (...args: string[]) => runCli(args, { timeout: 600_000 });

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("a hand-built model's run folder on the real dataset", () => {
  it("trains 1 of 2 epochs in-process, then `train --resume` finishes it on the CLI with a sane test accuracy", async () => {
    const config = resolveConfig({});
    await initBackend(config);
    const data = await loadData(config);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 4, strides: 4, activation: "relu" }),
        tf.layers.flatten(),
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
    expect(r.stdout).toMatch(/resuming .*my-cnn after epoch 1\/2/);
    const metrics = JSON.parse(fs.readFileSync(path.join(runDir, "metrics.json"), "utf8"));
    expect(metrics.test_accuracy).toBeGreaterThan(0.75);
    expect(fs.readFileSync(path.join(runDir, "history.csv"), "utf8").trim().split("\n")).toHaveLength(3);
  });

  it("compare lists it beside a tutorial run, with \"custom\" for the MLP's fields and adam's rate", async () => {
    const tutorial = path.join(tmp, "tutorial");
    const t = await cli("train", "--epochs", "1", "--hidden", "32", "--no-figures", "--out", tutorial);
    expect(t.status, t.stderr).toBe(0);
    const r = await cli("compare", tutorial, runDir, "--out", tmp);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/my-cnn.*"custom"/);
    expect(r.stdout).toMatch(/my-cnn.*"adam"/);
  });

  it("report renders its architecture from the saved summary and its predictions from the CNN", async () => {
    const r = await cli("report", runDir, "--no-pdf");
    expect(r.status, r.stderr).toBe(0);
    const html = fs.readFileSync(path.join(runDir, "report.html"), "utf8");
    expect(html).toMatch(/A model built by hand/);
    expect(html).toMatch(/conv2d.*Conv2D/);
    expect(html).toMatch(/Test accuracy <b>\d+\.\d+ %<\/b>/);
  });
});
