import type { CurvesRenderer } from "../../train/callbacks/live";
import { learningCurvesFigure, type LearningCurvesOptions } from "../curves";
import { renderFigure } from "./chromium";

export interface LiveCurvesOptions extends LearningCurvesOptions {
  /**
   * "svg" (default) or "png". SVG is what the live view uses: measured here, plotly's SVG export of the curves
   * takes less time than a PNG screenshot of it, and the notebook scales it without blur.
   */
  format?: "svg" | "png";
}

/**
 * The learning curves (`learningCurvesFigure`) as a renderer for train()'s live view (`liveCurves` option):
 * each call draws the epochs so far in the shared headless Chromium.
 */
export function liveCurvesRenderer(options: LiveCurvesOptions = {}): CurvesRenderer {
  // Epochs counted from 1 here, as the lines above the figure ("Epoch 1/30") count them.
  const { format = "svg", ...figureOptions } = { firstEpoch: 1, ...options };
  return async (history) => {
    const fig = learningCurvesFigure(history, figureOptions);
    const epochs = Object.values(history)[0]?.length ?? 0;
    // Whole epochs only: plotly's automatic ticks would put 0.2, 0.4, ... between two epochs.
    if (epochs <= 10) fig.layout.xaxis = { ...fig.layout.xaxis, dtick: 1 };
    // One epoch is a single point per curve: markers make it visible until the lines appear.
    if (epochs === 1) for (const trace of fig.data) (trace as { mode?: string }).mode = "lines+markers";
    return format === "png" ? { png: await renderFigure(fig, { format: "png" }) } : { svg: await renderFigure(fig, { format: "svg" }) };
  };
}
