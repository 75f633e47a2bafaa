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

export function registerPredict(program: Command): void {
  program
    .command("predict")
    .description("class probabilities from a run's model for 28x28 PNG files or test images")
    .argument("<run>", "run folder with a trained model")
    .argument("[images...]", "28x28 PNG files (colour is converted to grayscale, a light background inverted; other sizes are refused)")
    .option("--test-index <n>", "a test-set image by index (repeatable)", index)
    .option("--show-input <file>", "write the 28x28 inputs the model saw (after conversion) with its predictions: .png, .svg or .pdf")
    .action(async (dir: string, images: string[], opts: { testIndex?: number[]; showInput?: string }) => {
      const { existingRun, RunError } = await import("../../runs/run");
      const { loadImagePng } = await import("../../data/png-input");
      if (images.length === 0 && !opts.testIndex?.length)
        throw new RunError("predict needs PNG files or --test-index N; see fashion-ann predict --help");
      const run = existingRun(dir);
      // Every image is read before the model loads, so a bad file fails in a second, not after loading.
      const { readRunConfig } = await import("../../runs/custom-run");
      // A hand-built or imported model's config.json marks its architecture "custom"; its data fields are the known ones.
      const { config } = readRunConfig(run);
      const names: string[] = [];
      const pixels: Float32Array[] = [];
      const truth: (string | undefined)[] = [];
      for (const file of images) {
        assertPngFile(file);
        const img = loadImagePng(file);
        for (const c of img.conversions) console.error(`${file}: ${c}`);
        names.push(file);
        pixels.push(img.pixels);
        truth.push(undefined);
      }
      const { initBackend } = await import("../../engine/backend");
      const { loadDataWithStandardization } = await import("../../runs/experiment");
      const { applyStandardization } = await import("../../data/standardize");
      const { classNamesOf, predictClasses, predictProba, roundProbabilities } = await import("../../results/predict");
      await initBackend(config);
      const model = await run.loadModel();
      // A "standardize" run saw (x - mean) / std of its training set: the PNGs get the same statistics.
      const standardized = config.normalize === "standardize" || opts.testIndex?.length ? await loadDataWithStandardization(config) : null;
      const inputs = standardized?.standardization
        ? pixels.map((p) => applyStandardization(p, standardized.standardization!))
        : [...pixels];
      const shown = [...pixels];
      if (opts.testIndex?.length) {
        const test = standardized!.splits.test;
        for (const i of opts.testIndex) {
          if (i >= test.x.shape[0]!)
            throw new RunError(
              `--test-index ${i} is out of range: the test set has ${test.x.shape[0]} images (0..${test.x.shape[0]! - 1})`,
            );
          names.push(`test[${i}]`);
          inputs.push(test.x.row(i).data);
          // Shown as an image: the scaled pixels, not the standardized values the model took.
          const s = standardized!.standardization;
          shown.push(s ? test.x.row(i).data.map((v, j) => v * s.std[j]! + s.mean[j]!) : test.x.row(i).data);
          truth.push(CLASS_NAMES[test.y.data[i]!]);
        }
      }
      const flat = (rows: Float32Array[]) => {
        const out = new Float32Array(rows.length * IMAGE_PIXELS);
        rows.forEach((p, i) => out.set(p, i * IMAGE_PIXELS));
        return out;
      };
      const proba = predictProba(model, { data: flat(inputs), shape: [inputs.length, ...IMAGE_SHAPE] });
      const data = flat(shown);
      const predicted = classNamesOf(predictClasses(proba), CLASS_NAMES);
      roundProbabilities(proba).forEach((row, i) => {
        const top = row
          .map((p, c) => ({ p, c }))
          .sort((a, b) => b.p - a.p)
          .slice(0, 3);
        const known = truth[i] ? ` (true: ${truth[i]})` : "";
        console.log(`${names[i]}: ${predicted[i]}${known}  [${top.map((t) => `${CLASS_NAMES[t.c]} ${t.p.toFixed(2)}`).join(", ")}]`);
      });
      if (opts.showInput) {
        const { predictionsFigure } = await import("../../figures/predictions");
        const { saveFig } = await import("../../figures/render/chromium");
        const format = path.extname(opts.showInput).slice(1);
        if (format !== "png" && format !== "svg" && format !== "pdf")
          throw new RunError(`--show-input ${opts.showInput}: expected a .png, .svg or .pdf file name`);
        const titles = predicted.map((p, i) => `${path.basename(names[i]!)}: ${p}`);
        const fig = predictionsFigure({ data, shape: [shown.length, 28, 28] }, titles, proba);
        const out = await saveFig(fig, path.basename(opts.showInput), { dir: path.dirname(path.resolve(opts.showInput)), format });
        console.log(`inputs as the model saw them: ${out}`);
      }
    });
}
