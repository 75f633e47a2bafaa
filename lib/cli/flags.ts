import * as path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { ACTIVATIONS, BACKENDS, type ConfigOverrides, INITIALIZERS } from "../config";
import { OPTIMIZER_NAMES } from "../config/optimizers";
import { defaultRunName, projectPath } from "../io/paths";

export function integer(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} expects an integer, got "${value}"`);
    return Number(value);
  };
}

export function number(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
    return n;
  };
}

/** A positive integer flag (counts: trials, epochs, trainers). */
export function positive(flag: string) {
  return (value: string): number => {
    const n = integer(flag)(value);
    if (n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got "${value}"`);
    return n;
  };
}

/**
 * A duration flag in seconds (fractions allowed: 0.5), > 0: every flag that takes seconds parses with this, so
 * "0", "-1", "10s" and "" all get the same sentence.
 */
export function seconds(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || !(n > 0))
      throw new InvalidArgumentError(`${flag} expects a number of seconds > 0 (such as 10 or 0.5), got "${value}"`);
    return n;
  };
}

function integerList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((p) => !/^-?\d+$/.test(p)))
      throw new InvalidArgumentError(`${flag} expects comma-separated integers like 300,100, got "${value}"`);
    return parts.map(Number);
  };
}

/** Every ExperimentConfig field as a flag; defaults stay in the schema, so unset flags fall back to it. */
export function withConfigFlags(cmd: Command): Command {
  return cmd
    .option("--epochs <n>", "training epochs (default 30)", integer("--epochs"))
    .option("--batch-size <n>", "mini-batch size (default 32)", integer("--batch-size"))
    .option("--hidden <units>", "hidden layer sizes, comma-separated (default 300,100)", integerList("--hidden"))
    .option(
      "--learning-rate <lr>",
      "learning rate (default Keras's for the optimizer: 0.01 for sgd, 0.001 for the others)",
      number("--learning-rate"),
    )
    .option("--validation-size <n>", "first N training images held out for validation (default 5000)", integer("--validation-size"))
    .option("--seed <n>", "seed for weights and shuffling (default 42)", integer("--seed"))
    .option(
      "--patience <n>",
      "early stopping: epochs without a better val_loss before stopping, restoring the best weights (default off)",
      integer("--patience"),
    )
    .addOption(new Option("--activation <name>", "hidden layers' activation (default relu)").choices(ACTIVATIONS))
    .addOption(new Option("--initializer <name>", "hidden kernels' initializer (default glorot_uniform)").choices(INITIALIZERS))
    .option(
      "--batch-norm [where]",
      'BatchNormalization after each hidden Dense; "before" puts it before the activation (default off)',
      batchNormMode,
    )
    .option("--dropout <rate>", "dropout rate after each hidden layer (default 0)", number("--dropout"))
    .option("--l2 <factor>", "L2 kernel regularization (default 0)", number("--l2"))
    .addOption(new Option("--optimizer <name>", "Keras optimizer, Keras defaults (default sgd)").choices(OPTIMIZER_NAMES))
    .option("--momentum <m>", "sgd/rmsprop momentum (default 0)", number("--momentum"))
    .option("--nesterov", "Nesterov momentum (sgd with --momentum)")
    .option("--weight-decay <wd>", "adamw weight decay (default Keras's 0.004)", number("--weight-decay"))
    .option(
      "--lr-schedule <json>",
      'learning-rate schedule as JSON, e.g. \'{"type":"exponential","decaySteps":17200,"decayRate":0.1}\' (default none)',
      jsonValue("--lr-schedule"),
    )
    .option("--clip-norm <n>", "clip each gradient's L2 norm (Keras clipnorm; default off)", number("--clip-norm"))
    .option("--clip-value <v>", "clip each gradient component to ±v (Keras clipvalue; default off)", number("--clip-value"))
    .addOption(
      new Option("--normalize <how>", "pixels: scale (/255, default) or standardize (per-pixel mean/std)").choices([
        "scale",
        "standardize",
      ]),
    )
    .option("--data-dir <dir>", "dataset cache folder, relative to the project (default data)")
    .addOption(
      new Option("--backend <name>", "tfjs backend (default auto: the first that starts of tensorflow, native, wasm, cpu)").choices([
        "auto",
        ...BACKENDS,
      ]),
    )
    .option("--threads <n>", "native and wasm engines' threads, or auto (default auto: one per free core, at most 2)", threadCount)
    .option("--no-tensorboard", "write no TensorBoard logs (default: logs/train and logs/validation in the run folder)");
}

function batchNormMode(value: string): boolean | "before" {
  const v = value.trim();
  if (v === "true" || v === "after") return true;
  if (v === "false") return false;
  if (v === "before") return "before";
  throw new InvalidArgumentError(`--batch-norm expects nothing, true, false or before, got "${value}"`);
}

function jsonValue(flag: string) {
  return (value: string): unknown => {
    try {
      return JSON.parse(value);
    } catch {
      throw new InvalidArgumentError(`${flag} expects JSON, got "${value}"`);
    }
  };
}

/** A command-line value as JSON when it parses (numbers, booleans, arrays, objects, null), else the string itself. */
export function jsonOrString(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // not JSON: keep the string (dataDir=..., backend=wasm)
  }
}

function threadCount(value: string): number | "auto" {
  if (value.trim() === "auto") return "auto";
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1)
    throw new InvalidArgumentError(`--threads expects a positive integer or auto, got "${value}"`);
  return Number(value);
}

export function overridesFrom(opts: Record<string, unknown>): ConfigOverrides {
  const map: Record<string, keyof ConfigOverrides> = {
    epochs: "epochs",
    batchSize: "batchSize",
    hidden: "hiddenUnits",
    learningRate: "learningRate",
    validationSize: "validationSize",
    seed: "seed",
    dataDir: "dataDir",
    patience: "patience",
    activation: "activation",
    initializer: "initializer",
    batchNorm: "batchNorm",
    dropout: "dropout",
    l2: "l2",
    optimizer: "optimizer",
    momentum: "momentum",
    nesterov: "nesterov",
    weightDecay: "weightDecay",
    lrSchedule: "lrSchedule",
    clipNorm: "clipNorm",
    clipValue: "clipValue",
    normalize: "normalize",
    backend: "backend",
    threads: "threads",
  };
  const out: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(map)) if (opts[flag] !== undefined) out[field] = opts[flag];
  // commander sets a --no-x flag's option to true when it is absent; only its presence (false) overrides.
  if (opts.tensorboard === false) out.tensorBoard = false;
  return out as ConfigOverrides;
}

export function runDirFor(out: string | undefined): string {
  return out ? path.resolve(out) : projectPath(path.join("runs", defaultRunName()));
}

/**
 * `--set key=value` (repeatable), papermill-style: the value is JSON when it parses (numbers, arrays,
 * null), else a string. Keys are config field names; resolveConfig refuses unknown ones.
 */
export function collectSet(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`--set expects key=value (e.g. --set learningRate=0.05), got "${value}"`);
  const key = value.slice(0, eq).trim();
  return { ...previous, [key]: jsonOrString(value.slice(eq + 1).trim()) };
}

/** Config flags plus --set pairs; a field given both ways is ambiguous and refused. */
export function overridesWithSet(opts: Record<string, unknown>): ConfigOverrides {
  const flags = overridesFrom(opts) as Record<string, unknown>;
  const set = (opts.set ?? {}) as Record<string, unknown>;
  const both = Object.keys(set).filter((k) => k in flags);
  if (both.length) throw new InvalidArgumentError(`${both.join(", ")} given both as a flag and with --set; use one`);
  return { ...flags, ...set } as ConfigOverrides;
}
