import * as tf from "@tensorflow/tfjs";
import type { UpdateRule } from "./state";
import { type TwoMomentArgs, TwoMomentOptimizer } from "./two-moments";
import { UserError } from "../errors/user-error";

/** AdamW's hyperparameters; each defaults to Keras 3's `keras.optimizers.AdamW`. */
export interface AdamWArgs extends TwoMomentArgs {
  /**
   * Decoupled weight decay: each step first shrinks every variable by learningRate·weightDecay of
   * itself, outside the gradient (Loshchilov & Hutter). Keras's default 0.004. 0 gives Keras's Adam.
   */
  weightDecay?: number;
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
export class AdamWOptimizer extends TwoMomentOptimizer<{ alpha: number; decay: number }> {
  /** The name Keras and the tfjs serialization registry know this optimizer by. */
  static get className(): string {
    return "AdamW";
  }

  readonly weightDecay: number;

  constructor(args: AdamWArgs = {}) {
    super(args);
    this.weightDecay = args.weightDecay ?? 0.004;
    if (!(Number.isFinite(this.weightDecay) && this.weightDecay >= 0)) {
      throw new UserError(`AdamW: weightDecay must be a finite number >= 0, got ${this.weightDecay}`);
    }
  }

  stepScalars(): { alpha: number; decay: number } {
    return adamwStepScalars(this, this.iterations);
  }

  protected updateRule(): UpdateRule {
    const { learningRate, beta1, beta2, epsilon, weightDecay } = this;
    return { kind: "adamw", learningRate, beta1, beta2, epsilon, weightDecay, alpha: this.stepScalars().alpha };
  }

  protected nextValue(
    value: tf.Tensor,
    _gradient: tf.Tensor,
    m: tf.Tensor,
    v: tf.Tensor,
    { alpha, decay }: { alpha: number; decay: number },
  ): tf.Tensor {
    const decayed = decay === 0 ? value : tf.sub(value, tf.mul(value, decay));
    return tf.sub(decayed, tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), this.epsilon)));
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
function adamwStepScalars(
  h: { learningRate: number; weightDecay: number; beta1: number; beta2: number },
  iterations: number,
): { alpha: number; decay: number } {
  const t = iterations + 1;
  return {
    alpha: (h.learningRate * Math.sqrt(1 - h.beta2 ** t)) / (1 - h.beta1 ** t),
    decay: h.learningRate * h.weightDecay,
  };
}
