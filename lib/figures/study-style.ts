// What the study figures share: the plain data they are drawn from (built by lib/search/analysis/study-view.ts, so
// figures never import the search), and the look of Optuna's plotly figures (plotly's default template: blue-grey
// plot area, white grid, its colour cycle, the Blues scale for objective values).
import { baseLayout, type Layout } from "./figure";

/** A searched parameter's range or choices (the search's ParamDomain, in Optuna's terms). */
export type StudyParamDomain =
  | { kind: "float"; low: number; high: number; log: boolean }
  | { kind: "int"; low: number; high: number; log: boolean; step: number }
  | { kind: "categorical"; choices: (string | number | boolean | null)[] };

export type StudyTrialState = "complete" | "pruned" | "failed" | "running" | "pending";

export interface StudyPlotTrial {
  /** 0, 1, 2, ...: the order trials were started in (Optuna's trial number). */
  number: number;
  /** trial-000, ...: the study's id. */
  id: string;
  state: StudyTrialState;
  /** Searched parameters only; a list-valued choice as its JSON text. */
  params: Record<string, string | number | boolean | null>;
  /** The best objective over its epochs (what the study ranks by), or null when no epoch gave a finite one. */
  value: number | null;
  /** The objective after each epoch: intermediate[e - 1] is epoch e's. */
  intermediate: number[];
}

/** A study as its figures need it. */
export interface StudyPlotData {
  objective: { name: string; direction: "min" | "max" };
  params: Record<string, StudyParamDomain>;
  trials: StudyPlotTrial[];
}

/** plotly's default colour cycle, which Optuna's figures use. */
export const PLOTLY_COLORS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52"];

/** plotly.colors.sequential.Blues: Optuna's COLOR_SCALE. */
export const BLUES = [
  "rgb(247,251,255)",
  "rgb(222,235,247)",
  "rgb(198,219,239)",
  "rgb(158,202,225)",
  "rgb(107,174,214)",
  "rgb(66,146,198)",
  "rgb(33,113,181)",
  "rgb(8,81,156)",
  "rgb(8,48,107)",
];

/** The colour at t in [0, 1] along BLUES, interpolated in RGB as plotly does. */
export function bluesAt(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (BLUES.length - 1);
  const i = Math.min(Math.floor(x), BLUES.length - 2);
  const [a, b] = [BLUES[i]!, BLUES[i + 1]!].map((c) => c.match(/\d+/g)!.map(Number));
  const f = x - i;
  return `rgb(${a!.map((v, k) => Math.round(v + (b![k]! - v) * f)).join(",")})`;
}

/** An axis of plotly's default template: white grid lines on the blue-grey area, no frame. */
export function templateAxis(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { gridcolor: "white", zerolinecolor: "white", linecolor: "white", ticks: "", automargin: true, ...extra };
}

/** The layout every study figure starts from: plotly's default template, the title at the top left as Optuna's. */
export function studyLayout(title: string, width: number, height: number, extra: Partial<Layout> = {}): Partial<Layout> {
  return baseLayout(width, height, {
    plot_bgcolor: "#E5ECF6",
    colorway: PLOTLY_COLORS,
    title: { text: title, x: 0.05, xanchor: "left", font: { size: 17 } },
    margin: { l: 70, r: 30, t: 60, b: 60 },
    hovermode: "closest",
    ...extra,
  } as Partial<Layout>);
}

/** Trials that have a value to plot (completed or pruned with a finite best epoch), in trial order. */
export const valuedTrials = (data: StudyPlotData): StudyPlotTrial[] =>
  data.trials.filter((t) => (t.state === "complete" || t.state === "pruned") && t.value !== null && Number.isFinite(t.value));

/** "val_accuracy" and which way is better, for axis titles. */
export const objectiveLabel = (data: StudyPlotData): string =>
  `${data.objective.name} (${data.objective.direction === "max" ? "max" : "min"})`;
