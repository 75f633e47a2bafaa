import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { TrainingInterrupted } from "../../runs/interrupted";
import { OBJECTIVE_METRICS } from "../../search/core/objective";
import { redactUrl, storageUrlProblem } from "../../search/storage/url";
import { collectSet, integer, overridesWithSet, positive, seconds, withConfigFlags } from "../flags";

export function registerSearch(program: Command): void {
  withConfigFlags(
    program
      .command("search")
      .description("search hyperparameters (random, grid, Hyperband, TPE or a Gaussian process), one run folder per trial"),
  )
    .requiredOption(
      "--space <file>",
      "search-space JSON: config field (or nHidden/nNeurons) -> {type: int|float|choice|bool|fixed, ...}; Keras Tuner's min_value, max_value, sampling also read",
    )
    .addOption(
      new Option(
        "--tuner <kind>",
        "how trials are chosen: random, grid, hyperband (Keras Tuner's), tpe (Optuna's TPESampler), bayesian (Keras Tuner's Gaussian process); see docs/tuning.md",
      )
        .choices(["random", "grid", "hyperband", "tpe", "bayesian"])
        .default("random"),
    )
    .addOption(
      new Option(
        "--pruner <kind>",
        "stop weak trials early (every tuner but hyperband): median stopping, successive halving (ASHA), or none",
      )
        .choices(["median", "asha", "none"])
        .default("none"),
    )
    .option(
      "--max-trials <n>",
      "trials to run (random, tpe, bayesian: default 10; grid: at most; Hyperband plans its own)",
      positive("--max-trials"),
    )
    .requiredOption("--max-epochs <n>", "epochs per trial (Hyperband: of the longest-trained trials)", positive("--max-epochs"))
    .addOption(
      new Option("--objective <metric>", "per-epoch metric to rank trials by (*accuracy maximised, *loss minimised)")
        .choices(OBJECTIVE_METRICS)
        .default("val_accuracy"),
    )
    .requiredOption("--out <dir>", "study folder: trials/<id>/ run folders, trials.csv, figures/, best/, the embedded study database")
    .option("--parallel <n>", "trainers at once in this process, one engine thread each", positive("--parallel"), 1)
    .option("--storage <url>", "postgresql://user:password@host:port/db to share the study with workers on other machines")
    .option("--study <name>", "study name in the storage (default: the --out folder's name)")
    .option(
      "--search-seed <n>",
      "seed of the random, TPE, Bayesian and Hyperband draws (default 42; --seed seeds training); given, the trial table is the same with any number of workers",
      integer("--search-seed"),
    )
    .option("--set <key=value>", "a fixed config value for every trial (repeatable)", collectSet)
    .option("--heartbeat <s>", "seconds between a worker's heartbeats (default 10)", seconds("--heartbeat"))
    .option(
      "--heartbeat-timeout <s>",
      "a trial whose worker is silent this long goes to another worker (default 60)",
      seconds("--heartbeat-timeout"),
    )
    .option(
      "--storage-retry <s>",
      "seconds to keep retrying a --storage server that stopped answering before stopping the trainers (default 60)",
      seconds("--storage-retry"),
    )
    .option("--export <dir>", "also write the study for Python: study.csv (pandas) and optuna-journal.log (Optuna's JournalStorage)")
    .option("--no-retrain", "skip retraining the best config on the test set at the end")
    .addHelpText(
      "after",
      "\nRe-run the same command after a kill or Ctrl-C to continue the study. With --storage and --study, the same command on other\nmachines adds workers to the study; a trial taken over from a lost worker resumes\nfrom the checkpoint the study database keeps (a shared --out only gathers the run folders in one place).",
    )
    .action(searchAction);
}

/** `search`: the pruner and the space file vetted before any study opens, then runSearch. */
// biome-ignore lint/suspicious/noExplicitAny: commander's parsed options
async function searchAction(opts: any): Promise<void> {
  // Checked here, not as the option's parser: commander would quote the value, password included, in its message.
  const storageProblem = opts.storage === undefined ? undefined : storageUrlProblem(opts.storage);
  if (storageProblem) throw new InvalidArgumentError(`--storage ${redactUrl(opts.storage)}: ${storageProblem}`);
  const file = path.resolve(opts.space);
  if (!fs.existsSync(file)) throw new InvalidArgumentError(`--space ${opts.space}: no such file; expected a search-space JSON file`);
  const { prunerSpec, PrunerChoiceError } = await import("../../search/tuner");
  try {
    prunerSpec(opts.tuner, opts.pruner);
  } catch (err) {
    if (err instanceof PrunerChoiceError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  const { SearchSpaceError } = await import("../../search/core/space");
  let space: unknown;
  try {
    space = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    // The file's content is bad input like an unknown field in it (exit 1), not a bad flag (2).
    throw new SearchSpaceError(`--space ${opts.space}: not JSON (${(err as Error).message})`);
  }
  const { runSearch } = await import("../../search/session");
  const result = await runSearch({
    space,
    tuner: opts.tuner,
    maxTrials: opts.maxTrials,
    maxEpochs: opts.maxEpochs,
    objective: opts.objective,
    out: opts.out,
    parallel: opts.parallel,
    storage: opts.storage,
    study: opts.study,
    seed: opts.searchSeed,
    pruner: opts.pruner,
    fixed: overridesWithSet(opts),
    heartbeat: { intervalSeconds: opts.heartbeat, timeoutSeconds: opts.heartbeatTimeout },
    retrainBest: opts.retrain,
    exportDir: opts.export,
    storageRetrySeconds: opts.storageRetry,
  });
  if (result.interruptedBy) {
    throw new TrainingInterrupted(
      `search interrupted by ${result.interruptedBy}; running trials saved their epoch. Re-run the same command to continue the study`,
      result.interruptedBy,
    );
  }
}
