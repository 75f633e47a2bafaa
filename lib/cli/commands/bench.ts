import { InvalidArgumentError, type Command } from "commander";
import { BENCH_BACKENDS, BenchError, DEFAULT_CPU_BATCHES, formatTable, parseBackendList, type BenchBackend } from "../../bench/report";
import { formatLatencyTable, latencySummaryLine } from "../../bench/latency-report";
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
      "instead of epochs: our tpe, bayesian and random samplers and Optuna 5.0's TPESampler on Branin and Hartmann-6, median and IQR of the best value and ms per suggestion (docs/tuning.md)",
    )
    .option(
      "--seeds <n>",
      "--samplers: studies per sampler and function (default 20); --fidelity: seeds per engine, 42 upwards (default 5)",
      integerAtLeast("--seeds", 1),
    )
    .option("--trials <n>", "--samplers: trials per study (default 50)", integerAtLeast("--trials", 1))
    .option(
      "--keras-target",
      "time the tutorial config and adam + dropout 0.2 + BN on the default engine, PyTorch and Keras in one sitting, and say whether the engine takes <= 0.25x Keras's s/epoch on both",
    )
    .option(
      "--fidelity",
      "instead: train the tutorial config with --seeds seeds on the default engine and in Keras (--epochs each, default 30) and say whether test accuracy and loss agree within the noise between seeds",
    );
}

/** Runs the mode the flags name (--samplers, --latency, --fidelity, --keras-target, else epochs per backend). */
// biome-ignore lint/suspicious/noExplicitAny: commander's parsed options are untyped
async function benchAction(opts: any, cmd: Command): Promise<void> {
  const given = (names: string[]) => names.filter((n) => cmd.getOptionValueSource(n) === "cli");
  if (opts.samplers) {
    const others = given([
      "epochs",
      "batchSize",
      "backends",
      "cpuBatches",
      "seed",
      "dataDir",
      "set",
      "latency",
      "repeats",
      "kerasTarget",
      "fidelity",
    ]);
    if (others.length)
      throw new InvalidArgumentError(`--samplers takes only --seeds, --trials and --json; drop ${others.map(flagOf).join(", ")}`);
    const { runSamplerBench } = await import("../../bench/samplers/run");
    const { formatSamplerTable, targetLines } = await import("../../bench/samplers/report");
    const report = await runSamplerBench({ seeds: opts.seeds, trials: opts.trials, json: opts.json });
    process.stdout.write(formatSamplerTable(report) + targetLines(report).join(""));
    if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
    return;
  }
  if (opts.trials !== undefined) throw new InvalidArgumentError("--trials goes with --samplers");
  if (opts.latency) {
    const others = given([
      "epochs",
      "batchSize",
      "backends",
      "cpuBatches",
      "seed",
      "dataDir",
      "set",
      "kerasTarget",
      "fidelity",
      "seeds",
      "samplers",
    ]);
    if (others.length) throw new InvalidArgumentError(`--latency takes only --repeats and --json; drop ${others.map(flagOf).join(", ")}`);
    const { runLatency } = await import("../../bench/latency");
    const report = await runLatency({ repeats: opts.repeats, json: opts.json });
    process.stdout.write(formatLatencyTable(report) + latencySummaryLine(report));
    if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
    return;
  }
  if (opts.fidelity) return fidelityAction(opts, given);
  if (opts.seeds !== undefined) throw new InvalidArgumentError("--seeds goes with --samplers or --fidelity");
  if (opts.kerasTarget) return kerasTargetAction(opts, given);
  if (opts.repeats !== undefined)
    throw new InvalidArgumentError("--repeats goes with --latency; the epoch benchmark repeats with --epochs");
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
  process.stdout.write(formatTable(report));
  if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
}

type Given = (names: string[]) => string[];
type BenchFlags = { epochs: number; batchSize: number; seed?: number; dataDir?: string; json?: string; seeds?: number };

/** `bench --fidelity`: the tutorial config over seeds here and in Keras. */
async function fidelityAction(opts: BenchFlags, given: Given): Promise<void> {
  const others = given(["batchSize", "backends", "cpuBatches", "set", "latency", "kerasTarget", "repeats", "trials"]);
  if (others.length)
    throw new InvalidArgumentError(
      `--fidelity takes only --seeds, --epochs, --seed, --data-dir and --json; drop ${others.map(flagOf).join(", ")}`,
    );
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
  process.stdout.write(formatFidelity(report));
  if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
}

/** `bench --keras-target`: both configs on the default engine, PyTorch and Keras, and the verdict. */
async function kerasTargetAction(opts: BenchFlags, given: Given): Promise<void> {
  const others = given(["backends", "set"]);
  if (others.length) throw new InvalidArgumentError(`--keras-target sets its own configs and rows; drop ${others.map(flagOf).join(", ")}`);
  const { runKerasTarget, formatKerasTarget } = await import("../../bench/keras-target");
  const report = await runKerasTarget({
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    seed: opts.seed,
    dataDir: opts.dataDir,
    json: opts.json,
  });
  process.stdout.write(formatKerasTarget(report));
  if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
}
