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
});
