import type { Layout } from "nodeplotlib";
import { baseLayout, type Figure } from "./figure";
import { TAB10 } from "./curves";

/** What the comparison needs of a run (a RunSummary fits): a name, its config and its per-epoch history. */
export interface CurvesOfRun {
  name: string;
  config: Record<string, unknown>;
  history: { history: Record<string, ArrayLike<number>> };
}

/** Config keys whose values differ between the runs (the ones worth naming in a legend or a table column). */
export function changedKeys(configs: readonly Record<string, unknown>[]): string[] {
  const keys = Object.keys(configs[0] ?? {});
  return keys.filter((k) => new Set(configs.map((c) => JSON.stringify(c[k]))).size > 1);
}

/** A config value as a legend shows it: numbers to 3 significant digits, strings bare, the rest as JSON. */
export function legendValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export interface CompareCurvesOptions {
  /** Start each legend entry with the run's name (a search's trial ids), not only what it changed. Default false. */
  named?: boolean;
  /** Figure title; default "Validation curves by run". */
  title?: string;
  /** The panels, left to right; default both. Géron's optimizer figure shows val_accuracy alone. */
  metrics?: readonly ("val_accuracy" | "val_loss")[];
}

/**
 * Validation curves of several runs side by side: val_accuracy on the left, val_loss on the right (its own scale,
 * so a diverging run does not flatten the others), one tab10 colour per run, each run named once in the legend by
 * the hyperparameters that differ. Epochs count from 1, as the comparison table's best_epoch does; markers keep a
 * 1-epoch run (a single point) visible. The legend sits below the plots, so long names never squeeze them.
 */
export function compareCurvesFigure(runs: readonly CurvesOfRun[], options: CompareCurvesOptions = {}): Figure {
  const changed = changedKeys(runs.map((r) => r.config));
  const label = (r: CurvesOfRun) => {
    const what = changed.map((k) => `${k}=${legendValue(r.config[k])}`).join(", ");
    if (!what) return r.name;
    return options.named ? `${r.name}: ${what}` : what;
  };
  const metrics = options.metrics ?? ["val_accuracy", "val_loss"];
  const panels = metrics.map((metric, i) => ({ metric, xaxis: i === 0 ? "x" : "x2", yaxis: i === 0 ? "y" : "y2" }));
  const data = runs.flatMap((r, i) => {
    const color = TAB10[i % TAB10.length]!;
    return panels.map(({ metric, xaxis, yaxis }) => {
      const y = Array.from(r.history.history[metric] ?? [], Number);
      return {
        x: y.map((_, e) => e + 1),
        y,
        xaxis,
        yaxis,
        type: "scatter" as const,
        mode: "lines+markers" as const,
        name: label(r),
        legendgroup: `run${i}`,
        showlegend: xaxis === "x",
        line: { color },
        marker: { color, size: 5 },
        hovertemplate: `${label(r)}, epoch %{x}: ${metric} %{y:.4f}<extra></extra>`,
      };
    });
  });
  const longest = Math.max(1, ...data.map((t) => t.x.length));
  const epochAxis = (domain: [number, number]) => ({
    domain,
    title: { text: "epoch" },
    showgrid: true,
    ...(longest <= 10 && { dtick: 1 }),
    ...(longest === 1 && { range: [0.5, 1.5] }),
  });
  const legendRows = Math.ceil(runs.length / 2);
  return {
    data,
    layout: baseLayout(1000, 480 + 20 * legendRows, {
      title: { text: options.title ?? "Validation curves by run" },
      xaxis: epochAxis(panels.length > 1 ? [0, 0.45] : [0, 1]),
      yaxis: metricAxis(panels[0]?.metric ?? "val_accuracy"),
      ...(panels[1] && {
        xaxis2: { ...epochAxis([0.55, 1]), anchor: "y2" },
        yaxis2: { ...metricAxis(panels[1].metric), anchor: "x2" },
      }),
      // Each run is one legend entry (both panels toggle together): the legend is how a reader tells them apart.
      showlegend: true,
      legend: { font: { size: 10 }, orientation: "h", x: 0, y: -0.18, yanchor: "top" },
      margin: { l: 60, r: 25, t: 60, b: 90 + 20 * legendRows },
    } as Partial<Layout>),
  };
}

/** Accuracy on 0..1; a loss from zero up, so a diverging run shows how far it went. */
function metricAxis(metric: "val_accuracy" | "val_loss"): Partial<Layout["yaxis"]> {
  return metric === "val_accuracy"
    ? { title: { text: metric }, range: [0, 1], showgrid: true }
    : { title: { text: metric }, rangemode: "tozero", showgrid: true };
}
