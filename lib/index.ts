/*
 * "fashion-ann": what notebooks and scripts import. Each group below is one step of the tutorial's story.
 * Internals (kernels, locks, atomic writes, bench plumbing) stay importable by their path inside lib/
 * for tests, and are not part of this surface.
 */

// The one config: the tutorial's defaults, overridden by notebooks, the CLI, tests and the bench alike.
export { BACKENDS, type BackendName, type ConfigOverrides, ConfigError, ExperimentConfig, resolveConfig } from "./config";

// The TensorFlow.js backend this process trains on.
export { BackendError, type BackendInfo, formatBackend, initBackend } from "./engine/backend";

// Data: Fashion-MNIST as numpy-like arrays, the validation split, PNG input for predictions.
export { CLASS_NAMES, IMAGE_SHAPE, type Images, type LabeledImages, NUM_CLASSES } from "./data/images";
export { type FashionMnistRaw, type LoadFashionMnistOptions, loadFashionMnist } from "./data/fashion-mnist";
export { type FashionMnistSplits, type ScaledImages, splitAndScale } from "./data/split";
export { DatasetError } from "./data/idx";
export { ImageInputError, type LoadedImage, loadImagePng } from "./data/png-input";
export { NDArray, NDArrayError } from "./format/ndarray";

// The model: Keras's Sequential MLP, its summary and its files.
export { compileModel, createModel } from "./model/factory";
export { layerTable, modelSummary } from "./model/summary";
export { loadModel, ModelFileError, saveModel } from "./model/files";

// Training: model.fit's loop, its callbacks and History.
export { type TrainingEngine, type TrainOptions, TrainingError, train } from "./train/fit";
export type { History, Logs, TrainCallbacks } from "./train/callbacks/callback";
export { checkpointCallback, earlyStopping, loadCheckpoint } from "./train/callbacks/checkpoint";
export { TENSORBOARD_LOG_DIR, tensorBoardCallback } from "./train/callbacks/tensorboard";
export { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerSpec } from "./optimizers";
export { findLearningRate, LrFinderError, type LrFinderOptions, type LrFinderResult, suggestRate } from "./train/lr-finder";
export { kerasProgress, type ProgressMode } from "./train/callbacks/progress";
export { type CurvesRenderer, type LiveDisplay, liveProgress } from "./train/callbacks/live";

// TensorBoard event files (scalars, histograms, HParams sessions) written without TensorFlow.
export { EventFileWriter } from "./tensorboard/writer";
export { histogramOf } from "./tensorboard/histogram";
export { recordTrialSession } from "./tensorboard/trial-session";

// Results: evaluation, predictions, error analysis, the history as a table.
export { evaluate, type TestMetrics } from "./results/evaluate";
export { classNamesOf, predictClasses, predictProba, roundProbabilities } from "./results/predict";
export {
  classificationReport,
  classificationReportDataFrame,
  confusedPairsDataFrame,
  confusionMatrix,
  misclassified,
  mostConfusedPairs,
} from "./results/metrics";
export { historyToDataFrame, printHistory } from "./results/history";

// Runs: the folder a run writes, whole experiments, comparisons, reports, notebooks.
export { createRun, openRun, projectPath, Run, RunError } from "./runs/run";
export { loadData, trainExperiment, TrainingInterrupted } from "./runs/experiment";
export { asModelInput, type CustomRunOptions, type CustomRunResult, resumeCustomRun, trainCustomRun } from "./runs/custom-run";
export { comparisonTable, formatComparison, listRuns, summarizeRuns } from "./runs/compare";
export { analyseErrors, type ErrorAnalysis, writeRunReport } from "./runs/report";
export { exportRunToKeras, importKerasRun, type KerasExport } from "./runs/keras-run";
export { runNotebooks } from "./notebook/execute";
export { fit, type FitOptions, modelInputFigure, type NotebookSession, startNotebook } from "./notebook/session";

// Tuning: Keras Tuner's random, grid and Hyperband searches; the study in PGlite (embedded) or a PostgreSQL server.
export { parseSearchSpace, SearchSpaceError } from "./search/core/space";
export type { Objective } from "./search/core/objective";
export { liveTrialsTable, type TrialRow, trialsTableHtml } from "./search/trials-table";
export { runSearch, type SearchOptions, type SearchResult } from "./search/session";
export { trialCurvesFigure, trialsDataFrame } from "./search/report";
export { openStudy, type StoredTrial, StudyStorageError } from "./search/storage";
// A study's plots (Optuna's six views), its importances (PED-ANOVA) and its export for pandas and Optuna.
export { studyPlotData, studyImportances } from "./search/analysis/study-view";
export { paramImportances } from "./search/analysis/importance";
export { IMPORTANCE_METHOD, saveStudyFigures, studyFigures, studyFiguresOf, writeStudyReport } from "./search/study-report";
export { exportStudy, type StudyExport } from "./search/export";
export { intermediateValuesFigure, optimizationHistoryFigure } from "./figures/study-history";
export { contourFigure, parallelCoordinateFigure, sliceFigure } from "./figures/study-params";
export { paramImportancesFigure } from "./figures/study-importance";
export type { StudyPlotData } from "./figures/study-style";
// Keras Tuner's build_model(hp) in a notebook: hp.Int/Float/Choice/Boolean, resultsSummary, getBestHyperparameters/Models.
export { HyperParameters, type RangeOptions } from "./search/hypermodel/hyperparameters";
export { type BuildModel, HyperTuner, type HyperTunerOptions } from "./search/hypermodel/hyper-tuner";

// Figures: pure plotly specs (data -> { data, layout }) and the three ways to show one.
export { type Figure, FigureError } from "./figures/figure";
export { imageFigure, imageGridFigure } from "./figures/images";
export { learningCurvesFigure } from "./figures/curves";
export { compareCurvesFigure } from "./figures/compare";
export { formatRate, lrFinderFigure } from "./figures/lr-finder";
export { architectureFigure } from "./figures/architecture";
export { predictionsFigure } from "./figures/predictions";
export { confusionMatrixFigure } from "./figures/confusion";
export { misclassifiedFigure, selectImages } from "./figures/misclassified";
export { classScoresFigure } from "./figures/scores";
export { showInline } from "./figures/render/inline";
export { show } from "./figures/render/window";
export { closeRenderer, saveFig } from "./figures/render/chromium";
export { liveCurvesRenderer } from "./figures/render/live";
