import { kernelTslab } from "../../io/tslab";
import { lastInterruptSignal } from "../interrupt";
import type { History, Logs, TrainCallbacks } from "./callback";
import { formatBarLine, throttle } from "./progbar";

/** The part of tslab's `Display` the live view uses; each call replaces what the display showed before. */
export interface LiveDisplay {
  text(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
}

/** A rendered figure for a live display. */
export type LiveImage = { svg: string } | { png: Uint8Array };

/**
 * Draws the learning curves of the epochs so far (metric -> one value per epoch). train/ draws nothing itself:
 * the caller passes a renderer (lib/figures/render/live.ts has the project's), so training works without a browser.
 */
export type CurvesRenderer = (history: Record<string, number[]>) => Promise<LiveImage>;

export interface LiveProgressOptions {
  /** Where to draw; default tslab's `newDisplay()` from the running kernel (none outside a kernel). */
  newDisplay?: () => LiveDisplay;
  /** Redraws the learning curves in place after each epoch; default none (only the bar and the epoch lines). */
  curves?: CurvesRenderer;
  /** Least time between two redraws of the bar, ms; default 250 (four a second). */
  intervalMs?: number;
  /**
   * Least time between the starts of two curve renders, ms; default 500. A render is drawn by the render
   * daemon, beside training; what it costs the training thread is sending the history and showing the SVG
   * (~1-2 ms), which still matters when an epoch takes well under a second (the native engine on small data):
   * epochs that end sooner are drawn together by the next render, and the last one is always drawn. The gap
   * plus one render is how long a finished epoch can wait to be on the plot.
   */
  curvesIntervalMs?: number;
  /** Clock in ms; tests pass a fake one. */
  now?: () => number;
}

/** What the display cost, for the overhead check: time spent drawing on the training thread, and each render. */
export interface LiveStats {
  barUpdates: number;
  /** ms spent in the callbacks themselves (formatting and sending the updates). */
  callbackMs: number;
  /** ms from asking for the curves to having them, one per render (runs beside training, not in it). */
  renderMs: number[];
  /** ms from the end of each epoch to the curves that include it being shown, one per epoch shown. */
  epochLagMs: number[];
}

export const LIVE_INTERVAL_MS = 250;
export const LIVE_CURVES_INTERVAL_MS = 500;

/**
 * Keras's notebook progress, in place: one text output holding `Epoch k/N` and a Keras bar per epoch (the
 * running epoch's bar redrawn a few times a second, each finished epoch's kept with its validation metrics),
 * and below it the learning curves, redrawn after each epoch. Jupyter's `update_display_data` replaces the
 * outputs, so a long run stays two outputs, and nbclient keeps their final state in an executed notebook.
 * Rendering the curves runs beside training (only the newest epochs are drawn if it falls behind); the end of
 * training waits for the last one. Undefined outside a tslab kernel unless `newDisplay` is given.
 */
export function liveProgress(options: LiveProgressOptions = {}): (TrainCallbacks & { stats: LiveStats }) | undefined {
  const newDisplay = options.newDisplay ?? kernelTslab()?.newDisplay;
  if (!newDisplay) return undefined;
  const now = options.now ?? (() => performance.now());
  const due = throttle(options.intervalMs ?? LIVE_INTERVAL_MS, now);
  const stats: LiveStats = { barUpdates: 0, callbackMs: 0, renderMs: [], epochLagMs: [] };
  const epochEndedAt: number[] = [];
  let params: History["params"];
  let log: LiveDisplay | undefined;
  let lines: string[] = [];
  let bar = "";
  let epochStart = 0;
  let inEpoch: { epoch: number; batches: number } | undefined;
  const curves: Record<string, number[]> = {};
  let curveDisplay: LiveDisplay | undefined;
  let rendering: Promise<void> | undefined;
  let dirty = false;
  let curvesFailed = false;
  let lastRender = Number.NEGATIVE_INFINITY;
  let finishing = false;
  const curvesGap = options.curvesIntervalMs ?? LIVE_CURVES_INTERVAL_MS;

  const draw = () => {
    log?.text([...lines, ...(bar ? [bar] : [])].join("\n"));
    stats.barUpdates++;
  };
  // Wraps a callback to count its time: the display's overhead is what training waits for.
  const timed =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      const t0 = now();
      fn(...a);
      stats.callbackMs += now() - t0;
    };

  async function renderLoop(): Promise<void> {
    while (dirty && options.curves && !curvesFailed) {
      const wait = curvesGap - (now() - lastRender);
      if (wait > 0 && !finishing) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, curvesGap)));
      dirty = false;
      const t0 = now();
      lastRender = t0;
      // Always the newest history: epochs that ended while the previous render ran are drawn by this one.
      const epochs = epochEndedAt.length;
      try {
        const image = await options.curves(Object.fromEntries(Object.entries(curves).map(([k, v]) => [k, [...v]])));
        stats.renderMs.push(now() - t0);
        curveDisplay ??= newDisplay!();
        if ("svg" in image) curveDisplay.svg(image.svg);
        else curveDisplay.png(image.png);
        const shown = now();
        for (let e = stats.epochLagMs.length; e < epochs; e++) stats.epochLagMs.push(shown - epochEndedAt[e]!);
      } catch (err) {
        // Training matters more than its picture: say why once and go on without curves.
        curvesFailed = true;
        lines.push(`(learning curves not shown: ${(err as Error).message})`);
        draw();
      }
    }
    rendering = undefined;
  }

  return {
    stats,
    onTrainBegin: timed((p: History["params"]) => {
      params = p;
      lines = [];
      bar = "";
      log = newDisplay();
    }),
    onEpochBegin: timed((epoch: number) => {
      lines.push(`Epoch ${epoch + 1}/${params.epochs}`);
      epochStart = now();
      inEpoch = { epoch, batches: 0 };
      bar = formatBarLine(0, params.steps, 0, {});
      draw();
    }),
    onBatchEnd: timed((batch: number, logs: Logs) => {
      if (inEpoch) inEpoch.batches = batch + 1;
      if (!due()) return;
      bar = formatBarLine(batch + 1, params.steps, (now() - epochStart) / 1000, logs);
      draw();
    }),
    onEpochEnd: timed((_epoch: number, logs: Logs) => {
      lines.push(formatBarLine(params.steps, params.steps, (now() - epochStart) / 1000, logs));
      bar = "";
      inEpoch = undefined;
      draw();
      for (const [k, v] of Object.entries(logs)) {
        const values = curves[k] ?? [];
        values.push(v);
        curves[k] = values;
      }
      if (options.curves) {
        epochEndedAt.push(now());
        dirty = true;
        rendering ??= renderLoop();
      }
    }),
    onTrainEnd: async (history: History) => {
      const t0 = now();
      if (history.stopped) {
        const signal = lastInterruptSignal();
        const partial = inEpoch
          ? ` during epoch ${inEpoch.epoch + 1} (batch ${inEpoch.batches}/${params.steps}, discarded)`
          : ` after epoch ${history.epoch.length}`;
        bar = "";
        lines.push(
          `Training stopped${signal ? ` by ${signal}` : ""}${partial}; the ${history.epoch.length} completed epoch(s) of ${params.epochs} are kept.`,
        );
        draw();
      }
      stats.callbackMs += now() - t0;
      // The last epochs are drawn now, without waiting out the gap between renders.
      finishing = true;
      await rendering;
    },
  };
}
