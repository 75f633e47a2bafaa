import * as os from "node:os";
import { writeFileAtomic } from "../../io/atomic";
import { BenchError, machineEnvironment } from "../report";
import { SYNTHETIC_OBJECTIVES } from "./objectives";
import { optunaSuggestionSeconds, optunaUnavailable, runOptunaTpe } from "./optuna";
import { type SamplerBenchReport, type SamplerRow, samplerRow } from "./report";
import { filledStudy, type OurSampler, runStudy, type StudyRun, suggestionSeconds } from "./simulate";

export interface SamplerBenchOptions {
  /** Studies per sampler and objective, seeded 0..seeds-1 (default 20). */
  seeds?: number;
  /** Trials per study (default 50). */
  trials?: number;
  /** Also time one suggestion of ours at this many finished trials (default 1000; 0: skip). */
  historyForTiming?: number;
  /** Write the report as JSON here too. */
  json?: string;
  /** Progress lines (default: stderr). */
  log?: (s: string) => void;
}

const OURS: readonly OurSampler[] = ["tpe", "bayesian", "random"];

const rowOf = (objective: string, sampler: string, runs: StudyRun[], msAt1000: number | null): SamplerRow =>
  samplerRow(
    objective,
    sampler,
    runs.map((r) => r.bestSoFar.at(-1)!),
    runs.flatMap((r) => r.suggestSeconds),
    msAt1000,
  );

/**
 * Issue 21's sampler benchmark: our TPE, Bayesian and random samplers and Optuna's TPESampler on Branin and
 * Hartmann-6, the same seeds and trial budget for each, best value after the budget and time per suggestion.
 * Throws BenchError when Optuna is missing (the comparison is the point).
 */
export async function runSamplerBench(o: SamplerBenchOptions = {}): Promise<SamplerBenchReport> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const missing = optunaUnavailable();
  if (missing) throw new BenchError(`bench --samplers compares with Optuna, but ${missing}`);
  const started = new Date();
  const loadBefore = os.loadavg();
  const trials = o.trials ?? 50;
  const seeds = Array.from({ length: o.seeds ?? 20 }, (_, i) => i);
  const history = o.historyForTiming ?? 1000;
  const rows: SamplerRow[] = [];
  for (const objective of SYNTHETIC_OBJECTIVES) {
    const filled = history > 0 ? filledStudy(objective, history) : undefined;
    for (const sampler of OURS) {
      log(`${objective.name}: ${sampler}, ${seeds.length} studies of ${trials} trials`);
      const runs = seeds.map((seed) => runStudy(sampler, objective, seed, trials));
      const at = filled && sampler !== "random" ? 1000 * suggestionSeconds(sampler, filled) : null;
      rows.push(rowOf(objective.name, sampler, runs, at));
    }
    log(`${objective.name}: optuna-tpe, ${seeds.length} studies of ${trials} trials`);
    const optunaAt = filled
      ? 1000 *
        optunaSuggestionSeconds(
          objective,
          filled.trials.map((t) => t.params),
          filled.trials.map((t) => t.history[0]!),
        )
      : null;
    rows.push(rowOf(objective.name, "optuna-tpe", await runOptunaTpe(objective, seeds, trials), optunaAt));
  }
  const report: SamplerBenchReport = { trials, seeds, rows, environment: machineEnvironment(started, loadBefore) };
  if (o.json) writeFileAtomic(o.json, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
