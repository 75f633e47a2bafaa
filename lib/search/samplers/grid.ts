import { z } from "zod";
import type { JsonValue } from "../core/json";
import {
  floatCount,
  floatValueAt,
  intCount,
  intValueAt,
  type ParamSpec,
  type Params,
  type SearchSpace,
  SearchSpaceError,
} from "../core/space";
import type { StudyState } from "../core/study";
import { drawnTrialAction, type Sampler } from "./sampler";

/** How many values an entry contributes to the grid; a float range has no finite list and is refused. */
function valueCount(name: string, spec: ParamSpec): number {
  switch (spec.type) {
    case "int":
      return intCount(spec);
    case "float": {
      if (spec.step !== undefined) return floatCount({ ...spec, step: spec.step });
      const example = JSON.stringify({ type: "choice", values: [spec.min, spec.max] });
      throw new SearchSpaceError(
        `${name}: a float range (${spec.min}..${spec.max}) has no grid; list the values instead, e.g. ${example}, or give a "step"`,
      );
    }
    case "choice":
      return spec.values.length;
    case "bool":
      return 2;
    case "fixed":
      return 1;
  }
}

function valueAt(spec: ParamSpec, k: number): JsonValue {
  switch (spec.type) {
    case "int":
      return intValueAt(spec, k);
    case "choice":
      return structuredClone(spec.values[k]!);
    case "bool":
      return k === 1;
    case "fixed":
      return structuredClone(spec.value);
    case "float":
      if (spec.step === undefined) throw new Error("unreachable: valueCount refuses floats without a step");
      return floatValueAt({ ...spec, step: spec.step }, k);
  }
}

/** Every value of one entry in grid order: ints ascending, bools false then true, choices as listed. */
export function paramValues(name: string, spec: ParamSpec): JsonValue[] {
  return Array.from({ length: valueCount(name, spec) }, (_, k) => valueAt(spec, k));
}

/** Points in the grid: the product of every entry's value count. Throws SearchSpaceError for a float range. */
export function gridSize(space: SearchSpace): number {
  return Object.keys(space).reduce((n, k) => n * valueCount(k, space[k]!), 1);
}

/**
 * The index-th point (0-based) of the cartesian product over the sorted keys, the last key varying fastest
 * (itertools.product's order). Computed directly from the index, so a huge grid is never materialised.
 */
export function gridPoint(space: SearchSpace, index: number): Params {
  const keys = Object.keys(space).sort();
  const size = gridSize(space);
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`grid point ${index} is outside the grid of ${size} points`);
  }
  const params: Params = {};
  let rest = index;
  for (const key of [...keys].reverse()) {
    const n = valueCount(key, space[key]!);
    params[key] = valueAt(space[key]!, rest % n);
    rest = Math.floor(rest / n);
  }
  return Object.fromEntries(keys.map((k) => [k, params[k]!]));
}

/** Every point of the grid, in gridPoint's order. */
export function gridPoints(space: SearchSpace): Params[] {
  return Array.from({ length: gridSize(space) }, (_, i) => gridPoint(space, i));
}

/** Keras Tuner's GridSearch: the grid's points in gridPoint's order, at most maxTrials of them. */
export const GridSpec = z
  .object({
    kind: z.literal("grid"),
    /** null: the whole grid. */
    maxTrials: z.number().int().min(1).nullable().default(null),
    maxEpochs: z.number().int().min(1),
  })
  .strict();
export type GridSpec = z.infer<typeof GridSpec>;

/** Trial i trains the i-th grid point. */
export class GridSampler implements Sampler {
  constructor(private readonly spec: GridSpec) {}

  nextAction(study: StudyState) {
    const { maxTrials, maxEpochs } = this.spec;
    return drawnTrialAction(study, maxEpochs, (i) =>
      i < Math.min(maxTrials ?? Infinity, gridSize(study.space)) ? gridPoint(study.space, i) : undefined,
    );
  }
}
