import type { Encoding } from "./encoding";
import type { Uniform } from "./random";

/** How a Parzen estimator places its kernels; the defaults are Optuna 5.0's TPESampler's. */
export interface ParzenOptions {
  /** Weight of the prior kernel (a wide kernel over the whole range, uniform over choices) beside each trial's weight. */
  priorWeight: number;
  /** Let the end observations' bandwidth reach to the range's ends (Optuna: false, their inner gap is used). */
  considerEndpoints: boolean;
  /** Observations the magic clip's smallest bandwidth, range / min(100, n + 2), counts (Optuna: the group's own). */
  clipCount?: number;
}

// Numerical Recipes' erfc (fractional error < 1.2e-7 everywhere), so a tail probability keeps its digits.
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(a < Z < b) for a standard normal Z, computed on the side of the tail so a far interval is not rounded to 0. */
function normalMass(a: number, b: number): number {
  const upper = (x: number) => 0.5 * erfc(x / Math.SQRT2); // P(Z > x)
  if (a >= 0) return upper(a) - upper(b);
  if (b <= 0) return upper(-b) - upper(-a);
  return 1 - upper(-a) - upper(b);
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

function logSumExp(xs: Float64Array): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * Optuna's default weights for n observations in trial order: equal below 25; beyond, the oldest n - 25 ramp up
 * linearly from 1/n, so recent trials shape the bad-group density more.
 */
export function trialWeights(n: number): number[] {
  if (n < 25) return new Array(n).fill(1);
  const ramp = n - 25;
  const w = Array.from({ length: ramp }, (_, i) => (ramp === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (ramp - 1)));
  return [...w, ...new Array(25).fill(1)];
}

/**
 * Each observation's bandwidth on one axis: the larger gap to its neighbours (the range's ends count as neighbours),
 * clipped to [range / min(100, kernels + 1), range]; Optuna's rule, which TPE also uses when multivariate.
 */
function bandwidths(mus: readonly number[], low: number, high: number, opts: ParzenOptions): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b);
  const sorted = [low, ...order.map((i) => mus[i]!), high];
  const s = order.map((_, j) => Math.max(sorted[j + 1]! - sorted[j]!, sorted[j + 2]! - sorted[j + 1]!));
  if (!opts.considerEndpoints && sorted.length >= 4) {
    s[0] = sorted[2]! - sorted[1]!;
    s[s.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
  }
  const range = high - low;
  const minSigma = range / Math.min(100, (opts.clipCount ?? mus.length) + 2);
  const out = new Array<number>(mus.length);
  order.forEach((i, j) => {
    out[i] = Math.min(range, Math.max(minSigma, s[j]!));
  });
  return out;
}

type Axis =
  | {
      kind: "numeric";
      mus: Float64Array;
      sigmas: Float64Array;
      low: number;
      high: number;
      step: number;
      /** log of the truncation's mass per kernel. */
      logZ: Float64Array;
      /** The density's constant per kernel: -log(sigma sqrt(2 pi)) - logZ (+ log step on a grid). */
      logC: Float64Array;
    }
  | { kind: "categorical"; logP: number[][]; p: number[][] };

/**
 * A product-kernel mixture over every searched axis (Optuna's multivariate Parzen estimator): one kernel per
 * observation, plus a prior kernel, each a truncated normal per numeric axis and a smoothed one-hot per choice.
 * Kernel k is the same component on every axis, so the density keeps what the observations had in common jointly.
 */
export class ParzenEstimator {
  private readonly axes: Axis[];
  private readonly logW: number[];
  private readonly cumW: number[];

  constructor(
    private readonly enc: Encoding,
    points: readonly number[][],
    opts: ParzenOptions,
  ) {
    const n = points.length;
    const w = n === 0 ? [1] : [...trialWeights(n), opts.priorWeight];
    const total = w.reduce((a, b) => a + b, 0);
    this.logW = w.map((x) => Math.log(x / total));
    let acc = 0;
    this.cumW = w.map((x) => (acc += x / total));
    this.axes = enc.dims.map((d, i) => {
      const obs = points.map((p) => p[i]!);
      if (d.kind === "categorical") return categoricalAxis(obs, d.values.length, opts.priorWeight);
      return numericAxis(obs, d.low, d.high, d.step, opts);
    });
  }

  /** n points drawn from the mixture (a kernel, then each axis from it), not yet snapped to the grids. */
  sample(u: Uniform, n: number): number[][] {
    return Array.from({ length: n }, () => {
      const r = u();
      let k = this.cumW.findIndex((c) => r < c);
      if (k < 0) k = this.cumW.length - 1;
      return this.axes.map((a) =>
        a.kind === "numeric" ? truncatedNormal(u, a.mus[k]!, a.sigmas[k]!, a.low, a.high) : pickIndex(u, a.p[k]!),
      );
    });
  }

  /** log density (a probability mass on a discrete axis) of a point on the grids. */
  logPdf(point: readonly number[]): number {
    const terms = new Float64Array(this.logW);
    this.axes.forEach((a, i) => {
      const x = point[i]!;
      if (a.kind === "numeric") for (let k = 0; k < terms.length; k++) terms[k]! += numericLogKernel(a, k, x);
      else for (let k = 0; k < terms.length; k++) terms[k]! += a.logP[k]![x]!;
    });
    return logSumExp(terms);
  }

  get dimensions(): number {
    return this.enc.dims.length;
  }
}

function numericAxis(obs: readonly number[], low: number, high: number, step: number, opts: ParzenOptions): Axis {
  const mus = Float64Array.from([...obs, (low + high) / 2]);
  const sigmas = Float64Array.from([...(obs.length > 0 ? bandwidths(obs, low, high, opts) : []), high - low]);
  const logZ = mus.map((m, k) => Math.log(normalMass((low - m) / sigmas[k]!, (high - m) / sigmas[k]!)));
  const logC = sigmas.map((sigma, k) => -Math.log(sigma) - LOG_SQRT_2PI - logZ[k]! + (step > 0 ? Math.log(step) : 0));
  return { kind: "numeric", mus, sigmas, low, high, step, logZ, logC };
}

function categoricalAxis(obs: readonly number[], nChoices: number, priorWeight: number): Axis {
  const kernels = obs.length + 1;
  const p =
    obs.length === 0
      ? [new Array(nChoices).fill(1 / nChoices)]
      : [...obs, -1].map((c) => {
          const row = new Array(nChoices).fill(priorWeight / kernels);
          if (c >= 0) row[c] += 1;
          const sum = row.reduce((a, b) => a + b, 0);
          return row.map((x) => x / sum);
        });
  return { kind: "categorical", p, logP: p.map((row) => row.map(Math.log)) };
}

function numericLogKernel(a: Extract<Axis, { kind: "numeric" }>, k: number, x: number): number {
  const mu = a.mus[k]!;
  const sigma = a.sigmas[k]!;
  if (a.step > 0) {
    const mass = normalMass((x - a.step / 2 - mu) / sigma, (x + a.step / 2 - mu) / sigma);
    if (mass > 1e-300) return Math.log(mass) - a.logZ[k]!;
  }
  const z = (x - mu) / sigma;
  return -0.5 * z * z + a.logC[k]!;
}

/** A draw from N(mu, sigma) truncated to [low, high], by rejection (mu lies in the range, so few draws are lost). */
function truncatedNormal(u: Uniform, mu: number, sigma: number, low: number, high: number): number {
  for (let i = 0; i < 100; i++) {
    // Box-Muller; 1 - u() keeps the log's argument in (0, 1].
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    const x = mu + sigma * z;
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}

function pickIndex(u: Uniform, p: readonly number[]): number {
  const r = u();
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i]!;
    if (r < acc) return i;
  }
  return p.length - 1;
}
