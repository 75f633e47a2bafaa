// Reads a Keras model into tfjs: Keras 3's `.keras` archive, or the HDF5 file `model.save("x.h5")` writes (TF 2.x's
// Keras 2 and Keras 3's legacy saver share its layout: root attributes model_config and training_config, and
// model_weights/<layer>/ with a weight_names attribute listing the layer's datasets in order).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { strFromU8, unzipSync } from "fflate";
import { withPathErrors } from "../io/fs-errors";
import { KERAS_LEARNING_RATES } from "../optimizers";
import type { OptimizerName } from "../config/optimizers";
import type { KerasCompileSpec } from "./archive";
import { KerasFormatError } from "./errors";
import { h5wasm, type H5Module } from "./h5";
import { fromKerasLayer, type KerasLayerConfig, savingLibNames } from "./layers";
import type { KerasOptimizerVariable } from "./optimizer-state";

export interface KerasModelFile {
  /** The model, not compiled. */
  model: tf.Sequential;
  format: "keras" | "h5";
  /** The Keras version that wrote the file, when it says. */
  kerasVersion?: string;
  /** The optimizer Keras compiled it with, when the file records one this project has. */
  compile?: KerasCompileSpec;
  /** The optimizer's variables as Keras saved them (optimizer/vars of a .keras archive), when it saved any. */
  optimizerVariables?: KerasOptimizerVariable[];
  /** Why the file carries no optimizer state this project reads, when it carries none. */
  noOptimizerState?: string;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

type H5File = InstanceType<H5Module["File"]>;
/** A layer's weights in order, as float32 arrays with their shapes. */
type WeightReader = (layer: string) => { data: Float32Array; shape: number[] }[];

/** Reads `file` (.keras or .h5) as a tfjs Sequential model; a bad file, a non-Keras HDF5 or an unsupported layer gets one sentence. */
export async function readKerasModel(file: string): Promise<KerasModelFile> {
  const bytes = withPathErrors(() => fs.readFileSync(file), file);
  if (startsWith(bytes, ZIP_MAGIC)) return readArchive(file, bytes);
  if (startsWith(bytes, HDF5_MAGIC)) return withH5(file, bytes, (h5) => readLegacyH5(file, h5));
  throw new KerasFormatError(
    `${file} is neither a Keras .keras archive (a zip) nor an HDF5 file; expected a model saved by Keras's model.save`,
  );
}

async function readArchive(file: string, bytes: Uint8Array): Promise<KerasModelFile> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => ["config.json", "metadata.json", "model.weights.h5"].includes(f.name) });
  } catch (err) {
    throw new KerasFormatError(`${file} is a damaged zip archive (${(err as Error).message}); save the model again`);
  }
  const config = entries["config.json"];
  const weights = entries["model.weights.h5"];
  if (!config || !weights)
    throw new KerasFormatError(`${file} is a zip archive without config.json and model.weights.h5, so not a Keras 3 .keras model`);
  const json = parseJson(file, "config.json", strFromU8(config)) as ModelConfig;
  const metadata = entries["metadata.json"]
    ? (parseJson(file, "metadata.json", strFromU8(entries["metadata.json"])) as { keras_version?: string })
    : {};
  return withH5(file, weights, (h5) => {
    const all = (json.config.layers ?? []) as KerasLayerConfig[];
    const names = savingLibNames(all.map((l) => l.class_name));
    const groups = new Map(all.map((l, i) => [String((l.config as { name?: unknown }).name), names[i]!]));
    const read: WeightReader = (layer) => {
      const group = groups.get(layer) ?? layer;
      const vars = h5.get(`layers/${group}/vars`) as H5Group | null;
      if (!vars) return [];
      const keys = vars.keys().sort((a, b) => Number(a) - Number(b));
      return keys.map((k) => dataset(file, vars.get(k), `layers/${group}/vars/${k}`));
    };
    const model = buildSequential(file, json, read);
    const compile = compileSpec(json.compile_config?.optimizer);
    const optimizerVariables = readOptimizerVariables(file, h5);
    return {
      model,
      format: "keras",
      kerasVersion: metadata.keras_version,
      compile,
      ...(compile && optimizerVariables.length >= 2
        ? { optimizerVariables }
        : { noOptimizerState: compile ? "Keras saved it before any step of fit" : "it was saved without compile" }),
    };
  });
}

/** optimizer/vars/0… of a .keras archive's weights, in Keras's order (iteration, learning rate, slots). */
function readOptimizerVariables(file: string, h5: H5File): KerasOptimizerVariable[] {
  const vars = h5.get("optimizer/vars") as H5Group | null;
  if (!vars) return [];
  const keys = vars.keys().sort((a, b) => Number(a) - Number(b));
  return keys.map((k) => optimizerVariable(file, vars.get(k), `optimizer/vars/${k}`));
}

/** One optimizer variable's dataset: the int64 iteration count stays int64, everything else becomes float32. */
function optimizerVariable(file: string, entity: unknown, where: string): KerasOptimizerVariable {
  const d = entity as { value?: unknown; shape?: number[] } | null;
  if (!d?.shape) throw new KerasFormatError(`${file} has no dataset at ${where}; the file is damaged`);
  const value = d.value;
  // h5wasm gives a scalar as a plain number or bigint, an array as a typed array.
  const data =
    typeof value === "bigint"
      ? BigInt64Array.of(value)
      : value instanceof BigInt64Array
        ? value
        : Float32Array.from(typeof value === "number" ? [value] : (value as ArrayLike<number>));
  return { data, shape: d.shape };
}

function readLegacyH5(file: string, h5: H5File): KerasModelFile {
  const attr = (name: string) => (name in h5.attrs ? h5.attrs[name]!.value : undefined);
  const modelConfig = attr("model_config");
  if (typeof modelConfig !== "string")
    throw new KerasFormatError(
      `${file} is an HDF5 file without a Keras model_config, so not a model saved by Keras's model.save (weights alone, from save_weights, cannot be imported)`,
    );
  const json = parseJson(file, "model_config", modelConfig) as ModelConfig;
  const training = attr("training_config");
  const trainingConfig =
    typeof training === "string" ? (parseJson(file, "training_config", training) as { optimizer_config?: KerasObject }) : {};
  const read: WeightReader = (layer) => {
    const group = h5.get(`model_weights/${layer}`) as H5Group | null;
    if (!group) return [];
    const names = ("weight_names" in group.attrs ? group.attrs.weight_names!.value : []) as unknown;
    // An empty list is stored as a float64 array, a list of names as strings.
    const list = typeof names === "string" ? [names] : Array.from(names as ArrayLike<unknown>);
    return list.map((n) => dataset(file, group.get(String(n)), `model_weights/${layer}/${String(n)}`));
  };
  const version = attr("keras_version");
  const compile = compileSpec(trainingConfig.optimizer_config);
  const state = compile ? readLegacyOptimizerWeights(file, h5) : "it was saved without compile";
  return {
    model: buildSequential(file, json, read),
    format: "h5",
    ...(typeof version === "string" && { kerasVersion: version }),
    compile,
    ...(typeof state === "string" ? { noOptimizerState: state } : { optimizerVariables: state }),
  };
}

/** A list attribute of string names; Keras splits one longer than HDF5's 64 KiB header limit into `name0`, `name1`, …. */
function namesAttribute(group: H5Group, name: string): string[] {
  const list = (value: unknown): string[] =>
    typeof value === "string" ? [value] : Array.from(value as ArrayLike<unknown>, (n) => String(n));
  if (name in group.attrs) return list(group.attrs[name]!.value);
  const chunks: string[] = [];
  for (let i = 0; `${name}${i}` in group.attrs; i++) chunks.push(...list(group.attrs[`${name}${i}`]!.value));
  return chunks;
}

/**
 * The optimizer_weights group that model.save("x.h5") writes with include_optimizer (its default): Keras 3 stores
 * optimizer.variables in order under their paths (`adam/iteration`, `adam/learning_rate`, then the slots as
 * `adam/<variable path>_momentum`…), the same list, in the same order, as a .keras archive's optimizer/vars. Keras 2
 * (TF 2.15 and before) names TF 2's slots (`Adam/iter:0`, `Adam/dense/kernel/m:0`) in another order, which is not
 * mapped: those files get the sentence why (as does a state whose count does not fit the model, in keras-run.ts).
 */
function readLegacyOptimizerWeights(file: string, h5: H5File): KerasOptimizerVariable[] | string {
  const group = h5.get("optimizer_weights") as H5Group | null;
  if (!group) return "it was saved with include_optimizer=False or before any step of fit";
  const names = namesAttribute(group, "weight_names");
  if (!(names[0]?.endsWith("/iteration") && names[1]?.endsWith("/learning_rate")))
    return `its optimizer weights (${names.slice(0, 2).join(", ")}, …) are in Keras 2's layout (TF 2.15 and before), which is not read`;
  return names.map((name) => optimizerVariable(file, group.get(name), `optimizer_weights/${name}`));
}

interface KerasObject {
  class_name: string;
  config: Record<string, unknown>;
}
interface ModelConfig extends KerasObject {
  compile_config?: { optimizer?: KerasObject | string };
}
interface H5Group {
  keys(): string[];
  get(name: string): unknown;
  attrs: Record<string, { value: unknown }>;
}

function parseJson(file: string, what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new KerasFormatError(`${file}: its ${what} is not valid JSON (${(err as Error).message}); save the model again`);
  }
}

function dataset(file: string, entity: unknown, where: string): { data: Float32Array; shape: number[] } {
  const d = entity as { value?: unknown; shape?: number[] } | null;
  if (!d?.shape || !ArrayBuffer.isView(d.value))
    throw new KerasFormatError(`${file} lacks the weight dataset ${where} its model config promises; the file is damaged`);
  return { data: Float32Array.from(d.value as unknown as ArrayLike<number>), shape: d.shape };
}

/** Opens HDF5 bytes with h5wasm through a temp file (its Node build works on real paths) and closes it after `use`. */
async function withH5<T>(file: string, bytes: Uint8Array, use: (h5: H5File) => T): Promise<T> {
  const h5 = await h5wasm();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-keras-"));
  const copy = path.join(tmp, "weights.h5");
  fs.writeFileSync(copy, bytes);
  let opened: H5File;
  try {
    opened = new h5.File(copy, "r");
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new KerasFormatError(`${file} is a damaged HDF5 file (${(err as Error).message}); save the model again`);
  }
  try {
    return use(opened);
  } finally {
    opened.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The input shape without the batch axis: Keras 3's InputLayer batch_shape, Keras 2's batch_input_shape (on any first layer). */
function inputShapeOf(layers: KerasLayerConfig[]): number[] | undefined {
  const c = layers[0]?.config ?? {};
  const shape = (c.batch_shape ?? c.batch_input_shape) as (number | null)[] | undefined;
  return shape?.slice(1).map(Number);
}

function buildSequential(file: string, json: ModelConfig, read: WeightReader): tf.Sequential {
  if (json.class_name !== "Sequential")
    throw new KerasFormatError(`${file} holds a ${json.class_name} model; only Sequential models can be imported`);
  const all = (json.config.layers ?? []) as KerasLayerConfig[];
  const inputShape = inputShapeOf(all);
  if (!inputShape?.length || inputShape.some((d) => !Number.isFinite(d) || d <= 0))
    throw new KerasFormatError(`${file}: its Sequential model has no fixed input shape; build it with keras.Input((28, 28)) before saving`);
  const layers = all.filter((l) => l.class_name !== "InputLayer");
  const model = tf.sequential({ name: String(json.config.name ?? "sequential") });
  layers.forEach((l, i) => model.add(fromKerasLayer(l, i === 0 ? inputShape : undefined)));
  for (const layer of model.layers) setWeights(file, layer, read(layer.name));
  return model;
}

function setWeights(file: string, layer: tf.layers.Layer, weights: { data: Float32Array; shape: number[] }[]): void {
  const expected = layer.weights.map((w) => w.shape);
  const same = weights.length === expected.length && weights.every((w, i) => w.shape.join() === expected[i]!.join());
  if (!same)
    throw new KerasFormatError(
      `${file}: layer "${layer.name}" has weights of shapes ${JSON.stringify(weights.map((w) => w.shape))}, its config needs ${JSON.stringify(expected)}; the file is damaged`,
    );
  layer.setWeights(weights.map((w) => tf.tensor(w.data, w.shape, "float32")));
}

const OPTIMIZER_NAMES: Record<string, OptimizerName> = {
  sgd: "sgd",
  rmsprop: "rmsprop",
  adam: "adam",
  adamax: "adamax",
  adagrad: "adagrad",
  adadelta: "adadelta",
  nadam: "nadam",
  adamw: "adamw",
};

/** The recorded optimizer in this project's names; undefined for one it has not (the import then uses the tutorial's SGD). */
function compileSpec(optimizer: KerasObject | string | undefined): KerasCompileSpec | undefined {
  if (!optimizer) return undefined;
  const o = typeof optimizer === "string" ? { class_name: optimizer, config: {} } : optimizer;
  const name = OPTIMIZER_NAMES[o.class_name.toLowerCase()];
  if (!name) return undefined;
  const c = o.config;
  const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
  return {
    optimizer: name,
    // A schedule (a dict) is not carried over: the optimizer's own default rate stands in for it.
    learningRate: num(c.learning_rate) ?? num(c.lr) ?? KERAS_LEARNING_RATES[name],
    momentum: num(c.momentum) ?? 0,
    nesterov: c.nesterov === true,
    weightDecay: name === "adamw" ? (num(c.weight_decay) ?? 0.004) : null,
    clipNorm: num(c.clipnorm) ?? null,
    clipValue: num(c.clipvalue) ?? null,
  };
}
