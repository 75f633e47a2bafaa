// tfjs-core 4.22's optimizer update rules (optimizers/*.js), applied in place to one variable.
#pragma once

#include <cstddef>
#include <string>

namespace fa {

enum class OptimizerKind { Sgd, Momentum, Adam, RmsProp, Nadam, AdamW, Adamax, Adagrad, Adadelta };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Sgd;
  // Doubles, as JS holds them: tfjs rounds each derived constant (1 - β, -lr) to float32 only once it
  // becomes a scalar tensor, and the update loops do the same.
  double learningRate = 0.01;
  double momentum = 0;     // Momentum, RMSProp
  bool nesterov = false;   // Momentum
  double beta1 = 0.9;      // Adam, Nadam, AdamW, Adamax
  double beta2 = 0.999;    // Adam, Nadam, AdamW, Adamax
  double epsilon = 1e-7;   // all but SGD and Momentum: tfjs's backend epsilon for float32 when not given
  double decay = 0.9;      // RMSProp (Keras's rho); Adamax: the learning rate's decay per iteration (tfjs's `decay`)
  bool centered = false;   // RMSProp
  double rho = 0.95;       // Adadelta
  double weightDecay = 0;  // AdamW
  // Per-step constants that tfjs computes in float64 JS from the iteration count (their exponentials
  // would round differently here), passed in before each step; the loops round them to float32 as
  // tfjs's scalar tensors do.
  double alpha = 0;                   // AdamW: lr·√(1 − β₂^t)/(1 − β₁^t)
  double momentumWeight = 0;          // Nadam: u_{t+1}/(1 − Π_{t+1})
  double gradientWeight = 0;          // Nadam: (1 − u_t)/(1 − Π_t)
  double secondMomentCorrection = 1;  // Nadam: 1 − β₂^t
};

bool parseOptimizerKind(const std::string& name, OptimizerKind* out);

// Per-variable state arrays ("slots") each kind keeps, in tfjs's getWeights() order:
// Momentum: momentum; Adam, Nadam, AdamW: m, v; RMSProp: rms, momentum (+ mg when centered);
// Adamax: m, v (the weighted infinity norm); Adagrad: accumulator; Adadelta: accum_grad, accum_var.
int slotCount(const OptimizerSpec& spec);
// Optimizer-wide scalars, float32 tfjs variables: Adam's accBeta1, accBeta2 (β^t); Adamax's iteration,
// accBeta1. (Nadam and AdamW keep theirs in JS numbers; see the per-step constants above.)
int stateCount(const OptimizerSpec& spec);

// value ← update(value, gradient, slots). `state` is read only here; advanceState moves it once per step.
// Element-wise by contract: the trainer calls it on sub-ranges (pool threads, fresh gradient rows).
void applyUpdate(const OptimizerSpec& spec, float* value, const float* grad, float* const* slots, const float* const* state, size_t size);
void advanceState(const OptimizerSpec& spec, float* const* state);

}  // namespace fa
