import type * as Table from "table";
import type { BackendName } from "../config";
import * as os from "node:os";
import { lazyRequire } from "../io/lazy";
import { UserError } from "../errors/user-error";

const tables = lazyRequire<typeof Table>("table");

/**
 * What `fashion-ann bench` times: the tfjs backends (wasm as the default path runs it, threads included),
 * the fast wasm path on one thread, the stock-fit baseline on wasm, the PyTorch peer and the Keras peer.
 */
export const BENCH_BACKENDS = [
  "tensorflow",
  "native",
  "native-1thread",
  "wasm",
  "wasm-1thread",
  "wasm-stock",
  "cpu",
  "pytorch",
  "keras",
] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];
const ALL_BACKENDS: readonly string[] = BENCH_BACKENDS;

/** The cpu row (pure JS, far slower than the others) times this many batches of one epoch and extrapolates. */
export const DEFAULT_CPU_BATCHES = 200;

/** One timed epoch, as a benchmark child (node or Python) reports it. Seconds are wall-clock. */
export interface EpochRecord {
  /** Training + validation of the epoch (extrapolated to a full epoch when `batches_timed` is set). */
  seconds: number;
  /** Training only: first batch start to last batch end (extrapolated likewise). */
  train_seconds: number;
  val_accuracy: number;
  val_loss: number;
  /** Live tensors after the epoch (tf.memory().numTensors); null for PyTorch. */
  tensors: number | null;
  /** Resident set size after the epoch, MiB. */
  rss_mb: number;
}

/** The raw outcome of one backend's child process: the wire format between child and parent. */
export interface RawRun {
  backend: BenchBackend;
  batch_size: number;
  /** Training images per epoch (55,000 with the tutorial's split). */
  samples: number;
  /** Batches per full epoch. */
  steps: number;
  epochs: EpochRecord[];
  /** process.resourceUsage().maxRSS / getrusage ru_maxrss of the child, MiB. */
  peak_rss_mb: number;
  /** Set when only this many batches were timed and the epoch was extrapolated. */
  batches_timed?: number;
  /** User + system CPU seconds of the child over its whole life (all its threads). */
  cpu_seconds?: number;
  /** Free text for the table's notes column, e.g. "SIMD on, 1 thread" or "torch 1.13, 2 threads". */
  note?: string;
  /** The test set's loss and accuracy after training, when the peer was asked for them (bench --fidelity). */
  test_loss?: number;
  test_accuracy?: number;
}

/** One row of the benchmark's JSON and table. */
export interface BenchResult {
  backend: BenchBackend;
  batch_size: number;
  /** Median over the timed epochs of training + validation seconds. */
  seconds_per_epoch: number;
  /** Median over the timed epochs of training-only seconds. */
  train_seconds_per_epoch: number;
  epoch_seconds: number[];
  /** Training images per second of training time (validation excluded). */
  samples_per_second: number;
  /** After the last timed epoch (after `batches_timed` batches when extrapolated). */
  val_accuracy: number;
  peak_rss_mb: number;
  /** seconds_per_epoch / PyTorch's; null when the peer did not run. Above 1 = slower than PyTorch. */
  ratio_to_pytorch: number | null;
  /** seconds_per_epoch / Keras's (TensorFlow CPU); null when the Keras peer did not run. */
  ratio_to_keras: number | null;
  epochs_timed: number;
  extrapolated: boolean;
  batches_timed: number | null;
  tensors_epoch1: number | null;
  tensors_last: number | null;
  rss_mb_epoch1: number;
  rss_mb_last: number;
  /** Cores' worth of CPU other processes used while this row ran (null where /proc/stat is absent). */
  other_load: number | null;
  notes: string;
}

/** A backend that was asked for but could not run, with the reason. */
export interface BenchSkip {
  backend: BenchBackend;
  reason: string;
}

export interface BenchReport {
  results: BenchResult[];
  skipped: BenchSkip[];
  /** Conditions of the measurement: node, cpus, load average, options. */
  environment: Record<string, unknown>;
}

export class BenchError extends UserError {
  override name = "BenchError";
}

/** Splits and checks a `--backends` value such as "wasm,pytorch"; order is kept, duplicates dropped. */
export function parseBackendList(value: string): BenchBackend[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) throw new BenchError(`--backends expects a comma-separated list of ${ALL_BACKENDS.join(", ")}, got "${value}"`);
  const unknown = names.filter((n) => !ALL_BACKENDS.includes(n));
  if (unknown.length) {
    throw new BenchError(
      `--backends: unknown backend ${unknown.map((n) => `"${n}"`).join(", ")}; expected some of ${ALL_BACKENDS.join(", ")}`,
    );
  }
  return [...new Set(names as BenchBackend[])];
}

/**
 * Seconds for a full epoch from a partial one: the per-batch time of batches 2..N (batch 1 pays
 * warm-up: kernel set-up, first allocations) times the epoch's batches, plus the validation pass,
 * which always runs in full.
 * @param firstBatchEnd, lastBatchEnd seconds since the epoch began, at the end of batch 1 and batch N
 */
export function extrapolateEpoch(o: {
  steps: number;
  batchesTimed: number;
  firstBatchEnd: number;
  lastBatchEnd: number;
  validationSeconds: number;
}): {
  train_seconds: number;
  seconds: number;
} {
  if (!Number.isInteger(o.batchesTimed) || o.batchesTimed < 2) {
    throw new BenchError(`extrapolation needs at least 2 timed batches (the first is warm-up), got ${o.batchesTimed}`);
  }
  const perBatch = (o.lastBatchEnd - o.firstBatchEnd) / (o.batchesTimed - 1);
  const train = o.firstBatchEnd + perBatch * (o.steps - 1);
  return { train_seconds: train, seconds: train + o.validationSeconds };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new BenchError("median of no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// Other processes using this much of a core on average make the row's times suspect; the note says so.
const BUSY_LOAD = 0.15;

/**
 * Average cores other processes kept busy during a row: the machine's busy CPU seconds (from
 * /proc/stat) minus the row's own, over the wall time. Timings on a shared machine need this beside them.
 */
export function otherLoad(machineBusySeconds: number, ownCpuSeconds: number, wallSeconds: number): number {
  if (!(wallSeconds > 0)) throw new BenchError(`wall time must be positive, got ${wallSeconds}`);
  return Math.max(0, machineBusySeconds - ownCpuSeconds) / wallSeconds;
}

/** One row from a child's raw report; the ratio is filled in by `withRatios` once every row is in. */
export function summarizeRun(raw: RawRun, conditions: { otherLoad?: number } = {}): BenchResult {
  if (raw.epochs.length === 0) throw new BenchError(`${raw.backend}: the child reported no epochs`);
  const first = raw.epochs[0]!;
  const last = raw.epochs[raw.epochs.length - 1]!;
  const trainSeconds = median(raw.epochs.map((e) => e.train_seconds));
  const extrapolated = raw.batches_timed !== undefined;
  const notes = [
    extrapolated
      ? `val_accuracy after ${raw.batches_timed} batches only`
      : `median of ${raw.epochs.length} epoch${raw.epochs.length === 1 ? "" : "s"}`,
  ];
  if (raw.note) notes.push(raw.note);
  if (conditions.otherLoad !== undefined && conditions.otherLoad >= BUSY_LOAD)
    notes.push(`machine busy: other processes used ${conditions.otherLoad.toFixed(1)} cores`);
  return {
    backend: raw.backend,
    batch_size: raw.batch_size,
    seconds_per_epoch: median(raw.epochs.map((e) => e.seconds)),
    train_seconds_per_epoch: trainSeconds,
    epoch_seconds: raw.epochs.map((e) => e.seconds),
    samples_per_second: raw.samples / trainSeconds,
    val_accuracy: last.val_accuracy,
    peak_rss_mb: raw.peak_rss_mb,
    ratio_to_pytorch: null,
    ratio_to_keras: null,
    epochs_timed: raw.epochs.length,
    extrapolated,
    batches_timed: raw.batches_timed ?? null,
    tensors_epoch1: first.tensors,
    tensors_last: last.tensors,
    rss_mb_epoch1: first.rss_mb,
    rss_mb_last: last.rss_mb,
    other_load: conditions.otherLoad ?? null,
    notes: notes.join("; "),
  };
}

/** Each row's seconds per epoch divided by the PyTorch peer's and the Keras peer's (null where that peer has no row). */
export function withRatios(results: readonly BenchResult[]): BenchResult[] {
  const ratio = (r: BenchResult, peer: BenchResult | undefined) => (peer ? r.seconds_per_epoch / peer.seconds_per_epoch : null);
  const pytorch = results.find((r) => r.backend === "pytorch");
  const keras = results.find((r) => r.backend === "keras");
  return results.map((r) => ({ ...r, ratio_to_pytorch: ratio(r, pytorch), ratio_to_keras: ratio(r, keras) }));
}

/** The row label: the backend, plus how it was timed when that changes how to read the numbers. */
function rowLabel(r: Pick<BenchResult, "backend" | "extrapolated" | "batches_timed">): string {
  return r.extrapolated ? `${r.backend} (extrapolated from ${r.batches_timed} batches)` : r.backend;
}

const HEADER = ["backend", "s/epoch", "samples/s", "val_accuracy", "peak RSS MB", "x PyTorch", "x Keras", "notes"];
const times = (ratio: number | null): string => (ratio === null ? "-" : `${ratio.toFixed(2)}x`);

/** Table cells, header first; skipped backends get a row of dashes and the reason. */
export function tableRows(report: Pick<BenchReport, "results" | "skipped">): string[][] {
  const rows = report.results.map((r) => [
    rowLabel(r),
    r.seconds_per_epoch.toFixed(2),
    Math.round(r.samples_per_second).toLocaleString("en-US"),
    r.val_accuracy.toFixed(4),
    r.peak_rss_mb.toFixed(0),
    times(r.ratio_to_pytorch),
    times(r.ratio_to_keras),
    [r.notes, leakNote(r)].filter(Boolean).join("; "),
  ]);
  const skipped = report.skipped.map((s) => [s.backend, "-", "-", "-", "-", "-", "-", `skipped: ${s.reason}`]);
  return [HEADER, ...rows, ...skipped];
}

/** Tensor count and RSS at the first vs last epoch, the leak check the issue asks for. */
function leakNote(r: BenchResult): string {
  if (r.epochs_timed < 2) return "";
  const tensors = r.tensors_epoch1 === null ? "" : `tensors ${r.tensors_epoch1}->${r.tensors_last}, `;
  return `${tensors}RSS ${r.rss_mb_epoch1.toFixed(0)}->${r.rss_mb_last.toFixed(0)} MB`;
}

/** The table as printed on stdout. */
export function formatTable(report: Pick<BenchReport, "results" | "skipped">): string {
  return tables().table(tableRows(report), {
    columns: {
      0: { width: 20, wrapWord: true },
      1: { alignment: "right" },
      2: { alignment: "right" },
      3: { alignment: "right" },
      4: { alignment: "right" },
      5: { alignment: "right" },
      6: { alignment: "right" },
      7: { width: 40, wrapWord: true },
    },
    drawHorizontalLine: (line, rowCount) => line === 0 || line === 1 || line === rowCount,
  });
}

/** What `--json FILE` holds. */
export function reportJson(report: BenchReport): string {
  return JSON.stringify({ results: report.results, skipped: report.skipped, environment: report.environment }, null, 2) + "\n";
}

/** The tfjs backend a bench row runs on ("wasm-1thread" and "wasm-stock" are wasm, "native-1thread" native). */
export function engineOf(row: Exclude<BenchBackend, "pytorch" | "keras">): BackendName {
  return row.startsWith("wasm") ? "wasm" : row.startsWith("native") ? "native" : (row as BackendName);
}

/**
 * Where and when a bench ran, for its JSON: both benches record it the same way, so a reader can tell a busy machine
 * (load average before and after, 1/5/15 min) from a slow engine.
 */
export function machineEnvironment(started: Date, loadBefore: number[]): Record<string, unknown> {
  return {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    load_average_before: loadBefore.map((l) => Number(l.toFixed(2))),
    load_average_after: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}
