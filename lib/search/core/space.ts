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
  })
  .strict();

/** A real number in [min, max]. */
const FloatParam = z
  .object({
    type: z.literal("float"),
    min: z.number(),
    max: z.number(),
    /** Sample log-uniformly: learning rates are searched over decades, not linearly. */
    log: z.boolean().optional(),
  })
  .strict();

/** One of the listed values; any JSON, e.g. "adam" or [300, 100]. */
const ChoiceParam = z.object({ type: z.literal("choice"), values: z.array(z.json()) }).strict();
/** false or true. */
const BoolParam = z.object({ type: z.literal("bool") }).strict();
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

const show = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v));

function describeIssue(key: string, issue: z.core.$ZodIssue, entry: unknown): string {
  const path = [key, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    const type = (entry as { type: (typeof PARAM_TYPES)[number] }).type;
    const allowed = Object.keys(ParamSpec.options[PARAM_TYPES.indexOf(type)]!.shape).join(", ");
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
  if (spec.type === "int" && spec.log && spec.step === 1) {
    return `${key}: with "log": true, "step" is the factor between values and must be at least 2, got 1`;
  }
  return undefined;
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

/** Every value an nHidden/nNeurons entry can give must be a count (a layer of 0 units, or no layer, is no MLP here). */
function checkLayerEntry(key: string, spec: ParamSpec): string | undefined {
  const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  const bad = `${key}: must give whole numbers >= 1 (it sets hiddenUnits)`;
  if (spec.type === "int") return spec.min >= 1 ? undefined : `${bad}, got min ${spec.min}`;
  if (spec.type === "choice") {
    const wrong = spec.values.find((v) => !isCount(v));
    return wrong === undefined ? undefined : `${bad}, got ${show(wrong)} in "values"`;
  }
  if (spec.type === "fixed") return isCount(spec.value) ? undefined : `${bad}, got ${show(spec.value)}`;
  return `${bad}: use an int, choice or fixed entry, got a ${spec.type}`;
}

/**
 * Parses a search-space file (already JSON-parsed). Keys are config field names (`configFields`, passed in so
 * this module does not depend on the config) plus nHidden and nNeurons, which map to hiddenUnits; when only one
 * of those two is given the other is pinned to `layerDefaults`. Throws SearchSpaceError, one line per problem.
 */
export function parseSearchSpace(json: unknown, configFields: readonly string[], layerDefaults?: LayerDefaults): SearchSpace {
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
    const entry = raw[key];
    const result = ParamSpec.safeParse(entry);
    if (!result.success) {
      problems.push(...result.error.issues.map((i) => describeIssue(key, i, entry)));
      continue;
    }
    const problem = emptyRange(key, result.data) ?? (layerKeys.includes(key as never) ? checkLayerEntry(key, result.data) : undefined);
    if (problem) problems.push(problem);
    space[key] = result.data;
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
