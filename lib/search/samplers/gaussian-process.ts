/**
 * A Gaussian process regressor as Keras Tuner's BayesianOptimization fits one (scikit-learn's
 * GaussianProcessRegressor with a Matérn 5/2 kernel, normalize_y, `alpha` on the diagonal): inputs in the unit
 * cube, one length scale chosen by maximising the log marginal likelihood over a grid, then refined around the best.
 */

/** Matérn 5/2 correlation at distance r (in length scales). */
function matern52(r: number): number {
  const s = Math.sqrt(5) * r;
  return (1 + s + (s * s) / 3) * Math.exp(-s);
}

function distance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

/** Lower Cholesky factor of a symmetric positive-definite n x n matrix (row-major), or undefined if it is not one. */
export function cholesky(a: Float64Array, n: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return l;
}

/** Solves L x = b (forward substitution). */
function solveLower(l: Float64Array, n: number, b: readonly number[]): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/** Solves L^T x = b (back substitution). */
function solveUpper(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

interface Fit {
  lengthScale: number;
  l: Float64Array;
  /** K^-1 y (normalised y). */
  weights: Float64Array;
  logLikelihood: number;
}

function fitAt(x: readonly number[][], y: readonly number[], lengthScale: number, alpha: number): Fit | undefined {
  const n = x.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = matern52(distance(x[i]!, x[j]!) / lengthScale) + (i === j ? alpha : 0);
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  const l = cholesky(k, n);
  if (!l) return undefined;
  const weights = solveUpper(l, n, solveLower(l, n, y));
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(l[i * n + i]!);
  const fitTerm = y.reduce((s, v, i) => s + v * weights[i]!, 0);
  return { lengthScale, l, weights, logLikelihood: -0.5 * fitTerm - logDet - 0.5 * n * Math.log(2 * Math.PI) };
}

export class GaussianProcess {
  private constructor(
    private readonly x: readonly number[][],
    private readonly fit: Fit,
    private readonly yMean: number,
    private readonly yStd: number,
  ) {}

  /**
   * Fits points x (each in the unit cube) to values y. The length scale is the best of a log grid over
   * [0.01, 10], refined once between the best point's neighbours. Throws when no length scale gives a
   * positive-definite kernel (e.g. NaN inputs).
   */
  static fit(x: readonly number[][], y: readonly number[], alpha = 1e-4): GaussianProcess {
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const sd = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length) || 1;
    const yn = y.map((v) => (v - mean) / sd);
    const grid = Array.from({ length: 16 }, (_, i) => 10 ** (-2 + (3 * i) / 15));
    const better = (a: Fit | undefined, b: Fit | undefined) => (b && (!a || b.logLikelihood > a.logLikelihood) ? b : a);
    let best: Fit | undefined;
    for (const ls of grid) best = better(best, fitAt(x, yn, ls, alpha));
    const found = best;
    const ratio = 10 ** (3 / 15);
    if (found) for (const f of [ratio ** -0.5, ratio ** 0.5]) best = better(best, fitAt(x, yn, found.lengthScale * f, alpha));
    if (!best) throw new Error(`the Gaussian process found no length scale with a positive-definite kernel over ${x.length} points`);
    return new GaussianProcess(x, best, mean, sd);
  }

  get lengthScale(): number {
    return this.fit.lengthScale;
  }

  /** Posterior mean and standard deviation at a point, in y's units. */
  predict(point: readonly number[]): { mean: number; std: number } {
    const n = this.x.length;
    const kStar = this.x.map((xi) => matern52(distance(xi, point) / this.fit.lengthScale));
    let mean = 0;
    for (let i = 0; i < n; i++) mean += kStar[i]! * this.fit.weights[i]!;
    const v = solveLower(this.fit.l, n, kStar);
    let explained = 0;
    for (let i = 0; i < n; i++) explained += v[i]! * v[i]!;
    const variance = Math.max(0, 1 - explained);
    return { mean: this.yMean + this.yStd * mean, std: this.yStd * Math.sqrt(variance) };
  }
}
