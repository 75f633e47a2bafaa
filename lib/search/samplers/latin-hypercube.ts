import type { Params } from "../core/space";
import { decodePoint, type Encoding } from "./encoding";
import { seededSource } from "./random";

/**
 * Row `index` of a seeded Latin hypercube of `n` rows over the encoded space: on every axis the n rows fall in n
 * different equal slices (a choice's values are sliced alike), so n startup trials cover each axis evenly where n
 * random draws leave gaps and clumps. Each row is computed alone from (seed, index): any worker, a resumed study and
 * --parallel slots get the same row for the same trial. undefined when index >= n.
 */
export function latinHypercubeParams(enc: Encoding, seed: number, index: number, n: number): Params | undefined {
  if (index >= n) return undefined;
  const point = enc.dims.map((d, axis) => {
    // The axis's slice order: a seeded Fisher-Yates shuffle, the same whichever row asks for it.
    const shuffle = seededSource(seed, 0x1a7, axis);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const u = (order[index]! + seededSource(seed, 0x1a7, axis, index)()) / n;
    if (d.kind === "categorical") return Math.min(d.values.length - 1, Math.floor(u * d.values.length));
    return d.low + u * (d.high - d.low);
  });
  return decodePoint(enc, point);
}
