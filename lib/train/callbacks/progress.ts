import { SingleBar } from "cli-progress";
import type { History, Logs, TrainCallbacks } from "./callback";

/** "bar": Keras verbose=1 (a live bar, for terminals); "epoch": Keras verbose=2 (one line per epoch, for notebooks and logs). */
export type ProgressMode = "bar" | "epoch" | "none";

const BAR_WIDTH = 30; // Keras's Progbar width

/** Keras's metric formatting: 4 decimals, or scientific for tiny values. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== "batch" && k !== "size")
    .map(([k, v]) => `${k}: ${Math.abs(v) > 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4)}`)
    .join(" - ");
}

function formatDuration(seconds: number): string {
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
  return `${Math.round(seconds)}s`;
}

function perStep(seconds: number, steps: number): string {
  const t = seconds / Math.max(steps, 1);
  return t >= 1 ? `${Math.round(t)}s/step` : t >= 1e-3 ? `${Math.round(t * 1e3)}ms/step` : `${Math.round(t * 1e6)}us/step`;
}

function kerasBar(done: number, total: number): string {
  const filled = Math.floor((BAR_WIDTH * done) / total);
  if (done >= total) return "=".repeat(BAR_WIDTH);
  return "=".repeat(Math.max(filled - 1, 0)) + (filled > 0 ? ">" : "") + ".".repeat(BAR_WIDTH - Math.max(filled, 0));
}

/**
 * Keras-style progress as a callback: `Epoch 3/30`, then a live bar in a terminal or one summary
 * line per epoch elsewhere, so a notebook gets 2 lines an epoch instead of thousands.
 */
export function kerasProgress(mode?: ProgressMode, write: (s: string) => void = (s) => process.stdout.write(s)): TrainCallbacks {
  const resolved: ProgressMode = mode ?? (process.stdout.isTTY ? "bar" : "epoch");
  if (resolved === "none") return {};
  let params: History["params"];
  let epochStart = 0;
  let bar: SingleBar | undefined;
  let lastLogs: Logs = {};
  const digits = () => String(params.steps).length;
  return {
    onTrainBegin: (p) => {
      params = p;
    },
    onEpochBegin: (epoch) => {
      write(`Epoch ${epoch + 1}/${params.epochs}\n`);
      epochStart = performance.now();
      // Keras's bar starts each epoch without metrics; the last epoch's would read as this one's.
      lastLogs = {};
      if (resolved === "bar") {
        bar = new SingleBar({
          format: (_opts, state) => {
            const elapsed = (performance.now() - epochStart) / 1000;
            const eta = state.value > 0 ? (elapsed / state.value) * (state.total - state.value) : 0;
            const time =
              state.value >= state.total ? `${formatDuration(elapsed)} ${perStep(elapsed, state.value)}` : `ETA: ${formatDuration(eta)}`;
            const logs = formatLogs(lastLogs);
            return `${String(state.value).padStart(digits())}/${state.total} [${kerasBar(state.value, state.total)}] - ${time}${logs ? ` - ${logs}` : ""}`;
          },
          stream: process.stdout,
          fps: 10,
          hideCursor: false,
          clearOnComplete: false,
          linewrap: false,
        });
        bar.start(params.steps, 0);
      }
    },
    onBatchEnd: (batch, logs) => {
      lastLogs = logs;
      bar?.update(batch + 1);
    },
    onEpochEnd: (_epoch, logs) => {
      const elapsed = (performance.now() - epochStart) / 1000;
      lastLogs = logs;
      if (bar) {
        bar.update(params.steps);
        bar.stop();
        bar = undefined;
      } else {
        write(
          `${params.steps}/${params.steps} - ${formatDuration(elapsed)} - ${formatLogs(logs)} - ${formatDuration(elapsed)}/epoch - ${perStep(elapsed, params.steps)}\n`,
        );
      }
    },
  };
}
