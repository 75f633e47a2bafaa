import * as fs from "node:fs";
import * as path from "node:path";
import type { UpdateRule } from "../../optimizers";
import type { StackActivation } from "../../model/dense-stack";

/*
 * The native addon (native/, built by setup with node-gyp against OpenBLAS, or Accelerate on macOS):
 * where it is, whether it loads, and its typed surface. Nothing here throws: a missing or broken build
 * is a reason, so callers can fall back to another backend and say why.
 */

/** Where setup puts the addon, relative to the project root. */
export const ADDON_PATH = "native/build/Release/fashion_ann_native.node";
/** A one-line reason setup writes when the build fails (its absence with no addon means "not built"). */
export const STATUS_PATH = "native/build/status.txt";
/** native/src/addon.cc's kVersion; a mismatch means a build from older sources. */
const ADDON_VERSION = "5";

/** BLAS and build facts, for the backend line and environment.json. */
export interface NativeInfo {
  version: string;
  /** e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64", or "Accelerate". */
  blas: string;
  /**
   * The BLAS kernel set OpenBLAS chose at load (its corename), e.g. "SkylakeX". OpenBLAS 0.3.21 does not know
   * CPUs newer than it (e.g. Intel family 6 model 207) and picks "Prescott", its SSE3 kernels, there;
   * OPENBLAS_CORETYPE set before the process starts overrides that (see docs/native-addon.md).
   */
  core: string;
  /** The addon's kernel threads (setThreads). */
  threads: number;
  /** OpenBLAS's threads (setBlasThreads). */
  blasThreads: number;
  /**
   * The addon's own kernels in use, chosen at load from what the CPU supports (FASHION_ANN_NATIVE_KERNELS may
   * narrow it): avx512, avx2, or baseline (every product goes to BLAS: older x86-64 CPUs and arm64).
   */
  kernels: "avx512" | "avx2" | "baseline";
  /** The best kernel set this CPU supports. */
  cpuKernels: "avx512" | "avx2" | "baseline";
  /** What the rest of the addon is compiled for, e.g. "x86-64 baseline": it loads on any CPU of the architecture. */
  build: string;
  compiler: string;
  /** The addon's kernels are in use for training batches (see useOwnKernels): false with kernels "baseline". */
  ownKernels: boolean;
}

/** The hidden activations native/src/trainer.cc's parseActivation knows: model/dense-stack.ts's list, by tfjs-layers' names. */
export type NativeActivation = StackActivation;

export interface TrainerLayerSpec {
  units: number;
  /** Hidden layers: default linear. The last layer is always softmax (pass "softmax" or nothing). */
  activation?: NativeActivation | "softmax";
  /** LeakyReLU slope; default 0.3, tfjs-layers' LeakyReLU default. */
  alpha?: number;
  /** Inverted-dropout rate on this layer's input, in [0, 1); training steps only. */
  dropout?: number;
  /** Keras l2 factor on the kernel: loss += l2·ΣW², gradient += 2·l2·W. */
  l2?: number;
  /** Default true. */
  useBias?: boolean;
  /** A BatchNormalization layer on this hidden layer's output; its gamma and beta follow the bias among the variables. */
  batchNorm?: TrainerBatchNormSpec;
}

/** tfjs-layers' BatchNormalization over the last axis; defaults are Keras's. */
export interface TrainerBatchNormSpec {
  /** "after": Dense(activation) -> BN (batchNorm: true); "before": Dense(linear) -> BN -> activation. Default "after". */
  position?: "after" | "before";
  /** Rate of an inverted dropout on the BN's input (Dense(act) -> Dropout -> BN), in [0, 1); training steps only. Default 0. */
  dropout?: number;
  /** Default 0.99. */
  momentum?: number;
  /** Default 1e-3. */
  epsilon?: number;
  /** Has beta; default true. */
  center?: boolean;
  /** Has gamma; default true. */
  scale?: boolean;
}

/** tfjs's optimizers by update rule; hyper-parameters default as tfjs-core's constructors would. */
/** The optimizer's update rule and its numbers for the next step, as lib/optimizers describes it. */
export type TrainerOptimizerSpec = UpdateRule;

export interface TrainerSpec {
  /** Values per input row (784 for 28x28 images). */
  inputSize: number;
  /** Rows of the scratch buffers; a larger batch grows them. Default 32. */
  maxBatch?: number;
  layers: TrainerLayerSpec[];
  optimizer: TrainerOptimizerSpec;
  /** Per-variable gradient norm limit, as Keras's clipnorm; 0 or absent = off. */
  clipnorm?: number;
  /** Element-wise gradient limit, as Keras's clipvalue (applied after clipnorm). */
  clipvalue?: number;
  /** Seed of dropout's random stream. Default 42. */
  seed?: number;
  /** Keep every gradient for gradient(i) (turns off the fused SGD update; tests and debugging). */
  keepGradients?: boolean;
  /** A BatchNormalization on the input rows (Flatten -> BN -> Dense); its gamma and beta come first among the variables, its moving statistics first among the buffers. */
  inputBatchNorm?: TrainerBatchNormSpec;
}

export interface NativeStepResult {
  /** Mean sparse categorical cross-entropy over the rows, plus `regularization` (as Keras reports it). */
  loss: number;
  /** Rows whose largest output is at the label. */
  correct: number;
  /** The l2 penalty included in `loss`. */
  regularization: number;
}

/** Milliseconds inside the addon since creation or resetCounters(). */
export interface NativeCounters {
  steps: number;
  stepMs: number;
  /** Of stepMs, the part in matrix products (BLAS calls and the addon's forward kernel). */
  sgemmMs: number;
  sgemmCalls: number;
  evalRows: number;
  evalMs: number;
  /** stepRows' gathering of the batch (labels checked, rows copied, next rows prefetched), outside stepMs. */
  gatherMs: number;
}

export type NativeLabels = Int32Array | Float32Array | Uint8Array;

/** native/src/addon.cc's Trainer. Every array is used in place and must stay alive until rebound. */
export interface NativeTrainer {
  /** Variables in tfjs's trainableWeights order: layer 0 kernel, bias, BN gamma, BN beta, layer 1 kernel, ... */
  readonly variableCount: number;
  /**
   * Optimizer slots per variable, in tfjs's getWeights order (momentum: 1; adam, nadam, adamw, adamax: m, v;
   * rmsprop: rms, momentum[, mg]; adagrad: accumulator; adadelta: accum_grad, accum_var).
   */
  readonly slotsPerVariable: number;
  /** Optimizer-wide scalars (adam: accBeta1, accBeta2; adamax: iteration, accBeta1). */
  readonly stateSize: number;
  readonly learningRate: number;
  /** Non-trainable arrays a training step updates: each BatchNormalization's moving mean, then moving variance. */
  readonly bufferCount: number;
  bindVariable(index: number, values: Float32Array, slots?: Float32Array[]): void;
  bindState(index: number, value: Float32Array): void;
  bindBuffer(index: number, values: Float32Array): void;
  /** One training step on n rows of x ([n, inputSize]) and their class indices. */
  step(x: Float32Array, labels: NativeLabels, n: number): NativeStepResult;
  /**
   * One training step on rows `rows` of a whole set (x [N, inputSize], labels [N]), gathered natively;
   * `next` (the following batch's rows) is prefetched while the step computes.
   */
  stepRows(x: Float32Array, labels: NativeLabels, rows: Uint32Array | Int32Array, next?: Uint32Array | Int32Array): NativeStepResult;
  /** Forward only, no dropout. */
  evaluate(x: Float32Array, labels: NativeLabels, n: number): NativeStepResult;
  /** Softmax probabilities of n rows into out ([n, classes]). */
  predict(x: Float32Array, n: number, out: Float32Array): void;
  setLearningRate(learningRate: number): void;
  /** New hyper-parameters for the same kind of optimizer (e.g. after setMomentum). */
  setOptimizer(spec: TrainerOptimizerSpec): void;
  setSeed(seed: number): void;
  /** A copy of the gradient the last step applied to variable `index` (keepGradients only). */
  gradient(index: number): Float32Array;
  counters(): NativeCounters;
  resetCounters(): void;
}

export interface NativeAddon {
  /** Row-major C[m,n] = alpha·op(A)·op(B) + beta·C with tight leading dimensions; C is written in place. */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
  ): void;
  /**
   * Threads for the addon's own kernels (the training step's products with large weights), the calling
   * thread included; the addon starts with 1. Tasks are shared through one counter, so a helper whose
   * core is busy elsewhere delays a step by one task at most, and results are identical for any count.
   */
  setThreads(threads: number): void;
  getThreads(): number;
  /** OpenBLAS's threads (a no-op on Accelerate); the addon starts with 1, which measured fastest at batch 32. */
  setBlasThreads(threads: number): void;
  getBlasThreads(): number;
  /**
   * Whether training-size products use the addon's kernels (info().kernels) instead of BLAS (default on);
   * the argument switches it. Returns the state now: false where the kernels are "baseline".
   */
  useOwnKernels(on?: boolean): boolean;
  info(): NativeInfo;
  /**
   * Runs `tasks` tasks on the kernel pool (after setThreads(2) or more) that throw when a helper thread runs
   * them; returns false if no helper started one within 10 s. Exists to test that such an exception reaches
   * the caller as an Error instead of ending the process.
   */
  poolCheck(tasks: number): boolean;
  version(): string;
  Trainer: new (spec: TrainerSpec) => NativeTrainer;
}

export type AddonLoad = { addon: NativeAddon; reason?: undefined } | { addon: null; reason: string };

const PROJECT_NAME = "fashion-ann";
let cached: AddonLoad | undefined;

/** The addon, loaded once per process, or the one-sentence reason it cannot be used. */
export function loadAddon(): AddonLoad {
  if (!cached) cached = tryLoad();
  return cached;
}

/**
 * The project folder: the nearest ancestor of `from` holding the package.json named "fashion-ann". The
 * same walk works from lib/ (vitest, tslab's sources) and from dist/lib/ (compiled).
 */
export function findProjectRoot(from: string = __dirname): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (packageName(path.join(dir, "package.json")) === PROJECT_NAME) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

function packageName(file: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

function tryLoad(): AddonLoad {
  const root = findProjectRoot();
  if (!root)
    return { addon: null, reason: `no package.json named ${PROJECT_NAME} above ${__dirname}, so the native addon cannot be located` };
  return addonAt(root);
}

/** The addon of the project at `root`, loaded now (loadAddon caches the project's own). */
export function addonAt(root: string): AddonLoad {
  const file = path.join(root, ADDON_PATH);
  if (!fs.existsSync(file))
    return { addon: null, reason: buildStatus(root) ?? `the native addon is not built (${ADDON_PATH} is missing); run npm run setup` };
  coreChoice ??= chooseOpenblasCore();
  let addon: NativeAddon;
  try {
    addon = require(file) as NativeAddon;
  } catch (err) {
    const why = firstLine(err);
    // A bad FASHION_ANN_NATIVE_KERNELS is the user's setting, which a rebuild would not fix.
    const fix = why.startsWith("FASHION_ANN_NATIVE_KERNELS=") ? "unset it or choose another value" : "rebuild it with npm run setup";
    return { addon: null, reason: `the native addon failed to load (${why}); ${fix}` };
  }
  const version = typeof addon.version === "function" ? addon.version() : "unknown";
  if (version !== ADDON_VERSION)
    return {
      addon: null,
      reason: `the native addon is version ${version}, these sources expect ${ADDON_VERSION}; rebuild it with npm run setup`,
    };
  return { addon };
}

/** Who chose OpenBLAS's kernel set, for NativeInfo.coreChosenBy; set when the addon is first loaded. */
let coreChoice: string | undefined;

/** How OpenBLAS's kernel set (NativeInfo.core) was chosen in this process. */
export function openblasCoreChoice(): string {
  return coreChoice ?? "not loaded yet";
}

/**
 * OpenBLAS (a DYNAMIC_ARCH build, as Debian's) picks its kernels by CPU model when it loads and falls back to
 * "Prescott", its SSE3 kernels, on a model it does not know: 0.3.21 (Debian 12) does not know Intel family 6
 * model 207, where an epoch then ran 2x slower. So unless the user set OPENBLAS_CORETYPE, name the widest of its
 * kernel sets this CPU's flags support, before the addon (and with it OpenBLAS) loads. Children inherit it.
 */
function chooseOpenblasCore(): string {
  // biome-ignore lint/style/noProcessEnv: OpenBLAS's own variable, which OpenBLAS reads itself when it loads
  if (process.env.OPENBLAS_CORETYPE) return "OPENBLAS_CORETYPE, set by the user";
  if (process.platform !== "linux" || process.arch !== "x64") return "OpenBLAS, from the CPU model";
  const core = openblasCoreFor(cpuFlags());
  if (!core) return "OpenBLAS, from the CPU model";
  // biome-ignore lint/style/noProcessEnv: OpenBLAS's own variable, which OpenBLAS reads itself when it loads
  process.env.OPENBLAS_CORETYPE = core;
  return `fashion-ann, from the CPU's flags (OPENBLAS_CORETYPE=${core}; set it to choose another)`;
}

/** OpenBLAS's kernel set for x86-64 CPU flags (as /proc/cpuinfo names them): SkylakeX, Haswell, or none. */
export function openblasCoreFor(flags: ReadonlySet<string>): "SkylakeX" | "Haswell" | undefined {
  if (["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].every((f) => flags.has(f))) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return undefined;
}

function cpuFlags(): Set<string> {
  try {
    const line = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "";
    return new Set(line.trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** Setup's note on a failed build, e.g. "the native addon did not build: cblas.h not found (apt-get install libopenblas-dev)". */
function buildStatus(root: string): string | undefined {
  try {
    const line = fs.readFileSync(path.join(root, STATUS_PATH), "utf8").split("\n")[0]!.trim();
    return line === "" || line === "ok" ? undefined : line;
  } catch {
    return undefined;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
}
