import type { Command } from "commander";
import { resolveConfig } from "../config";
import { runExperiment } from "../experiment";
import { createRun } from "../runs";
import { overridesFrom, runDirFor, withConfigFlags } from "./flags";

export function registerTrain(program: Command): void {
  withConfigFlags(program.command("train").description("train the tutorial model, evaluate it on the test set, write a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .action(async (opts) => {
      const config = resolveConfig(overridesFrom(opts));
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      const result = await runExperiment(config, run);
      console.log(`test_loss ${result.metrics.test_loss.toFixed(4)}, test_accuracy ${result.metrics.test_accuracy.toFixed(4)} (${result.backend.name})`);
      console.log(`run folder: ${run.dir}`);
    });
}
