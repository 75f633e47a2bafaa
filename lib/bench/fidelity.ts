// `fashion-ann bench --fidelity`: issue 20's fidelity over seeds. The tutorial config trains N times on the default
// engine (`fashion-ann train`, in a child, as a user runs it) and N times in Keras (bench/keras_peer.py: Sequential,
// compile, fit at batch 32, evaluate), seed after seed in one sitting; the test accuracy and loss of each side are
// summarized as mean ± std over the seeds and compared by ./fidelity-stats.ts's rule.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { childEnvironment, resolveConfig } from "../config";
import { writeFileAtomic } from "../io/atomic";
import { type Agreement, AGREEMENT_STDS, agreement, type SeedSummary, summarize } from "./fidelity-stats";
import { kerasPeerUnavailable, runPeer } from "./peer";
import { BenchError, machineEnvironment } from "./report";

export interface FidelityOptions {
  /** Seeds per engine (default 5): firstSeed, firstSeed + 1, … */
  seeds?: number;
  /** Epochs of every run (default 30, the tutorial's). */
  epochs?: number;
  /** Default 42, the tutorial's. */
  firstSeed?: number;
  dataDir?: string;
  /** Write the report here as JSON (atomically). */
  json?: string;
  log?: (line: string) => void;
}

/** One training run's outcome on the test set. */
export interface FidelityRun {
  seed: number;
  side: "ours" | "keras";
  test_loss: number;
  test_accuracy: number;
  /** Wall seconds of the whole run (data loading and evaluation included). */
  seconds: number;
  /** The engine that trained ("native", "wasm", … or "keras"). */
  engine: string;
}

/** One metric on both sides over the seeds, and whether they agree. */
export interface FidelityMetric {
  ours: SeedSummary;
  keras: SeedSummary;
  agreement: Agreement;
}

export interface FidelityReport {
  epochs: number;
  seeds: number[];
  runs: FidelityRun[];
  accuracy: FidelityMetric;
  loss: FidelityMetric;
  environment: Record<string, unknown>;
}

/** Trains every seed on both sides, one run at a time (they would share the cores), and compares the two. */
export async function runFidelity(options: FidelityOptions = {}): Promise<FidelityReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const n = options.seeds ?? 5;
  if (!Number.isInteger(n) || n < 2) throw new BenchError(`--seeds must be a whole number of at least 2 (a spread needs two), got ${n}`);
  const missing = kerasPeerUnavailable();
  if (missing) throw new BenchError(`bench --fidelity needs Keras: ${missing}`);
  const epochs = options.epochs ?? 30;
  const first = options.firstSeed ?? 42;
  const seeds = Array.from({ length: n }, (_, i) => first + i);
  const started = new Date();
  const loadBefore = os.loadavg();
  const runs: FidelityRun[] = [];
  for (const seed of seeds) {
    // Alternating sides keeps a change in the machine's load from falling on one side only.
    for (const side of ["ours", "keras"] as const) {
      log(`fidelity: seed ${seed}, ${side === "ours" ? "this project" : "Keras"}, ${epochs} epoch${epochs === 1 ? "" : "s"}`);
      const run = side === "ours" ? await trainOurs(seed, epochs, options.dataDir) : await trainKeras(seed, epochs, options.dataDir);
      log(
        `fidelity: seed ${seed}, ${side}: test_accuracy ${run.test_accuracy.toFixed(4)}, test_loss ${run.test_loss.toFixed(4)} (${run.seconds.toFixed(0)} s)`,
      );
      runs.push(run);
    }
  }
  const metric = (key: "test_accuracy" | "test_loss"): FidelityMetric => {
    const ours = summarize(runs.filter((r) => r.side === "ours").map((r) => r[key]));
    const keras = summarize(runs.filter((r) => r.side === "keras").map((r) => r[key]));
    return { ours, keras, agreement: agreement(ours, keras) };
  };
  const report: FidelityReport = {
    epochs,
    seeds,
    runs,
    accuracy: metric("test_accuracy"),
    loss: metric("test_loss"),
    environment: { ...machineEnvironment(started, loadBefore), rule: `|mean difference| <= ${AGREEMENT_STDS} x pooled std over seeds` },
  };
  if (options.json) writeFileAtomic(path.resolve(options.json), JSON.stringify(report, null, 2) + "\n");
  return report;
}

/** `fashion-ann train --epochs E --set seed=S --no-figures` in a child; its metrics.json. */
async function trainOurs(seed: number, epochs: number, dataDir: string | undefined): Promise<FidelityRun> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-fidelity-"));
  const out = path.join(tmp, "run");
  const began = performance.now();
  try {
    const args = ["train", "--epochs", String(epochs), "--set", `seed=${seed}`, "--no-figures", "--out", out];
    if (dataDir) args.push("--set", `dataDir=${dataDir}`);
    await runChild(path.join(__dirname, "../cli/main.js"), args);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8")) as {
      test_loss: number;
      test_accuracy: number;
      backend: string;
    };
    const seconds = (performance.now() - began) / 1000;
    return { seed, side: "ours", test_loss: metrics.test_loss, test_accuracy: metrics.test_accuracy, seconds, engine: metrics.backend };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** bench/keras_peer.py on the tutorial config with this seed, evaluated on the test set. */
async function trainKeras(seed: number, epochs: number, dataDir: string | undefined): Promise<FidelityRun> {
  const config = resolveConfig({ epochs, seed, ...(dataDir && { dataDir }) });
  const began = performance.now();
  const raw = await runPeer({ config, samples: 60_000 - config.validationSize, test: true }, "keras");
  if (raw.test_loss === undefined || raw.test_accuracy === undefined)
    throw new BenchError("bench/keras_peer.py: asked for the test set's loss and accuracy, its report has none");
  const seconds = (performance.now() - began) / 1000;
  return { seed, side: "keras", test_loss: raw.test_loss, test_accuracy: raw.test_accuracy, seconds, engine: "keras" };
}

/** A node child whose output goes to our stderr (stdout keeps only the table); rejects on a non-zero exit. */
function runChild(script: string, args: string[]): Promise<void> {
  if (!fs.existsSync(script)) throw new BenchError(`${script} not found; run \`npm run build\` first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: childEnvironment({}), stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      code === 0 ? resolve() : reject(new BenchError(`fashion-ann ${args.join(" ")} exited with ${signal ?? `code ${code}`}`)),
    );
  });
}

/** The table stdout shows: mean ± std of each metric on each side, the difference and the verdict. */
export function formatFidelity(report: FidelityReport): string {
  const pm = (s: SeedSummary, digits: number) => `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
  const row = (name: string, m: FidelityMetric, digits: number) => {
    const a = m.agreement;
    const welch = a.welchT === null ? "-" : `t ${a.welchT.toFixed(2)}, df ${a.welchDf!.toFixed(1)}`;
    return `${name.padEnd(14)} ${pm(m.ours, digits).padEnd(20)} ${pm(m.keras, digits).padEnd(20)} ${a.difference.toFixed(digits).padStart(8)}  ${(AGREEMENT_STDS * a.pooledStd).toFixed(digits).padStart(8)}  ${(a.agree ? "agree" : "differ").padEnd(7)} ${welch}`;
  };
  const engine = [...new Set(report.runs.filter((r) => r.side === "ours").map((r) => r.engine))].join(", ");
  return [
    `fidelity over seeds ${report.seeds.join(", ")}: tutorial config, ${report.epochs} epoch${report.epochs === 1 ? "" : "s"}; this project on ${engine}, Keras on TensorFlow CPU`,
    `${"metric".padEnd(14)} ${"ours (mean ± std)".padEnd(20)} ${"Keras (mean ± std)".padEnd(20)} ${"diff".padStart(8)}  ${`${AGREEMENT_STDS}·pooled`.padStart(8)}  ${"verdict".padEnd(7)} Welch`,
    row("test_accuracy", report.accuracy, 4),
    row("test_loss", report.loss, 4),
    `agreement rule: |mean difference| <= ${AGREEMENT_STDS} x pooled std over seeds (√((s_ours² + s_keras²)/2)); Welch's t is shown, not used`,
    "",
  ].join("\n");
}
