import * as tf from "@tensorflow/tfjs";

/** AdamW's hyperparameters; each defaults to Keras 3's `keras.optimizers.AdamW`. */
export interface AdamWArgs {
  /** Step size; Keras's default 0.001. */
  learningRate?: number;
  /**
   * Decoupled weight decay: each step first shrinks every variable by learningRate·weightDecay of
   * itself, outside the gradient (Loshchilov & Hutter). Keras's default 0.004. 0 gives Keras's Adam.
   */
  weightDecay?: number;
  /** Decay rate of the first-moment average; Keras's default 0.9. */
  beta1?: number;
  /** Decay rate of the second-moment average; Keras's default 0.999. */
  beta2?: number;
  /** Keras's "epsilon hat", added to √v before the bias correction is folded into the step; default 1e-7. */
  epsilon?: number;
}

/**
 * Adam with decoupled weight decay, as Keras 3 runs it (keras/src/optimizers/adamw.py is Adam with
 * `weight_decay`; the decay is BaseOptimizer._apply_weight_decay, applied before the Adam step with the
 * same learning rate, to every variable that has a gradient, biases included). With t = iterations + 1:
 *
 *   x ← x - lr·wd·x
 *   m ← m + (g - m)(1 - β₁)              v ← v + (g² - v)(1 - β₂)
 *   x ← x - α·m / (√v + ε)               α = lr·√(1 - β₂^t) / (1 - β₁^t)
 *
 * ε sits on the uncorrected √v (Keras), not on √v̂ as in tfjs's Adam, so with weightDecay 0 this is
 * Keras's Adam exactly. Slots are kept per position in the gradient list with tfjs's getWeights layout
 * ([iter, …m, …v]).
 */
export class AdamWOptimizer extends tf.Optimizer {
  /** The name Keras and the tfjs serialization registry know this optimizer by. */
  static get className(): string {
    return "AdamW";
  }

  learningRate: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  private firstMoments: Slot[] = [];
  private secondMoments: Slot[] = [];

  constructor(args: AdamWArgs = {}) {
    super();
    this.learningRate = args.learningRate ?? 0.001;
    this.weightDecay = args.weightDecay ?? 0.004;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    checkHyperparameters("AdamW", this);
    if (!(Number.isFinite(this.weightDecay) && this.weightDecay >= 0)) {
      throw new Error(`AdamW: weightDecay must be a finite number >= 0, got ${this.weightDecay}`);
    }
  }

  /** Changes the step size for the following steps (a learning-rate schedule calls this); the decay follows it. */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const { alpha, decay } = adamwStepScalars(this, this.iterations);
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value == null) throw new Error(`AdamW: no variable named "${name}" is registered`);
        this.firstMoments[i] ??= zeroSlot(value, `${name}/m`);
        this.secondMoments[i] ??= zeroSlot(value, `${name}/v`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = this.firstMoments[i]!.variable;
        const v = this.secondMoments[i]!.variable;
        const decayed = decay === 0 ? value : tf.sub(value, tf.mul(value, decay));
        const newM = tf.add(m, tf.mul(tf.sub(gradient, m), 1 - this.beta1));
        const newV = tf.add(v, tf.mul(tf.sub(tf.square(gradient), v), 1 - this.beta2));
        m.assign(newM);
        v.assign(newV);
        value.assign(tf.sub(decayed, tf.div(tf.mul(newM, alpha), tf.add(tf.sqrt(newV), this.epsilon))));
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((s) => s.variable));
    this.firstMoments = [];
    this.secondMoments = [];
    super.dispose();
  }

  /**
   * [iter, …m, …v] as tfjs's Adam lays them out. The slot tensors are the live variables (tfjs's
   * convention): read or copy them, do not dispose them. The `iter` scalar is new; its caller owns it.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const slots = [...this.firstMoments, ...this.secondMoments];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  /** Restores what getWeights() returned; the next step continues exactly where that optimizer was. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(checkWeightCount("AdamW", weightValues));
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((s) => s.variable));
    const half = slots.length / 2;
    this.firstMoments = slots.slice(0, half).map(toSlot);
    this.secondMoments = slots.slice(half).map(toSlot);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      weightDecay: this.weightDecay,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      learningRate: config.learningRate,
      weightDecay: config.weightDecay,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.epsilon,
    } satisfies Record<keyof AdamWArgs, tf.serialization.ConfigDictValue | undefined>);
  }
}

tf.serialization.registerClass(AdamWOptimizer);

/**
 * The step size and decay factor of the step after `iterations` steps. They depend only on t and lr;
 * computing them in JS (float64) keeps a resumed run identical to an uninterrupted one, where tfjs's Adam
 * carries β^t in float32 variables. The native step (lib/engine/native) takes the same numbers.
 */
export function adamwStepScalars(
  h: { learningRate: number; weightDecay: number; beta1: number; beta2: number },
  iterations: number,
): { alpha: number; decay: number } {
  const t = iterations + 1;
  return {
    alpha: (h.learningRate * Math.sqrt(1 - h.beta2 ** t)) / (1 - h.beta1 ** t),
    decay: h.learningRate * h.weightDecay,
  };
}

// Shared with Nadam, which keeps the same two moments in the same layout.

/** tfjs's { name, tensor } pair of getWeights/applyGradients (tfjs-core does not export the type). */
export type NamedTensor = Awaited<ReturnType<tf.Optimizer["getWeights"]>>[number];

/** A slot variable and the name tfjs's getWeights gives it (`<variable>/m`), as tfjs's own optimizers keep them. */
export interface Slot {
  originalName: string;
  variable: tf.Variable;
}

export function zeroSlot(value: tf.Variable, originalName: string): Slot {
  // tidy frees the zeros tensor; the variable holds its own reference to the data.
  return { originalName, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
}

/** A slot backed by a restored weight; the variable takes its own reference, so the caller may dispose the weight. */
export function toSlot(weight: NamedTensor): Slot {
  return { originalName: weight.name, variable: weight.tensor.variable(false) };
}

/** Throws unless the weights are an iteration count followed by an m and a v slot per variable. */
export function checkWeightCount(optimizer: string, weights: NamedTensor[]): NamedTensor[] {
  if (weights.length === 0 || (weights.length - 1) % 2 !== 0) {
    throw new Error(
      `${optimizer}.setWeights: expected the iteration count then an m and a v slot per variable ` +
        `(an odd count), got ${weights.length} weights`,
    );
  }
  return weights;
}

/** Throws on a hyperparameter outside Keras's range, naming it and its value. */
export function checkHyperparameters(optimizer: string, h: { learningRate: number; beta1: number; beta2: number; epsilon: number }): void {
  const check = (name: string, value: number, ok: boolean, expected: string): void => {
    if (!ok) throw new Error(`${optimizer}: ${name} must be ${expected}, got ${value}`);
  };
  check("learningRate", h.learningRate, Number.isFinite(h.learningRate) && h.learningRate >= 0, "a finite number >= 0");
  check("beta1", h.beta1, h.beta1 >= 0 && h.beta1 < 1, "in [0, 1)");
  check("beta2", h.beta2, h.beta2 >= 0 && h.beta2 < 1, "in [0, 1)");
  check("epsilon", h.epsilon, Number.isFinite(h.epsilon) && h.epsilon >= 0, "a finite number >= 0");
}
