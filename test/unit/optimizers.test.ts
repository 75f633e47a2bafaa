import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AdamWOptimizer,
  NadamOptimizer,
  OPTIMIZER_NAMES,
  createOptimizer,
  learningRateOf,
  optimizerVariables,
  setLearningRate,
  type OptimizerSpec,
} from "../../lib/optimizers";
import { checkTfjsVersion, TFJS_VERSION_WRITTEN_FOR, TfjsVersionError } from "../../lib/optimizers/tfjs-internals";
import { KerasAdam } from "../../lib/optimizers/adam";
import { resolveConfig } from "../../lib/config";
import { createModel } from "../../lib/model/factory";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// Float64 references written from the published rules (keras/src/optimizers/{nadam,adamw,adadelta}.py),
// independently of the tensor code under test.

interface Trace {
  x: number[][];
  m: number[][];
  v: number[][];
}

function kerasNadam(x0: number[], grads: number[][], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-7): Trace {
  let x = [...x0];
  let m = x0.map(() => 0);
  let v = x0.map(() => 0);
  let uProduct = 1;
  const trace: Trace = { x: [], m: [], v: [] };
  grads.forEach((g, step) => {
    const t = step + 1;
    const uT = b1 * (1 - 0.5 * 0.96 ** t);
    const uT1 = b1 * (1 - 0.5 * 0.96 ** (t + 1));
    uProduct *= uT;
    const uProductT1 = uProduct * uT1;
    m = m.map((mi, i) => mi + (g[i]! - mi) * (1 - b1));
    v = v.map((vi, i) => vi + (g[i]! ** 2 - vi) * (1 - b2));
    x = x.map((xi, i) => {
      const mHat = (uT1 * m[i]!) / (1 - uProductT1) + ((1 - uT) * g[i]!) / (1 - uProduct);
      const vHat = v[i]! / (1 - b2 ** t);
      return xi - (lr * mHat) / (Math.sqrt(vHat) + eps);
    });
    trace.x.push(x);
    trace.m.push(m);
    trace.v.push(v);
  });
  return trace;
}

function kerasAdamW(x0: number[], grads: number[][], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-7): Trace {
  let x = [...x0];
  let m = x0.map(() => 0);
  let v = x0.map(() => 0);
  const trace: Trace = { x: [], m: [], v: [] };
  grads.forEach((g, step) => {
    const t = step + 1;
    x = x.map((xi) => xi - xi * wd * lr);
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    m = m.map((mi, i) => mi + (g[i]! - mi) * (1 - b1));
    v = v.map((vi, i) => vi + (g[i]! ** 2 - vi) * (1 - b2));
    x = x.map((xi, i) => xi - (m[i]! * alpha) / (Math.sqrt(v[i]!) + eps));
    trace.x.push(x);
    trace.m.push(m);
    trace.v.push(v);
  });
  return trace;
}

function kerasAdadelta(x0: number[], grads: number[][], lr: number, rho = 0.95, eps = 1e-7): number[][] {
  let x = [...x0];
  let eg = x0.map(() => 0);
  let ed = x0.map(() => 0);
  return grads.map((g) => {
    eg = eg.map((e, i) => rho * e + (1 - rho) * g[i]! ** 2);
    const delta = g.map((gi, i) => -(Math.sqrt(ed[i]! + eps) * gi) / Math.sqrt(eg[i]! + eps));
    ed = ed.map((e, i) => rho * e + (1 - rho) * delta[i]! ** 2);
    x = x.map((xi, i) => xi + lr * delta[i]!);
    return x;
  });
}

const X0 = [1.5, -2, 0.75, 3];
const GRADS = [
  [0.5, -1, 2, 0.25],
  [0.25, -0.5, 1.5, -0.75],
  [-0.5, 0.125, 1, 0.5],
  [1, 0.75, -0.25, 0.5],
  [0.3, -0.2, 0.6, -0.1],
];

/** Runs `optimizer` on a variable from X0 through GRADS and records x, m and v after each step. */
async function runOnVector(optimizer: tf.Optimizer, grads: number[][] = GRADS): Promise<Trace> {
  const x = tf.variable(tf.tensor1d(X0));
  const trace: Trace = { x: [], m: [], v: [] };
  for (const g of grads) {
    tf.tidy(() => optimizer.applyGradients({ [x.name]: tf.tensor1d(g) }));
    const [iter, m, v] = await optimizer.getWeights();
    trace.x.push(Array.from(x.dataSync()));
    trace.m.push(Array.from(m!.tensor.dataSync()));
    trace.v.push(Array.from(v!.tensor.dataSync()));
    iter!.tensor.dispose();
  }
  optimizer.dispose();
  x.dispose();
  return trace;
}

function expectRelativelyClose(actual: number[][], expected: number[][], rtol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, step) =>
    row.forEach((a, i) => {
      const e = expected[step]![i]!;
      if (Math.abs(a - e) > rtol * Math.abs(e)) {
        throw new Error(`step ${step + 1}, element ${i}: got ${a}, expected ${e} (relative error ${Math.abs(a - e) / Math.abs(e)})`);
      }
    }),
  );
}

describe("NadamOptimizer", () => {
  it("follows Keras 3's update rule for 5 steps at lr 0.1 (x, m and v within 1e-6 relative)", async () => {
    const actual = await runOnVector(new NadamOptimizer({ learningRate: 0.1 }));
    const expected = kerasNadam(X0, GRADS, 0.1);
    expectRelativelyClose(actual.x, expected.x);
    expectRelativelyClose(actual.m, expected.m);
    expectRelativelyClose(actual.v, expected.v);
  });

  it("reproduces Keras's own golden values (nadam_test.py, lr 0.5, beta1 0.5, beta2 0.67, epsilon 1e-5)", async () => {
    const golden = [
      [0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281, 0.4281],
      [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
      [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
      [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
      [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454],
    ];
    expectGolden(new NadamOptimizer({ learningRate: 0.5, beta1: 0.5, beta2: 0.67, epsilon: 1e-5 }), golden);
  });

  it("defaults to Keras's learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7", () => {
    const opt = new NadamOptimizer();
    expect(opt.getConfig()).toEqual({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    opt.dispose();
  });

  it.each([
    [{ beta1: 1 }, /^Nadam: beta1 must be in \[0, 1\), got 1$/],
    [{ learningRate: -0.1 }, /^Nadam: learningRate must be a finite number >= 0, got -0.1$/],
    [{ epsilon: Number.NaN }, /^Nadam: epsilon must be .*got NaN$/],
  ])("refuses %o", (args, message) => {
    expect(() => new NadamOptimizer(args)).toThrow(message);
  });
});

describe("AdamWOptimizer", () => {
  it("follows Keras 3's update rule with weight decay 0.1 for 5 steps at lr 0.1 (within 1e-6 relative)", async () => {
    const actual = await runOnVector(new AdamWOptimizer({ learningRate: 0.1, weightDecay: 0.1 }));
    const expected = kerasAdamW(X0, GRADS, 0.1, 0.1);
    expectRelativelyClose(actual.x, expected.x);
    expectRelativelyClose(actual.m, expected.m);
    expectRelativelyClose(actual.v, expected.v);
  });

  it("with weightDecay 0 is Keras's Adam, epsilon on the raw sqrt(v)", async () => {
    // Gradients near epsilon are where Keras's and tfjs's Adam part ways.
    const tiny = GRADS.map((g) => g.map((gi) => gi * 1e-6));
    const actual = await runOnVector(new AdamWOptimizer({ learningRate: 0.1, weightDecay: 0 }), tiny);
    expectRelativelyClose(actual.x, kerasAdamW(X0, tiny, 0.1, 0).x);
  });

  it("reproduces Keras's own golden values (adamw_test.py, lr 1, weight decay 0.5, epsilon 2)", async () => {
    const golden = [
      [0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998],
      [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
      [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
      [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
      [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
    ];
    expectGolden(new AdamWOptimizer({ learningRate: 1, weightDecay: 0.5, epsilon: 2 }), golden);
  });

  it("decays a variable with a zero gradient by lr·weightDecay per step (Keras's test_weight_decay)", () => {
    const opt = new AdamWOptimizer({ learningRate: 1, weightDecay: 0.004 });
    const x = tf.variable(tf.scalar(2));
    for (let i = 0; i < 3; i++) tf.tidy(() => opt.applyGradients({ [x.name]: tf.scalar(0) }));
    expect(x.dataSync()[0]).toBeCloseTo(1.9760959, 6);
    opt.dispose();
    x.dispose();
  });

  it("defaults to Keras's weight decay 0.004 and Adam's defaults", () => {
    const opt = new AdamWOptimizer();
    expect(opt.getConfig()).toEqual({ learningRate: 0.001, weightDecay: 0.004, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    opt.dispose();
  });

  it("refuses a negative weight decay", () => {
    expect(() => new AdamWOptimizer({ weightDecay: -1 })).toThrow(/^AdamW: weightDecay must be a finite number >= 0, got -1$/);
  });
});

/** Keras's golden tests: one step with 0.01 everywhere, then arange(0.1, 1.1, 0.1) each step. */
function expectGolden(optimizer: tf.Optimizer, golden: number[][]): void {
  const x = tf.variable(tf.ones([10]));
  const grads = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
  tf.tidy(() => optimizer.applyGradients({ [x.name]: tf.fill([10], 0.01) }));
  for (const row of golden) {
    Array.from(x.dataSync()).forEach((xi, i) => expect(Math.abs(xi - row[i]!)).toBeLessThanOrEqual(5e-4 + 5e-4 * Math.abs(row[i]!)));
    tf.tidy(() => optimizer.applyGradients({ [x.name]: tf.tensor1d(grads) }));
  }
  optimizer.dispose();
  x.dispose();
}

describe.each([
  ["Nadam", () => new NadamOptimizer({ learningRate: 0.05 })],
  ["AdamW", () => new AdamWOptimizer({ learningRate: 0.05, weightDecay: 0.01 })],
])("%s serialization and state", (className, make) => {
  it("getWeights/setWeights: restored after 2 steps, 1 more step equals 3 uninterrupted steps bit for bit", async () => {
    const a = make();
    const xa = tf.variable(tf.tensor1d(X0));
    const step = (opt: tf.Optimizer, x: tf.Variable, g: number[]): void =>
      tf.tidy(() => opt.applyGradients([{ name: x.name, tensor: tf.tensor1d(g) }]));
    step(a, xa, GRADS[0]!);
    step(a, xa, GRADS[1]!);
    const b = make();
    const xb = tf.variable(xa.clone());
    const weights = await a.getWeights();
    expect(weights.map((w) => w.name)).toEqual(["iter", `${xa.name}/m`, `${xa.name}/v`]);
    await b.setWeights(weights);
    weights[0]!.tensor.dispose();
    expect(b.iterations).toBe(2);
    step(a, xa, GRADS[2]!);
    step(b, xb, GRADS[2]!);
    expect(Array.from(xb.dataSync())).toEqual(Array.from(xa.dataSync()));
    tf.dispose([xa, xb]);
    a.dispose();
    b.dispose();
  });

  it(`is registered as "${className}" and fromConfig(getConfig()) rebuilds the same hyperparameters`, () => {
    const original = make();
    const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[className]!;
    const copy = fromConfig(cls, original.getConfig());
    expect(copy.getClassName()).toBe(className);
    expect(copy.getConfig()).toEqual(original.getConfig());
    original.dispose();
    (copy as tf.Optimizer).dispose();
  });
});

const SPECS: Record<(typeof OPTIMIZER_NAMES)[number], OptimizerSpec> = {
  sgd: { optimizer: "sgd", learningRate: 0.05, momentum: 0.9, nesterov: true },
  rmsprop: { optimizer: "rmsprop", learningRate: 0.01, momentum: 0.5, nesterov: false },
  adam: { optimizer: "adam", learningRate: 0.01, momentum: 0, nesterov: false },
  adamax: { optimizer: "adamax", learningRate: 0.01, momentum: 0, nesterov: false },
  adagrad: { optimizer: "adagrad", learningRate: 0.05, momentum: 0, nesterov: false },
  adadelta: { optimizer: "adadelta", learningRate: 1, momentum: 0, nesterov: false },
  nadam: { optimizer: "nadam", learningRate: 0.01, momentum: 0, nesterov: false },
  adamw: { optimizer: "adamw", learningRate: 0.01, momentum: 0, nesterov: false, weightDecay: 0.01 },
};

describe("createOptimizer", () => {
  const base = { learningRate: 0.01, momentum: 0, nesterov: false };
  it.each([
    ["sgd", {}, tf.SGDOptimizer, "SGD", { learningRate: 0.01 }],
    ["sgd", { momentum: 0.9, nesterov: true }, tf.MomentumOptimizer, "Momentum", { learningRate: 0.01, momentum: 0.9, useNesterov: true }],
    ["rmsprop", {}, tf.RMSPropOptimizer, "RMSProp", { learningRate: 0.01, decay: 0.9, momentum: 0, epsilon: 1e-7, centered: false }],
    ["adam", {}, KerasAdam, "Adam", { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
    ["adamax", {}, tf.AdamaxOptimizer, "Adamax", { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 }],
    ["adagrad", {}, tf.AdagradOptimizer, "Adagrad", { learningRate: 0.01, initialAccumulatorValue: 0.1 }],
    ["adadelta", {}, tf.AdadeltaOptimizer, "Adadelta", { learningRate: 0.01, rho: 0.95, epsilon: 1e-7 }],
    ["nadam", {}, NadamOptimizer, "Nadam", { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
    ["adamw", {}, AdamWOptimizer, "AdamW", { learningRate: 0.01, weightDecay: 0.004, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
    [
      "adamw",
      { weightDecay: 0.05 },
      AdamWOptimizer,
      "AdamW",
      { learningRate: 0.01, weightDecay: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    ],
  ] as const)("%s %o is tfjs %s with Keras's defaults", (name, extra, cls, className, config) => {
    const opt = createOptimizer({ ...base, ...extra, optimizer: name });
    expect(opt).toBeInstanceOf(cls);
    expect(opt.getClassName()).toBe(className);
    expect(opt.getConfig()).toEqual(config);
    opt.dispose();
  });

  it.each([
    [{ optimizer: "adam", momentum: 0.9 }, /^adam: momentum applies only to sgd and rmsprop, got momentum 0.9; set it to 0$/],
    [{ optimizer: "rmsprop", nesterov: true }, /^rmsprop: nesterov applies only to sgd, got nesterov true; set it to false$/],
    [{ optimizer: "sgd", weightDecay: 0.01 }, /^sgd: weightDecay applies only to adamw here, got weightDecay 0.01/],
    [{ optimizer: "sgd", momentum: 1.5 }, /^sgd: momentum must be in \[0, 1\], got 1.5$/],
    [{ optimizer: "nadam", learningRate: 0 }, /^nadam: learningRate must be a finite number > 0, got 0$/],
    [{ optimizer: "ftrl" }, /^optimizer: expected one of sgd, rmsprop, adam, adamax, adagrad, adadelta, nadam, adamw, got "ftrl"$/],
  ])("refuses %o", (spec, message) => {
    expect(() => createOptimizer({ ...base, ...spec } as OptimizerSpec)).toThrow(message);
  });

  it("adadelta follows Keras's rule (the updated E[g²] in the denominator), not tfjs's", async () => {
    const x = tf.variable(tf.tensor1d(X0));
    const opt = createOptimizer(SPECS.adadelta);
    const actual: number[][] = [];
    for (const g of GRADS) {
      tf.tidy(() => opt.applyGradients({ [x.name]: tf.tensor1d(g) }));
      actual.push(Array.from(x.dataSync()));
    }
    expectRelativelyClose(actual, kerasAdadelta(X0, GRADS, 1));
    opt.dispose();
    x.dispose();
  });
});

describe.each(OPTIMIZER_NAMES)("%s through createOptimizer", (name) => {
  /** A [2, 3] kernel and a [3] bias, so slot order across variables is exercised. */
  function makeVariables(): tf.Variable[] {
    return [tf.variable(tf.tensor2d([0.5, -1, 2, 1.5, 0.25, -0.75], [2, 3])), tf.variable(tf.tensor1d([0.1, -0.2, 0.3]))];
  }
  function step(opt: tf.Optimizer, vars: tf.Variable[], k: number): void {
    tf.tidy(() =>
      opt.applyGradients(
        vars.map((v, j) => ({ name: v.name, tensor: tf.mul(tf.sin(tf.add(tf.range(0, v.size).reshape(v.shape), k * 1.7 + j)), 0.5) })),
      ),
    );
  }

  it("snapshot/restore: restored after 2 steps, 1 more step equals 3 uninterrupted steps bit for bit", async () => {
    const a = createOptimizer(SPECS[name]);
    const va = makeVariables();
    step(a, va, 0);
    step(a, va, 1);
    const state = await optimizerVariables(a).snapshot();
    expect(state.iterations).toBe(2);
    const b = createOptimizer(SPECS[name]);
    const scratch = makeVariables();
    step(b, scratch, 7); // b has slots of its own that the restore must replace (and free)
    const vb = va.map((v) => tf.variable(v.clone()));
    await optimizerVariables(b).restore(state);
    step(a, va, 2);
    step(b, vb, 2);
    va.forEach((v, j) => expect(Array.from(vb[j]!.dataSync())).toEqual(Array.from(v.dataSync())));
    expect(b.iterations).toBe(3);
    a.dispose();
    b.dispose();
    tf.dispose([...va, ...vb, ...scratch]);
  });

  it("keeps the tensor count flat over 20 steps, a snapshot and a restore", async () => {
    const opt = createOptimizer(SPECS[name]);
    const vars = makeVariables();
    step(opt, vars, 0); // creates the slots
    const before = tf.memory().numTensors;
    for (let k = 1; k <= 20; k++) step(opt, vars, k);
    await optimizerVariables(opt).restore(await optimizerVariables(opt).snapshot());
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose(vars);
  });

  it("setLearningRate reaches the rate the steps use (at 0 the variables stay put)", () => {
    const opt = createOptimizer(SPECS[name]);
    const vars = makeVariables();
    const initial = vars.map((v) => Array.from(v.dataSync()));
    setLearningRate(opt, 0);
    expect(learningRateOf(opt)).toBe(0);
    step(opt, vars, 0);
    step(opt, vars, 1);
    vars.forEach((v, j) => expect(Array.from(v.dataSync())).toEqual(initial[j]));
    setLearningRate(opt, SPECS[name].learningRate!);
    step(opt, vars, 2);
    expect(Array.from(vars[0]!.dataSync())).not.toEqual(initial[0]);
    opt.dispose();
    tf.dispose(vars);
  });
});

describe("OptimizerVariables.restore", () => {
  it("refuses another optimizer's state, naming both", async () => {
    const nadam = createOptimizer(SPECS.nadam);
    const adam = createOptimizer(SPECS.adam);
    await expect(optimizerVariables(adam).restore(await optimizerVariables(nadam).snapshot())).rejects.toThrow(
      /^optimizer restore: the state is Nadam's, the optimizer is Adam$/,
    );
    nadam.dispose();
    adam.dispose();
  });

  it("refuses a slot whose values do not fill its shape", async () => {
    const opt = createOptimizer(SPECS.adam);
    const state = { className: "Adam", iterations: 1, slots: [{ name: "w/m", shape: [2, 2], values: new Float32Array(3) }] };
    await expect(optimizerVariables(opt).restore(state)).rejects.toThrow(/slot w\/m has 3 values for shape \[2, 2\] \(4\)/);
    opt.dispose();
  });
});

// Keras habits (issue 23): a spec with only a name (and a rate) type-checks and takes Keras's defaults, and every
// config name works as a compile string, as `model.compile(optimizer="nadam")` does in Keras.
describe("Keras's optimizer names and defaults", () => {
  it.each([
    ["sgd", 0.01],
    ["rmsprop", 0.001],
    ["adam", 0.001],
    ["adamax", 0.001],
    ["adagrad", 0.001],
    ["adadelta", 0.001],
    ["nadam", 0.001],
    ["adamw", 0.001],
  ] as const)("createOptimizer({ optimizer: %j }) takes Keras's learning rate %f, no momentum, no Nesterov", (name, rate) => {
    const opt = createOptimizer({ optimizer: name });
    expect(learningRateOf(opt)).toBe(rate);
    expect(opt.getConfig()).not.toHaveProperty("momentum", 0.9);
    opt.dispose();
  });

  it.each(OPTIMIZER_NAMES)(
    "a config and a model of optimizer %j without learningRate take Keras's rate, and config.json records it",
    (name) => {
      const config = resolveConfig({ optimizer: name }, {});
      const reference = createOptimizer({ optimizer: name });
      expect(config.learningRate).toBe(learningRateOf(reference));
      expect(JSON.parse(JSON.stringify(config)).learningRate).toBe(learningRateOf(reference));
      const model = createModel({ hiddenUnits: [2], seed: 1, optimizer: name });
      expect(learningRateOf(model.optimizer)).toBe(learningRateOf(reference));
      expect(resolveConfig({ optimizer: name, learningRate: 0.05 }, {}).learningRate).toBe(0.05);
      model.dispose();
      reference.dispose();
    },
  );

  it("Keras's Adam puts ε on the raw √v: a first step of lr·√(1−β₂)/(1−β₁)·m/(√v + ε), not lr·m̂/(√v̂ + ε)", () => {
    const x = tf.variable(tf.tensor1d([0, 0]));
    const opt = createOptimizer({ optimizer: "adam", learningRate: 0.1 });
    const g = [1e-6, 1];
    opt.applyGradients({ [x.name]: tf.tensor1d(g) });
    const alpha = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    const expected = g.map((gi) => (-alpha * (0.1 * gi)) / (Math.sqrt(0.001 * gi * gi) + 1e-7));
    const got = x.dataSync();
    // At g = 1e-6 Keras's step is 0.1·0.997; tfjs's ε on √v̂ would give 0.1·0.909.
    expect(got[0]).toBeCloseTo(expected[0]!, 6);
    expect(got[1]).toBeCloseTo(expected[1]!, 6);
    opt.dispose();
    x.dispose();
  });

  it("sgd momentum keeps Keras's velocity (m ← μm − lr·g; x ← x + m) when the learning rate changes between steps", () => {
    const x = tf.variable(tf.tensor1d([1, -2]));
    const opt = createOptimizer({ optimizer: "sgd", learningRate: 0.1, momentum: 0.9, nesterov: false });
    const grads = [
      [0.5, -1],
      [0.25, 2],
      [-1, 0.5],
    ];
    const rates = [0.1, 0.02, 0.3];
    const keras = { x: [1, -2], m: [0, 0] };
    grads.forEach((g, step) => {
      setLearningRate(opt, rates[step]!);
      opt.applyGradients({ [x.name]: tf.tensor1d(g) });
      keras.m = keras.m.map((m, i) => 0.9 * m - rates[step]! * g[i]!);
      keras.x = keras.x.map((v, i) => v + keras.m[i]!);
    });
    const got = x.dataSync();
    keras.x.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    opt.dispose();
    x.dispose();
  });

  it('createOptimizer({ optimizer: "nadam", learningRate: 0.001 }) needs no momentum or nesterov', () => {
    const spec: OptimizerSpec = { optimizer: "nadam", learningRate: 0.001 };
    const opt = createOptimizer(spec);
    expect(opt).toBeInstanceOf(NadamOptimizer);
    opt.dispose();
  });

  const tinyModel = () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 2, inputShape: [3], activation: "softmax" }));
    return model;
  };

  it.each(OPTIMIZER_NAMES)(
    "model.compile({ optimizer: %j }) builds Keras's optimizer with Keras's defaults, and it trains",
    async (name) => {
      const reference = createOptimizer({ optimizer: name });
      const model = tinyModel();
      model.compile({ optimizer: name, loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
      expect(model.optimizer.constructor).toBe(reference.constructor);
      expect(model.optimizer.getConfig()).toEqual(reference.getConfig());
      reference.dispose();
      const before = model.getWeights()[0]!.dataSync().slice();
      await model.trainOnBatch(tf.tensor2d([[1, 2, 3]]), tf.tensor1d([1]));
      expect(model.getWeights()[0]!.dataSync()).not.toEqual(before);
      model.dispose();
    },
  );

  it('model.compile({ optimizer: "Adam" }) takes Keras\'s class names too, and the model owns (disposes) the optimizer', async () => {
    const model = tinyModel();
    model.compile({ optimizer: "Adam", loss: "sparseCategoricalCrossentropy" });
    expect(model.optimizer.getClassName()).toBe("Adam");
    await model.trainOnBatch(tf.tensor2d([[1, 2, 3]]), tf.tensor1d([1]));
    const [iter, ...slots] = await model.optimizer.getWeights();
    iter!.tensor.dispose();
    expect(slots.length).toBe(4);
    model.dispose();
    // As for tfjs's own names: the optimizer built from a name goes with the model (its moments are freed).
    for (const s of slots) expect(s.tensor.isDisposed).toBe(true);
  });

  it("model.compile refuses an unknown name with the list of names", () => {
    const model = tinyModel();
    expect(() => model.compile({ optimizer: "ftrl", loss: "sparseCategoricalCrossentropy" })).toThrow(
      /^optimizer "ftrl": expected one of sgd, rmsprop, adam, adamax, adagrad, adadelta, nadam, adamw \(Keras's names\) or a tf\.Optimizer$/,
    );
    model.dispose();
  });

  it("an optimizer object passes through compile untouched", () => {
    const model = tinyModel();
    const opt = tf.train.adagrad(0.05);
    model.compile({ optimizer: opt, loss: "sparseCategoricalCrossentropy" });
    expect(model.optimizer).toBe(opt);
    model.dispose();
    opt.dispose();
  });
});

describe("optimizerVariables: the one interface to an optimizer's state", () => {
  it("the tfjs version the private fields were read from is the installed one, and any other is refused with a sentence", () => {
    expect(tf.version_core).toBe(TFJS_VERSION_WRITTEN_FOR);
    expect(() => checkTfjsVersion()).not.toThrow();
    expect(() => checkTfjsVersion("4.23.0")).toThrow(TfjsVersionError);
    expect(() => checkTfjsVersion("4.23.0")).toThrow(
      /^@tensorflow\/tfjs-core 4\.23\.0 is installed, but lib\/optimizers\/tfjs-internals\.ts reads the private optimizer fields of 4\.22\.0; install @tensorflow\/tfjs 4\.22\.0 \(the version package\.json pins\) or check those fields in the new version and update the module$/,
    );
  });

  it.each(OPTIMIZER_NAMES)("%s: slots, step variables and rule for an in-place update; countStep advances the iterations", (name) => {
    const opt = createOptimizer(SPECS[name]);
    const variables = optimizerVariables(opt);
    const { inPlace } = variables;
    if (typeof inPlace === "string") throw new Error(inPlace);
    const w = tf.variable(tf.ones([2, 3]), true, `w_${name}`);
    const slots = inPlace.slotKinds.map((_, k) => inPlace.slot(k, 0, w));
    // A slot is created once, where the optimizer keeps it, with tfjs's name and the variable's shape.
    for (const [k, slot] of slots.entries()) {
      expect(inPlace.slot(k, 0, w)).toBe(slot);
      expect(inPlace.currentSlot(k, 0)).toBe(slot);
      expect(slot.shape).toEqual([2, 3]);
    }
    expect(inPlace.rule().learningRate).toBe(SPECS[name].learningRate);
    variables.countStep();
    expect(variables.iterations()).toBe(1);
    expect(opt.iterations).toBe(1);
    w.dispose();
    opt.dispose();
  });

  it("a slot of another shape than its variable is refused, naming both", () => {
    const opt = createOptimizer({ optimizer: "adam" });
    const { inPlace } = optimizerVariables(opt);
    if (typeof inPlace === "string") throw new Error(inPlace);
    const a = tf.variable(tf.ones([2, 3]), true, "shape_a");
    const b = tf.variable(tf.ones([3, 2]), true, "shape_b");
    inPlace.slot(0, 0, a);
    expect(() => inPlace.slot(0, 0, b)).toThrow(
      /^Adam: slot 0 \(shape_a\/m\) has shape \[2, 3\], variable 0 \(shape_b\) is \[3, 2\]; the optimizer's state belongs to another model or variable order$/,
    );
    tf.dispose([a, b]);
    opt.dispose();
  });

  it("tfjs's own Adadelta says why it has no in-place update; a subclass of a covered tfjs class is covered", () => {
    expect(optimizerVariables(tf.train.adadelta(1)).inPlace).toMatch(/^tfjs's own Adadelta .* is not covered by the native step/);
    class Plain extends tf.SGDOptimizer {
      override getClassName(): string {
        return "Plain";
      }
    }
    expect(typeof optimizerVariables(new Plain(0.1)).inPlace).toBe("object");
  });
});
