import { z } from "zod";
import { type JsonValue, stableStringify } from "../core/json";
import { floatCount, floatValueAt, intCount, intValueAt, type ParamSpec, type Params, type SearchSpace } from "../core/space";
import { type StudyState, takenParams } from "../core/study";
import { seededRandom } from "../../train/shuffle";
import { drawnTrialAction, type Sampler } from "./sampler";

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Uniform = () => number;

// murmur3's finaliser: neighbouring inputs (trial 7, trial 8) give unrelated 32-bit states.
function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x >>> 0) ^ Math.floor(x / 2 ** 32), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seeded uniform source (mulberry32) for one stream, e.g. (seed, trial, attempt). The seed is mixed with a
 * constant of its own, so a study with seed 42 does not draw the numbers training's own seed-42 shuffle draws.
 */
export function seededSource(seed: number, ...stream: number[]): Uniform {
  return seededRandom([seed, ...stream].reduce(mix, 0x5ea7c4));
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const pick = (n: number, u: Uniform): number => Math.min(n - 1, Math.floor(u() * n));
const logUniform = (min: number, max: number, u: Uniform): number => Math.exp(Math.log(min) + u() * (Math.log(max) - Math.log(min)));

/** One value of one entry. Draws exactly one number from `u`, so adding an entry never shifts another's draw. */
export function sampleParam(spec: ParamSpec, u: Uniform): JsonValue {
  switch (spec.type) {
    case "int":
      if (spec.log && spec.step === undefined) return clamp(Math.round(logUniform(spec.min, spec.max, u)), spec.min, spec.max);
      // Equal odds for each allowed value; with log and a step the values are powers, so this is log-uniform too.
      return intValueAt(spec, pick(intCount(spec), u));
    case "float":
      if (spec.step !== undefined) return floatValueAt({ ...spec, step: spec.step }, pick(floatCount({ ...spec, step: spec.step }), u));
      return spec.log ? clamp(logUniform(spec.min, spec.max, u), spec.min, spec.max) : spec.min + u() * (spec.max - spec.min);
    case "choice":
      return structuredClone(spec.values[pick(spec.values.length, u)]!);
    case "bool":
      return u() < 0.5;
    case "fixed":
      u();
      return structuredClone(spec.value);
  }
}

/** One value per entry, in the space's (sorted) key order. */
function sampleParams(space: SearchSpace, u: Uniform): Params {
  return Object.fromEntries(
    Object.keys(space)
      .sort()
      .map((k) => [k, sampleParam(space[k]!, u)]),
  );
}

/**
 * Trial `index`'s params: a function of (space, seed, index, attempt) only, so a resumed study, or several
 * workers sharing one, draw the same params for the same trial.
 */
export function trialParams(space: SearchSpace, seed: number, index: number, attempt = 0): Params {
  return sampleParams(space, seededSource(seed, index, attempt));
}

/** How many redraws before a trial gives up on params the study has not tried (Keras Tuner's limit too). */
const MAX_DRAWS = 100;

/**
 * Like trialParams, but redraws (attempt 1, 2, ...) while the params equal an earlier trial's, as Keras Tuner
 * does; `taken` holds stableStringify of every earlier trial's params. undefined: a small discrete space is used up.
 */
export function uniqueTrialParams(space: SearchSpace, seed: number, index: number, taken: ReadonlySet<string>): Params | undefined {
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const params = trialParams(space, seed, index, attempt);
    if (!taken.has(stableStringify(params))) return params;
  }
  return undefined;
}

const count = z.number().int().min(1);

/** Keras Tuner's RandomSearch: maxTrials trials, each with params seeded by (seed, trial number). */
export const RandomSpec = z
  .object({
    kind: z.literal("random"),
    maxTrials: count,
    /** Every trial trains this many epochs (less if pruned). */
    maxEpochs: count,
    seed: z.number().int(),
  })
  .strict();
export type RandomSpec = z.infer<typeof RandomSpec>;

/** Trial i gets the i-th seeded draw, redrawn while it repeats an earlier trial's params. */
export class RandomSampler implements Sampler {
  constructor(private readonly spec: RandomSpec) {}

  nextAction(study: StudyState) {
    const { maxTrials, maxEpochs, seed } = this.spec;
    return drawnTrialAction(study, maxEpochs, (i) =>
      i < maxTrials ? uniqueTrialParams(study.space, seed, i, takenParams(study)) : undefined,
    );
  }
}
