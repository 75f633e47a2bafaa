// An optimizer's state in Keras 3's layout, both ways. Keras's `.keras` keeps it in model.weights.h5 under
// optimizer/vars/<i>: 0 the iteration count (int64), 1 the learning rate, then the slots in the order Keras's build
// makes them (read from keras/src/optimizers, checked against Keras 3.15's saved files): per model variable, its
// kinds side by side (Adam's momentum, velocity of the kernel, then of the bias), except RMSprop, which makes all
// velocities and then all momentums; Nadam ends with its u_product. Keras's load_model loads them only when their
// count is its own, so a file with another layout is not a partial resume but a fresh optimizer with a warning.
// This project keeps the slots as tfjs does, kind by kind ([iter, …m, …v]), each in the values Keras would have, but
// for SGD's momentum: tfjs's velocity is in gradient units (a ← μa + g; x ← x − lr·a), Keras's in parameter units
// (m ← μm − lr·g; x ← x + m), so m = −lr·a at the rate of the next step.
import type { OptimizerName } from "../config/optimizers";
import type { OptimizerSlot, OptimizerState } from "../optimizers/state";

/** One of Keras's optimizer variables as model.weights.h5 stores it. */
export interface KerasOptimizerVariable {
  data: Float32Array | BigInt64Array;
  shape: number[];
}

/** What decides Keras's layout: the optimizer's name and whether SGD or RMSprop keep a momentum. */
export interface KerasOptimizerKind {
  optimizer: OptimizerName;
  momentum?: number;
}

/** Keras's u_t of Nadam (keras/src/optimizers/nadam.py: β₁·(1 − ½·0.96^t)), whose product over the steps it keeps. */
const nadamU = (beta1: number, t: number): number => beta1 * (1 - 0.5 * 0.96 ** t);
const NADAM_BETA1 = 0.9;

interface Layout {
  /** Slot kinds this project keeps per variable (tfjs's RMSprop always keeps its momentum slot). */
  ours: number;
  /** Of those, the ones Keras keeps, in its order per variable. */
  keras: number;
  /** Keras makes all slots of one kind before the next (RMSprop) instead of per variable. */
  byKind?: boolean;
  /** SGD's velocity: Keras's value is −lr times ours. */
  velocity?: boolean;
  /** Nadam's trailing u_product scalar. */
  uProduct?: boolean;
}

function layoutOf(kind: KerasOptimizerKind): Layout {
  const momentum = (kind.momentum ?? 0) > 0;
  switch (kind.optimizer) {
    case "sgd":
      return momentum ? { ours: 1, keras: 1, velocity: true } : { ours: 0, keras: 0 };
    case "rmsprop":
      return { ours: 2, keras: momentum ? 2 : 1, byKind: true };
    case "adagrad":
      return { ours: 1, keras: 1 };
    case "nadam":
      return { ours: 2, keras: 2, uProduct: true };
    default:
      return { ours: 2, keras: 2 };
  }
}

/**
 * `state` (this project's snapshot, for a model of `shapes` trainable variables) as Keras's optimizer variables, the
 * next step at `learningRate`; or the sentence saying why Keras could not continue from it.
 */
export function toKerasOptimizerVariables(
  state: OptimizerState,
  kind: KerasOptimizerKind,
  learningRate: number,
  shapes: number[][],
): KerasOptimizerVariable[] | string {
  const layout = layoutOf(kind);
  const n = shapes.length;
  if (state.slots.length !== layout.ours * n)
    return `its ${state.className} state has ${state.slots.length} slots, expected ${layout.ours * n} for ${n} trainable variables`;
  const bad = state.slots.findIndex((s, i) => s.shape.join() !== shapes[i % n]!.join());
  if (bad >= 0)
    return `its slot ${state.slots[bad]!.name} has shape [${state.slots[bad]!.shape}], the model's variable [${shapes[bad % n]}]`;
  const slot = (k: number, v: number): KerasOptimizerVariable => {
    const s = state.slots[k * n + v]!;
    return { data: layout.velocity ? s.values.map((x) => -learningRate * x) : s.values, shape: s.shape };
  };
  const slots: KerasOptimizerVariable[] = [];
  if (layout.byKind) for (let k = 0; k < layout.keras; k++) for (let v = 0; v < n; v++) slots.push(slot(k, v));
  else for (let v = 0; v < n; v++) for (let k = 0; k < layout.keras; k++) slots.push(slot(k, v));
  const scalar = (x: number): KerasOptimizerVariable => ({ data: Float32Array.of(x), shape: [] });
  let uProduct = 1;
  for (let t = 1; t <= state.iterations; t++) uProduct *= nadamU(NADAM_BETA1, t);
  return [
    { data: BigInt64Array.of(BigInt(state.iterations)), shape: [] },
    scalar(learningRate),
    ...slots,
    ...(layout.uProduct ? [scalar(uProduct)] : []),
  ];
}

/**
 * Keras's optimizer variables (optimizer/vars/0…) as this project's state for an optimizer of class `className`
 * on a model with trainable variables `variables` (name, shape); or the sentence saying why they do not fit.
 */
export function fromKerasOptimizerVariables(
  vars: KerasOptimizerVariable[],
  kind: KerasOptimizerKind,
  className: string,
  variables: { name: string; shape: number[] }[],
): OptimizerState | string {
  const layout = layoutOf(kind);
  const n = variables.length;
  const expected = 2 + layout.keras * n + (layout.uProduct ? 1 : 0);
  if (vars.length !== expected)
    return `Keras saved ${vars.length} optimizer variables, ${kind.optimizer} on ${n} trainable variables has ${expected}`;
  const iterations = Number(vars[0]!.data[0]);
  const learningRate = Number(vars[1]!.data[0]);
  const kerasSlot = (k: number, v: number): KerasOptimizerVariable => vars[2 + (layout.byKind ? k * n + v : v * layout.keras + k)]!;
  const slots: OptimizerSlot[] = [];
  for (let k = 0; k < layout.ours; k++) {
    for (let v = 0; v < n; v++) {
      const { name, shape } = variables[v]!;
      const size = shape.reduce((a, b) => a * b, 1);
      // tfjs's RMSprop keeps a momentum slot Keras does not make at momentum 0: it stays at zero.
      const saved = k < layout.keras ? kerasSlot(k, v) : { data: new Float32Array(size), shape };
      if (saved.shape.join() !== shape.join()) return `Keras's slot for ${name} has shape [${saved.shape}], the variable [${shape}]`;
      const values = Float32Array.from(saved.data as Float32Array);
      slots.push({ name: `${name}/${k}`, shape, values: layout.velocity ? values.map((x) => -x / learningRate) : values });
    }
  }
  return { className, iterations, slots };
}
