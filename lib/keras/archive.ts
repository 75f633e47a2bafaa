// Keras 3's native format, `model.keras`: a zip of metadata.json, config.json (the model as
// keras.saving.serialize_keras_object writes it, with compile_config) and model.weights.h5, whose layout is Keras's
// saving_lib: layers/<group>/vars/<i> (the group named after the layer's class, dense, dense_1, …) holds the layer's i-th variable in creation order (Dense: kernel, bias;
// BatchNormalization: gamma, beta, moving_mean, moving_variance), and every group of a layer has vars/ even empty.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { strToU8, zipSync } from "fflate";
import { writeFileAtomic } from "../io/atomic";
import type { OptimizerName } from "../config/optimizers";
import { KerasFormatError } from "./errors";
import { h5wasm } from "./h5";
import { type KerasLayerConfig, savingLibNames, toKerasLayer } from "./layers";
import type { KerasOptimizerVariable } from "./optimizer-state";

/** The Keras version whose format this writes; Keras reads archives of its own major version. */
const KERAS_FORMAT_VERSION = "3.15.1";

/** What `model.compile` was given, in this project's names; recorded so Keras's load_model returns a compiled model. */
export interface KerasCompileSpec {
  optimizer: OptimizerName;
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number | null;
  clipNorm?: number | null;
  clipValue?: number | null;
}

const OPTIMIZER_CLASSES: Record<OptimizerName, string> = {
  sgd: "SGD",
  rmsprop: "RMSprop",
  adam: "Adam",
  adamax: "Adamax",
  adagrad: "Adagrad",
  adadelta: "Adadelta",
  nadam: "Nadam",
  adamw: "AdamW",
};

/** Keras's compile_config: the optimizer with the settings given (Keras's defaults for the rest), the tutorial's loss and metric. */
function kerasCompileConfig(spec: KerasCompileSpec): Record<string, unknown> {
  const config: Record<string, unknown> = {
    name: spec.optimizer,
    learning_rate: spec.learningRate,
    clipnorm: spec.clipNorm ?? null,
    clipvalue: spec.clipValue ?? null,
    ...(spec.momentum && (spec.optimizer === "sgd" || spec.optimizer === "rmsprop") && { momentum: spec.momentum }),
    ...(spec.optimizer === "sgd" && { nesterov: spec.nesterov ?? false }),
    ...(spec.optimizer === "adamw" && spec.weightDecay != null && { weight_decay: spec.weightDecay }),
  };
  return {
    optimizer: { module: "keras.optimizers", class_name: OPTIMIZER_CLASSES[spec.optimizer], config, registered_name: null },
    loss: "sparse_categorical_crossentropy",
    loss_weights: null,
    metrics: ["accuracy"],
    weighted_metrics: null,
    run_eagerly: false,
    steps_per_execution: 1,
    jit_compile: false,
  };
}

/** The model's config.json; throws a one-sentence KerasFormatError for a model or layer Keras's exchange does not cover. */
function kerasModelConfig(model: tf.LayersModel, compile?: KerasCompileSpec): Record<string, unknown> {
  if (model.getClassName() !== "Sequential")
    throw new KerasFormatError(`model "${model.name}" is a ${model.getClassName()} model; only Sequential models can be exported to Keras`);
  const inputShape = [null, ...model.inputs[0]!.shape.slice(1)];
  const input: KerasLayerConfig = {
    module: "keras.layers",
    class_name: "InputLayer",
    config: { batch_shape: inputShape, dtype: "float32", sparse: false, name: "input_layer" },
    registered_name: null,
  };
  return {
    module: "keras",
    class_name: "Sequential",
    config: { name: model.name, trainable: true, dtype: "float32", layers: [input, ...model.layers.map(toKerasLayer)] },
    registered_name: null,
    build_config: { input_shape: inputShape },
    ...(compile && { compile_config: kerasCompileConfig(compile) }),
  };
}

/**
 * model.weights.h5's bytes: each layer's variables under layers/<group>/vars (./layers.ts, savingLibNames) and the optimizer's, when given, under
 * optimizer/vars (./optimizer-state.ts), written by h5wasm into a temp file.
 */
async function weightsH5(model: tf.LayersModel, optimizer?: KerasOptimizerVariable[]): Promise<Uint8Array> {
  const h5 = await h5wasm();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-"));
  const file = path.join(tmp, "model.weights.h5");
  try {
    const out = new h5.File(file, "w");
    try {
      const layers = out.create_group("layers");
      const groups = savingLibNames(model.layers.map((l) => l.getClassName()));
      for (const [i, layer] of model.layers.entries()) {
        const vars = layers.create_group(groups[i]!).create_group("vars");
        vars.create_attribute("name", layer.name);
        layer.getWeights().forEach((w, i) => {
          vars.create_dataset({ name: String(i), data: w.dataSync() as Float32Array, shape: w.shape, dtype: "<f" });
        });
      }
      out.create_group("vars").create_attribute("name", model.name);
      if (optimizer) {
        const vars = out.create_group("optimizer").create_group("vars");
        optimizer.forEach((v, i) => {
          // Keras's iteration count is int64; shape [] is a scalar dataset, which Keras's assign needs.
          const dtype = v.data instanceof BigInt64Array ? "<q" : "<f";
          vars.create_dataset({ name: String(i), data: v.data, shape: v.shape, dtype });
        });
      }
    } finally {
      out.close();
    }
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Writes `model` as a Keras 3 `.keras` archive at `file` (atomically), compiled as `compile` says when given, so
 * `keras.models.load_model(file)` returns a model that predicts as this one does. With `optimizer` (Keras's optimizer
 * variables for `compile`'s optimizer, ./optimizer-state.ts) the loaded model's `fit` continues where this one stopped.
 */
export async function writeKerasArchive(
  model: tf.LayersModel,
  file: string,
  compile?: KerasCompileSpec,
  optimizer?: KerasOptimizerVariable[],
): Promise<void> {
  const config = kerasModelConfig(model, compile);
  const metadata = { keras_version: KERAS_FORMAT_VERSION, date_saved: kerasDate(new Date()) };
  const zip = zipSync({
    "metadata.json": strToU8(JSON.stringify(metadata)),
    "config.json": strToU8(kerasJson(config)),
    "model.weights.h5": [await weightsH5(model, compile && optimizer), { level: 0 }],
  });
  writeFileAtomic(file, zip);
}

/** Hyperparameters Keras checks with isinstance(float), so a whole number must arrive as 1.0, not as Python's int 1. */
const FLOAT_KEYS = new Set(["learning_rate", "momentum", "weight_decay", "clipnorm", "clipvalue"]);
const FLOAT_MARK = "\uE000";

/** JSON as Python's json.dumps writes Keras's config: the float hyperparameters keep a decimal point. */
function kerasJson(value: unknown): string {
  const marked = JSON.stringify(value, (key, v) => (FLOAT_KEYS.has(key) && Number.isInteger(v) ? `${FLOAT_MARK}${v}` : v));
  return marked.replace(new RegExp(`"${FLOAT_MARK}(-?\\d+)"`, "g"), "$1.0");
}

/** Keras's date_saved format, e.g. 2026-12-06@07:56:36. */
function kerasDate(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", "@");
}
