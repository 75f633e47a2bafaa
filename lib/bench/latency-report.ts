// `fashion-ann bench --latency`: what a reader stepping through a notebook, or typing a command, waits for, beside
// issue 23's targets. This module is the pure half (steps, targets, summary, table); latency.ts starts the processes.
import type * as Table from "table";
import { lazyRequire } from "../io/lazy";
import { BenchError, median } from "./report";

const tables = lazyRequire<typeof Table>("table");

/** The measured steps, in the order a reader meets them. */
const LATENCY_STEPS = [
  "import",
  "startNotebook",
  "importAndStart",
  "loadData",
  "startWithData",
  "firstFigure",
  "laterFigure",
  "laterGridFigure",
  "kernelStart",
  "kernelImport",
  "kernelStartNotebook",
  "kernelImportAndStart",
  "help",
  "badFlag",
  "nodeStart",
] as const;
export type LatencyStep = (typeof LATENCY_STEPS)[number];

interface StepInfo {
  /** The table's first column: what the reader runs. */
  label: string;
  /** Issue 23's target in seconds; null where the issue sets none (the step is shown for the total it feeds). */
  target: number | null;
  /** How the time is taken, for the notes column. */
  how: string;
}

export const LATENCY_STEP_INFO: Record<LatencyStep, StepInfo> = {
  import: { label: 'import { ... } from "fashion-ann"', target: 0.7, how: "require of the library in a fresh process" },
  startNotebook: { label: "startNotebook()", target: null, how: "config, run folder, backend start and its line" },
  importAndStart: { label: "import + startNotebook cells", target: 1.5, how: "the two together, same process" },
  loadData: {
    label: "loadData(config)",
    target: null,
    how: "after startNotebook, decoded cache warm, without the kernel's read-ahead (which makes it about 0)",
  },
  startWithData: {
    label: "import + startNotebook + loadData",
    target: 1.5,
    how: "notebook 04's and 11's first cells as one, without the kernel's read-ahead",
  },
  firstFigure: { label: "first figure cell", target: 1, how: "inline PNG + saveFig, right after startNotebook" },
  laterFigure: { label: "later figure cell", target: 0.3, how: "another figure, same process" },
  laterGridFigure: {
    label: "later image-grid cell",
    target: 0.3,
    how: "notebook 02's grid of 40 images (4x10, titled), same process",
  },
  // The rows above run the cells' JavaScript in plain node; a notebook's kernel also compiles each cell (tslab's
  // type-check and emit), which was most of these cells' time in the executed notebooks.
  kernelStart: {
    label: "kernel start (warm-up, library loaded)",
    target: null,
    how: "the project kernel's executor built in a fresh process; hidden by the runner, which starts it ahead",
  },
  kernelImport: { label: "import cell in the kernel", target: null, how: "notebook 04's import cell, compiled and run" },
  kernelStartNotebook: {
    label: "startNotebook cell in the kernel",
    target: null,
    how: "notebook 04's startNotebook + loadData + createModel cell, compiled and run, the dataset read ahead",
  },
  kernelImportAndStart: {
    label: "import + startNotebook cells in the kernel",
    target: 1.5,
    how: "the two as `fashion-ann notebooks` times them (tslab's compile included)",
  },
  help: { label: "fashion-ann --help", target: 0.3, how: "whole process, node start included" },
  badFlag: { label: "fashion-ann train --epochs x", target: 0.3, how: "whole process until the exit-2 error" },
  // A shared machine stretches every row alike; a bare node start shows by how much (about 0.04 s when idle).
  nodeStart: { label: "node -e 0 (for scale)", target: null, how: "a bare node process: the machine's pace now" },
};

/** Seconds per repeat for each step that ran, and why the others did not. */
export interface LatencySamples {
  seconds: Partial<Record<LatencyStep, number[]>>;
  failures: Partial<Record<LatencyStep, string>>;
}

/** One row of the table and of `--json`. */
export interface LatencyRow {
  step: LatencyStep;
  label: string;
  /** Seconds, one per repeat, in the order measured. */
  seconds: number[];
  median: number;
  min: number;
  max: number;
  target: number | null;
  /** Whether the median is within the target; null without a target. */
  met: boolean | null;
}

export interface LatencyReport {
  rows: LatencyRow[];
  /** Steps that could not be measured, with the one-sentence reason. */
  failed: { step: LatencyStep; label: string; reason: string }[];
  /** Conditions of the measurement: node, cores, load average, repeats. */
  environment: Record<string, unknown>;
}

/** The verdict on a median: within the target (equal counts), over it, or null when the step has none. */
export function meetsTarget(medianSeconds: number, target: number | null): boolean | null {
  if (target === null) return null;
  return medianSeconds <= target;
}

/** The rows of the steps that ran (in LATENCY_STEPS order) and the failures; a step with a failure gets no row. */
export function summarizeLatency(samples: LatencySamples): Pick<LatencyReport, "rows" | "failed"> {
  const rows: LatencyRow[] = [];
  const failed: LatencyReport["failed"] = [];
  for (const step of LATENCY_STEPS) {
    const { label, target } = LATENCY_STEP_INFO[step];
    const reason = samples.failures[step];
    if (reason !== undefined) {
      failed.push({ step, label, reason });
      continue;
    }
    const seconds = samples.seconds[step];
    if (!seconds?.length) continue;
    if (seconds.some((s) => !(s >= 0))) throw new BenchError(`${step}: times must be non-negative seconds, got ${seconds.join(", ")}`);
    const m = median(seconds);
    rows.push({
      step,
      label,
      seconds,
      median: m,
      min: Math.min(...seconds),
      max: Math.max(...seconds),
      target,
      met: meetsTarget(m, target),
    });
  }
  return { rows, failed };
}

const HEADER = ["step", "median s", "min-max s", "target s", "met", "how"];

/** Table cells, header first; a failed step gets dashes and its reason. */
export function latencyTableRows(report: Pick<LatencyReport, "rows" | "failed">): string[][] {
  const rows = report.rows.map((r) => [
    r.label,
    r.median.toFixed(2),
    `${r.min.toFixed(2)}-${r.max.toFixed(2)}`,
    r.target === null ? "-" : `<= ${r.target}`,
    r.met === null ? "-" : r.met ? "yes" : "NO",
    `${LATENCY_STEP_INFO[r.step].how}; n=${r.seconds.length}`,
  ]);
  const failed = report.failed.map((f) => [f.label, "-", "-", "-", "-", `failed: ${f.reason}`]);
  return [HEADER, ...rows, ...failed];
}

/** The table as printed on stdout, drawn like the epoch benchmark's. */
export function formatLatencyTable(report: Pick<LatencyReport, "rows" | "failed">): string {
  return tables().table(latencyTableRows(report), {
    columns: {
      0: { width: 34, wrapWord: true },
      1: { alignment: "right" },
      2: { alignment: "right" },
      3: { alignment: "right" },
      5: { width: 40, wrapWord: true },
    },
    drawHorizontalLine: (line, rowCount) => line === 0 || line === 1 || line === rowCount,
  });
}

/** The line under the table: how many targets are met, and the load the numbers were taken under. */
export function latencySummaryLine(report: LatencyReport): string {
  const judged = report.rows.filter((r) => r.met !== null);
  const met = judged.filter((r) => r.met).length;
  const load = (report.environment.load_average_before as number[] | undefined)?.[0];
  const cores = report.environment.cpus;
  const conditions =
    typeof load === "number" && typeof cores === "number"
      ? `; load average ${load.toFixed(1)} on ${cores} cores before the first repeat`
      : "";
  const failed = report.failed.length ? `, ${report.failed.length} step${report.failed.length === 1 ? "" : "s"} failed` : "";
  return `${met} of ${judged.length} targets met${failed}${conditions} (the targets are for a machine otherwise idle)\n`;
}
