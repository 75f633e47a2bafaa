import type { JsonValue } from "../core/json";
import { intCount, intValueAt, type ParamSpec, type SearchSpace } from "../core/space";

/** A value Optuna can hold as a parameter: what a choice becomes outside the tool. */
export type Scalar = string | number | boolean | null;

/**
 * Where a searched parameter lives, in Optuna's terms: a float or int range (FloatDistribution, IntDistribution) or
 * a list of choices (CategoricalDistribution). The study's plots, its importances and its export share it, so a
 * parameter reads the same in all three.
 */
export type ParamDomain =
  | { kind: "float"; low: number; high: number; log: boolean }
  | { kind: "int"; low: number; high: number; log: boolean; step: number }
  | { kind: "categorical"; choices: Scalar[] };

const scalar = (v: JsonValue): Scalar => (v !== null && typeof v === "object" ? JSON.stringify(v) : v);

/**
 * A space entry's domain; undefined for a fixed entry (nothing is searched). An int with a log step (Keras Tuner's
 * powers, 32..512 by x2) has no Optuna range, so it becomes the list of its values; a list-valued choice such as
 * [300, 100] becomes its JSON text, since Optuna's choices are scalars.
 */
function paramDomain(spec: ParamSpec): ParamDomain | undefined {
  switch (spec.type) {
    case "fixed":
      return undefined;
    case "bool":
      return { kind: "categorical", choices: [false, true] };
    case "choice":
      return { kind: "categorical", choices: spec.values.map(scalar) };
    case "float":
      return { kind: "float", low: spec.min, high: spec.max, log: spec.log ?? false };
    case "int": {
      const n = intCount(spec);
      if (spec.log && spec.step !== undefined)
        return { kind: "categorical", choices: Array.from({ length: n }, (_, k) => intValueAt(spec, k)) };
      return { kind: "int", low: spec.min, high: intValueAt(spec, n - 1), log: spec.log ?? false, step: spec.step ?? 1 };
    }
  }
}

/** The domains of a space's searched entries, in the space's (sorted) key order. */
export function spaceDomains(space: SearchSpace): Record<string, ParamDomain> {
  const out: Record<string, ParamDomain> = {};
  for (const [name, spec] of Object.entries(space)) {
    const d = paramDomain(spec);
    if (d) out[name] = d;
  }
  return out;
}

/** A trial's value as its domain holds it: a scalar as is, a list or object as its JSON text. */
export const domainValue = (v: JsonValue): Scalar => scalar(v);

/** Whether a domain has a single value (Optuna's `single()`): nothing to learn from it. */
export function isSingle(d: ParamDomain): boolean {
  return d.kind === "categorical" ? d.choices.length <= 1 : d.low === d.high;
}
