import { FigureError, type Figure, type Plot } from "./figure";
import { objectiveLabel, PLOTLY_COLORS, type StudyPlotData, studyLayout, templateAxis, valuedTrials } from "./study-style";

function checkData(data: StudyPlotData, what: string): void {
  if (!data || !Array.isArray(data.trials) || !data.objective) {
    throw new FigureError(`${what}: expected a study's plot data { objective, params, trials } (studyPlotData(...)), got ${typeof data}`);
  }
}

/**
 * Optuna's plot_optimization_history: each trial's objective against its number, and the best value so far as a
 * line. Completed trials are blue dots; pruned trials, ranked by their best epoch as the study ranks them, are grey
 * crosses, so they count in the best-so-far line as they count in the table.
 */
export function optimizationHistoryFigure(data: StudyPlotData): Figure {
  checkData(data, "optimizationHistoryFigure");
  const trials = valuedTrials(data);
  const max = data.objective.direction === "max";
  let best = max ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const bestSoFar = trials.map((t) => {
    best = max ? Math.max(best, t.value!) : Math.min(best, t.value!);
    return best;
  });
  const points = (state: "complete" | "pruned"): Plot => {
    const ts = trials.filter((t) => t.state === state);
    return {
      type: "scatter",
      mode: "markers",
      name: state === "complete" ? "Objective Value" : "Pruned (best epoch)",
      x: ts.map((t) => t.number),
      y: ts.map((t) => t.value!),
      customdata: ts.map((t) => [t.id, JSON.stringify(t.params)]),
      marker: state === "complete" ? { color: PLOTLY_COLORS[0], size: 8 } : { color: "#888888", symbol: "x", size: 8 },
      hovertemplate: "%{customdata[0]}: %{y:.4f}<br>%{customdata[1]}<extra></extra>",
    } as Plot;
  };
  const plots: Plot[] = [points("complete")];
  if (trials.some((t) => t.state === "pruned")) plots.push(points("pruned"));
  plots.push({
    type: "scatter",
    mode: "lines",
    name: "Best Value",
    x: trials.map((t) => t.number),
    y: bestSoFar,
    line: { color: PLOTLY_COLORS[1], width: 2, shape: "hv" },
    hovertemplate: "best after trial %{x}: %{y:.4f}<extra></extra>",
  } as Plot);
  return {
    data: plots,
    layout: studyLayout("Optimization History Plot", 800, 450, {
      showlegend: true,
      xaxis: templateAxis({ title: { text: "Trial" }, ...(data.trials.length <= 20 && { dtick: 1 }) }),
      yaxis: templateAxis({ title: { text: objectiveLabel(data) } }),
    } as Partial<Figure["layout"]>),
  };
}

/**
 * Optuna's plot_intermediate_values: every trial's objective after each epoch, one line per trial. A pruned trial's
 * line is dotted and ends in a red cross at the epoch it was stopped; a running trial's line grows as its epochs
 * come in (the live view redraws this figure).
 */
export function intermediateValuesFigure(data: StudyPlotData): Figure {
  checkData(data, "intermediateValuesFigure");
  const trials = data.trials.filter((t) => t.intermediate.length > 0);
  const lines: Plot[] = trials.map(
    (t, i) =>
      ({
        type: "scatter",
        mode: "lines+markers",
        name: `Trial${t.number}${t.state === "complete" ? "" : ` (${t.state})`}`,
        x: t.intermediate.map((_, e) => e + 1),
        y: t.intermediate.map((v) => (Number.isFinite(v) ? v : null)),
        marker: { size: 5, color: PLOTLY_COLORS[i % PLOTLY_COLORS.length] },
        line: { width: 1.5, color: PLOTLY_COLORS[i % PLOTLY_COLORS.length], dash: t.state === "pruned" ? "dot" : "solid" },
        hovertemplate: `${t.id}, epoch %{x}: %{y:.4f}<extra></extra>`,
      }) as Plot,
  );
  const pruned = trials.filter((t) => t.state === "pruned");
  if (pruned.length > 0) {
    lines.push({
      type: "scatter",
      mode: "markers",
      name: "pruned here",
      x: pruned.map((t) => t.intermediate.length),
      y: pruned.map((t) => t.intermediate.at(-1)!),
      marker: { symbol: "x", size: 11, color: "#d62728", line: { width: 1, color: "#d62728" } },
      hovertemplate: "pruned after epoch %{x}<extra></extra>",
    } as Plot);
  }
  const epochs = Math.max(1, ...trials.map((t) => t.intermediate.length));
  return {
    data: lines,
    layout: studyLayout("Intermediate Values Plot", 800, 450, {
      showlegend: true,
      xaxis: templateAxis({ title: { text: "Epoch" }, ...(epochs <= 20 && { dtick: 1 }), range: [0.7, epochs + 0.3] }),
      yaxis: templateAxis({ title: { text: data.objective.name } }),
    } as Partial<Figure["layout"]>),
  };
}
