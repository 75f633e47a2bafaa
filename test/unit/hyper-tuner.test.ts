import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HyperParameters } from "../../lib/search/hypermodel/hyperparameters";
import { HyperTuner } from "../../lib/search/hypermodel/hyper-tuner";
import { compileModel } from "../../lib/model/factory";
import type { LabeledImages } from "../../lib/train/fit";
import { seededRandom } from "../../lib/train/shuffle";

/** n noisy 28x28 "images" in which class c lights up rows 2c..2c+2: a tiny model learns them in an epoch or two. */
function synthetic(n: number, seed: number): LabeledImages {
  const random = seededRandom(seed);
  const x = new Float32Array(n * 784);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    y[i] = c;
    for (let j = 0; j < 784; j++) x[i * 784 + j] = 0.3 * random() + (Math.floor(j / 28 / 2) === c ? 0.7 : 0);
  }
  return { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
}

/** Keras Tuner's build_model(hp) pattern: a layer count, a width per layer (a loop), dropout's rate only if dropout. */
function buildModel(hp: HyperParameters): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28] }));
  for (let i = 0; i < hp.Int("layers", 0, 2); i++) {
    model.add(tf.layers.dense({ units: hp.Int(`units_${i}`, 4, 16, { step: 4 }), activation: "relu" }));
  }
  if (hp.Boolean("dropout")) model.add(tf.layers.dropout({ rate: hp.Float("rate", 0.1, 0.5, { step: 0.1 }) }));
  model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  compileModel(model, {
    optimizer: hp.Choice("optimizer", ["sgd", "adam"] as const),
    learningRate: hp.Float("lr", 1e-3, 1e-1, { sampling: "log" }),
  });
  return model;
}

const data = { train: synthetic(200, 1), valid: synthetic(50, 2) };

let tmp: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hyper-tuner-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The share of `data.valid` a model classifies right (what val_accuracy measured at the trial's best epoch). */
function validAccuracy(model: tf.LayersModel): number {
  const x = tf.tensor(data.valid.x.data, [50, 28, 28]);
  const predicted = (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
  x.dispose();
  return Array.from(predicted).filter((c, i) => c === data.valid.y.data[i]).length / 50;
}

describe("HyperParameters (Keras Tuner's hp)", () => {
  it("returns drawn values, defaults for what was not drawn, and refuses a parameter declared twice differently", () => {
    const hp = new HyperParameters({ units: 12 });
    expect(hp.Int("units", 4, 16, { step: 4 })).toBe(12);
    expect(hp.Float("lr", 1e-3, 1e-1, { sampling: "log", default: 0.01 })).toBe(0.01);
    expect(hp.Choice("optimizer", ["sgd", "adam"] as const)).toBe("sgd");
    expect(hp.Boolean("dropout")).toBe(false);
    expect(hp.values).toEqual({ units: 12, lr: 0.01, optimizer: "sgd", dropout: false });
    expect(hp.get("lr")).toBe(0.01);
    expect(() => hp.Int("units", 4, 32)).toThrow(/^hp "units" is declared twice with different ranges/);
    expect(() => new HyperParameters().Int("n", 5, 1)).toThrow(/^n: empty range, min 5 is above max 1$/);
  });
});

describe("HyperTuner: build_model(hp) through the study's samplers and pruners", () => {
  it("grows the space through conditional hyperparameters, prunes, ranks, and hands back the best values and models", async () => {
    const lines: string[] = [];
    const tuner = new HyperTuner(buildModel, {
      maxTrials: 8,
      maxEpochs: 3,
      pruner: "asha",
      seed: 5,
      batchSize: 20,
      log: (s) => lines.push(s),
    });
    await tuner.search(data);
    const trials = tuner.trials;
    expect(trials).toHaveLength(8);
    // Trial 0 met only the unconditional parameters, with their defaults (0 layers, no dropout).
    expect(trials[0]!.params).toEqual({ layers: 0, dropout: false, optimizer: "sgd", lr: 1e-3 });
    // Later trials drew the conditional ones where their branch ran, and only there.
    const used = trials.map((t) => t.params);
    expect(used.some((p) => "units_1" in p)).toBe(true);
    expect(used.some((p) => "rate" in p)).toBe(true);
    for (const p of used) {
      expect("units_1" in p).toBe((p.layers as number) >= 2);
      expect("rate" in p).toBe(p.dropout);
    }
    // ASHA judged every trial at epoch 1 against the others: some stopped there, and are kept as pruned.
    expect(trials.filter((t) => t.status === "pruned").every((t) => t.history.length === 1)).toBe(true);
    expect(trials.some((t) => t.status === "pruned")).toBe(true);
    expect(trials.every((t) => (t.seconds ?? 0) > 0)).toBe(true);

    const [best] = tuner.getBestHyperparameters(1);
    const bestScore = Math.max(...trials.flatMap((t) => t.history));
    const bestTrial = trials.find((t) => t.history.includes(bestScore))!;
    expect(best!.values).toEqual(bestTrial.params);
    const [model] = tuner.getBestModels(1);
    // The model is the best trial's at its best epoch: it scores that trial's best value on the validation set.
    const x = tf.tensor(data.valid.x.data, [50, 28, 28]);
    const predicted = (model!.predict(x) as tf.Tensor).argMax(-1).dataSync();
    const accuracy = Array.from(predicted).filter((c, i) => c === data.valid.y.data[i]).length / 50;
    expect(accuracy).toBeCloseTo(bestScore, 5);
    x.dispose();

    const summary = tuner.resultsSummary(2);
    expect(summary).toMatch(
      /^Results summary\nShowing 2 best trials\nObjective\(name="val_accuracy", direction="max"\)\n\nTrial trial-\d{3} summary/,
    );
    expect(summary).toContain(`Score: val_accuracy ${bestScore.toFixed(4)}`);
    expect(() => tuner.getBestModels(4)).toThrow(/only the best 3 models are kept; pass keepModels: 4/);
  }, 60_000);
});

describe("HyperTuner with a directory: the study in search's storage", () => {
  const stored = (directory: string, extra: Partial<ConstructorParameters<typeof HyperTuner>[1]> = {}) => ({
    maxTrials: 4,
    maxEpochs: 2,
    seed: 11,
    batchSize: 20,
    directory,
    projectName: "mlp",
    report: false,
    ...extra,
  });
  /** Trial ids the log says were trained (completed or pruned) in one session. */
  const trained = (lines: string[]) => lines.flatMap((l) => /^(trial-\d{3}) (completed|pruned)/.exec(l)?.[1] ?? []);

  it("resumes after a session dies mid-search: finished trials are not run again, and the table equals an uninterrupted study's", async () => {
    const dir = path.join(tmp, "resume");
    const first: string[] = [];
    let builds = 0;
    // The third build throws, as a kernel that dies while trial-002 runs: it stays claimed in the database.
    const dying = (hp: HyperParameters) => {
      if (++builds === 3) throw new Error("kernel died");
      return buildModel(hp);
    };
    await expect(new HyperTuner(dying, stored(dir, { log: (s) => first.push(s) })).search(data)).rejects.toThrow("kernel died");
    expect(trained(first)).toEqual(["trial-000", "trial-001"]);

    const second: string[] = [];
    const tuner = new HyperTuner(buildModel, stored(dir, { log: (s) => second.push(s) }));
    await tuner.search(data);
    expect(second[0]).toMatch(/^Reloading the study "mlp" from .*study\.pgdata: 2 of its 3 trials finished$/);
    expect(trained(second)).toEqual(["trial-002", "trial-003"]);
    expect(tuner.trials.map((t) => [t.id, t.status])).toEqual(["000", "001", "002", "003"].map((n) => [`trial-${n}`, "completed"]));

    const straight = new HyperTuner(buildModel, stored(path.join(tmp, "straight"), { log: () => {} }));
    await straight.search(data);
    expect(tuner.trials.map((t) => t.params)).toEqual(straight.trials.map((t) => t.params));

    // search's files: trials.csv (one row per trial), the Optuna export, each trial's best-epoch model.
    const csv = fs
      .readFileSync(path.join(dir, "mlp", "trials.csv"), "utf8")
      .trim()
      .split("\n");
    expect(csv).toHaveLength(5);
    expect(fs.readFileSync(path.join(dir, "mlp", "optuna-journal.log"), "utf8")).toContain('"study_name":"mlp"');
    expect(fs.existsSync(path.join(dir, "mlp", "study.csv"))).toBe(true);

    // The best 3 models, those of the earlier session's trials too (rebuilt, their saved weights loaded), each
    // scoring its trial's best val_accuracy.
    const models = tuner.getBestModels(3);
    const ranked = tuner.getBestHyperparameters(3);
    expect(models).toHaveLength(3);
    models.forEach((m, i) => {
      const t = tuner.trials.find((x) => JSON.stringify(x.params) === JSON.stringify(ranked[i]!.values))!;
      expect(validAccuracy(m)).toBeCloseTo(Math.max(...t.history), 5);
    });
    // Run again: the study is done, nothing trains.
    const third: string[] = [];
    await new HyperTuner(buildModel, stored(dir, { log: (s) => third.push(s) })).search(data);
    expect(trained(third)).toEqual([]);
  }, 120_000);

  it("overwrite: true starts the study over", async () => {
    const dir = path.join(tmp, "overwrite");
    await new HyperTuner(buildModel, stored(dir, { maxTrials: 2, log: () => {} })).search(data);
    const lines: string[] = [];
    const again = new HyperTuner(buildModel, stored(dir, { maxTrials: 2, overwrite: true, log: (s) => lines.push(s) }));
    await again.search(data);
    expect(trained(lines)).toEqual(["trial-000", "trial-001"]);
    expect(lines.some((l) => l.startsWith("Reloading"))).toBe(false);
    expect(again.trials).toHaveLength(2);
  }, 60_000);

  it("refuses a study folder searched by another build function, or with other ranges, in one sentence", async () => {
    const dir = path.join(tmp, "other");
    await new HyperTuner(buildModel, stored(dir, { maxTrials: 1, log: () => {} })).search(data);
    const other = (hp: HyperParameters) => {
      hp.Int("width", 4, 8);
      return buildModel(hp);
    };
    await expect(new HyperTuner(other, stored(dir, { maxTrials: 1, log: () => {} })).search(data)).rejects.toThrow(
      /^study "mlp" in .*study\.pgdata was searched by another build function: it has no hp "width" \(it has dropout, layers, lr, optimizer\); pass overwrite: true to start it over, or another projectName$/,
    );
    const narrower = (hp: HyperParameters) => {
      hp.Int("layers", 0, 1);
      return buildModel(new HyperParameters(hp.values));
    };
    await expect(new HyperTuner(narrower, stored(dir, { maxTrials: 1, log: () => {} })).search(data)).rejects.toThrow(
      /^study "mlp" in .* searched hp "layers" as .*"max":2.*, this build function declares .*"max":1.*; pass overwrite: true/,
    );
    await expect(
      new HyperTuner(buildModel, stored(dir, { maxTrials: 1, objective: "val_loss", log: () => {} })).search(data),
    ).rejects.toThrow(
      /^study "mlp" in .* exists with objective \{"name":"val_accuracy","direction":"max"\}, this tuner gives .*val_loss.*; pass overwrite: true to start it over, or another projectName$/,
    );
  }, 60_000);

  it("refuses a storage URL of another kind, and storage without a directory, in one sentence", () => {
    expect(() => new HyperTuner(buildModel, { maxEpochs: 1, directory: tmp, storage: "mysql://u:secret@db/studies" })).toThrow(
      /^HyperTuner storage mysql:\/\/u:\*\*\*@db\/studies: not a PostgreSQL URL; expected postgresql:\/\/user:password@host:port\/database, or no storage for the embedded study in the directory$/,
    );
    expect(() => new HyperTuner(buildModel, { maxEpochs: 1, storage: "postgresql://u@db:5432/studies" })).toThrow(
      /^HyperTuner storage postgresql:\/\/u@db:5432\/studies needs a directory too/,
    );
  });
});
