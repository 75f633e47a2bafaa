/**
 * Learning-rate schedules of Géron's chapter 11, by their Keras names. The three step schedules are pure
 * functions of the optimizer step (`optimizer.iterations` before the update, the step Keras passes to a
 * LearningRateSchedule); ReduceLROnPlateau is a callback in Keras and a small stateful class here.
 */
import { z } from "zod";

/** keras.optimizers.schedules.ExponentialDecay (staircase false): lr₀ · decayRate^(step / decaySteps). */
export const ExponentialSchedule = z
  .object({
    type: z.literal("exponential"),
    /** Optimizer steps over which the rate is multiplied by decayRate once (Keras's decay_steps). */
    decaySteps: z.number().int().positive(),
    /** Factor per decaySteps steps (Keras's decay_rate); Géron uses 0.1. */
    decayRate: z.number().positive(),
  })
  .strict();

/**
 * keras.optimizers.schedules.PiecewiseConstantDecay: values[0] while step <= boundaries[0], values[i]
 * while boundaries[i-1] < step <= boundaries[i], the last value after the last boundary. The values are
 * the learning rates themselves; the config's learningRate is not used.
 */
export const PiecewiseSchedule = z
  .object({
    type: z.literal("piecewise"),
    /** Optimizer steps, strictly increasing. */
    boundaries: z.array(z.number().int().min(0)).min(1),
    /** One more rate than boundaries. */
    values: z.array(z.number().positive()).min(2),
  })
  .strict()
  .superRefine((s, ctx) => {
    const problem = piecewiseProblem(s.boundaries, s.values);
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, path: [problem.field], input: s[problem.field] });
  });

/**
 * Géron's OneCycleScheduler (handson-ml3, chapter 11): from maxLearningRate/10 linearly up to
 * maxLearningRate over about 45% of the steps, linearly back down over the next 45%, then linearly to
 * maxLearningRate/10,000 over the last 10% (iterations // 10 + 1 steps). The config's learningRate is not used.
 */
export const OneCycleSchedule = z
  .object({
    type: z.literal("one_cycle"),
    /** The peak rate, reached halfway; Géron picks it from the loss-vs-rate curve (0.1 for his MLP). */
    maxLearningRate: z.number().positive(),
  })
  .strict();

/**
 * keras.callbacks.ReduceLROnPlateau on val_loss: multiply the rate by `factor` once val_loss has not
 * improved by minDelta for `patience` epochs. Stateful; see ReduceLrOnPlateau.
 */
export const ReduceOnPlateauSchedule = z
  .object({
    type: z.literal("reduce_on_plateau"),
    /** new rate = rate · factor; below 1, as Keras requires. Géron uses 0.5. */
    factor: z.number().positive().lt(1),
    /** Epochs without improvement before a reduction. Géron uses 5 (Keras's default is 10). */
    patience: z.number().int().min(0),
    /** A val_loss must beat the best by more than this to count as improvement (Keras's 1e-4). */
    minDelta: z.number().min(0).default(1e-4),
    /**
     * Epochs after a reduction during which bad epochs are not counted (Keras's 0). As in Keras, the
     * counter is decremented before it is checked, so cooldown c skips c - 1 epochs.
     */
    cooldown: z.number().int().min(0).default(0),
    /** The rate never goes below this (Keras's min_lr, 0). */
    minLearningRate: z.number().min(0).default(0),
  })
  .strict();

/** Any of the four schedules; the config embeds this (null or absent = constant learning rate). */
export const LrSchedule = z.discriminatedUnion("type", [ExponentialSchedule, PiecewiseSchedule, OneCycleSchedule, ReduceOnPlateauSchedule]);
export type LrSchedule = z.infer<typeof LrSchedule>;
export type ExponentialSchedule = z.infer<typeof ExponentialSchedule>;
export type PiecewiseSchedule = z.infer<typeof PiecewiseSchedule>;
export type OneCycleSchedule = z.infer<typeof OneCycleSchedule>;
export type ReduceOnPlateauSchedule = z.infer<typeof ReduceOnPlateauSchedule>;

/**
 * The learning rate for optimizer step `step` (0-based: the number of updates already applied, as
 * Keras's `optimizer.iterations`) of a run of `totalSteps` steps (epochs × batches per epoch).
 * `baseLr` is the config's learningRate: exponential decays from it; piecewise and one_cycle carry
 * their own rates; reduce_on_plateau changes only between epochs, so pass ReduceLrOnPlateau's current
 * rate as `baseLr` and it comes back unchanged, as does any rate when `schedule` is null.
 */
export function scheduledLearningRate(schedule: LrSchedule | null | undefined, baseLr: number, step: number, totalSteps: number): number {
  if (!(Number.isInteger(step) && step >= 0)) throw new Error(`scheduledLearningRate: step must be a whole number >= 0, got ${step}`);
  if (!(Number.isInteger(totalSteps) && totalSteps >= 1)) {
    throw new Error(`scheduledLearningRate: totalSteps must be a whole number >= 1, got ${totalSteps}`);
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
  if (problem) throw new Error(problem.message);
  // Keras compares step <= boundary, so a boundary step still gets the earlier value.
  const i = boundaries.findIndex((b) => step <= b);
  return values[i === -1 ? values.length - 1 : i]!;
}

function piecewiseProblem(
  boundaries: readonly number[],
  values: readonly number[],
): { field: "values" | "boundaries"; message: string } | null {
  if (values.length !== boundaries.length + 1) {
    return {
      field: "values",
      message: `piecewise needs one more value than boundaries, got ${values.length} values for ${boundaries.length} boundaries`,
    };
  }
  for (let i = 1; i < boundaries.length; i++) {
    if (!(boundaries[i]! > boundaries[i - 1]!)) {
      return { field: "boundaries", message: `piecewise boundaries must be strictly increasing, got [${boundaries.join(", ")}]` };
    }
  }
  return null;
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
  constructor(schedule: z.input<typeof ReduceOnPlateauSchedule>, initialLearningRate: number) {
    this.schedule = ReduceOnPlateauSchedule.parse(schedule);
    if (!(Number.isFinite(initialLearningRate) && initialLearningRate > 0)) {
      throw new Error(`ReduceLrOnPlateau: initialLearningRate must be a finite number > 0, got ${initialLearningRate}`);
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
      throw new Error(`ReduceLrOnPlateau.restore: ${issue.path.join(".") || "state"}: ${issue.message}`);
    }
    this.lr = parsed.data.learningRate;
    this.best = parsed.data.best ?? Infinity;
    this.wait = parsed.data.wait;
    this.cooldownCounter = parsed.data.cooldownCounter;
  }
}
