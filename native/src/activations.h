// Hidden-layer activations with the definitions tfjs-layers 4.22 uses (activations.js and the cpu
// kernels), and their derivatives as tfjs's registered gradients compute them, so a native step and
// tf.variableGrads agree to float32 rounding.
#pragma once

#include <cmath>
#include <string>

namespace fa {

enum class Activation { Linear, Relu, Relu6, Elu, Selu, LeakyRelu, Gelu, GeluTanh, Swish, Mish, Tanh, Sigmoid, Softplus, Softsign, HardSigmoid };

// tfjs-layers' names (Dense's `activation` config), plus "leakyRelu" for a Dense followed by a LeakyReLU layer.
bool parseActivation(const std::string& name, Activation* out);

namespace act {

// tfjs's backend_util.SELU_SCALE and SELU_SCALEALPHA.
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluScaleAlpha = 1.7580993408473768599402175208123f;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1/sqrt(2π), the normal density's constant
constexpr double kSqrt2OverPi = 0.7978845608028654;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// tfjs's Softplus kernel: exp(x) far below zero, x far above, log(1+exp(x)) between.
inline float softplus(float x) {
  const float threshold = std::log(1.1920928955078125e-7f) + 2.0f;
  if (x < threshold) return std::exp(x);
  if (x > -threshold) return x;
  return std::log1p(std::exp(x));
}

inline float forward(Activation a, float x, float alpha) {
  switch (a) {
    case Activation::Linear: return x;
    case Activation::Relu: return x > 0 ? x : 0;
    case Activation::Relu6: return x > 0 ? (x < 6 ? x : 6) : 0;
    case Activation::Elu: return x >= 0 ? x : std::expm1(x);
    case Activation::Selu: return x >= 0 ? kSeluScale * x : kSeluScaleAlpha * std::expm1(x);
    case Activation::LeakyRelu: return x < 0 ? alpha * x : x;
    case Activation::Gelu: return float(0.5 * x * (1.0 + std::erf(x / kSqrt2)));
    case Activation::GeluTanh: return float(0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x))));
    case Activation::Swish: return x * sigmoid(x);
    case Activation::Mish: return x * std::tanh(softplus(x));
    case Activation::Tanh: return std::tanh(x);
    case Activation::Sigmoid: return sigmoid(x);
    case Activation::Softplus: return softplus(x);
    case Activation::Softsign: return x / (1 + std::fabs(x));
    case Activation::HardSigmoid: {
      const float y = 0.2f * x + 0.5f;
      return y < 0 ? 0 : (y > 1 ? 1 : y);
    }
  }
  return x;
}

// d activation / d x at pre-activation x with output y. At the kinks it follows tfjs's gradients:
// relu' (0) = 0 (step(x) is x > 0), elu' reads y >= 0, leakyRelu' is 1 only for x > 0,
// relu6' is 0 at 6 (minimum's gradient goes to the constant on ties), hardSigmoid' is 0.2 on [0, 1] inclusive.
inline float derivative(Activation a, float x, float y, float alpha) {
  switch (a) {
    case Activation::Linear: return 1;
    case Activation::Relu: return x > 0 ? 1 : 0;
    case Activation::Relu6: return x > 0 && x < 6 ? 1 : 0;
    case Activation::Elu: return y >= 0 ? 1 : y + 1;
    case Activation::Selu: return x > 0 ? kSeluScale : kSeluScaleAlpha * std::exp(x);
    case Activation::LeakyRelu: return x > 0 ? 1 : alpha;
    case Activation::Gelu: return float(0.5 * (1.0 + std::erf(x / kSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x));
    case Activation::GeluTanh: {
      const double u = kSqrt2OverPi * (x + 0.044715 * x * x * x);
      const double t = std::tanh(u);
      return float(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kSqrt2OverPi * (1 + 3 * 0.044715 * x * x));
    }
    case Activation::Swish: {
      const float s = sigmoid(x);
      return s + x * s * (1 - s);
    }
    case Activation::Mish: {
      const float t = std::tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoid(x);
    }
    case Activation::Tanh: return 1 - y * y;
    case Activation::Sigmoid: return y * (1 - y);
    case Activation::Softplus: return sigmoid(x);
    case Activation::Softsign: {
      const float d = 1 + std::fabs(x);
      return 1 / (d * d);
    }
    case Activation::HardSigmoid: {
      const float v = 0.2f * x + 0.5f;
      return v >= 0 && v <= 1 ? 0.2f : 0;
    }
  }
  return 1;
}

}  // namespace act
}  // namespace fa
