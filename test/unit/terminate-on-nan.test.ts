import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { createModel } from "../../lib/model/factory";
import { setLearningRate } from "../../lib/optimizers";
import { trainIntoRun } from "../../lib/runs/experiment";
import { createRun } from "../../lib/runs/run";
import { train, TrainingError } from "../../lib/train/fit";
import { syntheticImages } from "../synthetic";

// Keras's TerminateOnNaN: a loss that becomes NaN or infinite stops training at that batch, with a sentence, and the
// run folder keeps the epochs before it and says where it diverged.
const load = loadAddon();
const engines: ("wasm" | "cpu" | "native")[] = ["wasm", "cpu", ...(load.addon ? (["native"] as const) : [])];

async function diverge(backend: "wasm" | "cpu" | "native") {
  // Epoch 1 at a sane rate, then a rate that overflows: the divergence lands in epoch 2, after a checkpointable epoch.
  const config = resolveConfig({ hiddenUnits: [8], epochs: 3, batchSize: 16, learningRate: 0.01, backend, threads: 1, seed: 3 }, {});
  await initBackend(config);
  const model = createModel(config);
  const data = { train: syntheticImages(64, 1), valid: syntheticImages(16, 2) };
  const blowUp = { onEpochEnd: (e: number) => (e === 0 ? setLearningRate(model.optimizer, 1e30) : undefined) };
  try {
    await train(model, data, config, { progress: "none", callbacks: [blowUp] });
  } catch (err) {
    return { err, trainedOn: tf.getBackend() };
  } finally {
    model.dispose();
  }
  throw new Error("training did not diverge");
}

describe.each(engines)("TerminateOnNaN on the %s engine", (backend) => {
  it("stops at the batch where the loss stopped being finite, naming it, with the epochs before it", async () => {
    const { err, trainedOn } = await diverge(backend);
    expect(trainedOn).toBe(backend);
    expect(err).toBeInstanceOf(TrainingError);
    const e = err as TrainingError;
    expect(e.message).toMatch(/^loss became (NaN|Infinity|-Infinity) at epoch 2, batch \d+\/4: training diverged/);
    expect(e.epoch).toBe(1);
    expect(e.history?.epoch).toEqual([0]);
    expect(e.history?.diverged).toMatchObject({ epoch: 1, batch: e.batch });
    expect(Number.isFinite(e.history!.diverged!.loss)).toBe(false);
  });
});

describe("the run folder of a diverged run", () => {
  it("keeps history.csv / history.json of the epochs before, and history.json says where it diverged", async () => {
    const { err } = await diverge("cpu");
    const run = createRun(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fa-nan-")), "run"));
    const rethrown = await trainIntoRun(run, { name: "cpu" } as never, () => Promise.reject(err)).catch((e: unknown) => e);
    expect((rethrown as Error).message).toMatch(/training diverged .*The last good checkpoint is in .*checkpoints$/);
    const json = JSON.parse(fs.readFileSync(run.file("history.json"), "utf8"));
    expect(json.epoch).toEqual([0]);
    expect(json.diverged).toEqual({
      epoch: 1,
      batch: (err as TrainingError).batch,
      loss: String((err as TrainingError).history!.diverged!.loss),
    });
    expect(fs.readFileSync(run.file("history.csv"), "utf8").trim().split("\n")).toHaveLength(2);
  });
});
