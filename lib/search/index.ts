// The tuner's pure core (Keras Tuner's RandomSearch, GridSearch and Hyperband, as in Géron's ch. 10):
// no training, files or tfjs here; a driver applies the actions and records the results.

// Search-space files: parse, turn params into config overrides, hash
export type { JsonValue } from "./json";
export { stableStringify } from "./json";
export type { LayerDefaults, Params, SearchSpace } from "./space";
export {
  BoolParam,
  ChoiceParam,
  FixedParam,
  FloatParam,
  IntParam,
  intCount,
  intValueAt,
  LAYER_KEYS,
  ParamSpec,
  parseSearchSpace,
  SearchSpaceError,
  spaceHash,
  toOverrides,
} from "./space";

// Drawing params: seeded, a function of (seed, trial) only
export type { Uniform } from "./random";
export { MAX_DRAWS, sampleParam, sampleParams, seededSource, trialParams, uniqueTrialParams } from "./random";

// Grids: cartesian product in a fixed order
export { gridPoint, gridPoints, gridSize, paramValues } from "./grid";

// Objectives: direction and best value
export type { Direction, Objective } from "./objective";
export { bestOf, compareScores, objectiveFor } from "./objective";

// Studies: trial records, actions, and the reducers a driver applies
export type { Action, StudyState, TrialRecord, TrialStatus } from "./study";
export {
  applyAction,
  finishTrial,
  MedianStopping,
  recordEpoch,
  releaseTrial,
  resumeAction,
  trialId,
  TRIAL_STATUSES,
  TunerSpec,
} from "./study";

// Tuners: one decision function for all three
export type { BracketPlan, HyperbandOptions, HyperbandPlan, RoundPlan } from "./hyperband";
export { hyperbandAction, planHyperband } from "./hyperband";
export { medianStop, sequentialAction } from "./sequential";
export { nextAction, shouldStop } from "./tuner";

// Results: ranking and table rows
export type { ResultRow } from "./results";
export { bestTrial, rankTrials, resultRows, tableRecords } from "./results";
