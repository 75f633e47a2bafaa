import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { loadAddon, type NativeAddon } from "./addon";

/*
 * The "native" tfjs backend: tfjs's pure-JS cpu backend with its matrix products (BatchMatMul and
 * _FusedMatMul) handed to BLAS through the addon. Every other kernel is the cpu backend's own, so any
 * model runs; model.predict, evaluation and tf.variableGrads get BLAS matmuls. Tensors live in the cpu
 * backend's Float32Arrays, which is what lets the fused training step (./step.ts) update weights in place.
 */

export const NATIVE_BACKEND = "native";
// Below cpu (1), wasm (2) and tensorflow (3): tfjs never picks it by itself; initBackend chooses it.
const PRIORITY = 0;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };
type TensorInfo = tf.TensorInfo;

/**
 * Registers the "native" backend (once per process); undefined when it is there, else the reason it
 * cannot be (the addon's). tf.setBackend("native") then selects it.
 */
export function registerNativeBackend(): string | undefined {
  const load = loadAddon();
  if (!load.addon) return load.reason;
  if (isRegistered()) return undefined;
  const addon = load.addon;
  tf.registerBackend(NATIVE_BACKEND, () => createBackend(), PRIORITY);
  copyCpuKernels();
  tf.registerKernel({
    kernelName: tf.BatchMatMul,
    backendName: NATIVE_BACKEND,
    kernelFunc: ((args: KernelArgs) => batchMatMul(addon, args)) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: tf._FusedMatMul,
    backendName: NATIVE_BACKEND,
    kernelFunc: ((args: KernelArgs) => fusedMatMul(addon, args)) as unknown as tf.KernelFunc,
  });
  return undefined;
}

function isRegistered(): boolean {
  try {
    return tf.findBackendFactory(NATIVE_BACKEND) != null;
  } catch {
    return false;
  }
}

function createBackend(): MathBackendCPU {
  const backend = new MathBackendCPU();
  // The cpu backend's first write prints "Hi, looks like you are running TensorFlow.js in Node.js ...
  // install our node backend"; this backend is the fast path it recommends, so skip the advice.
  (backend as unknown as { firstUse: boolean }).firstUse = false;
  return backend;
}

/** Every cpu kernel (with its setup and dispose hooks) also serves "native", except the ones replaced below. */
function copyCpuKernels(): void {
  const replaced = new Set<string>([tf.BatchMatMul, tf._FusedMatMul]);
  for (const kernel of tf.getKernelsForBackend("cpu")) {
    if (replaced.has(kernel.kernelName) || tf.getKernel(kernel.kernelName, NATIVE_BACKEND)) continue;
    tf.registerKernel({ ...kernel, backendName: NATIVE_BACKEND });
  }
}

/** The cpu backend's own kernel, for inputs the BLAS route does not take. */
function cpuKernel(name: string, args: KernelArgs): TensorInfo {
  return tf.getKernel(name, "cpu")!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

function float32Values(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  const values = backend.data.get(t.dataId)?.values;
  return t.dtype === "float32" && values instanceof Float32Array ? values : null;
}

/** The shapes of op(a)·op(b) over broadcast batch dimensions, or null when the BLAS route does not apply. */
interface MatMulPlan {
  m: number;
  n: number;
  k: number;
  batch: number;
  batchA: number;
  batchB: number;
  outShape: number[];
}

function planMatMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | null {
  const ra = a.shape.length,
    rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outerA = a.shape.slice(0, -2),
    outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, d) => p * d, 1),
    batchB = outerB.reduce((p, d) => p * d, 1);
  // tfjs's cpu kernel pairs batch i of the output with a[i % batchA], b[i % batchB]: exact only when the
  // batch sizes are equal or one is 1. Anything else, and empty products, stay with the cpu kernel.
  if (k !== kb || m === 0 || n === 0 || k === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return null;
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  return { m, n, k, batch: Math.max(batchA, batchB), batchA, batchB, outShape: [...outer, m, n] };
}

/** op(a)·op(b) for every batch into a new Float32Array. */
function multiply(
  addon: NativeAddon,
  p: MatMulPlan,
  av: Float32Array,
  bv: Float32Array,
  transposeA: boolean,
  transposeB: boolean,
): Float32Array {
  const out = new Float32Array(p.batch * p.m * p.n);
  if (p.batch === 1) {
    addon.sgemm(transposeA, transposeB, p.m, p.n, p.k, 1, av, bv, 0, out);
    return out;
  }
  const sa = p.m * p.k,
    sb = p.k * p.n,
    sc = p.m * p.n;
  for (let i = 0; i < p.batch; i++) {
    const ia = p.batchA === 1 ? 0 : i,
      ib = p.batchB === 1 ? 0 : i;
    addon.sgemm(
      transposeA,
      transposeB,
      p.m,
      p.n,
      p.k,
      1,
      av.subarray(ia * sa, (ia + 1) * sa),
      bv.subarray(ib * sb, (ib + 1) * sb),
      0,
      out.subarray(i * sc, (i + 1) * sc),
    );
  }
  return out;
}

function batchMatMul(addon: NativeAddon, args: KernelArgs): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA = false, transposeB = false } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const backend = args.backend;
  const plan = planMatMul(a, b, transposeA, transposeB);
  const av = float32Values(backend, a),
    bv = float32Values(backend, b);
  if (!plan || !av || !bv) return cpuKernel(tf.BatchMatMul, args);
  return backend.makeTensorInfo(plan.outShape, "float32", multiply(addon, plan, av, bv, transposeA, transposeB));
}

type FusedActivation = "linear" | "relu" | "relu6" | "elu" | "sigmoid" | "leakyrelu" | "prelu";

/**
 * Dense's kernel: op(a)·op(b) + bias, then the activation, in one pass over the product when the bias
 * is per column (Dense's) or a scalar. prelu and other bias shapes take the cpu kernels for those parts.
 */
function fusedMatMul(addon: NativeAddon, args: KernelArgs): TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: TensorInfo;
    b: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: FusedActivation; leakyreluAlpha?: number };
  const { transposeA = false, transposeB = false, activation = "linear", leakyreluAlpha = 0.2 } = attrs;
  const backend = args.backend;
  const plan = planMatMul(a, b, transposeA, transposeB);
  const av = float32Values(backend, a),
    bv = float32Values(backend, b);
  if (!plan || !av || !bv) return cpuKernel(tf._FusedMatMul, args);
  const out = multiply(addon, plan, av, bv, transposeA, transposeB);
  const biasValues = bias ? float32Values(backend, bias) : null;
  const simpleBias = !bias || (biasValues !== null && (bias.shape.reduce((p, d) => p * d, 1) === 1 || isColumnBias(bias.shape, plan.n)));
  if (simpleBias && activation !== "prelu") {
    addBiasAndActivate(out, plan.n, biasValues, activation, leakyreluAlpha);
    return backend.makeTensorInfo(plan.outShape, "float32", out);
  }
  let current = backend.makeTensorInfo(plan.outShape, "float32", out);
  if (bias) current = replace(backend, current, cpuKernel(tf.Add, { inputs: { a: current, b: bias }, backend }));
  if (activation === "prelu")
    current = replace(backend, current, cpuKernel(tf.Prelu, { inputs: { x: current, alpha: preluActivationWeights! }, backend }));
  else if (activation !== "linear")
    addBiasAndActivate(backend.data.get(current.dataId).values as Float32Array, plan.n, null, activation, leakyreluAlpha);
  return current;
}

function replace(backend: MathBackendCPU, old: TensorInfo, next: TensorInfo): TensorInfo {
  backend.disposeIntermediateTensorInfo(old);
  return next;
}

/** A bias broadcast along the last axis: shape [n], [1, n], [1, 1, n]... */
function isColumnBias(shape: number[], n: number): boolean {
  return shape.length > 0 && shape[shape.length - 1] === n && shape.slice(0, -1).every((d) => d === 1);
}

/** out[i, j] = f(out[i, j] + bias[j]) (bias of length 1 is a scalar), with tfjs's fused activations. */
function addBiasAndActivate(out: Float32Array, n: number, bias: Float32Array | null, activation: FusedActivation, alpha: number): void {
  if (bias) {
    if (bias.length === 1) {
      const b0 = bias[0]!;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + b0;
    } else {
      for (let row = 0; row < out.length; row += n) for (let j = 0; j < n; j++) out[row + j] = out[row + j]! + bias[j]!;
    }
  }
  const f = ACTIVATIONS[activation];
  if (f) for (let i = 0; i < out.length; i++) out[i] = f(out[i]!, alpha);
}

// The cpu backend's definitions (kernels Relu, Relu6, Elu, Sigmoid, LeakyRelu).
const ACTIVATIONS: Partial<Record<FusedActivation, (x: number, alpha: number) => number>> = {
  relu: (x) => Math.max(x, 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  leakyrelu: (x, alpha) => (x < 0 ? alpha * x : x),
};
