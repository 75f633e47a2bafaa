import { type Command, InvalidArgumentError } from "commander";
import { resolveConfig } from "../../config";
import { collectSet, number, overridesWithSet, runDirFor, withConfigFlags } from "../flags";

export function registerLrFind(program: Command): void {
  withConfigFlags(
    program
      .command("lr-find")
      .description("learning-rate finder (Géron ch. 10): one epoch at an exponentially growing rate, loss vs rate plot, a suggestion"),
  )
    .option("--out <dir>", "folder for figures/lr_finder.png and lr_finder.json; may be an existing run folder (default runs/<timestamp>)")
    .option("--set <key=value>", "set a config field by name, e.g. --set hiddenUnits=[32] (repeatable)", collectSet)
    .option("--min-rate <lr>", "learning rate of the first batch (default 1e-5)", number("--min-rate"))
    .option("--max-rate <lr>", "learning rate the last batch of the epoch would reach (default 10)", number("--max-rate"))
    .addHelpText(
      "after",
      "\nThe model is the config's (optimizer included); the search stops once the smoothed loss exceeds 4x its best.\n" +
        "The suggestion is the rate at the lowest smoothed loss divided by 10 (Géron: about 10 times lower than the turning point).",
    )
    .action(async (opts) => {
      const config = resolveConfig(overridesWithSet(opts));
      const [minRate, maxRate] = [opts.minRate ?? 1e-5, opts.maxRate ?? 10];
      // Refused here, before the data loads, with the bad-flag exit code.
      if (!(minRate > 0 && maxRate > minRate))
        throw new InvalidArgumentError(
          `--min-rate and --max-rate must satisfy 0 < min < max, got --min-rate ${minRate} and --max-rate ${maxRate}`,
        );
      const { openRun } = await import("../../runs/run");
      const { formatBackend, initBackend } = await import("../../engine/backend");
      const { loadData } = await import("../../runs/experiment");
      const { createModel } = await import("../../model/factory");
      const { findLearningRate } = await import("../../train/lr-finder");
      const { formatRate, lrFinderFigure } = await import("../../figures/lr-finder");
      const { saveFig } = await import("../../figures/render/chromium");
      const run = openRun(runDirFor(opts.out));
      const backend = await initBackend(config);
      console.log(formatBackend(backend));
      const data = await loadData(config);
      const model = createModel(config);
      const started = performance.now();
      const result = await findLearningRate(model, data.train, {
        minRate,
        maxRate,
        batchSize: config.batchSize,
        seed: config.seed,
        clipNorm: config.clipNorm,
        clipValue: config.clipValue,
      });
      model.dispose();
      const seconds = (performance.now() - started) / 1000;
      run.writeJson("lr_finder.json", { config, ...result, seconds });
      const figure = await saveFig(lrFinderFigure(result), "lr_finder", { dir: run.figuresDir });
      const last = result.rates.at(-1)!;
      console.log(
        `${result.rates.length} batches in ${seconds.toFixed(1)} s, rates ${formatRate(result.rates[0]!)} to ${formatRate(last)}` +
          ` (${result.stoppedBy === "end" ? "the whole epoch" : `stopped: the loss ${result.stoppedBy}`});` +
          ` lowest smoothed loss at ${formatRate(result.minimumRate)}`,
      );
      console.log(`figure: ${figure}`);
      console.log(`suggested learning rate: ${formatRate(result.suggestion)} (try --learning-rate ${formatRate(result.suggestion)})`);
    });
}
