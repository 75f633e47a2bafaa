import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { ConfigError, resolveConfig, type ExperimentConfig } from "../../config";
import { runExperiment } from "../../runs/experiment";
import { createRun, Run } from "../../runs/run";
import { collectSet, overridesWithSet, runDirFor, withConfigFlags } from "../flags";

export function registerTrain(program: Command): void {
  withConfigFlags(program.command("train").description("train the tutorial model, evaluate it on the test set, write a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .option("--set <key=value>", "set a config field by name, e.g. --set learningRate=0.05 (repeatable)", collectSet)
    .option("--resume <run>", "continue an interrupted run from its last checkpoint, with that run's config")
    .addHelpText(
      "after",
      "\nEvery epoch is checkpointed (checkpoints/last.json, best.json by val_loss). Ctrl-C stops after the current batch;\n`train --resume runs/<name>` then finishes with the same result as an uninterrupted run.",
    )
    .action(async (opts) => {
      const overrides = overridesWithSet(opts);
      if (opts.resume) {
        // --epochs may grow: a tuner continues a promising trial from its checkpoint to a later epoch (Hyperband).
        const { epochs, ...rest } = overrides;
        if (Object.keys(rest).length > 0 || opts.out) {
          throw new ConfigError(
            `--resume uses the run's own config.json (only --epochs may change); drop ${[...Object.keys(rest), ...(opts.out ? ["out"] : [])].join(", ")}`,
          );
        }
        const run = new Run(path.resolve(opts.resume));
        const configFile = run.file("config.json");
        if (!fs.existsSync(configFile))
          throw new ConfigError(`--resume ${opts.resume}: no config.json there; expected a run folder written by \`fashion-ann train\``);
        const saved = JSON.parse(fs.readFileSync(configFile, "utf8")) as ExperimentConfig;
        const config = resolveConfig(epochs === undefined ? saved : { ...saved, epochs });
        if (config.epochs !== saved.epochs) run.saveConfig(config);
        return report(await runExperiment(config, run, { resume: true }), run);
      }
      const config = resolveConfig(overrides);
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      return report(await runExperiment(config, run), run);
    });
}

function report(result: Awaited<ReturnType<typeof runExperiment>>, run: Run): void {
  console.log(
    `test_loss ${result.metrics.test_loss.toFixed(4)}, test_accuracy ${result.metrics.test_accuracy.toFixed(4)} (${result.backend.name})`,
  );
  console.log(`run folder: ${run.dir}`);
}
