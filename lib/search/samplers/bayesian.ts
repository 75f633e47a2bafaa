import { z } from "zod";
import type { Params } from "../core/space";
import { type StudyState, takenParams } from "../core/study";
import { decodePoint, type Encoding, encodingOf, pointKey, snapPoint, takenPoints } from "./encoding";
import { GaussianProcess } from "./gaussian-process";
import { type Observation, observationsOf } from "./observations";
import { seededSource, type Uniform, uniqueTrialParams } from "./random";
import { drawnTrialAction, type Sampler } from "./sampler";

const count = z.number().int().min(1);

/** Keras Tuner's BayesianOptimization, its defaults, with the budget of a random search. */
export const BayesianSpec = z
  .object({
    kind: z.literal("bayesian"),
    maxTrials: count,
    maxEpochs: count,
    seed: z.number().int(),
    /** Random trials before the Gaussian process; null: Keras Tuner's 3 per searched entry. */
    numInitialPoints: z.number().int().min(1).nullable().default(null),
    /** Noise added to the kernel's diagonal (Keras Tuner's alpha). */
    alpha: z.number().positive().default(1e-4),
    /**
     * Exploration weight of the confidence bound: mean - beta * std is minimised. 1 (Keras Tuner's beta is 2.6): the
     * kernel's amplitude is not fitted, so far from every trial the std is one std of the observed losses; on a
     * heavy-tailed loss (Branin's reach 300 for a best near 0.4) 2.6 of those outweigh any mean near the best, and
     * the bound picks the emptiest corner: a space-filling search no better than random (docs/tuning.md).
     */
    beta: z.number().min(0).default(1),
  })
  .strict();
export type BayesianSpec = z.infer<typeof BayesianSpec>;

/** Observations the process is fitted to at most: the best half and the most recent half. Keeps a fit near 10 ms. */
const MAX_FIT_POINTS = 100;
/** Random candidates scored per suggestion, and refinements around the best few of them. */
const CANDIDATES = 1000;
const REFINE_FROM = 5;
const REFINE_STEPS = 40;

/** A point in the unit cube: numeric axes scaled to [0, 1], each choice one-hot (so no order is implied). */
function toCube(enc: Encoding, point: readonly number[]): number[] {
  return enc.dims.flatMap((d, i) =>
    d.kind === "numeric" ? [(point[i]! - d.low) / (d.high - d.low)] : d.values.map((_, c) => (c === point[i] ? 1 : 0)),
  );
}

function randomPoint(enc: Encoding, u: Uniform): number[] {
  return enc.dims.map((d) =>
    d.kind === "numeric" ? d.low + u() * (d.high - d.low) : Math.min(d.values.length - 1, Math.floor(u() * d.values.length)),
  );
}

/** A neighbour: each numeric axis moved by a normal step of a tenth of its range, a choice redrawn one time in five. */
function neighbour(enc: Encoding, point: readonly number[], u: Uniform): number[] {
  return enc.dims.map((d, i) => {
    if (d.kind === "categorical") return u() < 0.2 ? Math.min(d.values.length - 1, Math.floor(u() * d.values.length)) : point[i]!;
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    return Math.min(d.high, Math.max(d.low, point[i]! + 0.1 * (d.high - d.low) * z));
  });
}

function fitPoints(obs: readonly Observation[]): Observation[] {
  const usable = obs.filter((o) => o.state !== "busy" && Number.isFinite(o.loss));
  if (usable.length <= MAX_FIT_POINTS) return usable;
  const best = usable
    .slice()
    .sort((a, b) => a.loss - b.loss || a.index - b.index)
    .slice(0, MAX_FIT_POINTS / 2);
  const rest = usable.filter((o) => !best.includes(o)).slice(-MAX_FIT_POINTS / 2);
  return [...best, ...rest];
}

/**
 * The untried point with the lowest confidence bound mean - beta * std of the loss, searched over random
 * candidates and then small moves around the best of them; undefined when every candidate was tried.
 */
function gpSuggestion(
  enc: Encoding,
  obs: readonly Observation[],
  spec: BayesianSpec,
  index: number,
  taken: ReadonlySet<string>,
): Params | undefined {
  const points = fitPoints(obs);
  const gp = GaussianProcess.fit(
    points.map((o) => toCube(enc, o.point)),
    points.map((o) => o.loss),
    spec.alpha,
  );
  const u = seededSource(spec.seed, index, 0xb0);
  const bound = (point: number[]): number => {
    const { mean, std } = gp.predict(toCube(enc, point));
    return mean - spec.beta * std;
  };
  const scored = Array.from({ length: CANDIDATES }, () => snapPoint(enc, randomPoint(enc, u))).map((point) => ({
    point,
    bound: bound(point),
  }));
  scored.sort((a, b) => a.bound - b.bound);
  for (const start of scored.slice(0, REFINE_FROM)) {
    let { point, bound: b } = start;
    for (let s = 0; s < REFINE_STEPS; s++) {
      const q = snapPoint(enc, neighbour(enc, point, u));
      const c = bound(q);
      scored.push({ point: q, bound: c });
      if (c < b) [point, b] = [q, c];
    }
  }
  // Stable sort: equal bounds keep their draw order, so every worker picks the same point.
  scored.sort((a, b) => a.bound - b.bound);
  const fresh = scored.find(({ point }) => !taken.has(pointKey(point)));
  return fresh && decodePoint(enc, fresh.point);
}

/**
 * Keras Tuner's BayesianOptimization: numInitialPoints random trials (random search's draws), then the point
 * minimising the Gaussian process's lower confidence bound on the loss, fitted to the study's finished trials
 * (a pruned trial with its best value, which fewer epochs make pessimistic).
 */
export class BayesianSampler implements Sampler {
  constructor(private readonly spec: BayesianSpec) {}

  nextAction(study: StudyState) {
    const { maxTrials, maxEpochs, seed } = this.spec;
    return drawnTrialAction(study, maxEpochs, (i) => {
      if (i >= maxTrials) return undefined;
      const random = () => uniqueTrialParams(study.space, seed, i, takenParams(study));
      const enc = encodingOf(study.space);
      const initial = this.spec.numInitialPoints ?? Math.max(1, 3 * enc.dims.length);
      const obs = observationsOf(study, enc);
      const usable = obs.filter((o) => o.state !== "busy" && Number.isFinite(o.loss)).length;
      if (i < initial || usable < 2 || enc.dims.length === 0) return random();
      return gpSuggestion(enc, obs, this.spec, i, takenPoints(study, enc, obs)) ?? random();
    });
  }
}
