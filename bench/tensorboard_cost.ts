/*
 * What the TensorBoard callback costs per epoch on the tutorial's run (784 → 300 → 100 → 10, batch 32, SGD 0.01,
 * 55,000 training and 5,000 validation images): the time spent inside its methods (writing records, reading the
 * weights for the histograms, fdatasync at each epoch end), set beside the epoch's wall time, for Keras's defaults
 * (epoch scalars only), the project's default (histograms every epoch) and per-batch scalars every 100 batches.
 *
 *   npm run build && npx vite-node bench/tensorboard_cost.ts [-- --epochs 3]
 *
 * Prints one JSON line per setting: { setting, epochMs: [...], callbackMs: [...], share }.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { resolveConfig, type TensorBoardOptions } from "../lib/config";
import { createModel } from "../lib/model/factory";
import { loadData } from "../lib/runs/experiment";
import type { TrainCallbacks } from "../lib/train/callbacks/callback";
import { tensorBoardCallback } from "../lib/train/callbacks/tensorboard";
import { train } from "../lib/train/fit";
import { initBackend } from "../lib/engine/backend";

const { values } = parseArgs({ options: { epochs: { type: "string", default: "3" } } });
const epochs = Number(values.epochs);

/** The callback with every method timed. */
function timed(cb: TrainCallbacks, spent: { ms: number }): TrainCallbacks {
  const wrap =
    <A extends unknown[]>(f?: (...a: A) => void | Promise<void>) =>
    async (...a: A) => {
      const t = performance.now();
      await f?.(...a);
      spent.ms += performance.now() - t;
    };
  return { onTrainBegin: wrap(cb.onTrainBegin), onBatchEnd: wrap(cb.onBatchEnd), onEpochEnd: wrap(cb.onEpochEnd), onTrainEnd: wrap(cb.onTrainEnd), onEpochBegin: wrap(cb.onEpochBegin) };
}

async function main(): Promise<void> {
  const config = resolveConfig({ epochs });
  await initBackend(config);
  const data = await loadData(config);
  const settings: [string, TensorBoardOptions][] = [
    ["epoch scalars (Keras's defaults)", { histogramFreq: 0, updateFreq: "epoch" }],
    ["+ histograms every epoch (project default)", { histogramFreq: 1, updateFreq: "epoch" }],
    ["+ histograms + batch scalars every 100 batches", { histogramFreq: 1, updateFreq: 100 }],
  ];
  for (const [setting, options] of settings) {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "fashion-ann-tbcost-"));
    const model = createModel(config);
    const spent = { ms: 0 };
    const epochMs: number[] = [];
    const callbackMs: number[] = [];
    let started = 0;
    let spentAtStart = 0;
    const clock: TrainCallbacks = {
      onEpochBegin: () => {
        started = performance.now();
        spentAtStart = spent.ms;
      },
      onEpochEnd: () => {},
    };
    const tb = timed(tensorBoardCallback(model, logDir, options), spent);
    // The clock's epoch end runs after the callback's, so the epoch time includes the callback.
    clock.onEpochEnd = () => {
      epochMs.push(performance.now() - started);
      callbackMs.push(spent.ms - spentAtStart);
    };
    await train(model, data, config, { progress: "none", callbacks: [tb, clock] });
    model.dispose();
    const share = callbackMs.reduce((a, b) => a + b, 0) / epochMs.reduce((a, b) => a + b, 0);
    const round = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);
    console.log(JSON.stringify({ setting, epochMs: round(epochMs), callbackMs: round(callbackMs), share: Number(share.toFixed(5)), loadavg: os.loadavg().map((l) => l.toFixed(2)) }));
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
