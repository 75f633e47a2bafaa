import type { Params } from "../../search/core/space";

/** An objective of the sampler benchmark, over a search space as a --space file holds it. Minimised. */
export interface SamplerObjective {
  name: string;
  /** A search-space JSON, as a --space file holds it. */
  space: Record<string, unknown>;
  /** The value at params; a promise when it trains a model. */
  evaluate(params: Params): number | Promise<number>;
}

/**
 * A synthetic objective: a function with a known optimum, written over a search space with log, int and choice
 * entries so every kind of axis is exercised, and cheap enough to time a suggestion at 1,000 trials.
 */
export interface SyntheticObjective extends SamplerObjective {
  evaluate(params: Params): number;
  /** The function's global minimum over its continuous domain (the space's grids may miss it by a little). */
  optimum: number;
}

const num = (p: Params, k: string): number => p[k] as number;

/** Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]: three global minima of 0.397887. */
export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}

const OFFSETS: Record<string, number> = { none: 0, small: 2, large: 10 };

/**
 * Branin with x1 on an int grid of tenths (x1 = k / 10, so 3.1 and 9.4 are next to minima), x2 = p - 1 with p
 * log-uniform in [1, 16] (the minima sit mid-range on the log axis), and a choice that adds 0, 2 or 10.
 */
export const BRANIN: SyntheticObjective = {
  name: "Branin",
  space: {
    x1: { type: "int", min: -50, max: 100 },
    x2: { type: "float", min: 1, max: 16, log: true },
    offset: { type: "choice", values: ["none", "small", "large"] },
  },
  evaluate: (p) => branin(num(p, "x1") / 10, num(p, "x2") - 1) + OFFSETS[p.offset as string]!,
  optimum: 0.397887,
};

const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];
const ALPHA = [1, 1.2, 3, 3.2];

/** Hartmann-6 on [0, 1]^6: global minimum -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573). */
export function hartmann6(x: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += A[i]![j]! * (x[j]! - P[i]![j]! * 1e-4) ** 2;
    s -= ALPHA[i]! * Math.exp(-inner);
  }
  return s;
}

/**
 * Hartmann-6 with x2 = p - 0.05 for p log-uniform in [0.05, 1.05], x3 = k / 20 for an int k, and x4 a choice of
 * the eleven tenths (unordered for the sampler); x1, x5, x6 plain floats.
 */
export const HARTMANN6: SyntheticObjective = {
  name: "Hartmann-6",
  space: {
    x1: { type: "float", min: 0, max: 1 },
    x2: { type: "float", min: 0.05, max: 1.05, log: true },
    x3: { type: "int", min: 0, max: 20 },
    x4: { type: "choice", values: Array.from({ length: 11 }, (_, i) => i / 10) },
    x5: { type: "float", min: 0, max: 1 },
    x6: { type: "float", min: 0, max: 1 },
  },
  evaluate: (p) => hartmann6([num(p, "x1"), num(p, "x2") - 0.05, num(p, "x3") / 20, num(p, "x4"), num(p, "x5"), num(p, "x6")]),
  optimum: -3.32237,
};
