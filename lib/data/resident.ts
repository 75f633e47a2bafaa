/**
 * The dataset kept in memory from one training to the next, in a process that trains many times: a search's
 * trainer process (lib/cli/trainer-worker.ts) reads, checks and scales the 55 MB once instead of once per trial.
 * Elsewhere (`train`, a notebook) nothing is kept: a process that trains once would only hold 270 MB longer.
 */
import { NDArray } from "../format/ndarray";
import type { FashionMnistRaw } from "./fashion-mnist";
import type { ScaledRaw } from "./split";

export interface LoadedDataset {
  raw: FashionMnistRaw;
  scaled: ScaledRaw;
}

/** Datasets by folder, once keepDatasetResident was called. */
let kept: Map<string, Promise<LoadedDataset>> | undefined;

/** From now on this process keeps each dataset it loads (one copy per dataset folder). */
export function keepDatasetResident(): void {
  kept ??= new Map();
}

/**
 * The dataset of `dataDir` (an absolute folder): `load()`'s, or the one kept from an earlier call. `writable`: the
 * caller rewrites the scaled images in place (standardize does), so a kept dataset lends a copy of them and stays
 * as loaded for the next caller.
 */
export async function residentDataset(dataDir: string, load: () => Promise<LoadedDataset>, writable: boolean): Promise<LoadedDataset> {
  if (!kept) return load();
  let entry = kept.get(dataDir);
  if (!entry) {
    entry = load();
    kept.set(dataDir, entry);
    // A load that failed (no dataset yet) is tried again by the next training, which reports it as it always has.
    entry.catch(() => kept?.delete(dataDir));
  }
  const { raw, scaled } = await entry;
  if (!writable) return { raw, scaled };
  const copy = (a: NDArray<Float32Array>) => new NDArray(a.data.slice(), a.shape);
  return { raw, scaled: { trainImages: copy(scaled.trainImages), testImages: copy(scaled.testImages) } };
}
