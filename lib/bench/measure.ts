import * as tf from "@tensorflow/tfjs";
import { formatBackend, initBackend, nativeDetails, wasmDetails } from "../engine/backend";
import { latestNativeCounters } from "../engine/native";
import { type ConfigOverrides, resolveConfig } from "../config";
import { loadData } from "../runs/experiment";
import { createModel } from "../model/factory";
import { evaluateArrays, train } from "../train/fit";
import type { Logs, TrainCallbacks } from "../train/callbacks/callback";
import { BenchError, engineOf, extrapolateEpoch, type EpochRecord, type RawRun } from "./report";

/** What a benchmark child runs: one tfjs backend (or the stock-fit baseline), sent by the parent over IPC. */
export interface MeasureSpec {
  backend: "tensorflow" | "native" | "native-1thread" | "wasm" | "wasm-1thread" | "wasm-stock" | "cpu";
  epochs: number;
  batchSize: number;
  seed: number;
  dataDir: string;
  /** Time only this many batches of one epoch and extrapolate (the cpu backend); unset = full epochs. */
  maxBatches?: number;
  /** Config fields other than the above (optimizer, activation, batchNorm, dropout, ...). */
  overrides?: ConfigOverrides;
}

const MB = 1024 * 1024;

/**
 * Trains the tutorial model on the real data in this process and times each epoch. The fast paths
 * use the project's own `train()`; "wasm-stock" is the baseline, tfjs's own `model.fit` on the stock
 * kernels (the parent sets FASHION_ANN_STOCK_KERNELS=1 for that child).
 */
export async function measureBackend(
  spec: MeasureSpec,
  log: (line: string) => void = (l) => process.stderr.write(l + "\n"),
): Promise<RawRun> {
  const tfBackend = engineOf(spec.backend);
  const config = resolveConfig({
    ...spec.overrides,
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    seed: spec.seed,
    dataDir: spec.dataDir,
    backend: tfBackend,
  });
  const info = await initBackend(config);
  log(`${spec.backend}: ${formatBackend(info)}`);
  const data = await loadData(config);
  const model = createModel(config);
  const samples = data.train.x.shape[0]!;
  const steps = Math.ceil(samples / config.batchSize);
  const clock = new EpochClock(spec, steps, log);
  if (spec.backend === "wasm-stock") {
    await stockFit(model, data, config, clock.callbacks(model));
  } else {
    await train(model, data, config, { progress: "none", callbacks: clock.callbacks(model) });
    // train() drops an epoch stopped part-way (no validation, no onEpochEnd): validate it here, with train()'s own evaluator.
    if (clock.extrapolating && clock.records.length === 0) {
      clock.epochEnd(
        0,
        (() => {
          const v = evaluateArrays(model, data.valid);
          return { val_loss: v.loss, val_accuracy: v.accuracy };
        })(),
      );
    }
  }
  model.dispose();
  const how =
    spec.backend === "wasm-stock"
      ? "stock kernels + model.fit (its own Math.random shuffle)"
      : spec.backend.startsWith("wasm")
        ? "fast kernels + train()"
        : spec.backend.startsWith("native")
          ? `fused native step + train()${matmulShare()}`
          : "train()";
  return {
    backend: spec.backend,
    batch_size: config.batchSize,
    samples,
    steps,
    epochs: clock.records,
    peak_rss_mb: (process.resourceUsage().maxRSS * 1024) / MB,
    cpu_seconds: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1e6,
    ...(clock.extrapolating ? { batches_timed: spec.maxBatches } : {}),
    note: `${how}${info.name === "wasm" ? ` (${wasmDetails(info)})` : info.name === "native" ? ` (${nativeDetails(info)})` : ""}`,
  };
}

/**
 * Keras-style callbacks that time each epoch. With `maxBatches` set it stops training after that
 * many batches; the validation pass then runs in full and the epoch is extrapolated.
 */
class EpochClock {
  readonly records: EpochRecord[] = [];
  readonly extrapolating: boolean;
  private begin = 0;
  private firstBatchEnd = 0;
  private lastBatchEnd = 0;
  private batches = 0;

  constructor(
    private readonly spec: MeasureSpec,
    private readonly steps: number,
    private readonly log: (line: string) => void,
  ) {
    this.extrapolating = spec.maxBatches !== undefined && spec.maxBatches < steps;
  }

  callbacks(model: tf.LayersModel): TrainCallbacks {
    const progressEvery = Math.max(1, Math.floor((this.spec.maxBatches ?? this.steps) / 4));
    return {
      onEpochBegin: (epoch) => {
        this.log(`${this.spec.backend}: epoch ${epoch + 1}/${this.spec.epochs} ...`);
        this.batches = 0;
        this.begin = performance.now();
      },
      onBatchEnd: () => {
        this.lastBatchEnd = performance.now();
        if (++this.batches === 1) this.firstBatchEnd = this.lastBatchEnd;
        if (this.extrapolating) {
          if (this.batches % progressEvery === 0) this.log(`${this.spec.backend}: batch ${this.batches}/${this.spec.maxBatches}`);
          if (this.batches >= this.spec.maxBatches!) model.stopTraining = true;
        }
      },
      onEpochEnd: (epoch, logs) => this.epochEnd(epoch, logs),
    };
  }

  /** Records the epoch that began at the last onEpochBegin; `logs` must hold the validation metrics. */
  epochEnd(epoch: number, logs: Logs): void {
    const end = performance.now();
    const valAccuracy = logs.val_accuracy ?? logs.val_acc;
    if (valAccuracy === undefined || logs.val_loss === undefined)
      throw new BenchError(`${this.spec.backend}: epoch ${epoch + 1} logged no validation metrics (${Object.keys(logs).join(", ")})`);
    const s = (t: number): number => (t - this.begin) / 1000;
    const times = this.extrapolating
      ? extrapolateEpoch({
          steps: this.steps,
          batchesTimed: this.batches,
          firstBatchEnd: s(this.firstBatchEnd),
          lastBatchEnd: s(this.lastBatchEnd),
          validationSeconds: s(end) - s(this.lastBatchEnd),
        })
      : { seconds: s(end), train_seconds: s(this.lastBatchEnd) };
    // No forced gc() here to flatten RSS's sawtooth: after a full collection the following epoch runs
    // slower (the heap is regrown), a cost no user's run pays. Live tensors are the exact leak count.
    this.records.push({
      ...times,
      val_accuracy: valAccuracy,
      val_loss: logs.val_loss,
      tensors: tf.memory().numTensors,
      rss_mb: process.memoryUsage().rss / MB,
    });
    this.log(
      `${this.spec.backend}: epoch ${epoch + 1}/${this.spec.epochs} ${times.seconds.toFixed(2)} s${this.extrapolating ? " (extrapolated)" : ""}, val_accuracy ${valAccuracy.toFixed(4)}`,
    );
  }
}

/** The baseline: `model.fit(X_train, y_train, epochs, validation_data=(X_valid, y_valid))` exactly as tfjs ships it. */
async function stockFit(
  model: tf.LayersModel,
  data: Awaited<ReturnType<typeof loadData>>,
  config: { epochs: number; batchSize: number },
  callbacks: TrainCallbacks,
): Promise<void> {
  const tensors = (set: typeof data.train): [tf.Tensor, tf.Tensor] => [
    tf.tensor(set.x.data, [...set.x.shape]),
    tf.tensor1d(Float32Array.from(set.y.data), "float32"),
  ];
  const [x, y] = tensors(data.train);
  const [xv, yv] = tensors(data.valid);
  try {
    await model.fit(x, y, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      validationData: [xv, yv],
      shuffle: true,
      verbose: 0,
      callbacks: {
        onEpochBegin: async (epoch) => callbacks.onEpochBegin?.(epoch),
        onBatchEnd: async (batch, logs) => callbacks.onBatchEnd?.(batch, (logs ?? {}) as Record<string, number>),
        onEpochEnd: async (epoch, logs) => callbacks.onEpochEnd?.(epoch, (logs ?? {}) as Record<string, number>),
      },
    });
  } finally {
    tf.dispose([x, y, xv, yv]);
  }
}

/** What a bench worker process sends back to the parent over IPC. */
export type WorkerReply = { result: RawRun } | { error: string };

/** Where the fused native steps spent their time: the share in matrix products, so the next lever is visible. */
function matmulShare(): string {
  const c = latestNativeCounters();
  if (!c || c.stepMs <= 0) return "";
  const pct = (100 * c.sgemmMs) / c.stepMs;
  return `; matmuls ${pct.toFixed(0)}% of the step (${(c.sgemmMs / c.steps).toFixed(3)} of ${(c.stepMs / c.steps).toFixed(3)} ms), gather ${(c.gatherMs / c.steps).toFixed(3)} ms`;
}
