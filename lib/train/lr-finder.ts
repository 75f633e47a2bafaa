import * as tf from "@tensorflow/tfjs";
import type { LabeledImages } from "../data/images";
import { NATIVE_BACKEND, nativeDenseStep } from "../engine/native";
import { optimizerVariables } from "../optimizers";
import { letEventsIn } from "./interrupt";
import { seededRandom, shuffledIndices } from "./shuffle";
import { trainStep } from "./step";
import { UserError } from "../errors/user-error";

/*
 * Géron's chapter 10 learning-rate search (exercise 10, his ExponentialLearningRate callback; fastai's lr_find):
 * one epoch in which the learning rate grows exponentially, the loss of every batch recorded, then the
 * model put back as it was. The loss first falls slowly (the rate is too small to matter), then fast, then
 * explodes once the rate is too large: a good rate sits before the bottom of the curve.
 */

/** Thrown for finder options that cannot describe a search; the message names the option and what is allowed. */
export class LrFinderError extends UserError {
  override name = "LrFinderError";
}

export interface LrFinderOptions {
  /** The first batch's learning rate; default 1e-5. */
  minRate?: number;
  /** The rate the last batch of the epoch would get; default 10 (the search usually stops well before it). */
  maxRate?: number;
  /** Images per step; default 32, as training. */
  batchSize?: number;
  /** Seed of the batch order and dropout masks; default 42. */
  seed?: number;
  /**
   * Stop once the smoothed loss exceeds this many times the best one (fastai's and Géron's plots do, so the
   * curve stays readable); default 4. Infinity runs the whole epoch, unless the loss becomes NaN or infinite.
   */
  stopFactor?: number;
  /** Steps over which the rate grows from minRate to maxRate; default one epoch, ceil(samples / batchSize). */
  steps?: number;
  /** Gradient clipping as in training (Keras's clipnorm / clipvalue); default off. */
  clipNorm?: number | null;
  clipValue?: number | null;
}

export interface LrFinderResult {
  /** The learning rate of each recorded batch (rates[i] = minRate · (maxRate/minRate)^(i/(steps-1))). */
  rates: number[];
  /** The training loss of each recorded batch, measured before that batch's update (as Keras's logs). */
  losses: number[];
  /** The losses smoothed as fastai does (exponential moving average, β = 0.98, bias-corrected). */
  smoothed: number[];
  /**
   * The suggested learning rate: the rate where the smoothed loss is lowest, divided by 10 (see `suggestRate`),
   * never below minRate.
   */
  suggestion: number;
  /** The rate at the lowest smoothed loss (the curve's turning point). */
  minimumRate: number;
  /** Why the search ended: the loss exceeded stopFactor × the best, became NaN/infinite, or the epoch ended. */
  stoppedBy: "exploded" | "diverged" | "end";
}

const SMOOTHING = 0.98;

/**
 * Runs the search on `data` with `model`'s compiled loss and optimizer, then restores the model's weights (BN
 * statistics included), its optimizer's state and learning rate exactly, so training can start from where it was.
 * @param data training images `x` [n, 28, 28] (float32, scaled as for training) and labels `y` [n] (0..9).
 */
export async function findLearningRate(model: tf.LayersModel, data: LabeledImages, options: LrFinderOptions = {}): Promise<LrFinderResult> {
  const minRate = options.minRate ?? 1e-5;
  const maxRate = options.maxRate ?? 10;
  const batchSize = options.batchSize ?? 32;
  const stopFactor = options.stopFactor ?? 4;
  const optimizer = model.optimizer;
  if (!optimizer) throw new LrFinderError(`model "${model.name}" is not compiled; compile it (compileModel or model.compile) first`);
  if (!(minRate > 0 && Number.isFinite(minRate))) throw new LrFinderError(`minRate must be a number > 0, got ${minRate}`);
  if (!(maxRate > minRate && Number.isFinite(maxRate)))
    throw new LrFinderError(`maxRate must be a finite number above minRate (${minRate}), got ${maxRate}`);
  if (!(stopFactor > 1)) throw new LrFinderError(`stopFactor must be above 1 (the loss may not rise at all otherwise), got ${stopFactor}`);
  const samples = data.x.shape[0]!;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= samples))
    throw new LrFinderError(`batchSize must be a whole number from 1 to the ${samples} training images, got ${batchSize}`);
  const perEpoch = Math.ceil(samples / batchSize);
  const steps = options.steps ?? perEpoch;
  if (!(Number.isInteger(steps) && steps >= 2 && steps <= perEpoch))
    throw new LrFinderError(`steps must be a whole number from 2 to one epoch's ${perEpoch} batches, got ${steps}`);

  // Géron reloads the initial weights after his search; here the model (and its optimizer) come back bit for bit.
  const weights = model.getWeights().map((w) => w.clone());
  const variables = optimizerVariables(optimizer);
  const optimizerState = await variables.snapshot();
  const rateBefore = variables.learningRate();
  const seed = options.seed ?? 42;
  const order = shuffledIndices(samples, seededRandom(seed));
  const step = finderStep(model, data, { batchSize, seed, clipNorm: options.clipNorm ?? null, clipValue: options.clipValue ?? null });
  const rates: number[] = [];
  const losses: number[] = [];
  const smoothed: number[] = [];
  let stoppedBy: LrFinderResult["stoppedBy"] = "end";
  let average = 0;
  let best = Number.POSITIVE_INFINITY;
  try {
    for (let b = 0; b < steps; b++) {
      const rate = minRate * (maxRate / minRate) ** (b / (steps - 1));
      variables.setLearningRate(rate);
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, samples));
      const loss = step(idx, order.subarray((b + 1) * batchSize, Math.min((b + 2) * batchSize, samples)));
      if (!Number.isFinite(loss)) {
        stoppedBy = "diverged";
        break;
      }
      average = SMOOTHING * average + (1 - SMOOTHING) * loss;
      const smooth = average / (1 - SMOOTHING ** (b + 1));
      rates.push(rate);
      losses.push(loss);
      smoothed.push(smooth);
      best = Math.min(best, smooth);
      if (smooth > stopFactor * best) {
        stoppedBy = "exploded";
        break;
      }
      // The wasm kernels run synchronously: let signals and the notebook's output through now and then.
      if (b % 50 === 49) await letEventsIn();
    }
  } finally {
    model.setWeights(weights);
    tf.dispose(weights);
    await variables.restore(optimizerState);
    variables.setLearningRate(rateBefore);
  }
  if (rates.length === 0) throw new LrFinderError(`the loss of the first batch was not finite at learning rate ${minRate}; lower minRate`);
  const { suggestion, minimumRate } = suggestRate(rates, smoothed, minRate);
  return { rates, losses, smoothed, suggestion, minimumRate, stoppedBy };
}

/**
 * The rule: the rate at the lowest smoothed loss, divided by 10 (Géron, chapter 10: "the optimal learning rate
 * will be a bit lower than the point at which the loss starts to climb (typically about 10 times lower than the
 * turning point)"; fastai's `lr_min` is the same). The minimum of a smoothed curve is a well-defined point, where
 * "the loss starts to shoot up" and "the steepest descent" both depend on the noise of single batches; and at the
 * minimum the rate is already on the edge of instability (the moving average also lags it by a few dozen batches),
 * so a factor 10 below it trains fast and stays stable over a whole run. Never below `floor` (the search's minRate).
 */
export function suggestRate(rates: readonly number[], smoothed: readonly number[], floor = 0): { suggestion: number; minimumRate: number } {
  if (rates.length === 0 || rates.length !== smoothed.length)
    throw new LrFinderError(`suggestRate needs as many losses as rates (at least one), got ${smoothed.length} and ${rates.length}`);
  let at = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i]! < smoothed[at]!) at = i;
  const minimumRate = rates[at]!;
  return { suggestion: Math.max(floor, minimumRate / 10), minimumRate };
}

interface FinderStepOptions {
  batchSize: number;
  seed: number;
  clipNorm: number | null;
  clipValue: number | null;
}

/**
 * One step of the search on the training rows `idx` (`next`: the following batch's, for prefetching), returning
 * its loss. As fit's: the native engine's fused step when the native backend runs and covers the model; else the
 * tfjs step. The native backend's own tfjs kernels are the cpu backend's, which took 240 ms a step of the tutorial's
 * model where the fused step takes about 5: a tenth of an epoch (notebook 11's first cell, 194 of its 278 s).
 */
function finderStep(model: tf.LayersModel, data: LabeledImages, o: FinderStepOptions): (idx: Uint32Array, next: Uint32Array) => number {
  if (tf.getBackend() === NATIVE_BACKEND) {
    const clip = { clipnorm: o.clipNorm ?? undefined, clipvalue: o.clipValue ?? undefined };
    const native = nativeDenseStep(model, { maxBatch: o.batchSize, seed: (o.seed + 0x5eed) >>> 0, ...clip }).step;
    if (native) {
      const y = data.y.data;
      const labels = y instanceof Uint8Array || y instanceof Int32Array || y instanceof Float32Array ? y : Float32Array.from(y);
      return (idx, next) => native.rows(data.x.data, labels, idx, next).loss;
    }
  }
  const step = trainStep(model, { random: seededRandom((o.seed + 0x5eed) >>> 0), clipNorm: o.clipNorm, clipValue: o.clipValue });
  const rowSize = data.x.data.length / data.x.shape[0]!;
  return (idx) => {
    const xb = gatherRows(data.x.data, rowSize, idx, data.x.shape);
    const { loss } = step(
      xb,
      Float32Array.from(idx, (i) => data.y.data[i]!),
    );
    xb.dispose();
    return loss;
  };
}

function gatherRows(data: Float32Array, rowSize: number, idx: Uint32Array, shape: readonly number[]): tf.Tensor {
  const out = new Float32Array(idx.length * rowSize);
  for (let i = 0; i < idx.length; i++) out.set(data.subarray(idx[i]! * rowSize, (idx[i]! + 1) * rowSize), i * rowSize);
  return tf.tensor(out, [idx.length, ...shape.slice(1)]);
}
