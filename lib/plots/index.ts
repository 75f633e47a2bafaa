// Figures as plotly specs (pure data -> Figure) and the ways to show them: inline in tslab, files, a nodeplotlib window.
export { type Figure, FigureError, FASHION_CLASS_NAMES, PX_PER_INCH } from "./figure";
export { imageFigure, imageGridFigure, type ImageFigureOptions, type ImageBatch, type ImageInput, BINARY_COLORSCALE } from "./images";
export { learningCurvesFigure, type LearningCurvesOptions } from "./curves";
export { architectureFigure, type LayerInfo, type ArchitectureOptions } from "./architecture";
export { predictionsFigure, type PredictionsOptions } from "./predictions";
export {
  renderFigure, saveFig, closeRenderer, figureHtml, rendererStats, setRendererIdleClose, chromiumPath, inTslabKernel,
  RenderError, SAVE_PNG_SCALE, type RenderFormat, type RenderOptions, type SaveFigOptions,
} from "./render";
export { showInline, show, type ShowInlineOptions } from "./display";
