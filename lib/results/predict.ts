import * as tf from "@tensorflow/tfjs";
import type { Images } from "../data/images";

// Predicting in slices keeps memory flat for any number of images (10,000 at once is fine).
const PREDICT_BATCH = 1024;

/** `model.predict(X_new)`: class probabilities, one row of 10 per image; `images` [n, 28, 28] (or [n, ...] matching the model's input). */
export function predictProba(model: tf.LayersModel, images: Images): number[][] {
  const n = images.shape[0]!;
  const rowSize = images.data.length / n;
  const rows: number[][] = [];
  for (let start = 0; start < n; start += PREDICT_BATCH) {
    const end = Math.min(start + PREDICT_BATCH, n);
    const probs = tf.tidy(() => {
      const x = tf.tensor(images.data.subarray(start * rowSize, end * rowSize), [end - start, ...images.shape.slice(1)]);
      return (model.predict(x) as tf.Tensor).arraySync() as number[][];
    });
    rows.push(...probs);
  }
  return rows;
}

/** `y_proba.argmax(axis=-1)`: the most probable class of each row. */
export function predictClasses(probabilities: number[][]): number[] {
  return probabilities.map((row) => row.reduce((best, p, i) => (p > row[best]! ? i : best), 0));
}

/** `y_proba.round(2)` */
export function roundProbabilities(probabilities: number[][], decimals = 2): number[][] {
  const f = 10 ** decimals;
  return probabilities.map((row) => row.map((p) => Math.round(p * f) / f));
}

/** `np.array(class_names)[y_pred]` */
export function classNamesOf(classes: number[], classNames: readonly string[]): string[] {
  return classes.map((c) => {
    const name = classNames[c];
    if (name === undefined) throw new RangeError(`class index ${c} is outside 0..${classNames.length - 1}`);
    return name;
  });
}
