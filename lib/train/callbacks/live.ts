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

const LIVE_INTERVAL_MS = 250;
const LIVE_CURVES_INTERVAL_MS = 500;

type Clock = () => number;

/**
 * The learning curves below the log: redrawn from the newest history, at most one render per gap. Rendering runs
 * beside training; epochs that end while a render runs are drawn together by the next one.
 */
class LiveCurves {
  private readonly curves: Record<string, number[]> = {};
  private readonly epochEndedAt: number[] = [];
  private display: LiveDisplay | undefined;
  private rendering: Promise<void> | undefined;
  private dirty = false;
  private failed = false;
  private finishing = false;
  private lastRender = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly render: CurvesRenderer,
    private readonly newDisplay: () => LiveDisplay,
    private readonly stats: LiveStats,
    private readonly now: Clock,
    private readonly gapMs: number,
    /** Called once when a render fails: training matters more than its picture, so it goes on without curves. */
    private readonly onFailure: (message: string) => void,
  ) {}

  epochEnded(logs: Logs): void {
    for (const [k, v] of Object.entries(logs)) {
      const values = this.curves[k] ?? [];
      values.push(v);
      this.curves[k] = values;
    }
    this.epochEndedAt.push(this.now());
    this.dirty = true;
    this.rendering ??= this.loop();
  }

  /** Draws the last epochs now, without waiting out the gap between renders. */
  async finish(): Promise<void> {
    this.finishing = true;
    await this.rendering;
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.failed) {
      const wait = this.gapMs - (this.now() - this.lastRender);
      if (wait > 0 && !this.finishing) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, this.gapMs)));
      this.dirty = false;
      await this.renderOnce();
    }
    this.rendering = undefined;
  }

  private async renderOnce(): Promise<void> {
    const t0 = this.now();
    this.lastRender = t0;
    const epochs = this.epochEndedAt.length;
    try {
      const image = await this.render(Object.fromEntries(Object.entries(this.curves).map(([k, v]) => [k, [...v]])));
      this.stats.renderMs.push(this.now() - t0);
      this.display ??= this.newDisplay();
      if ("svg" in image) this.display.svg(image.svg);
      else this.display.png(image.png);
      const shown = this.now();
      for (let e = this.stats.epochLagMs.length; e < epochs; e++) {
        this.stats.epochLagMs.push(shown - (this.epochEndedAt[e] ?? shown));
      }
    } catch (err) {
      this.failed = true;
      this.onFailure((err as Error).message);
    }
  }
}

/** Keras's text log: `Epoch k/N`, each finished epoch's bar, and the running epoch's bar redrawn in place. */
class LiveLog {
  private readonly lines: string[] = [];
  private bar = "";
  private epochStart = 0;
  /** The running epoch and how many of its batches ended, for the stop message. */
  inEpoch: { epoch: number; batches: number } | undefined;

  constructor(
    private readonly display: LiveDisplay,
    private readonly params: History["params"],
    private readonly stats: LiveStats,
    private readonly now: Clock,
  ) {}

  epochBegan(epoch: number): void {
    this.lines.push(`Epoch ${epoch + 1}/${this.params.epochs}`);
    this.epochStart = this.now();
    this.inEpoch = { epoch, batches: 0 };
    this.bar = formatBarLine(0, this.params.steps, 0, {});
    this.draw();
  }

  batchEnded(batch: number, logs: Logs, redraw: boolean): void {
    if (this.inEpoch) this.inEpoch.batches = batch + 1;
    if (!redraw) return;
    this.bar = formatBarLine(batch + 1, this.params.steps, this.elapsedSec(), logs);
    this.draw();
  }

  epochEnded(logs: Logs): void {
    this.lines.push(formatBarLine(this.params.steps, this.params.steps, this.elapsedSec(), logs));
    this.bar = "";
    this.inEpoch = undefined;
    this.draw();
  }

  /** A line above the running bar. */
  note(line: string): void {
    this.lines.push(line);
    this.draw();
  }

  /** A closing line in place of the running bar. */
  finalLine(line: string): void {
    this.bar = "";
    this.note(line);
  }

  private elapsedSec(): number {
    return (this.now() - this.epochStart) / 1000;
  }

  private draw(): void {
    this.display.text([...this.lines, ...(this.bar ? [this.bar] : [])].join("\n"));
    this.stats.barUpdates++;
  }
}

function stoppedLine(history: History, params: History["params"], inEpoch: LiveLog["inEpoch"]): string {
  const signal = lastInterruptSignal();
  const partial = inEpoch
    ? ` during epoch ${inEpoch.epoch + 1} (batch ${inEpoch.batches}/${params.steps}, discarded)`
    : ` after epoch ${history.epoch.length}`;
  return `Training stopped${signal ? ` by ${signal}` : ""}${partial}; the ${history.epoch.length} completed epoch(s) of ${params.epochs} are kept.`;
}

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
  let params: History["params"] | undefined;
  let log: LiveLog | undefined;
  let curves: LiveCurves | undefined;
  // Wraps a callback to count its time: the display's overhead is what training waits for.
  const timed =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      const t0 = now();
      fn(...a);
      stats.callbackMs += now() - t0;
    };
  const curvesFailed = (message: string) => log?.note(`(learning curves not shown: ${message})`);

  return {
    stats,
    onTrainBegin: timed((p: History["params"]) => {
      params = p;
      log = new LiveLog(newDisplay(), p, stats, now);
      const gap = options.curvesIntervalMs ?? LIVE_CURVES_INTERVAL_MS;
      curves = options.curves && new LiveCurves(options.curves, newDisplay, stats, now, gap, curvesFailed);
    }),
    onEpochBegin: timed((epoch: number) => log?.epochBegan(epoch)),
    onBatchEnd: timed((batch: number, logs: Logs) => log?.batchEnded(batch, logs, due())),
    onEpochEnd: timed((_epoch: number, logs: Logs) => {
      log?.epochEnded(logs);
      curves?.epochEnded(logs);
    }),
    onTrainEnd: async (history: History) => {
      const t0 = now();
      if (history.stopped && log && params) log.finalLine(stoppedLine(history, params, log.inEpoch));
      stats.callbackMs += now() - t0;
      await curves?.finish();
    },
  };
}
