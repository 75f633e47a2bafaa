import { z } from "zod";
import { KERAS_LEARNING_RATES, OPTIMIZER_NAMES, type OptimizerName } from "./optimizers";
import type { Expect, SameType } from "./same-type";
import { LrSchedule, type LrScheduleInput } from "./schedules";
import { UserError } from "../errors/user-error";

/** Backends in order of preference; "auto" picks the first that loads. */
// tfjs-node first where it installs (the project's chosen engine); then the native BLAS engine built by setup,
// then wasm, then pure JS.
export const BACKENDS = ["tensorflow", "native", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

// One sentence for every way a thread count can be wrong (zod would say "too small" for 0).
const THREADS_EXPECTED = 'expected "auto" or a whole number of threads from 1 to 64';
const threadsCount = z.number().int(THREADS_EXPECTED).min(1, THREADS_EXPECTED).max(64, THREADS_EXPECTED);

/** Keras's activation names for the hidden Dense layers (the output stays softmax). */
export const ACTIVATIONS = ["relu", "elu", "selu", "leaky_relu", "gelu", "swish", "tanh", "sigmoid"] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];
/** Keras's kernel initializer names (biases are always zeros, as Keras's Dense). */
export const INITIALIZERS = ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform"] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

/** What the TensorBoard callback writes besides the epoch scalars, with the Keras TensorBoard arguments' names. */
export interface TensorBoardOptions {
  /**
   * Weight histograms every N epochs (Keras's histogram_freq); 0 = none. Keras's default is 0; here 1, as the
   * histograms of the tutorial's 266,610 weights cost milliseconds next to an epoch's seconds.
   */
  histogramFreq: number;
  /** "epoch" (Keras's default): epoch scalars only; N: also batch_loss and batch_accuracy every N batches. */
  updateFreq: "epoch" | number;
}

export const TensorBoardOptions = z
  .object({
    histogramFreq: z.number().int().min(0).default(1),
    updateFreq: z.union([z.literal("epoch"), z.number().int().min(1)]).default("epoch"),
  })
  .strict();

/**
 * Every setting of an experiment, resolved: the tutorial's values unless overridden, so that `resolveConfig()`
 * reproduces Géron's chapter 10 run. The defaults are the schema's below. A type literal, not an interface, so that a
 * config is a Record<string, unknown> where one is expected (config.json, comparisons).
 */
export type ExperimentConfig = {
  /** Passes over the 55,000 training images; the tutorial trains for 30. */
  epochs: number;
  /** Keras's default mini-batch size. */
  batchSize: number;
  /** Units of each hidden Dense layer (relu); the tutorial uses 300 then 100. [] is softmax regression (no hidden layer). */
  hiddenUnits: number[];
  /**
   * Step size; absent = Keras's default for the optimizer (KERAS_LEARNING_RATES): 0.01 for the tutorial's "sgd",
   * 0.001 for the others. resolveConfig fills it in, so a run's config.json records the rate that ran.
   */
  learningRate: number;
  /** Hidden layers' activation, by Keras's name; Géron's chapter 11 pairs "selu" with lecun_normal and standardize. */
  activation: ActivationName;
  /** Hidden and output kernels' initializer (Keras's Dense default, glorot_uniform); Géron pairs relu with he_normal. */
  initializer: InitializerName;
  /**
   * BatchNormalization (momentum 0.99, epsilon 1e-3, Keras's) after each hidden Dense and its activation
   * (true), or between the Dense and its activation ("before", the Dense then without bias, as Géron shows).
   */
  batchNorm: boolean | "before";
  /** Dropout rate after each hidden layer; 0 = none (the tutorial). Géron uses 0.2. */
  dropout: number;
  /** L2 kernel regularization factor of every Dense (Keras's regularizers.l2(l2)); 0 = none. */
  l2: number;
  /** Keras's optimizer name, with Keras 3's defaults for everything not set here. */
  optimizer: OptimizerName;
  /** sgd / rmsprop momentum (Keras's SGD default 0; Géron uses 0.9). */
  momentum: number;
  /** Nesterov momentum (sgd only, needs momentum > 0). */
  nesterov: boolean;
  /** adamw's decoupled weight decay; null = Keras's 0.004. */
  weightDecay: number | null;
  /** Learning-rate schedule (exponential, piecewise, one_cycle, reduce_on_plateau); null = constant rate. */
  lrSchedule: LrSchedule | null;
  /** Keras's clipnorm: each gradient tensor is rescaled to at most this L2 norm; null = off. */
  clipNorm: number | null;
  /** Keras's clipvalue: every gradient component is clipped to [-clipValue, clipValue]; null = off. */
  clipValue: number | null;
  /**
   * "scale": pixels / 255 (chapter 10). "standardize": minus the per-pixel mean, over the per-pixel std, of
   * the training set (chapter 11, for SELU).
   */
  normalize: "scale" | "standardize";
  /** The first N training images are held out for validation, as in the book. */
  validationSize: number;
  /** Seeds weight initialisation and the per-epoch shuffle, so runs repeat exactly. */
  seed: number;
  /** Where the four Fashion-MNIST .gz files are cached; a relative path is relative to the project folder, not the working directory. */
  dataDir: string;
  /**
   * Early stopping: stop after this many epochs without a better val_loss and restore the best
   * weights. null (the tutorial) trains all epochs.
   */
  patience: number | null;
  /**
   * TensorBoard logs in the run folder's logs/ (train/, validation/), as Keras's TensorBoard callback writes them;
   * false = none (`--no-tensorboard`).
   */
  tensorBoard: false | TensorBoardOptions;
  /** "auto" = tfjs-node if it loads, else wasm, else cpu. FASHION_ANN_BACKEND overrides (see ENVIRONMENT). */
  backend: "auto" | BackendName;
  /**
   * wasm backend: XNNPACK threads for the matrix products. "auto" = one per free core, at most 2
   * (a thread that shares its core stalls every step; results are identical to 1 thread). Use 1
   * when other work shares the cores. FASHION_ANN_THREADS overrides.
   */
  threads: "auto" | number;
  /**
   * wasm backend: tfjs's own matrix-product kernels instead of the project's faster ones. Only the
   * benchmark's baseline row wants this; FASHION_ANN_STOCK_KERNELS=1 sets it.
   */
  stockKernels: boolean;
};

/**
 * What resolveConfig accepts: any of ExperimentConfig's fields, the rest taking their defaults; the TensorBoard
 * options and a reduce_on_plateau schedule may leave out fields that have defaults too.
 */
export type ConfigOverrides = {
  [K in keyof ExperimentConfig]?: K extends "tensorBoard"
    ? false | Partial<TensorBoardOptions>
    : K extends "lrSchedule"
      ? LrScheduleInput | null
      : ExperimentConfig[K];
};

/** The schema behind ExperimentConfig: each field's check and default (the fields' meanings are documented above). */
export const ExperimentConfig = z
  .object({
    epochs: z.number().int().min(1).max(10_000).default(30),
    batchSize: z.number().int().min(1).default(32),
    hiddenUnits: z.array(z.number().int().min(1)).default([300, 100]),
    learningRate: z.number().gt(0).max(1e6).optional(),
    activation: z.enum(ACTIVATIONS).default("relu"),
    initializer: z.enum(INITIALIZERS).default("glorot_uniform"),
    batchNorm: z.union([z.boolean(), z.literal("before")]).default(false),
    dropout: z.number().min(0).lt(1, "dropout must be below 1 (1 would drop every unit)").default(0),
    l2: z.number().min(0).default(0),
    optimizer: z.enum(OPTIMIZER_NAMES).default("sgd"),
    momentum: z.number().min(0).max(1).default(0),
    nesterov: z.boolean().default(false),
    weightDecay: z.number().min(0).nullable().default(null),
    lrSchedule: LrSchedule.nullable().default(null),
    clipNorm: z.number().gt(0).nullable().default(null),
    clipValue: z.number().gt(0).nullable().default(null),
    normalize: z.enum(["scale", "standardize"]).default("scale"),
    validationSize: z.number().int().min(1).max(59_999).default(5000),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    dataDir: z.string().min(1).default("data"),
    patience: z.number().int().min(1).nullable().default(null),
    tensorBoard: z.union([z.literal(false), TensorBoardOptions]).default({ histogramFreq: 1, updateFreq: "epoch" }),
    backend: z.enum(["auto", ...BACKENDS]).default("auto"),
    threads: z.union([z.literal("auto"), threadsCount], { error: THREADS_EXPECTED }).default("auto"),
    stockKernels: z.boolean().default(false),
  })
  .strict();

// Compile-time only: the build fails here if a field is added to, dropped from or retyped in one side only. The schema
// leaves learningRate optional (absent = the optimizer's default), which resolveConfig fills in.
type _ConfigMatchesSchema = [
  Expect<SameType<ExperimentConfig, ResolvedOutput<z.output<typeof ExperimentConfig>>>>,
  Expect<SameType<ConfigOverrides, z.input<typeof ExperimentConfig>>>,
  Expect<SameType<TensorBoardOptions, z.output<typeof TensorBoardOptions>>>,
];
type ResolvedOutput<T> = { [K in keyof T]-?: K extends "learningRate" ? number : T[K] };

/** Thrown for any config value that does not fit the schema; the message names field, value and what is allowed. */
export class ConfigError extends UserError {
  override name = "ConfigError";
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, fromEnv: Record<string, unknown> = {}): string {
  const path = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
  if (issue.code === "unrecognized_keys") {
    const allowed = Object.keys(ExperimentConfig.shape).join(", ");
    return `unknown config field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; allowed: ${allowed}`;
  }
  const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], input);
  const variable = Object.entries(ENVIRONMENT).find(([, field]) => field === issue.path[0] && field in fromEnv)?.[0];
  return `${variable ? `${variable} (config ${path})` : path || "config"}: ${issue.message}, got ${JSON.stringify(got)}`;
}

/**
 * The environment variables that override config fields. They are read here and nowhere else, and folded
 * into the resolved config, so the config.json a run saves says what really ran.
 */
const ENVIRONMENT = {
  FASHION_ANN_BACKEND: "backend",
  FASHION_ANN_THREADS: "threads",
  FASHION_ANN_STOCK_KERNELS: "stockKernels",
} as const satisfies Record<string, keyof ExperimentConfig>;

/** The overrides that the environment sets, as config values (strings that look like numbers become numbers). */
function environmentOverrides(env: NodeJS.ProcessEnv = process.env): Partial<Record<keyof ExperimentConfig, unknown>> {
  const out: Partial<Record<keyof ExperimentConfig, unknown>> = {};
  for (const [name, field] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    if (field === "stockKernels")
      out[field] = value === "1" || value === "true" ? true : value === "0" || value === "false" ? false : value;
    else out[field] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** The environment a child process gets: this process's, with `extra` on top (children read their own config). */
export function childEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/**
 * Tests only: the named point (lib/io/kill-point.ts) where this process announces itself and stops, so a test can
 * SIGKILL it exactly there (FASHION_ANN_TEST_KILL_POINT=rename:trials.csv); unset in normal use.
 */
export function testKillPoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.FASHION_ANN_TEST_KILL_POINT || undefined;
}

/** Chromium for rendering figures: Debian's, or FASHION_ANN_CHROMIUM. Not an experiment setting, so not a config field. */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env.FASHION_ANN_CHROMIUM || "/usr/bin/chromium";
}

/**
 * How figures are rendered: "daemon" (default) asks the project's shared render daemon, started in the
 * background on first need; "inprocess" launches a Chromium inside this process, as before the daemon
 * (FASHION_ANN_RENDERER=inprocess, e.g. where a Unix socket cannot be used). Anything else is an error.
 */
export function rendererMode(env: NodeJS.ProcessEnv = process.env): "daemon" | "inprocess" {
  const value = env.FASHION_ANN_RENDERER || "daemon";
  if (value !== "daemon" && value !== "inprocess") {
    throw new ConfigError(`FASHION_ANN_RENDERER must be "daemon" or "inprocess", got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Where caches shared by every checkout go (the decoded dataset): FASHION_ANN_CACHE_DIR, else
 * `$XDG_CACHE_HOME/fashion-ann`, else `~/.cache/fashion-ann`.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.FASHION_ANN_CACHE_DIR || `${env.XDG_CACHE_HOME || `${env.HOME || "/tmp"}/.cache`}/fashion-ann`;
}

/** Where the user's private runtime files go (the render daemon's socket): XDG_RUNTIME_DIR if set, else the temp folder. */
export function runtimeDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.XDG_RUNTIME_DIR || undefined;
}

/**
 * Where a value of a resolved config came from, for the fields that differ from the defaults: "override" (a flag,
 * --set, a notebook's or a test's argument), "env FASHION_ANN_THREADS" (an environment variable), or "file" (a run
 * folder's config.json, read back by --resume). config.json records it as `sources`.
 */
export type ConfigSources = Partial<Record<keyof ExperimentConfig, string>>;

/** The sources of configs this module resolved; a config copied with a spread falls back to sourcesOf's guess. */
const resolvedSources = new WeakMap<ExperimentConfig, ConfigSources>();

/**
 * Resolves overrides against the tutorial defaults, with the environment (ENVIRONMENT) between them: an explicit
 * value (a flag, --set, an argument) beats the environment, which beats the default, so a search's threads=1 per
 * trial holds even with FASHION_ANN_THREADS exported. Throws ConfigError naming every bad field (or variable) with
 * its value and what is allowed. `origin` names where the overrides came from ("file": a run's config.json).
 */
export function resolveConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
  origin: "override" | "file" = "override",
): ExperimentConfig {
  // A config.json read back carries the record of its sources, which is not a setting.
  const { sources: _recorded, ...given } = overrides as ConfigOverrides & { sources?: unknown };
  const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const fromEnv = environmentOverrides(env);
  for (const field of Object.keys(explicit)) delete fromEnv[field as keyof ExperimentConfig];
  const input = { ...fromEnv, ...explicit };
  const result = ExperimentConfig.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => describeIssue(i, input, fromEnv)).join("\n"));
  }
  const config = { ...result.data, learningRate: result.data.learningRate ?? KERAS_LEARNING_RATES[result.data.optimizer] };
  const problem = combinationProblem(config);
  if (problem) throw new ConfigError(problem);
  if (config.batchSize > 60_000 - config.validationSize) {
    throw new ConfigError(
      `batchSize: must be at most the ${60_000 - config.validationSize} training images left after validation, got ${config.batchSize}`,
    );
  }
  resolvedSources.set(config, nonDefault(config, { ...envSources(fromEnv), ...sameSource(explicit, origin) }));
  return config;
}

const sameSource = (fields: object, source: string): ConfigSources => Object.fromEntries(Object.keys(fields).map((k) => [k, source]));

function envSources(fromEnv: Partial<Record<keyof ExperimentConfig, unknown>>): ConfigSources {
  const variables = Object.entries(ENVIRONMENT).filter(([, field]) => field in fromEnv);
  return Object.fromEntries(variables.map(([variable, field]) => [field, `env ${variable}`]));
}

/** Only the fields whose value differs from the default need a source. */
function nonDefault(config: ExperimentConfig, sources: ConfigSources): ConfigSources {
  // The learning rate's default is the optimizer's (Keras's), as resolveConfig fills it in.
  const defaults = { ...ExperimentConfig.parse({}), learningRate: KERAS_LEARNING_RATES[config.optimizer] } as Record<string, unknown>;
  const differs = (k: string) => JSON.stringify((config as Record<string, unknown>)[k]) !== JSON.stringify(defaults[k]);
  return Object.fromEntries(Object.entries(sources).filter(([k]) => differs(k)));
}

/**
 * Where each non-default value of `config` came from. A config resolveConfig returned knows; a copy (a spread with
 * epochs changed) is matched against the environment: a value equal to its variable's is "env ...", else "override".
 */
export function sourcesOf(config: ExperimentConfig, env: NodeJS.ProcessEnv = process.env): ConfigSources {
  const known = resolvedSources.get(config);
  if (known) return known;
  const fromEnv = environmentOverrides(env);
  const guessed: ConfigSources = sameSource(config, "override");
  for (const [field, source] of Object.entries(envSources(fromEnv)))
    if (JSON.stringify(fromEnv[field as keyof ExperimentConfig]) === JSON.stringify(config[field as keyof ExperimentConfig]))
      guessed[field as keyof ExperimentConfig] = source;
  return nonDefault(config, guessed);
}

/**
 * The overrides that resume a run as it ran: its config.json's values, except those the environment or the defaults
 * gave it (config.json's `sources`), which the environment of the resuming process decides again.
 */
export function resumeOverrides(saved: Record<string, unknown>): ConfigOverrides {
  const sources = (saved.sources ?? {}) as Record<string, string>;
  const envFields: string[] = Object.values(ENVIRONMENT);
  const kept = Object.entries(saved).filter(
    ([k]) => k !== "sources" && !(envFields.includes(k) && (sources[k] === undefined || sources[k]!.startsWith("env "))),
  );
  return Object.fromEntries(kept) as ConfigOverrides;
}

/** The one sentence for a combination of fields that each pass the schema but not together, or null. */
function combinationProblem(c: ExperimentConfig): string | null {
  if (c.nesterov && c.momentum === 0)
    return "nesterov: true needs momentum > 0 (Nesterov is a kind of momentum), got momentum 0; set e.g. momentum 0.9";
  if (c.nesterov && c.optimizer !== "sgd")
    return `nesterov: applies only to optimizer "sgd", got optimizer "${c.optimizer}"; set nesterov false`;
  if (c.momentum !== 0 && c.optimizer !== "sgd" && c.optimizer !== "rmsprop")
    return `momentum: applies only to optimizer "sgd" or "rmsprop", got momentum ${c.momentum} with "${c.optimizer}"; set momentum 0`;
  if (c.weightDecay !== null && c.optimizer !== "adamw")
    return `weightDecay: applies only to optimizer "adamw", got weightDecay ${c.weightDecay} with "${c.optimizer}"; use adamw or set it to null`;
  if (c.clipNorm !== null && c.clipValue !== null)
    return `clipNorm and clipValue: set one of them, as Keras accepts only one, got clipNorm ${c.clipNorm} and clipValue ${c.clipValue}`;
  return null;
}
