import type { Command } from "commander";
import { integer } from "../flags";

const kB = (n: number): string => `${(n / 1024).toFixed(0)} kB`;

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("write report.html (self-contained, opens offline) and report.pdf for a trained run folder")
    .argument("<run>", "run folder, e.g. runs/20261125-101619")
    .option("--out <dir>", "folder for report.html and report.pdf (default: the run folder)")
    .option("--no-pdf", "write only the HTML report")
    .option("--misclassified <n>", "misclassified test images to show (default 24)", integer("--misclassified"))
    .action(async (dir: string, opts: { out?: string; pdf: boolean; misclassified?: number }) => {
      const { existingRun } = await import("../../runs/run");
      const { writeRunReport } = await import("../../runs/report");
      existingRun(dir);
      const result = await writeRunReport(dir, { outDir: opts.out, pdf: opts.pdf, misclassified: opts.misclassified });
      console.log(`report: ${result.html} (${kB(result.htmlBytes)})`);
      if (result.pdf) console.log(`report: ${result.pdf} (${kB(result.pdfBytes!)})`);
    });
}
