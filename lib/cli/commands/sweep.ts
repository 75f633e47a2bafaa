import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { ExperimentConfig, resolveConfig } from "../../config";
import { makeFolder } from "../../io/fs-errors";
import { defaultRunName, projectPath } from "../../io/paths";
import { TrainingInterrupted } from "../../runs/interrupted";
import { collectSet, jsonOrString, overridesFrom, overridesWithSet, withConfigFlags } from "../flags";

type Grid = Record<string, unknown[]>;

/** A --grid key as a config field: the field itself (learningRate) or its flag (learning-rate, --hidden). */
function gridField(key: string): string | undefined {
  if (key in ExperimentConfig.shape) return key;
  const camel = key.replace(/^--/, "").replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (camel in ExperimentConfig.shape) return camel;
  return Object.keys(overridesFrom({ [camel]: true }))[0];
}

const GRID_SYNTAX =
  "values are JSON, separated by commas (--grid learningRate=0.003,0.01,0.03); values that are arrays are separated by ';' " +
  "(--grid 'hiddenUnits=[32];[16,16]')";

/**
 * `--grid learningRate=0.003,0.01,0.03` (repeatable); the key is a config field or its flag name (learning-rate,
 * hidden). Values are JSON; when they are arrays they are separated by ";" (`--grid 'hiddenUnits=[32];[16,16]'`)
 * since they contain commas.
 */
export function collectGrid(value: string, previous: Grid = {}): Grid {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`--grid expects field=v1,v2,... (e.g. --grid learningRate=0.003,0.01), got "${value}"`);
  const given = value.slice(0, eq).trim();
  const key = gridField(given);
  if (!key) {
    throw new InvalidArgumentError(
      `--grid ${given}: not a config field or flag; allowed: ${Object.keys(ExperimentConfig.shape).join(", ")} (or their flags, e.g. learning-rate)`,
    );
  }
  const raw = value.slice(eq + 1);
  const parts = raw.includes("[") ? raw.split(";") : raw.split(",");
  const values = parts.map((p) => jsonOrString(p.trim()));
  if (values.length === 0 || parts.some((p) => p.trim() === "")) throw new InvalidArgumentError(`--grid ${given}: empty value in "${raw}"`);
  if (key in previous) throw new InvalidArgumentError(`--grid ${given}: ${key} is already in the grid; give its values once`);
  return { ...previous, [key]: values };
}

/** Every combination of the grid, in the order given (the last field varies fastest). */
export function gridCombinations(grid: Grid): Record<string, unknown>[] {
  return Object.entries(grid).reduce<Record<string, unknown>[]>(
    (combos, [key, values]) => combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v }))),
    [{}],
  );
}

export function combinationName(combo: Record<string, unknown>): string {
  return Object.entries(combo)
    .map(([k, v]) => `${k}-${Array.isArray(v) ? v.join("x") : String(v)}`)
    .join("_")
    .replace(/[^\w.-]/g, "_");
}

/** The grid as a search space for the grid tuner: each field a choice among its values. */
export function gridSpace(grid: Grid): Record<string, { type: "choice"; values: unknown[] }> {
  return Object.fromEntries(Object.entries(grid).map(([k, values]) => [k, { type: "choice" as const, values }]));
}

export function registerSweep(program: Command): void {
  withConfigFlags(
    program.command("sweep").description("train every combination of a hyperparameter grid (a grid search), then rank the runs"),
  )
    .requiredOption(
      "--grid <field=v1,v2>",
      "a config field (or its flag name) and its values (repeatable; the grid is their product)",
      collectGrid,
    )
    .option("--set <key=value>", "a fixed config value for every run (repeatable)", collectSet)
    .option(
      "--parallel <n>",
      "runs at once (each trains on one core)",
      (v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`--parallel expects a positive integer, got "${v}"`);
        return Number(v);
      },
      1,
    )
    .option("--out <dir>", "sweep folder: trials/<id>/ run folders, trials.csv, figures/ (default runs/sweep-<timestamp>)")
    .addHelpText(
      "after",
      `\nGrid syntax: ${GRID_SYNTAX}. The key is a config field or its flag: learningRate or learning-rate, hiddenUnits or hidden.
Example: fashion-ann sweep --grid learning-rate=0.003,0.01 --grid 'hiddenUnits=[32];[16,16]' --epochs 5 --out runs/sw
Each run is a normal run folder (runs/sw/trials/trial-000/, its hyperparameters in trial.json and trials.csv); at the end the
runs are ranked by their best val_accuracy. Re-run the same command (same --out) after a kill or Ctrl-C to continue:
finished runs are not repeated, an interrupted one resumes from its last epoch. Compare them: fashion-ann compare runs/sw/trials/*/`,
    )
    .action(async (opts: { grid: Grid; parallel: number; out?: string } & Record<string, unknown>) => {
      const base = overridesWithSet(opts) as Record<string, unknown>;
      const both = Object.keys(opts.grid).filter((k) => k in base);
      if (both.length) throw new InvalidArgumentError(`${both.join(", ")} given both in --grid and as a fixed value; use one`);
      // Validate every combination before training any of them.
      for (const c of gridCombinations(opts.grid)) resolveConfig({ ...base, ...c });
      const { assertFolderFree, RunError } = await import("../../runs/run");
      const { runSearch } = await import("../../search/session");
      const { EMBEDDED_DIR } = await import("../../search/storage");
      const dir = opts.out ? path.resolve(opts.out) : projectPath(path.join("runs", `sweep-${defaultRunName()}`));
      // A folder holding a sweep's study is continued; anything else non-empty is refused.
      if (!fs.existsSync(path.join(dir, EMBEDDED_DIR))) assertFolderFree(dir, "sweep folder", "choose another --out");
      makeFolder(dir);
      const result = await runSearch({
        space: gridSpace(opts.grid),
        tuner: "grid",
        maxEpochs: resolveConfig(base).epochs,
        out: dir,
        parallel: opts.parallel,
        fixed: base as never,
        retrainBest: false,
      });
      if (result.interruptedBy) {
        throw new TrainingInterrupted(
          `sweep interrupted by ${result.interruptedBy}; finished runs and the last epoch of running ones are kept in ${dir}. Re-run the same command to continue`,
          result.interruptedBy,
        );
      }
      const failed = result.trials.filter((t) => t.status === "failed");
      if (failed.length) {
        throw new RunError(
          `${failed.length} of ${result.trials.length} sweep runs failed: ${failed.map((t) => `${t.id} (see ${path.join(dir, "trials", `${t.id}.log`)})`).join(", ")}`,
        );
      }
      console.log(`compare the runs (test accuracy, time): fashion-ann compare ${path.join(dir, "trials")}/*/ --out ${dir}`);
    });
}
