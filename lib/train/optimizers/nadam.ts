import * as tf from "@tensorflow/tfjs";
import { checkHyperparameters, checkWeightCount, toSlot, zeroSlot, type NamedTensor, type Slot } from "./adamw";

/** Nadam's hyperparameters; each defaults to Keras 3's `keras.optimizers.Nadam`. */
export interface NadamArgs {
  /** Step size; Keras's default 0.001. */
  learningRate?: number;
  /** Decay rate of the first-moment (momentum) average; Keras's default 0.9. */
  beta1?: number;
  /** Decay rate of the second-moment average; Keras's default 0.999. */
  beta2?: number;
  /** Added to sqrt(v̂) so a near-zero second moment cannot blow the step up; Keras's default 1e-7. */
  epsilon?: number;
}

/**
 * Dozat's Nesterov-accelerated Adam with the update rule of Keras 3 (keras/src/optimizers/nadam.py), which
 * tfjs 4.22 does not have. With t = iterations + 1 and Keras's momentum schedule
 * u_t = β₁(1 - ½·0.96^t), Π_t = u_1·…·u_t:
 *
 *   m ← m + (g - m)(1 - β₁)              v ← v + (g² - v)(1 - β₂)
 *   m̂ = u_{t+1}·m / (1 - Π_{t+1}) + (1 - u_t)·g / (1 - Π_t)
 *   v̂ = v / (1 - β₂^t)                   x ← x - lr·m̂ / (√v̂ + ε)
 *
 * Slots are kept per position in the gradient list, like tfjs's optimizers, so getWeights() has tfjs's
 * layout ([iter, …m, …v]) and a layers model can save it with `includeOptimizer`.
 */
export class NadamOptimizer extends tf.Optimizer {
  /** The name Keras and the tfjs serialization registry know this optimizer by. */
  static get className(): string {
    return "Nadam";
  }

  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  private firstMoments: Slot[] = [];
  private secondMoments: Slot[] = [];
  /**
   * Π_t, kept in float64. Keras stores it as an optimizer variable; here it is a pure function of the
   * iteration count, so setWeights() recomputes it by the same multiplications and a resumed run
   * continues bit for bit instead of through a float32 round trip.
   */
  private uProduct = 1;

  constructor(args: NadamArgs = {}) {
    super();
    this.learningRate = args.learningRate ?? 0.001;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    checkHyperparameters("Nadam", this);
  }

  /** Changes the step size for the following steps (a learning-rate schedule calls this). */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const { uProductT, momentumWeight, gradientWeight, secondMomentCorrection } = nadamStepScalars(this, this.iterations, this.uProduct);
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value == null) throw new Error(`Nadam: no variable named "${name}" is registered`);
        this.firstMoments[i] ??= zeroSlot(value, `${name}/m`);
        this.secondMoments[i] ??= zeroSlot(value, `${name}/v`);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = this.firstMoments[i]!.variable;
        const v = this.secondMoments[i]!.variable;
        const newM = tf.add(m, tf.mul(tf.sub(gradient, m), 1 - this.beta1));
        const newV = tf.add(v, tf.mul(tf.sub(tf.square(gradient), v), 1 - this.beta2));
        const mHat = tf.add(tf.mul(newM, momentumWeight), tf.mul(gradient, gradientWeight));
        const vHat = tf.div(newV, secondMomentCorrection);
        m.assign(newM);
        v.assign(newV);
        value.assign(tf.sub(value, tf.div(tf.mul(mHat, this.learningRate), tf.add(tf.sqrt(vHat), this.epsilon))));
      });
    });
    this.uProduct = uProductT;
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
    const slots = await this.extractIterations(checkWeightCount("Nadam", weightValues));
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((s) => s.variable));
    const half = slots.length / 2;
    this.firstMoments = slots.slice(0, half).map(toSlot);
    this.secondMoments = slots.slice(half).map(toSlot);
    this.uProduct = 1;
    for (let step = 1; step <= this.iterations; step++) this.uProduct *= momentumCache(this.beta1, step);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      learningRate: config.learningRate,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: config.epsilon,
    } satisfies Record<keyof NadamArgs, tf.serialization.ConfigDictValue | undefined>);
  }
}

tf.serialization.registerClass(NadamOptimizer);

/**
 * The per-step scalars of the step after `iterations` steps, with Π so far `uProduct`. They depend only
 * on t, so they are computed in JS (float64), which keeps them out of tensor memory; the native step
 * (lib/engine/native) takes the same numbers.
 */
export function nadamStepScalars(
  h: { beta1: number; beta2: number },
  iterations: number,
  uProduct: number,
): { uProductT: number; momentumWeight: number; gradientWeight: number; secondMomentCorrection: number } {
  const t = iterations + 1;
  const uT = momentumCache(h.beta1, t);
  const uNext = momentumCache(h.beta1, t + 1);
  const uProductT = uProduct * uT;
  const uProductNext = uProductT * uNext;
  return {
    uProductT,
    momentumWeight: uNext / (1 - uProductNext),
    gradientWeight: (1 - uT) / (1 - uProductT),
    secondMomentCorrection: 1 - h.beta2 ** t,
  };
}

/**
 * Keras 3's momentum schedule u_t = β₁(1 - ½·0.96^t). u_t climbs from β₁/2 to within 1% of β₁ in about
 * 100 steps. (tf.keras 2 used 0.96^(0.004·t), its `schedule_decay`, which takes some 25,000 steps.)
 */
export function momentumCache(beta1: number, t: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** t);
}
