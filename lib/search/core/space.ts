import { createHash } from "node:crypto";
import { z } from "zod";
import { type JsonValue, stableStringify } from "./json";
import { UserError } from "../../errors/user-error";

/** A whole number in [min, max]. */
export const IntParam = z
  .object({
    type: z.literal("int"),
    min: z.number().int(),
    max: z.number().int(),
    /**
     * Linear: the distance between two values (min, min+step, ...). With log: the factor between two values
     * (min, min*step, ...), Keras Tuner's meaning, so {min: 32, max: 512, step: 2, log: true} is 32..512 in powers of 2.
     */
    step: z.number().int().min(1).optional(),
    /** Sample log-uniformly: for ranges spanning orders of magnitude, such as layer widths. */
    log: z.boolean().optional(),
    /** Keras Tuner's default: the value a build_model(hp) gets where the tuner has not drawn one yet. */
    default: z.number().int().optional(),
  })
  .strict();

/** A real number in [min, max]. */
const FloatParam = z
  .object({
    type: z.literal("float"),
    min: z.number(),
    max: z.number(),
    /** Only min, min+step, ... (Keras Tuner's Float step): a finite set, so a grid can list it. */
    step: z.number().gt(0).optional(),
    /** Sample log-uniformly: learning rates are searched over decades, not linearly. */
    log: z.boolean().optional(),
    default: z.number().optional(),
  })
  .strict();

/** One of the listed values; any JSON, e.g. "adam" or [300, 100]. */
const ChoiceParam = z.object({ type: z.literal("choice"), values: z.array(z.json()), default: z.json().optional() }).strict();
/** false or true. */
const BoolParam = z.object({ type: z.literal("bool"), default: z.boolean().optional() }).strict();
/** Always this value: pins a field for the whole search without editing the config. */
const FixedParam = z.object({ type: z.literal("fixed"), value: z.json() }).strict();

export const ParamSpec = z.discriminatedUnion("type", [IntParam, FloatParam, ChoiceParam, BoolParam, FixedParam]);
export type IntParam = z.infer<typeof IntParam>;
export type ParamSpec = z.infer<typeof ParamSpec>;
const PARAM_TYPES = ["int", "float", "choice", "bool", "fixed"] as const;

/** A parsed search space: parameter name -> how to draw it, keys sorted so file order changes nothing. */
export type SearchSpace = Readonly<Record<string, ParamSpec>>;
/** One trial's drawn values, keyed like the space (nHidden/nNeurons not yet turned into hiddenUnits). */
export type Params = Record<string, JsonValue>;

/** Géron's two knobs for the layer stack; together they set the config's hiddenUnits. */
const LAYER_KEYS = ["nHidden", "nNeurons"] as const;

/** Where nHidden or nNeurons comes from when a space gives only the other (e.g. from the default config). */
export interface LayerDefaults {
  /** Number of hidden layers. */
  nHidden: number;
  /** Units in each hidden layer. */
  nNeurons: number;
}

/** Thrown for a search-space file that cannot be searched; the message names the key and what is allowed. */
export class SearchSpaceError extends UserError {
  override name = "SearchSpaceError";
}

/** Keras Tuner's hp class names, as a space file written from Keras Tuner habits spells them. */
const KERAS_TYPES: Record<string, (typeof PARAM_TYPES)[number]> = {
  Int: "int",
  Float: "float",
  Choice: "choice",
  Boolean: "bool",
  Fixed: "fixed",
};
/** Keras Tuner's argument names -> ours. */
const KERAS_FIELDS = { min_value: "min", max_value: "max" } as const;

/**
 * An entry written with Keras Tuner's names (min_value, max_value, sampling: "log" | "linear", type "Int", ...) in
 * ours; "step", "values" and "default" are the same word in both. A field given under both names is refused.
 */
function fromKerasNames(key: string, entry: unknown): { entry: unknown; problem?: string } {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return { entry };
  const out: Record<string, unknown> = { ...(entry as Record<string, unknown>) };
  if (typeof out.type === "string" && out.type in KERAS_TYPES) out.type = KERAS_TYPES[out.type];
  for (const [kt, ours] of Object.entries(KERAS_FIELDS)) {
    if (!(kt in out)) continue;
    if (ours in out) return { entry, problem: `${key}: "${kt}" and "${ours}" are the same field (Keras Tuner's name and ours); give one` };
    out[ours] = out[kt];
    delete out[kt];
  }
  if ("sampling" in out) {
    if ("log" in out) return { entry, problem: `${key}: "sampling" and "log" say the same thing; give one` };
    if (out.sampling !== "log" && out.sampling !== "linear") {
      return { entry, problem: `${key}.sampling: expected "linear" or "log", got ${show(out.sampling)}` };
    }
    if (out.sampling === "log") out.log = true;
    delete out.sampling;
  }
  return { entry: out };
}

const show = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v));

function describeIssue(key: string, issue: z.core.$ZodIssue, entry: unknown): string {
  const path = [key, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    const type = (entry as { type: (typeof PARAM_TYPES)[number] }).type;
    const ours = Object.keys(ParamSpec.options[PARAM_TYPES.indexOf(type)]!.shape);
    const kerasNames = type === "int" || type === "float" ? ', or Keras Tuner\'s "min_value", "max_value", "sampling"' : "";
    const allowed = `${ours.join(", ")}${kerasNames}`;
    return `${key}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map(show).join(", ")} for a ${type}; allowed: ${allowed}`;
  }
  const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], entry);
  if (issue.code === "invalid_union" && issue.path.at(-1) === "type") {
    return `${path}: expected one of ${PARAM_TYPES.map(show).join(", ")}, got ${show(got)}`;
  }
  return `${path}: ${issue.message.replace(/^Invalid input: /, "")}, got ${show(got)}`;
}

/** The sentence for a range with nothing in it, or undefined when the entry can be drawn from. */
function emptyRange(key: string, spec: ParamSpec): string | undefined {
  if (spec.type === "choice" && spec.values.length === 0) return `${key}: empty choice, "values" is []`;
  if (spec.type !== "int" && spec.type !== "float") return undefined;
  if (spec.min > spec.max) return `${key}: empty range, min ${spec.min} is above max ${spec.max}`;
  if (spec.log && spec.min <= 0) return `${key}: a log range needs min > 0, got ${spec.min}..${spec.max}`;
  if (spec.type === "float" && spec.log && spec.step !== undefined) {
    return `${key}: a float takes "step" or "log", not both; for powers use an int with "log" and "step", or list the values`;
  }
  if (spec.type === "int" && spec.log && spec.step === 1) {
    return `${key}: with "log": true, "step" is the factor between values and must be at least 2, got 1`;
  }
  return undefined;
}

/** A float range with a step: how many values (min, min+step, ... <= max) it has. */
export function floatCount(spec: { min: number; max: number; step: number }): number {
  // The epsilon keeps max itself when (max - min) / step is 4.999999999 in floating point.
  return Math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1;
}

/** The k-th value of a float range with a step, rounded to 12 digits (so 0.1 + 2 * 0.1 is 0.3). */
export function floatValueAt(spec: { min: number; step: number }, k: number): number {
  return Number((spec.min + k * spec.step).toPrecision(12));
}

/** How many values an int entry has; ints without a step go one by one, as in Keras Tuner. */
export function intCount(spec: IntParam): number {
  if (!(spec.log && spec.step !== undefined)) return Math.floor((spec.max - spec.min) / (spec.step ?? 1)) + 1;
  let n = 0;
  for (let v = spec.min; v <= spec.max; v *= spec.step) n++;
  return n;
}

/** The k-th value (0-based) of an int entry, for k < intCount(spec). */
export function intValueAt(spec: IntParam, k: number): number {
  return spec.log && spec.step !== undefined ? spec.min * spec.step ** k : spec.min + k * (spec.step ?? 1);
}

/**
 * Every value an nHidden/nNeurons entry can give must be a count: nHidden >= 0 (no hidden layer is softmax
 * regression, a valid model), nNeurons >= 1 (a layer of 0 units is none).
 */
function checkLayerEntry(key: string, spec: ParamSpec): string | undefined {
  const least = key === "nHidden" ? 0 : 1;
  const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= least;
  const bad = `${key}: must give whole numbers >= ${least} (it sets hiddenUnits)`;
  if (spec.type === "int") return spec.min >= least ? undefined : `${bad}, got min ${spec.min}`;
  if (spec.type === "choice") {
    const wrong = spec.values.find((v) => !isCount(v));
    return wrong === undefined ? undefined : `${bad}, got ${show(wrong)} in "values"`;
  }
  if (spec.type === "fixed") return isCount(spec.value) ? undefined : `${bad}, got ${show(spec.value)}`;
  return `${bad}: use an int, choice or fixed entry, got a ${spec.type}`;
}

/**
 * Says why `value` cannot be config field `key`'s, e.g. `is not a valid optimizer; allowed: "sgd", "adam"` (the
 * caller's sentence starts with the field and the value), or undefined when it can. Passed in by the caller, so this module does not depend on the config.
 */
export type ValueCheck = (key: string, value: unknown) => string | undefined;

/** The values of an entry worth checking against the config: every choice, the ends of a range, the default. */
function valuesToCheck(spec: ParamSpec): { value: unknown; where: string }[] {
  const dflt = "default" in spec && spec.default !== undefined ? [{ value: spec.default, where: '"default"' }] : [];
  switch (spec.type) {
    case "choice":
      return [...spec.values.map((value) => ({ value, where: '"values"' })), ...dflt];
    case "fixed":
      return [{ value: spec.value, where: '"value"' }];
    case "int":
    case "float":
      return [{ value: spec.min, where: "min" }, { value: spec.max, where: "max" }, ...dflt];
    case "bool":
      return [{ value: true, where: "true" }, { value: false, where: "false" }, ...dflt];
  }
}

/** A default must be one of the entry's own values. */
function defaultOutside(key: string, spec: ParamSpec): string | undefined {
  if (!("default" in spec) || spec.default === undefined) return undefined;
  const d = spec.default;
  if (spec.type === "choice" && !spec.values.some((v) => stableStringify(v) === stableStringify(d))) {
    return `${key}: "default" ${show(d)} is not one of "values" ${show(spec.values)}`;
  }
  if ((spec.type === "int" || spec.type === "float") && ((d as number) < spec.min || (d as number) > spec.max)) {
    return `${key}: "default" ${d} is outside ${spec.min}..${spec.max}`;
  }
  return undefined;
}

/** One entry, in Keras Tuner's names or ours: its spec, or the problems found (all of them, one line each). */
function parseEntry(key: string, raw: unknown, layerKey: boolean, checkValue?: ValueCheck): { spec?: ParamSpec; problems: string[] } {
  const { entry, problem: naming } = fromKerasNames(key, raw);
  if (naming) return { problems: [naming] };
  const result = ParamSpec.safeParse(entry);
  if (!result.success) return { problems: result.error.issues.map((i) => describeIssue(key, i, entry)) };
  const spec = result.data;
  const shape = emptyRange(key, spec) ?? (layerKey ? checkLayerEntry(key, spec) : undefined) ?? defaultOutside(key, spec);
  if (shape) return { spec, problems: [shape] };
  // nHidden/nNeurons are not config fields: checkLayerEntry vetted them.
  const problems =
    layerKey || !checkValue
      ? []
      : valuesToCheck(spec).flatMap(({ value, where }) => {
          const why = checkValue(key, value);
          return why ? [`${key}: ${show(value)} in ${where} ${why}`] : [];
        });
  return { spec, problems: [...new Set(problems)] };
}

/**
 * Parses a search-space file (already JSON-parsed). Keys are config field names (`configFields`, passed in so
 * this module does not depend on the config) plus nHidden and nNeurons, which map to hiddenUnits; when only one
 * of those two is given the other is pinned to `layerDefaults`. Keras Tuner's names are accepted (fromKerasNames).
 * `checkValue` (the config's schema, from the caller) vets every value an entry can give before any trial runs.
 * Throws SearchSpaceError, one line per problem.
 */
export function parseSearchSpace(
  json: unknown,
  configFields: readonly string[],
  layerDefaults?: LayerDefaults,
  checkValue?: ValueCheck,
): SearchSpace {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new SearchSpaceError(`a search space is a JSON object of parameter name -> {"type": ...}, got ${show(json)}`);
  }
  const raw = json as Record<string, unknown>;
  const layered = configFields.includes("hiddenUnits");
  const allowed = [...configFields, ...(layered ? LAYER_KEYS : [])];
  const unknown = Object.keys(raw).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    const s = unknown.length > 1 ? "s" : "";
    throw new SearchSpaceError(`unknown search parameter${s} ${unknown.map(show).join(", ")}; allowed: ${allowed.join(", ")}`);
  }
  const layerKeys = LAYER_KEYS.filter((k) => k in raw);
  if ("hiddenUnits" in raw && layerKeys.length > 0) {
    throw new SearchSpaceError(
      `hiddenUnits cannot be searched together with ${layerKeys.join(" and ")}, which set it too; keep one or the other`,
    );
  }

  const problems: string[] = [];
  const space: Record<string, ParamSpec> = {};
  for (const key of Object.keys(raw).sort()) {
    const parsed = parseEntry(key, raw[key], layerKeys.includes(key as never), checkValue);
    problems.push(...parsed.problems);
    if (parsed.spec) space[key] = parsed.spec;
  }
  if (problems.length > 0) throw new SearchSpaceError(problems.join("\n"));

  if (layerKeys.length === 1) {
    const missing = LAYER_KEYS.find((k) => !layerKeys.includes(k))!;
    if (!layerDefaults) {
      throw new SearchSpaceError(
        `${layerKeys[0]} is given without ${missing} and no default ${missing} was passed; add "${missing}" to the space`,
      );
    }
    space[missing] = { type: "fixed", value: layerDefaults[missing] };
  }
  return Object.fromEntries(
    Object.keys(space)
      .sort()
      .map((k) => [k, space[k]!]),
  );
}

/** Turns one trial's params into config overrides: nHidden copies of nNeurons become hiddenUnits. */
export function toOverrides(params: Params): Record<string, unknown> {
  const { nHidden, nNeurons, ...rest } = structuredClone(params);
  if (nHidden === undefined && nNeurons === undefined) return rest;
  if (typeof nHidden !== "number" || typeof nNeurons !== "number") {
    throw new SearchSpaceError(
      `nHidden and nNeurons make hiddenUnits together, got nHidden ${show(nHidden)} and nNeurons ${show(nNeurons)}`,
    );
  }
  return { ...rest, hiddenUnits: Array.from({ length: nHidden }, () => nNeurons) };
}

/** sha256 (hex) of the space's canonical JSON: a study stores it and refuses to resume with a different space. */
export function spaceHash(space: SearchSpace): string {
  return createHash("sha256").update(stableStringify(space)).digest("hex");
}
