import { FigureError, type Figure, type Plot } from "./figure";
import { PLOTLY_COLORS, studyLayout, templateAxis } from "./study-style";

/**
 * Optuna's plot_param_importances: one horizontal bar per parameter, the most important on top, its share written
 * beside it. `importances` maps parameter name -> importance, e.g. studyImportances(...) (PED-ANOVA, summing to 1).
 */
export function paramImportancesFigure(importances: Readonly<Record<string, number>>, opts: { method?: string } = {}): Figure {
  const entries = Object.entries(importances ?? {});
  if (entries.length === 0) throw new FigureError("paramImportancesFigure: no importances given; expected { parameter: importance, ... }");
  for (const [k, v] of entries) {
    if (!(typeof v === "number" && v >= 0)) throw new FigureError(`importance of ${k} must be a number >= 0, got ${JSON.stringify(v)}`);
  }
  // plotly draws the first bar at the bottom: least important first puts the most important on top.
  const sorted = entries.sort((a, b) => a[1] - b[1]);
  const bar = {
    type: "bar",
    orientation: "h",
    x: sorted.map(([, v]) => v),
    y: sorted.map(([k]) => k),
    text: sorted.map(([, v]) => (v < 0.01 ? "<0.01" : v.toFixed(2))),
    textposition: "outside",
    cliponaxis: false,
    marker: { color: PLOTLY_COLORS[0] },
    hovertemplate: "%{y}: %{x:.4f}<extra></extra>",
  } as unknown as Plot;
  const title = `Hyperparameter Importances${opts.method ? ` (${opts.method})` : ""}`;
  return {
    data: [bar],
    layout: studyLayout(title, 700, Math.max(300, 120 + 50 * sorted.length), {
      xaxis: templateAxis({
        title: { text: "Hyperparameter Importance" },
        range: [0, Math.min(1.15, Math.max(...sorted.map(([, v]) => v)) * 1.15 + 0.02)],
      }),
      yaxis: templateAxis({ title: { text: "Hyperparameter" } }),
      margin: { l: 120, r: 40, t: 60, b: 60 },
    } as Partial<Figure["layout"]>),
  };
}
