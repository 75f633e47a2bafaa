// A whole training step of a Dense stack in one call: forward, Keras's sparse categorical cross-entropy
// on a softmax output, backward, optimizer update in place on arrays the caller owns (tfjs variables'
// own buffers). No N-API here, so the step can be read, and reasoned about, on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "activations.h"
#include "batchnorm.h"
#include "optimizer.h"
#include "timer.h"

namespace fa {

// A BatchNormalization layer on a hidden Dense layer's output: After its activation (Dense(act) -> BN, the
// chapter's batchNorm: true) or Before it (Dense(linear) -> BN -> activation, batchNorm: "before").
enum class BatchNormAt { None, After, Before };

struct BatchNormSpec {
  BatchNormAt at = BatchNormAt::None;
  double momentum = 0.99;  // Keras's defaults
  double epsilon = 1e-3;
  bool center = true;  // has β
  bool scale = true;   // has γ
  // Rate of an inverted dropout on the BN's input, training only: Dense(act) -> Dropout -> BN (After) or
  // Dense(linear) -> Dropout -> BN -> act (Before). The mask applies before the batch statistics.
  float dropout = 0;
};

struct LayerSpec {
  int units = 0;
  Activation activation = Activation::Linear;  // hidden layers; the last layer is always softmax
  float alpha = 0.3f;    // LeakyReLU slope (tfjs-layers' LeakyReLU default is 0.3)
  float dropout = 0;     // rate of inverted dropout on this layer's *input*, training only
  float l2 = 0;          // Keras l2 on the kernel: loss += l2·ΣW², gradient += 2·l2·W
  bool useBias = true;
  BatchNormSpec batchNorm;  // hidden layers only
};

struct TrainerSpec {
  int inputSize = 0;
  int maxBatch = 32;  // scratch is sized for this; a larger batch grows it
  std::vector<LayerSpec> layers;
  OptimizerSpec optimizer;
  double clipnorm = 0;   // per variable, as Keras's clipnorm; 0 = off
  double clipvalue = 0;  // element-wise; 0 = off (applied after clipnorm, Keras 2's order)
  uint64_t seed = 42;    // dropout's random stream
  bool keepGradients = false;  // materialise every gradient and keep it for gradient(i) (tests, debugging)
  // A BatchNormalization on the input rows (Flatten -> BN -> Dense, Géron's chapter 11 model) when `at` is not
  // None; its γ and β come first among the variables and its moving statistics first among the buffers.
  BatchNormSpec inputBatchNorm;
};

struct StepResult {
  double loss = 0;            // mean cross-entropy over the batch + regularization
  int correct = 0;            // rows whose largest logit is at the label
  double regularization = 0;  // the l2 part of `loss`
};

class Trainer {
 public:
  explicit Trainer(TrainerSpec spec);

  // Variables in tfjs's trainableWeights order: layer 0 kernel [in, units], layer 0 bias [units], its
  // BatchNormalization's gamma and beta [units] if any, layer 1 ...
  int variableCount() const { return int(vars_.size()); }
  size_t variableSize(int i) const { return vars_.at(i).size; }
  std::string variableName(int i) const;
  int slotsPerVariable() const { return slotCount(spec_.optimizer); }
  int stateSize() const { return stateCount(spec_.optimizer); }

  // The arrays are the caller's and must stay alive and unmoved until rebound; nothing is copied.
  void bindVariable(int i, float* values, const std::vector<float*>& slots);
  void bindState(int i, float* value);
  // Non-trainable arrays the step also updates: each BatchNormalization's moving mean, then moving variance.
  int bufferCount() const { return int(buffers_.size()); }
  size_t bufferSize(int i) const {
    const int l = bufferLayer_.at(i);
    return size_t(l < 0 ? spec_.inputSize : spec_.layers.at(l).units);
  }
  std::string bufferName(int i) const;
  void bindBuffer(int i, float* values);

  // x: [n, inputSize] row-major; labels: n class indices in [0, classes).
  StepResult step(const float* x, const int32_t* labels, int n);
  // Forward only, no dropout, in chunks; loss is the data part (mean), regularization separate.
  StepResult evaluate(const float* x, const int32_t* labels, int n);
  // Softmax probabilities [n, classes].
  void predict(const float* x, int n, float* out);

  void setLearningRate(double lr) { spec_.optimizer.learningRate = lr; }
  // New hyper-parameters for the same kind of optimizer (its slots keep their meaning).
  void setOptimizer(const OptimizerSpec& spec);
  const OptimizerSpec& optimizer() const { return spec_.optimizer; }
  void setSeed(uint64_t seed);
  int classes() const { return spec_.layers.back().units; }
  int inputSize() const { return spec_.inputSize; }

  // The gradient applied to variable i by the last step (after l2 and clipping); needs keepGradients.
  const std::vector<float>& gradient(int i) const;

  Counters counters;

 private:
  // Every sgemm call; step() books its share into counters.sgemmNs and sgemmCalls.
  int64_t gemmNs_ = 0, gemmCalls_ = 0;

  struct Var {
    float* values = nullptr;
    size_t size = 0;
    std::vector<float*> slots;
    std::vector<float> grad;  // general path and keepGradients only
  };
  // Activations of one forward pass, for `rows` rows.
  struct Scratch {
    int rows = 0;
    std::vector<std::vector<float>> z, a;         // per layer [rows, units]: pre-activation, output
    std::vector<std::vector<float>> mask, input;  // per layer [rows, in]: dropout scale, dropped input
    std::vector<std::vector<float>> dz;           // per layer [rows, units]: loss gradient w.r.t. z
    // Layers with BN, [rows, units]: h is act(z) (After) or BN(z) (Before), the value between the two
    // ops; xhat the normalized input (training only). invStd [units]: the batch's 1/√(σ² + ε).
    std::vector<std::vector<float>> h, xhat, invStd;
    // Layers whose BN has a dropout before it, [rows, units]: the mask and BN's dropped input.
    std::vector<std::vector<float>> bnMask, bnInput;
    // With an input BN, [rows, inputSize]: its output, x̂ and the loss gradient w.r.t. its output; invStd [inputSize].
    std::vector<float> inputNorm, inputXhat, inputGrad, inputInvStd;
    bool training = false;
  };

  int inSize(int l) const { return l == 0 ? spec_.inputSize : spec_.layers[l - 1].units; }
  int kernelVar(int l) const { return firstVar_[l]; }
  int biasVar(int l) const { return spec_.layers[l].useBias ? firstVar_[l] + 1 : -1; }
  bool hasBatchNorm(int l) const { return spec_.layers[l].batchNorm.at != BatchNormAt::None; }
  int gammaVar(int l) const { return gammaVar_[l]; }  // -1 without BN or with scale false
  int betaVar(int l) const { return betaVar_[l]; }    // -1 without BN or with center false
  BatchNormParams batchNormParams(int l) const;
  bool hasInputBatchNorm() const { return spec_.inputBatchNorm.at != BatchNormAt::None; }
  BatchNormParams inputBatchNormParams() const;
  void addInputBatchNorm();
  void inputBatchNormGradient(Scratch& s, int n);
  void addBatchNorm(int l, const std::string& where);
  bool fastSgd(int l) const;
  void checkBound() const;
  void ensureScratch(Scratch& s, int rows, bool training);
  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c);

  const float* forward(Scratch& s, const float* x, int n, bool training);
  const float* dropInput(Scratch& s, int l, const float* in, int n);
  void drop(float rate, const float* in, float* mask, float* out, size_t size);
  void denseForward(Scratch& s, int l, const float* in, int n);
  // Runs one of kernels.h's kernels, booked as matrix-product time; false when it is unavailable.
  template <class F>
  bool timed(F&& kernel) {
    const int64_t t = nowNs();
    if (!kernel()) return false;
    gemmNs_ += nowNs() - t;
    gemmCalls_++;
    return true;
  }
  void activate(Scratch& s, int l, int n);
  void normalizeActivate(Scratch& s, int l, int n);
  void batchNormGradient(Scratch& s, int l, int n, float* d);
  void updateBatchNorm(int l);
  void weightGradient(int rows, int out, int in, float alpha, const float* x, const float* dz, bool accumulate, float* w);
  double softmaxLoss(const float* logits, const int32_t* labels, int n, float* dlogits, int* correct, float* probs);
  void backward(Scratch& s, const float* x, int n);
  void hiddenGradient(Scratch& s, int l, int n);
  void updateLayer(Scratch& s, int l, const float* in, int n);
  void updateVariable(int v, float* grad, const float* values, float l2);
  // l2, clipvalue and the optimizer on elements [begin, end) of variable v, whose gradient `grad` holds
  // (grad[0] is element begin's). Element-wise, so any split into ranges (pool threads, rows fresh from
  // the gradient kernel) gives the same bits.
  void updateRange(int v, float* grad, size_t begin, size_t end, float l2);
  double regularization() const;

  TrainerSpec spec_;
  std::vector<Var> vars_;
  std::vector<int> firstVar_, gammaVar_, betaVar_;
  int inputGamma_ = -1, inputBeta_ = -1;  // the input BN's γ and β variables, -1 without
  std::vector<int> firstBuffer_;  // per layer, -1 without BN
  std::vector<int> bufferLayer_;  // per buffer, its layer
  std::vector<float*> buffers_;
  std::vector<double> bnAcc_;     // BN's per-feature sums
  std::vector<float*> state_;
  Scratch train_, eval_;
  std::vector<double> colsum_;  // a layer's bias gradient, summed in double as tfjs's Sum does
  std::vector<double> exps_;    // one row's exp(z - max)
  uint64_t dropKey_ = 0, dropCounter_ = 0;  // dropout's counter-based stream: the seed's key, draws so far
};

}  // namespace fa
