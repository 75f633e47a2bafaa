import type { JsonValue } from "../core/json";
import { stableStringify } from "../core/json";
import { type ParamSpec, type Params, parseSearchSpace, type SearchSpace, SearchSpaceError } from "../core/space";

/** Keras Tuner's hp.Int / hp.Float options. */
export interface RangeOptions {
  /** Linear: the distance between values; with sampling "log" on an Int, the factor between them. */
  step?: number;
  sampling?: "linear" | "log";
  /** The value where the tuner has not drawn one (a conditional parameter's first appearance). Default min. */
  default?: number;
}

/**
 * Keras Tuner's `hp`: what a build function asks for by name, Keras Tuner's verbs and arguments. Each call registers
 * the parameter in the study's space (the space grows as build functions reach new branches, as in Keras Tuner) and
 * returns this trial's drawn value, or the parameter's default when the tuner has not drawn it yet.
 */
export class HyperParameters {
  /** The values this trial's build function used, by name (what getBestHyperparameters returns). */
  readonly values: Params = {};

  /** The values of a finished trial, readable with get() (what getBestHyperparameters returns). */
  static fromValues(values: Params): HyperParameters {
    const hp = new HyperParameters(values);
    Object.assign(hp.values, structuredClone(values));
    return hp;
  }

  constructor(
    private readonly drawn: Params = {},
    private readonly registry: Map<string, ParamSpec> = new Map(),
  ) {}

  Int(name: string, minValue: number, maxValue: number, options: RangeOptions = {}): number {
    return this.use(name, { type: "int", min_value: minValue, max_value: maxValue, ...options }) as number;
  }

  Float(name: string, minValue: number, maxValue: number, options: RangeOptions = {}): number {
    return this.use(name, { type: "float", min_value: minValue, max_value: maxValue, ...options }) as number;
  }

  Choice<T extends JsonValue>(name: string, values: readonly T[], options: { default?: T } = {}): T {
    return this.use(name, { type: "choice", values: [...values], ...options }) as T;
  }

  Boolean(name: string, options: { default?: boolean } = {}): boolean {
    return this.use(name, { type: "bool", ...options }) as boolean;
  }

  Fixed<T extends JsonValue>(name: string, value: T): T {
    return this.use(name, { type: "fixed", value }) as T;
  }

  /** The value of a parameter this trial used (Keras Tuner's hp.get). */
  get(name: string): JsonValue {
    if (!(name in this.values))
      throw new SearchSpaceError(
        `hp.get("${name}"): no parameter "${name}" in this trial; it has ${Object.keys(this.values).join(", ") || "none"}`,
      );
    return this.values[name]!;
  }

  private use(name: string, entry: Record<string, unknown>): JsonValue {
    const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined));
    // The space file's parser, so hp.Int("units", 0, -1) is refused with the same sentence a space file gets.
    const spec = parseSearchSpace({ [name]: clean }, [name])[name]!;
    const known = this.registry.get(name);
    if (known && stableStringify(known) !== stableStringify(spec)) {
      throw new SearchSpaceError(
        `hp "${name}" is declared twice with different ranges: ${stableStringify(known)} and ${stableStringify(spec)}`,
      );
    }
    this.registry.set(name, spec);
    const value = name in this.drawn ? this.drawn[name]! : defaultOf(spec);
    this.values[name] = value;
    return value;
  }
}

/** Keras Tuner's defaults: the given default, else min for a range, the first value, false. */
function defaultOf(spec: ParamSpec): JsonValue {
  if ("default" in spec && spec.default !== undefined) return spec.default;
  switch (spec.type) {
    case "int":
    case "float":
      return spec.min;
    case "choice":
      return spec.values[0]!;
    case "bool":
      return false;
    case "fixed":
      return spec.value;
  }
}

/** The space registered so far, keys sorted (the study's space for the next suggestion). */
export function registeredSpace(registry: ReadonlyMap<string, ParamSpec>): SearchSpace {
  return Object.fromEntries([...registry.keys()].sort().map((k) => [k, registry.get(k)!]));
}
