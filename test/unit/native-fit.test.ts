import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, resolveConfig } from "../../lib/config";
import { initBackend } from "../../lib/engine/backend";
import { loadAddon } from "../../lib/engine/native/addon";
import { planDenseStack } from "../../lib/model/dense-stack";
import { planOptimizer } from "../../lib/engine/native/slots";
import { OPTIMIZER_NAMES } from "../../lib/optimizers";
import { createModel } from "../../lib/model/factory";
import { train } from "../../lib/train/fit";
import { skipWithoutAddon } from "../native";

const load = loadAddon();
const skipNative = skipWithoutAddon(load);

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
  const iterations = model.optimizer.iterations;
  model.dispose();
  return { history: history.history, trainedOn, iterations };
}

describe("the fused step covers every model the config builds", () => {
  // Every optimizer, activation and batch-norm placement, with dropout and l2: auto keeps all of them native.
  const configs = OPTIMIZER_NAMES.flatMap((optimizer) =>
    ACTIVATIONS.flatMap((activation) =>
      ([false, true, "before"] as const).map((batchNorm) => ({ optimizer, activation, batchNorm, dropout: 0.2, l2: 1e-4 })),
    ),
  );
  it(`plans all ${configs.length} combinations`, () => {
    const refused = configs.flatMap((c) => {
      const model = createModel({ ...c, hiddenUnits: [4, 3], learningRate: 0.01, seed: 1 });
      const stack = planDenseStack(model);
      const optimizer = planOptimizer(model.optimizer);
      model.dispose();
      const reason = typeof stack === "string" ? stack : typeof optimizer === "string" ? optimizer : undefined;
      return reason ? [`${JSON.stringify(c)}: ${reason}`] : [];
    });
    expect(refused).toEqual([]);
  });
});

describe.skipIf(skipNative)(`train() on the native backend${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  type Overrides = Parameters<typeof resolveConfig>[0];
  const adam = { optimizer: "adam" as const, learningRate: 0.001 };
  it.each<[string, Overrides[]]>([
    ["SGD, then Adam", [{}, adam]],
    ["batchNorm true (SGD, then Adam)", [{ batchNorm: true }, { batchNorm: true, ...adam }]],
    ["batchNorm before (SGD, then Adam)", [{ batchNorm: "before" }, { batchNorm: "before", ...adam }]],
    ["Nadam", [{ optimizer: "nadam", learningRate: 0.002 }]],
  ])("gives the history and iteration count of the tfjs step on cpu (float32 tolerance): %s", async (_, cases) => {
    for (const overrides of cases) {
      const native = await fitOn("native", overrides);
      const cpu = await fitOn("cpu", overrides);
      expect(native.trainedOn).toBe("native");
      expect(native.iterations).toBe(cpu.iterations);
      for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) {
        const a = native.history[key] ?? [];
        const b = cpu.history[key] ?? [];
        expect(a).toHaveLength(2);
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i] ?? Number.NaN, 4));
      }
    }
  });

  it("moves a hand-built model its step does not cover (tfjs's own Adadelta rule) to wasm and trains it there", async () => {
    const config = resolveConfig({ hiddenUnits: [16, 8], epochs: 2, batchSize: 16, backend: "native" }, {});
    await initBackend(config);
    const model = createModel(config);
    model.compile({ optimizer: tf.train.adadelta(1), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
    const history = await train(model, { train: tinySet(96, 7), valid: tinySet(32, 11) }, config, { progress: "none" });
    expect(tf.getBackend()).toBe("wasm");
    expect(history.history.loss?.every(Number.isFinite)).toBe(true);
    // The engine comes back with the history: the written-out step on wasm, moved off native and why.
    expect(history.engine).toMatchObject({ step: "dense", backend: "wasm", switched: { from: "native", to: { name: "wasm" } } });
    expect(history.engine?.reason).toMatch(/Adadelta/);
    model.dispose();
  });

  it("returns the native engine for a covered model, and a fallback's note says what it costs", async () => {
    const config = resolveConfig({ hiddenUnits: [16, 8], epochs: 1, batchSize: 16, backend: "native" }, {});
    await initBackend(config);
    const covered = createModel(config);
    const data = { train: tinySet(32, 7) };
    expect((await train(covered, data, config, { progress: "none" })).engine).toEqual({ step: "native", backend: "native" });
    covered.dispose();
    // An l1 penalty: neither fast step covers it, so it trains per op on wasm.
    await initBackend(config);
    const l1Model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({ units: 8, activation: "relu", kernelRegularizer: tf.regularizers.l1({ l1: 0.01 }) }),
        tf.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
    l1Model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
    const said: string[] = [];
    const log = console.log;
    console.log = (line: string) => said.push(line);
    try {
      const { engine } = await train(l1Model, data, config, { progress: "none" });
      expect(engine).toMatchObject({ step: "generic", backend: "wasm", reason: expect.stringMatching(/l1 regularization/) });
    } finally {
      console.log = log;
    }
    expect(said.join("\n")).toMatch(/l1 regularization .* this model trains on wasm instead \(about \d+x slower than the native engine\)/);
    l1Model.dispose();
  });
});
