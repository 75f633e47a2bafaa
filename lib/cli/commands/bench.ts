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
  program
    .command("bench")
    .description(
      "time an epoch of the tutorial model on each backend and on the PyTorch and Keras peers, or with --latency what notebook cells and commands wait for; print a table (stdout), progress on stderr",
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
    .option("--set <key=value>", "config field for every row, repeatable (e.g. --set optimizer=adam --set dropout=0.2)", collectSet)
    .option(
      "--latency",
      "instead of epochs: time importing the library, startNotebook, a first and a later figure cell, --help and a bad flag, each in fresh processes, against issue 23's targets",
    )
    .option("--repeats <n>", "--latency: fresh processes per step (default 5)", integerAtLeast("--repeats", 1))
    .action(async (opts, cmd: Command) => {
      const given = (names: string[]) => names.filter((n) => cmd.getOptionValueSource(n) === "cli");
      if (opts.latency) {
        const others = given(["epochs", "batchSize", "backends", "cpuBatches", "seed", "dataDir", "set"]);
        if (others.length)
          throw new InvalidArgumentError(`--latency takes only --repeats and --json; drop ${others.map(flagOf).join(", ")}`);
        const { runLatency } = await import("../../bench/latency");
        const report = await runLatency({ repeats: opts.repeats, json: opts.json });
        process.stdout.write(formatLatencyTable(report) + latencySummaryLine(report));
        if (opts.json) process.stderr.write(`results written to ${opts.json}\n`);
        return;
      }
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
    });
}
