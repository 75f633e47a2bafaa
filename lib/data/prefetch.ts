/**
 * The dataset read ahead, on another thread, while a notebook's reader is still looking at its first cells. The
 * kernel starts it (../notebook/kernel.ts); the notebook's `loadData` then takes the scaled images instead of
 * reading, checking and scaling 55 MB itself, which was most of notebook 04's startNotebook cell (about 0.6 of
 * 1.4 s on an idle 2-core machine). Only the decoded cache (./decoded-cache) is read: a cold cache, a damaged file
 * or a missing dataset leave everything to `loadData`, which reports them as it always has. Nothing is printed.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { NDArray } from "../format/ndarray";
import type { FashionMnistPart, FashionMnistRaw } from "./fashion-mnist";
import { CLASS_NAMES } from "./images";
import type { ScaledRaw } from "./split";

/** What the worker sends back: each array's buffer (transferred, not copied) and shape. */
export type PrefetchMessage = Record<FashionMnistPart | "scaledTrain" | "scaledTest", { buffer: ArrayBuffer; shape: number[] }>;

/** What the worker is asked: the decoded cache's folder and the dataset folder whose files `loadData` would read. */
export interface PrefetchRequest {
  decodedCacheDir: string;
}

/** A read ahead of one dataset folder; dropped unclaimed after a while so an idle kernel does not hold 270 MB. */
interface Pending {
  dataDir: string;
  result: Promise<{ raw: FashionMnistRaw; scaled: ScaledRaw } | undefined>;
  timer: NodeJS.Timeout;
}

let pending: Pending | undefined;

/** How long a prefetch waits for its `loadData` before it lets its memory go. */
const UNCLAIMED_MS = 10 * 60_000;

function fromMessage(m: PrefetchMessage): { raw: FashionMnistRaw; scaled: ScaledRaw } {
  const u8 = (k: FashionMnistPart) => new NDArray(new Uint8Array(m[k].buffer), m[k].shape);
  const f32 = (k: "scaledTrain" | "scaledTest") => new NDArray(new Float32Array(m[k].buffer), m[k].shape);
  return {
    raw: {
      trainImages: u8("trainImages"),
      trainLabels: u8("trainLabels"),
      testImages: u8("testImages"),
      testLabels: u8("testLabels"),
      classNames: CLASS_NAMES,
    },
    scaled: { trainImages: f32("scaledTrain"), testImages: f32("scaledTest") },
  };
}

/**
 * Starts reading the dataset of `dataDir` (an absolute folder) from the decoded cache on a worker thread. A second
 * call while one is pending does nothing. The worker never keeps the process alive.
 */
export function prefetchDataset(dataDir: string, decodedCacheDir: string): void {
  if (pending) return;
  const result = new Promise<{ raw: FashionMnistRaw; scaled: ScaledRaw } | undefined>((resolve) => {
    const worker = new Worker(path.join(__dirname, "prefetch-worker.js"), { workerData: { decodedCacheDir } satisfies PrefetchRequest });
    worker.unref();
    worker.once("message", (m: PrefetchMessage | null) => resolve(m ? fromMessage(m) : undefined));
    worker.once("error", () => resolve(undefined));
    worker.once("exit", () => resolve(undefined));
  });
  const timer = setTimeout(() => {
    pending = undefined;
  }, UNCLAIMED_MS);
  timer.unref();
  pending = { dataDir: path.resolve(dataDir), result, timer };
}

/**
 * The prefetched dataset for `dataDir`, once: the caller owns its buffers (the next call reads the files again).
 * Undefined when nothing was prefetched for that folder or the prefetch found no complete decoded cache.
 */
export async function takePrefetched(dataDir: string): Promise<{ raw: FashionMnistRaw; scaled: ScaledRaw } | undefined> {
  const p = pending;
  if (!p || p.dataDir !== path.resolve(dataDir)) return undefined;
  pending = undefined;
  clearTimeout(p.timer);
  return p.result;
}
