import { resolveConfig } from "../../config";
import type { ScaledImages } from "../../data/split";
import { initBackend } from "../../engine/backend";
import { compileModel, createModel } from "../../model/factory";
import type { OptimizerName } from "../../optimizers";
import { loadData } from "../../runs/experiment";
import { stableStringify } from "../../search/core/json";
import type { Params } from "../../search/core/space";
import { train } from "../../train/fit";
import type { SamplerObjective } from "./objectives";

/**
 * How small the real objective is: the first TRAIN_IMAGES training images for one epoch, scored on the first
 * VALID_IMAGES validation images. Small enough that 20 seeds x 4 samplers x 50 trials (4,000 trainings, fewer once
 * repeated params are remembered) take minutes, large enough that the learning rate and optimizer matter.
 */
const TRAIN_IMAGES = 1000;
const VALID_IMAGES = 1000;
/** Training's own seed, fixed: the objective is then a function of the params alone, the same for every sampler. */
const TRAINING_SEED = 42;

/** The space: Géron's learning rate, optimizer, depth and width, over log, choice and int entries. */
const FASHION_SPACE = {
  learningRate: { type: "float", min: 1e-4, max: 1, log: true },
  optimizer: { type: "choice", values: ["sgd", "adam", "rmsprop"] },
  layers: { type: "int", min: 1, max: 2 },
  units: { type: "int", min: 8, max: 128, log: true },
};

const firstRows = (d: ScaledImages, n: number): ScaledImages => ({ x: d.x.slice(0, n), y: d.y.slice(0, n) });

/**
 * The validation error rate (1 - val_accuracy, minimised) of the tutorial's MLP with `layers` hidden layers of
 * `units` ReLU units, trained one epoch with `optimizer` at `learningRate` on a subset of Fashion-MNIST, on this
 * process's engine (the native addon where built). A diverged run scores what it reached (a model whose loss turned
 * NaN stops, and one with no epoch scores 0.9, chance). Results are remembered by params: a study re-proposing a
 * point (our samplers share random search's startup draws) costs nothing, and the value is the same anyway.
 */
export async function fashionObjective(dataDir?: string): Promise<SamplerObjective> {
  const config = resolveConfig(dataDir ? { dataDir } : {});
  await initBackend(config);
  const data = await loadData(config);
  const subset = { train: firstRows(data.train, TRAIN_IMAGES), valid: firstRows(data.valid, VALID_IMAGES) };
  const memo = new Map<string, number>();
  const evaluate = async (p: Params): Promise<number> => {
    const key = stableStringify(p);
    const known = memo.get(key);
    if (known !== undefined) return known;
    const model = createModel({ hiddenUnits: new Array(p.layers as number).fill(p.units as number), seed: TRAINING_SEED });
    compileModel(model, { optimizer: p.optimizer as OptimizerName, learningRate: p.learningRate as number });
    try {
      const history = await train(model, subset, { epochs: 1, batchSize: 32, seed: TRAINING_SEED }, { progress: "none" });
      const accuracy = history.history.val_accuracy?.[0];
      const error = accuracy !== undefined && Number.isFinite(accuracy) ? 1 - accuracy : 0.9;
      memo.set(key, error);
      return error;
    } finally {
      model.optimizer?.dispose();
      model.dispose();
    }
  };
  return { name: "Fashion-MNIST", space: FASHION_SPACE, evaluate };
}
