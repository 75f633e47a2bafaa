import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";

/** Prints the comparison table and writes the overlay figure; shared by `compare` and `sweep`. */
async function compareRuns(dirs: string[], figureDir: string): Promise<string> {
  const { compareCurvesFigure, formatComparison, summarizeRuns } = await import("../../runs/compare");
  const { saveFig } = await import("../../figures/render/chromium");
  // With several runs, a damaged one is named on stderr and the others compared; a single run's damage is the error.
  const skip = (dir: string, err: Error) => console.error(`compare: skipped ${dir}: ${err.message}`);
  const summaries = summarizeRuns(dirs, dirs.length > 1 ? skip : undefined);
  // A terminal's width; 100 when the output goes to a file or a report.
  console.log(formatComparison(summaries, process.stdout.columns || 100));
  const file = await saveFig(compareCurvesFigure(summaries), "compare_learning_curves", { dir: figureDir });
  console.log(`overlay of learning curves: ${file}`);
  return file;
}

/**
 * The paths that are not files: `compare runs/x/trials/*` also matches a study's files (search.log, trials.csv),
 * which are skipped with a note. Paths that are only files are kept, so existingRun says what was expected.
 */
export function skipFiles(paths: string[], note: (line: string) => void): string[] {
  const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  const kept = paths.filter((p) => !isFile(p));
  if (kept.length === 0) return paths;
  for (const p of paths) if (isFile(p)) note(`compare: skipped ${p}: a file, not a run folder`);
  return kept;
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .description("compare runs: changed hyperparameters, best val_accuracy and epoch, test accuracy, time; overlay of learning curves")
    .argument("<runs...>", "run folders")
    .option("--out <dir>", "where to write compare_learning_curves.png (default: the current folder)")
    .action(async (runs: string[], opts: { out?: string }) => {
      const { existingRun } = await import("../../runs/run");
      const folders = skipFiles(runs, console.error);
      for (const dir of folders) existingRun(dir);
      await compareRuns(folders, path.resolve(opts.out ?? "."));
    });
}
