import { normalizeConfusion } from "../results/metrics";
import { CLASS_NAMES } from "../data/images";
import { baseLayout, FigureError, matplotlibAxis, PX_PER_INCH, type Figure, type Layout, type Plot } from "./figure";

/** matplotlib's "Blues" (ColorBrewer), light for few images, dark for many; plotly's own "Blues" runs the other way. */
const BLUES_COLORSCALE: Array<[number, string]> = [
  "#f7fbff",
  "#deebf7",
  "#c6dbef",
  "#9ecae1",
  "#6baed6",
  "#4292c6",
  "#2171b5",
  "#08519c",
  "#08306b",
].map((c, i, all) => [i / (all.length - 1), c]);

export interface ConfusionMatrixFigureOptions {
  /** One name per class (axis labels); default the ten Fashion-MNIST classes. */
  classNames?: readonly string[];
  /**
   * Show rates instead of counts, as sklearn's `normalize`: "true" divides each row by its class's image count
   * (the diagonal is then each class's recall), "pred" each column (precision), "all" by the total. Default: counts.
   */
  normalize?: "true" | "pred" | "all";
  /** Figure title; default "Confusion matrix" (plus what it is normalised over). "" for none. */
  title?: string;
  /** Decimals of the annotated rates; default 2. */
  decimals?: number;
}

const NORMALISED_OVER = { true: "true class", pred: "predicted class", all: "all images" } as const;

/**
 * sklearn's `ConfusionMatrixDisplay`: a heatmap with true classes as rows (top to bottom in label order),
 * predicted classes as columns, every cell annotated with its count or rate (text colour contrasting the cell).
 * @param counts [k][k] image counts, row = true class, column = predicted class (`confusionMatrix(...).counts`).
 */
export function confusionMatrixFigure(counts: readonly (readonly number[])[], opts: ConfusionMatrixFigureOptions = {}): Figure {
  const names = opts.classNames ?? CLASS_NAMES;
  const k = counts?.length ?? 0;
  if (k === 0) throw new FigureError("confusionMatrixFigure: counts is empty, expected a k x k matrix (confusionMatrix(...).counts)");
  counts.forEach((row, i) => {
    if (row.length !== k) throw new FigureError(`counts[${i}] has ${row.length} cells, expected ${k} (a square matrix)`);
  });
  if (names.length !== k) {
    throw new FigureError(`classNames has ${names.length} names for a ${k}x${k} matrix; pass opts.classNames with one name per class`);
  }
  const mode = opts.normalize;
  if (mode !== undefined && !(mode in NORMALISED_OVER)) {
    throw new FigureError(`normalize must be "true", "pred" or "all", got ${JSON.stringify(mode)}`);
  }
  const decimals = opts.decimals ?? 2;
  const z = mode ? normalizeConfusion(counts, mode) : counts.map((r) => [...r]);
  const text = z.map((r) => r.map((v) => (mode ? v.toFixed(decimals) : String(v))));
  const zmax = mode ? 1 : Math.max(1, ...z.flat());
  const title = opts.title ?? (mode ? `Confusion matrix (normalised over ${NORMALISED_OVER[mode]})` : "Confusion matrix");
  const labels = [...names];
  const trace = {
    type: "heatmap",
    z,
    x: labels,
    y: labels,
    text,
    texttemplate: "%{text}",
    textfont: { size: k > 12 ? 8 : 11 },
    zmin: 0,
    zmax,
    colorscale: BLUES_COLORSCALE,
    xgap: 1,
    ygap: 1,
    colorbar: { thickness: 14, outlinewidth: 0, ...(mode && { tickformat: ".1f" }) },
    hovertemplate: `true %{y}, predicted %{x}: %{text}<extra></extra>`,
  } as unknown as Plot;
  const side = Math.max(4, k * 0.55) * PX_PER_INCH;
  const margin = { l: 110, r: 30, t: title ? 50 : 20, b: 110 };
  const layout = baseLayout(side + margin.l + margin.r + 70, side + margin.t + margin.b, {
    ...(title && { title: { text: title, x: 0.5, xanchor: "center", font: { size: 14 } } }),
    margin,
    // automargin: the titles move out past the longest class name instead of overlapping it ("T-shirt/top").
    xaxis: matplotlibAxis({
      title: { text: "Predicted label", standoff: 10 },
      automargin: true,
      tickangle: -45,
      constrain: "domain",
      ticks: "",
    }),
    // Row 0 (the first class) at the top, as in a printed matrix.
    yaxis: matplotlibAxis({
      title: { text: "True label", standoff: 10 },
      automargin: true,
      autorange: "reversed",
      scaleanchor: "x",
      scaleratio: 1,
      constrain: "domain",
      ticks: "",
    }),
  } as Partial<Layout>);
  return { data: [trace], layout };
}
