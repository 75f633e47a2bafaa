#include "trainer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "blas.h"
#include "denormals.h"
#include "kernels.h"
#include "pool.h"

namespace fa {

namespace {

// Keras's epsilon: probabilities are clipped to [1e-7, 1 - 1e-7] before the log.
constexpr double kProbabilityClip = 1e-7;
// Rows per forward pass in evaluate()/predict(): large enough for BLAS to run near its peak, small
// enough that the activations stay in L2.
constexpr int kEvalChunk = 512;
// Elements per pool task of an optimizer update: a multiple of 16 (whole AVX-512 vectors), and the
// value, gradient and two slots of one range (256 KB) stay in a core's L2.
constexpr size_t kUpdateChunk = 16384;
// Smaller variables (the tutorial's 300x100 kernel: ~15 µs of Adam) update on the caller: a pool job
// there saves less than one wait for a helper that another process has descheduled.
constexpr size_t kPoolUpdateMin = 65536;
// Slot arrays updateRange can offset on the stack; every tfjs optimizer keeps at most 3.
constexpr int kMaxSlots = 8;
// SplittableRandom's γ: the dropout stream's i-th draw is mix64(key + i·γ).
constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;

// Calls f with the activation as a compile-time constant, so the per-element switch in
// act::forward/derivative folds away and the loops vectorise.
template <class F>
void withActivation(Activation a, F&& f) {
#define FA_CASE(X) \
  case Activation::X: return f(std::integral_constant<Activation, Activation::X>{});
  switch (a) {
    FA_CASE(Linear) FA_CASE(Relu) FA_CASE(Relu6) FA_CASE(Elu) FA_CASE(Selu) FA_CASE(LeakyRelu) FA_CASE(Gelu)
    FA_CASE(GeluTanh) FA_CASE(Swish) FA_CASE(Mish) FA_CASE(Tanh) FA_CASE(Sigmoid) FA_CASE(Softplus)
    FA_CASE(Softsign) FA_CASE(HardSigmoid)
  }
#undef FA_CASE
}

// splitmix64's finalizer (Stafford's Mix13): a bijection whose outputs on key + i·γ pass BigCrush.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// f(begin, end) over [0, size): in kUpdateChunk ranges on the pool for a large variable, else at once.
template <class F>
void forChunks(size_t size, F&& f) {
  const size_t chunks = (size + kUpdateChunk - 1) / kUpdateChunk;
  if (size < kPoolUpdateMin) return f(size_t(0), size);
  Pool::instance().run(int(chunks), [&](int c) {
    const size_t begin = size_t(c) * kUpdateChunk;
    f(begin, std::min(size, begin + kUpdateChunk));
  });
}

// out = activation(in) over `size` values of a hidden layer.
void activationForward(const LayerSpec& L, const float* in, float* out, size_t size) {
  const float alpha = L.alpha;
  withActivation(L.activation, [&](auto A) {
    for (size_t i = 0; i < size; i++) out[i] = act::forward(decltype(A)::value, in[i], alpha);
  });
}

// d ⊙= activation'(x), given the activation's input x and output y (some derivatives read y).
void activationBackward(const LayerSpec& L, const float* x, const float* y, float* d, size_t size) {
  if (L.activation == Activation::Linear) return;
  const float alpha = L.alpha;
  withActivation(L.activation, [&](auto A) {
    for (size_t i = 0; i < size; i++) d[i] *= act::derivative(decltype(A)::value, x[i], y[i], alpha);
  });
}

}  // namespace

bool parseActivation(const std::string& name, Activation* out) {
  static const struct {
    const char* name;
    Activation value;
  } kNames[] = {{"linear", Activation::Linear},   {"relu", Activation::Relu},           {"relu6", Activation::Relu6},
                {"elu", Activation::Elu},         {"selu", Activation::Selu},           {"leakyRelu", Activation::LeakyRelu},
                {"gelu", Activation::Gelu},       {"gelu_new", Activation::GeluTanh},   {"swish", Activation::Swish},
                {"mish", Activation::Mish},       {"tanh", Activation::Tanh},           {"sigmoid", Activation::Sigmoid},
                {"softplus", Activation::Softplus}, {"softsign", Activation::Softsign}, {"hardSigmoid", Activation::HardSigmoid}};
  for (const auto& n : kNames) {
    if (name == n.name) {
      *out = n.value;
      return true;
    }
  }
  return false;
}

Trainer::Trainer(TrainerSpec spec) : spec_(std::move(spec)) {
  if (spec_.inputSize <= 0) throw std::invalid_argument("inputSize must be positive, got " + std::to_string(spec_.inputSize));
  if (spec_.maxBatch <= 0) throw std::invalid_argument("maxBatch must be positive, got " + std::to_string(spec_.maxBatch));
  if (spec_.layers.empty()) throw std::invalid_argument("layers must hold at least the softmax output layer");
  addInputBatchNorm();
  for (size_t l = 0; l < spec_.layers.size(); l++) {
    const LayerSpec& L = spec_.layers[l];
    const std::string where = "layers[" + std::to_string(l) + "]";
    if (L.units <= 0) throw std::invalid_argument(where + ".units must be positive, got " + std::to_string(L.units));
    if (!(L.dropout >= 0 && L.dropout < 1)) throw std::invalid_argument(where + ".dropout must be in [0, 1), got " + std::to_string(L.dropout));
    if (!(L.l2 >= 0)) throw std::invalid_argument(where + ".l2 must be >= 0, got " + std::to_string(L.l2));
    firstVar_.push_back(int(vars_.size()));
    vars_.push_back(Var{nullptr, size_t(inSize(int(l))) * L.units, {}, {}});
    if (L.useBias) vars_.push_back(Var{nullptr, size_t(L.units), {}, {}});
    addBatchNorm(int(l), where);
  }
  if (!(spec_.clipnorm >= 0) || !(spec_.clipvalue >= 0)) throw std::invalid_argument("clipnorm and clipvalue must be >= 0 (0 = off)");
  if (slotsPerVariable() > kMaxSlots) throw std::logic_error("the optimizer keeps more slots than updateRange's kMaxSlots; raise it");
  state_.assign(stateSize(), nullptr);
  for (int l = 0; l < int(spec_.layers.size()); l++) {
    for (int v : {kernelVar(l), biasVar(l)}) {
      if (v >= 0 && !fastSgd(l)) vars_[v].grad.assign(vars_[v].size, 0.0f);
    }
    // γ and β always take the general update: their gradients come out of BN's backward pass, not a GEMM.
    for (int v : {gammaVar(l), betaVar(l)}) {
      if (v >= 0) vars_[v].grad.assign(vars_[v].size, 0.0f);
    }
  }
  setSeed(spec_.seed);
}

std::string Trainer::variableName(int i) const {
  if (i >= 0 && i == inputGamma_) return "inputBatchNorm gamma";
  if (i >= 0 && i == inputBeta_) return "inputBatchNorm beta";
  for (int l = 0; l < int(spec_.layers.size()); l++) {
    if (i == kernelVar(l)) return "layers[" + std::to_string(l) + "] kernel";
    if (i == biasVar(l)) return "layers[" + std::to_string(l) + "] bias";
    if (i == gammaVar(l)) return "layers[" + std::to_string(l) + "] batchNorm gamma";
    if (i == betaVar(l)) return "layers[" + std::to_string(l) + "] batchNorm beta";
  }
  return "variable " + std::to_string(i);
}

void Trainer::bindVariable(int i, float* values, const std::vector<float*>& slots) {
  if (i < 0 || i >= variableCount()) throw std::out_of_range("variable index " + std::to_string(i) + " out of range [0, " + std::to_string(variableCount()) + ")");
  if (int(slots.size()) != slotsPerVariable()) {
    throw std::invalid_argument(variableName(i) + ": " + std::to_string(slots.size()) + " optimizer slots given, the optimizer keeps " + std::to_string(slotsPerVariable()));
  }
  vars_[i].values = values;
  vars_[i].slots = slots;
}

void Trainer::bindState(int i, float* value) {
  if (i < 0 || i >= stateSize()) throw std::out_of_range("optimizer state index " + std::to_string(i) + " out of range [0, " + std::to_string(stateSize()) + ")");
  state_[i] = value;
}

void Trainer::checkBound() const {
  for (int i = 0; i < variableCount(); i++) {
    if (!vars_[i].values) throw std::logic_error(variableName(i) + " is not bound; call bindVariable first");
  }
  for (float* s : state_) {
    if (!s) throw std::logic_error("optimizer state is not bound; call bindState first");
  }
  for (int i = 0; i < bufferCount(); i++) {
    if (!buffers_[i]) throw std::logic_error(bufferName(i) + " is not bound; call bindBuffer first");
  }
}

bool Trainer::fastSgd(int l) const {
  return spec_.optimizer.kind == OptimizerKind::Sgd && spec_.layers[l].l2 == 0 && spec_.clipnorm == 0 && spec_.clipvalue == 0 &&
         !spec_.keepGradients;
}

void Trainer::setOptimizer(const OptimizerSpec& spec) {
  if (spec.kind != spec_.optimizer.kind || slotCount(spec) != slotCount(spec_.optimizer)) {
    throw std::invalid_argument("setOptimizer changes hyper-parameters only; the kind (and RMSProp's centered) must stay as created");
  }
  spec_.optimizer = spec;
}

void Trainer::setSeed(uint64_t seed) {
  dropKey_ = mix64(seed + kGamma);
  dropCounter_ = 0;
}

const std::vector<float>& Trainer::gradient(int i) const {
  if (!spec_.keepGradients) throw std::logic_error("gradients are kept only when the trainer is created with keepGradients: true");
  return vars_.at(i).grad;
}

void Trainer::gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  const int64_t t = nowNs();
  sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
  gemmNs_ += nowNs() - t;
  gemmCalls_++;
}

void Trainer::ensureScratch(Scratch& s, int rows, bool training) {
  if (s.rows >= rows) return;
  if (training) rows = std::max(rows, spec_.maxBatch);
  const size_t L = spec_.layers.size();
  s.rows = rows;
  s.training = training;
  s.h.assign(L, {});
  s.xhat.assign(L, {});
  s.invStd.assign(L, {});
  s.z.assign(L, {});
  s.a.assign(L, {});
  s.dz.assign(L, {});
  s.mask.assign(L, {});
  s.input.assign(L, {});
  s.bnMask.assign(L, {});
  s.bnInput.assign(L, {});
  if (hasInputBatchNorm()) {
    const size_t in = size_t(rows) * spec_.inputSize;
    s.inputNorm.assign(in, 0.0f);
    if (training) {
      s.inputXhat.assign(in, 0.0f);
      s.inputGrad.assign(in, 0.0f);
      s.inputInvStd.assign(spec_.inputSize, 0.0f);
    }
  }
  for (size_t l = 0; l < L; l++) {
    const size_t out = size_t(rows) * spec_.layers[l].units;
    s.z[l].assign(out, 0.0f);
    if (l + 1 < L) s.a[l].assign(out, 0.0f);
    if (hasBatchNorm(int(l))) s.h[l].assign(out, 0.0f);
    if (!training) continue;
    if (hasBatchNorm(int(l))) {
      s.xhat[l].assign(out, 0.0f);
      s.invStd[l].assign(spec_.layers[l].units, 0.0f);
      if (spec_.layers[l].batchNorm.dropout > 0) {
        s.bnMask[l].assign(out, 0.0f);
        s.bnInput[l].assign(out, 0.0f);
      }
    }
    s.dz[l].assign(out, 0.0f);
    if (spec_.layers[l].dropout > 0) {
      s.mask[l].assign(size_t(rows) * inSize(int(l)), 0.0f);
      s.input[l].assign(size_t(rows) * inSize(int(l)), 0.0f);
    }
  }
}

// Inverted dropout (tf.dropout's): keep with probability 1 - rate, scale kept inputs by 1/(1 - rate).
// The stream is counter-based (SplittableRandom's): draw i is mix64(key + i·γ), no draw waits for the
// one before, so the loop vectorises; each 64-bit draw gives two elements 24 uniform bits each. Keeping
// u = bits/2^24 >= rate is bits >= ⌈rate·2^24⌉, compared as integers, branch-free.
const float* Trainer::dropInput(Scratch& s, int l, const float* in, int n) {
  const float rate = spec_.layers[l].dropout;
  if (rate <= 0) return in;
  drop(rate, in, s.mask[l].data(), s.input[l].data(), size_t(n) * inSize(l));
  return s.input[l].data();
}

// out = in ⊙ mask over `size` values, the mask (0 or 1/(1 - rate)) drawn from dropout's stream.
void Trainer::drop(float rate, const float* in, float* __restrict__ mask, float* __restrict__ out, size_t size) {
  const float scale = float(1.0 / (1.0 - double(rate)));
  const uint32_t threshold = uint32_t(std::ceil(double(rate) * 16777216.0));
  const size_t pairs = size / 2;
  const uint64_t start = dropKey_ + dropCounter_ * kGamma;
  for (size_t p = 0; p < pairs; p++) {
    const uint64_t z = mix64(start + (p + 1) * kGamma);
    const float m0 = (uint32_t(z) >> 8) >= threshold ? scale : 0.0f;
    const float m1 = uint32_t(z >> 40) >= threshold ? scale : 0.0f;
    mask[2 * p] = m0;
    mask[2 * p + 1] = m1;
    out[2 * p] = in[2 * p] * m0;
    out[2 * p + 1] = in[2 * p + 1] * m1;
  }
  if (size % 2) {
    const uint64_t z = mix64(start + (pairs + 1) * kGamma);
    mask[size - 1] = (uint32_t(z) >> 8) >= threshold ? scale : 0.0f;
    out[size - 1] = in[size - 1] * mask[size - 1];
  }
  dropCounter_ += pairs + size % 2;
}

// z = in·W + b, then the activation. At training batch sizes the addon's own kernel (kernels.h) does the
// product and bias in one pass; larger row counts go to BLAS.
void Trainer::denseForward(Scratch& s, int l, const float* in, int n) {
  const LayerSpec& L = spec_.layers[l];
  const int out = L.units;
  float* z = s.z[l].data();
  const float* w = vars_[kernelVar(l)].values;
  const float* bias = L.useBias ? vars_[biasVar(l)].values : nullptr;
  if (kernelPays(n, out, inSize(l)) && timed([&] { return denseForwardKernel(n, out, inSize(l), in, w, bias, z); })) {
    activate(s, l, n);
    return;
  }
  gemm(false, false, n, out, inSize(l), 1.0f, in, w, 0.0f, z);
  if (L.useBias) {
    const float* b = vars_[biasVar(l)].values;
    for (int i = 0; i < n; i++) {
      float* row = z + size_t(i) * out;
      for (int j = 0; j < out; j++) row[j] += b[j];
    }
  }
  activate(s, l, n);
}

// w = alpha · inᵀ·dz (+ w when accumulating): the addon's kernel where it pays, else BLAS.
void Trainer::weightGradient(int rows, int out, int in, float alpha, const float* x, const float* dz, bool accumulate, float* w) {
  if (kernelPays(rows, out, in) && timed([&] { return weightGradientKernel(rows, out, in, alpha, x, dz, accumulate, w); })) return;
  gemm(true, false, in, out, rows, alpha, x, dz, accumulate ? 1.0f : 0.0f, w);
}

// a = activation(z) for a hidden layer (the output layer's softmax is the loss's business).
void Trainer::activate(Scratch& s, int l, int n) {
  if (l + 1 == int(spec_.layers.size())) return;
  if (hasBatchNorm(l)) return normalizeActivate(s, l, n);
  activationForward(spec_.layers[l], s.z[l].data(), s.a[l].data(), size_t(n) * spec_.layers[l].units);
}

// The logits of n rows; with training, dropout on every layer's input as configured.
const float* Trainer::forward(Scratch& s, const float* x, int n, bool training) {
  const float* in = x;
  if (hasInputBatchNorm()) {
    const BatchNormParams p = inputBatchNormParams();
    if (training) bn::trainForward(p, x, n, spec_.inputSize, s.inputXhat.data(), s.inputInvStd.data(), s.inputNorm.data(), bnAcc_);
    else bn::inferForward(p, x, n, spec_.inputSize, s.inputNorm.data(), bnAcc_);
    in = s.inputNorm.data();
  }
  const int last = int(spec_.layers.size()) - 1;
  for (int l = 0; l <= last; l++) {
    if (training) in = dropInput(s, l, in, n);
    denseForward(s, l, in, n);
    if (l < last) in = s.a[l].data();
  }
  return s.z[last].data();
}

// Keras's sparse categorical cross-entropy of softmax(logits): mean of -log(clip(p[label])). The
// gradient w.r.t. the logits is (p - onehot)/n, as TensorFlow's fused softmax cross-entropy (the clip
// only guards the log). Softmax in double: ten exps a row cost nothing and the loss is then exact.
double Trainer::softmaxLoss(const float* logits, const int32_t* labels, int n, float* dlogits, int* correct, float* probs) {
  const int k = classes();
  std::vector<double>& e = exps_;
  if (e.size() < size_t(k)) e.resize(k);
  double loss = 0;
  for (int i = 0; i < n; i++) {
    const float* row = logits + size_t(i) * k;
    const int y = labels[i];
    int best = 0;
    for (int j = 1; j < k; j++) {
      if (row[j] > row[best]) best = j;
    }
    double sum = 0;
    for (int j = 0; j < k; j++) sum += e[j] = std::exp(double(row[j]) - double(row[best]));
    if (best == y) ++*correct;
    const double py = e[y] / sum;
    loss -= std::log(std::min(std::max(py, kProbabilityClip), 1 - kProbabilityClip));
    if (dlogits) {
      float* d = dlogits + size_t(i) * k;
      for (int j = 0; j < k; j++) d[j] = float((e[j] / sum - (j == y ? 1.0 : 0.0)) / n);
    }
    if (probs) {
      float* p = probs + size_t(i) * k;
      for (int j = 0; j < k; j++) p[j] = float(e[j] / sum);
    }
  }
  return loss / n;
}

// dz of layer l-1 = (dz_l · W_lᵀ) ⊙ dropout mask of layer l's input ⊙ activation'(z_{l-1}).
void Trainer::hiddenGradient(Scratch& s, int l, int n) {
  const int out = spec_.layers[l].units, in = inSize(l);
  float* d = s.dz[l - 1].data();
  gemm(false, true, n, in, out, 1.0f, s.dz[l].data(), vars_[kernelVar(l)].values, 0.0f, d);
  const size_t size = size_t(n) * in;
  if (spec_.layers[l].dropout > 0) {
    const float* mask = s.mask[l].data();
    for (size_t i = 0; i < size; i++) d[i] *= mask[i];
  }
  if (hasBatchNorm(l - 1)) return batchNormGradient(s, l - 1, n, d);
  activationBackward(spec_.layers[l - 1], s.z[l - 1].data(), s.a[l - 1].data(), d, size);
}

// Layer l's kernel and bias gradients (inᵀ·dz, Σdz) and their update. Plain SGD without regularization
// or clipping folds -lr into the GEMM and adds straight into the kernel (beta = 1): no gradient buffer,
// one pass over the weights instead of three.
void Trainer::updateLayer(Scratch& s, int l, const float* in, int n) {
  const LayerSpec& L = spec_.layers[l];
  const int out = L.units, k = inSize(l);
  const float* dz = s.dz[l].data();
  Var& kernel = vars_[kernelVar(l)];
  if (L.useBias) {
    colsum_.assign(out, 0.0);
    for (int i = 0; i < n; i++) {
      const float* row = dz + size_t(i) * out;
      for (int j = 0; j < out; j++) colsum_[j] += row[j];
    }
  }
  if (fastSgd(l)) {
    const float c = float(-spec_.optimizer.learningRate);
    weightGradient(n, out, k, c, in, dz, true, kernel.values);
    if (L.useBias) {
      float* b = vars_[biasVar(l)].values;
      for (int j = 0; j < out; j++) b[j] += c * float(colsum_[j]);
    }
    return;
  }
  // Where the addon's gradient kernel runs and no clipnorm needs the whole gradient first, each block
  // of rows is updated by the thread that computed it while the rows are in its cache; the caller's own
  // share of that update is booked as update time, not matrix-product time.
  const int kv = kernelVar(l);
  float* g = kernel.grad.data();
  bool updated = false;
  if (spec_.clipnorm == 0 && kernelPays(n, out, k)) {
    const std::thread::id caller = std::this_thread::get_id();
    int64_t callerUpdateNs = 0;
    const RowsDone rowsDone = [&](int r0, int r1, float* rows) {
      const bool mine = std::this_thread::get_id() == caller;
      const int64_t t = mine ? nowNs() : 0;
      updateRange(kv, rows, size_t(r0) * out, size_t(r1) * out, L.l2);
      if (mine) callerUpdateNs += nowNs() - t;
    };
    // Without keepGradients the rows go to the kernel's scratch: writing a 1 MB gradient out and reading
    // it back cost more than the update itself.
    float* rowsOut = spec_.keepGradients ? g : nullptr;
    updated = timed([&] { return weightGradientKernel(n, out, k, 1.0f, in, dz, false, rowsOut, &rowsDone); });
    if (updated) gemmNs_ -= callerUpdateNs;
  }
  if (!updated) {
    weightGradient(n, out, k, 1.0f, in, dz, false, g);
    updateVariable(kv, g, kernel.values, L.l2);
  }
  if (L.useBias) {
    Var& bias = vars_[biasVar(l)];
    for (int j = 0; j < out; j++) bias.grad[j] = float(colsum_[j]);
    updateVariable(biasVar(l), bias.grad.data(), bias.values, 0);
  }
}

// Keras's order: the regularizer's gradient is part of the loss's, then clipnorm, then clipvalue.
// Only clipnorm needs the whole gradient; the rest runs in ranges on the pool (updateRange).
void Trainer::updateVariable(int v, float* g, const float* values, float l2) {
  const size_t size = vars_[v].size;
  if (spec_.clipnorm > 0) {
    if (l2 > 0) {
      const float c = float(2.0 * double(l2));
      for (size_t i = 0; i < size; i++) g[i] += c * values[i];
      l2 = 0;  // in g now
    }
    double ss = 0;
    for (size_t i = 0; i < size; i++) ss += double(g[i]) * g[i];
    const double norm = std::sqrt(ss);
    if (norm > spec_.clipnorm) {
      const float f = float(spec_.clipnorm / norm);
      for (size_t i = 0; i < size; i++) g[i] *= f;
    }
  }
  forChunks(size, [&](size_t begin, size_t end) { updateRange(v, g + begin, begin, end, l2); });
}

void Trainer::updateRange(int v, float* g, size_t begin, size_t end, float l2) {
  const Var& var = vars_[v];
  const size_t size = end - begin;
  float* values = var.values + begin;
  if (l2 > 0) {
    const float c = float(2.0 * double(l2));
    for (size_t i = 0; i < size; i++) g[i] += c * values[i];
  }
  if (spec_.clipvalue > 0) {
    const float c = float(spec_.clipvalue);
    for (size_t i = 0; i < size; i++) g[i] = std::min(std::max(g[i], -c), c);
  }
  float* slots[kMaxSlots];
  for (size_t k = 0; k < var.slots.size(); k++) slots[k] = var.slots[k] + begin;
  applyUpdate(spec_.optimizer, values, g, slots, state_.data(), size);
}

void Trainer::backward(Scratch& s, const float* x, int n) {
  for (int l = int(spec_.layers.size()) - 1; l >= 0; l--) {
    const float* first = hasInputBatchNorm() ? s.inputNorm.data() : x;
    const float* in = spec_.layers[l].dropout > 0 ? s.input[l].data() : (l == 0 ? first : s.a[l - 1].data());
    if (l > 0) hiddenGradient(s, l, n);  // reads W_l, so before W_l is updated
    if (l > 0 && hasBatchNorm(l - 1)) updateBatchNorm(l - 1);
    if (l == 0 && hasInputBatchNorm()) inputBatchNormGradient(s, n);
    updateLayer(s, l, in, n);
  }
  advanceState(spec_.optimizer, state_.data());
}

double Trainer::regularization() const {
  double total = 0;
  for (int l = 0; l < int(spec_.layers.size()); l++) {
    const float l2 = spec_.layers[l].l2;
    if (l2 <= 0) continue;
    const Var& k = vars_[kernelVar(l)];
    double ss = 0;
    for (size_t i = 0; i < k.size; i++) ss += double(k.values[i]) * k.values[i];
    total += l2 * ss;
  }
  return total;
}

StepResult Trainer::step(const float* x, const int32_t* labels, int n) {
  const ScopedFlushDenormals flush;
  checkBound();
  if (n <= 0) throw std::invalid_argument("step needs at least one row, got n=" + std::to_string(n));
  const int64_t t0 = nowNs(), gemm0 = gemmNs_, calls0 = gemmCalls_;
  ensureScratch(train_, n, true);
  StepResult r;
  r.regularization = regularization();  // of the weights this step's forward pass uses
  const float* logits = forward(train_, x, n, true);
  const int last = int(spec_.layers.size()) - 1;
  r.loss = softmaxLoss(logits, labels, n, train_.dz[last].data(), &r.correct, nullptr) + r.regularization;
  backward(train_, x, n);
  counters.steps++;
  counters.stepNs += nowNs() - t0;
  counters.sgemmNs += gemmNs_ - gemm0;
  counters.sgemmCalls += gemmCalls_ - calls0;
  return r;
}

StepResult Trainer::evaluate(const float* x, const int32_t* labels, int n) {
  const ScopedFlushDenormals flush;
  checkBound();
  const int64_t t0 = nowNs();
  StepResult r;
  double lossSum = 0;
  for (int start = 0; start < n; start += kEvalChunk) {
    const int rows = std::min(kEvalChunk, n - start);
    ensureScratch(eval_, rows, false);
    const float* logits = forward(eval_, x + size_t(start) * spec_.inputSize, rows, false);
    lossSum += softmaxLoss(logits, labels + start, rows, nullptr, &r.correct, nullptr) * rows;
  }
  r.regularization = regularization();
  r.loss = (n > 0 ? lossSum / n : 0) + r.regularization;
  counters.evalRows += n;
  counters.evalNs += nowNs() - t0;
  return r;
}

void Trainer::predict(const float* x, int n, float* out) {
  const ScopedFlushDenormals flush;
  checkBound();
  const int64_t t0 = nowNs();
  const int k = classes();
  std::vector<int32_t> noLabels(std::min(kEvalChunk, std::max(n, 0)), 0);
  for (int start = 0; start < n; start += kEvalChunk) {
    const int rows = std::min(kEvalChunk, n - start);
    ensureScratch(eval_, rows, false);
    const float* logits = forward(eval_, x + size_t(start) * spec_.inputSize, rows, false);
    int ignored = 0;
    softmaxLoss(logits, noLabels.data(), rows, nullptr, &ignored, out + size_t(start) * k);
  }
  counters.evalRows += n;
  counters.evalNs += nowNs() - t0;
}

// --- BatchNormalization -------------------------------------------------------------------------

// Layer l's γ and β variables (after its kernel and bias, tfjs's order) and moving-statistics buffers.
void Trainer::addBatchNorm(int l, const std::string& where) {
  const BatchNormSpec& bn = spec_.layers[l].batchNorm;
  gammaVar_.push_back(-1);
  betaVar_.push_back(-1);
  firstBuffer_.push_back(-1);
  if (bn.at == BatchNormAt::None) return;
  if (l + 1 == int(spec_.layers.size())) throw std::invalid_argument(where + ": batchNorm is covered on hidden layers only, not the softmax output");
  if (!(bn.momentum >= 0 && bn.momentum <= 1)) throw std::invalid_argument(where + ".batchNorm.momentum must be in [0, 1], got " + std::to_string(bn.momentum));
  if (!(bn.epsilon > 0)) throw std::invalid_argument(where + ".batchNorm.epsilon must be positive, got " + std::to_string(bn.epsilon));
  const size_t units = size_t(spec_.layers[l].units);
  if (bn.scale) {
    gammaVar_[l] = int(vars_.size());
    vars_.push_back(Var{nullptr, units, {}, {}});
  }
  if (bn.center) {
    betaVar_[l] = int(vars_.size());
    vars_.push_back(Var{nullptr, units, {}, {}});
  }
  firstBuffer_[l] = int(buffers_.size());
  for (int i = 0; i < 2; i++) {
    buffers_.push_back(nullptr);
    bufferLayer_.push_back(l);
  }
}

std::string Trainer::bufferName(int i) const {
  if (i < 0 || i >= bufferCount()) return "buffer " + std::to_string(i);
  if (bufferLayer_[i] < 0) return std::string("inputBatchNorm ") + (i == 0 ? "movingMean" : "movingVariance");
  return "layers[" + std::to_string(bufferLayer_[i]) + "] batchNorm " + (i == firstBuffer_[bufferLayer_[i]] ? "movingMean" : "movingVariance");
}

void Trainer::bindBuffer(int i, float* values) {
  if (i < 0 || i >= bufferCount()) throw std::out_of_range("buffer index " + std::to_string(i) + " out of range [0, " + std::to_string(bufferCount()) + ")");
  buffers_[i] = values;
}

BatchNormParams Trainer::batchNormParams(int l) const {
  const BatchNormSpec& bn = spec_.layers[l].batchNorm;
  BatchNormParams p;
  p.gamma = gammaVar(l) >= 0 ? vars_[gammaVar(l)].values : nullptr;
  p.beta = betaVar(l) >= 0 ? vars_[betaVar(l)].values : nullptr;
  p.movingMean = buffers_[firstBuffer_[l]];
  p.movingVariance = buffers_[firstBuffer_[l] + 1];
  p.epsilon = bn.epsilon;
  p.momentum = bn.momentum;
  return p;
}

// A hidden layer with BN: After, a = BN(act(z)) with h = act(z); Before, a = act(BN(z)) with h = BN(z).
// Training passes normalize by the batch's statistics (and move the moving ones), others by the moving ones.
void Trainer::normalizeActivate(Scratch& s, int l, int n) {
  const LayerSpec& L = spec_.layers[l];
  const bool after = L.batchNorm.at == BatchNormAt::After;
  const float* actIn = after ? s.z[l].data() : s.h[l].data();
  float* actOut = after ? s.h[l].data() : s.a[l].data();
  const float* bnIn = after ? s.h[l].data() : s.z[l].data();
  float* bnOut = after ? s.a[l].data() : s.h[l].data();
  const auto activation = [&] { activationForward(L, actIn, actOut, size_t(n) * L.units); };
  const auto normalize = [&] {
    const BatchNormParams p = batchNormParams(l);
    // A Dropout before the BN masks its input first, so the batch statistics see the dropped values (as Keras's do).
    if (s.training && L.batchNorm.dropout > 0) {
      drop(L.batchNorm.dropout, bnIn, s.bnMask[l].data(), s.bnInput[l].data(), size_t(n) * L.units);
      bnIn = s.bnInput[l].data();
    }
    if (s.training) bn::trainForward(p, bnIn, n, L.units, s.xhat[l].data(), s.invStd[l].data(), bnOut, bnAcc_);
    else bn::inferForward(p, bnIn, n, L.units, bnOut, bnAcc_);
  };
  if (after) {
    activation();
    normalize();
  } else {
    normalize();
    activation();
  }
}

// d: the loss gradient w.r.t. layer l's output a; becomes the gradient w.r.t. z, through the activation
// and BN in the layer's order. γ and β's gradients land in their variables' grad buffers.
void Trainer::batchNormGradient(Scratch& s, int l, int n, float* d) {
  const LayerSpec& L = spec_.layers[l];
  const bool after = L.batchNorm.at == BatchNormAt::After;
  const auto activation = [&](const float* x, const float* y) { activationBackward(L, x, y, d, size_t(n) * L.units); };
  const auto normalize = [&] {
    float* dgamma = gammaVar(l) >= 0 ? vars_[gammaVar(l)].grad.data() : nullptr;
    float* dbeta = betaVar(l) >= 0 ? vars_[betaVar(l)].grad.data() : nullptr;
    bn::backward(batchNormParams(l), d, s.xhat[l].data(), s.invStd[l].data(), n, L.units, dgamma, dbeta, bnAcc_);
    if (L.batchNorm.dropout > 0) {
      const float* mask = s.bnMask[l].data();
      for (size_t i = 0, size = size_t(n) * L.units; i < size; i++) d[i] *= mask[i];
    }
  };
  if (after) {
    normalize();
    activation(s.z[l].data(), s.h[l].data());
  } else {
    activation(s.h[l].data(), s.a[l].data());
    normalize();
  }
}

// γ and β of layer l, from the gradients batchNormGradient left (after it used γ for dx).
void Trainer::updateBatchNorm(int l) {
  for (int v : {gammaVar(l), betaVar(l)}) {
    if (v >= 0) updateVariable(v, vars_[v].grad.data(), vars_[v].values, 0);
  }
}

// --- BatchNormalization on the input -------------------------------------------------------------

// γ and β over the input's values, before every layer's variables (tfjs's trainableWeights order), and the
// moving statistics before every layer's buffers.
void Trainer::addInputBatchNorm() {
  const BatchNormSpec& bn = spec_.inputBatchNorm;
  if (bn.at == BatchNormAt::None) return;
  if (!(bn.momentum >= 0 && bn.momentum <= 1)) throw std::invalid_argument("inputBatchNorm.momentum must be in [0, 1], got " + std::to_string(bn.momentum));
  if (!(bn.epsilon > 0)) throw std::invalid_argument("inputBatchNorm.epsilon must be positive, got " + std::to_string(bn.epsilon));
  if (bn.dropout != 0) throw std::invalid_argument("inputBatchNorm.dropout is not supported (a Dropout before the first Dense is layers[0].dropout)");
  const size_t size = size_t(spec_.inputSize);
  if (bn.scale) {
    inputGamma_ = int(vars_.size());
    vars_.push_back(Var{nullptr, size, {}, std::vector<float>(size, 0.0f)});
  }
  if (bn.center) {
    inputBeta_ = int(vars_.size());
    vars_.push_back(Var{nullptr, size, {}, std::vector<float>(size, 0.0f)});
  }
  for (int i = 0; i < 2; i++) {
    buffers_.push_back(nullptr);
    bufferLayer_.push_back(-1);
  }
}

BatchNormParams Trainer::inputBatchNormParams() const {
  const BatchNormSpec& bn = spec_.inputBatchNorm;
  BatchNormParams p;
  p.gamma = inputGamma_ >= 0 ? vars_[inputGamma_].values : nullptr;
  p.beta = inputBeta_ >= 0 ? vars_[inputBeta_].values : nullptr;
  p.movingMean = buffers_[0];
  p.movingVariance = buffers_[1];
  p.epsilon = bn.epsilon;
  p.momentum = bn.momentum;
  return p;
}

// The input BN's γ and β gradients and update: the loss gradient w.r.t. the first Dense's input (dz·W₀ᵀ, through
// layer 0's dropout mask), then BN's backward pass. Reads W₀, so it runs before layer 0 is updated.
void Trainer::inputBatchNormGradient(Scratch& s, int n) {
  const int out = spec_.layers[0].units, in = spec_.inputSize;
  float* d = s.inputGrad.data();
  gemm(false, true, n, in, out, 1.0f, s.dz[0].data(), vars_[kernelVar(0)].values, 0.0f, d);
  if (spec_.layers[0].dropout > 0) {
    const float* mask = s.mask[0].data();
    for (size_t i = 0, size = size_t(n) * in; i < size; i++) d[i] *= mask[i];
  }
  float* dgamma = inputGamma_ >= 0 ? vars_[inputGamma_].grad.data() : nullptr;
  float* dbeta = inputBeta_ >= 0 ? vars_[inputBeta_].grad.data() : nullptr;
  bn::backward(inputBatchNormParams(), d, s.inputXhat.data(), s.inputInvStd.data(), n, in, dgamma, dbeta, bnAcc_);
  for (int v : {inputGamma_, inputBeta_}) {
    if (v >= 0) updateVariable(v, vars_[v].grad.data(), vars_[v].values, 0);
  }
}

}  // namespace fa
