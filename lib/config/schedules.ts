/**
 * The learning-rate schedules, by their Keras names: plain types, and the zod schemas that check them at run time. The
 * config embeds them, so they live with it and import nothing but zod. What each schedule computes is
 * lib/train/schedules.ts.
 *
 * Why plain types next to the schemas: tslab type-checks every notebook cell with a new type checker, which
 * re-derives a `z.infer` type (some 3,000 type instantiations for the config) in each cell that touches it; a plain
 * type costs next to nothing. The checks under the schemas fail the build if a type and its schema ever disagree.
 */
import { z } from "zod";
import type { Expect, SameType } from "./same-type";

/** keras.optimizers.schedules.ExponentialDecay (staircase false): lr₀ · decayRate^(step / decaySteps). */
export interface ExponentialSchedule {
  type: "exponential";
  /** Optimizer steps over which the rate is multiplied by decayRate once (Keras's decay_steps). */
  decaySteps: number;
  /** Factor per decaySteps steps (Keras's decay_rate); Géron uses 0.1. */
  decayRate: number;
}

/**
 * keras.optimizers.schedules.PiecewiseConstantDecay: values[0] while step <= boundaries[0], values[i]
 * while boundaries[i-1] < step <= boundaries[i], the last value after the last boundary. The values are
 * the learning rates themselves; the config's learningRate is not used.
 */
export interface PiecewiseSchedule {
  type: "piecewise";
  /** Optimizer steps, strictly increasing. */
  boundaries: number[];
  /** One more rate than boundaries. */
  values: number[];
}

/**
 * Géron's OneCycleScheduler (handson-ml3, chapter 11): from maxLearningRate/10 linearly up to
 * maxLearningRate over about 45% of the steps, linearly back down over the next 45%, then linearly to
 * maxLearningRate/10,000 over the last 10% (iterations // 10 + 1 steps). The config's learningRate is not used.
 */
export interface OneCycleSchedule {
  type: "one_cycle";
  /** The peak rate, reached halfway; Géron picks it from the loss-vs-rate curve (0.1 for his MLP). */
  maxLearningRate: number;
}

/**
 * keras.callbacks.ReduceLROnPlateau on val_loss, as given: multiply the rate by `factor` once val_loss has not
 * improved by minDelta for `patience` epochs; the fields with Keras's defaults may be left out. Stateful; see
 * ReduceLrOnPlateau.
 */
export interface ReduceOnPlateauInput {
  type: "reduce_on_plateau";
  /** new rate = rate · factor; below 1, as Keras requires. Géron uses 0.5. */
  factor: number;
  /** Epochs without improvement before a reduction. Géron uses 5 (Keras's default is 10). */
  patience: number;
  /** A val_loss must beat the best by more than this to count as improvement (Keras's 1e-4). */
  minDelta?: number;
  /**
   * Epochs after a reduction during which bad epochs are not counted (Keras's 0). As in Keras, the
   * counter is decremented before it is checked, so cooldown c skips c - 1 epochs.
   */
  cooldown?: number;
  /** The rate never goes below this (Keras's min_lr, 0). */
  minLearningRate?: number;
}

/** A ReduceOnPlateauInput with Keras's defaults filled in. */
export interface ReduceOnPlateauSchedule extends ReduceOnPlateauInput {
  minDelta: number;
  cooldown: number;
  minLearningRate: number;
}

/** Any of the four schedules; the config embeds this (null or absent = constant learning rate). */
export type LrSchedule = ExponentialSchedule | PiecewiseSchedule | OneCycleSchedule | ReduceOnPlateauSchedule;
/** A schedule as given (a config's overrides): reduce_on_plateau's defaults may be left out. */
export type LrScheduleInput = ExponentialSchedule | PiecewiseSchedule | OneCycleSchedule | ReduceOnPlateauInput;

// The schemas: the same fields, with their checks and defaults.

const ExponentialSchedule = z
  .object({
    type: z.literal("exponential"),
    decaySteps: z.number().int().positive(),
    decayRate: z.number().positive(),
  })
  .strict();

export const PiecewiseSchedule = z
  .object({
    type: z.literal("piecewise"),
    boundaries: z.array(z.number().int().min(0)).min(1),
    values: z.array(z.number().positive()).min(2),
  })
  .strict()
  .superRefine((s, ctx) => {
    const problem = piecewiseProblem(s.boundaries, s.values);
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, path: [problem.field], input: s[problem.field] });
  });

const OneCycleSchedule = z
  .object({
    type: z.literal("one_cycle"),
    maxLearningRate: z.number().positive(),
  })
  .strict();

export const ReduceOnPlateauSchedule = z
  .object({
    type: z.literal("reduce_on_plateau"),
    factor: z.number().positive().lt(1),
    patience: z.number().int().min(0),
    minDelta: z.number().min(0).default(1e-4),
    cooldown: z.number().int().min(0).default(0),
    minLearningRate: z.number().min(0).default(0),
  })
  .strict();

export const LrSchedule = z.discriminatedUnion("type", [ExponentialSchedule, PiecewiseSchedule, OneCycleSchedule, ReduceOnPlateauSchedule]);

// Compile-time only: the build fails here if a field is added to, dropped from or retyped in one side only.
type _SchedulesMatchSchemas = [
  Expect<SameType<LrSchedule, z.output<typeof LrSchedule>>>,
  Expect<SameType<LrScheduleInput, z.input<typeof LrSchedule>>>,
];

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
