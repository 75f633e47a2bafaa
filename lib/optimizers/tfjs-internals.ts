import * as tf from "@tensorflow/tfjs";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import {
  checkLearningRate,
  type InPlaceUpdate,
  type NamedTensor,
  type OptimizerVariables,
  restoreWeights,
  type Slot,
  type SlotKind,
  slotIn,
  snapshotWeights,
  type UpdateRule,
} from "./state";
import { checkWeightCount, toSlot, zeroSlot } from "./two-moments";
import { UserError } from "../errors/user-error";

/*
 * The one module that knows where tfjs's own optimizers keep their state: private and protected fields of
 * tfjs-core 4.22's classes (dist/optimizers/*_optimizer.js), which no public API exposes and any tfjs release may
 * rename. Everything else asks through OptimizerVariables (./state.ts). Before it touches a field it checks that
 * the installed tfjs-core is the version the field names were read from, and refuses any other with a sentence.
 */

/** The tfjs-core version whose optimizer fields this module names. */
export const TFJS_VERSION_WRITTEN_FOR = "4.22.0";

/** Thrown when the installed tfjs-core is not the version this module was written for. */
export class TfjsVersionError extends UserError {
  override name = "TfjsVersionError";
}

let versionChecked = false;

/** Throws TfjsVersionError unless `installed` (default: the loaded tfjs-core's) is TFJS_VERSION_WRITTEN_FOR. */
export function checkTfjsVersion(installed: string = tf.version_core): void {
  if (installed === TFJS_VERSION_WRITTEN_FOR) return;
  throw new TfjsVersionError(
    `@tensorflow/tfjs-core ${installed} is installed, but lib/optimizers/tfjs-internals.ts reads the private optimizer ` +
      `fields of ${TFJS_VERSION_WRITTEN_FOR}; install @tensorflow/tfjs ${TFJS_VERSION_WRITTEN_FOR} (the version package.json pins) ` +
      "or check those fields in the new version and update the module",
  );
}

/** An optimizer's (or model's) fields by name, after the version check: the only door to tfjs's private state. */
function fieldsOf(object: tf.Optimizer | tf.LayersModel): Record<string, unknown> {
  if (!versionChecked) {
    checkTfjsVersion();
    versionChecked = true;
  }
  return object as unknown as Record<string, unknown>;
}

/** Makes `model` dispose its optimizer with itself, as tfjs does for an optimizer it built from one of its names. */
export function giveOptimizerToModel(model: tf.LayersModel): void {
  fieldsOf(model).isOptimizerOwned = true;
}

function numberField(optimizer: tf.Optimizer, field: string): number {
  const value = fieldsOf(optimizer)[field];
  if (typeof value !== "number") throw new Error(`${optimizer.getClassName()}: has no ${field} to read`);
  return value;
}

/** A slot list field of a tfjs optimizer, created empty when the optimizer has not stepped yet. */
function slotList(optimizer: tf.Optimizer, field: string): (Slot | undefined)[] {
  const fields = fieldsOf(optimizer);
  fields[field] ??= [];
  return fields[field] as (Slot | undefined)[];
}

/** Where one tfjs optimizer class keeps its state, and its update as the native engine runs it. */
interface Layout {
  /** Slot fields and kinds in getWeights() order. */
  slots(optimizer: tf.Optimizer): { field: string; kind: SlotKind }[];
  /** Fields of optimizer-wide scalar variables the update advances. */
  stepFields: string[];
  rule(optimizer: tf.Optimizer): UpdateRule;
}

const lr = (o: tf.Optimizer): number => numberField(o, "learningRate");
const withHyper = (o: tf.Optimizer, names: string[]): Record<string, number> =>
  Object.fromEntries(names.map((n) => [n, numberField(o, n)]));

const SGD: Layout = { slots: () => [], stepFields: [], rule: (o) => ({ kind: "sgd", learningRate: lr(o) }) };

const MOMENTUM: Layout = {
  slots: () => [{ field: "accumulations", kind: { suffix: "momentum" } }],
  stepFields: [],
  rule: (o) => ({
    kind: "momentum",
    learningRate: lr(o),
    momentum: numberField(o, "momentum"),
    nesterov: Boolean(fieldsOf(o).useNesterov),
  }),
};

const ADAM: Layout = {
  slots: () => [
    { field: "accumulatedFirstMoment", kind: { suffix: "m" } },
    { field: "accumulatedSecondMoment", kind: { suffix: "v" } },
  ],
  stepFields: ["accBeta1", "accBeta2"],
  rule: (o) => ({ kind: "adam", learningRate: lr(o), ...withHyper(o, ["beta1", "beta2", "epsilon"]) }),
};

const RMSPROP: Layout = {
  slots: (o) => [
    { field: "accumulatedMeanSquares", kind: { suffix: "rms" } },
    { field: "accumulatedMoments", kind: { suffix: "momentum" } },
    ...(fieldsOf(o).centered ? [{ field: "accumulatedMeanGrads", kind: { suffix: "mg" } }] : []),
  ],
  stepFields: [],
  rule: (o) => ({
    kind: "rmsprop",
    learningRate: lr(o),
    ...withHyper(o, ["decay", "momentum", "epsilon"]),
    centered: Boolean(fieldsOf(o).centered),
  }),
};

const ADAMAX: Layout = {
  slots: () => [
    { field: "accumulatedFirstMoment", kind: { suffix: "m" } },
    { field: "accumulatedWeightedInfNorm", kind: { suffix: "v" } },
  ],
  stepFields: ["iteration", "accBeta1"],
  rule: (o) => ({ kind: "adamax", learningRate: lr(o), ...withHyper(o, ["beta1", "beta2", "epsilon", "decay"]) }),
};

const ADAGRAD: Layout = {
  slots: (o) => [{ field: "accumulatedGrads", kind: { suffix: "accumulator", initial: numberField(o, "initialAccumulatorValue") } }],
  stepFields: [],
  // tfjs's Adagrad takes ε from the backend at each step.
  rule: (o) => ({ kind: "adagrad", learningRate: lr(o), epsilon: tf.backend().epsilon() }),
};

const KERAS_ADADELTA: Layout = {
  slots: () => [
    { field: "accumulatedGrads", kind: { suffix: "accum_grad" } },
    { field: "accumulatedUpdates", kind: { suffix: "accum_var" } },
  ],
  stepFields: [],
  rule: (o) => ({ kind: "adadelta", learningRate: lr(o), ...withHyper(o, ["rho", "epsilon"]) }),
};

/**
 * Whether `optimizer` is a `cls` (or a subclass). Not instanceof: tfjs's Optimizer defines
 * Symbol.hasInstance as "has minimize, computeGradients and applyGradients", which every optimizer has.
 */
function isA<T extends object>(optimizer: tf.Optimizer, cls: abstract new (...args: never[]) => T): optimizer is tf.Optimizer & T {
  return Object.prototype.isPrototypeOf.call(cls.prototype, optimizer);
}

/** tfjs's layout of `optimizer`'s class, or why the native engine cannot run it. */
function layoutOf(optimizer: tf.Optimizer): Layout | string {
  // Subclasses first: KerasAdadelta is a tfjs AdadeltaOptimizer with another update rule.
  if (isA(optimizer, KerasAdadelta)) return KERAS_ADADELTA;
  if (isA(optimizer, tf.AdadeltaOptimizer))
    return "tfjs's own Adadelta (E[g²] of the previous step in the denominator) is not covered by the native step; createOptimizer's Keras Adadelta is";
  // MomentumOptimizer extends SGDOptimizer, so it comes first; the other classes extend Optimizer directly.
  const known: [abstract new (...args: never[]) => tf.Optimizer, Layout][] = [
    [tf.MomentumOptimizer, MOMENTUM],
    [tf.SGDOptimizer, SGD],
    [tf.AdamOptimizer, ADAM],
    [tf.RMSPropOptimizer, RMSPROP],
    [tf.AdamaxOptimizer, ADAMAX],
    [tf.AdagradOptimizer, ADAGRAD],
  ];
  const match = known.find(([cls]) => isA(optimizer, cls));
  return (
    match?.[1] ??
    `optimizer ${optimizer.getClassName()} is not covered by the native step (SGD, Momentum, Adam, RMSProp, Nadam, AdamW, Adamax, Adagrad and Keras's Adadelta are)`
  );
}

/** The in-place update of a tfjs optimizer laid out as `layout`: its own slot lists and scalar variables. */
function inPlaceUpdate(optimizer: tf.Optimizer, layout: Layout): InPlaceUpdate {
  const slots = layout.slots(optimizer);
  return {
    slotKinds: slots.map((s) => s.kind),
    slot: (kind, index, variable) =>
      slotIn(slotList(optimizer, slots[kind]!.field), index, slots[kind]!.kind, variable, optimizer.getClassName()),
    currentSlot: (kind, index) => (fieldsOf(optimizer)[slots[kind]!.field] as (Slot | undefined)[] | undefined)?.[index]?.variable,
    stepVariableCount: layout.stepFields.length,
    stepVariable: (i) => {
      const v = fieldsOf(optimizer)[layout.stepFields[i]!];
      if (!(v instanceof tf.Variable))
        throw new Error(`${optimizer.getClassName()}: expected a variable in its ${layout.stepFields[i]} field`);
      return v;
    },
    rule: () => layout.rule(optimizer),
  };
}

/** OptimizerVariables for one of tfjs's optimizers (or any other class; then the native engine is refused). */
export function tfjsOptimizerVariables(optimizer: tf.Optimizer): OptimizerVariables {
  const fields = fieldsOf(optimizer);
  const layout = layoutOf(optimizer);
  const className = optimizer.getClassName();
  return {
    className,
    learningRate: () => numberField(optimizer, "learningRate"),
    setLearningRate: (learningRate) => {
      checkLearningRate(className, learningRate);
      if (isA(optimizer, tf.MomentumOptimizer)) keepVelocity(optimizer, numberField(optimizer, "learningRate"), learningRate);
      // SGD and Momentum cache −lr in a scalar tensor, so they go through their own setLearningRate; the others
      // read the field every step.
      if (typeof fields.setLearningRate === "function") (fields.setLearningRate as (lr: number) => void).call(optimizer, learningRate);
      else if (typeof fields.learningRate === "number") fields.learningRate = learningRate;
      else throw new Error(`${className}: has no learningRate to set`);
    },
    iterations: () => optimizer.iterations,
    countStep: () => (fields.incrementIterations as () => void).call(optimizer),
    snapshot: () => snapshotWeights(optimizer),
    restore: (state) => restoreWeights(optimizer, state),
    inPlace: typeof layout === "string" ? layout : inPlaceUpdate(optimizer, layout),
  };
}

/**
 * Keras's velocity is in parameter units (m ← μm − lr·g; x ← x + m), tfjs's Momentum keeps it in gradient units
 * (a ← μa + g; x ← x − lr·a), so m = −lr·a. When the rate changes, tfjs would scale the whole accumulated velocity
 * by the new rate where Keras scales only the new gradient's share: against Keras an ExponentialDecay with momentum
 * 0.9 ended 4.6e-2 apart in 24 steps. Rescaling a by before/after keeps m = −lr·a across the change, so every
 * step is Keras's. A rate of 0 has no such a (Keras's velocity still coasts there; tfjs's stands still): skipped.
 */
function keepVelocity(optimizer: tf.MomentumOptimizer, before: number, after: number): void {
  if (before === after || before === 0 || after === 0) return;
  for (const slot of slotList(optimizer, "accumulations")) {
    if (slot && !scaleInPlace(slot.variable, before / after)) tf.tidy(() => slot.variable.assign(tf.mul(slot.variable, before / after)));
  }
}

/**
 * variable ← variable·factor in its own buffer on the cpu-derived backends (cpu, native), as tf.mul would round it.
 * A schedule changes the rate every step, and tf.mul plus assign over the tutorial's 266,610 velocities made a
 * native momentum step with ExponentialDecay 3-4x slower (36-47 ms against 11 ms under load); the loop costs a
 * fraction of a step. False where the buffer is not the variable's alone or not a cpu Float32Array.
 */
function scaleInPlace(variable: tf.Variable, factor: number): boolean {
  const backend = tf.backend();
  if (!(backend instanceof MathBackendCPU)) return false;
  const entry = backend.data.get(variable.dataId);
  if (!entry || entry.refCount !== 1 || !(entry.values instanceof Float32Array)) return false;
  const values = entry.values;
  const f = Math.fround(factor);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * f;
  return true;
}

/** β^(n+1) as tfjs's Adam and Adamax carry it after n steps: β, then one float32 multiply by β per step. */
function float32Power(beta: number, steps: number): number {
  const b = Math.fround(beta);
  let power = b;
  for (let i = 0; i < steps; i++) power = Math.fround(power * b);
  return power;
}

/** tfjs's Adam whose setWeights continues bit for bit (see ./index.ts) and frees the slots it replaces. */
export class ResumableAdam extends tf.AdamOptimizer {
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const self = fieldsOf(this);
    const old = [...(self.accumulatedFirstMoment as Slot[]), ...(self.accumulatedSecondMoment as Slot[])].map((s) => s.variable);
    await super.setWeights(weightValues);
    tf.dispose(old);
    tf.tidy(() => {
      (self.accBeta1 as tf.Variable).assign(tf.scalar(float32Power(this.beta1, this.iterations)));
      (self.accBeta2 as tf.Variable).assign(tf.scalar(float32Power(this.beta2, this.iterations)));
    });
  }
}

/** tfjs's Adamax with the getWeights/setWeights it lacks, in Adam's layout: [iter, …m, …u]. */
export class ResumableAdamax extends tf.AdamaxOptimizer {
  override async getWeights(): Promise<NamedTensor[]> {
    const self = fieldsOf(this);
    const slots = [...(self.accumulatedFirstMoment as Slot[]), ...(self.accumulatedWeightedInfNorm as Slot[])];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const self = fieldsOf(this);
    const slots = await this.extractIterations(checkWeightCount("Adamax", weightValues));
    tf.dispose([...(self.accumulatedFirstMoment as Slot[]), ...(self.accumulatedWeightedInfNorm as Slot[])].map((s) => s.variable));
    const half = slots.length / 2;
    self.accumulatedFirstMoment = slots.slice(0, half).map(toSlot);
    self.accumulatedWeightedInfNorm = slots.slice(half).map(toSlot);
    tf.tidy(() => {
      (self.iteration as tf.Variable).assign(tf.scalar(this.iterations));
      (self.accBeta1 as tf.Variable).assign(tf.scalar(float32Power(this.beta1, this.iterations)));
    });
  }
}

/**
 * tfjs's Adadelta with Keras's update (keras/src/optimizers/adadelta.py), ρ and ε as in Zeiler 2012:
 *   E[g²] ← ρE[g²] + (1−ρ)g²      Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)
 *   E[Δ²] ← ρE[Δ²] + (1−ρ)Δ²      x ← x + lr·Δ
 * tfjs uses E[g²] from before this step in Δ's denominator. Its getWeights/setWeights keep working on tfjs's
 * slot lists, which this step fills.
 */
export class KerasAdadelta extends tf.AdadeltaOptimizer {
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const grads = slotList(this, "accumulatedGrads");
    const updates = slotList(this, "accumulatedUpdates");
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value == null) throw new Error(`Adadelta: no variable named "${name}" is registered`);
        const gradSlot = grads[i] ?? zeroSlot(value, `${name}/accum_grad`);
        const updateSlot = updates[i] ?? zeroSlot(value, `${name}/accum_var`);
        grads[i] = gradSlot;
        updates[i] = updateSlot;
        const accumulatedGrad = gradSlot.variable;
        const accumulatedUpdate = updateSlot.variable;
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const newGrad = tf.add(tf.mul(accumulatedGrad, this.rho), tf.mul(tf.square(gradient), 1 - this.rho));
        const rms = (x: tf.Tensor): tf.Tensor => tf.sqrt(tf.add(x, this.epsilon));
        const delta = tf.neg(tf.div(tf.mul(rms(accumulatedUpdate), gradient), rms(newGrad)));
        const newUpdate = tf.add(tf.mul(accumulatedUpdate, this.rho), tf.mul(tf.square(delta), 1 - this.rho));
        accumulatedGrad.assign(newGrad);
        accumulatedUpdate.assign(newUpdate);
        value.assign(tf.add(value, tf.mul(delta, this.learningRate)));
      });
    });
    this.incrementIterations();
  }
}
