import * as path from "node:path";
import type { Command } from "commander";

/** Prints the comparison table and writes the overlay figure; shared by `compare` and `sweep`. */
export async function compareRuns(dirs: string[], figureDir: string): Promise<string> {
  const { compareCurvesFigure, comparisonTable, summarizeRuns } = await import("../../runs/compare");
  const { saveFig } = await import("../../figures/render/chromium");
  const summaries = summarizeRuns(dirs);
  console.log(comparisonTable(summaries).toString());
  const file = await saveFig(compareCurvesFigure(summaries), "compare_learning_curves", { dir: figureDir });
  console.log(`overlay of learning curves: ${file}`);
  return file;
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("compare runs: changed hyperparameters, best val_accuracy and epoch, test accuracy, time; overlay of learning curves")
    .argument("<runs...>", "run folders")
    .option("--out <dir>", "where to write compare_learning_curves.png (default: the current folder)", ".")
    .action(async (runs: string[], opts: { out: string }) => {
      const { existingRun } = await import("../../runs/run");
      for (const dir of runs) existingRun(dir);
      await compareRuns(runs, path.resolve(opts.out));
    });
}
