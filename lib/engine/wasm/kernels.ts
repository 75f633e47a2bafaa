import * as tf from "@tensorflow/tfjs";

/*
 * Faster matrix products for the wasm backend (tfjs 4.22); `npx fashion-ann bench` measures them
 * (FASHION_ANN_STOCK_KERNELS=1 for tfjs's own). Two routes in tfjs are slow:
 * 1. BatchMatMul with transposeA/transposeB set runs a naive loop instead of XNNPACK (an order of
 *    magnitude slower); every backward matmul sets one. Transposing explicitly first restores the fast path.
 * 2. XNNPACK packs the right-hand matrix and caches the packing by tensor id, but SGD makes new weight
 *    tensors every step, so X·W re-packs the 784x300 weights each time. Computing (Wᵀ·Xᵀ)ᵀ packs the
 *    small activation matrix instead; that costs three cheap transposes.
 * Both kernels keep tfjs's semantics; only the route to the result changes.
 */

type TensorInfo = tf.TensorInfo;
type Backend = { disposeData(dataId: object): void };
type KernelFn = (args: { inputs: Record<string, TensorInfo | undefined>; backend: Backend; attrs: Record<string, unknown> }) => TensorInfo;

// Swap operands when the right-hand side is this many times bigger than the rest: its re-packing then dominates.
const SWAP_RATIO = 2;
// Activations of _FusedMatMul that map to a plain unary kernel after the swapped product.
const UNARY_ACTIVATIONS: Record<string, string> = { relu: "Relu", relu6: "Relu6", sigmoid: "Sigmoid", elu: "Elu" };

let installed = false;

/** Replaces the wasm backend's BatchMatMul and _FusedMatMul with the faster routes; idempotent. */
export function installWasmMatMulKernels(): void {
  if (installed) return;
  const originals = stockKernels();
  replaceKernel("BatchMatMul", (({ inputs, backend, attrs }: Parameters<KernelFn>[0]) =>
    product(originals, inputs.a!, inputs.b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), backend)) as KernelFn);
  replaceKernel("_FusedMatMul", (args) => fusedProduct(originals, args));
  installed = true;
}

/** tfjs's own wasm kernels the new routes are made of, looked up before they are replaced. */
interface StockKernels {
  matMul: KernelFn;
  fusedMatMul: KernelFn;
  transpose: KernelFn;
  add: KernelFn;
  unary(name: string): KernelFn;
}

function stockKernels(): StockKernels {
  const kernel = (name: string): KernelFn => {
    const config = tf.getKernel(name, "wasm");
    if (!config) throw new Error(`wasm kernel ${name} is not registered; load @tensorflow/tfjs-backend-wasm first`);
    return config.kernelFunc as unknown as KernelFn;
  };
  return {
    matMul: kernel("BatchMatMul"),
    fusedMatMul: kernel("_FusedMatMul"),
    transpose: kernel("Transpose"),
    add: kernel("Add"),
    unary: kernel,
  };
}

/** Registers `kernelFunc` for `name` on wasm, keeping the original's setupFunc (the backend runs it at initialisation to bind the wasm functions). */
function replaceKernel(name: string, kernelFunc: KernelFn): void {
  const setupFunc = tf.getKernel(name, "wasm")!.setupFunc;
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({ kernelName: name, backendName: "wasm", setupFunc, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

function transposeLast2(k: StockKernels, x: TensorInfo, backend: Backend): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return k.transpose({ inputs: { x }, backend, attrs: { perm } });
}

/** op(a)·op(b) through XNNPACK's path: explicit transposes, and the swapped product when the right-hand side is the big one. */
function product(k: StockKernels, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: Backend): TensorInfo {
  const temps: TensorInfo[] = [];
  const T = (x: TensorInfo): TensorInfo => pushed(temps, transposeLast2(k, x, backend));
  const mm = (l: TensorInfo, r: TensorInfo) =>
    k.matMul({ inputs: { a: l, b: r }, backend, attrs: { transposeA: false, transposeB: false } });
  try {
    if (!shouldSwap(a, b, transposeA, transposeB)) return mm(transposeA ? T(a) : a, transposeB ? T(b) : b);
    // C = op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ, and op(X)ᵀ is X itself when X was to be transposed.
    return transposeLast2(k, pushed(temps, mm(transposeB ? b : T(b), transposeA ? a : T(a))), backend);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** _FusedMatMul: the swapped product, then bias and activation as their own kernels; else tfjs's fused kernel on untransposed operands. */
function fusedProduct(k: StockKernels, args: Parameters<KernelFn>[0]): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b, bias } = inputs as Record<string, TensorInfo>;
  const activation = String(attrs.activation ?? "linear");
  const plain = activation === "linear" || activation in UNARY_ACTIVATIONS;
  if (!shouldSwap(a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB)) || !plain || inputs.preluActivationWeights) {
    if (!attrs.transposeA && !attrs.transposeB) return k.fusedMatMul(args);
    // Transpose explicitly so the fused kernel (bias + activation in one pass) takes XNNPACK's path.
    const ta = attrs.transposeA ? transposeLast2(k, a!, backend) : a!;
    const tb = attrs.transposeB ? transposeLast2(k, b!, backend) : b!;
    try {
      return k.fusedMatMul({ inputs: { ...inputs, a: ta, b: tb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (ta !== a) backend.disposeData(ta.dataId);
      if (tb !== b) backend.disposeData(tb.dataId);
    }
  }
  let out = product(k, a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), backend);
  if (bias) {
    const withBias = k.add({ inputs: { a: out, b: bias }, backend, attrs: {} });
    backend.disposeData(out.dataId);
    out = withBias;
  }
  if (activation !== "linear") {
    const activated = k.unary(UNARY_ACTIVATIONS[activation]!)({ inputs: { x: out }, backend, attrs: {} });
    backend.disposeData(out.dataId);
    out = activated;
  }
  return out;
}

function size(t: TensorInfo): number {
  return t.shape.reduce((p, d) => p * d, 1);
}

// tf.fused.matMul hands the kernel [1, m, k] x [1, k, n]; a batch of one is a plain matrix product.
function isMatrix(t: TensorInfo): boolean {
  return t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
}

/**
 * Swapping costs transposes of both operands and of the result; not swapping costs packing the right-hand
 * side. Swap only when that side is much bigger than all three: the forward X·W, not a weight gradient
 * whose result is the big matrix.
 */
function shouldSwap(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  if (!isMatrix(a) || !isMatrix(b)) return false;
  const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)]!;
  const cols = b.shape[b.shape.length - (transposeB ? 2 : 1)]!;
  return size(b) > SWAP_RATIO * (size(a) + rows * cols);
}

function pushed(temps: TensorInfo[], t: TensorInfo): TensorInfo {
  temps.push(t);
  return t;
}
