/**
 * What the config schema cannot say about its fields: the Keras name, the unit and one line for a reader. Typed by
 * the schema's keys, so a new config field fails the typecheck until it is described here (then `npm run docs:gen`).
 */
import type { ConfigOverrides } from "../../lib/config";

export interface FieldDoc {
  /** Keras's (or Géron's) name for the same setting, where there is one. */
  keras?: string;
  /** "epochs", "steps" (optimizer steps = batches), or another unit. */
  units?: string;
  meaning: string;
}

export const CONFIG_FIELD_DOCS: Record<keyof ConfigOverrides, FieldDoc> = {
  epochs: { keras: "fit(epochs=)", units: "epochs", meaning: "passes over the 55,000 training images" },
  batchSize: { keras: "fit(batch_size=)", units: "images per step", meaning: "mini-batch size" },
  hiddenUnits: { keras: "Dense(units) per hidden layer", meaning: "units of each hidden Dense layer, in order" },
  learningRate: {
    keras: "learning_rate",
    meaning: "step size; absent = Keras's default for the optimizer, recorded in config.json",
  },
  activation: { keras: "Dense(activation=)", meaning: "hidden layers' activation (the output stays softmax)" },
  initializer: { keras: "Dense(kernel_initializer=)", meaning: "kernel initializer of every Dense (biases are zeros)" },
  batchNorm: {
    keras: "BatchNormalization()",
    meaning: 'after each hidden Dense and its activation (true), or between Dense and activation ("before")',
  },
  dropout: { keras: "Dropout(rate)", meaning: "dropout rate after each hidden layer; 0 = none" },
  l2: { keras: "kernel_regularizer=l2(l2)", meaning: "L2 factor on every Dense kernel; 0 = none" },
  optimizer: { keras: 'compile(optimizer="…")', meaning: "Keras's optimizer name, with Keras 3's defaults" },
  momentum: { keras: "SGD(momentum=), RMSprop(momentum=)", meaning: "sgd or rmsprop only" },
  nesterov: { keras: "SGD(nesterov=)", meaning: "sgd with momentum > 0 only" },
  weightDecay: { keras: "AdamW(weight_decay=)", meaning: "adamw only; null = Keras's 0.004" },
  lrSchedule: {
    keras: "keras.optimizers.schedules.*, ReduceLROnPlateau",
    meaning: "learning-rate schedule (table below); null = constant rate",
  },
  clipNorm: { keras: "clipnorm", meaning: "rescale each gradient tensor to at most this L2 norm; null = off" },
  clipValue: { keras: "clipvalue", meaning: "clip every gradient component to ±clipValue; null = off" },
  normalize: { meaning: '"scale": pixels / 255 (ch. 10); "standardize": per-pixel mean and std of the training set (ch. 11)' },
  validationSize: { units: "images", meaning: "the first N training images are held out for validation" },
  seed: { keras: "keras.utils.set_random_seed", meaning: "seeds weights, shuffling and dropout masks" },
  dataDir: { meaning: "Fashion-MNIST cache folder, relative to the project folder" },
  patience: {
    keras: "EarlyStopping(patience=, restore_best_weights=True)",
    units: "epochs",
    meaning: "stop after N epochs without a better val_loss, restoring the best weights; null = off",
  },
  tensorBoard: {
    keras: "TensorBoard(histogram_freq=, update_freq=)",
    units: "histogramFreq: epochs; updateFreq: steps",
    meaning: "logs in <run>/logs/; false = none (--no-tensorboard)",
  },
  backend: { meaning: "tfjs backend; auto = the first that loads. FASHION_ANN_BACKEND overrides" },
  threads: { meaning: "native and wasm engines' threads; auto = one per free core, at most 2. FASHION_ANN_THREADS overrides" },
  stockKernels: { meaning: "wasm: tfjs's own matrix kernels (the bench's baseline). FASHION_ANN_STOCK_KERNELS=1 sets it" },
};

/** The schedules' fields, by schedule type then field: Keras name and unit (steps or epochs). */
export const SCHEDULE_FIELD_DOCS: Record<string, Record<string, FieldDoc>> = {
  exponential: {
    decaySteps: { keras: "ExponentialDecay(decay_steps=)", units: "steps", meaning: "steps over which the rate is multiplied by decayRate once" },
    decayRate: { keras: "decay_rate", meaning: "factor per decaySteps steps (Géron: 0.1)" },
  },
  piecewise: {
    boundaries: { keras: "PiecewiseConstantDecay(boundaries=)", units: "steps", meaning: "strictly increasing" },
    values: { keras: "values", meaning: "the rates themselves, one more than boundaries (learningRate is unused)" },
  },
  one_cycle: {
    maxLearningRate: { keras: "Géron's OneCycleScheduler(max_rate=)", meaning: "peak rate, reached halfway (learningRate is unused)" },
  },
  reduce_on_plateau: {
    factor: { keras: "ReduceLROnPlateau(factor=)", meaning: "new rate = rate · factor (Géron: 0.5)" },
    patience: { keras: "patience", units: "epochs", meaning: "epochs without a better val_loss before a reduction" },
    minDelta: { keras: "min_delta", meaning: "improvement smaller than this does not count" },
    cooldown: { keras: "cooldown", units: "epochs", meaning: "epochs after a reduction during which bad epochs are not counted" },
    minLearningRate: { keras: "min_lr", meaning: "the rate never goes below this" },
  },
};
