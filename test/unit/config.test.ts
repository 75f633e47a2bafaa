import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config";
import { createModel } from "../../lib/model/factory";

describe("resolveConfig", () => {
  it("defaults are the tutorial's", () => {
    expect(resolveConfig({}, {})).toEqual({
      epochs: 30,
      batchSize: 32,
      hiddenUnits: [300, 100],
      learningRate: 0.01,
      activation: "relu",
      initializer: "glorot_uniform",
      batchNorm: false,
      dropout: 0,
      l2: 0,
      optimizer: "sgd",
      momentum: 0,
      nesterov: false,
      weightDecay: null,
      lrSchedule: null,
      clipNorm: null,
      clipValue: null,
      normalize: "scale",
      validationSize: 5000,
      seed: 42,
      dataDir: "data",
      patience: null,
      tensorBoard: { histogramFreq: 1, updateFreq: "epoch" },
      backend: "auto",
      threads: "auto",
      stockKernels: false,
    });
  });

  it("takes hiddenUnits [] (no hidden layer: Géron's nHidden 0, softmax regression), which builds Flatten -> Dense(10)", () => {
    const config = resolveConfig({ hiddenUnits: [] });
    expect(config.hiddenUnits).toEqual([]);
    const model = createModel(config);
    expect(model.layers.map((l) => l.name)).toEqual(["flatten", "dense"]);
    expect(model.countParams()).toBe(784 * 10 + 10);
    model.dispose();
  });

  it("applies overrides and keeps the other defaults", () => {
    const c = resolveConfig({ epochs: 3, hiddenUnits: [8] });
    expect(c.epochs).toBe(3);
    expect(c.hiddenUnits).toEqual([8]);
    expect(c.learningRate).toBe(0.01);
  });

  it.each([
    [{ epochs: 0 }, /^epochs: .*>=1.*got 0/],
    [{ epochs: 2.5 }, /^epochs: .*expected int.*got 2.5/],
    [{ epochs: "3" }, /^epochs: .*expected number.*got "3"/],
    [{ learningRate: -0.1 }, /^learningRate: .*>0.*got -0.1/],
    [{ hiddenUnits: [300, 0] }, /^hiddenUnits\[1\]: .*>=1.*got 0/],
    [{ hiddenUnits: {} }, /^hiddenUnits: .*got \{\}/],
    [{ backend: "gpu" }, /^backend: .*"auto"\|"tensorflow"\|"native"\|"wasm"\|"cpu".*got "gpu"/],
    [{ threads: 0 }, /^threads: expected "auto" or a whole number of threads from 1 to 64, got 0/],
    [{ threads: "two" }, /^threads: .*"auto".*got "two"/],
    [{ validationSize: 60000 }, /^validationSize: .*<=59999.*got 60000/],
    [{ batchSize: 55001 }, /^batchSize: must be at most the 55000 training images left after validation, got 55001/],
    [{ foo: 1 }, /unknown config field "foo"; allowed: epochs, batchSize/],
  ])("refuses %j naming the field, the value and what is allowed", (overrides, message) => {
    expect(() => resolveConfig(overrides as never)).toThrow(ConfigError);
    expect(() => resolveConfig(overrides as never)).toThrow(message);
  });
});

describe("the environment, folded into the config", () => {
  it("FASHION_ANN_BACKEND, FASHION_ANN_THREADS and FASHION_ANN_STOCK_KERNELS override the overrides", () => {
    const env = { FASHION_ANN_BACKEND: "wasm", FASHION_ANN_THREADS: "1", FASHION_ANN_STOCK_KERNELS: "1" };
    const c = resolveConfig({ backend: "cpu", threads: 4 }, env);
    expect([c.backend, c.threads, c.stockKernels]).toEqual(["wasm", 1, true]);
    expect(resolveConfig({ threads: 4 }, { FASHION_ANN_THREADS: "auto" }).threads).toBe("auto");
  });

  it("an empty variable counts as unset", () => {
    expect(resolveConfig({ backend: "cpu" }, { FASHION_ANN_BACKEND: "" }).backend).toBe("cpu");
  });

  it.each(["0", "two", "1.5", "-2"])("refuses FASHION_ANN_THREADS=%s, naming the variable and what it expects", (value) => {
    expect(() => resolveConfig({}, { FASHION_ANN_THREADS: value })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { FASHION_ANN_THREADS: value })).toThrow(
      /^FASHION_ANN_THREADS \(config threads\): expected "auto" or a whole number of threads from 1 to 64, got /,
    );
  });

  it("refuses an unknown FASHION_ANN_BACKEND, naming the variable and the backends", () => {
    expect(() => resolveConfig({}, { FASHION_ANN_BACKEND: "gpu" })).toThrow(
      /^FASHION_ANN_BACKEND \(config backend\): .*"auto".*"wasm".*got "gpu"/,
    );
  });
});
