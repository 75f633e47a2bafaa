import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig, resumeOverrides, sourcesOf } from "../../lib/config";
import { trainArgs } from "../../lib/search/driver";
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

  it("without learningRate each optimizer gets Keras's default (sgd 0.01, adam 0.001, ...); a given one wins", () => {
    expect(resolveConfig({ optimizer: "adam" }, {}).learningRate).toBe(0.001);
    expect(resolveConfig({ optimizer: "nadam" }, {}).learningRate).toBe(0.001);
    expect(resolveConfig({ optimizer: "sgd", momentum: 0.9 }, {}).learningRate).toBe(0.01);
    expect(resolveConfig({ optimizer: "adam", learningRate: 0.01 }, {}).learningRate).toBe(0.01);
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
  it("FASHION_ANN_BACKEND, FASHION_ANN_THREADS and FASHION_ANN_STOCK_KERNELS beat the defaults", () => {
    const env = { FASHION_ANN_BACKEND: "wasm", FASHION_ANN_THREADS: "1", FASHION_ANN_STOCK_KERNELS: "1" };
    const c = resolveConfig({}, env);
    expect([c.backend, c.threads, c.stockKernels]).toEqual(["wasm", 1, true]);
    expect(resolveConfig({}, { FASHION_ANN_THREADS: "auto" }).threads).toBe("auto");
  });

  it("an explicit value (flag, --set, argument) beats the environment", () => {
    const env = { FASHION_ANN_BACKEND: "wasm", FASHION_ANN_THREADS: "4", FASHION_ANN_STOCK_KERNELS: "1" };
    const c = resolveConfig({ backend: "cpu", threads: 1, stockKernels: false }, env);
    expect([c.backend, c.threads, c.stockKernels]).toEqual(["cpu", 1, false]);
    // An explicit value is used even when the variable holds a bad one: the variable is not read for that field.
    expect(resolveConfig({ threads: 2 }, { FASHION_ANN_THREADS: "zero" }).threads).toBe(2);
  });

  it("search's threads=1 per trial beats an exported FASHION_ANN_THREADS", () => {
    const args = trainArgs(
      { kind: "start", trialId: "trial-001", params: { learningRate: 0.01 }, epochs: 2, bracket: 0, round: 0 },
      "/tmp/s",
      {},
    );
    const sets = args.flatMap((a, i) => (args[i - 1] === "--set" ? [a] : []));
    const overrides = Object.fromEntries(sets.map((s) => [s.slice(0, s.indexOf("=")), JSON.parse(s.slice(s.indexOf("=") + 1))]));
    expect(overrides.threads).toBe(1);
    expect(resolveConfig(overrides, { FASHION_ANN_THREADS: "4" }).threads).toBe(1);
  });

  it("records where each non-default value came from", () => {
    const env = { FASHION_ANN_BACKEND: "wasm", FASHION_ANN_THREADS: "4" };
    const c = resolveConfig({ epochs: 3, threads: 1, seed: 42 }, env);
    // seed 42 is the default: no source; backend from the environment; epochs and threads given.
    expect(sourcesOf(c)).toEqual({ epochs: "override", threads: "override", backend: "env FASHION_ANN_BACKEND" });
    expect(sourcesOf(resolveConfig({ epochs: 3 }, {}, "file"))).toEqual({ epochs: "file" });
    // A copy is matched against the environment.
    expect(sourcesOf({ ...c, epochs: 4 }, env)).toEqual({ epochs: "override", threads: "override", backend: "env FASHION_ANN_BACKEND" });
  });

  it("a resumed run keeps its explicit values and lets the environment decide again what the environment gave", () => {
    const saved = {
      ...resolveConfig({ epochs: 3, threads: 2 }, {}),
      backend: "wasm",
      sources: { epochs: "override", threads: "override", backend: "env FASHION_ANN_BACKEND" },
    };
    const c = resolveConfig(resumeOverrides(saved), { FASHION_ANN_BACKEND: "cpu", FASHION_ANN_THREADS: "4" }, "file");
    expect([c.epochs, c.threads, c.backend]).toEqual([3, 2, "cpu"]);
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
