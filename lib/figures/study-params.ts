import { axisNames, FigureError, type Figure, type Layout, type Plot } from "./figure";
import {
  BLUES,
  bluesAt,
  objectiveLabel,
  type StudyParamDomain,
  type StudyPlotData,
  type StudyPlotTrial,
  studyLayout,
  templateAxis,
  valuedTrials,
} from "./study-style";

type Value = StudyPlotTrial["params"][string];
const label = (v: Value): string => String(v);
const fmt = (x: number): string => Number(x.toPrecision(3)).toString();

/** Where a value sits on its domain, in [0, 1]: log ranges on a log scale, choices evenly spaced. */
function position(d: StudyParamDomain, v: Value): number {
  if (d.kind === "categorical") return d.choices.length <= 1 ? 0.5 : d.choices.map(label).indexOf(label(v)) / (d.choices.length - 1);
  const f = d.log ? Math.log10 : (x: number) => x;
  return d.high === d.low ? 0.5 : (f(v as number) - f(d.low)) / (f(d.high) - f(d.low));
}

/** Ticks of an axis of the parallel plot: the choices, or five values spread over the range. */
function ticks(d: StudyParamDomain): { at: number; text: string }[] {
  if (d.kind === "categorical") return d.choices.map((c) => ({ at: position(d, c), text: label(c) }));
  // A short whole-number range shows each of its values, not five rounded ones that repeat.
  if (d.kind === "int" && !d.log && (d.high - d.low) / d.step <= 8) {
    return Array.from({ length: (d.high - d.low) / d.step + 1 }, (_, k) => d.low + k * d.step).map((v) => ({
      at: position(d, v),
      text: String(v),
    }));
  }
  return [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const v = d.log ? 10 ** (Math.log10(d.low) + t * (Math.log10(d.high) - Math.log10(d.low))) : d.low + t * (d.high - d.low);
    return { at: t, text: fmt(d.kind === "int" && !d.log ? Math.round(v) : v) };
  });
}

/** The objective's colour: darker is better, as Optuna reverses the Blues scale for a minimised objective. */
function colorScale(data: StudyPlotData, trials: readonly StudyPlotTrial[]) {
  const values = trials.map((t) => t.value!);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const reverse = data.objective.direction === "min";
  const t = (v: number) => (hi === lo ? 1 : (v - lo) / (hi - lo));
  return { lo, hi, reverse, color: (v: number) => bluesAt(reverse ? 1 - t(v) : t(v)) };
}

/**
 * Optuna's plot_parallel_coordinate: one line per trial through the objective's axis and one axis per parameter,
 * coloured by the objective (dark = better). Drawn with plain lines, as Optuna 5 draws it, so it renders in SVG.
 */
export function parallelCoordinateFigure(data: StudyPlotData): Figure {
  const trials = valuedTrials(data);
  const names = Object.keys(data.params);
  const scale = colorScale(data, trials);
  const objective: StudyParamDomain = { kind: "float", low: scale.lo, high: scale.hi, log: false };
  const dims = [{ name: data.objective.name, domain: objective }, ...names.map((n) => ({ name: n, domain: data.params[n]! }))];
  const lines: Plot[] = trials.map(
    (t) =>
      ({
        type: "scatter",
        mode: "lines",
        x: dims.map((_, i) => i),
        y: [position(objective, t.value), ...names.map((n) => position(data.params[n]!, t.params[n] ?? null))],
        customdata: [[data.objective.name, fmt(t.value!)], ...names.map((n) => [n, label(t.params[n] ?? null)])],
        line: { color: scale.color(t.value!), width: 1.2, dash: t.state === "pruned" ? "dot" : "solid" },
        opacity: 0.7,
        showlegend: false,
        hovertemplate: `${t.id} %{customdata[0]}: %{customdata[1]}<extra></extra>`,
      }) as Plot,
  );
  lines.push(colorBarTrace(scale, objectiveLabel(data)));
  const annotations = dims.flatMap((d, i) =>
    ticks(d.domain).map((tk) => ({
      x: i,
      y: tk.at,
      text: tk.text,
      showarrow: false,
      xanchor: "right",
      xshift: -4,
      font: { size: 10, color: "#555" },
    })),
  );
  const shapes = dims.map((_, i) => ({ type: "line", x0: i, x1: i, y0: 0, y1: 1, line: { color: "#888", width: 1 }, layer: "below" }));
  return {
    data: lines,
    layout: studyLayout("Parallel Coordinate Plot", Math.max(700, 180 * dims.length), 450, {
      plot_bgcolor: "white",
      xaxis: {
        tickmode: "array",
        tickvals: dims.map((_, i) => i),
        ticktext: dims.map((d) => d.name),
        range: [-0.3, dims.length - 0.8],
        showgrid: false,
        zeroline: false,
      },
      yaxis: { range: [-0.08, 1.08], visible: false, fixedrange: true },
      annotations,
      shapes,
    } as unknown as Partial<Layout>),
  };
}

function colorBarTrace(scale: ReturnType<typeof colorScale>, title: string): Plot {
  return {
    type: "scatter",
    mode: "markers",
    x: [null],
    y: [null],
    marker: {
      color: [scale.lo, scale.hi],
      cmin: scale.lo,
      cmax: scale.hi,
      colorscale: BLUES.map((c, i) => [i / (BLUES.length - 1), c]),
      reversescale: scale.reverse,
      showscale: true,
      colorbar: { title: { text: title, side: "right" } },
    },
    showlegend: false,
    hoverinfo: "skip",
  } as unknown as Plot;
}

/**
 * Ticks for a log range at 1, 2 and 5 times the powers of ten, written out in full: plotly's own log ticks label the
 * in-between ones with their first digit only ("2" for 20), easy to misread on a range under two decades.
 */
function logTicks(low: number, high: number): Record<string, unknown> {
  const vals: number[] = [];
  for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= low * 0.999 && v <= high * 1.001) vals.push(v);
    }
  }
  return vals.length >= 2 ? { tickmode: "array", tickvals: vals, ticktext: vals.map(fmt) } : {};
}

/** An axis for a parameter: log for log ranges, categories in the space's order for choices. */
function paramAxis(d: StudyParamDomain, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (d.kind === "categorical")
    return templateAxis({ title: { text: name }, type: "category", categoryorder: "array", categoryarray: d.choices.map(label), ...extra });
  const wholeSteps = d.kind === "int" && !d.log && (d.high - d.low) / d.step <= 10;
  return templateAxis({
    title: { text: name },
    ...(d.log && { type: "log", ...logTicks(d.low, d.high) }),
    ...(wholeSteps && { dtick: d.step }),
    ...extra,
  });
}

/**
 * Optuna's plot_slice: for each parameter, the objective of every trial against the parameter's value, coloured by
 * trial number (darker = later), so one sees where the good trials are and where the search went.
 */
export function sliceFigure(data: StudyPlotData): Figure {
  const names = Object.keys(data.params);
  if (names.length === 0) throw new FigureError("sliceFigure: the study searches no parameter (every entry of its space is fixed)");
  const trials = valuedTrials(data);
  const gap = 0.04;
  const w = (1 - gap * (names.length - 1)) / names.length;
  const layout: Record<string, unknown> = {};
  const plots: Plot[] = names.map((name, i) => {
    const { xKey, yKey, xRef, yRef } = axisNames(i);
    const d = data.params[name]!;
    layout[xKey] = paramAxis(d, name, { domain: [i * (w + gap), i * (w + gap) + w], anchor: yRef });
    layout[yKey] = templateAxis({
      anchor: xRef,
      ...(i === 0 ? { title: { text: objectiveLabel(data) } } : { matches: "y", showticklabels: false }),
    });
    return {
      type: "scatter",
      mode: "markers",
      xaxis: xRef,
      yaxis: yRef,
      x: trials.map((t) => (d.kind === "categorical" ? label(t.params[name] ?? null) : t.params[name])),
      y: trials.map((t) => t.value),
      customdata: trials.map((t) => t.id),
      showlegend: false,
      marker: {
        size: 9,
        color: trials.map((t) => t.number),
        colorscale: BLUES.map((c, k) => [k / (BLUES.length - 1), c]),
        line: { width: 0.5, color: "Grey" },
        ...(i === 0 && { showscale: true, colorbar: { title: { text: "Trial" }, x: 1.0, xpad: 40 } }),
      },
      hovertemplate: `%{customdata}: ${name} %{x}, %{y:.4f}<extra></extra>`,
    } as unknown as Plot;
  });
  return { data: plots, layout: studyLayout("Slice Plot", Math.max(500, 300 * names.length), 400, layout as Partial<Layout>) };
}

/** The numeric coordinate of a value on a contour axis (a choice's index), and the axis that shows it. */
function contourAxis(d: StudyParamDomain, name: string) {
  if (d.kind === "categorical") {
    const names = d.choices.map(label);
    return {
      coord: (v: Value) => names.indexOf(label(v)),
      axis: templateAxis({
        title: { text: name },
        tickmode: "array",
        tickvals: names.map((_, i) => i),
        ticktext: names,
        range: [-0.5, names.length - 0.5],
      }),
    };
  }
  return { coord: (v: Value) => v as number, axis: paramAxis(d, name) };
}

/**
 * Optuna's plot_contour for two parameters (by default the first two of `params`; pass the two most important):
 * the objective between the trials filled in as a contour, the trials themselves as black dots.
 */
export function contourFigure(data: StudyPlotData, params?: [string, string]): Figure {
  const [xName, yName] = params ?? (Object.keys(data.params) as [string, string]);
  for (const n of [xName, yName]) {
    if (n === undefined || !data.params[n]) {
      throw new FigureError(
        `contourFigure: needs two searched parameters, got ${JSON.stringify(n ?? null)}; the study searches ${Object.keys(data.params).join(", ") || "none"}`,
      );
    }
  }
  if (xName === yName) throw new FigureError(`contourFigure: the two parameters must differ, got ${xName} twice`);
  const trials = valuedTrials(data);
  const xs = contourAxis(data.params[xName]!, xName);
  const ys = contourAxis(data.params[yName]!, yName);
  const xv = [...new Set(trials.map((t) => xs.coord(t.params[xName] ?? null)))].sort((a, b) => a - b);
  const yv = [...new Set(trials.map((t) => ys.coord(t.params[yName] ?? null)))].sort((a, b) => a - b);
  const z: (number | null)[][] = yv.map(() => xv.map(() => null));
  for (const t of trials) z[yv.indexOf(ys.coord(t.params[yName] ?? null))]![xv.indexOf(xs.coord(t.params[xName] ?? null))] = t.value;
  const contour = {
    type: "contour",
    x: xv,
    y: yv,
    z,
    connectgaps: true,
    contours: { coloring: "heatmap" },
    line: { smoothing: 1.3 },
    colorscale: BLUES.map((c, k) => [k / (BLUES.length - 1), c]),
    reversescale: data.objective.direction === "min",
    colorbar: { title: { text: objectiveLabel(data), side: "right" } },
    hoverinfo: "none",
  } as unknown as Plot;
  const dots: Plot = {
    type: "scatter",
    mode: "markers",
    x: trials.map((t) => xs.coord(t.params[xName] ?? null)),
    y: trials.map((t) => ys.coord(t.params[yName] ?? null)),
    customdata: trials.map((t) => [t.id, t.value]),
    marker: { color: "black", size: 8, line: { width: 2, color: "Grey" } },
    showlegend: false,
    hovertemplate: "%{customdata[0]}: %{customdata[1]:.4f}<extra></extra>",
  } as Plot;
  return {
    data: xv.length > 1 && yv.length > 1 ? [contour, dots] : [dots],
    layout: studyLayout("Contour Plot", 650, 500, { xaxis: xs.axis, yaxis: ys.axis } as Partial<Layout>),
  };
}
