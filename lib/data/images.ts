/**
 * The image vocabulary every room shares: Fashion-MNIST's sizes and class names, and the two shapes images
 * travel in. Plain constants and types only (no fs, no tfjs), so figure specs and the CLI can import them.
 */

/** Fashion-MNIST images are 28x28 grayscale pixels. */
export const IMAGE_SIZE = 28;
export const IMAGE_SHAPE = [IMAGE_SIZE, IMAGE_SIZE] as const;
/** Pixels per image (784): the length of one flattened image. */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Ten classes, labels 0..9. */
export const NUM_CLASSES = 10;

/** Class names in label order: label 0 is "T-shirt/top", label 9 is "Ankle boot". */
export const CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/**
 * Images as one flat row-major buffer and its shape: [n, 28, 28] (or [n, 784]) for a batch, [28, 28] for one
 * image. An NDArray is one; so is `{ data: t.dataSync(), shape: t.shape }` for a tensor t.
 */
export interface Images<T extends ArrayLike<number> = Float32Array> {
  data: T;
  shape: readonly number[];
}

/** Images (x, float32 pixels 0..1) with their class indices (y, shape [n]). */
export interface LabeledImages<X extends Images = Images, Y extends Images<ArrayLike<number>> = Images<ArrayLike<number>>> {
  x: X;
  y: Y;
}
