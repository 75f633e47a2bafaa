import * as tf from "@tensorflow/tfjs";
import { type ActivationName, ExperimentConfig } from "../config";
import { IMAGE_SHAPE, NUM_CLASSES } from "../data/images";
import { createOptimizer } from "../optimizers";
import { kernelInitializer } from "./initializers";

/**
 * The fields the model depends on; only hiddenUnits and seed are required, the rest default as in the config (the
 * learning rate to Keras's for the optimizer).
 */
export type ModelConfig = Pick<ExperimentConfig, "hiddenUnits" | "seed"> &
  Partial<Pick<ExperimentConfig, "activation" | "initializer" | "batchNorm" | "dropout" | "l2"> & OptimizerConfig>;

/** The fields compileModel builds the optimizer from. */
export type OptimizerConfig = Pick<ExperimentConfig, "optimizer" | "momentum" | "nesterov" | "weightDecay"> &
  Partial<Pick<ExperimentConfig, "learningRate">>;

// The schema's defaults, so a partial ModelConfig means the same model as a resolved config. They have no learning
// rate: createOptimizer gives each optimizer Keras's, as resolveConfig does.
const DEFAULTS = ExperimentConfig.parse({});

// Keras 3's leaky_relu activation has negative_slope 0.2 (the LeakyReLU layer's default is 0.3).
const LEAKY_RELU_SLOPE = 0.2;
// Keras's BatchNormalization defaults.
const BN_MOMENTUM = 0.99;
const BN_EPSILON = 1e-3;

/**
 * The tutorial's Sequential MLP, Flatten(28x28) -> Dense(h, relu) for each hidden size -> Dense(10, softmax),
 * with chapter 11's options: the hidden activation and kernel initializer, BatchNormalization after each
 * hidden Dense (or between it and its activation), Dropout after each hidden layer, an L2 penalty on every
 * kernel. Names follow Keras's first model in a session (sequential; flatten, dense, dense_1, ...,
 * batch_normalization, dropout) so the summary and `getLayer("dense")` read as in the book. Biases are
 * zero; every layer with randomness gets its own seed derived from `config.seed`, so runs repeat exactly.
 */
export function createModel(config: ModelConfig): tf.Sequential {
  const c = { ...DEFAULTS, ...config };
  const model = tf.sequential({ name: "sequential" });
  model.add(tf.layers.flatten({ inputShape: [...IMAGE_SHAPE], name: "flatten" }));
  const sizes = [...c.hiddenUnits, NUM_CLASSES];
  const suffix = (i: number) => (i === 0 ? "" : `_${i}`);
  const kernelRegularizer = c.l2 > 0 ? tf.regularizers.l2({ l2: c.l2 }) : undefined;
  sizes.forEach((units, i) => {
    const last = i === sizes.length - 1;
    const bnBefore = !last && c.batchNorm === "before";
    // A layer the tfjs activation strings cannot express (leaky_relu's slope, BN before it) follows a linear Dense.
    const separate = !last && (bnBefore || c.activation === "leaky_relu");
    model.add(
      tf.layers.dense({
        units,
        activation: last ? "softmax" : separate ? "linear" : tfjsActivation(c.activation),
        name: `dense${suffix(i)}`,
        // The output layer keeps Keras's default, as in Géron's chapter 11 models.
        kernelInitializer: kernelInitializer(last ? "glorot_uniform" : c.initializer, c.seed + i),
        // BN's beta makes the bias redundant (Géron's use_bias=False).
        useBias: !bnBefore,
        biasInitializer: "zeros",
        kernelRegularizer,
      }),
    );
    if (last) return;
    if (bnBefore)
      model.add(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: BN_EPSILON, name: `batch_normalization${suffix(i)}` }));
    if (separate) {
      model.add(
        c.activation === "leaky_relu"
          ? tf.layers.leakyReLU({ alpha: LEAKY_RELU_SLOPE, name: `leaky_re_lu${suffix(i)}` })
          : tf.layers.activation({ activation: tfjsActivation(c.activation), name: `activation${suffix(i)}` }),
      );
    }
    if (c.batchNorm === true)
      model.add(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: BN_EPSILON, name: `batch_normalization${suffix(i)}` }));
    // No seed: tfjs's seeded dropout draws the same mask at every step. The written-out step draws its own, seeded.
    if (c.dropout > 0) model.add(tf.layers.dropout({ rate: c.dropout, name: `dropout${suffix(i)}` }));
  });
  compileModel(model, c);
  return model;
}

/** tfjs's identifier for a Keras activation name (leaky_relu is a layer in tfjs, not an activation string). */
function tfjsActivation(name: ActivationName): "relu" | "elu" | "selu" | "gelu" | "swish" | "tanh" | "sigmoid" {
  if (name === "leaky_relu") throw new Error("leaky_relu is built as a LeakyReLU layer, not an activation string");
  return name;
}

/**
 * `model.compile(loss="sparse_categorical_crossentropy", optimizer=..., metrics=["accuracy"])`: labels are
 * class indices 0..9, not one-hot vectors, hence the sparse loss. A number is the learning rate of plain
 * SGD (the tutorial); a config builds its optimizer with Keras's defaults.
 */
export function compileModel(model: tf.LayersModel, optimizer: number | Partial<OptimizerConfig>): void {
  const spec = { ...DEFAULTS, ...(typeof optimizer === "number" ? { learningRate: optimizer } : optimizer) };
  model.compile({
    loss: "sparseCategoricalCrossentropy",
    optimizer: createOptimizer({ ...spec, weightDecay: spec.weightDecay ?? undefined }),
    metrics: ["accuracy"],
  });
}
