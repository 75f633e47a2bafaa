import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { BACKENDS, type BackendName, type ExperimentConfig, resolveConfig } from "../config";
import { loadAddon, registerNativeBackend } from "./native";
import { installWasmMatMulKernels } from "./wasm/kernels";
import { busyCoresNow } from "./machine";
import { enableWasmThreads } from "./wasm/threads";
import { UserError } from "../errors/user-error";

/** What the process trains on; recorded with every run. */
export interface BackendInfo {
  name: BackendName;
  /** wasm only: whether the SIMD binary is in use. */
  simd?: boolean;
  /** wasm: XNNPACK threads (tfjs turns them off in Node; engine/wasm/threads.ts turns them back on); native: the addon's kernel threads. */
  threads?: number;
  /** wasm and native: why fewer threads run than were asked for. */
  threadsNote?: string;
  /** native only: the BLAS the addon was built with and the kernels it runs, e.g. "OpenBLAS 0.3.21 (SkylakeX), avx512 kernels". */
  blas?: string;
  tfjsVersion: string;
  /** Why each preferred backend before this one was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

export class BackendError extends UserError {
  override name = "BackendError";
}

// "auto" threads: one per core up to this. XNNPACK waits for its slowest thread, so more threads than the
// free cores of a small machine only add waiting; raise it once `npx fashion-ann bench` shows a gain.
const MAX_AUTO_THREADS = 2;

/** What initBackend takes: a backend name, or the config's backend, threads and kernels. */
export type BackendChoice = string | Partial<Pick<ExperimentConfig, "backend" | "threads" | "stockKernels">>;

// Registration is a side effect of requiring the package, so each loader is a
// lazy require: a missing tfjs-node must not break `import "fashion-ann"`.
/** What a loader needs to know besides the threads asked for. */
interface LoaderContext {
  stockKernels: boolean;
}

const loaders: Record<BackendName, (threads: ThreadChoice, context: LoaderContext) => Promise<string | undefined>> = {
  tensorflow: async () => {
    require("@tensorflow/tfjs-node");
    return undefined;
  },
  wasm: async (choice, { stockKernels }) => {
    require("@tensorflow/tfjs-backend-wasm");
    const { threads, note: why } = choice.auto ? await autoThreads(choice.threads) : { threads: choice.threads, note: undefined };
    const note = threads > 1 ? await startWasmThreads(threads) : why;
    if (!stockKernels) installWasmMatMulKernels();
    return note;
  },
  // The addon built by setup; registering fails with its one-sentence reason (not built, build failed, ...).
  native: async (choice) => {
    const reason = registerNativeBackend();
    if (reason) throw new BackendError(reason);
    const { threads, note } = choice.auto ? await autoThreads(choice.threads) : { threads: choice.threads, note: undefined };
    loadAddon().addon?.setThreads(threads);
    return note;
  },
  // @tensorflow/tfjs registers the pure-JS cpu backend itself.
  cpu: async () => undefined,
};

/** Starts the threaded wasm binary; if that fails, leaves tfjs to start its single-threaded one and says why. */
async function startWasmThreads(threads: number): Promise<string | undefined> {
  try {
    const got = await enableWasmThreads(threads);
    return got < threads ? `${threads} threads asked, the backend started ${got}` : undefined;
  } catch (err) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    return `${threads} threads failed (${firstLine(err)}); running on 1`;
  }
}

/** Threads asked for; `auto` ones may come down if other processes keep the cores busy. */
export interface ThreadChoice {
  threads: number;
  auto: boolean;
}

/** The thread count for the wasm backend: the config's, or for "auto" one per core up to 2. */
export function wasmThreads(choice: number | "auto" | undefined): ThreadChoice {
  if (choice === undefined || choice === "auto") return { threads: Math.min(MAX_AUTO_THREADS, os.availableParallelism()), auto: true };
  return { threads: choice, auto: false };
}

// Other processes using this much of a core leave the pool's second thread waiting for its core.
const BUSY_CORE = 0.5;

/**
 * XNNPACK splits every product evenly and waits for the slowest thread, so a thread sharing its core
 * with another busy process stalls the whole step, to slower than one thread alone. Auto threads
 * therefore take only the cores that are free now.
 */
export async function autoThreads(
  wanted: number,
  busyCores: () => Promise<number | undefined> = busyCoresNow,
  cores: number = os.availableParallelism(),
): Promise<{ threads: number; note?: string }> {
  if (wanted <= 1) return { threads: wanted };
  const busy = await busyCores();
  if (busy === undefined) return { threads: wanted };
  const free = Math.max(1, Math.min(wanted, Math.floor(cores - busy + (1 - BUSY_CORE))));
  if (free >= wanted) return { threads: wanted };
  return {
    threads: free,
    note: `other processes kept ${busy.toFixed(1)} of ${cores} cores busy at start; threads: ${wanted} (or FASHION_ANN_THREADS=${wanted}) forces ${wanted}`,
  };
}

let current: BackendInfo | undefined;

function requested(choice: string): BackendName[] {
  if (choice === "auto") return [...BACKENDS];
  if ((BACKENDS as readonly string[]).includes(choice)) return [choice as BackendName];
  throw new BackendError(`backend "${choice}" is not a backend; expected one of auto, ${BACKENDS.join(", ")}`);
}

async function describe(name: BackendName, skipped: BackendInfo["skipped"], threadsNote: string | undefined): Promise<BackendInfo> {
  const info: BackendInfo = { name, tfjsVersion: tf.version.tfjs, skipped };
  if (name === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    info.simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    info.threads = wasm.getThreadsCount();
    if (threadsNote) info.threadsNote = threadsNote;
  }
  const addon = name === "native" ? loadAddon().addon : null;
  if (addon) {
    const i = addon.info();
    info.threads = addon.getThreads();
    info.blas = `${i.blas.split(" ").slice(0, 2).join(" ")} (${i.core}), ${i.kernels} kernels`;
    if (threadsNote) info.threadsNote = threadsNote;
  }
  return info;
}

/**
 * Selects the first backend that loads: tfjs-node, else the native BLAS engine, else wasm, else the pure-JS cpu.
 * The config's `backend` (which FASHION_ANN_BACKEND sets) forces one; a forced backend that
 * fails to load is an error rather than a silent fallback. The wasm backend runs the
 * config's `threads`; they are fixed once it has started.
 */
export async function initBackend(choice?: BackendChoice): Promise<BackendInfo> {
  // A bare name or partial choice still goes through resolveConfig, so the environment's overrides apply.
  const { backend, threads, stockKernels } =
    typeof choice === "string" ? { ...resolveConfig(), backend: choice } : { ...resolveConfig(), ...choice };
  const candidates = requested(backend);
  const threadCount = wasmThreads(threads);
  if (current && candidates.includes(current.name) && tf.getBackend() === current.name) return current;
  const skipped: BackendInfo["skipped"] = [];
  for (const name of candidates) {
    try {
      const context = { stockKernels };
      const threadsNote = await loaders[name](threadCount, context);
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") returned false`);
      await tf.ready();
      current = await describe(name, skipped, threadsNote);
      return current;
    } catch (err) {
      skipped.push({ name, reason: firstLine(err) });
    }
  }
  throw new BackendError(`no TensorFlow.js backend could be started: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/** One line for logs and notebook headers, e.g. `backend: wasm (SIMD on, 2 threads), tfjs 4.22.0`. */
export function formatBackend(info: BackendInfo): string {
  const extra = info.name === "wasm" ? ` (${wasmDetails(info)})` : info.name === "native" ? ` (${nativeDetails(info)})` : "";
  const skipped = info.skipped.length ? `; skipped ${info.skipped.map((s) => `${s.name} (${s.reason})`).join(", ")}` : "";
  return `backend: ${info.name}${extra}, tfjs ${info.tfjsVersion}${skipped}`;
}

/** The native engine's BLAS and threads, e.g. `OpenBLAS 0.3.21 (SkylakeX), avx512 kernels, 2 threads`. */
export function nativeDetails(info: BackendInfo): string {
  return `${info.blas}, ${info.threads} thread${info.threads === 1 ? "" : "s"}${info.threadsNote ? `: ${info.threadsNote}` : ""}`;
}

/** The wasm backend's build and threads, e.g. `SIMD on, 2 threads`, with why fewer threads run if they do. */
export function wasmDetails(info: BackendInfo): string {
  return `SIMD ${info.simd ? "on" : "off"}, ${info.threads} thread${info.threads === 1 ? "" : "s"}${info.threadsNote ? `: ${info.threadsNote}` : ""}`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]!.slice(0, 200);
}
