// What a training loop tells its callbacks, in Keras's words: the per-epoch logs, the History it returns, and the
// state a checkpoint saves for a resume.
import type { PlateauState } from "../schedules";
import type { TrainingEngine } from "../engine-choice";

/** Keras's History keys; `val_*` appear only when validation data is given. */
export type Logs = Record<string, number>;

export interface History {
  /** 0-based epoch indices, as Keras's `history.epoch`. */
  epoch: number[];
  /** One value per epoch for each metric: loss, accuracy, val_loss, val_accuracy. */
  history: Record<string, number[]>;
  params: { epochs: number; steps: number; batchSize: number; samples: number };
  /** True when training stopped before config.epochs (a callback, early stopping or a signal). */
  stopped?: boolean;
  /** Wall-clock seconds spent in train() (this call; a resumed run adds to the earlier value). */
  seconds?: number;
  /**
   * Set when the loss became NaN or infinite (Keras's TerminateOnNaN): the 0-based epoch and batch where it did, and
   * the loss. The history holds the epochs completed before it.
   */
  diverged?: { epoch: number; batch: number; loss: number };
  /** The engine train() chose for this call (the native fused step, or a tfjs step and its backend). */
  engine?: TrainingEngine;
}

/** Keras-style callbacks; each may be async. Set `model.stopTraining = true` to stop after the current batch. */
export interface TrainCallbacks {
  onTrainBegin?: (params: History["params"]) => void | Promise<void>;
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onTrainEnd?: (history: History) => void | Promise<void>;
}

/** What a resumed run needs besides weights, optimizer slots and history (JSON-safe); train() rewrites it each epoch. */
export interface TrainState {
  /** ReduceLROnPlateau's position, for lrSchedule "reduce_on_plateau". */
  plateau?: PlateauState;
}
