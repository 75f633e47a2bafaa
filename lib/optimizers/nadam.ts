import * as tf from "@tensorflow/tfjs";
import type { UpdateRule } from "./state";
import { type TwoMomentArgs, TwoMomentOptimizer } from "./two-moments";

/** Nadam's hyperparameters; each defaults to Keras 3's `keras.optimizers.Nadam`. */
export type NadamArgs = TwoMomentArgs;

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
export class NadamOptimizer extends TwoMomentOptimizer<NadamScalars> {
  /** The name Keras and the tfjs serialization registry know this optimizer by. */
  static get className(): string {
    return "Nadam";
  }

  /**
   * Π_t, kept in float64. Keras stores it as an optimizer variable; here it is a pure function of the
   * iteration count, so setWeights() recomputes it by the same multiplications and a resumed run
   * continues bit for bit instead of through a float32 round trip.
   */
  private uProduct = 1;

  constructor(args: NadamArgs = {}) {
    super(args);
  }

  stepScalars(): NadamScalars {
    return nadamStepScalars(this, this.iterations, this.uProduct);
  }

  protected updateRule(): UpdateRule {
    const { momentumWeight, gradientWeight, secondMomentCorrection } = this.stepScalars();
    const { learningRate, beta1, beta2, epsilon } = this;
    return { kind: "nadam", learningRate, beta1, beta2, epsilon, momentumWeight, gradientWeight, secondMomentCorrection };
  }

  protected nextValue(value: tf.Tensor, gradient: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: NadamScalars): tf.Tensor {
    const mHat = tf.add(tf.mul(m, s.momentumWeight), tf.mul(gradient, s.gradientWeight));
    const vHat = tf.div(v, s.secondMomentCorrection);
    return tf.sub(value, tf.div(tf.mul(mHat, this.learningRate), tf.add(tf.sqrt(vHat), this.epsilon)));
  }

  protected override stepped(s: NadamScalars): void {
    this.uProduct = s.uProductT;
  }

  protected override restored(): void {
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

/** Nadam's per-step scalars: Π_t, the weights of the momentum and the gradient in m̂, and v's bias correction. */
export interface NadamScalars {
  uProductT: number;
  momentumWeight: number;
  gradientWeight: number;
  secondMomentCorrection: number;
}

/**
 * The per-step scalars of the step after `iterations` steps, with Π so far `uProduct`. They depend only
 * on t, so they are computed in JS (float64), which keeps them out of tensor memory; the native step
 * (lib/engine/native) takes the same numbers.
 */
function nadamStepScalars(h: { beta1: number; beta2: number }, iterations: number, uProduct: number): NadamScalars {
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
function momentumCache(beta1: number, t: number): number {
  return beta1 * (1 - 0.5 * 0.96 ** t);
}
