import { SingleBar } from "cli-progress";
import { inTslabKernel } from "../../io/tslab";
import type { History, Logs, TrainCallbacks } from "./callback";
import { type CurvesRenderer, liveProgress } from "./live";
import { formatBarLine, formatEpochLine } from "./progbar";

export { formatLogs } from "./progbar";

/**
 * "bar": Keras verbose=1, a live bar in a terminal; "live": the same bar in a Jupyter (tslab) notebook, redrawn in
 * place, with the learning curves when a renderer is given; "epoch": Keras verbose=2, one line per epoch (logs,
 * plain notebooks); "none".
 */
export type ProgressMode = "bar" | "live" | "epoch" | "none";

/**
 * The mode a run gets: "live" in a tslab kernel (where a terminal bar prints nothing, so "bar" means "live"
 * there too), else "bar" on a TTY, else "epoch".
 */
export function resolveProgressMode(mode?: ProgressMode): ProgressMode {
  const kernel = inTslabKernel();
  if (mode === undefined) return kernel ? "live" : process.stdout.isTTY ? "bar" : "epoch";
  if (mode === "bar" && kernel) return "live";
  return mode;
}

/**
 * Keras-style progress as a callback: `Epoch 3/30`, then a live bar in a terminal, a bar redrawn in place in a
 * notebook, or one summary line per epoch elsewhere, so a log gets 2 lines an epoch instead of thousands.
 */
export function kerasProgress(
  mode?: ProgressMode,
  write: (s: string) => void = (s) => process.stdout.write(s),
  options: { curves?: CurvesRenderer } = {},
): TrainCallbacks {
  const resolved = resolveProgressMode(mode);
  if (resolved === "none") return {};
  if (resolved === "live") {
    const live = liveProgress({ curves: options.curves });
    // A kernel without tslab's display module (not expected) still gets the plain lines.
    if (live) return live;
  }
  let params: History["params"];
  let epochStart = 0;
  let bar: SingleBar | undefined;
  let lastLogs: Logs = {};
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
          format: (_opts, state) => formatBarLine(state.value, state.total, (performance.now() - epochStart) / 1000, lastLogs),
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
      lastLogs = logs;
      if (bar) {
        bar.update(params.steps);
        bar.stop();
        bar = undefined;
      } else {
        write(`${formatEpochLine(params.steps, (performance.now() - epochStart) / 1000, logs)}\n`);
      }
    },
  };
}
