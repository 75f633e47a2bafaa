import { UserError } from "../../errors/user-error";

/** An objective the search cannot rank trials by; one sentence naming it and what is expected. */
export class ObjectiveError extends UserError {
  override name = "ObjectiveError";
}

/** The per-epoch metrics a trainer reports, so the ones a search can rank trials by. */
export const OBJECTIVE_METRICS = ["val_accuracy", "val_loss", "accuracy", "loss"] as const;

/** Whether a smaller or a larger objective is better. */
export type Direction = "min" | "max";

/** The per-epoch value a search ranks trials by, e.g. val_accuracy (max) or val_loss (min). */
export interface Objective {
  /** A history key such as "val_accuracy". */
  name: string;
  direction: Direction;
}

/**
 * The objective for a metric name, inferring the direction as Keras Tuner does (*loss -> min, *accuracy -> max) for
 * the metrics a trainer reports; any other name needs its direction given (ObjectiveError otherwise).
 */
export function objectiveFor(name: string, direction?: Direction): Objective {
  if (direction) return { name, direction };
  if (!(OBJECTIVE_METRICS as readonly string[]).includes(name))
    throw new ObjectiveError(
      `objective "${name}": not a metric the trainer reports per epoch; expected one of ${OBJECTIVE_METRICS.join(", ")} (or give the direction of a metric of your own)`,
    );
  return { name, direction: /loss$/.test(name) ? "min" : "max" };
}

/** Best value in a history and its epoch (1-based); NaN and infinities never count. undefined if none is finite. */
export function bestOf(history: readonly number[], direction: Direction): { value: number; epoch: number } | undefined {
  let best: { value: number; epoch: number } | undefined;
  history.forEach((value, i) => {
    if (!Number.isFinite(value)) return;
    if (!best || (direction === "max" ? value > best.value : value < best.value)) best = { value, epoch: i + 1 };
  });
  return best;
}

/**
 * Sort comparator on scores: better first, missing scores last, ties kept in the given order
 * (Array.prototype.sort is stable), so every worker ranks equal trials the same way.
 */
export function compareScores(a: number | undefined, b: number | undefined, direction: Direction): number {
  if (a === undefined || b === undefined) return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
  return direction === "max" ? b - a : a - b;
}
