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
    return format === "png" ? { png: await renderFigure(fig, { format: "png" }) } : { svg: await renderFigure(fig, { format: "svg" }) };
  };
}
