// PED-ANOVA (Watanabe et al., IJCAI 2023): a parameter matters as much as the trials in the top quantile are
// distributed differently from all trials along it, measured by the Pearson divergence of two Parzen estimators on a
// grid. A port of Optuna 5.0.0's PedAnovaImportanceEvaluator (optuna/importance/_ped_anova/), which is the default of
// optuna.importance.get_param_importances, with its defaults (target quantile 0.1, the whole study as the region,
// 50 grid steps, prior weight 1), so the numbers are Optuna's on the same trials. It is deterministic: no forest,
// no seed.
import type { Direction } from "../core/objective";
import { isSingle, type ParamDomain, type Scalar } from "./domain";
import { normalMass } from "./normal";

/** A finished trial as the importances see it: its parameter values and its objective. */
export interface ImportanceTrial {
  params: Readonly<Record<string, Scalar | undefined>>;
  value: number;
}

export interface ImportanceOptions {
  /** The share of trials counted as good; default 0.1 (Optuna's target_quantile). */
  targetQuantile?: number;
}

const N_STEPS = 50;
const PRIOR_WEIGHT = 1;
const SIGMA_MIN = 0.5 / 1.64;

/**
 * Each parameter's importance, summing to 1 (all equal when nothing can be told apart), most important first.
 * `trials` are the completed ones; trials without a finite value are left out, as Optuna does.
 */
export function paramImportances(
  trials: readonly ImportanceTrial[],
  domains: Readonly<Record<string, ParamDomain>>,
  direction: Direction,
  opts: ImportanceOptions = {},
): Record<string, number> {
  const q = opts.targetQuantile ?? 0.1;
  if (!(q > 0 && q < 1)) throw new Error(`targetQuantile must be in (0, 1), got ${q}`);
  const finite = trials.filter((t) => Number.isFinite(t.value));
  const names = Object.keys(domains).filter((n) => finite.some((t) => t.params[n] !== undefined));
  const raw: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  if (finite.length > 1) {
    const top = topQuantile(finite, q, direction);
    const share = top.length / finite.length;
    for (const name of names) {
      const domain = domains[name]!;
      const region = finite.filter((t) => t.params[name] !== undefined);
      const target = top.filter((t) => t.params[name] !== undefined);
      // Optuna's regimes: a parameter seen in fewer than 2 trials, or with one value, tells nothing.
      if (region.length < 2 || target.length === 0 || isSingle(domain)) continue;
      const alpha = target.length / top.length;
      const beta = region.length / finite.length;
      raw[name] = (alpha ** 2 / beta) * pearsonDivergence(name, domain, target, region) * share ** 2;
    }
  }
  return normalized(raw);
}

function normalized(raw: Record<string, number>): Record<string, number> {
  const entries = Object.entries(raw);
  const sum = entries.reduce((s, [, v]) => s + v, 0);
  const scaled = entries.map(([k, v]): [string, number] => [k, sum === 0 ? 1 / entries.length : v / sum]);
  // Most important first; equal ones in reverse name order, as Optuna's reversed(sorted(...)) leaves them.
  return Object.fromEntries(scaled.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0)));
}

/** Optuna's _QuantileFilter: every trial at least as good as the ceil(q n)-th best (ties kept). */
function topQuantile(trials: readonly ImportanceTrial[], q: number, direction: Direction): ImportanceTrial[] {
  const sign = direction === "min" ? 1 : -1;
  const losses = trials.map((t) => sign * t.value);
  const cutoff = losses.slice().sort((a, b) => a - b)[Math.ceil(q * losses.length) - 1]!;
  return trials.filter((_, i) => losses[i]! <= cutoff);
}

function pearsonDivergence(
  name: string,
  domain: ParamDomain,
  target: readonly ImportanceTrial[],
  region: readonly ImportanceTrial[],
): number {
  const top = gridPdf(gridCounts(name, domain, target), domain.kind === "categorical");
  const local = gridPdf(gridCounts(name, domain, region), domain.kind === "categorical");
  let d = 0;
  for (let i = 0; i < top.length; i++) {
    const p = top[i]! + 1e-12;
    const l = local[i]! + 1e-12;
    d += l * (p / l - 1) ** 2;
  }
  return d;
}

/** How many trials fall on each grid point: a choice's index, or the nearest of the range's grid steps. */
function gridCounts(name: string, domain: ParamDomain, trials: readonly ImportanceTrial[]): number[] {
  if (domain.kind === "categorical") {
    const counts = new Array<number>(domain.choices.length).fill(0);
    for (const t of trials) counts[domain.choices.indexOf(t.params[name] as Scalar)]! += 1;
    return counts;
  }
  let steps = N_STEPS;
  if (domain.kind === "int" && domain.log) steps = Math.min(Math.ceil(Math.log(domain.high - domain.low + 1) / Math.log(2)) + 1, steps);
  else if (domain.kind === "int") steps = Math.min(Math.round((domain.high - domain.low) / domain.step) + 1, steps);
  const f = domain.log ? Math.log : (x: number) => x;
  const low = f(domain.low);
  const size = (f(domain.high) - low) / (steps - 1);
  const counts = new Array<number>(steps).fill(0);
  for (const t of trials) {
    // Midpoint ties go to the lower grid point, as in Optuna.
    const i = Math.ceil((f(t.params[name] as number) - low) / size - 0.5);
    counts[Math.min(steps - 1, Math.max(0, i))]! += 1;
  }
  return counts;
}

/** Optuna's ScottParzenEstimator on grid points 0..n-1: one kernel per occupied point, weighted by its count, and a prior. */
function gridPdf(counts: readonly number[], categorical: boolean): number[] {
  const obs = counts.flatMap((c, i) => (c > 0 ? [i] : []));
  const w = obs.map((i) => counts[i]!);
  const mixture = [...w, PRIOR_WEIGHT];
  const total = mixture.reduce((s, x) => s + x, 0);
  const weights = mixture.map((x) => x / total);
  const n = counts.length;
  const kernels = categorical ? categoricalKernels(obs, n) : numericalKernels(obs, w, n);
  return Array.from({ length: n }, (_, x) => kernels.reduce((s, k, j) => s + weights[j]! * k(x), 0));
}

function categoricalKernels(obs: readonly number[], n: number): ((x: number) => number)[] {
  const nKernels = obs.length + 1;
  const base = PRIOR_WEIGHT / nKernels;
  const observed = obs.map((o) => (x: number) => (base + (x === o ? 1 : 0)) / (n * base + 1));
  return [...observed, () => 1 / n];
}

/** Discretised truncated normals with Scott's bandwidth on 0..n-1, and a wide prior kernel at the middle. */
function numericalKernels(obs: readonly number[], w: readonly number[], n: number): ((x: number) => number)[] {
  const low = 0;
  const high = n - 1;
  const cum: number[] = [];
  w.forEach((x, i) => cum.push((cum[i - 1] ?? 0) + x));
  const sum = cum.at(-1)!;
  const mean = obs.reduce((s, o, i) => s + o * w[i]!, 0) / sum;
  const sd = Math.sqrt(obs.reduce((s, o, i) => s + (o - mean) ** 2 * w[i]!, 0) / Math.max(1, sum - 1));
  const q1 = cum.findIndex((c) => c >= Math.floor(sum / 4));
  const q3i = cum.findIndex((c) => c > Math.floor((sum * 3) / 4));
  const q3 = q3i < 0 ? obs.length : q3i;
  const iqr = obs[Math.min(obs.length - 1, q3)]! - obs[q1 < 0 ? obs.length - 1 : q1]!;
  const sigma = Math.max(1.059 * Math.min(iqr / 1.34, sd) * sum ** -0.2, SIGMA_MIN);
  const kernel = (mu: number, s: number) => {
    const all = normalMass((low - 0.5 - mu) / s, (high + 0.5 - mu) / s);
    return (x: number) => normalMass((x - 0.5 - mu) / s, (x + 0.5 - mu) / s) / all;
  };
  return [...obs.map((o) => kernel(o, sigma)), kernel((low + high) / 2, high - low + 1)];
}
