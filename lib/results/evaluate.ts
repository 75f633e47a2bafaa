import type * as tf from "@tensorflow/tfjs";
import { formatLogs } from "../train/callbacks/progress";
import { evaluateArrays, type LabeledImages } from "../train/fit";

export interface TestMetrics {
  test_loss: number;
  test_accuracy: number;
}

/**
 * `model.evaluate(X_test, y_test)`: mean sparse cross-entropy and accuracy over the whole set,
 * printed the way Keras prints its one evaluation line.
 */
export function evaluate(model: tf.LayersModel, test: LabeledImages, print: ((s: string) => void) | null = console.log): TestMetrics {
  const n = test.x.shape[0]!;
  const started = performance.now();
  const { loss, accuracy } = evaluateArrays(model, test);
  const seconds = (performance.now() - started) / 1000;
  const steps = Math.ceil(n / 32);
  print?.(`${steps}/${steps} - ${seconds.toFixed(1)}s - ${formatLogs({ loss, accuracy })}`);
  return { test_loss: loss, test_accuracy: accuracy };
}
