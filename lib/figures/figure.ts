import type { Layout as PlotlyLayout, PlotData } from "plotly.js";
import { UserError } from "../errors/user-error";

/**
 * One plotly trace and a plotly layout, typed by plotly.js's own declarations (@types/plotly.js): the same types
 * nodeplotlib's `plot(data, layout)` takes, without nodeplotlib's own types, which pull rxjs's 189 .d.ts files into
 * the type check of every tslab cell that imports this library.
 */
export type Plot = Partial<PlotData>;
export type Layout = Partial<PlotlyLayout>;

/**
 * A plotly figure: what every plot helper returns and every renderer takes.
 * It is plain JSON, so it can be saved, tested without a browser, or passed to nodeplotlib's `plot(data, layout)`.
 */
export interface Figure {
  data: Plot[];
  layout: Partial<Layout>;
}

/** Thrown by the figure helpers for input of the wrong size or kind; the message names the value and what was expected. */
export class FigureError extends UserError {
  override name = "FigureError";
}

/** matplotlib draws figures at 100 dpi on screen; sizes below are given in its inches, as in the tutorial's figsize. */
export const PX_PER_INCH = 100;

/** matplotlib's default font (installed by Debian's fonts-dejavu), so text metrics match the book's figures. */
const FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/** Layout keys for one numbered subplot axis ("xaxis", "xaxis2", ...) and the trace reference ("x", "x2", ...). */
export function axisNames(index: number): { xKey: string; yKey: string; xRef: string; yRef: string } {
  const suffix = index === 0 ? "" : String(index + 1);
  return { xKey: `xaxis${suffix}`, yKey: `yaxis${suffix}`, xRef: `x${suffix}`, yRef: `y${suffix}` };
}

/** An axis with no line, ticks, grid or labels: `plt.axis("off")`. */
export function hiddenAxis(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { visible: false, showgrid: false, zeroline: false, showticklabels: false, ticks: "", fixedrange: true, ...extra };
}

/** An axis styled like matplotlib's default: black frame on all sides, outward ticks, no zero line. */
export function matplotlibAxis(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    showline: true,
    mirror: true,
    linecolor: "black",
    linewidth: 1,
    ticks: "outside",
    ticklen: 4,
    tickcolor: "black",
    showgrid: false,
    zeroline: false,
    automargin: true,
    ...extra,
  };
}

/** White background and matplotlib's font; every figure starts from this. */
export function baseLayout(width: number, height: number, extra: Partial<Layout> = {}): Partial<Layout> {
  return {
    width: Math.round(width),
    height: Math.round(height),
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    font: { family: FONT_FAMILY, size: 12, color: "black" },
    showlegend: false,
    ...extra,
  };
}

/** Checks that `value` is a positive integer, naming `what` in the error otherwise. */
export function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new FigureError(`${what} must be a positive integer, got ${value}`);
  return value;
}
