// BatchNormalization over the feature axis of a row-major [n, units] block, as tfjs-layers 4.22 trains
// and infers it (layers/normalization.js): tf.moments' batch mean and biased variance, tf.batchNorm's
// formula, doMovingAverage's update, and the gradient of all of it (the batch statistics' share
// included). Header-only and free of Trainer state, so it reads, and can be tested, on its own.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace fa {

struct BatchNormParams {
  const float* gamma = nullptr;  // [units], null when scale is false (γ = 1)
  const float* beta = nullptr;   // [units], null when center is false (β = 0)
  float* movingMean = nullptr;   // [units], updated in place by training passes
  float* movingVariance = nullptr;
  double epsilon = 1e-3;
  double momentum = 0.99;
};

namespace bn {

// Training pass: y = γ·x̂ + β with x̂ = (x - μ)/√(σ² + ε) over this batch; keeps x̂ and 1/√(σ² + ε) for the
// backward pass and moves the moving statistics. The statistics are rounded to float32 where tfjs holds
// them as tensors (μ, then σ² of the float32 differences), so both sides normalize by the same numbers.
inline void trainForward(const BatchNormParams& p, const float* x, int n, int units, float* xhat, float* invStd, float* y,
                         std::vector<double>& acc) {
  acc.assign(size_t(units) * 2, 0.0);
  double* sum = acc.data();
  double* sq = sum + units;
  for (int i = 0; i < n; i++) {
    const float* row = x + size_t(i) * units;
    for (int j = 0; j < units; j++) sum[j] += row[j];
  }
  for (int j = 0; j < units; j++) sum[j] = float(sum[j] / n);  // μ as a float32 tensor
  for (int i = 0; i < n; i++) {
    const float* row = x + size_t(i) * units;
    for (int j = 0; j < units; j++) {
      const float d = row[j] - float(sum[j]);
      sq[j] += double(d) * d;
    }
  }
  // tfjs-layers' doMovingAverage: v ← v - (v - batch value)·(1 - momentum), in float32 ops.
  const float decay = float(1.0 - p.momentum);
  for (int j = 0; j < units; j++) {
    const float mean = float(sum[j]);
    const float variance = float(sq[j] / n);
    invStd[j] = float(1.0 / std::sqrt(double(variance) + p.epsilon));
    p.movingMean[j] -= (p.movingMean[j] - mean) * decay;
    p.movingVariance[j] -= (p.movingVariance[j] - variance) * decay;
  }
  for (int i = 0; i < n; i++) {
    const float* row = x + size_t(i) * units;
    float* h = xhat + size_t(i) * units;
    float* out = y + size_t(i) * units;
    for (int j = 0; j < units; j++) {
      h[j] = (row[j] - float(sum[j])) * invStd[j];
      out[j] = (p.gamma ? p.gamma[j] * h[j] : h[j]) + (p.beta ? p.beta[j] : 0.0f);
    }
  }
}

// Inference (evaluate, predict): the moving statistics, as tf.batchNorm computes with them.
inline void inferForward(const BatchNormParams& p, const float* x, int n, int units, float* y, std::vector<double>& acc) {
  acc.assign(size_t(units) * 2, 0.0);
  double* scale = acc.data();
  double* shift = scale + units;
  for (int j = 0; j < units; j++) {
    scale[j] = (p.gamma ? double(p.gamma[j]) : 1.0) / std::sqrt(double(p.movingVariance[j]) + p.epsilon);
    shift[j] = p.beta ? double(p.beta[j]) : 0.0;
  }
  for (int i = 0; i < n; i++) {
    const float* row = x + size_t(i) * units;
    float* out = y + size_t(i) * units;
    for (int j = 0; j < units; j++) out[j] = float(shift[j] + (double(row[j]) - p.movingMean[j]) * scale[j]);
  }
}

// d holds dL/dy [n, units] and becomes dL/dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)); dgamma = Σ dy·x̂ and
// dbeta = Σ dy (either may be null), summed in double as tfjs's Sum does.
inline void backward(const BatchNormParams& p, float* d, const float* xhat, const float* invStd, int n, int units, float* dgamma,
                     float* dbeta, std::vector<double>& acc) {
  acc.assign(size_t(units) * 2, 0.0);
  double* sdy = acc.data();
  double* sdyx = sdy + units;
  for (int i = 0; i < n; i++) {
    const float* dy = d + size_t(i) * units;
    const float* h = xhat + size_t(i) * units;
    for (int j = 0; j < units; j++) {
      sdy[j] += dy[j];
      sdyx[j] += double(dy[j]) * h[j];
    }
  }
  for (int j = 0; j < units; j++) {
    if (dgamma) dgamma[j] = float(sdyx[j]);
    if (dbeta) dbeta[j] = float(sdy[j]);
    sdy[j] /= n;
    sdyx[j] /= n;
  }
  for (int i = 0; i < n; i++) {
    float* dy = d + size_t(i) * units;
    const float* h = xhat + size_t(i) * units;
    for (int j = 0; j < units; j++) {
      const float scale = (p.gamma ? p.gamma[j] : 1.0f) * invStd[j];
      dy[j] = scale * float(dy[j] - sdy[j] - h[j] * sdyx[j]);
    }
  }
}

}  // namespace bn
}  // namespace fa
