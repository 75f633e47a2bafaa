import { baseLayout, type Figure, type Layout } from "./figure";
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
 * Short names of the config's fields for a comparison's columns and legend (Keras's where it has a short one: lr,
 * clipnorm), so a table of what differs fits a terminal and a legend entry fits its figure.
 */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  epochs: "epochs",
  batchSize: "batch",
  hiddenUnits: "hidden",
  learningRate: "lr",
  activation: "act",
  initializer: "init",
  batchNorm: "bn",
  dropout: "dropout",
  l2: "l2",
  optimizer: "opt",
  momentum: "mom",
  nesterov: "nesterov",
  weightDecay: "wd",
  lrSchedule: "schedule",
  clipNorm: "clipnorm",
  clipValue: "clipvalue",
  normalize: "norm",
  validationSize: "val_size",
  seed: "seed",
  dataDir: "data",
  patience: "patience",
  backend: "backend",
  threads: "threads",
  stockKernels: "stock",
};

/** A config field's short name (SHORT_NAMES), or the field itself. */
export function shortName(key: string): string {
  return SHORT_NAMES[key] ?? key;
}

/**
 * A config value as a legend or table shows it: numbers to 3 significant digits, strings bare, a schedule as
 * `exponential(decaySteps=17200, decayRate=0.1)`, the rest as JSON.
 */
export function legendValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && !Array.isArray(v) && typeof (v as { type?: unknown }).type === "string") {
    const { type, ...rest } = v as Record<string, unknown>;
    return `${type}(${Object.entries(rest)
      .map(([k, x]) => `${k}=${legendValue(x)}`)
      .join(", ")})`;
  }
  return JSON.stringify(v);
}

/**
 * What each run changed, as `name=value` pairs (short names): for every config key that differs between the runs,
 * the runs whose value is not the common one, the value most runs share (at least two, and no other as often). A key
 * without a common value (a sweep: each run its own learning rate; two runs that differ) is named for every run, so
 * each entry says where its run stands.
 */
export function runChanges(configs: readonly Record<string, unknown>[]): string[][] {
  const changed = changedKeys(configs);
  const common = new Map<string, string>();
  for (const k of changed) {
    const counts = new Map<string, number>();
    for (const c of configs) counts.set(JSON.stringify(c[k]), (counts.get(JSON.stringify(c[k])) ?? 0) + 1);
    const [first, second] = [...counts].sort((a, b) => b[1] - a[1]);
    if (first && first[1] >= 2 && first[1] > (second?.[1] ?? 0)) common.set(k, first[0]);
  }
  return configs.map((c) =>
    changed.filter((k) => common.get(k) !== JSON.stringify(c[k])).map((k) => `${shortName(k)}=${legendValue(c[k])}`),
  );
}

/** Breaks a legend label into lines of at most `width` characters at its ", " separators, for plotly (`<br>`). */
function wrapLabel(label: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const part of label.split(/(?<=, )/)) {
    if (line && (line + part).trimEnd().length > width) {
      lines.push(line.trimEnd());
      line = "";
    }
    line += part;
  }
  return [...lines, line.trimEnd()];
}

export interface CompareCurvesOptions {
  /** Start each legend entry with the run's name, then what it changed. Default true; false: only what it changed. */
  named?: boolean;
  /** Figure title; default "Validation curves by run". */
  title?: string;
  /** The panels, left to right; default both. Géron's optimizer figure shows val_accuracy alone. */
  metrics?: readonly ("val_accuracy" | "val_loss")[];
}

const WIDTH = 1000;
const PLOT_HEIGHT = 480;
// Two legend entries a row, each under half the figure wide: at 10 px, about 65 characters fit beside the line sample.
const LEGEND_CHARS = 65;
const LEGEND_LINE_PX = 14;
const LEGEND_ROW_GAP_PX = 6;
const LEGEND_BOTTOM_PX = 12;

/**
 * Validation curves of several runs side by side: val_accuracy on the left, val_loss on the right (its own scale,
 * so a diverging run does not flatten the others), one tab10 colour per run, each run named once in the legend by
 * its name and what it changed (runChanges). Epochs count from 1, as the comparison table's best_epoch does; markers
 * keep a 1-epoch run (a single point) visible. The legend sits below the plots, two entries a row, long entries
 * wrapped, and the figure grows to hold it, so nothing is cut off.
 */
export function compareCurvesFigure(runs: readonly CurvesOfRun[], options: CompareCurvesOptions = {}): Figure {
  const changes = runChanges(runs.map((r) => r.config));
  const labels = runs.map((r, i) => {
    const what = changes[i]!.join(", ");
    if (!what) return r.name;
    return (options.named ?? true) ? `${r.name}: ${what}` : what;
  });
  const lines = labels.map((l) => wrapLabel(l, LEGEND_CHARS));
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
        name: lines[i]!.join("<br>"),
        legendgroup: `run${i}`,
        showlegend: xaxis === "x",
        line: { color },
        marker: { color, size: 5 },
        hovertemplate: `${labels[i]}, epoch %{x}: ${metric} %{y:.4f}<extra></extra>`,
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
  // Rows of two entries; a row is as tall as its longest (wrapped) entry.
  let legendPx = 10 + LEGEND_BOTTOM_PX;
  for (let i = 0; i < lines.length; i += 2) {
    legendPx += Math.max(...lines.slice(i, i + 2).map((l) => l.length)) * LEGEND_LINE_PX + LEGEND_ROW_GAP_PX;
  }
  const height = PLOT_HEIGHT + legendPx;
  return {
    data,
    layout: baseLayout(WIDTH, height, {
      title: { text: options.title ?? "Validation curves by run" },
      xaxis: epochAxis(panels.length > 1 ? [0, 0.45] : [0, 1]),
      yaxis: metricAxis(panels[0]?.metric ?? "val_accuracy"),
      ...(panels[1] && {
        xaxis2: { ...epochAxis([0.55, 1]), anchor: "y2" },
        yaxis2: { ...metricAxis(panels[1].metric), anchor: "x2" },
      }),
      // Each run is one legend entry (both panels toggle together): the legend is how a reader tells them apart.
      showlegend: true,
      legend: {
        font: { size: 10 },
        orientation: "h",
        // Under half: plotly counts the gap between entries in the row's width, so 0.5 would fit one a row.
        entrywidth: 0.45,
        entrywidthmode: "fraction",
        valign: "top",
        x: 0,
        xref: "container",
        y: LEGEND_BOTTOM_PX / height,
        yref: "container",
        yanchor: "bottom",
      },
      margin: { l: 60, r: 25, t: 60, b: 70 + legendPx },
    } as Partial<Layout>),
  };
}

/** Accuracy on 0..1; a loss from zero up, so a diverging run shows how far it went. */
function metricAxis(metric: "val_accuracy" | "val_loss"): Partial<Layout["yaxis"]> {
  return metric === "val_accuracy"
    ? { title: { text: metric }, range: [0, 1], showgrid: true }
    : { title: { text: metric }, rangemode: "tozero", showgrid: true };
}
