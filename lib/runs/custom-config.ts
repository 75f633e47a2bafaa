// What config.json says about a hand-built model's run: the ExperimentConfig fields that are known (epochs, batch
// size, seed, the optimizer's name and learning rate, the data fields), "custom" for the fields that describe the
// tutorial's MLP, and what a resume needs to rebuild it (layers, optimizer class and config, loss, metrics).
import type * as tf from "@tensorflow/tfjs";
import { type ExperimentConfig, resolveConfig } from "../config";
import { learningRateOf, type OptimizerName, type SavedOptimizer } from "../optimizers";
import { RunError } from "./run";

/** The config fields that describe the tutorial's MLP; a hand-built run records them as "custom". */
const ARCHITECTURE_FIELDS = ["hiddenUnits", "activation", "initializer", "batchNorm", "dropout", "l2"] as const;
type ArchitectureField = (typeof ARCHITECTURE_FIELDS)[number];

export type CustomRunConfig = Omit<ExperimentConfig, ArchitectureField | "optimizer"> & { [K in ArchitectureField]: "custom" } & {
  model: "custom";
  /** Keras's name of the optimizer, or "custom" for a class Keras's names do not cover. */
  optimizer: OptimizerName | "custom";
  /** "name (Class)" of every layer, as the summary lists them. */
  layers: string[];
  optimizerConfig: SavedOptimizer;
  /** The compiled loss and metrics, by name (a resume compiles with them). */
  loss: string;
  metrics: string[];
  /** Training samples, so a resume from the command line can tell the run's data from Fashion-MNIST's split. */
  samples: number;
};

// tfjs's getClassName() -> Keras's optimizer identifier.
const KERAS_NAMES: Record<string, OptimizerName> = {
  SGD: "sgd",
  Momentum: "sgd",
  RMSProp: "rmsprop",
  Adam: "adam",
  Adamax: "adamax",
  Adagrad: "adagrad",
  Adadelta: "adadelta",
  Nadam: "nadam",
  AdamW: "adamw",
};

export function isCustomRunConfig(json: unknown): json is CustomRunConfig {
  return typeof json === "object" && json !== null && (json as { model?: unknown }).model === "custom";
}

/** What a hand-built model's run records in config.json; throws if the model cannot be recorded (loss or metric as a function). */
export function customRunConfig(
  model: tf.LayersModel,
  options: Partial<Pick<ExperimentConfig, "batchSize" | "seed" | "lrSchedule" | "clipNorm" | "clipValue">> & {
    epochs: number;
    config?: ExperimentConfig;
  },
  samples: number,
): CustomRunConfig {
  const base = options.config ?? resolveConfig({});
  const optimizer = model.optimizer;
  const className = optimizer.getClassName();
  const settings = optimizer.getConfig() as Record<string, unknown>;
  const optimizerName = KERAS_NAMES[className] ?? "custom";
  if (typeof model.loss !== "string") {
    throw new RunError(
      `model "${model.name}" is compiled with a loss function, which a run folder cannot record; compile with a loss name such as "sparseCategoricalCrossentropy"`,
    );
  }
  const metrics = model.metrics === undefined ? [] : [model.metrics].flat();
  if (!metrics.every((m) => typeof m === "string")) {
    throw new RunError(
      `model "${model.name}" is compiled with a metric function, which a run folder cannot record; use metric names such as "accuracy"`,
    );
  }
  const { hiddenUnits: _h, activation: _a, initializer: _i, batchNorm: _b, dropout: _d, l2: _l, ...rest } = base;
  return {
    ...rest,
    epochs: options.epochs,
    batchSize: options.batchSize ?? base.batchSize,
    seed: options.seed ?? base.seed,
    learningRate: learningRateOf(optimizer),
    optimizer: optimizerName,
    momentum: className === "Momentum" || className === "RMSProp" ? Number(settings.momentum ?? 0) : 0,
    nesterov: className === "Momentum" && settings.useNesterov === true,
    weightDecay: className === "AdamW" ? Number(settings.weightDecay) : null,
    lrSchedule: options.lrSchedule ?? null,
    clipNorm: options.clipNorm ?? null,
    clipValue: options.clipValue ?? null,
    patience: null,
    model: "custom",
    ...Object.fromEntries(ARCHITECTURE_FIELDS.map((k) => [k, "custom"])),
    layers: model.layers.map((l) => `${l.name} (${l.getClassName()})`),
    optimizerConfig: { className, config: settings as tf.serialization.ConfigDict, implementation: optimizer.constructor.name },
    loss: model.loss,
    metrics: metrics as string[],
    samples,
  } as CustomRunConfig;
}

/** The ExperimentConfig of what a hand-built run knows (data, batches, seed, optimizer by name); "custom" fields take the defaults. */
export function knownConfig(record: CustomRunConfig): ExperimentConfig {
  const { model: _m, layers: _l, optimizerConfig: _o, loss: _loss, metrics: _metrics, samples: _s, ...fields } = record;
  const known = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== "custom"));
  return resolveConfig(known);
}
