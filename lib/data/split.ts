/** The tutorial's validation split and scaling of the raw uint8 arrays. */
import { NDArray } from "../format/ndarray";
import type { FashionMnistRaw } from "./fashion-mnist";
import { DatasetError } from "./idx";
import type { LabeledImages } from "./images";

/** Float32 images in 0..1 ([n, 28, 28]) with uint8 labels ([n]), as NDArrays (`x.row(i)`, `x.slice(a, b)`). */
export type ScaledImages = LabeledImages<NDArray<Float32Array>, NDArray<Uint8Array>>;

export interface FashionMnistSplits {
  train: ScaledImages;
  valid: ScaledImages;
  test: ScaledImages;
  classNames: readonly string[];
}

/** Every image as float32, divided by 255 (the tutorial's `X / 255.`), in one new buffer. */
export function scaleImages(images: NDArray<Uint8Array>): NDArray<Float32Array> {
  // Pixel intensities 0..255 become 0..1: gradient descent works best when inputs are small
  // and on a common scale, as in the tutorial's `X_train_full / 255.`.
  // A plain loop: Float32Array.from with a map function stages every value in a JS array first, which for the
  // 47M training pixels cost ~600 MB of peak memory.
  const src = images.data;
  const scaled = new Float32Array(src.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = src[i]! / 255;
  return new NDArray(scaled, images.shape);
}

/** The scaled images the split needs: the whole training and test sets, each scaled once (scaleImages). */
export interface ScaledRaw {
  trainImages: NDArray<Float32Array>;
  testImages: NDArray<Float32Array>;
}

/**
 * The tutorial's split and scaling:
 * `X_valid, X_train = X_train_full[:5000] / 255., X_train_full[5000:] / 255.` and `X_test / 255.`.
 * The FIRST `validationSize` training images become the validation set.
 * @returns float32 images in 0..1 ([n, 28, 28]) and uint8 labels ([n]) for train, valid and test
 * @throws DatasetError if validationSize is not an integer in 0..(training images - 1)
 */
export function splitAndScale(raw: FashionMnistRaw, validationSize: number): FashionMnistSplits {
  return splitScaled(raw, { trainImages: scaleImages(raw.trainImages), testImages: scaleImages(raw.testImages) }, validationSize);
}

/**
 * splitAndScale from images already scaled (by a prefetch, ./prefetch): validation and training images are two
 * views of the one scaled training buffer, which the returned sets own from then on (standardize rewrites them).
 */
export function splitScaled(raw: FashionMnistRaw, scaled: ScaledRaw, validationSize: number): FashionMnistSplits {
  const [n = 0] = raw.trainImages.shape;
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= n) {
    throw new DatasetError(`validationSize ${validationSize}: expected an integer from 0 to ${n - 1} (there are ${n} training images).`);
  }
  // Labels are copied so the sets stay valid even if the caller reuses the raw buffers.
  const labels = (from: NDArray<Uint8Array>, start: number, end: number) => new NDArray(from.data.slice(start, end));
  return {
    valid: { x: scaled.trainImages.slice(0, validationSize), y: labels(raw.trainLabels, 0, validationSize) },
    train: { x: scaled.trainImages.slice(validationSize, n), y: labels(raw.trainLabels, validationSize, n) },
    test: { x: scaled.testImages, y: labels(raw.testLabels, 0, raw.testLabels.shape[0] ?? 0) },
    classNames: raw.classNames,
  };
}
