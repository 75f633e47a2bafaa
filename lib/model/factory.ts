import * as tf from "@tensorflow/tfjs";
import type { ExperimentConfig } from "../config";
import { IMAGE_SHAPE, NUM_CLASSES } from "../data/images";

export type ModelConfig = Pick<ExperimentConfig, "hiddenUnits" | "learningRate" | "seed">;

/**
 * The tutorial's Sequential MLP: Flatten(28x28) -> Dense(h, relu) for each hidden size -> Dense(10, softmax).
 * Names follow Keras's first model in a session (sequential; flatten, dense, dense_1, ...) so the summary
 * and `getLayer("dense")` read as in the book. Weights are Glorot-uniform, biases zero, as Keras's Dense
 * defaults; each layer gets its own seed derived from `config.seed` so runs repeat exactly.
 */
export function createModel(config: ModelConfig): tf.Sequential {
  const model = tf.sequential({ name: "sequential" });
  model.add(tf.layers.flatten({ inputShape: [...IMAGE_SHAPE], name: "flatten" }));
  const sizes = [...config.hiddenUnits, NUM_CLASSES];
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    model.add(
      tf.layers.dense({
        units,
        activation: last ? "softmax" : "relu",
        name: i === 0 ? "dense" : `dense_${i}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed + i }),
        biasInitializer: "zeros",
      }),
    );
  });
  compileModel(model, config.learningRate);
  return model;
}

/**
 * `model.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(learning_rate), metrics=["accuracy"])`:
 * labels are class indices 0..9, not one-hot vectors, hence the sparse loss.
 */
export function compileModel(model: tf.LayersModel, learningRate: number): void {
  model.compile({
    loss: "sparseCategoricalCrossentropy",
    optimizer: tf.train.sgd(learningRate),
    metrics: ["accuracy"],
  });
}
