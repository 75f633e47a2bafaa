/**
 * Learning-rate schedules of Géron's chapter 11, by their Keras names. The three step schedules are pure
 * functions of the optimizer step (`optimizer.iterations` before the update, the step Keras passes to a
 * LearningRateSchedule); ReduceLROnPlateau is a callback in Keras and a small stateful class here.
 */
import { z } from "zod";
import { type LrSchedule, piecewiseProblem, type ReduceOnPlateauInput, ReduceOnPlateauSchedule } from "../config/schedules";
import { UserError } from "../errors/user-error";

/**
 * The learning rate for optimizer step `step` (0-based: the number of updates already applied, as
 * Keras's `optimizer.iterations`) of a run of `totalSteps` steps (epochs × batches per epoch).
 * `baseLr` is the config's learningRate: exponential decays from it; piecewise and one_cycle carry
 * their own rates; reduce_on_plateau changes only between epochs, so pass ReduceLrOnPlateau's current
 * rate as `baseLr` and it comes back unchanged, as does any rate when `schedule` is null.
 */
export function scheduledLearningRate(schedule: LrSchedule | null | undefined, baseLr: number, step: number, totalSteps: number): number {
  if (!(Number.isInteger(step) && step >= 0)) throw new UserError(`scheduledLearningRate: step must be a whole number >= 0, got ${step}`);
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1)) {
    throw new UserError(`scheduledLearningRate: totalSteps must be a whole number >= 1, got ${totalSteps}`);
  }
  if (schedule == null) return baseLr;
  switch (schedule.type) {
    case "exponential":
      return baseLr * schedule.decayRate ** (step / schedule.decaySteps);
    case "piecewise":
      return piecewiseConstant(schedule.boundaries, schedule.values, step);
    case "one_cycle":
      return oneCycle(schedule.maxLearningRate, step, totalSteps);
    case "reduce_on_plateau":
      return baseLr;
  }
}

function piecewiseConstant(boundaries: readonly number[], values: readonly number[], step: number): number {
  const problem = piecewiseProblem(boundaries, values);
  if (problem) throw new UserError(problem.message);
  // Keras compares step <= boundary, so a boundary step still gets the earlier value.
  const i = boundaries.findIndex((b) => step <= b);
  return values[i === -1 ? values.length - 1 : i]!;
}

/**
 * Géron's OneCycleScheduler.on_batch_begin with `iterations` = totalSteps and its other arguments at
 * their defaults, same arithmetic in the same order. Past totalSteps (more steps than planned) the rate
 * stays at the last one instead of extrapolating below zero, as handson-ml2's version clamped it.
 */
function oneCycle(maxLr: number, iteration: number, iterations: number): number {
  const startLr = maxLr / 10;
  const lastIterations = Math.floor(iterations / 10) + 1;
  const halfIteration = Math.floor((iterations - lastIterations) / 2);
  const lastLr = startLr / 1000;
  const interpolate = (iter1: number, iter2: number, lr1: number, lr2: number): number =>
    ((lr2 - lr1) * (iteration - iter1)) / (iter2 - iter1) + lr1;
  if (iteration < halfIteration) return interpolate(0, halfIteration, startLr, maxLr);
  if (iteration < 2 * halfIteration) return interpolate(halfIteration, 2 * halfIteration, maxLr, startLr);
  if (iteration >= iterations) return lastLr;
  return interpolate(2 * halfIteration, iterations, startLr, lastLr);
}

/** Where ReduceLrOnPlateau stands between epochs; JSON-safe, for a checkpoint. */
export const PlateauState = z
  .object({
    /** The rate to train the next epoch with. */
    learningRate: z.number().min(0),
    /** Lowest val_loss so far; null before the first epoch (Keras's +inf). */
    best: z.number().nullable(),
    /** Epochs since the last improvement (or reduction). */
    wait: z.number().int().min(0),
    /** Epochs of cooldown left. */
    cooldownCounter: z.number().int().min(0),
  })
  .strict();
export type PlateauState = z.infer<typeof PlateauState>;

/**
 * keras.callbacks.ReduceLROnPlateau watching val_loss (mode "min"), step for step: call onEpochEnd with
 * each epoch's val_loss and train the next epoch with the rate it returns. state()/restore() carry it
 * across an interrupted run.
 */
export class ReduceLrOnPlateau {
  readonly schedule: ReduceOnPlateauSchedule;
  private lr: number;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;

  /** `initialLearningRate` is the config's learningRate, the rate of the first epoch. */
  constructor(schedule: ReduceOnPlateauInput, initialLearningRate: number) {
    this.schedule = ReduceOnPlateauSchedule.parse(schedule);
    if (!(Number.isFinite(initialLearningRate) && initialLearningRate > 0)) {
      throw new UserError(`ReduceLrOnPlateau: initialLearningRate must be a finite number > 0, got ${initialLearningRate}`);
    }
    this.lr = initialLearningRate;
  }

  /** The rate for the next epoch. */
  get learningRate(): number {
    return this.lr;
  }

  /** Records an epoch's val_loss (NaN counts as no improvement, as in Keras) and returns the rate for the next epoch. */
  onEpochEnd(valLoss: number): number {
    const { factor, patience, minDelta, cooldown, minLearningRate } = this.schedule;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (valLoss < this.best - minDelta) {
      this.best = valLoss;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait += 1;
      if (this.wait >= patience) {
        // Keras reads and writes the rate through a float32 variable; fround gives the same sequence.
        const old = Math.fround(this.lr);
        if (old > Math.fround(minLearningRate)) {
          this.lr = Math.fround(Math.max(old * factor, minLearningRate));
          this.cooldownCounter = cooldown;
          this.wait = 0;
        }
      }
    }
    return this.lr;
  }

  state(): PlateauState {
    return {
      learningRate: this.lr,
      best: Number.isFinite(this.best) ? this.best : null,
      wait: this.wait,
      cooldownCounter: this.cooldownCounter,
    };
  }

  /** Continues from a state() saved by a run with the same schedule. */
  restore(state: PlateauState): void {
    const parsed = PlateauState.safeParse(state);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UserError(`ReduceLrOnPlateau.restore: ${issue.path.join(".") || "state"}: ${issue.message}`);
    }
    this.lr = parsed.data.learningRate;
    this.best = parsed.data.best ?? Infinity;
    this.wait = parsed.data.wait;
    this.cooldownCounter = parsed.data.cooldownCounter;
  }
}
