import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon } from "../../lib/engine/native/addon";
import { NATIVE_BACKEND, registerNativeBackend } from "../../lib/engine/native/backend";
import { skipWithoutAddon } from "../native";

/*
 * The "native" backend's BLAS matmul kernels against tfjs's pure-JS cpu kernels, and the addon's own
 * surface (sgemm, threads, info). Skipped only when the addon is not built.
 */

const load = loadAddon();
const skipNative = skipWithoutAddon(load);

/** Seeded values in [-1, 1), so every run compares the same numbers. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Runs `f` on the cpu backend, then on native, and returns both results' values and shapes. */
async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array; native: Float32Array; shape: number[] }> {
  await tf.setBackend("cpu");
  const c = tf.tidy(f);
  const cpu = c.dataSync() as Float32Array;
  c.dispose();
  await tf.setBackend(NATIVE_BACKEND);
  const n = tf.tidy(f);
  const native = n.dataSync() as Float32Array;
  const shape = n.shape;
  n.dispose();
  return { cpu, native, shape };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe.skipIf(skipNative)(`native backend kernels vs cpu${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  beforeAll(() => {
    expect(registerNativeBackend()).toBeUndefined();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("registers once: a second call is a no-op", () => {
    expect(registerNativeBackend()).toBeUndefined();
    expect(tf.findBackendFactory(NATIVE_BACKEND)).toBeTypeOf("function");
  });

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`BatchMatMul 2-D transposeA=${ta} transposeB=${tb} matches cpu`, async () => {
      const a = values(7 * 5, 1),
        b = values(5 * 3, 2);
      const r = await onBoth(() => tf.matMul(tf.tensor2d(a, ta ? [5, 7] : [7, 5]), tf.tensor2d(b, tb ? [3, 5] : [5, 3]), ta, tb));
      expect(r.shape).toEqual([7, 3]);
      expect(maxAbsDiff(r.native, r.cpu)).toBeLessThan(1e-5);
    });
  }

  it("BatchMatMul with batches, and with a batch of 1 broadcast against 4, matches cpu", async () => {
    const batched = await onBoth(() =>
      tf.matMul(tf.tensor3d(values(4 * 6 * 5, 3), [4, 6, 5]), tf.tensor3d(values(4 * 5 * 2, 4), [4, 5, 2])),
    );
    expect(batched.shape).toEqual([4, 6, 2]);
    expect(maxAbsDiff(batched.native, batched.cpu)).toBeLessThan(1e-5);
    const broadcast = await onBoth(() =>
      tf.matMul(tf.tensor3d(values(6 * 5, 5), [1, 6, 5]), tf.tensor3d(values(4 * 2 * 5, 6), [4, 2, 5]), false, true),
    );
    expect(broadcast.shape).toEqual([4, 6, 2]);
    expect(maxAbsDiff(broadcast.native, broadcast.cpu)).toBeLessThan(1e-5);
  });

  it("BatchMatMul on int32 and empty tensors falls back to the cpu kernel", async () => {
    const ints = await onBoth(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"), tf.tensor2d([5, 6, 7, 8], [2, 2], "int32")));
    expect(Array.from(ints.native)).toEqual([19, 22, 43, 50]);
    const empty = await onBoth(() => tf.matMul(tf.zeros([0, 3]), tf.zeros([3, 2])));
    expect(empty.shape).toEqual([0, 2]);
  });

  for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const) {
    it(`_FusedMatMul with bias and ${activation} matches cpu`, async () => {
      const r = await onBoth(() =>
        tf.fused.matMul({
          a: tf.tensor2d(
            values(9 * 4, 7).map((v) => v * 4),
            [9, 4],
          ),
          b: tf.tensor2d(values(4 * 6, 8), [4, 6]),
          bias: tf.tensor1d(values(6, 9)),
          activation,
          preluActivationWeights: activation === "prelu" ? tf.tensor1d(values(6, 10)) : undefined,
          leakyreluAlpha: 0.15,
        }),
      );
      expect(r.shape).toEqual([9, 6]);
      expect(maxAbsDiff(r.native, r.cpu)).toBeLessThan(1e-5);
    });
  }

  it("_FusedMatMul with a scalar bias and with a [rows, 1] bias (cpu's Add) matches cpu", async () => {
    const scalar = await onBoth(() =>
      tf.fused.matMul({
        a: tf.tensor2d(values(12, 11), [3, 4]),
        b: tf.tensor2d(values(8, 12), [4, 2]),
        bias: tf.scalar(0.5),
        activation: "relu",
      }),
    );
    expect(maxAbsDiff(scalar.native, scalar.cpu)).toBeLessThan(1e-5);
    const rows = await onBoth(() =>
      tf.fused.matMul({
        a: tf.tensor2d(values(12, 13), [3, 4]),
        b: tf.tensor2d(values(8, 14), [4, 2]),
        bias: tf.tensor2d([0.1, -0.2, 0.3], [3, 1]),
        activation: "elu",
      }),
    );
    expect(maxAbsDiff(rows.native, rows.cpu)).toBeLessThan(1e-5);
  });

  it("a Dense model's predict and its gradients (tf.variableGrads) match cpu", async () => {
    const run = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [10],
            units: 7,
            activation: "relu",
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const x = tf.tensor2d(values(5 * 10, 15), [5, 10]);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, tf.tensor2d(values(15, 16), [5, 3]))) as tf.Scalar,
        vars,
      );
      const out = tf.concat([(model.predict(x) as tf.Tensor).flatten(), ...vars.map((v) => grads[v.name]!.flatten())]);
      model.dispose();
      return out;
    };
    const r = await onBoth(run);
    expect(maxAbsDiff(r.native, r.cpu)).toBeLessThan(1e-5);
  });

  it("keeps tensor counts: the kernels leak nothing", async () => {
    await tf.setBackend(NATIVE_BACKEND);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.matMul(tf.ones([3, 4]), tf.ones([4, 5]));
      tf.fused.matMul({
        a: tf.ones([3, 4]),
        b: tf.ones([4, 5]),
        bias: tf.tensor2d([1, 2, 3], [3, 1]),
        activation: "prelu",
        preluActivationWeights: tf.ones([5]),
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.skipIf(skipNative)(`native addon surface${load.addon ? "" : ` (skipped: ${load.reason})`}`, () => {
  const addon = load.addon!;

  it("sgemm computes alpha·op(A)·op(B) + beta·C in place, row-major", () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
    const b = Float32Array.of(1, 0, 0, 1, 1, 1); // [3, 2]
    const c = Float32Array.of(10, 10, 10, 10);
    addon.sgemm(false, false, 2, 2, 3, 2, a, b, 0.5, c);
    expect(Array.from(c)).toEqual([2 * 4 + 5, 2 * 5 + 5, 2 * 10 + 5, 2 * 11 + 5]);
    const ct = new Float32Array(4);
    addon.sgemm(true, true, 2, 2, 3, 1, Float32Array.of(1, 4, 2, 5, 3, 6), Float32Array.of(1, 0, 1, 0, 1, 1), 0, ct);
    expect(Array.from(ct)).toEqual([4, 5, 10, 11]);
  });

  it("sgemm refuses arrays shorter than the shapes say, and non-Float32Array arguments", () => {
    expect(() => addon.sgemm(false, false, 2, 2, 3, 1, new Float32Array(5), new Float32Array(6), 0, new Float32Array(4))).toThrow(
      /A has 5 elements, needs 6/,
    );
    expect(() =>
      addon.sgemm(false, false, 2, 2, 3, 1, new Float32Array(6), new Float32Array(6), 0, new Float64Array(4) as unknown as Float32Array),
    ).toThrow(/C must be a Float32Array/);
  });

  it("a Trainer spec error is a RangeError naming the field", () => {
    const spec = (units: number, activation = "relu") => ({
      inputSize: 4,
      layers: [{ units, activation: activation as "relu" }, { units: 3 }],
      optimizer: { kind: "sgd" as const, learningRate: 0.1 },
    });
    expect(() => new addon.Trainer(spec(0))).toThrow(RangeError);
    expect(() => new addon.Trainer(spec(0))).toThrow(/layers\[0\]\.units must be an integer in \[1, 16777216\], got 0/);
    expect(() => new addon.Trainer(spec(5, "softmax"))).toThrow(/layers\[0\]: activation softmax is not supported/);
    const trainer = new addon.Trainer(spec(5));
    expect(() => trainer.step(new Float32Array(4), new Int32Array(1), 1)).toThrow(
      /layers\[0\] kernel is not bound; call bindVariable first/,
    );
  });

  it("starts on one kernel thread and one BLAS thread; setThreads and setBlasThreads change them", () => {
    expect(addon.getThreads()).toBe(1);
    addon.setThreads(2);
    expect(addon.info().threads).toBe(2);
    addon.setThreads(1);
    expect(addon.getThreads()).toBe(1);
    expect(() => addon.setThreads(0)).toThrow(/threads must be an integer in \[1, 1024\], got 0/);
    expect(addon.info().blas).toMatch(/OpenBLAS|Accelerate/);
    if (!addon.info().blas.includes("OpenBLAS")) return;
    expect(addon.getBlasThreads()).toBe(1);
    addon.setBlasThreads(2);
    expect(addon.info().blasThreads).toBe(2);
    addon.setBlasThreads(1);
    expect(addon.getBlasThreads()).toBe(1);
  });
});
