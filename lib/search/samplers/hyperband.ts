import { z } from "zod";
import { bestOf, compareScores } from "../core/objective";
import type { Params } from "../core/space";
import { type Action, isBusy, resumeAction, type StudyState, takenParams, type TrialRecord, trialId } from "../core/study";
import { uniqueTrialParams } from "./random";
import type { Sampler } from "./sampler";
import { UserError } from "../../errors/user-error";

const count = z.number().int().min(1);

/** Keras Tuner's Hyperband, with its budget; stored in the study so every worker plans alike. */
export const HyperbandSpec = z
  .object({
    kind: z.literal("hyperband"),
    /** Epochs of the longest-trained models, Keras Tuner's max_epochs. */
    maxEpochs: count,
    /** Keras Tuner's default: each round keeps a third of the trials and trains them three times longer. */
    factor: z.number().int().min(2).default(3),
    hyperbandIterations: count.default(1),
    seed: z.number().int(),
  })
  .strict();
export type HyperbandSpec = z.infer<typeof HyperbandSpec>;

/** Keras Tuner's Hyperband arguments (keras_tuner/tuners/hyperband.py). */
export interface HyperbandOptions {
  /** Epochs of the longest-trained models (max_epochs). */
  maxEpochs: number;
  /** Each round keeps 1/factor of the trials and trains them factor times longer. Default 3. */
  factor?: number;
  /** Times the whole set of brackets is run. Default 1. */
  hyperbandIterations?: number;
  /** Seeds the params of new trials. */
  seed: number;
}

/** One round (rung) of a bracket. */
export interface RoundPlan {
  /** Trials in the round: new ones in round 0, the best promoted from the round before after that. */
  size: number;
  /** Epochs each of them has trained when the round ends, counted from the trial's first epoch. */
  epochs: number;
}

export interface BracketPlan {
  /** Position in the plan, the order brackets are opened in; TrialRecord.bracket holds it. */
  index: number;
  iteration: number;
  /** Keras Tuner's bracket_num: rounds - 1; the largest is the most aggressive (most trials, fewest epochs). */
  bracketNum: number;
  rounds: RoundPlan[];
}

export interface HyperbandPlan {
  maxEpochs: number;
  factor: number;
  hyperbandIterations: number;
  seed: number;
  brackets: BracketPlan[];
  /** Models built (round-0 trials) over the whole plan. */
  models: number;
  /** Epochs trained over the whole plan, promoted trials continuing from their checkpoints. */
  epochs: number;
}

/**
 * The brackets and rounds Keras Tuner's HyperbandOracle runs, with its formulas (_get_num_brackets, _get_size,
 * _get_epochs) computed in the same floating-point order, so the numbers are its numbers.
 */
export function planHyperband({ maxEpochs, factor = 3, hyperbandIterations = 1, seed }: HyperbandOptions): HyperbandPlan {
  for (const [name, v, min] of [
    ["maxEpochs", maxEpochs, 1],
    ["factor", factor, 2],
    ["hyperbandIterations", hyperbandIterations, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new UserError(`hyperband ${name} must be a whole number >= ${min}, got ${v}`);
  }
  let numBrackets = 0;
  for (let e = maxEpochs; e >= 1; e /= factor) numBrackets++;
  // ceil(1 + log_factor(maxEpochs)) in integers: V8's Math.log is an ulp away from glibc's for some powers
  // (log(81) / log(3) is 4.000000000000001 here and 4 in Python), which would add trials Keras Tuner does not run.
  let logCeil = 0;
  while (factor ** logCeil < maxEpochs) logCeil++;
  const bracket0EndSize = 1 + logCeil;
  const size = (b: number, r: number): number => Math.ceil((bracket0EndSize / (b + 1)) * factor ** (b - r));
  const epochs = (b: number, r: number): number => Math.ceil(maxEpochs / factor ** (b - r));

  const brackets: BracketPlan[] = [];
  for (let iteration = 0; iteration < hyperbandIterations; iteration++) {
    for (let b = numBrackets - 1; b >= 0; b--) {
      const rounds = Array.from({ length: b + 1 }, (_, r) => ({ size: size(b, r), epochs: epochs(b, r) }));
      brackets.push({ index: brackets.length, iteration, bracketNum: b, rounds });
    }
  }
  const spent = (rounds: RoundPlan[]): number => rounds.reduce((n, r, i) => n + r.size * (r.epochs - (rounds[i - 1]?.epochs ?? 0)), 0);
  return {
    maxEpochs,
    factor,
    hyperbandIterations,
    seed,
    brackets,
    models: brackets.reduce((n, b) => n + b.rounds[0]!.size, 0),
    epochs: brackets.reduce((n, b) => n + spent(b.rounds), 0),
  };
}

const score = (study: StudyState, t: TrialRecord): number | undefined => bestOf(t.history, study.objective.direction)?.value;

/**
 * The next step inside one bracket, or undefined. Round r takes the best completed trial of round r - 1 once
 * it is sure to be in that round's top `size` whatever the unfinished trials score: with no failures this is
 * Keras Tuner's test `candidates > past_size - size`; a failed trial counts as the worst result.
 */
function bracketAction(study: StudyState, plan: BracketPlan, members: TrialRecord[], next: () => Params | undefined): Action | undefined {
  const round0 = plan.rounds[0]!;
  let prevClosed = members.length >= round0.size;
  if (!prevClosed) {
    const params = next();
    if (params) {
      const id = trialId(study.trials.length);
      return { kind: "start", trialId: id, params, epochs: round0.epochs, bracket: plan.index, round: 0 };
    }
    prevClosed = true; // the space is used up: round 0 stays short
  }
  for (let r = 1; r < plan.rounds.length; r++) {
    const sitting = members.filter((t) => t.round === r - 1);
    const candidates = sitting.filter((t) => t.status === "completed");
    const busy = sitting.filter(isBusy).length;
    const inRound = members.filter((t) => t.round >= r).length;
    const slots = plan.rounds[r]!.size - inRound;
    const stillComing = prevClosed ? 0 : plan.rounds[r - 1]!.size - members.filter((t) => t.round >= r - 1).length;
    if (slots > 0 && candidates.length > 0 && busy + stillComing < slots) {
      const best = candidates.slice().sort((a, b) => compareScores(score(study, a), score(study, b), study.objective.direction))[0]!;
      return { kind: "continue", trialId: best.id, fromEpoch: best.history.length, toEpoch: plan.rounds[r]!.epochs, round: r };
    }
    prevClosed = slots <= 0 || (prevClosed && busy === 0 && candidates.length === 0);
  }
  return undefined;
}

/**
 * Keras Tuner's Hyperband oracle as a sampler: it proposes both new trials (seeded random draws, bracket by bracket)
 * and the continuation of the best trials of a round from their checkpoints (successive halving). It never stops a
 * running trial, which is a pruner's job: a trial simply is not continued. As in Keras Tuner, brackets run in plan
 * order and the next bracket is opened as soon as the open ones can do nothing but wait, so parallel workers stay busy.
 *
 * Reproducible under parallel workers without a barrier (issue 21, part 5): a bracket opens only once every trial of
 * the one before has started, so trial k's bracket and params depend on k alone; and a round takes a trial only when
 * it is in that round's top whatever the unfinished trials score, so each round holds the same trials whichever
 * worker finished first. Timing changes only the order of the steps, never the table.
 */
export class HyperbandSampler implements Sampler {
  readonly plan: HyperbandPlan;

  constructor(spec: HyperbandSpec) {
    this.plan = planHyperband(spec);
  }

  nextAction(study: StudyState): Action {
    const resume = resumeAction(study);
    if (resume) return resume;
    const plan = this.plan;
    // Drawn at most once a call, and only when some bracket starts a trial: the duplicate check reads every trial.
    let drawn: Params | undefined | null = null;
    const next = (): Params | undefined => {
      if (drawn === null) drawn = uniqueTrialParams(study.space, plan.seed, study.trials.length, takenParams(study));
      return drawn;
    };

    const opened = study.trials.reduce((n, t) => Math.max(n, t.bracket + 1), 0);
    for (const bracket of plan.brackets.slice(0, opened)) {
      const action = bracketAction(
        study,
        bracket,
        study.trials.filter((t) => t.bracket === bracket.index),
        next,
      );
      if (action) return action;
    }
    const fresh = plan.brackets[opened];
    if (fresh) {
      const action = bracketAction(study, fresh, [], next);
      if (action) return action;
    }
    return study.trials.some(isBusy) ? { kind: "wait" } : { kind: "done" };
  }
}
