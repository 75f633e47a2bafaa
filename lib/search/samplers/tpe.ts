import { z } from "zod";
import { stableStringify } from "../core/json";
import type { Params } from "../core/space";
import { type StudyState, takenParams } from "../core/study";
import { decodePoint, type Encoding, encodingOf, pointKey, snapPoint, takenPoints } from "./encoding";
import { type Observation, observationsOf, rankFinished } from "./observations";
import { latinHypercubeParams } from "./latin-hypercube";
import { ParzenEstimator } from "./parzen";
import { seededSource, uniqueTrialParams } from "./random";
import { drawnTrialAction, type Sampler } from "./sampler";

const count = z.number().int().min(1);

/** Optuna's TPESampler (multivariate, its 5.0 default), with the budget of a random search. */
export const TpeSpec = z
  .object({
    kind: z.literal("tpe"),
    maxTrials: count,
    maxEpochs: count,
    seed: z.number().int(),
    /** Trials drawn at random (the same draws as --tuner random) before the model takes over; Optuna's 10. */
    nStartupTrials: z.number().int().min(0).default(10),
    /** Candidates drawn from the good density, of which the best ratio good/bad is trained. Optuna's 24. */
    nEiCandidates: count.default(24),
    /**
     * Weight of the prior kernel beside each trial's. 0.5 (Optuna: 1): with the study-wide clip below, a lighter
     * prior keeps l(x) on the good trials; measured with it, not alone (docs/tuning.md).
     */
    priorWeight: z.number().positive().default(0.5),
    /** How the startup trials are drawn: "lhs", a Latin hypercube (each axis covered evenly), or "random" (Optuna's). */
    startup: z.enum(["random", "lhs"]).default("lhs"),
    /**
     * The magic clip's smallest bandwidth, range / min(100, n + 2): n counts the finished trials of the whole study
     * ("study") or, as in Optuna, of the group ("group"). Optuna's rule gives the good group, a few trials, kernels a
     * third to a seventh of the range wide at 50 trials, so l(x) barely narrows; counting the study lets it.
     */
    clip: z.enum(["group", "study"]).default("study"),
  })
  .strict();
export type TpeSpec = z.infer<typeof TpeSpec>;

/** Optuna's default gamma: the good group is the best 10% of finished trials, at most 25. */
export const goodCount = (finished: number): number => Math.min(Math.ceil(0.1 * finished), 25);

/** The good and bad groups, each in trial order; busy trials join the bad group (Optuna's constant liar). */
export function splitObservations(obs: readonly Observation[]): { good: Observation[]; bad: Observation[] } {
  const ranked = rankFinished(obs);
  const nGood = goodCount(ranked.length);
  const good = new Set(ranked.slice(0, nGood));
  const byIndex = (a: Observation, b: Observation) => a.index - b.index;
  return { good: [...good].sort(byIndex), bad: obs.filter((o) => !good.has(o)).sort(byIndex) };
}

/**
 * The model's suggestion for trial `index`: nEiCandidates points drawn from l (the good trials' density), the one
 * with the largest log l - log g (g: the bad trials') that the study has not tried. undefined: every candidate was
 * tried already.
 */
function tpeSuggestion(
  enc: Encoding,
  obs: readonly Observation[],
  spec: TpeSpec,
  index: number,
  taken: ReadonlySet<string>,
): Params | undefined {
  const { good, bad } = splitObservations(obs);
  const finished = obs.filter((o) => o.state !== "busy").length;
  const opts = { priorWeight: spec.priorWeight, considerEndpoints: false, ...(spec.clip === "study" ? { clipCount: finished } : {}) };
  const l = new ParzenEstimator(
    enc,
    good.map((o) => o.point),
    opts,
  );
  const g = new ParzenEstimator(
    enc,
    bad.map((o) => o.point),
    opts,
  );
  // A stream of its own: the same trial index never reuses the random startup draw's numbers.
  const u = seededSource(spec.seed, index, 0x7e5);
  const scored = l.sample(u, spec.nEiCandidates).map((raw) => {
    const point = snapPoint(enc, raw);
    return { point, score: l.logPdf(point) - g.logPdf(point) };
  });
  // Stable sort: equal scores keep draw order, so every worker picks the same candidate.
  scored.sort((a, b) => b.score - a.score);
  const fresh = scored.find(({ point }) => !taken.has(pointKey(point)));
  return fresh && decodePoint(enc, fresh.point);
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011; Optuna's TPESampler): trial i < nStartupTrials gets
 * random search's draw; later trials the TPE suggestion from the finished trials stored in the study, so any
 * worker, a resumed study and --parallel slots reach the same suggestion from the same results. A trial whose
 * candidates were all tried falls back to a fresh random draw.
 */
export class TpeSampler implements Sampler {
  constructor(private readonly spec: TpeSpec) {}

  nextAction(study: StudyState) {
    const { maxTrials, maxEpochs, seed, nStartupTrials } = this.spec;
    return drawnTrialAction(study, maxEpochs, (i) => {
      if (i >= maxTrials) return undefined;
      const random = () => uniqueTrialParams(study.space, seed, i, takenParams(study));
      const enc = encodingOf(study.space);
      if (i < nStartupTrials && this.spec.startup === "lhs") {
        const row = latinHypercubeParams(enc, seed, i, nStartupTrials);
        return row && !takenParams(study).has(stableStringify(row)) ? row : random();
      }
      const obs = observationsOf(study, enc);
      const finished = obs.some((o) => o.state !== "busy" && Number.isFinite(o.loss));
      if (i < nStartupTrials || !finished || enc.dims.length === 0) return random();
      return tpeSuggestion(enc, obs, this.spec, i, takenPoints(study, enc, obs)) ?? random();
    });
  }
}
