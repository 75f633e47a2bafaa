/**
 * The learning-rate schedules' schemas, by their Keras names: the config embeds them, so they live with it and
 * import nothing but zod. What each schedule computes is lib/train/schedules.ts.
 */
import { z } from "zod";

/** keras.optimizers.schedules.ExponentialDecay (staircase false): lr₀ · decayRate^(step / decaySteps). */
const ExponentialSchedule = z
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
const OneCycleSchedule = z
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
export type PiecewiseSchedule = z.infer<typeof PiecewiseSchedule>;
export type ReduceOnPlateauSchedule = z.infer<typeof ReduceOnPlateauSchedule>;

/** Why piecewise boundaries and values do not fit together (the schema and the schedule both ask), or null. */
export function piecewiseProblem(
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
