// The optimizer's state through a .keras archive and back, on a tiny model: what `export` writes and `import` reads
// is the state the optimizer had, for every optimizer of the config (Keras's side is checked in keras-exchange).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type ConfigOverrides, resolveConfig } from "../../lib/config";
import { writeKerasArchive } from "../../lib/keras/archive";
import { fromKerasOptimizerVariables, toKerasOptimizerVariables } from "../../lib/keras/optimizer-state";
import { h5wasm } from "../../lib/keras/h5";
import { readKerasModel } from "../../lib/keras/read";
import { createModel } from "../../lib/model/factory";
import { optimizerVariables } from "../../lib/optimizers";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const cases: [string, ConfigOverrides][] = [
  ["sgd", {}],
  ["sgd with momentum", { momentum: 0.9, nesterov: true }],
  ["rmsprop", { optimizer: "rmsprop", learningRate: 0.001 }],
  ["rmsprop with momentum", { optimizer: "rmsprop", learningRate: 0.001, momentum: 0.5 }],
  ["adam", { optimizer: "adam", learningRate: 0.001 }],
  ["adamax", { optimizer: "adamax", learningRate: 0.001 }],
  ["adagrad", { optimizer: "adagrad", learningRate: 0.01 }],
  ["adadelta", { optimizer: "adadelta", learningRate: 1 }],
  ["nadam", { optimizer: "nadam", learningRate: 0.001 }],
  ["adamw", { optimizer: "adamw", learningRate: 0.001 }],
];

describe("optimizer state in Keras's layout", () => {
  it.each(cases)("%s: a .keras archive carries the state its import restores", async (_name, overrides) => {
    const config = resolveConfig({ hiddenUnits: [6], batchNorm: true, ...overrides });
    const model = createModel(config);
    const x = tf.randomUniform([12, 28, 28], 0, 1, "float32", 1);
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    const state = await optimizerVariables(model.optimizer).snapshot();
    const shapes = model.trainableWeights.map((w) => w.shape as number[]);
    const vars = toKerasOptimizerVariables(state, config, config.learningRate, shapes);
    if (typeof vars === "string") throw new Error(vars);
    expect(Number(vars[0]!.data[0])).toBe(3);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-state-")), "m.keras");
    await writeKerasArchive(model, file, { ...config }, vars);
    const read = await readKerasModel(file);
    const variables = model.trainableWeights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
    const back = fromKerasOptimizerVariables(read.optimizerVariables ?? [], read.compile!, state.className, variables);
    if (typeof back === "string") throw new Error(back);
    expect(back.iterations).toBe(3);
    expect(back.slots.map((s) => s.shape)).toEqual(state.slots.map((s) => s.shape));
    // tfjs's RMSprop keeps its last step in the momentum slot even at momentum 0, where the next step multiplies
    // it by 0; Keras makes no such slot, so it comes back as zeros.
    const unused = config.optimizer === "rmsprop" && config.momentum === 0 ? state.slots.length / 2 : state.slots.length;
    back.slots.forEach((s, i) => {
      const want = i < unused ? state.slots[i]!.values : new Float32Array(s.values.length);
      // Exact but for SGD's velocity, which goes through −lr·a and back (float32 round-off).
      for (let j = 0; j < want.length; j++) expect(s.values[j]).toBeCloseTo(want[j]!, 6);
    });
    // The restored optimizer takes it as its own.
    await optimizerVariables(model.optimizer).restore(back);
    tf.dispose([x, y]);
    model.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it("says why a state does not fit instead of writing a partial one", () => {
    const state = { className: "Adam", iterations: 2, slots: [{ name: "k/m", shape: [2, 2], values: new Float32Array(4) }] };
    expect(toKerasOptimizerVariables(state, { optimizer: "adam" }, 0.001, [[2, 2]])).toBe(
      "its Adam state has 1 slots, expected 2 for 1 trainable variables",
    );
    const vars = [
      { data: BigInt64Array.of(2n), shape: [] },
      { data: Float32Array.of(0.001), shape: [] },
      { data: new Float32Array(4), shape: [4] },
    ];
    expect(fromKerasOptimizerVariables(vars, { optimizer: "adagrad" }, "Adagrad", [{ name: "k", shape: [2, 2] }])).toBe(
      "Keras's slot for k has shape [4], the variable [2,2]",
    );
    expect(fromKerasOptimizerVariables(vars, { optimizer: "adam" }, "Adam", [{ name: "k", shape: [2, 2] }])).toBe(
      "Keras saved 3 optimizer variables, adam on 1 trainable variables has 4",
    );
  });

  it("SGD's velocity changes units: Keras's m = −lr·a", () => {
    const state = { className: "Momentum", iterations: 1, slots: [{ name: "b/momentum", shape: [2], values: Float32Array.of(1, -2) }] };
    const vars = toKerasOptimizerVariables(state, { optimizer: "sgd", momentum: 0.9 }, 0.5, [[2]]);
    if (typeof vars === "string") throw new Error(vars);
    expect(Array.from(vars[2]!.data as Float32Array)).toEqual([-0.5, 1]);
  });

  /**
   * A legacy .h5 as model.save("x.h5") lays it out: Sequential(Input(4), Dense(2, softmax)) compiled with Adam, its
   * weights under model_weights/, and optimizer_weights listing `names` (each written where one is given data).
   */
  async function legacyH5(names: string[], data: Record<string, Float32Array | BigInt64Array>): Promise<string> {
    const h5 = await h5wasm();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-legacy-h5-")), "m.h5");
    const out = new h5.File(file, "w");
    const layers = [
      { class_name: "InputLayer", config: { name: "input_layer", batch_shape: [null, 4] } },
      { class_name: "Dense", config: { name: "dense", units: 2, activation: "softmax", use_bias: true } },
    ];
    out.create_attribute("model_config", JSON.stringify({ class_name: "Sequential", config: { name: "sequential", layers } }));
    out.create_attribute("training_config", JSON.stringify({ optimizer_config: { class_name: "Adam", config: { learning_rate: 0.001 } } }));
    const dense = out.create_group("model_weights").create_group("dense");
    dense.create_attribute("weight_names", ["kernel", "bias"]);
    dense.create_dataset({ name: "kernel", data: new Float32Array(8), shape: [4, 2], dtype: "<f" });
    dense.create_dataset({ name: "bias", data: new Float32Array(2), shape: [2], dtype: "<f" });
    const optimizer = out.create_group("optimizer_weights");
    optimizer.create_attribute("weight_names", names);
    for (const name of names) {
      const values = data[name];
      if (!values) continue;
      const [folder, leaf] = name.split("/") as [string, string];
      const group = (optimizer.get(folder) as typeof optimizer | null) ?? optimizer.create_group(folder);
      const shape = values.length === 1 ? [] : values.length === 8 ? [4, 2] : [2];
      group.create_dataset({ name: leaf, data: values, shape, dtype: values instanceof BigInt64Array ? "<q" : "<f" });
    }
    out.close();
    return file;
  }

  it("a legacy .h5 written by Keras 3 carries the optimizer_weights an import restores", async () => {
    const m = (n: number, v: number) => new Float32Array(n).fill(v);
    const data = {
      "adam/iteration": BigInt64Array.of(7n),
      "adam/learning_rate": Float32Array.of(0.001),
      "adam/sequential_dense_kernel_momentum": m(8, 0.1),
      "adam/sequential_dense_kernel_velocity": m(8, 0.2),
      "adam/sequential_dense_bias_momentum": m(2, 0.3),
      "adam/sequential_dense_bias_velocity": m(2, 0.4),
    };
    const file = await legacyH5(Object.keys(data), data);
    const read = await readKerasModel(file);
    expect(read.noOptimizerState).toBeUndefined();
    const state = fromKerasOptimizerVariables(read.optimizerVariables!, read.compile!, "Adam", [
      { name: "kernel", shape: [4, 2] },
      { name: "bias", shape: [2] },
    ]);
    if (typeof state === "string") throw new Error(state);
    expect(state.iterations).toBe(7);
    // Keras's per-variable order (kernel m, v, bias m, v) back to tfjs's per-kind order ([m…, v…]).
    expect(state.slots.map((s) => Math.fround(s.values[0]!))).toEqual([0.1, 0.3, 0.2, 0.4].map(Math.fround));
    read.model.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it("a legacy .h5 in Keras 2's optimizer layout imports with a fresh optimizer and says why", async () => {
    const file = await legacyH5(["Adam/iter:0", "Adam/dense/kernel/m:0", "Adam/dense/bias/m:0"], {});
    const read = await readKerasModel(file);
    expect(read.optimizerVariables).toBeUndefined();
    expect(read.noOptimizerState).toBe(
      "its optimizer weights (Adam/iter:0, Adam/dense/kernel/m:0, …) are in Keras 2's layout (TF 2.15 and before), which is not read",
    );
    read.model.dispose();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
