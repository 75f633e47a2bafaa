// Notebook 04 run alone (issue 23): startNotebook, compile, fit with checkpoints, then the notebook's saveHistory. The
// run folder used to have no config.json (notebook 01 wrote it), so compare and `train --resume` refused it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createModel } from "../../lib/model/factory";
import { summarizeRuns } from "../../lib/runs/compare";
import { readRunConfig } from "../../lib/runs/custom-run";
import { fit as notebookFit, startNotebook } from "../../lib/notebook/session";
import { existingRun } from "../../lib/runs/run";
import { checkpointCallback, loadCheckpoint } from "../../lib/train/callbacks/checkpoint";
import { createOptimizer } from "../../lib/optimizers";
import { syntheticImages } from "../synthetic";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-notebook-run-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("a notebook's fit makes its run folder a complete run", () => {
  it("startNotebook + fit (notebook 04 alone) leave config.json and environment.json: compare reads it, the checkpoint resumes", async () => {
    const runDir = path.join(tmp, "interactive");
    vi.spyOn(console, "log").mockImplementation(() => {});
    const { config, run } = await startNotebook({ backend: "cpu", hiddenUnits: [8], epochs: 30 }, runDir);
    vi.restoreAllMocks();
    expect(fs.existsSync(path.join(runDir, "config.json"))).toBe(false);
    const model = createModel(config);
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: createOptimizer(config), metrics: ["accuracy"] });
    const train = syntheticImages(64, 1);
    const valid = syntheticImages(32, 2);
    const history = await notebookFit(model, train.x, train.y, {
      epochs: 2,
      batchSize: 16,
      validationData: [valid.x, valid.y],
      callbacks: checkpointCallback(model, run.checkpointsDir),
      seed: config.seed,
      progress: "none",
      curves: false,
    });
    run.saveHistory(history);

    expect(() => existingRun(runDir)).not.toThrow();
    // What ran: the session's model and optimizer fields, fit's epochs and batch size.
    const recorded = readRunConfig(run).config;
    expect(recorded).toMatchObject({ hiddenUnits: [8], optimizer: "sgd", learningRate: 0.01, epochs: 2, batchSize: 16, seed: 42 });
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "environment.json"), "utf8")).backend.name).toBe("cpu");
    const [summary] = summarizeRuns([runDir]);
    expect(summary!.history.epoch).toEqual([0, 1]);
    // `train --resume` starts here: the recorded config rebuilds the checkpointed model and optimizer.
    const { model: restored, pointer } = await loadCheckpoint(run.checkpointsDir, "last", recorded);
    expect(pointer.epoch).toBe(1);
    expect(restored.getWeights()[1]!.dataSync()).toEqual(model.getWeights()[1]!.dataSync());
    restored.dispose();
    model.dispose();
    expect(tf.getBackend()).toBe("cpu");

    // A side experiment in the same session (notebook 11's optimizers: other models, no checkpoints) leaves the
    // config of the run it did not train into alone.
    const before = fs.readFileSync(path.join(runDir, "config.json"), "utf8");
    const other = createModel({ ...config, optimizer: "adam", learningRate: 0.001 });
    await notebookFit(other, train.x, train.y, { epochs: 1, batchSize: 32, progress: "none", curves: false });
    other.dispose();
    expect(fs.readFileSync(path.join(runDir, "config.json"), "utf8")).toBe(before);
  });

  it("a fit without checkpoints still gives a folder without config.json one (the session's, fit's epochs)", async () => {
    const runDir = path.join(tmp, "fresh");
    vi.spyOn(console, "log").mockImplementation(() => {});
    const { config } = await startNotebook({ backend: "cpu", hiddenUnits: [8] }, runDir);
    vi.restoreAllMocks();
    const model = createModel(config);
    const train = syntheticImages(32, 3);
    await notebookFit(model, train.x, train.y, { epochs: 1, progress: "none", curves: false });
    model.dispose();
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8"))).toMatchObject({ hiddenUnits: [8], epochs: 1 });
  });
});
