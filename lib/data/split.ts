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

/** Copies images [start, end) into float32, divided by 255. */
function scaleImages(images: NDArray<Uint8Array>, start: number, end: number): NDArray<Float32Array> {
  const src = images.slice(start, end);
  // Pixel intensities 0..255 become 0..1: gradient descent works best when inputs are small
  // and on a common scale, as in the tutorial's `X_train_full / 255.`.
  // A plain loop: Float32Array.from with a map function stages every value in a JS array first, which for the
  // 47M training pixels cost ~600 MB of peak memory.
  const scaled = new Float32Array(src.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = src.data[i]! / 255;
  return new NDArray(scaled, src.shape);
}

function sliceSet(images: NDArray<Uint8Array>, labels: NDArray<Uint8Array>, start: number, end: number): ScaledImages {
  // Labels are copied so the sets stay valid even if the caller reuses the raw buffers.
  return { x: scaleImages(images, start, end), y: new NDArray(labels.data.slice(start, end)) };
}

/**
 * The tutorial's split and scaling:
 * `X_valid, X_train = X_train_full[:5000] / 255., X_train_full[5000:] / 255.` and `X_test / 255.`.
 * The FIRST `validationSize` training images become the validation set.
 * @returns float32 images in 0..1 ([n, 28, 28]) and uint8 labels ([n]) for train, valid and test
 * @throws DatasetError if validationSize is not an integer in 0..(training images - 1)
 */
export function splitAndScale(raw: FashionMnistRaw, validationSize: number): FashionMnistSplits {
  const [n = 0] = raw.trainImages.shape;
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= n) {
    throw new DatasetError(`validationSize ${validationSize}: expected an integer from 0 to ${n - 1} (there are ${n} training images).`);
  }
  return {
    valid: sliceSet(raw.trainImages, raw.trainLabels, 0, validationSize),
    train: sliceSet(raw.trainImages, raw.trainLabels, validationSize, n),
    test: sliceSet(raw.testImages, raw.testLabels, 0, raw.testImages.shape[0] ?? 0),
    classNames: raw.classNames,
  };
}
