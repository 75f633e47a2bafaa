import { AdamWOptimizer } from "./adamw";
import type { TwoMomentArgs } from "./two-moments";

/**
 * Keras 3's Adam (keras/src/optimizers/adam.py), which is AdamW's rule without the decay: ε on the uncorrected
 * √v, lr·√(1 − β₂^t)/(1 − β₁^t)·m/(√v + ε). tfjs's Adam puts ε on the bias-corrected √v̂ instead, an ε that is
 * 1/√(1 − β₂^t) times larger (31.6 at the first step): against real Keras that moved the weights of a 784-16-10 MLP
 * 3e-3 apart in 24 steps at lr 0.001 (test/e2e/keras-optimizers.test.ts). getClassName() is "Adam", as in Keras; the
 * slots have tfjs's Adam layout ([iter, …m, …v]), so an Adam checkpoint of either kind restores into the other.
 */
export class KerasAdam extends AdamWOptimizer {
  static override get className(): string {
    return "Adam";
  }

  constructor(args: TwoMomentArgs = {}) {
    super({ ...args, weightDecay: 0 });
  }

  /** tfjs's Adam config (learningRate, beta1, beta2, epsilon): no weightDecay, which Adam does not have. */
  override getConfig() {
    const { weightDecay: _, ...config } = super.getConfig();
    return config;
  }
}
