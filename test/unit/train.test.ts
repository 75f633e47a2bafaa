import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../../lib/model/factory";
import { train } from "../../lib/train/fit";
import { interruptTrainings } from "../../lib/train/interrupt";
import { historyFromCsv, historyToCsv } from "../../lib/results/history";
import { syntheticImages } from "../synthetic";
import { planDenseStack } from "../../lib/model/dense-stack";
import { denseStack } from "../../lib/train/dense-step";

/** The written-out step's reading of `model`, or null when the fast steps do not cover it. */
function writtenOut(model: tf.LayersModel) {
  const plan = planDenseStack(model);
  return typeof plan === "string" ? null : denseStack(plan);
}

const tiny = { hiddenUnits: [8], learningRate: 0.05, seed: 7 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("createModel", () => {
  it("builds the tutorial's layers with Keras's names and 266,610 parameters", () => {
    const model = createModel({ hiddenUnits: [300, 100], learningRate: 0.01, seed: 42 });
    expect(model.name).toBe("sequential");
    expect(model.layers.map((l) => l.name)).toEqual(["flatten", "dense", "dense_1", "dense_2"]);
    expect(model.layers.map((l) => l.outputShape)).toEqual([
      [null, 784],
      [null, 300],
      [null, 100],
      [null, 10],
    ]);
    expect(model.countParams()).toBe(266_610);
    expect(model.getLayer("dense")).toBe(model.layers[1]);
    const [w, b] = model.layers[1]!.getWeights();
    expect(w!.shape).toEqual([784, 300]);
    expect(Array.from(b!.dataSync()).every((v) => v === 0)).toBe(true);
    // Glorot uniform: |w| <= sqrt(6 / (fan_in + fan_out))
    const limit = Math.sqrt(6 / (784 + 300));
    expect(Array.from(w!.dataSync()).reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(limit);
    model.dispose();
  });

  it("the same seed gives the same initial weights, another seed different ones", () => {
    const first = (seed: number) => {
      const m = createModel({ ...tiny, seed });
      const v = Array.from(m.layers[1]!.getWeights()[0]!.dataSync().slice(0, 5));
      m.dispose();
      return v;
    };
    expect(first(7)).toEqual(first(7));
    expect(first(7)).not.toEqual(first(8));
  });
});

describe("train", () => {
  const data = { train: syntheticImages(64, 1), valid: syntheticImages(16, 2) };

  it("returns a History with Keras's keys, one finite value per epoch", async () => {
    const model = createModel(tiny);
    const history = await train(model, data, { epochs: 2, batchSize: 16, seed: 1 }, { progress: "none" });
    expect(Object.keys(history.history)).toEqual(["loss", "accuracy", "val_loss", "val_accuracy"]);
    expect(history.epoch).toEqual([0, 1]);
    for (const values of Object.values(history.history)) {
      expect(values).toHaveLength(2);
      values.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    }
    expect(history.params).toEqual({ epochs: 2, steps: 4, batchSize: 16, samples: 64 });
    model.dispose();
  });

  it("the same seed and backend give the same history", async () => {
    const run = async () => {
      const model = createModel(tiny);
      const h = await train(model, data, { epochs: 2, batchSize: 16, seed: 3 }, { progress: "none" });
      model.dispose();
      return h.history;
    };
    expect(await run()).toEqual(await run());
  });

  it("learns the synthetic task (loss falls)", async () => {
    const model = createModel(tiny);
    const h = await train(model, data, { epochs: 8, batchSize: 8, seed: 1 }, { progress: "none" });
    expect(h.history.loss![7]!).toBeLessThan(h.history.loss![0]!);
    model.dispose();
  });

  it("leaves no tensors behind", async () => {
    const model = createModel(tiny);
    await train(model, data, { epochs: 1, batchSize: 16, seed: 1 }, { progress: "none" });
    const before = tf.memory().numTensors;
    await train(model, data, { epochs: 2, batchSize: 16, seed: 1 }, { progress: "none" });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("stops after the current batch when a callback sets stopTraining", async () => {
    const model = createModel(tiny);
    const h = await train(
      model,
      data,
      { epochs: 5, batchSize: 16, seed: 1 },
      {
        progress: "none",
        callbacks: {
          onEpochEnd: (epoch) => {
            if (epoch === 1) model.stopTraining = true;
          },
        },
      },
    );
    expect(h.epoch).toEqual([0, 1]);
    model.dispose();
  });

  it("lets a stop in (Ctrl-C, a search's prune) when every epoch is shorter than the loop's yield interval", async () => {
    // Epochs of a few ms each: the loop must still give the event loop a turn across epochs, or the stop queued at
    // the first epoch's end (a macrotask, as a signal or a trainer's IPC message is) would only run once all 3,000
    // epochs were done.
    const model = createModel(tiny);
    let stop: ReturnType<typeof setImmediate> | undefined;
    const onEpochEnd = () => {
      stop ??= setImmediate(() => interruptTrainings("SIGINT"));
    };
    const h = await train(
      model,
      { train: syntheticImages(32, 1) },
      { epochs: 3000, batchSize: 32, seed: 1 },
      { progress: "none", callbacks: { onEpochEnd } },
    );
    clearImmediate(stop);
    expect(h.stopped).toBe(true);
    expect(h.epoch.length).toBeLessThan(3000);
    model.dispose();
  });

  it("prints Epoch n/N and one summary line per epoch in epoch mode", async () => {
    const model = createModel(tiny);
    const lines: string[] = [];
    const { kerasProgress } = await import("../../lib/train/callbacks/progress");
    await train(
      model,
      data,
      { epochs: 2, batchSize: 16, seed: 1 },
      { progress: "none", callbacks: kerasProgress("epoch", (s) => lines.push(s)) },
    );
    const text = lines.join("");
    expect(text).toMatch(
      /^Epoch 1\/2\n4\/4 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - \d+s\/epoch - \d+(us|ms)\/step\nEpoch 2\/2\n/,
    );
    expect(text.split("\n").filter(Boolean)).toHaveLength(4);
    model.dispose();
  });
});

describe("history CSV", () => {
  it("round-trips through historyToCsv / historyFromCsv", () => {
    const h = {
      epoch: [0, 1],
      history: { loss: [0.5, 0.25], accuracy: [0.8, 0.9], val_loss: [0.6, 0.3], val_accuracy: [0.7, 0.85] },
      params: { epochs: 2, steps: 1, batchSize: 1, samples: 1 },
    };
    const csv = historyToCsv(h);
    expect(csv.split("\n")[0]).toBe("epoch,loss,accuracy,val_loss,val_accuracy");
    expect(historyFromCsv(csv).history).toEqual(h.history);
  });

  it("refuses a CSV without the epoch header, naming the file", () => {
    expect(() => historyFromCsv("a,b\n1,2\n", "runs/x/history.csv")).toThrow(
      /runs\/x\/history.csv: expected a header starting with "epoch,"/,
    );
  });
});

describe("the written-out Dense step", () => {
  const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

  /** Two identical models, one step each on the same batch: the written-out step and tf.variableGrads. */
  async function bothSteps(hiddenUnits: number[], batch: number, optimizer?: () => tf.Optimizer) {
    const { denseStep, genericStep } = await import("../../lib/train/step");
    const { x, y } = syntheticImages(batch, 5);
    const xb = tf.tensor(x.data, [batch, 28, 28]);
    const labels = Float32Array.from(y.data as Uint8Array);
    const [fast, slow] = [createModel({ ...tiny, hiddenUnits }), createModel({ ...tiny, hiddenUnits })];
    if (optimizer) for (const m of [fast, slow]) m.compile({ loss: "sparseCategoricalCrossentropy", optimizer: optimizer() });
    const stack = writtenOut(fast);
    expect(stack?.layers.map((l) => l.activation)).toEqual([...hiddenUnits.map(() => "relu"), "softmax"]);
    const step = denseStep(stack!, fast.optimizer!);
    const ours = step(xb, labels);
    const theirs = genericStep(slow, slow.optimizer!)(xb, labels);
    const iterations = [fast, slow].map((m) => (m.optimizer as unknown as { iterations: number }).iterations);
    const result = { ours, theirs, iterations, fast: weightsOf(fast), slow: weightsOf(slow), tensors: [tf.memory().numTensors, 0] };
    step(xb, labels);
    result.tensors[1] = tf.memory().numTensors;
    tf.dispose([xb]);
    fast.dispose();
    slow.dispose();
    return result;
  }

  it("gives the loss, accuracy and updated weights of tf.variableGrads through the compiled loss", async () => {
    const { ours, theirs, fast, slow, tensors, iterations } = await bothSteps([8, 6], 12);
    expect(ours.loss).toBeCloseTo(theirs.loss, 5);
    expect(ours.correct).toBe(theirs.correct);
    expect(iterations).toEqual([1, 1]);
    expect(fast.length).toBe(6);
    fast.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(slow[i]![j]!, 6)));
    // The step really moved the weights (an update of zero would also "match").
    const untrained = createModel({ ...tiny, hiddenUnits: [8, 6] });
    const initial = weightsOf(untrained);
    untrained.dispose();
    expect(fast[0]!.some((v, j) => Math.abs(v - initial[0]![j]!) > 1e-6)).toBe(true);
    // A second step leaves no tensors behind.
    expect(tensors[1]).toBe(tensors[0]);
  });

  it.each([
    ["momentum", () => tf.train.momentum(0.05, 0.9)],
    ["adam", () => tf.train.adam(0.01)],
  ])("with %s, goes through the optimizer and matches tf.variableGrads", async (_name, optimizer) => {
    const { ours, theirs, fast, slow } = await bothSteps([8], 10, optimizer);
    expect(ours.loss).toBeCloseTo(theirs.loss, 5);
    fast.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(slow[i]![j]!, 6)));
  });

  it("is used only for Flatten/Dense stacks (with activations, BN, dropout) with a softmax output and sparse cross-entropy", async () => {
    const tutorial = createModel(tiny);
    expect(writtenOut(tutorial)).not.toBeNull();

    const withDropout = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, activation: "relu" }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 2, activation: "softmax" }),
      ],
    });
    withDropout.compile({ loss: "sparseCategoricalCrossentropy", optimizer: "sgd" });
    const tanh = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "tanh" }), tf.layers.dense({ units: 2, activation: "softmax" })],
    });
    tanh.compile({ loss: "sparseCategoricalCrossentropy", optimizer: "sgd" });
    const mse = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: "softmax" })] });
    mse.compile({ loss: "meanSquaredError", optimizer: "sgd" });
    const frozen = createModel(tiny);
    frozen.layers[1]!.trainable = false;
    frozen.compile({ loss: "sparseCategoricalCrossentropy", optimizer: "sgd" });
    // Dropout and tanh are written out too (test/unit/dense-step.test.ts compares them with tf.variableGrads).
    for (const m of [withDropout, tanh]) expect(writtenOut(m)).not.toBeNull();
    for (const m of [mse, frozen]) expect(writtenOut(m)).toBeNull();
    for (const m of [tutorial, withDropout, tanh, mse, frozen]) m.dispose();
  });

  it("a model outside the Dense stack still trains, through the generic step", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({ units: 8, activation: "tanh" }),
        tf.layers.dense({ units: 10, activation: "softmax" }),
      ],
    });
    model.compile({ loss: "sparseCategoricalCrossentropy", optimizer: tf.train.sgd(0.05) });
    const h = await train(model, { train: syntheticImages(64, 1) }, { epochs: 3, batchSize: 16, seed: 1 }, { progress: "none" });
    expect(h.history.loss![2]!).toBeLessThan(h.history.loss![0]!);
    model.dispose();
  });
});

describe("sparseCrossEntropy (the training step's loss)", () => {
  it("has the compiled Keras loss's value and gradients", async () => {
    const { sparseCrossEntropy } = await import("../../lib/train/step");
    const model = createModel(tiny);
    const inner = (model as unknown as { model: tf.LayersModel }).model;
    const keras = inner.lossFunctions[0]!;
    const { x, y } = syntheticImages(16, 4);
    const xb = tf.tensor(x.data, [16, 28, 28]);
    const yb = tf.tensor1d(Float32Array.from(y.data as Uint8Array));
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const probs = () => model.apply(xb, { training: true }) as tf.Tensor;
    const ours = tf.variableGrads(() => sparseCrossEntropy(yb, probs()), vars);
    const theirs = tf.variableGrads(() => tf.mean(keras(yb, probs())) as tf.Scalar, vars);
    expect(ours.value.dataSync()[0]).toBeCloseTo(theirs.value.dataSync()[0]!, 5);
    for (const name of Object.keys(theirs.grads)) {
      const a = ours.grads[name]!.dataSync();
      const b = theirs.grads[name]!.dataSync();
      b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 5));
    }
    model.dispose();
  });
});
