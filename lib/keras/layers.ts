// The layers that move between tfjs and Keras 3, each with its config in Keras's names, in both directions. A
// Sequential stack of Flatten, Dense, BatchNormalization, Dropout, LeakyReLU and Activation covers every model the
// config builds (lib/model/factory.ts) and Géron's hand-built MLPs; anything else is refused by name.
import * as tf from "@tensorflow/tfjs";
import { KerasFormatError } from "./errors";

/** A layer's entry in Keras's config.json (`layers` of a Sequential). */
export interface KerasLayerConfig {
  module?: string;
  class_name: string;
  config: Record<string, unknown>;
  registered_name?: string | null;
  build_config?: { input_shape: (number | null)[] };
}

const SUPPORTED_LAYERS = ["Flatten", "Dense", "BatchNormalization", "Dropout", "LeakyReLU", "Activation"];
const SUPPORTED_LIST = `${SUPPORTED_LAYERS.slice(0, -1).join(", ")} and ${SUPPORTED_LAYERS.at(-1)}`;

/** tfjs's activation identifiers -> Keras's (the same names, but for the two tfjs spells in camelCase). */
const TO_KERAS_ACTIVATION: Record<string, string> = { hardSigmoid: "hard_sigmoid", relu6: "relu6" };
const KERAS_ACTIVATIONS = [
  "linear",
  "relu",
  "elu",
  "selu",
  "gelu",
  "swish",
  "tanh",
  "sigmoid",
  "softmax",
  "softplus",
  "softsign",
  "relu6",
  "hard_sigmoid",
  "mish",
];
const TO_TFJS_ACTIVATION: Record<string, string> = { hard_sigmoid: "hardSigmoid", silu: "swish" };

// tfjs's initializer classes -> Keras 3's (only LeCun's differ in spelling). They matter only if Keras re-initializes.
const TO_KERAS_INITIALIZER: Record<string, string> = { LeCunNormal: "LecunNormal", LeCunUniform: "LecunUniform" };

function kerasObject(module: string, className: string, config: Record<string, unknown>): Record<string, unknown> {
  return { module, class_name: className, config, registered_name: null };
}

function kerasActivation(name: unknown, layer: string): string {
  const keras = TO_KERAS_ACTIVATION[String(name)] ?? String(name);
  if (!KERAS_ACTIVATIONS.includes(keras))
    throw new KerasFormatError(`layer "${layer}" uses the activation "${String(name)}", which Keras has no name for`);
  return keras;
}

// tfjs writes HeNormal, LeCunNormal and the like as VarianceScaling(scale, mode, distribution); Keras's names by those.
const VARIANCE_SCALING_NAMES: Record<string, string> = {
  "1 fanAvg normal": "GlorotNormal",
  "1 fanAvg uniform": "GlorotUniform",
  "2 fanIn normal": "HeNormal",
  "2 fanIn uniform": "HeUniform",
  "1 fanIn normal": "LecunNormal",
  "1 fanIn uniform": "LecunUniform",
};

function kerasInitializer(value: unknown, fallback: string): Record<string, unknown> {
  const v = value as { className?: string; config?: { seed?: number | null; scale?: number; mode?: string; distribution?: string } } | null;
  const scaled = v?.className === "VarianceScaling" && v.config ? `${v.config.scale} ${v.config.mode} ${v.config.distribution}` : "";
  const className = VARIANCE_SCALING_NAMES[scaled] ?? (v?.className ? (TO_KERAS_INITIALIZER[v.className] ?? v.className) : fallback);
  const plain = ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Zeros", "Ones"];
  return kerasObject(
    "keras.initializers",
    plain.includes(className) ? className : fallback,
    plain.includes(className) && !["Zeros", "Ones"].includes(className) ? { seed: v?.config?.seed ?? null } : {},
  );
}

function kerasRegularizer(value: unknown): Record<string, unknown> | null {
  const v = value as { className?: string; config?: { l1?: number; l2?: number } } | null;
  if (!v) return null;
  return kerasObject("keras.regularizers", "L1L2", { l1: v.config?.l1 ?? 0, l2: v.config?.l2 ?? 0 });
}

/** One tfjs layer as Keras 3 writes it in config.json; throws a one-sentence KerasFormatError for any other layer. */
export function toKerasLayer(layer: tf.layers.Layer): KerasLayerConfig {
  const c = layer.getConfig() as Record<string, unknown>;
  const className = layer.getClassName();
  const base = { name: layer.name, trainable: layer.trainable, dtype: "float32" };
  const entry = (config: Record<string, unknown>): KerasLayerConfig => ({
    module: "keras.layers",
    class_name: className,
    config: { ...base, ...config },
    registered_name: null,
  });
  switch (className) {
    case "Flatten":
      return entry({ data_format: "channels_last" });
    case "Dense":
      return entry({
        units: c.units,
        activation: kerasActivation(c.activation, layer.name),
        use_bias: c.useBias,
        kernel_initializer: kerasInitializer(c.kernelInitializer, "GlorotUniform"),
        bias_initializer: kerasInitializer(c.biasInitializer, "Zeros"),
        kernel_regularizer: kerasRegularizer(c.kernelRegularizer),
        bias_regularizer: kerasRegularizer(c.biasRegularizer),
      });
    case "BatchNormalization":
      return entry({ axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale });
    case "Dropout":
      return entry({ rate: c.rate, seed: null, noise_shape: null });
    case "LeakyReLU":
      return entry({ negative_slope: c.alpha });
    case "Activation":
      return entry({ activation: kerasActivation(c.activation, layer.name) });
    default:
      throw new KerasFormatError(
        `layer "${layer.name}" is a ${className}, which the Keras exchange does not cover; it handles ${SUPPORTED_LIST} layers in a Sequential model`,
      );
  }
}

function tfjsActivation(name: unknown, layer: string): string {
  const keras = typeof name === "string" ? name : (name as { config?: { name?: string } } | null)?.config?.name;
  if (!keras || !(KERAS_ACTIVATIONS.includes(keras) || keras in TO_TFJS_ACTIVATION))
    throw new KerasFormatError(`layer "${layer}" uses the activation ${JSON.stringify(name)}, which this project cannot run`);
  return TO_TFJS_ACTIVATION[keras] ?? keras;
}

function l2Of(regularizer: unknown): number {
  const r = regularizer as { class_name?: string; config?: { l2?: number } } | null;
  return r?.config?.l2 ?? 0;
}

/** A Keras layer config (Keras 3, or Keras 2 from TF 2.x's .h5) as the tfjs layer; `inputShape` for the first layer. */
export function fromKerasLayer(entry: KerasLayerConfig, inputShape?: number[]): tf.layers.Layer {
  const c = entry.config;
  const name = String(c.name);
  const first = inputShape ? { inputShape } : {};
  switch (entry.class_name) {
    case "Flatten":
      return tf.layers.flatten({ name, ...first });
    case "Dense": {
      const l2 = l2Of(c.kernel_regularizer);
      return tf.layers.dense({
        name,
        ...first,
        units: Number(c.units),
        activation: tfjsActivation(c.activation ?? "linear", name) as "relu",
        useBias: c.use_bias !== false,
        ...(l2 > 0 && { kernelRegularizer: tf.regularizers.l2({ l2 }) }),
      });
    }
    case "BatchNormalization":
      return tf.layers.batchNormalization({
        name,
        ...first,
        momentum: Number(c.momentum ?? 0.99),
        epsilon: Number(c.epsilon ?? 1e-3),
        center: c.center !== false,
        scale: c.scale !== false,
      });
    case "Dropout":
      return tf.layers.dropout({ name, ...first, rate: Number(c.rate) });
    case "LeakyReLU":
      // Keras 3 says negative_slope, Keras 2 alpha.
      return tf.layers.leakyReLU({ name, ...first, alpha: Number(c.negative_slope ?? c.alpha ?? 0.3) });
    case "Activation":
      return tf.layers.activation({ name, ...first, activation: tfjsActivation(c.activation, name) as "relu" });
    default:
      throw new KerasFormatError(
        `layer "${name}" is a ${entry.class_name}, which this project cannot run; it reads ${SUPPORTED_LIST} layers in a Sequential model`,
      );
  }
}

/** keras/src/utils/naming.py's to_snake_case: "BatchNormalization" -> "batch_normalization", "LeakyReLU" -> "leaky_re_lu". */
const toSnakeCase = (name: string): string =>
  name
    .replace(/\W+/g, "")
    .replace(/(.)([A-Z][a-z]+)/g, "$1_$2")
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .toLowerCase();

/**
 * Each layer's group in a .keras archive's model.weights.h5, for layers of these classes in the model's order.
 * Keras's saving_lib does not use a layer's name (auto-generated names such as dense_3 depend on what else the
 * session built): it names each layer after its class, in order, dense, dense_1, … (_save_container_state in
 * keras/src/saving/saving_lib.py), both when it saves and when it loads.
 */
export function savingLibNames(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((className) => {
    const base = toSnakeCase(className);
    const count = used.get(base);
    used.set(base, count === undefined ? 0 : count + 1);
    return count === undefined ? base : `${base}_${count + 1}`;
  });
}
