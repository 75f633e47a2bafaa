import * as fs from "node:fs";
import * as path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SHAPE } from "../../data/images";
import { isErrnoError, PathError, pathError } from "../../io/fs-errors";

function assertPngFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    if (isErrnoError(err) && err.code === "ENOENT")
      throw new PathError(`image ${file} does not exist; give the path of a 28x28 PNG file`, file, "ENOENT");
    throw isErrnoError(err) ? pathError(err, file) : err;
  }
  if (stat.isDirectory()) throw new PathError(`image ${file} is a folder, expected a 28x28 PNG file; give the file's path`, file, "EISDIR");
}

const index = (value: string, previous: number[] = []): number[] => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--test-index expects a test image index 0..9999, got "${value}"`);
  return [...previous, Number(value)];
};

/** The images to predict, in order: the PNG files, then the test images; `shown` are the pixels to draw. */
interface PredictInputs {
  names: string[];
  inputs: Float32Array[];
  shown: Float32Array[];
  truth: (string | undefined)[];
}

interface PredictOptions {
  testIndex?: number[];
  showInput?: string;
}

type RunErrorClass = typeof import("../../runs/run").RunError;

async function readPngInputs(images: string[]): Promise<PredictInputs> {
  const { loadImagePng } = await import("../../data/png-input");
  const out: PredictInputs = { names: [], inputs: [], shown: [], truth: [] };
  for (const file of images) {
    assertPngFile(file);
    const img = loadImagePng(file);
    for (const c of img.conversions) console.error(`${file}: ${c}`);
    out.names.push(file);
    out.inputs.push(img.pixels);
    out.shown.push(img.pixels);
    out.truth.push(undefined);
  }
  return out;
}

/**
 * A "standardize" run saw (x - mean) / std of its training set: the PNGs get the same statistics. Test images are
 * loaded as the run loaded them, and drawn as pixels, not as the standardized values the model took.
 */
async function addTestImages(
  into: PredictInputs,
  config: import("../../config").ExperimentConfig,
  testIndex: number[],
  RunError: RunErrorClass,
): Promise<void> {
  if (config.normalize !== "standardize" && testIndex.length === 0) return;
  const { loadDataWithStandardization } = await import("../../runs/experiment");
  const { applyStandardization } = await import("../../data/standardize");
  const { splits, standardization: s } = await loadDataWithStandardization(config);
  if (s) into.inputs = into.inputs.map((p) => applyStandardization(p, s));
  const test = splits.test;
  const count = test.x.shape[0] ?? 0;
  for (const i of testIndex) {
    if (i >= count) throw new RunError(`--test-index ${i} is out of range: the test set has ${count} images (0..${count - 1})`);
    const row = test.x.row(i).data;
    into.names.push(`test[${i}]`);
    into.inputs.push(row);
    into.shown.push(s ? row.map((v, j) => v * (s.std[j] ?? 1) + (s.mean[j] ?? 0)) : row);
    into.truth.push(CLASS_NAMES[test.y.data[i] ?? 0]);
  }
}

function flat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * IMAGE_PIXELS);
  rows.forEach((p, i) => out.set(p, i * IMAGE_PIXELS));
  return out;
}

/** One line per image: the predicted class, the true one when known, and the top three probabilities. */
function printPredictions(inputs: PredictInputs, predicted: string[], rounded: number[][]): void {
  rounded.forEach((row, i) => {
    const top = row
      .map((p, c) => ({ p, c }))
      .sort((a, b) => b.p - a.p)
      .slice(0, 3);
    const known = inputs.truth[i] ? ` (true: ${inputs.truth[i]})` : "";
    console.log(`${inputs.names[i]}: ${predicted[i]}${known}  [${top.map((t) => `${CLASS_NAMES[t.c]} ${t.p.toFixed(2)}`).join(", ")}]`);
  });
}

function showInputFormat(file: string, RunError: RunErrorClass): "png" | "svg" | "pdf" {
  const format = path.extname(file).slice(1);
  if (format !== "png" && format !== "svg" && format !== "pdf")
    throw new RunError(`--show-input ${file}: expected a .png, .svg or .pdf file name`);
  return format;
}

async function saveShownInputs(file: string, inputs: PredictInputs, predicted: string[], proba: number[][], format: "png" | "svg" | "pdf") {
  const { predictionsFigure } = await import("../../figures/predictions");
  const { saveFig } = await import("../../figures/render/chromium");
  const titles = predicted.map((p, i) => `${path.basename(inputs.names[i] ?? "")}: ${p}`);
  const fig = predictionsFigure({ data: flat(inputs.shown), shape: [inputs.shown.length, 28, 28] }, titles, proba);
  const out = await saveFig(fig, path.basename(file), { dir: path.dirname(path.resolve(file)), format });
  console.log(`inputs as the model saw them: ${out}`);
}

async function predictAction(dir: string, images: string[], opts: PredictOptions): Promise<void> {
  const { existingRun, RunError } = await import("../../runs/run");
  if (images.length === 0 && !opts.testIndex?.length)
    throw new RunError("predict needs PNG files or --test-index N; see fashion-ann predict --help");
  const format = opts.showInput ? showInputFormat(opts.showInput, RunError) : undefined;
  const run = existingRun(dir);
  // A hand-built or imported model's config.json marks its architecture "custom"; its data fields are the known ones.
  const { readRunConfig } = await import("../../runs/custom-run");
  const { config } = readRunConfig(run);
  // Every image is read before the model loads, so a bad file fails in a second, not after loading.
  const inputs = await readPngInputs(images);
  const { initBackend } = await import("../../engine/backend");
  const { classNamesOf, predictClasses, predictProba, roundProbabilities } = await import("../../results/predict");
  await initBackend(config);
  const model = await run.loadModel();
  await addTestImages(inputs, config, opts.testIndex ?? [], RunError);
  const proba = predictProba(model, { data: flat(inputs.inputs), shape: [inputs.inputs.length, ...IMAGE_SHAPE] });
  const predicted = classNamesOf(predictClasses(proba), CLASS_NAMES);
  printPredictions(inputs, predicted, roundProbabilities(proba));
  if (opts.showInput && format) await saveShownInputs(opts.showInput, inputs, predicted, proba, format);
}

export function registerPredict(program: Command): void {
  program
    .command("predict")
    .description("class probabilities from a run's model for 28x28 PNG files or test images")
    .argument("<run>", "run folder with a trained model")
    .argument("[images...]", "28x28 PNG files (colour is converted to grayscale, a light background inverted; other sizes are refused)")
    .option("--test-index <n>", "a test-set image by index (repeatable)", index)
    .option("--show-input <file>", "write the 28x28 inputs the model saw (after conversion) with its predictions: .png, .svg or .pdf")
    .action(predictAction);
}
