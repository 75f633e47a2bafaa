import * as tf from "@tensorflow/tfjs";
import { BACKENDS, type BackendName } from "./config";
import { installWasmMatMulKernels } from "./wasm-kernels";

/** What the process trains on; recorded with every run. */
export interface BackendInfo {
  name: BackendName;
  /** wasm only: whether the SIMD binary is in use. */
  simd?: boolean;
  /** wasm only: worker threads (1 in Node: tfjs turns wasm threads off there). */
  threads?: number;
  tfjsVersion: string;
  /** Why each preferred backend before this one was skipped. */
  skipped: { name: BackendName; reason: string }[];
}

export class BackendError extends Error {
  override name = "BackendError";
}

const ENV_VAR = "FASHION_ANN_BACKEND";

// Registration is a side effect of requiring the package, so each loader is a
// lazy require: a missing tfjs-node must not break `import "fashion-ann"`.
const loaders: Record<BackendName, () => Promise<void>> = {
  tensorflow: async () => {
    require("@tensorflow/tfjs-node");
  },
  wasm: async () => {
    require("@tensorflow/tfjs-backend-wasm");
    if (process.env.FASHION_ANN_STOCK_KERNELS !== "1") installWasmMatMulKernels();
  },
  // @tensorflow/tfjs registers the pure-JS cpu backend itself.
  cpu: async () => {},
};

let current: BackendInfo | undefined;

function requested(preference: string | undefined): BackendName[] {
  const choice = process.env[ENV_VAR] || preference || "auto";
  if (choice === "auto") return [...BACKENDS];
  if ((BACKENDS as readonly string[]).includes(choice)) return [choice as BackendName];
  const from = process.env[ENV_VAR] ? `${ENV_VAR}=${choice}` : `backend "${choice}"`;
  throw new BackendError(`${from} is not a backend; expected one of auto, ${BACKENDS.join(", ")}`);
}

async function describe(name: BackendName, skipped: BackendInfo["skipped"]): Promise<BackendInfo> {
  const info: BackendInfo = { name, tfjsVersion: tf.version.tfjs, skipped };
  if (name === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    info.simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    info.threads = wasm.getThreadsCount();
  }
  return info;
}

/**
 * Selects the fastest backend that loads: tfjs-node, else wasm, else the pure-JS cpu.
 * `FASHION_ANN_BACKEND` (or the config's `backend`) forces one; a forced backend that
 * fails to load is an error rather than a silent fallback.
 */
export async function initBackend(preference?: string): Promise<BackendInfo> {
  const candidates = requested(preference);
  if (current && candidates.includes(current.name) && tf.getBackend() === current.name) return current;
  const skipped: BackendInfo["skipped"] = [];
  for (const name of candidates) {
    try {
      await loaders[name]();
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend("${name}") returned false`);
      await tf.ready();
      current = await describe(name, skipped);
      return current;
    } catch (err) {
      skipped.push({ name, reason: firstLine(err) });
    }
  }
  throw new BackendError(
    `no TensorFlow.js backend could be started: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`,
  );
}

/** The backend chosen by initBackend, if any. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/** One line for logs and notebook headers, e.g. `backend: wasm (SIMD on, 1 thread), tfjs 4.22.0`. */
export function formatBackend(info: BackendInfo): string {
  const extra = info.name === "wasm" ? ` (SIMD ${info.simd ? "on" : "off"}, ${info.threads} thread${info.threads === 1 ? "" : "s"})` : "";
  const skipped = info.skipped.length ? `; skipped ${info.skipped.map((s) => `${s.name} (${s.reason})`).join(", ")}` : "";
  return `backend: ${info.name}${extra}, tfjs ${info.tfjsVersion}${skipped}`;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]!.slice(0, 200);
}
