// The names alone, apart from the optimizers: the config schema and the CLI's --optimizer choices need them at
// import, and the optimizers themselves bring tfjs, which a bad flag or `--help` must not wait for.

/** Keras's optimizer identifiers (`model.compile(optimizer="nadam")`) that createOptimizer accepts. */
export const OPTIMIZER_NAMES = ["sgd", "rmsprop", "adam", "adamax", "adagrad", "adadelta", "nadam", "adamw"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * Keras 3's default learning rate of each optimizer (keras/src/optimizers): 0.01 for SGD (the tutorial's rate), 0.001
 * for the rest. A config without learningRate gets the one of its optimizer, as `optimizer="adam"` does in Keras.
 */
export const KERAS_LEARNING_RATES: Readonly<Record<OptimizerName, number>> = {
  sgd: 0.01,
  rmsprop: 0.001,
  adam: 0.001,
  adamax: 0.001,
  adagrad: 0.001,
  adadelta: 0.001,
  nadam: 0.001,
  adamw: 0.001,
};
