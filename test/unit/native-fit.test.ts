import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { nativeCoverage } from "../../lib/engine/native/plan";
import { createModel } from "../../lib/model/factory";
import { train } from "../../lib/train/fit";

const load = loadAddon();

/** n random 28x28 images (0..1) with labels 0..9, the same for every call with the same seed. */
function tinySet(n: number, seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const x = Float32Array.from({ length: n * 784 }, next);
  const y = Uint8Array.from({ length: n }, () => Math.floor(next() * 10));
  return { x: { data: x, shape: [n, 28, 28] }, y: { data: y, shape: [n] } };
}

async function fitOn(backend: "native" | "cpu", overrides: Parameters<typeof resolveConfig>[0]) {
  const config = resolveConfig({ hiddenUnits: [16, 8], epochs: 2, batchSize: 16, backend, ...overrides }, {});
  await initBackend(config);
  const model = createModel(config);
  const history = await train(model, { train: tinySet(96, 7), valid: tinySet(32, 11) }, config, { progress: "none" });
  const trainedOn = tf.getBackend();
  model.dispose();
  return { history: history.history, trainedOn };
}

describe("nativeCoverage: which configs auto leaves to wasm", () => {
  it.each([[{ batchNorm: true }, /does not cover batchNorm/]])("%j is not covered", (config, reason) => {
    expect(nativeCoverage(config)).toMatch(reason);
  });

  it.each([{}, { optimizer: "sgd" }, { optimizer: "adam" }, { optimizer: "rmsprop", batchNorm: false }])("%j is covered", (config) => {
    expect(nativeCoverage(config)).toBeUndefined();
  });
});

describe.skipIf(!load.addon)(`train() on the native backend${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  it("gives the history of the tfjs step on cpu (float32 tolerance), for SGD and for Adam with dropout 0", async () => {
    for (const overrides of [{}, { optimizer: "adam" as const, learningRate: 0.001 }]) {
      const native = await fitOn("native", overrides);
      const cpu = await fitOn("cpu", overrides);
      expect(native.trainedOn).toBe("native");
      for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) {
        const a = native.history[key] ?? [];
        const b = cpu.history[key] ?? [];
        expect(a).toHaveLength(2);
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i] ?? Number.NaN, 4));
      }
    }
  });

  it("moves a model its step does not cover (batch norm) to wasm and trains it there", async () => {
    const bn = await fitOn("native", { batchNorm: true });
    expect(bn.trainedOn).toBe("wasm");
    expect(bn.history.loss?.every(Number.isFinite)).toBe(true);
  });
});
