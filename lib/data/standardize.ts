import type { FashionMnistSplits } from "./split";
import type { Images } from "./images";

// Géron's chapter 11 standardizes the inputs for SELU: each pixel gets the training set's mean and std.

/** The training set's per-pixel mean and std (784 values each) that `normalize: "standardize"` uses. */
export interface Standardization {
  mean: Float64Array;
  std: Float64Array;
}

/** `(x - mean) / std` per pixel, on scaled (0..1) images laid out as rows of `mean.length` pixels; returns a new array. */
export function applyStandardization(pixels: Float32Array, s: Standardization): Float32Array {
  const size = s.mean.length;
  return pixels.map((v, i) => (v - s.mean[i % size]!) / s.std[i % size]!);
}

/**
 * Undoes `standardize` for drawing: `x * std + mean` per pixel gives back the 0..1 pixels. A standardized image drawn
 * as it is looks almost white (its values run from about -1 to over 100, the colormap's 0..255 range wipes them out).
 * Returns new images of the same shape; `s` null (a "scale" run) returns `images` as they are.
 */
export function unstandardize<T extends Images<ArrayLike<number>>>(images: T, s: Standardization | null): T | Images {
  if (!s) return images;
  const size = s.mean.length;
  // Clamped: float32 rounding leaves a blank pixel at -1e-8 or a full one at 1 + 1e-7, which would change the drawn range.
  const data = Float32Array.from(images.data, (v, i) => Math.min(1, Math.max(0, v * s.std[i % size]! + s.mean[i % size]!)));
  return { data, shape: images.shape };
}

/**
 * `X = (X - X_train.mean(axis=0)) / X_train.std(axis=0)` in place on train, valid and test. A pixel that is
 * constant over the training set keeps std 1 (NumPy would divide by zero).
 */
export function standardize(splits: Pick<FashionMnistSplits, "train" | "valid" | "test">): Standardization {
  const x = splits.train.x.data;
  const size = x.length / splits.train.x.shape[0]!;
  const rows = x.length / size;
  const mean = new Float64Array(size);
  const std = new Float64Array(size);
  for (let r = 0; r < rows; r++) for (let j = 0; j < size; j++) mean[j]! += x[r * size + j]!;
  for (let j = 0; j < size; j++) mean[j]! /= rows;
  for (let r = 0; r < rows; r++) for (let j = 0; j < size; j++) std[j]! += (x[r * size + j]! - mean[j]!) ** 2;
  for (let j = 0; j < size; j++) std[j] = Math.sqrt(std[j]! / rows) || 1;
  for (const set of [splits.train, splits.valid, splits.test]) {
    const d = set.x.data;
    for (let i = 0; i < d.length; i++) d[i] = (d[i]! - mean[i % size]!) / std[i % size]!;
  }
  return { mean, std };
}
