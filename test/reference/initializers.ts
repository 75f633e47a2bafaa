// Keras 3's kernel initializers as the tests' one reference (keras/src/initializers/random_initializers.py,
// VarianceScaling): the variance each draws, its bounds, and the statistical checks a sample must pass. Used by the
// unit test (ours alone) and by the Keras e2e test (ours and Keras's own draws).
import { expect } from "vitest";
import type { InitializerName } from "../../lib/config";

/** The stddev of a standard normal truncated at ±2: Keras divides its normal's stddev by it, so the variance stays scale/fan. */
export const TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

/** Keras's class name of each initializer (what an exported config.json names). */
export const KERAS_CLASS_NAME: Record<InitializerName, string> = {
  glorot_uniform: "GlorotUniform",
  glorot_normal: "GlorotNormal",
  he_normal: "HeNormal",
  he_uniform: "HeUniform",
  lecun_normal: "LecunNormal",
  lecun_uniform: "LecunUniform",
};

/** scale/fan of VarianceScaling: glorot 2/(fanIn + fanOut) (fan_avg, scale 1), he 2/fanIn, lecun 1/fanIn. */
export function kerasVariance(name: InitializerName, fanIn: number, fanOut: number): number {
  if (name.startsWith("glorot")) return 2 / (fanIn + fanOut);
  return (name.startsWith("he") ? 2 : 1) / fanIn;
}

/** No draw is beyond it: √(3·variance) for the uniform ones, 2·√variance/0.8796 for the truncated normal ones. */
export function kerasBound(name: InitializerName, fanIn: number, fanOut: number): number {
  const v = kerasVariance(name, fanIn, fanOut);
  return name.endsWith("uniform") ? Math.sqrt(3 * v) : (2 * Math.sqrt(v)) / TRUNCATED_NORMAL_STDDEV;
}

export interface SampleStats {
  mean: number;
  /** Sample variance over Keras's variance. */
  variance: number;
  /** Largest |w| over Keras's bound. */
  max: number;
}

/**
 * Checks a [fanIn, fanOut] kernel's draws against Keras's formula: the mean within 4 standard errors of 0, the sample
 * variance within 1.5% of scale/fan (over 4 standard errors for either distribution from 80,000 draws up), nothing
 * beyond the bound (float32 rounding of it aside) and the largest draw within 1% of it. Returns the statistics.
 */
export function expectKerasDistribution(sample: Float32Array, name: InitializerName, fanIn: number, fanOut: number): SampleStats {
  expect(sample.length).toBe(fanIn * fanOut);
  const n = sample.length;
  const v = kerasVariance(name, fanIn, fanOut);
  const bound = kerasBound(name, fanIn, fanOut);
  const mean = sample.reduce((s, w) => s + w, 0) / n;
  const variance = sample.reduce((s, w) => s + (w - mean) ** 2, 0) / n;
  const max = sample.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
  expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(v / n));
  expect(Math.abs(variance / v - 1)).toBeLessThan(0.015);
  expect(max).toBeLessThanOrEqual(bound * (1 + 1e-6));
  expect(max).toBeGreaterThan(bound * 0.99);
  return { mean, variance: variance / v, max: max / bound };
}
