import { baseLayout, FigureError, matplotlibAxis, PX_PER_INCH, type Figure, type Layout, type Plot } from "./figure";

function epochCount(history: Record<string, ArrayLike<number>>, keys: string[]): number {
  return Math.max(0, ...keys.map((k) => history[k]?.length ?? 0));
}

/** matplotlib's default colour cycle (tab10), which pandas' DataFrame.plot uses. */
export const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export interface LearningCurvesOptions {
  /** Figure title; default "Learning curves". Pass "" for none, like the book's figure. */
  title?: string;
  /** The x value of the first epoch. Default 0: Keras's `history.epoch` and the pandas index in the tutorial's plot both start at 0. */
  firstEpoch?: number;
  /** y axis range; default [0, 1] as in `plt.gca().set_ylim(0, 1)`. */
  yRange?: [number, number];
  /**
   * Draw the training metrics (keys without "val_") half an epoch to the left. Keras reports them as the mean
   * over the epoch's batches, measured while the weights were still changing, so they describe the middle of the
   * epoch; validation metrics are measured at its end. Shifted, the two curves compare like for like. Default false.
   */
  shiftTraining?: boolean;
}

/**
 * The tutorial's `pd.DataFrame(history.history).plot(figsize=(8, 5)); plt.grid(True); plt.gca().set_ylim(0, 1)`:
 * one line per metric against the epoch number.
 * @param history metric name -> one value per epoch, e.g. { loss, accuracy, val_loss, val_accuracy }; key order = legend order.
 */
export function learningCurvesFigure(history: Record<string, ArrayLike<number>>, opts: LearningCurvesOptions = {}): Figure {
  const keys = Object.keys(history ?? {});
  if (keys.length === 0) {
    throw new FigureError("history has no metrics; expected e.g. { loss: [...], accuracy: [...] } from train()'s History");
  }
  const first = opts.firstEpoch ?? 0;
  const data: Plot[] = keys.map((key, i) => {
    const values = history[key];
    if (values == null || typeof values.length !== "number") {
      throw new FigureError(`history.${key} must be an array of per-epoch values, got ${JSON.stringify(values)}`);
    }
    const y = Array.from(values, Number);
    const shift = opts.shiftTraining && !key.startsWith("val_") ? -0.5 : 0;
    return {
      type: "scatter",
      mode: "lines",
      name: key,
      x: y.map((_, e) => first + e + shift),
      customdata: y.map((_, e) => first + e),
      y,
      line: { color: TAB10[i % TAB10.length], width: 1.5 },
      hovertemplate: `${key}, epoch %{customdata}: %{y:.4f}<extra></extra>`,
    };
  });
  // One epoch is a single point per curve: markers make it visible (the live view's first redraw, a 1-epoch run).
  if (keys.length > 0 && (history[keys[0]!]?.length ?? 0) === 1) for (const trace of data) trace.mode = "lines+markers";
  const title = opts.title ?? (opts.shiftTraining ? "Learning curves (training shifted by half an epoch)" : "Learning curves");
  const gridColor = "#b0b0b0"; // matplotlib's grid colour
  const layout = baseLayout(8 * PX_PER_INCH, 5 * PX_PER_INCH, {
    showlegend: true,
    ...(title && { title: { text: title, x: 0.5, xanchor: "center" } }),
    margin: { l: 60, r: 25, t: title ? 50 : 25, b: 55 },
    xaxis: matplotlibAxis({
      title: { text: "epoch" },
      showgrid: true,
      gridcolor: gridColor,
      gridwidth: 0.8,
      // Whole epochs only: for a short run plotly's automatic ticks would put 0.2, 0.4, ... between two epochs.
      ...(epochCount(history, keys) <= 10 && { dtick: 1 }),
    }),
    yaxis: matplotlibAxis({
      range: opts.yRange ?? [0, 1],
      autorange: false,
      tickformat: ".1f",
      showgrid: true,
      gridcolor: gridColor,
      gridwidth: 0.8,
    }),
    // Inside the axes on the right, in the band between the falling losses and the rising accuracies.
    legend: {
      x: 0.98,
      y: 0.5,
      xanchor: "right",
      yanchor: "middle",
      bgcolor: "rgba(255,255,255,0.8)",
      bordercolor: "#cccccc",
      borderwidth: 1,
    },
  } as Partial<Layout>);
  return { data, layout };
}
