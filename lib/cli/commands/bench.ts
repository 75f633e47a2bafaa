import { InvalidArgumentError, type Command } from "commander";
import { BENCH_BACKENDS, BenchError, DEFAULT_CPU_BATCHES, formatTable, parseBackendList, type BenchBackend } from "../../bench/report";
import { formatLatencyTable, latencySummaryLine } from "../../bench/latency-report";
import { SAMPLER_OBJECTIVES, type SamplerObjectiveName } from "../../bench/samplers/names";
import { collectSet, integer } from "../flags";

/** A flag's integer parser with a lower bound, so `--epochs 0` is refused before any child starts. */
export function integerAtLeast(flag: string, min: number) {
  const parse = integer(flag);
  return (value: string): number => {
    const n = parse(value);
    if (n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, got ${n}`);
    return n;
  };
}

export function backendList(value: string): BenchBackend[] {
  try {
    return parseBackendList(value);
  } catch (err) {
    if (err instanceof BenchError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** --objectives: known names, in the order given, without duplicates. */
function objectiveList(value: string): SamplerObjectiveName[] {
  const names = [
    ...new Set(
      value
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean),
    ),
  ];
  const bad = names.find((n) => !(SAMPLER_OBJECTIVES as readonly string[]).includes(n));
  if (bad !== undefined || names.length === 0)
    throw new InvalidArgumentError(
      `--objectives: "${bad ?? value}" is not an objective; expected some of ${SAMPLER_OBJECTIVES.join(", ")}`,
    );
  return names as SamplerObjectiveName[];
}

/** `batchSize` -> `--batch-size`. */
const flagOf = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description(
      "time an epoch of the tutorial model on each backend and on the PyTorch and Keras peers; or with --latency what notebook cells and commands wait for, --samplers how the search samplers compare with Optuna, --keras-target and --fidelity how the engine compares with Keras; print a table (stdout), progress on stderr",
    )
    .option("--epochs <n>", "timed epochs per backend", integerAtLeast("--epochs", 1), 1)
    .option("--batch-size <n>", "mini-batch size", integerAtLeast("--batch-size", 1), 32)
    .option(
      "--backends <list>",
      `comma-separated, in order (default ${BENCH_BACKENDS.join(",")}; wasm-1thread and wasm-stock run 1 wasm thread)`,
      backendList,
    )
    .option(
      "--cpu-batches <n>",
      "cpu backend: time this many batches and extrapolate the epoch",
      integerAtLeast("--cpu-batches", 2),
      DEFAULT_CPU_BATCHES,
    )
    .option("--seed <n>", "seed for weights and batch order (default 42)", integerAtLeast("--seed", 0))
    .option("--data-dir <dir>", "dataset cache folder, relative to the project (default data)")
    .option("--json <file>", "also write the results as JSON")
    .option("--set <key=value>", "config field for every row, repeatable (e.g. --set optimizer=adam --set dropout=0.2)", collectSet);
  withModeOptions(bench).action(benchAction);
}

/** The flags that switch bench from epochs per backend to another measurement, with their own settings. */
function withModeOptions(cmd: Command): Command {
  return cmd
    .option(
      "--latency",
      "instead of epochs: time importing the library, startNotebook, a first and a later figure cell, notebook 04's import and startNotebook cells in the project kernel (tslab's compile included), --help and a bad flag, each in fresh processes, against issue 23's targets",
    )
    .option("--repeats <n>", "--latency: fresh processes per step (default 5)", integerAtLeast("--repeats", 1))
    .option(
      "--samplers",
      "instead of epochs: our tpe, bayesian and random samplers and Optuna 5.0's TPESampler on Branin, Hartmann-6 and a small Fashion-MNIST MLP, median and IQR of the best value and ms per suggestion (docs/tuning.md)",
    )
    .option(
      "--seeds <n>",
      "--samplers: studies per sampler and function (default 20); --fidelity: seeds per engine, 42 upwards (default 5)",
      integerAtLeast("--seeds", 1),
    )
    .option("--trials <n>", "--samplers: trials per study (default 50)", integerAtLeast("--trials", 1))
    .option(
      "--objectives <list>",
      `--samplers: comma-separated objectives (default ${SAMPLER_OBJECTIVES.join(",")}; fashion trains the MLP on a subset)`,
      objectiveList,
    )
    .option(
      "--keras-target",
      "time the tutorial config and adam + dropout 0.2 + BN on the default engine, PyTorch and Keras in one sitting, and say whether the engine takes <= 0.25x Keras's s/epoch on both",
    )
    .option(
      "--fidelity",
      "instead: train the tutorial config with --seeds seeds on the default engine and in Keras (--epochs each, default 30) and say whether test accuracy and loss agree within the noise between seeds",
    );
}

/** bench's measurements: the flag that picks each (none: epochs per backend), in the order they are tried. */
type BenchMode = "samplers" | "latency" | "fidelity" | "kerasTarget" | "epochs";
const MODE_FLAGS: readonly BenchMode[] = ["samplers", "latency", "fidelity", "kerasTarget"];

/**
 * The one table of which flags each mode takes (commander's option names). A flag given on the command line that
 * its mode does not take is refused in one sentence naming it, so no mode silently ignores a flag.
 */
const MODE_TAKES: Record<BenchMode, readonly string[]> = {
  samplers: ["seeds", "trials", "objectives", "dataDir", "json"],
  latency: ["repeats", "json"],
  fidelity: ["seeds", "epochs", "seed", "dataDir", "json"],
  kerasTarget: ["epochs", "batchSize", "seed", "dataDir", "json"],
  epochs: ["epochs", "batchSize", "backends", "cpuBatches", "seed", "dataDir", "json", "set"],
};

const listed = (flags: readonly string[]): string =>
  flags.length === 1 ? flags[0]! : `${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}`;

/**
 * The mode the flags name, once every flag given fits it: a mode flag names its mode; a flag without one must be an
 * epoch-benchmark flag, else the error says which modes take it.
 */
export function benchMode(given: readonly string[]): BenchMode {
  const mode = MODE_FLAGS.find((m) => given.includes(m)) ?? "epochs";
  const extra = given.filter((n) => n !== mode && !MODE_TAKES[mode].includes(n));
  if (extra.length === 0) return mode;
  if (mode === "epochs") {
    const modes = MODE_FLAGS.filter((m) => MODE_TAKES[m].includes(extra[0]!)).map(flagOf);
    throw new InvalidArgumentError(`${flagOf(extra[0]!)} goes with ${modes.join(" or ")}`);
  }
  throw new InvalidArgumentError(
    `${flagOf(mode)} takes only ${listed(MODE_TAKES[mode].map(flagOf))}; drop ${extra.map(flagOf).join(", ")}`,
  );
}

/**
 * A mode's table on stdout; the run itself has written `json` (--json) when named, so stderr only says where, keeping
 * stdout the table alone for a pipe.
 */
function printReport(table: string, json: string | undefined): void {
  process.stdout.write(table);
  if (json) process.stderr.write(`results written to ${json}\n`);
}

/** Runs the mode the flags name (--samplers, --latency, --fidelity, --keras-target, else epochs per backend). */
// biome-ignore lint/suspicious/noExplicitAny: commander's parsed options are untyped
async function benchAction(opts: any, cmd: Command): Promise<void> {
  const given = (names: string[]) => names.filter((n) => cmd.getOptionValueSource(n) === "cli");
  const mode = benchMode(cmd.options.map((o) => o.attributeName()).filter((n) => cmd.getOptionValueSource(n) === "cli"));
  if (mode === "samplers") {
    const { runSamplerBench } = await import("../../bench/samplers/run");
    const { formatSamplerTable, targetLines } = await import("../../bench/samplers/report");
    const report = await runSamplerBench({
      seeds: opts.seeds,
      trials: opts.trials,
      objectives: opts.objectives,
      dataDir: opts.dataDir,
      json: opts.json,
    });
    return printReport(formatSamplerTable(report) + targetLines(report).join(""), opts.json);
  }
  if (mode === "latency") {
    const { runLatency } = await import("../../bench/latency");
    const report = await runLatency({ repeats: opts.repeats, json: opts.json });
    return printReport(formatLatencyTable(report) + latencySummaryLine(report), opts.json);
  }
  if (mode === "fidelity") return fidelityAction(opts, given);
  if (mode === "kerasTarget") return kerasTargetAction(opts);
  const { runBench } = await import("../../bench/run");
  const report = await runBench({
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    backends: opts.backends,
    cpuBatches: opts.cpuBatches,
    seed: opts.seed,
    dataDir: opts.dataDir,
    json: opts.json,
    overrides: opts.set,
  });
  printReport(formatTable(report), opts.json);
}

type Given = (names: string[]) => string[];
type BenchFlags = { epochs: number; batchSize: number; seed?: number; dataDir?: string; json?: string; seeds?: number };

/** `bench --fidelity`: the tutorial config over seeds here and in Keras. */
async function fidelityAction(opts: BenchFlags, given: Given): Promise<void> {
  if (opts.seeds !== undefined && opts.seeds < 2)
    throw new InvalidArgumentError(`--seeds expects at least 2 seeds with --fidelity (a spread needs two), got ${opts.seeds}`);
  const { runFidelity, formatFidelity } = await import("../../bench/fidelity");
  const report = await runFidelity({
    seeds: opts.seeds,
    epochs: given(["epochs"]).length ? opts.epochs : undefined,
    firstSeed: opts.seed,
    dataDir: opts.dataDir,
    json: opts.json,
  });
  printReport(formatFidelity(report), opts.json);
}

/** `bench --keras-target`: both configs on the default engine, PyTorch and Keras, and the verdict. */
async function kerasTargetAction(opts: BenchFlags): Promise<void> {
  const { runKerasTarget, formatKerasTarget } = await import("../../bench/keras-target");
  const report = await runKerasTarget({
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    seed: opts.seed,
    dataDir: opts.dataDir,
    json: opts.json,
  });
  printReport(formatKerasTarget(report), opts.json);
}
