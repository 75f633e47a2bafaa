// Figures as plotly specs (pure data -> Figure) and the ways to show them: inline in tslab, files, a nodeplotlib window.
export { type Figure, FigureError, FASHION_CLASS_NAMES, PX_PER_INCH } from "./figure";
export { imageFigure, imageGridFigure, type ImageFigureOptions, type ImageBatch, type ImageInput, BINARY_COLORSCALE } from "./images";
export { learningCurvesFigure, type LearningCurvesOptions } from "./curves";
export { architectureFigure, type LayerInfo, type ArchitectureOptions } from "./architecture";
export { predictionsFigure, type PredictionsOptions } from "./predictions";
export { confusionMatrixFigure, BLUES_COLORSCALE, type ConfusionMatrixFigureOptions } from "./confusion";
export { misclassifiedFigure, selectImages, type MisclassifiedCase, type MisclassifiedOptions } from "./misclassified";
export { classScoresFigure, type ClassScoreRow, type ClassScoresOptions } from "./scores";
export {
  renderFigure, saveFig, closeRenderer, figureHtml, htmlToPdf, rendererStats, setRendererIdleClose, chromiumPath, inTslabKernel,
  RenderError, SAVE_PNG_SCALE, type RenderFormat, type RenderOptions, type SaveFigOptions, type PdfOptions,
} from "./render";
export { showInline, show, inlineFigureHtml, type ShowInlineOptions } from "./display";
export { offlineIndexHtml, WINDOW_PLOTLY_ROUTE } from "./window";
