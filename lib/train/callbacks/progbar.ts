// Keras's Progbar as text: the bar line, the per-epoch summary line, and the throttle that keeps a live bar cheap.
import type { Logs } from "./callback";

const BAR_WIDTH = 30; // Keras's Progbar width

/** Keras's metric formatting: 4 decimals, or scientific for tiny values; `batch` and `size` are not metrics. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== "batch" && k !== "size")
    .map(([k, v]) => `${k}: ${Math.abs(v) > 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4)}`)
    .join(" - ");
}

/** Keras's durations: `7s`, `1:05`, `1:02:03`. */
function formatDuration(seconds: number): string {
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
  return `${Math.round(seconds)}s`;
}

/** Seconds per step in the largest unit that keeps it above 1: `2s/step`, `1ms/step`, `850us/step`. */
function perStep(seconds: number, steps: number): string {
  const t = seconds / Math.max(steps, 1);
  return t >= 1 ? `${Math.round(t)}s/step` : t >= 1e-3 ? `${Math.round(t * 1e3)}ms/step` : `${Math.round(t * 1e6)}us/step`;
}

/** The 30 characters between the brackets: `=====>........`, all `=` when done. */
export function kerasBar(done: number, total: number): string {
  const filled = Math.floor((BAR_WIDTH * done) / Math.max(total, 1));
  if (done >= total) return "=".repeat(BAR_WIDTH);
  return "=".repeat(Math.max(filled - 1, 0)) + (filled > 0 ? ">" : "") + ".".repeat(BAR_WIDTH - Math.max(filled, 0));
}

/**
 * Keras's verbose=1 line: `1234/1719 [=====>....] - ETA: 1s - loss: 0.4123 - accuracy: 0.8541` while the epoch
 * runs, `1719/1719 [======] - 2s 1ms/step - loss: ...` once it is done. The ETA assumes the remaining steps take
 * as long as the ones so far.
 */
export function formatBarLine(done: number, total: number, elapsedSeconds: number, logs: Logs): string {
  const time =
    done >= total
      ? `${formatDuration(elapsedSeconds)} ${perStep(elapsedSeconds, done)}`
      : `ETA: ${formatDuration(done > 0 ? (elapsedSeconds / done) * (total - done) : 0)}`;
  const metrics = formatLogs(logs);
  return `${String(done).padStart(String(total).length)}/${total} [${kerasBar(done, total)}] - ${time}${metrics ? ` - ${metrics}` : ""}`;
}

/** Keras's verbose=2 line, one per epoch: `1719/1719 - 2s - loss: ... - val_accuracy: ... - 2s/epoch - 1ms/step`. */
export function formatEpochLine(steps: number, elapsedSeconds: number, logs: Logs): string {
  return `${steps}/${steps} - ${formatDuration(elapsedSeconds)} - ${formatLogs(logs)} - ${formatDuration(elapsedSeconds)}/epoch - ${perStep(elapsedSeconds, steps)}`;
}

/**
 * True at most once per `intervalMs` (the first call included): a bar redrawn on every one of 1,719 batches
 * would cost more than the batches; a few times a second reads as live.
 */
export function throttle(intervalMs: number, now: () => number = () => performance.now()): () => boolean {
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last < intervalMs) return false;
    last = t;
    return true;
  };
}
