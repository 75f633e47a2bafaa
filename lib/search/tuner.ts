import { z } from "zod";
import { UserError } from "../errors/user-error";
import { AshaPruner, SuccessiveHalving } from "./pruners/asha";
import { MedianPruner, MedianStopping } from "./pruners/median";
import { noPruning, OrderedPruner, type Pruner } from "./pruners/pruner";
import { BayesianSampler, BayesianSpec } from "./samplers/bayesian";
import { BarrierSampler } from "./samplers/barrier";
import { GridSampler, GridSpec } from "./samplers/grid";
import { HyperbandSampler, HyperbandSpec } from "./samplers/hyperband";
import { RandomSampler, RandomSpec } from "./samplers/random";
import type { Sampler } from "./samplers/sampler";
import { TpeSampler, TpeSpec } from "./samplers/tpe";

/** The pruners a study can name; adding one is its file in pruners/ and a line here and in PRUNERS. */
export const PrunerSpec = z.discriminatedUnion("kind", [MedianStopping, SuccessiveHalving]);
export type PrunerSpec = z.infer<typeof PrunerSpec>;
const PRUNERS: { [K in PrunerSpec["kind"]]: (spec: Extract<PrunerSpec, { kind: K }>) => Pruner } = {
  median: (spec) => new MedianPruner(spec),
  asha: (spec) => new AshaPruner(spec),
};

/**
 * What every sampler but Hyperband takes besides its budget: a pruner (off unless given; Hyperband decides by
 * rounds and takes none), and `barrier`, the reproducible-parallel lag (core/barrier.ts): absent lets each decision
 * read whatever is recorded at the time (fastest); n makes trial k's suggestion read only trials < k - n, and each
 * pruning decision only earlier-started trials, waiting for them.
 */
const studyOptions = {
  pruning: PrunerSpec.nullable().default(null),
  // Optional, not nullable: a study stored before it existed has no such key, and must still compare equal.
  barrier: z.number().int().min(0).optional(),
};

/**
 * Which sampler drives a study, with its budget and pruner. Stored in the study (its JSON is what workers joining it
 * must agree on), so the shape of each entry is part of the study database's format.
 */
export const TunerSpec = z.discriminatedUnion("kind", [
  RandomSpec.extend(studyOptions),
  GridSpec.extend(studyOptions),
  HyperbandSpec,
  TpeSpec.extend(studyOptions),
  BayesianSpec.extend(studyOptions),
]);
export type TunerSpec = z.infer<typeof TunerSpec>;
const SAMPLERS: { [K in TunerSpec["kind"]]: (spec: Extract<TunerSpec, { kind: K }>) => Sampler } = {
  random: (spec) => new RandomSampler(spec),
  grid: (spec) => new GridSampler(spec),
  hyperband: (spec) => new HyperbandSampler(spec),
  tpe: (spec) => new TpeSampler(spec),
  bayesian: (spec) => new BayesianSampler(spec),
};

/** What `--pruner` accepts; "none" trains every trial to its target. */
export const PRUNER_NAMES = ["median", "asha", "none"] as const;
export type PrunerName = (typeof PRUNER_NAMES)[number];

/** Thrown for a pruner the tuner cannot take (Hyperband prunes by its own rounds). */
export class PrunerChoiceError extends UserError {
  override name = "PrunerChoiceError";
}

/** The stored pruner spec for a pruner name and its defaults; null for "none". */
export function prunerSpec(tuner: string, name: PrunerName): PrunerSpec | null {
  if (name === "none") return null;
  if (tuner === "hyperband") {
    throw new PrunerChoiceError(
      `--pruner ${name}: Hyperband stops trials by its own rounds (successive halving) and takes no pruner; drop --pruner or use --tuner random`,
    );
  }
  if (!PRUNER_NAMES.includes(name)) throw new PrunerChoiceError(`pruner "${name}": expected one of ${PRUNER_NAMES.join(", ")}`);
  return PrunerSpec.parse({ kind: name });
}

/**
 * The reproducible study's barrier: trial k is suggested from trials < k - 4, so up to 5 trials (--parallel 5, or
 * workers on several machines) train at once before a suggestion waits; fixed, not taken from --parallel, because the
 * table must not depend on the number of workers.
 */
export const REPRODUCIBLE_LAG = 4;

/** A study's sampler and pruner, chosen once from its stored spec. */
export interface Tuner {
  readonly sampler: Sampler;
  readonly pruner: Pruner;
}

/**
 * The sampler and pruner for a stored spec, chosen once when the study opens. A driver then loops: ask
 * sampler.nextAction(study); on start or continue, train, record each epoch and ask pruner.shouldPrune; finish.
 */
export function tunerFor(spec: TunerSpec): Tuner {
  const sampler = (SAMPLERS[spec.kind] as (s: TunerSpec) => Sampler)(spec);
  const prunerSpec = "pruning" in spec ? spec.pruning : null;
  const pruner = prunerSpec ? (PRUNERS[prunerSpec.kind] as (s: PrunerSpec) => Pruner)(prunerSpec) : noPruning;
  const barrier = "barrier" in spec ? spec.barrier : undefined;
  if (barrier === undefined) return { sampler, pruner };
  return { sampler: new BarrierSampler(sampler, barrier), pruner: pruner === noPruning ? pruner : new OrderedPruner(pruner) };
}
