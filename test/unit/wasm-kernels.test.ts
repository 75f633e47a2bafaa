import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../lib/engine/backend";
import { createModel } from "../../lib/model/factory";
import { trainStep } from "../../lib/train/step";

// The patched wasm matmuls must agree with the pure-JS cpu backend's for every transpose combination,
// in both routes (direct, and swapped when the right-hand side is much bigger).
function onBackend<T>(name: string, f: () => T): T {
  const previous = tf.getBackend();
  tf.setBackend(name);
  try {
    return f();
  } finally {
    tf.setBackend(previous);
  }
}

function values(shape: number[], seed: number): number[] {
  let s = seed;
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

beforeAll(async () => {
  const info = await initBackend("wasm");
  expect(info.name).toBe("wasm");
});

describe("wasm matmul kernels", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["forward X·W (swapped route)", [4, 50], [50, 30], false, false],
    ["input gradient dY·Wᵀ", [4, 30], [50, 30], false, true],
    ["weight gradient Xᵀ·dY", [4, 50], [4, 30], true, false],
    ["both transposed", [50, 4], [30, 50], true, true],
    ["square, direct route", [20, 20], [20, 20], false, false],
    ["batched rank 3", [2, 5, 6], [2, 6, 3], false, false],
  ];
  it.each(cases)("%s matches the cpu backend", (_name, aShape, bShape, ta, tb) => {
    const compute = () =>
      tf.tidy(() => Array.from(tf.matMul(tf.tensor(values(aShape, 1), aShape), tf.tensor(values(bShape, 2), bShape), ta, tb).dataSync()));
    const want = onBackend("cpu", compute);
    const got = compute();
    expect(got).toHaveLength(want.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
  });

  it.each(["relu", "linear", "sigmoid"] as const)("fused matmul + bias + %s matches the cpu backend", (activation) => {
    const compute = () =>
      tf.tidy(() =>
        Array.from(
          tf.fused
            .matMul({
              a: tf.tensor(values([3, 40], 3), [3, 40]),
              b: tf.tensor(values([40, 20], 4), [40, 20]),
              bias: tf.tensor(values([20], 5)),
              activation,
            })
            .dataSync(),
        ),
      );
    const want = onBackend("cpu", compute);
    compute().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
  });

  it("gradients through the fused Dense path match the cpu backend", () => {
    const compute = () =>
      tf.tidy(() => {
        const x = tf.tensor(values([4, 30], 6), [4, 30]);
        const w = tf.tensor(values([30, 12], 7), [30, 12]);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.fused.matMul({ a, b, activation: "relu" })))([x, w]);
        return g.flatMap((t) => Array.from(t.dataSync()));
      });
    const want = onBackend("cpu", compute);
    compute().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
  });

  it("a training step of a Dense stack (swapped forward, transposed backward) matches the cpu backend", () => {
    const steps = () => {
      const model = createModel({ hiddenUnits: [40, 12], learningRate: 0.1, seed: 3 });
      const step = trainStep(model);
      const xb = tf.tensor(values([6, 28, 28], 8).map(Math.abs), [6, 28, 28]);
      const results = [0, 1].map(() => step(xb, Float32Array.from([0, 1, 2, 3, 4, 5])));
      const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
      xb.dispose();
      model.dispose();
      return { results, weights };
    };
    const want = onBackend("cpu", steps);
    const got = steps();
    got.results.forEach((r, i) => {
      expect(r.loss).toBeCloseTo(want.results[i]!.loss, 4);
      expect(r.correct).toBe(want.results[i]!.correct);
    });
    got.weights.forEach((v, i) => expect(v).toBeCloseTo(want.weights[i]!, 4));
  });

  it("disposes its temporaries", () => {
    const a = tf.tensor(values([4, 50], 1), [4, 50]);
    const b = tf.tensor(values([50, 30], 2), [50, 30]);
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    tf.matMul(a, b, false, false).dispose();
    tf.matMul(a, tf.transpose(b), false, true).dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the transpose(b) made in the test
    expect(tf.memory().numBytes).toBe(bytes + 50 * 30 * 4);
  });
});
