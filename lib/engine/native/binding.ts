import * as tf from "@tensorflow/tfjs";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { NativeTrainer } from "./addon";
import type { WeightHandle } from "../../model/dense-stack";
import type { OptimizerPlan } from "./slots";

/*
 * Hands the trainer the Float32Arrays behind the tfjs variables (weights, optimizer slots and state, BN's
 * moving statistics),
 * and keeps that true. tfjs treats a tensor's data as immutable and shares it freely: clone(), reshape
 * and Variable.assign(t) all point two tensors at one buffer. Writing in place is only safe while the
 * variable is the buffer's sole owner, so before every step each bound variable is checked (same object,
 * same dataId, reference count 1); if anything changed (setWeights, a checkpoint's clone, an optimizer's
 * setWeights) the variable first gets a private copy (copy-on-write) and the trainer is rebound.
 */

/** What one binding watches: where the variable comes from now, and what it was when bound. */
interface Watched {
  current: () => tf.Variable | undefined;
  variable: tf.Variable;
  dataId: object;
}

export class VariableBinding {
  private watched: Watched[] = [];

  constructor(
    private readonly backend: MathBackendCPU,
    private readonly trainer: NativeTrainer,
    private readonly weights: WeightHandle[],
    private readonly plan: OptimizerPlan,
    private readonly buffers: WeightHandle[] = [],
  ) {}

  /** Rebinds when any watched variable moved to other data or shares it; a few property reads otherwise. */
  refresh(): void {
    if (this.watched.length === 0 || this.watched.some((w) => this.stale(w))) this.bindAll();
  }

  bindAll(): void {
    this.watched = [];
    this.weights.forEach((handle, i) => {
      const variable = handle.read() as tf.Variable;
      const values = this.own(variable, () => handle.read() as tf.Variable);
      const { update } = this.plan;
      const slots = update.slotKinds.map((_, k) => this.own(update.slot(k, i, variable), () => update.currentSlot(k, i)));
      this.trainer.bindVariable(i, values, slots);
    });
    for (let i = 0; i < this.plan.update.stepVariableCount; i++) {
      const current = () => this.plan.update.stepVariable(i);
      this.trainer.bindState(i, this.own(current(), current));
    }
    this.buffers.forEach((handle, i) => {
      this.trainer.bindBuffer(
        i,
        this.own(handle.read() as tf.Variable, () => handle.read() as tf.Variable),
      );
    });
  }

  private stale(w: Watched): boolean {
    const v = w.current();
    return v !== w.variable || v.dataId !== w.dataId || this.backend.refCount(w.dataId) !== 1;
  }

  /** The variable's own Float32Array in this backend, copying it first if it is shared or elsewhere. */
  private own(variable: tf.Variable, current: () => tf.Variable | undefined): Float32Array {
    if (variable.dtype !== "float32") throw new Error(`native step: variable ${variable.name} is ${variable.dtype}, expected float32`);
    if (!this.isPrivate(variable)) {
      const copy = tf.tensor(Float32Array.from(variable.dataSync() as Float32Array), variable.shape, "float32");
      variable.assign(copy);
      copy.dispose();
    }
    this.watched.push({ current, variable, dataId: variable.dataId });
    return this.backend.data.get(variable.dataId).values as Float32Array;
  }

  private isPrivate(variable: tf.Variable): boolean {
    // data.has first: data.get on another backend's dataId would move the data as a side effect.
    if (!this.backend.data.has(variable.dataId)) return false;
    const entry = this.backend.data.get(variable.dataId);
    return entry.refCount === 1 && entry.values instanceof Float32Array;
  }
}
