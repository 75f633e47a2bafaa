import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { createModel } from "../../lib/model/factory";
import { tensorBoardCallback, tensorBoardCallbacks } from "../../lib/train/callbacks/tensorboard";
import { train } from "../../lib/train/fit";
import { syntheticImages } from "../synthetic";
import { readEventFile } from "../tensorboard-reader";

const tiny = { hiddenUnits: [8], learningRate: 0.05, seed: 7 };
const data = { train: syntheticImages(64, 1), valid: syntheticImages(16, 2) };
const eventsIn = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.includes("tfevents"))
    .flatMap((f) => readEventFile(path.join(dir, f)));

describe("tensorBoardCallback", () => {
  it("writes Keras's layout: train/ epoch_loss, epoch_accuracy, epoch_learning_rate and validation/ epoch_loss, epoch_accuracy per epoch", async () => {
    const logDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tb-")), "logs");
    const model = createModel(tiny);
    const callbacks = [tensorBoardCallback(model, logDir, { histogramFreq: 0, updateFreq: "epoch" })];
    const history = await train(model, data, { epochs: 2, batchSize: 16, seed: 1 }, { progress: "none", callbacks });
    expect(fs.readdirSync(logDir).sort()).toEqual(["train", "validation"]);
    const scalars = (dir: string, tag: string) => eventsIn(path.join(logDir, dir)).filter((v) => v.tag === tag);
    const f32 = (xs: number[]) => xs.map(Math.fround);
    expect(scalars("train", "epoch_loss").map((v) => [v.step, v.simpleValue])).toEqual(f32(history.history.loss!).map((v, i) => [i, v]));
    expect(scalars("train", "epoch_accuracy").map((v) => v.simpleValue)).toEqual(f32(history.history.accuracy!));
    expect(scalars("train", "epoch_learning_rate").map((v) => v.simpleValue)).toEqual(f32([0.05, 0.05]));
    expect(scalars("validation", "epoch_loss").map((v) => v.simpleValue)).toEqual(f32(history.history.val_loss!));
    expect(scalars("validation", "epoch_accuracy").map((v) => v.simpleValue)).toEqual(f32(history.history.val_accuracy!));
  });

  it("updateFreq 2 writes batch_loss and batch_accuracy at every 2nd global batch; histogramFreq 2 writes weights at epochs 0 and 2", async () => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tb-"));
    const model = createModel(tiny);
    const callbacks = [tensorBoardCallback(model, logDir, { histogramFreq: 2, updateFreq: 2 })];
    await train(model, data, { epochs: 3, batchSize: 16, seed: 1 }, { progress: "none", callbacks });
    const train_ = eventsIn(path.join(logDir, "train"));
    expect(train_.filter((v) => v.tag === "batch_loss").map((v) => v.step)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(train_.filter((v) => v.tag === "batch_accuracy")).toHaveLength(6);
    const histograms = train_.filter((v) => v.histogram);
    expect([...new Set(histograms.map((v) => v.tag))]).toEqual([
      "dense/kernel/histogram",
      "dense/bias/histogram",
      "dense_1/kernel/histogram",
      "dense_1/bias/histogram",
    ]);
    expect([...new Set(histograms.map((v) => v.step))]).toEqual([0, 2]);
  });

  it("tensorBoard: false gives no callback", () => {
    expect(tensorBoardCallbacks(createModel(tiny), "unused", false)).toEqual([]);
  });
});
