import { TAB10 } from "./curves";
import { baseLayout, FigureError, type Figure, matplotlibAxis, PX_PER_INCH, type Layout, type Plot } from "./figure";

/** What the figure needs of a learning-rate search (findLearningRate's result fits). */
export interface LrFinderCurve {
  rates: readonly number[];
  losses: readonly number[];
  /** The smoothed losses, drawn over the raw ones; optional. */
  smoothed?: readonly number[];
  suggestion: number;
}

/**
 * Géron's chapter 10 plot of the learning-rate search: the loss of each batch against its learning rate on a
 * log x-axis (`plt.plot(rates, losses); plt.gca().set_xscale("log")`), the smoothed loss over it, and the
 * suggested rate as a dashed vertical line. The y-axis goes from 0 to a little above the smoothed curve's
 * highest point, so single noisy batches do not flatten the curve (Géron cuts it off the same way).
 */
export function lrFinderFigure(curve: LrFinderCurve): Figure {
  const { rates, losses, smoothed, suggestion } = curve;
  if (rates.length === 0 || rates.length !== losses.length || (smoothed && smoothed.length !== rates.length)) {
    throw new FigureError(
      `lrFinderFigure needs as many losses (${losses.length}) and smoothed losses (${smoothed?.length ?? "none"}) as rates (${rates.length}), at least one`,
    );
  }
  if (!(suggestion > 0)) throw new FigureError(`suggestion must be a learning rate > 0, got ${suggestion}`);
  const data: Plot[] = [
    {
      type: "scatter",
      mode: "lines",
      name: "loss per batch",
      x: [...rates],
      y: [...losses],
      line: { color: TAB10[0], width: 1 },
      opacity: smoothed ? 0.35 : 1,
      hovertemplate: "learning rate %{x:.3g}: loss %{y:.4f}<extra></extra>",
    },
  ];
  if (smoothed) {
    data.push({
      type: "scatter",
      mode: "lines",
      name: "smoothed loss",
      x: [...rates],
      y: [...smoothed],
      line: { color: TAB10[0], width: 2 },
      hovertemplate: "learning rate %{x:.3g}: smoothed loss %{y:.4f}<extra></extra>",
    });
  }
  const top = Math.max(...(smoothed ?? losses).filter(Number.isFinite)) * 1.1;
  data.push({
    type: "scatter",
    mode: "lines",
    name: `suggested ${formatRate(suggestion)}`,
    x: [suggestion, suggestion],
    y: [0, top],
    line: { color: TAB10[3], width: 1.5, dash: "dash" },
    hovertemplate: `suggested learning rate ${formatRate(suggestion)}<extra></extra>`,
  });
  const gridColor = "#b0b0b0";
  const layout = baseLayout(8 * PX_PER_INCH, 5 * PX_PER_INCH, {
    showlegend: true,
    title: { text: "Learning rate vs. loss", x: 0.5, xanchor: "center" },
    margin: { l: 60, r: 25, t: 50, b: 55 },
    xaxis: matplotlibAxis({
      type: "log",
      title: { text: "learning rate" },
      exponentformat: "power",
      showgrid: true,
      gridcolor: gridColor,
      gridwidth: 0.8,
    }),
    yaxis: matplotlibAxis({
      title: { text: "loss" },
      range: [0, top],
      autorange: false,
      showgrid: true,
      gridcolor: gridColor,
      gridwidth: 0.8,
    }),
    legend: {
      x: 0.02,
      y: 0.02,
      xanchor: "left",
      yanchor: "bottom",
      bgcolor: "rgba(255,255,255,0.8)",
      bordercolor: "#cccccc",
      borderwidth: 1,
    },
  } as Partial<Layout>);
  return { data, layout };
}

/** A rate as one writes it: 0.03, 3e-4. */
export function formatRate(rate: number): string {
  return rate >= 1e-3 && rate < 1e3 ? String(Number(rate.toPrecision(2))) : rate.toExponential(1).replace(".0e", "e");
}
