import { z } from "zod";
import { MedianPruner, MedianStopping } from "./pruners/median";
import { noPruning, type Pruner } from "./pruners/pruner";
import { BayesianSampler, BayesianSpec } from "./samplers/bayesian";
import { GridSampler, GridSpec } from "./samplers/grid";
import { HyperbandSampler, HyperbandSpec } from "./samplers/hyperband";
import { RandomSampler, RandomSpec } from "./samplers/random";
import type { Sampler } from "./samplers/sampler";
import { TpeSampler, TpeSpec } from "./samplers/tpe";

/** The pruners a random, grid, TPE or Bayesian study can name; adding one is its file in pruners/ and a line here and in PRUNERS. */
const PrunerSpec = z.discriminatedUnion("kind", [MedianStopping]);
type PrunerSpec = z.infer<typeof PrunerSpec>;
const PRUNERS: { [K in PrunerSpec["kind"]]: (spec: Extract<PrunerSpec, { kind: K }>) => Pruner } = {
  median: (spec) => new MedianPruner(spec),
};

/** Off unless given; Hyperband decides by rounds and takes none. */
const pruning = { pruning: PrunerSpec.nullable().default(null) };

/**
 * Which sampler drives a study, with its budget and pruner. Stored in the study (its JSON is what workers joining it
 * must agree on), so the shape of each entry is part of the study database's format.
 */
export const TunerSpec = z.discriminatedUnion("kind", [
  RandomSpec.extend(pruning),
  GridSpec.extend(pruning),
  HyperbandSpec,
  TpeSpec.extend(pruning),
  BayesianSpec.extend(pruning),
]);
export type TunerSpec = z.infer<typeof TunerSpec>;
const SAMPLERS: { [K in TunerSpec["kind"]]: (spec: Extract<TunerSpec, { kind: K }>) => Sampler } = {
  random: (spec) => new RandomSampler(spec),
  grid: (spec) => new GridSampler(spec),
  hyperband: (spec) => new HyperbandSampler(spec),
  tpe: (spec) => new TpeSampler(spec),
  bayesian: (spec) => new BayesianSampler(spec),
};

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
  return { sampler, pruner };
}
