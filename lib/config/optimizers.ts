// The names alone, apart from the optimizers: the config schema and the CLI's --optimizer choices need them at
// import, and the optimizers themselves bring tfjs, which a bad flag or `--help` must not wait for.

/** Keras's optimizer identifiers (`model.compile(optimizer="nadam")`) that createOptimizer accepts. */
export const OPTIMIZER_NAMES = ["sgd", "rmsprop", "adam", "adamax", "adagrad", "adadelta", "nadam", "adamw"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
