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
  const kernel = (name: string): KernelFn => {
    const config = tf.getKernel(name, "wasm");
    if (!config) throw new Error(`wasm kernel ${name} is not registered; load @tensorflow/tfjs-backend-wasm first`);
    return config.kernelFunc as unknown as KernelFn;
  };
  const matMul = kernel("BatchMatMul");
  const fusedMatMul = kernel("_FusedMatMul");
  const transposeKernel = kernel("Transpose");
  const add = kernel("Add");
  const unary = (name: string) => kernel(name);

  const transposeLast2 = (x: TensorInfo, backend: Backend): TensorInfo => {
    const rank = x.shape.length;
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
    return transposeKernel({ inputs: { x }, backend, attrs: { perm } });
  };

  const product = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: Backend): TensorInfo => {
    const temps: TensorInfo[] = [];
    const T = (x: TensorInfo): TensorInfo => {
      const out = transposeLast2(x, backend);
      temps.push(out);
      return out;
    };
    const mm = (l: TensorInfo, r: TensorInfo) =>
      matMul({ inputs: { a: l, b: r }, backend, attrs: { transposeA: false, transposeB: false } });
    try {
      if (!shouldSwap(a, b, transposeA, transposeB)) return mm(transposeA ? T(a) : a, transposeB ? T(b) : b);
      // C = op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ, and op(X)ᵀ is X itself when X was to be transposed.
      return transposeLast2(pushed(temps, mm(transposeB ? b : T(b), transposeA ? a : T(a))), backend);
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };

  // Keep the originals' setupFunc: the backend runs it at initialisation to bind the wasm functions.
  const setup = (name: string) => tf.getKernel(name, "wasm")!.setupFunc;
  const batchMatMulSetup = setup("BatchMatMul");
  const fusedSetup = setup("_FusedMatMul");
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: batchMatMulSetup,
    kernelFunc: (({ inputs, backend, attrs }: Parameters<KernelFn>[0]) =>
      product(inputs.a!, inputs.b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), backend)) as unknown as tf.KernelFunc,
  });

  tf.unregisterKernel("_FusedMatMul", "wasm");
  tf.registerKernel({
    kernelName: "_FusedMatMul",
    backendName: "wasm",
    setupFunc: fusedSetup,
    kernelFunc: ((args: Parameters<KernelFn>[0]) => {
      const { inputs, backend, attrs } = args;
      const { a, b, bias } = inputs as Record<string, TensorInfo>;
      const activation = String(attrs.activation ?? "linear");
      const plain = activation === "linear" || activation in UNARY_ACTIVATIONS;
      if (!shouldSwap(a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB)) || !plain || inputs.preluActivationWeights) {
        if (!attrs.transposeA && !attrs.transposeB) return fusedMatMul(args);
        // Transpose explicitly so the fused kernel (bias + activation in one pass) takes XNNPACK's path.
        const ta = attrs.transposeA ? transposeLast2(a!, backend) : a!;
        const tb = attrs.transposeB ? transposeLast2(b!, backend) : b!;
        try {
          return fusedMatMul({ inputs: { ...inputs, a: ta, b: tb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
        } finally {
          if (ta !== a) backend.disposeData(ta.dataId);
          if (tb !== b) backend.disposeData(tb.dataId);
        }
      }
      let out = product(a!, b!, Boolean(attrs.transposeA), Boolean(attrs.transposeB), backend);
      if (bias) {
        const withBias = add({ inputs: { a: out, b: bias }, backend, attrs: {} });
        backend.disposeData(out.dataId);
        out = withBias;
      }
      if (activation !== "linear") {
        const activated = unary(UNARY_ACTIVATIONS[activation]!)({ inputs: { x: out }, backend, attrs: {} });
        backend.disposeData(out.dataId);
        out = activated;
      }
      return out;
    }) as unknown as tf.KernelFunc,
  });
  installed = true;
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
