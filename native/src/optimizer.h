// tfjs-core 4.22's optimizer update rules (optimizers/*.js), applied in place to one variable.
#pragma once

#include <cstddef>
#include <string>

namespace fa {

enum class OptimizerKind { Sgd, Momentum, Adam, RmsProp };

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::Sgd;
  // Doubles, as JS holds them: tfjs rounds each derived constant (1 - β, -lr) to float32 only once it
  // becomes a scalar tensor, and the update loops do the same.
  double learningRate = 0.01;
  double momentum = 0;     // Momentum, RMSProp
  bool nesterov = false;   // Momentum
  double beta1 = 0.9;      // Adam
  double beta2 = 0.999;    // Adam
  double epsilon = 1e-7;   // Adam, RMSProp: tfjs's backend epsilon for float32 when not given
  double decay = 0.9;      // RMSProp (Keras's rho)
  bool centered = false;   // RMSProp
};

bool parseOptimizerKind(const std::string& name, OptimizerKind* out);

// Per-variable state arrays ("slots") each kind keeps, in tfjs's getWeights() order:
// Momentum: momentum; Adam: m, v; RMSProp: rms, momentum (+ mg when centered).
int slotCount(const OptimizerSpec& spec);
// Optimizer-wide scalars: Adam's accBeta1, accBeta2 (β^t, float32 as tfjs keeps them).
int stateCount(const OptimizerSpec& spec);

// value ← update(value, gradient, slots). `state` is read only here; advanceState moves it once per step.
// Element-wise by contract: the trainer calls it on sub-ranges (pool threads, fresh gradient rows).
void applyUpdate(const OptimizerSpec& spec, float* value, const float* grad, float* const* slots, const float* const* state, size_t size);
void advanceState(const OptimizerSpec& spec, float* const* state);

}  // namespace fa
