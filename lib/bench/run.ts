// `fashion-ann bench`: each backend trains the tutorial model in its own child process; the
// PyTorch peer runs the same model, data and batch order; one table and one JSON come out.
import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic";
import { machineBusySeconds, ownCpuSeconds } from "../engine/machine";
import { childEnvironment, type ConfigOverrides, resolveConfig } from "../config";
import type { MeasureSpec, WorkerReply } from "./measure";
import { loadAddon } from "../engine/native";
import { kerasPeerUnavailable, peerCannotMirror, peerUnavailable, runPeer } from "./peer";
import {
  machineEnvironment,
  BENCH_BACKENDS,
  BenchError,
  DEFAULT_CPU_BATCHES,
  otherLoad,
  reportJson,
  summarizeRun,
  withRatios,
  type BenchBackend,
  type BenchReport,
  type BenchResult,
  type BenchSkip,
  type RawRun,
  engineOf,
} from "./report";

export interface BenchOptions {
  /** Timed epochs per backend (default 1). */
  epochs?: number;
  /** Mini-batch size for every backend and the peer (default 32, the tutorial's). */
  batchSize?: number;
  /** Which rows, in order (default BENCH_BACKENDS). */
  backends?: readonly BenchBackend[];
  /** The cpu backend (pure JS, far slower than the others) times this many batches of one epoch and extrapolates (default 200). */
  cpuBatches?: number;
  seed?: number;
  dataDir?: string;
  /** Write the report here as JSON (atomically). */
  json?: string;
  /** Config fields for every row (optimizer, activation, batchNorm, dropout, ...), as `--set` gives them. */
  overrides?: ConfigOverrides;
  /** Progress lines; default stderr, so stdout keeps only the table. */
  log?: (line: string) => void;
}

const FASHION_MNIST_TRAIN_IMAGES = 60_000;

/** Runs every requested backend one after the other (never in parallel: they would share the cores). */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const config = resolveConfig({
    ...options.overrides,
    epochs: options.epochs ?? 1,
    batchSize: options.batchSize ?? 32,
    seed: options.seed,
    dataDir: options.dataDir,
  });
  const cpuBatches = options.cpuBatches ?? DEFAULT_CPU_BATCHES;
  if (!Number.isInteger(cpuBatches) || cpuBatches < 2)
    throw new BenchError(`cpuBatches must be an integer of at least 2 (the first batch is warm-up), got ${cpuBatches}`);
  const backends = options.backends ?? BENCH_BACKENDS;
  const started = new Date();
  const loadBefore = os.loadavg();
  const results: BenchResult[] = [];
  const skipped: BenchSkip[] = [];
  for (const backend of backends) {
    const why =
      (backend === "pytorch" ? peerCannotMirror(config) : backend === "keras" ? peerCannotMirror(config, "Keras") : undefined) ??
      unavailable(backend);
    if (why) {
      log(`${backend}: skipped, ${why}`);
      skipped.push({ backend, reason: why });
      continue;
    }
    log(`${backend}: starting`);
    const before = machineSnapshot();
    try {
      const raw =
        backend === "pytorch" || backend === "keras"
          ? await runPeer({ config, samples: FASHION_MNIST_TRAIN_IMAGES - config.validationSize }, backend)
          : await spawnBenchWorker({
              backend,
              epochs: config.epochs,
              batchSize: config.batchSize,
              seed: config.seed,
              dataDir: config.dataDir,
              overrides: options.overrides,
              ...(backend === "cpu" ? { maxBatches: cpuBatches } : {}),
            });
      results.push(summarizeRun(raw, conditionsSince(before, raw.cpu_seconds)));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log(`${backend}: failed, ${reason}`);
      skipped.push({ backend, reason: `failed: ${reason}` });
    }
  }
  const report: BenchReport = {
    results: withRatios(results),
    skipped,
    environment: {
      ...machineEnvironment(started, loadBefore),
      epochs: config.epochs,
      batch_size: config.batchSize,
      seed: config.seed,
      cpu_batches: cpuBatches,
      seconds_per_epoch: "median over the timed epochs of training + validation",
      samples_per_second: "training images / training seconds (validation excluded)",
    },
  };
  if (options.json) writeFileAtomic(path.resolve(options.json), reportJson(report));
  return report;
}

interface MachineSnapshot {
  wall: number;
  /** Busy CPU seconds of the whole machine since boot; undefined off Linux. */
  busy: number | undefined;
  /** This (parent) process's CPU seconds. */
  own: number;
}

function machineSnapshot(): MachineSnapshot {
  return { wall: performance.now() / 1000, busy: machineBusySeconds(), own: ownCpuSeconds() };
}

/** How busy the rest of the machine was while one child ran (its own CPU time and ours excluded). */
function conditionsSince(before: MachineSnapshot, childCpuSeconds: number | undefined): { otherLoad?: number } {
  const now = machineSnapshot();
  if (before.busy === undefined || now.busy === undefined || childCpuSeconds === undefined) return {};
  return { otherLoad: otherLoad(now.busy - before.busy, childCpuSeconds + (now.own - before.own), now.wall - before.wall) };
}

/** The engine `backend: "auto"` picks here: the first of tensorflow, native and wasm that can run. */
export function defaultEngine(): BenchBackend {
  return (["tensorflow", "native"] as const).find((b) => !unavailable(b)) ?? "wasm";
}

/** Why a backend cannot run here, without starting it; undefined if it can be tried. */
function unavailable(backend: BenchBackend): string | undefined {
  if (backend === "pytorch") return peerUnavailable();
  if (backend === "keras") return kerasPeerUnavailable();
  if (backend.startsWith("native")) return loadAddon().reason;
  if (backend === "tensorflow") {
    try {
      require.resolve("@tensorflow/tfjs-node");
    } catch {
      return "@tensorflow/tfjs-node is not installed (optional dependency; its install needs to download libtensorflow)";
    }
  }
  return undefined;
}

/** One tfjs backend in a fresh node process; its stdout (tfjs banners) goes to our stderr. */
function spawnBenchWorker(spec: MeasureSpec): Promise<RawRun> {
  const script = path.join(__dirname, "../cli/bench-worker.js");
  if (!fs.existsSync(script)) throw new BenchError(`${script} not found; run \`npm run build\` first`);
  const env: NodeJS.ProcessEnv = childEnvironment({ FASHION_ANN_BACKEND: engineOf(spec.backend) });
  // The baseline is tfjs as shipped; every other row gets the project's kernels whatever the caller's env says.
  if (spec.backend === "wasm-stock") env.FASHION_ANN_STOCK_KERNELS = "1";
  else delete env.FASHION_ANN_STOCK_KERNELS;
  // The baseline is tfjs's single-threaded wasm, and wasm-1thread isolates what the threads add.
  if (spec.backend === "wasm-stock" || spec.backend === "wasm-1thread" || spec.backend === "native-1thread") env.FASHION_ANN_THREADS = "1";
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { env, stdio: ["ignore", "pipe", "inherit", "ipc"] });
    child.stdout!.pipe(process.stderr, { end: false });
    let reply: WorkerReply | undefined;
    child.on("message", (m: WorkerReply) => (reply = m));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (reply && "result" in reply) resolve(reply.result);
      else if (reply) reject(new BenchError(reply.error));
      else reject(new BenchError(`${spec.backend} child exited with ${signal ?? `code ${code}`} before reporting`));
    });
    child.send(spec);
  });
}
