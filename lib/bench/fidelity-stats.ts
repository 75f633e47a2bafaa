// The statistics of `fashion-ann bench --fidelity`: two engines, N seeds each, one number per seed (test accuracy or
// test loss). They agree when their means differ by at most twice the pooled standard deviation between seeds: the
// difference is then no larger than the spread that changing the seed alone gives either engine. Unlike a t-test of
// equal means, the rule does not tighten as N grows, so more seeds sharpen the estimate without failing an engine for
// a difference far below the noise of one run. Welch's t and its degrees of freedom are reported beside it.

/** Mean and sample standard deviation (n − 1) of one engine's values over the seeds. */
export interface SeedSummary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single seed. */
  std: number;
}

export interface Agreement {
  /** mean(a) − mean(b). */
  difference: number;
  /** √((s_a² + s_b²) / 2): the seeds' spread of one engine, both engines weighed alike. */
  pooledStd: number;
  /** The verdict: |difference| <= AGREEMENT_STDS · pooledStd. */
  agree: boolean;
  /** Welch's t = difference / √(s_a²/n_a + s_b²/n_b); null when both spreads are 0. */
  welchT: number | null;
  /** Welch–Satterthwaite degrees of freedom; null with welchT. */
  welchDf: number | null;
}

/** How many pooled standard deviations the means may differ by and still agree. */
export const AGREEMENT_STDS = 2;

export function summarize(values: readonly number[]): SeedSummary {
  const n = values.length;
  if (n === 0) throw new Error("summarize: no values (at least one seed must have run)");
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`summarize: every value must be finite, got ${values.join(", ")}`);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n < 2 ? 0 : values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, std: Math.sqrt(variance) };
}

/** Whether `a` and `b` (each engine's summary over the seeds) agree within the noise between seeds. */
export function agreement(a: SeedSummary, b: SeedSummary): Agreement {
  const difference = a.mean - b.mean;
  const pooledStd = Math.sqrt((a.std ** 2 + b.std ** 2) / 2);
  const va = a.std ** 2 / a.n;
  const vb = b.std ** 2 / b.n;
  const se = Math.sqrt(va + vb);
  const welch =
    se > 0 && a.n > 1 && b.n > 1
      ? { welchT: difference / se, welchDf: (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1)) }
      : { welchT: null, welchDf: null };
  return { difference, pooledStd, agree: Math.abs(difference) <= AGREEMENT_STDS * pooledStd, ...welch };
}
