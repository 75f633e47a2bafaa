import type * as tf from "@tensorflow/tfjs";
import type { LabeledImages } from "../../data/images";
import type { Logs } from "../../train/callbacks/callback";
import { train } from "../../train/fit";
import { bestOf, type Objective, objectiveFor } from "../core/objective";
import { type ResultRow, rankTrials, resultRows } from "../core/results";
import type { ParamSpec } from "../core/space";
import { type Action, applyAction, finishTrial, recordEpoch, type StudyState } from "../core/study";
import { type PrunerName, prunerSpec, type Tuner, TunerSpec, tunerFor } from "../tuner";
import { HyperParameters, registeredSpace } from "./hyperparameters";

/** Keras Tuner's build_model(hp): builds and compiles a model from the trial's hyperparameters. */
export type BuildModel = (hp: HyperParameters) => tf.LayersModel;

export interface HyperTunerOptions {
  /** How trials are chosen: "random" (Keras Tuner's RandomSearch), "grid", or another sampler of the registry. */
  tuner?: string;
  /** Trials to run (grid: at most). Default 10. */
  maxTrials?: number;
  /** Epochs each trial trains (less if pruned). */
  maxEpochs: number;
  /** A history key: val_accuracy (maximised, the default) or val_loss (minimised), ... */
  objective?: string;
  pruner?: PrunerName;
  /** Seeds the draws; training is seeded by each model's own initializers and `seed`. Default 42. */
  seed?: number;
  /** Mini-batch size of every trial's fit. Default 32 (Keras's). */
  batchSize?: number;
  /** Models kept in memory for getBestModels, best first; the others are disposed. Default 3. */
  keepModels?: number;
  log?: (s: string) => void;
}

/** A finished trial's model, with the weights of its best epoch (Keras Tuner reloads the best checkpoint too). */
interface KeptModel {
  id: string;
  model: tf.LayersModel;
}

/**
 * Keras Tuner's Tuner for a notebook: `new HyperTuner(buildModel, options)`, `await tuner.search(data)`, then
 * resultsSummary, getBestHyperparameters, getBestModels. Trials are chosen by the study's samplers and stopped by its
 * pruners (the same core as `fashion-ann search`), in this process, one after the other; the study is kept in memory.
 * The space is what the build function asks hp for: a parameter first met inside an `if` (Keras Tuner's conditional
 * hyperparameters) gets its default in that trial and is drawn in the next ones, as in Keras Tuner.
 */
export class HyperTuner {
  readonly objective: Objective;
  private study: StudyState;
  private readonly tuner: Tuner;
  private readonly registry = new Map<string, ParamSpec>();
  private kept: KeptModel[] = [];

  constructor(
    private readonly build: BuildModel,
    private readonly options: HyperTunerOptions,
  ) {
    const kind = options.tuner ?? "random";
    const base = { kind, maxEpochs: options.maxEpochs, pruning: prunerSpec(kind, options.pruner ?? "none") };
    const budget =
      kind === "grid" ? { maxTrials: options.maxTrials ?? null } : { maxTrials: options.maxTrials ?? 10, seed: options.seed ?? 42 };
    if (kind === "hyperband") {
      throw new TypeError(
        'HyperTuner runs each trial in one go; use tuner "random" or "grid" with a pruner ("asha" halves like Hyperband)',
      );
    }
    this.tuner = tunerFor(TunerSpec.parse({ ...base, ...budget }));
    this.objective = objectiveFor(options.objective ?? "val_accuracy");
    this.study = { space: {}, objective: this.objective, trials: [] };
  }

  /** Every trial so far, in start order: params (the values its build used), status, objective per epoch, seconds. */
  get trials(): StudyState["trials"] {
    return this.study.trials;
  }

  /** Keras Tuner's tuner.search(x, y, validation_data=...): runs trials until the sampler is done. */
  async search(data: { train: LabeledImages; valid: LabeledImages }): Promise<void> {
    const log = this.options.log ?? console.log;
    for (;;) {
      const action = this.tuner.sampler.nextAction({ ...this.study, space: registeredSpace(this.registry) });
      if (action.kind !== "start") return;
      await this.runTrial(action, data, log);
    }
  }

  private async runTrial(
    action: Extract<Action, { kind: "start" }>,
    data: { train: LabeledImages; valid: LabeledImages },
    log: (s: string) => void,
  ) {
    const hp = new HyperParameters(action.params, this.registry);
    const started = performance.now();
    const model = this.build(hp);
    this.study = applyAction(this.study, { ...action, params: { ...hp.values } });
    const id = action.trialId;
    let pruned = false;
    let bestWeights: tf.Tensor[] | undefined;
    const onEpochEnd = (_epoch: number, logs: Logs) => {
      this.study = recordEpoch(this.study, id, logs[this.objective.name] ?? Number.NaN);
      const history = this.study.trials.find((t) => t.id === id)!.history;
      if (bestOf(history, this.objective.direction)?.epoch === history.length) {
        for (const w of bestWeights ?? []) w.dispose();
        bestWeights = model.getWeights().map((w) => w.clone());
      }
      if (this.tuner.pruner.shouldPrune(this.study, id)) {
        pruned = true;
        model.stopTraining = true;
      }
    };
    const config = { epochs: action.epochs, batchSize: this.options.batchSize ?? 32, seed: this.options.seed ?? 42 };
    await train(model, data, config, { callbacks: { onEpochEnd }, progress: "none" });
    this.study = finishTrial(this.study, id, pruned ? "pruned" : "completed");
    const seconds = (performance.now() - started) / 1000;
    this.study = { ...this.study, trials: this.study.trials.map((t) => (t.id === id ? { ...t, seconds } : t)) };
    if (bestWeights) model.setWeights(bestWeights);
    for (const w of bestWeights ?? []) w.dispose();
    this.keep(id, model);
    const row = resultRows(this.study.trials, this.objective).find((r) => r.trial === id)!;
    log(`${id} ${pruned ? "pruned" : "completed"}${scoreText(row, this.objective)}, ${seconds.toFixed(1)} s ${JSON.stringify(hp.values)}`);
  }

  /** Keeps the best `keepModels` models (by their trials' scores); disposes the rest. */
  private keep(id: string, model: tf.LayersModel): void {
    this.kept.push({ id, model });
    const order = rankTrials(this.study.trials, this.objective).map((t) => t.id);
    this.kept.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    for (const k of this.kept.splice(this.options.keepModels ?? 3)) k.model.dispose();
  }

  /** Keras Tuner's results_summary(num_trials): the best n trials, their hyperparameters and score; printed and returned. */
  resultsSummary(n = 10): string {
    const rows = resultRows(this.study.trials, this.objective).slice(0, n);
    const lines = [
      "Results summary",
      `Showing ${rows.length} best trials`,
      `Objective(name="${this.objective.name}", direction="${this.objective.direction}")`,
      ...rows.flatMap((r) => [
        "",
        `Trial ${r.trial} summary (${r.status}, ${r.epochsRun} epochs${r.seconds === null ? "" : `, ${r.seconds.toFixed(1)} s`})`,
        "Hyperparameters:",
        ...Object.entries(r.params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
        `Score:${scoreText(r, this.objective)}`,
      ]),
    ];
    const text = lines.join("\n");
    (this.options.log ?? console.log)(text);
    return text;
  }

  /** Keras Tuner's get_best_hyperparameters(num_trials): the best n trials' values, best first. */
  getBestHyperparameters(n = 1): HyperParameters[] {
    return resultRows(this.study.trials, this.objective)
      .filter((r) => r.best !== null)
      .slice(0, n)
      .map((r) => HyperParameters.fromValues(r.params));
  }

  /** Keras Tuner's get_best_models(num_models): the best n trials' models at their best epoch (at most keepModels). */
  getBestModels(n = 1): tf.LayersModel[] {
    if (n > (this.options.keepModels ?? 3)) {
      throw new RangeError(
        `getBestModels(${n}): only the best ${this.options.keepModels ?? 3} models are kept; pass keepModels: ${n} to the HyperTuner`,
      );
    }
    return this.kept.slice(0, n).map((k) => k.model);
  }
}

const scoreText = (r: ResultRow, objective: Objective): string =>
  r.best === null ? " (no finite score)" : ` ${objective.name} ${r.best.toFixed(4)} at epoch ${r.bestEpoch} of ${r.epochsRun}`;
