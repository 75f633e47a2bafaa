import { type JsonValue, stableStringify } from "../core/json";
import { intCount, intValueAt, type IntParam, type ParamSpec, type Params, type SearchSpace } from "../core/space";
import type { StudyState } from "../core/study";

/**
 * One searched entry as a model-based sampler sees it. numeric: a real axis [low, high] (the log of the value for a
 * log entry; an int's axis reaches half a step past its ends so its end values get a full step of room, as in
 * Optuna); `step` is the grid decode rounds to (0: continuous). categorical: an index into `values`.
 */
export type Dimension =
  | {
      kind: "numeric";
      key: string;
      low: number;
      high: number;
      step: number;
      decode: (x: number) => JsonValue;
      encode: (v: JsonValue) => number;
    }
  | { kind: "categorical"; key: string; values: JsonValue[] };

/** The searched entries (fixed ones left out: they never vary) in the space's sorted key order. */
export interface Encoding {
  dims: Dimension[];
  /** The fixed entries' values, added to every decoded point. */
  fixed: Params;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function intDimension(key: string, spec: IntParam): Dimension {
  const n = intCount(spec);
  if (spec.log && spec.step !== undefined) {
    // Powers of step: the exponent is the natural axis (32, 64, ... 512 are evenly spaced on it).
    const index = (v: JsonValue) => Math.round(Math.log((v as number) / spec.min) / Math.log(spec.step!));
    return {
      kind: "numeric",
      key,
      low: -0.5,
      high: n - 0.5,
      step: 1,
      decode: (x) => intValueAt(spec, clamp(Math.round(x), 0, n - 1)),
      encode: index,
    };
  }
  const last = intValueAt(spec, n - 1);
  if (spec.log) {
    const decode = (x: number) => clamp(Math.round(Math.exp(x)), spec.min, last);
    return {
      kind: "numeric",
      key,
      low: Math.log(spec.min - 0.5),
      high: Math.log(last + 0.5),
      step: 0,
      decode,
      encode: (v) => Math.log(v as number),
    };
  }
  const step = spec.step ?? 1;
  const decode = (x: number) => intValueAt(spec, clamp(Math.round((x - spec.min) / step), 0, n - 1));
  return { kind: "numeric", key, low: spec.min - step / 2, high: last + step / 2, step, decode, encode: (v) => v as number };
}

function dimension(key: string, spec: Exclude<ParamSpec, { type: "fixed" }>): Dimension {
  switch (spec.type) {
    case "int":
      return intDimension(key, spec);
    case "float": {
      const { min, max } = spec;
      if (spec.log) {
        return {
          kind: "numeric",
          key,
          low: Math.log(min),
          high: Math.log(max),
          step: 0,
          decode: (x) => clamp(Math.exp(x), min, max),
          encode: (v) => Math.log(v as number),
        };
      }
      return { kind: "numeric", key, low: min, high: max, step: 0, decode: (x) => clamp(x, min, max), encode: (v) => v as number };
    }
    case "choice":
      return { kind: "categorical", key, values: spec.values };
    case "bool":
      return { kind: "categorical", key, values: [false, true] };
  }
}

/** The space's searched entries as axes, in sorted key order. */
export function encodingOf(space: SearchSpace): Encoding {
  const dims: Dimension[] = [];
  const fixed: Params = {};
  for (const key of Object.keys(space).sort()) {
    const spec = space[key]!;
    if (spec.type === "fixed") fixed[key] = structuredClone(spec.value);
    else dims.push(dimension(key, spec));
  }
  return { dims, fixed };
}

/**
 * A trial's params as one number per dimension (a categorical's value index), or undefined when a value is not in
 * the space (a trial recorded by hand or under another space; it cannot inform the model).
 */
export function encodeParams(enc: Encoding, params: Params): number[] | undefined {
  const point: number[] = [];
  for (const d of enc.dims) {
    const v = params[d.key];
    if (v === undefined) return undefined;
    if (d.kind === "categorical") {
      // Strings, numbers and bools compare directly; only list or object choices need their canonical JSON.
      let i = d.values.indexOf(v);
      if (i < 0 && v !== null && typeof v === "object") {
        const s = stableStringify(v);
        i = d.values.findIndex((c) => stableStringify(c) === s);
      }
      if (i < 0) return undefined;
      point.push(i);
    } else {
      if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
      point.push(clamp(d.encode(v), d.low, d.high));
    }
  }
  return point;
}

/** The params for a point: every dimension decoded (rounded to its grid, clamped to its range), fixed entries added. */
export function decodePoint(enc: Encoding, point: readonly number[]): Params {
  const params: Params = structuredClone(enc.fixed);
  enc.dims.forEach((d, i) => {
    params[d.key] = d.kind === "categorical" ? structuredClone(d.values[point[i]!]!) : d.decode(point[i]!);
  });
  return Object.fromEntries(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]!]),
  );
}

/**
 * The point's own grid point (each numeric axis decoded and encoded again), so a model scores exactly what would be
 * trained; categorical axes already hold an index.
 */
export function snapPoint(enc: Encoding, point: readonly number[]): number[] {
  return enc.dims.map((d, i) => (d.kind === "numeric" ? d.encode(d.decode(point[i]!)) : point[i]!));
}

/** A key equal for two points exactly when they decode to the same params (points on the grids, as snapPoint gives). */
export const pointKey = (point: readonly number[]): string => point.join(",");

/**
 * Every trial's point key, for the duplicate check (cheaper than the params' canonical JSON at a thousand trials):
 * the observations' points, plus failed trials (random search does not repeat those either). A trial outside the
 * space cannot be repeated.
 */
export function takenPoints(study: StudyState, enc: Encoding, observed: readonly { point: number[] }[]): Set<string> {
  const keys = new Set(observed.map((o) => pointKey(o.point)));
  for (const t of study.trials) {
    if (t.status !== "failed") continue;
    const point = encodeParams(enc, t.params);
    if (point) keys.add(pointKey(point));
  }
  return keys;
}
