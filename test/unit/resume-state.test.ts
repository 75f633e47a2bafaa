import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { createModel } from "../../lib/model/factory";
import { checkpointedCallbacks, loadCheckpoint, readPointer } from "../../lib/train/callbacks/checkpoint";
import { train } from "../../lib/train/fit";
import { syntheticImages } from "../synthetic";

const data = { train: syntheticImages(48, 1), valid: syntheticImages(16, 2) };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-resume-"));
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Trains `config` for its epochs in one go, and again interrupted after `stopAfter` epochs then resumed as `train --resume` does. */
async function straightAndResumed(overrides: Parameters<typeof resolveConfig>[0], stopAfter: number) {
  const config = resolveConfig({ epochs: 8, batchSize: 16, hiddenUnits: [8], seed: 5, ...overrides }, {});
  const straightDir = tmp();
  const straight = createModel(config);
  const s = await checkpointedCallbacks(straight, straightDir, config.patience);
  const full = await train(straight, data, config, { progress: "none", callbacks: s.callbacks, state: s.state });

  const dir = tmp();
  const first = createModel(config);
  const f = await checkpointedCallbacks(first, dir, config.patience);
  const interrupt = {
    onEpochEnd: (e: number) => {
      if (e === stopAfter - 1) first.stopTraining = true;
    },
  };
  await train(first, data, config, { progress: "none", callbacks: [...f.callbacks, interrupt], state: f.state });
  first.dispose();

  const { model: resumed, pointer } = await loadCheckpoint(dir, "last", config);
  const initialHistory = { ...pointer.history, params: full.params };
  const r = await checkpointedCallbacks(resumed, dir, config.patience, pointer, initialHistory);
  const rest = await train(resumed, data, config, { progress: "none", callbacks: r.callbacks, state: r.state, initialHistory });
  return { full, rest, straight, resumed, dir, stoppers: [s.stopper, r.stopper] };
}

describe("resume restores all training state", () => {
  it("Adam with dropout, BN and ReduceLROnPlateau: resumed == uninterrupted (history, weights, optimizer iterations)", async () => {
    const { full, rest, straight, resumed, dir } = await straightAndResumed(
      {
        optimizer: "adam",
        learningRate: 0.01,
        dropout: 0.2,
        batchNorm: true,
        lrSchedule: { type: "reduce_on_plateau", factor: 0.5, patience: 1 },
      },
      3,
    );
    expect(rest.history).toEqual(full.history);
    // The plateau really reduced the rate, so its state mattered.
    expect(new Set(full.history.learning_rate).size).toBeGreaterThan(1);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    expect(resumed.optimizer.iterations).toBe(straight.optimizer.iterations);
    expect(fs.readdirSync(path.join(dir, readPointer(dir, "last")!.dir)).sort()).toEqual([
      "model.json",
      "optimizer.bin",
      "optimizer.json",
      "weights.bin",
    ]);
  });

  it("with --patience and Nesterov momentum: the resumed run stops at the same epoch with the same best weights", async () => {
    const { full, rest, straight, resumed, stoppers } = await straightAndResumed(
      { optimizer: "sgd", momentum: 0.9, nesterov: true, learningRate: 0.2, patience: 2, epochs: 30 },
      2,
    );
    expect(stoppers[0]!.stopped()).toBe(true);
    // Stopped early, after the interruption point, so the resumed run needed the saved wait and best.
    expect(full.epoch.length).toBeLessThan(30);
    expect(full.epoch.length).toBeGreaterThan(2);
    expect(rest.epoch).toEqual(full.epoch);
    expect(rest.history).toEqual(full.history);
    expect(stoppers[1]!.bestEpoch()).toBe(stoppers[0]!.bestEpoch());
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
  });

  it("a step schedule continues at the right step", async () => {
    const { full, rest } = await straightAndResumed(
      { optimizer: "adam", learningRate: 0.01, lrSchedule: { type: "exponential", decaySteps: 3, decayRate: 0.5 } },
      3,
    );
    expect(rest.history).toEqual(full.history);
    expect(full.history.learning_rate![7]).toBeLessThan(full.history.learning_rate![0]!);
  });
});
