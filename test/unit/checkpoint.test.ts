import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkpointCallback, earlyStopping, loadCheckpoint, readPointer } from "../../lib/train/callbacks/checkpoint";
import { createModel } from "../../lib/model/factory";
import { train, TrainingError } from "../../lib/train/fit";
import { syntheticImages } from "../synthetic";

const data = { train: syntheticImages(48, 1), valid: syntheticImages(16, 2) };
const tiny = { hiddenUnits: [8], learningRate: 0.05, seed: 5 };
const cfg = { epochs: 4, batchSize: 16, seed: 9 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-ckpt-"));
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("checkpoints and resume", () => {
  it("an interrupted run resumed from its last checkpoint ends exactly like an uninterrupted one", async () => {
    const straight = createModel(tiny);
    const full = await train(straight, data, cfg, { progress: "none", callbacks: checkpointCallback(straight, tmp()) });

    const dir = tmp();
    const first = createModel(tiny);
    const stopAfterSecond = {
      onEpochEnd: (e: number) => {
        if (e === 1) first.stopTraining = true;
      },
    };
    const partial = await train(first, data, cfg, { progress: "none", callbacks: [checkpointCallback(first, dir), stopAfterSecond] });
    expect(partial.epoch).toEqual([0, 1]);
    expect(partial.stopped).toBe(true);

    const { model: resumed, pointer } = await loadCheckpoint(dir, "last", { learningRate: tiny.learningRate });
    expect(pointer.epoch).toBe(1);
    const initialHistory = { ...pointer.history, params: full.params };
    const rest = await train(resumed, data, cfg, {
      progress: "none",
      initialHistory,
      callbacks: checkpointCallback(resumed, dir, initialHistory),
    });

    expect(rest.epoch).toEqual([0, 1, 2, 3]);
    expect(rest.history).toEqual(full.history);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    expect(readPointer(dir, "last")!.history.epoch).toEqual([0, 1, 2, 3]);
  });

  it("keeps only the last and best epoch folders, each complete", async () => {
    const dir = tmp();
    const model = createModel(tiny);
    await train(model, data, cfg, { progress: "none", callbacks: checkpointCallback(model, dir) });
    const folders = fs.readdirSync(dir).filter((f) => f.startsWith("epoch-"));
    expect(new Set(folders)).toEqual(new Set([readPointer(dir, "last")!.dir, readPointer(dir, "best")!.dir]));
    for (const f of folders)
      expect(fs.readdirSync(path.join(dir, f)).sort()).toEqual(["model.json", "optimizer.bin", "optimizer.json", "weights.bin"]);
  });

  it("resuming with no completed epoch says so", async () => {
    await expect(loadCheckpoint(tmp(), "last")).rejects.toThrow(/last.json does not exist: no epoch was completed/);
  });
});

describe("early stopping", () => {
  it("stops after `patience` epochs without a better val_loss and restores the best weights", async () => {
    const model = createModel({ ...tiny, learningRate: 5 }); // a step this large makes val_loss bounce
    const seen: tf.Tensor[][] = [];
    const stopper = earlyStopping(model, 2);
    const record = {
      onEpochEnd: () => {
        seen.push(model.getWeights().map((w) => w.clone()));
      },
    };
    const h = await train(model, data, { ...cfg, epochs: 30 }, { progress: "none", callbacks: [stopper, record] });
    const losses = h.history.val_loss!;
    const best = losses.indexOf(Math.min(...losses));
    expect(stopper.bestEpoch()).toBe(best);
    expect(stopper.stopped()).toBe(true);
    expect(h.epoch.length).toBe(best + 3);
    expect(weightsOf(model)).toEqual(seen[best]!.map((w) => Array.from(w.dataSync())));
  });
});

describe("divergence", () => {
  it("a NaN loss stops training with a message naming the epoch and batch", async () => {
    const model = createModel({ ...tiny, learningRate: 1e30 });
    await expect(train(model, data, { ...cfg, epochs: 20 }, { progress: "none" })).rejects.toThrow(TrainingError);
    const again = createModel({ ...tiny, learningRate: 1e30 });
    await expect(train(again, data, { ...cfg, epochs: 20 }, { progress: "none" })).rejects.toThrow(
      /loss became (NaN|Infinity) at epoch \d+, batch \d+\/3: training diverged/,
    );
  });
});
