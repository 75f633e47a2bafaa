import { lazyRequire } from "../../io/lazy";
import type * as Table from "table";

const tables = lazyRequire<typeof Table>("table");

/** One sampler on one objective, over every seed. */
export interface SamplerRow {
  objective: string;
  /** "tpe", "bayesian", "random" (ours) or "optuna-tpe". */
  sampler: string;
  /** Best value after `trials` trials, one per seed, in seed order. */
  best: number[];
  median: number;
  q1: number;
  q3: number;
  /** Mean CPU time over every suggestion of every seed, startup draws included (milliseconds). */
  msPerSuggestion: number;
  /** CPU time of one suggestion once the study holds 1,000 finished trials (random search's; milliseconds). */
  msAt1000: number | null;
}

export interface SamplerBenchReport {
  trials: number;
  seeds: number[];
  rows: SamplerRow[];
  /** The objectives the targets apply to (the synthetic ones); absent: every objective. */
  targetObjectives?: string[];
  environment: Record<string, unknown>;
}

/** The p-quantile with linear interpolation between order statistics (numpy's default). */
export function quantile(xs: readonly number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.ceil(h)] ?? s[lo]!) - s[lo]!);
}

export function samplerRow(
  objective: string,
  sampler: string,
  best: number[],
  suggestSeconds: number[],
  msAt1000: number | null,
): SamplerRow {
  const ms = (1000 * suggestSeconds.reduce((a, b) => a + b, 0)) / suggestSeconds.length;
  return {
    objective,
    sampler,
    best,
    median: quantile(best, 0.5),
    q1: quantile(best, 0.25),
    q3: quantile(best, 0.75),
    msPerSuggestion: ms,
    msAt1000,
  };
}

const fmt = (x: number): string => x.toFixed(4);

export function formatSamplerTable(report: SamplerBenchReport): string {
  const header = ["objective", "sampler", `median best @${report.trials}`, "IQR (q1 .. q3)", "CPU ms/suggestion", "CPU ms @1000 trials"];
  const rows = report.rows.map((r) => [
    r.objective,
    r.sampler,
    fmt(r.median),
    `${fmt(r.q1)} .. ${fmt(r.q3)}`,
    r.msPerSuggestion.toFixed(2),
    r.msAt1000 === null ? "-" : r.msAt1000.toFixed(1),
  ]);
  return tables().table([header, ...rows], {
    columns: { 2: { alignment: "right" }, 3: { alignment: "right" }, 4: { alignment: "right" }, 5: { alignment: "right" } },
    drawHorizontalLine: (line, rowCount) => line === 0 || line === 1 || line === rowCount,
  });
}

/**
 * The targets, checked on the measured rows (minimised objectives): our TPE's median best at least as good
 * as Optuna's TPE and better than random on each objective, and a TPE suggestion under 50 ms at 1,000 trials.
 */
export function targetLines(report: SamplerBenchReport): string[] {
  const lines: string[] = [];
  const find = (o: string, s: string) => report.rows.find((r) => r.objective === o && r.sampler === s);
  const objectives = [...new Set(report.rows.map((r) => r.objective))];
  for (const objective of objectives.filter((o) => report.targetObjectives?.includes(o) ?? true)) {
    const tpe = find(objective, "tpe");
    if (!tpe) continue;
    const optuna = find(objective, "optuna-tpe");
    const random = find(objective, "random");
    const mark = (ok: boolean) => (ok ? "met" : "MISSED");
    if (optuna)
      lines.push(`${objective}: tpe median ${fmt(tpe.median)} vs optuna-tpe ${fmt(optuna.median)}: ${mark(tpe.median <= optuna.median)}`);
    if (random)
      lines.push(`${objective}: tpe median ${fmt(tpe.median)} vs random ${fmt(random.median)}: ${mark(tpe.median < random.median)}`);
    if (tpe.msAt1000 !== null)
      lines.push(`${objective}: tpe suggestion at 1,000 trials ${tpe.msAt1000.toFixed(1)} ms < 50 ms: ${mark(tpe.msAt1000 < 50)}`);
  }
  return lines.map((l) => `${l}\n`);
}
