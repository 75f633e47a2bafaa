import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../../lib/model/factory";
import { createRun } from "../../lib/runs/run";
import { loadModel, ModelFileError, saveModel } from "../../lib/model/files";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-runs-"));

describe("model save/load", () => {
  it("round-trips: same layers, same predictions, compiled for evaluation", async () => {
    const dir = tmp();
    const model = createModel({ hiddenUnits: [8], learningRate: 0.01, seed: 3 });
    await saveModel(model, dir);
    expect(fs.readdirSync(dir).sort()).toEqual(["model.json", "weights.bin"]);
    const loaded = await loadModel(dir);
    expect(loaded.layers.map((l) => l.name)).toEqual(["flatten", "dense", "dense_1"]);
    const x = tf.randomUniform([4, 28, 28], 0, 1, "float32", 1);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    // Compiled with the tutorial's SGD (tfjs leaves optimizer undefined on an uncompiled model).
    expect(loaded.optimizer?.getClassName()).toBe("SGD");
  });

  it("a truncated weights.bin is a clear error", async () => {
    const dir = tmp();
    await saveModel(createModel({ hiddenUnits: [8], learningRate: 0.01, seed: 3 }), dir);
    const w = path.join(dir, "weights.bin");
    fs.truncateSync(w, 100);
    await expect(loadModel(dir)).rejects.toThrow(/weights.bin: 100 bytes, expected 25480 .* truncated/);
  });

  it("a damaged model.json is a clear error", async () => {
    const dir = tmp();
    await saveModel(createModel({ hiddenUnits: [8], learningRate: 0.01, seed: 3 }), dir);
    fs.writeFileSync(path.join(dir, "model.json"), '{"modelTopology": ');
    await expect(loadModel(dir)).rejects.toThrow(ModelFileError);
    await expect(loadModel(dir)).rejects.toThrow(/model.json is not valid JSON/);
  });

  it("a missing model names the folder and what to do", async () => {
    await expect(loadModel(path.join(tmp(), "nothing"))).rejects.toThrow(/nothing\/model.json does not exist; train a model first/);
  });
});

describe("a save killed between its two renames", () => {
  // saveModel moves the old model to `.model.<pid>.<ms>.old`, then the new one into place: a kill in between
  // leaves no model/ and the previous complete model in the .old folder. A dead pid makes that state exactly.
  const deadPid = 2 ** 22 + 12345;

  it("is put back by the next load, with the previous weights", async () => {
    const root = tmp();
    const model = createModel({ hiddenUnits: [4], learningRate: 0.01, seed: 1 });
    await saveModel(model, path.join(root, "model"));
    fs.renameSync(path.join(root, "model"), path.join(root, `.model.${deadPid}.${Date.now()}.old`));
    const loaded = await loadModel(path.join(root, "model"));
    expect(fs.readdirSync(root)).toEqual(["model"]);
    const [a, b] = [model.getWeights()[0]!, loaded.getWeights()[0]!];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  });

  it("is cleared by the next save, which leaves only the new model", async () => {
    const root = tmp();
    const model = createModel({ hiddenUnits: [4], learningRate: 0.01, seed: 1 });
    await saveModel(model, path.join(root, "model"));
    fs.renameSync(path.join(root, "model"), path.join(root, `.model.${deadPid}.${Date.now()}.old`));
    await saveModel(model, path.join(root, "model"));
    expect(fs.readdirSync(root)).toEqual(["model"]);
    expect(fs.existsSync(path.join(root, "model", "model.json"))).toBe(true);
  });
});

describe("run folders", () => {
  it("refuses to reuse a non-empty folder unless forced", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "metrics.json"), "{}");
    expect(() => createRun(dir)).toThrow(/already exists and is not empty; choose another --out or pass --force/);
    expect(createRun(dir, { force: true }).dir).toBe(dir);
  });

  it("writes JSON atomically, leaving no temp files", () => {
    const run = createRun(path.join(tmp(), "r"));
    run.writeJson("metrics.json", { test_accuracy: 0.5 });
    expect(fs.readdirSync(run.dir)).toEqual(["metrics.json"]);
    expect(run.readJson<{ test_accuracy: number }>("metrics.json").test_accuracy).toBe(0.5);
  });
});
