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

/**
 * Validation curves of several runs on one plot: val_accuracy solid, val_loss dashed, one colour per run (the same
 * tab10 cycle as `learningCurvesFigure`), each run named by the hyperparameters that differ. Epochs count from 1,
 * as the comparison table's best_epoch does; markers keep a 1-epoch run (a single point) visible.
 */
export function compareCurvesFigure(runs: readonly CurvesOfRun[]): Figure {
  const changed = changedKeys(runs.map((r) => r.config));
  const label = (r: CurvesOfRun) => (changed.length ? changed.map((k) => `${k}=${JSON.stringify(r.config[k])}`).join(", ") : r.name);
  const data = runs.flatMap((r, i) => {
    const color = TAB10[i % TAB10.length]!;
    return (["val_accuracy", "val_loss"] as const).map((metric) => {
      const y = Array.from(r.history.history[metric] ?? [], Number);
      return {
        x: y.map((_, e) => e + 1),
        y,
        type: "scatter" as const,
        mode: "lines+markers" as const,
        name: `${label(r)} ${metric}`,
        line: { color, ...(metric === "val_loss" && { dash: "dash" as const }) },
        marker: { color, size: 5 },
        hovertemplate: `${label(r)}, epoch %{x}: ${metric} %{y:.4f}<extra></extra>`,
      };
    });
  });
  const longest = Math.max(1, ...data.map((t) => t.x.length));
  return {
    data,
    layout: baseLayout(900, 520, {
      title: { text: "Validation curves by run" },
      xaxis: { title: { text: "epoch" }, showgrid: true, ...(longest <= 10 && { dtick: 1 }), ...(longest === 1 && { range: [0.5, 1.5] }) },
      yaxis: { range: [0, 1], showgrid: true },
      // Each run is a trace named after what it changed: the legend is how a reader tells them apart.
      showlegend: true,
      legend: { font: { size: 10 } },
    }),
  };
}
