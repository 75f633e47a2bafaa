/** Whether a smaller or a larger objective is better. */
export type Direction = "min" | "max";

/** The per-epoch value a search ranks trials by, e.g. val_accuracy (max) or val_loss (min). */
export interface Objective {
  /** A history key such as "val_accuracy". */
  name: string;
  direction: Direction;
}

/**
 * The objective for a metric name, inferring the direction as Keras Tuner does for its common metrics:
 * *loss -> min, *accuracy / *acc -> max. Any other name needs its direction given.
 */
export function objectiveFor(name: string, direction?: Direction): Objective {
  if (direction) return { name, direction };
  if (/loss$/.test(name)) return { name, direction: "min" };
  if (/acc(uracy)?$/.test(name)) return { name, direction: "max" };
  throw new Error(
    `objective "${name}": cannot tell whether to minimise or maximise it; use a *loss or *accuracy metric, or give the direction`,
  );
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
