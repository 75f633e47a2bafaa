import * as fs from "node:fs";
import type { Command } from "commander";
import { ConfigError, resolveConfig, resumeOverrides, type ExperimentConfig } from "../../config";
import { PathError } from "../../io/fs-errors";
import { RunLockError } from "../../runs/lock";
import type { Run } from "../../runs/run";
import { collectSet, overridesWithSet, runDirFor, withConfigFlags } from "../flags";

export function registerTrain(program: Command): void {
  withConfigFlags(program.command("train").description("train the tutorial model, evaluate it on the test set, write a run folder"))
    .option("--out <dir>", "run folder (default runs/<timestamp>)")
    .option("--force", "overwrite an existing non-empty run folder")
    .option("--set <key=value>", "set a config field by name, e.g. --set learningRate=0.05 (repeatable)", collectSet)
    .option("--resume <run>", "continue an interrupted run from its last checkpoint, with that run's config")
    .option("--no-figures", "skip rendering the tutorial's figures (search and sweep trials pass it: Chromium costs seconds per run)")
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
        const { existingRun, RunError } = await import("../../runs/run");
        const run = existingRun(opts.resume);
        if (!fs.existsSync(run.file("checkpoints/last.json"))) {
          throw new RunError(
            `--resume ${run.dir}: no completed epoch to resume from (no checkpoints/last.json); start it again with fashion-ann train --out ${run.dir}`,
          );
        }
        const saved = run.readJson<ExperimentConfig>("config.json");
        const { isCustomRunConfig, resumeCustomRun } = await import("../../runs/custom-run");
        // A model built by hand in a notebook: rebuilt from its model.json and recorded optimizer.
        if (isCustomRunConfig(saved)) return report(await guarded(run, true, () => resumeCustomRun(run, { epochs })), run);
        const config = resolveConfig(
          resumeOverrides(epochs === undefined ? (saved as Record<string, unknown>) : { ...saved, epochs }),
          undefined,
          "file",
        );
        if (config.epochs !== saved.epochs) run.saveConfig(config);
        const { trainExperiment } = await import("../../runs/experiment");
        const { parentEpochReporter } = await import("../../search/epoch-report");
        const onEpoch = parentEpochReporter();
        return report(await guarded(run, true, () => trainExperiment(config, run, { resume: true, figures: opts.figures, onEpoch })), run);
      }
      // Bad values are refused before training code loads.
      const config = resolveConfig(overrides);
      const { createRun } = await import("../../runs/run");
      const { trainExperiment } = await import("../../runs/experiment");
      const { parentEpochReporter } = await import("../../search/epoch-report");
      const run = createRun(runDirFor(opts.out), { force: opts.force });
      const onEpoch = parentEpochReporter();
      return report(await guarded(run, false, () => trainExperiment(config, run, { figures: opts.figures, onEpoch })), run);
    });
}

/**
 * A run that fails before its first epoch leaves nothing that blocks the same command from being retried;
 * one that cannot write (disk full) after some epochs says which checkpoint it kept.
 */
async function guarded<T>(run: Run, resume: boolean, train: () => Promise<T>): Promise<T> {
  try {
    return await train();
  } catch (err) {
    const { discardUnstartedRun } = await import("../../runs/run");
    // Another process holding the folder is its owner: leave its files alone.
    if (!resume && !(err instanceof RunLockError) && discardUnstartedRun(run.dir)) throw err;
    if (err instanceof PathError) {
      const last = lastEpoch(run);
      throw new PathError(
        `${err.message}; training stopped: ${last ? `the last complete checkpoint is epoch ${last} in ${run.checkpointsDir}; once there is room, finish with: fashion-ann train --resume ${run.dir}` : "no epoch was completed"}`,
        err.path,
        err.code,
      );
    }
    throw err;
  }
}

function lastEpoch(run: Run): number | undefined {
  try {
    return (JSON.parse(fs.readFileSync(run.file("checkpoints/last.json"), "utf8")) as { epoch: number }).epoch + 1;
  } catch {
    return undefined;
  }
}

function report(
  result: { metrics?: { test_loss: number; test_accuracy: number; backend: string }; backend: { name: string } },
  run: Run,
): void {
  if (result.metrics) {
    // metrics.backend is the engine that trained (a model the native step does not cover moves to wasm).
    console.log(
      `test_loss ${result.metrics.test_loss.toFixed(4)}, test_accuracy ${result.metrics.test_accuracy.toFixed(4)} (${result.metrics.backend})`,
    );
  }
  console.log(`run folder: ${run.dir}`);
}
