import { TAB10 } from "./curves";
import { baseLayout, FigureError, matplotlibAxis, PX_PER_INCH, type Figure, type Layout, type Plot } from "./figure";

/** One class's scores; `perClassScores(...)` from the metrics module returns these. */
export interface ClassScoreRow {
  className: string;
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassScoresOptions {
  /** Figure title; default "Per-class precision, recall and F1". "" for none. */
  title?: string;
  /** Lower end of the y axis; default 0. Raise it (e.g. 0.5) to spread out scores that are all high. */
  yMin?: number;
}

const SERIES = [
  ["precision", "precision"],
  ["recall", "recall"],
  ["f1", "F1"],
] as const;

/**
 * Precision, recall and F1 of every class as grouped bars (one group per class, in label order), with the
 * value on hover: the weak classes (Shirt, Pullover, Coat in Fashion-MNIST) stand out at a glance.
 */
export function classScoresFigure(scores: readonly ClassScoreRow[], opts: ClassScoresOptions = {}): Figure {
  if (!scores?.length)
    throw new FigureError("classScoresFigure: no scores given, expected one { className, precision, recall, f1 } per class");
  scores.forEach((s, i) => {
    for (const [key] of SERIES) {
      const v = s[key];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new FigureError(`scores[${i}].${key} must be a number in 0..1, got ${v}`);
    }
  });
  const names = scores.map((s) => s.className);
  const data: Plot[] = SERIES.map(
    ([key, label], i) =>
      ({
        type: "bar",
        name: label,
        x: names,
        y: scores.map((s) => s[key]),
        marker: { color: TAB10[i] },
        hovertemplate: `%{x} ${label}: %{y:.3f}<extra></extra>`,
      }) as Plot,
  );
  const title = opts.title ?? "Per-class precision, recall and F1";
  const yMin = opts.yMin ?? 0;
  if (!(yMin >= 0 && yMin < 1)) throw new FigureError(`yMin must be in [0, 1), got ${yMin}`);
  const layout = baseLayout(Math.max(6, scores.length * 0.9) * PX_PER_INCH, 4.5 * PX_PER_INCH, {
    showlegend: true,
    barmode: "group",
    bargap: 0.25,
    ...(title && { title: { text: title, x: 0.5, xanchor: "center", font: { size: 14 } } }),
    margin: { l: 60, r: 20, t: title ? 70 : 40, b: 90 },
    legend: { orientation: "h", x: 0.5, xanchor: "center", y: 1.02, yanchor: "bottom" },
    xaxis: matplotlibAxis({ tickangle: -30, ticks: "" }),
    yaxis: matplotlibAxis({
      title: { text: "score" },
      range: [yMin, 1],
      autorange: false,
      showgrid: true,
      gridcolor: "#e0e0e0",
      tickformat: ".1f",
    }),
  } as Partial<Layout>);
  return { data, layout };
}
