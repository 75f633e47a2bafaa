// `fashion-ann bench --keras-target`: issue 20's speed target, measured in one sitting. Two configs, the tutorial's
// and Géron's Adam + dropout + BatchNormalization, each timed on the default engine, the PyTorch peer and the Keras
// peer; the verdict says whether the default engine takes at most 0.25x Keras's seconds per epoch on both.
import * as path from "node:path";
import type { ConfigOverrides } from "../config";
import { writeFileAtomic } from "../io/atomic";
import { type BenchBackend, type BenchReport, formatTable } from "./report";
import { type BenchOptions, defaultEngine, runBench } from "./run";

/** The default engine's seconds per epoch may be at most this fraction of Keras's (issue 20, part 4). */
export const KERAS_TARGET = 0.25;

/** The two configs the target holds for, by a readable name and the `--set` fields that make them. */
const KERAS_TARGET_CONFIGS: readonly { name: string; overrides: ConfigOverrides }[] = [
  { name: "tutorial", overrides: {} },
  { name: "adam + dropout 0.2 + BN", overrides: { optimizer: "adam", dropout: 0.2, batchNorm: true } },
];

/** One config's verdict: the default engine's and Keras's seconds per epoch, or why one of them has no row. */
export interface KerasTargetVerdict {
  config: string;
  engine: BenchBackend;
  engineSeconds: number | null;
  kerasSeconds: number | null;
  /** engineSeconds / kerasSeconds; null when either row is missing. */
  ratio: number | null;
  met: boolean;
}

export interface KerasTargetReport {
  engine: BenchBackend;
  runs: { config: string; overrides: ConfigOverrides; report: BenchReport }[];
  verdicts: KerasTargetVerdict[];
  /** True only when every config met the target. */
  met: boolean;
}

/** Whether `engine`'s row in `report` is within KERAS_TARGET of the Keras row. */
export function kerasTargetVerdict(config: string, engine: BenchBackend, report: Pick<BenchReport, "results">): KerasTargetVerdict {
  const seconds = (backend: BenchBackend) => report.results.find((r) => r.backend === backend)?.seconds_per_epoch ?? null;
  const engineSeconds = seconds(engine);
  const kerasSeconds = seconds("keras");
  const ratio = engineSeconds !== null && kerasSeconds !== null ? engineSeconds / kerasSeconds : null;
  return { config, engine, engineSeconds, kerasSeconds, ratio, met: ratio !== null && ratio <= KERAS_TARGET };
}

/** Both configs, one after the other, each on [default engine, pytorch, keras]; the JSON (when asked) holds both. */
export async function runKerasTarget(options: Omit<BenchOptions, "overrides" | "backends"> = {}): Promise<KerasTargetReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const engine = defaultEngine();
  const runs: KerasTargetReport["runs"] = [];
  for (const { name, overrides } of KERAS_TARGET_CONFIGS) {
    log(`keras target: ${name}`);
    const report = await runBench({ ...options, json: undefined, overrides, backends: [engine, "pytorch", "keras"], log });
    runs.push({ config: name, overrides, report });
  }
  const verdicts = runs.map((r) => kerasTargetVerdict(r.config, engine, r.report));
  const result = { engine, runs, verdicts, met: verdicts.every((v) => v.met) };
  if (options.json) writeFileAtomic(path.resolve(options.json), JSON.stringify(result, null, 2) + "\n");
  return result;
}

/** One line per config and the overall line, e.g. "tutorial: native 0.59 s/epoch = 0.18x Keras's 3.26: met". */
export function kerasTargetLines(report: Pick<KerasTargetReport, "verdicts" | "met">): string[] {
  const lines = report.verdicts.map((v) => {
    const head = `${v.config}: ${v.engine}`;
    if (v.ratio === null)
      return `${head}: no verdict (${v.engineSeconds === null ? `${v.engine} did not run` : "the Keras peer did not run"}): not met`;
    return `${head} ${v.engineSeconds!.toFixed(2)} s/epoch = ${v.ratio.toFixed(2)}x Keras's ${v.kerasSeconds!.toFixed(2)}: ${v.met ? "met" : "not met"}`;
  });
  const verdict = `Keras target (default engine <= ${KERAS_TARGET}x Keras's s/epoch on both configs, one sitting): ${report.met ? "MET" : "NOT MET"}`;
  return [...lines, verdict];
}

/** What stdout shows: each config's table under its name, then the verdict lines. */
export function formatKerasTarget(report: KerasTargetReport): string {
  const tables = report.runs.map((r) => `${r.config} (${overridesText(r.overrides)})\n${formatTable(r.report)}`);
  return `${tables.join("\n")}\n${kerasTargetLines(report).join("\n")}\n`;
}

function overridesText(overrides: ConfigOverrides): string {
  const fields = Object.entries(overrides).map(([k, v]) => `--set ${k}=${String(v)}`);
  return fields.length ? fields.join(" ") : "defaults";
}
