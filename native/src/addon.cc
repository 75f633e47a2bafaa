// The N-API surface: sgemm for tfjs kernels, BLAS threads and identity, and the Trainer class.
// Arrays cross as views (Float32Array/Int32Array): nothing is copied, the trainer writes in place.
#include <napi.h>

#include <cmath>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "blas.h"
#include "kernels.h"
#include "pool.h"
#include "timer.h"
#include "trainer.h"

namespace {

constexpr const char* kVersion = "5";

// Library exceptions become JS errors: invalid_argument/out_of_range as RangeError, the rest as Error.
template <class F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::out_of_range& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// 4 as "4", 2.5 as "2.5", NaN as "NaN": numbers in messages read as the caller wrote them in JS.
std::string formatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == std::floor(v) && std::fabs(v) <= 9007199254740992.0) return std::to_string(int64_t(v));
  std::ostringstream s;
  s << std::setprecision(15) << v;
  return s.str();
}

Napi::TypedArray typedArray(const Napi::Value& v, napi_typedarray_type type, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(v.Env(), what + " must be a " + (type == napi_float32_array ? "Float32Array" : "Int32Array"));
  }
  return v.As<Napi::TypedArray>();
}

// The data of a Float32Array holding at least `minLength` elements.
float* floats(const Napi::Value& v, const std::string& what, size_t minLength) {
  Napi::Float32Array a = typedArray(v, napi_float32_array, what).As<Napi::Float32Array>();
  if (a.ElementLength() < minLength) {
    throw Napi::RangeError::New(v.Env(), what + " has " + std::to_string(a.ElementLength()) + " elements, needs " + std::to_string(minLength));
  }
  return a.Data();
}

std::string typeName(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsBigInt()) return "a bigint";
  return "an object";
}

// Every number from JS is checked here before a C++ conversion sees it: int(NaN), a double past a float's or
// an int's range, or a negative value made unsigned are undefined behaviour, not errors. A non-number is a
// TypeError; NaN, infinities and values out of range are a RangeError naming the range.
double number(const Napi::Value& v, const std::string& what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), what + " must be a number, got " + typeName(v));
  return v.As<Napi::Number>().DoubleValue();
}

double finiteIn(const Napi::Value& v, const std::string& what, double lo, double hi) {
  const double d = number(v, what);
  if (!(d >= lo && d <= hi)) {
    throw Napi::RangeError::New(v.Env(), what + " must be a finite number in [" + formatNumber(lo) + ", " + formatNumber(hi) + "], got " + formatNumber(d));
  }
  return d;
}

double integerIn(const Napi::Value& v, const std::string& what, double lo, double hi) {
  const double d = number(v, what);
  if (!(d >= lo && d <= hi && d == std::floor(d))) {
    throw Napi::RangeError::New(v.Env(), what + " must be an integer in [" + formatNumber(lo) + ", " + formatNumber(hi) + "], got " + formatNumber(d));
  }
  return d;
}

int integer(const Napi::Value& v, const std::string& what) { return int(integerIn(v, what, 0, 2147483647.0)); }

// Largest magnitude a float holds; a hyper-parameter past it would become inf on conversion.
constexpr double kFloatMax = 3.4028234663852886e38;
// Integers a double holds exactly (Number.MAX_SAFE_INTEGER), for seeds.
constexpr double kSafeInteger = 9007199254740991.0;

Napi::Value field(const Napi::Object& o, const char* key) { return o.Get(key); }
bool absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

// o[key] as a finite number in [lo, hi], or fallback when absent; `where` prefixes the key in messages.
double numberOr(const Napi::Object& o, const char* key, double fallback, double lo = -kFloatMax, double hi = kFloatMax, const std::string& where = "") {
  const Napi::Value v = field(o, key);
  return absent(v) ? fallback : finiteIn(v, where + key, lo, hi);
}

int intOr(const Napi::Object& o, const char* key, int fallback, int lo, int hi, const std::string& where = "") {
  const Napi::Value v = field(o, key);
  return absent(v) ? fallback : int(integerIn(v, where + key, lo, hi));
}

// A seed: an integer a double holds exactly, so every seed JS can write reaches the generator unchanged.
double intOr64(const Napi::Object& o, const char* key, double fallback) {
  const Napi::Value v = field(o, key);
  return absent(v) ? fallback : integerIn(v, key, 0, kSafeInteger);
}

bool boolOr(const Napi::Object& o, const char* key, bool fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return v.ToBoolean().Value();
}

std::string stringOr(const Napi::Object& o, const char* key, const std::string& fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// sgemm(transA, transB, m, n, k, alpha, A, B, beta, C): row-major C = alpha·op(A)·op(B) + beta·C.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 10) throw Napi::TypeError::New(env, "sgemm(transA, transB, m, n, k, alpha, A, B, beta, C) takes 10 arguments");
  const bool ta = info[0].ToBoolean(), tb = info[1].ToBoolean();
  const int m = integer(info[2], "m"), n = integer(info[3], "n"), k = integer(info[4], "k");
  const float alpha = float(finiteIn(info[5], "alpha", -kFloatMax, kFloatMax)), beta = float(finiteIn(info[8], "beta", -kFloatMax, kFloatMax));
  const float* a = floats(info[6], "A", size_t(m) * k);
  const float* b = floats(info[7], "B", size_t(k) * n);
  float* c = floats(info[9], "C", size_t(m) * n);
  fa::sgemm(ta, tb, m, n, k, alpha, a, b, beta, c);
  return env.Undefined();
}

// A thread per core at most matters; 1024 bounds a typo (1e9 threads) before std::thread tries it.
int threadCount(const Napi::CallbackInfo& info) { return int(integerIn(info[0], "threads", 1, 1024)); }

// setThreads(n): threads for the addon's own kernels (the training step's large products), the caller's
// included. BLAS keeps its own count (setBlasThreads): its helpers would spin on the same cores.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  fa::Pool::instance().setThreads(threadCount(info));
  return info.Env().Undefined();
}

Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  fa::setThreads(threadCount(info));
  return info.Env().Undefined();
}

Napi::Value GetBlasThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fa::threads()); }

// useOwnKernels(on): the addon's AVX-512 forward kernel at batch sizes, or BLAS for every product.
// Returns whether the kernel is in use now (false when the build has no AVX-512).
Napi::Value UseOwnKernels(const Napi::CallbackInfo& info) {
  if (info.Length() > 0) fa::setOwnKernels(info[0].ToBoolean());
  return Napi::Boolean::New(info.Env(), fa::ownKernels());
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fa::Pool::instance().threads()); }

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", kVersion);
  o.Set("blas", fa::blasName());
  o.Set("core", fa::blasCore());
  o.Set("threads", fa::Pool::instance().threads());
  o.Set("blasThreads", fa::threads());
  // The kernels that run, not the build's flags: the build is baseline, the kernels are chosen at load.
  o.Set("kernels", fa::kernelSetName(fa::kernelSet()));
  o.Set("cpuKernels", fa::kernelSetName(fa::cpuKernelSet()));
#if defined(__x86_64__)
  o.Set("build", "x86-64 baseline");
#elif defined(__aarch64__)
  o.Set("build", "arm64 baseline");
#else
  o.Set("build", "baseline");
#endif
  o.Set("compiler", __VERSION__);
  o.Set("ownKernels", fa::ownKernels());
  return o;
}

fa::BatchNormSpec batchNormSpec(const Napi::Value& value, const std::string& where) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), where + " must be an object { position, dropout, momentum, epsilon, center, scale }");
  const Napi::Object b = value.As<Napi::Object>();
  fa::BatchNormSpec spec;
  const std::string position = stringOr(b, "position", "after");
  if (position == "after") spec.at = fa::BatchNormAt::After;
  else if (position == "before") spec.at = fa::BatchNormAt::Before;
  else throw Napi::RangeError::New(b.Env(), where + ".position must be after or before, got " + position);
  spec.momentum = numberOr(b, "momentum", spec.momentum, 0, 1, where + ".");
  spec.epsilon = numberOr(b, "epsilon", spec.epsilon, 0, kFloatMax, where + ".");
  spec.center = boolOr(b, "center", true);
  spec.scale = boolOr(b, "scale", true);
  spec.dropout = float(numberOr(b, "dropout", 0, 0, 1, where + "."));
  if (spec.dropout == 1) throw Napi::RangeError::New(b.Env(), where + ".dropout must be in [0, 1), got 1");
  return spec;
}

fa::LayerSpec layerSpec(const Napi::Object& o, bool last, size_t index) {
  const std::string where = "layers[" + std::to_string(index) + "]";
  fa::LayerSpec L;
  // 2^24 units bounds a layer's scratch (rows x units floats) well inside size_t and int arithmetic.
  L.units = intOr(o, "units", 0, 1, 1 << 24, where + ".");
  const std::string activation = stringOr(o, "activation", last ? "softmax" : "linear");
  if (last) {
    if (activation != "softmax") throw Napi::RangeError::New(o.Env(), where + ": the last layer must be softmax, got " + activation);
  } else if (!fa::parseActivation(activation, &L.activation)) {
    throw Napi::RangeError::New(o.Env(), where + ": activation " + activation + " is not supported");
  }
  L.alpha = float(numberOr(o, "alpha", 0.3, -kFloatMax, kFloatMax, where + "."));
  L.dropout = float(numberOr(o, "dropout", 0, 0, 1, where + "."));
  if (L.dropout == 1) throw Napi::RangeError::New(o.Env(), where + ".dropout must be in [0, 1), got 1");
  L.l2 = float(numberOr(o, "l2", 0, 0, kFloatMax, where + "."));
  L.useBias = boolOr(o, "useBias", true);
  const Napi::Value bn = o.Get("batchNorm");
  if (!bn.IsUndefined() && !bn.IsNull()) L.batchNorm = batchNormSpec(bn, where + ".batchNorm");
  return L;
}

fa::OptimizerSpec optimizerSpec(const Napi::Object& o) {
  fa::OptimizerSpec s;
  const std::string kind = stringOr(o, "kind", "sgd");
  if (!fa::parseOptimizerKind(kind, &s.kind)) throw Napi::RangeError::New(o.Env(), "optimizer.kind " + kind + " is not one of sgd, momentum, adam, rmsprop, nadam, adamw, adamax, adagrad, adadelta");
  const std::string w = "optimizer.";
  s.learningRate = numberOr(o, "learningRate", s.learningRate, 0, kFloatMax, w);
  s.momentum = numberOr(o, "momentum", s.momentum, 0, kFloatMax, w);
  s.nesterov = boolOr(o, "nesterov", s.nesterov);
  s.beta1 = numberOr(o, "beta1", s.beta1, 0, 1, w);
  s.beta2 = numberOr(o, "beta2", s.beta2, 0, 1, w);
  s.epsilon = numberOr(o, "epsilon", s.epsilon, 0, kFloatMax, w);
  s.decay = numberOr(o, "decay", s.decay, 0, kFloatMax, w);
  s.centered = boolOr(o, "centered", s.centered);
  s.rho = numberOr(o, "rho", s.rho, 0, kFloatMax, w);
  s.weightDecay = numberOr(o, "weightDecay", s.weightDecay, 0, kFloatMax, w);
  // Per-step factors the JS side computes (nadam's momentum schedule, adamax's correction): finite is the check.
  s.alpha = numberOr(o, "alpha", s.alpha, -kFloatMax, kFloatMax, w);
  s.momentumWeight = numberOr(o, "momentumWeight", s.momentumWeight, -kFloatMax, kFloatMax, w);
  s.gradientWeight = numberOr(o, "gradientWeight", s.gradientWeight, -kFloatMax, kFloatMax, w);
  s.secondMomentCorrection = numberOr(o, "secondMomentCorrection", s.secondMomentCorrection, -kFloatMax, kFloatMax, w);
  return s;
}

fa::TrainerSpec trainerSpec(const Napi::Object& o) {
  Napi::Env env = o.Env();
  fa::TrainerSpec spec;
  spec.inputSize = intOr(o, "inputSize", 0, 1, 1 << 24);
  spec.maxBatch = intOr(o, "maxBatch", 32, 1, 1 << 20);
  const Napi::Value layers = o.Get("layers");
  if (!layers.IsArray()) throw Napi::TypeError::New(env, "layers must be an array of { units, activation, ... }");
  const Napi::Array arr = layers.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    const Napi::Value l = arr.Get(i);
    if (!l.IsObject()) throw Napi::TypeError::New(env, "layers[" + std::to_string(i) + "] must be an object");
    spec.layers.push_back(layerSpec(l.As<Napi::Object>(), i + 1 == arr.Length(), i));
  }
  const Napi::Value opt = o.Get("optimizer");
  if (opt.IsObject()) spec.optimizer = optimizerSpec(opt.As<Napi::Object>());
  spec.clipnorm = numberOr(o, "clipnorm", 0, 0, kFloatMax);
  spec.clipvalue = numberOr(o, "clipvalue", 0, 0, kFloatMax);
  spec.seed = uint64_t(intOr64(o, "seed", 42));
  spec.keepGradients = boolOr(o, "keepGradients", false);
  const Napi::Value inputBn = o.Get("inputBatchNorm");
  if (!inputBn.IsUndefined() && !inputBn.IsNull()) spec.inputBatchNorm = batchNormSpec(inputBn, "inputBatchNorm");
  return spec;
}

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Trainer",
                       {
                           InstanceMethod<&TrainerWrap::BindVariable>("bindVariable"),
                           InstanceMethod<&TrainerWrap::BindState>("bindState"),
                           InstanceMethod<&TrainerWrap::BindBuffer>("bindBuffer"),
                           InstanceMethod<&TrainerWrap::Step>("step"),
                           InstanceMethod<&TrainerWrap::StepRows>("stepRows"),
                           InstanceMethod<&TrainerWrap::Evaluate>("evaluate"),
                           InstanceMethod<&TrainerWrap::Predict>("predict"),
                           InstanceMethod<&TrainerWrap::SetLearningRate>("setLearningRate"),
                           InstanceMethod<&TrainerWrap::SetOptimizer>("setOptimizer"),
                           InstanceMethod<&TrainerWrap::SetSeed>("setSeed"),
                           InstanceMethod<&TrainerWrap::Gradient>("gradient"),
                           InstanceMethod<&TrainerWrap::GetCounters>("counters"),
                           InstanceMethod<&TrainerWrap::ResetCounters>("resetCounters"),
                           InstanceAccessor<&TrainerWrap::VariableCount>("variableCount"),
                           InstanceAccessor<&TrainerWrap::SlotsPerVariable>("slotsPerVariable"),
                           InstanceAccessor<&TrainerWrap::StateSize>("stateSize"),
                           InstanceAccessor<&TrainerWrap::BufferCount>("bufferCount"),
                           InstanceAccessor<&TrainerWrap::LearningRate>("learningRate"),
                       });
  }

  explicit TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "new Trainer(spec) needs a spec object");
    fa::TrainerSpec spec = trainerSpec(info[0].As<Napi::Object>());
    trainer_ = guarded(env, [&] { return std::make_unique<fa::Trainer>(std::move(spec)); });
    varRefs_.resize(trainer_->variableCount());
    stateRefs_.resize(trainer_->stateSize());
    bufferRefs_.resize(trainer_->bufferCount());
  }

 private:
  // bindVariable(index, values, slots[]): the trainer reads and writes these arrays from now on. The
  // references keep them alive; a later bind of the same index releases the old ones.
  Napi::Value BindVariable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int i = integer(info[0], "index");
    if (i >= trainer_->variableCount()) throw Napi::RangeError::New(env, "variable index " + std::to_string(i) + " out of range");
    const size_t size = trainer_->variableSize(i);
    const std::string name = trainer_->variableName(i);
    std::vector<Napi::ObjectReference> refs;
    float* values = floats(info[1], name, size);
    refs.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
    std::vector<float*> slots;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      if (!info[2].IsArray()) throw Napi::TypeError::New(env, name + ": slots must be an array of Float32Array");
      const Napi::Array arr = info[2].As<Napi::Array>();
      for (uint32_t s = 0; s < arr.Length(); s++) {
        slots.push_back(floats(arr.Get(s), name + " slot " + std::to_string(s), size));
        refs.push_back(Napi::Persistent(arr.Get(s).As<Napi::Object>()));
      }
    }
    guarded(env, [&] { trainer_->bindVariable(i, values, slots); });
    varRefs_[i] = std::move(refs);
    return env.Undefined();
  }

  Napi::Value BindState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int i = integer(info[0], "index");
    float* value = floats(info[1], "optimizer state " + std::to_string(i), 1);
    guarded(env, [&] { trainer_->bindState(i, value); });
    stateRefs_[i] = Napi::Persistent(info[1].As<Napi::Object>());
    return env.Undefined();
  }

  // bindBuffer(index, values): a BatchNormalization's moving mean or variance, updated in place by steps.
  Napi::Value BindBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int i = integer(info[0], "index");
    if (i >= trainer_->bufferCount()) throw Napi::RangeError::New(env, "buffer index " + std::to_string(i) + " out of range [0, " + std::to_string(trainer_->bufferCount()) + ")");
    float* values = floats(info[1], trainer_->bufferName(i), trainer_->bufferSize(i));
    guarded(env, [&] { trainer_->bindBuffer(i, values); });
    bufferRefs_[i] = Napi::Persistent(info[1].As<Napi::Object>());
    return env.Undefined();
  }

  // Labels as Int32Array, Float32Array or Uint8Array of class indices, read at rows[i] (or i); checked,
  // since a bad index would read outside the logits.
  const int32_t* labels(const Napi::Value& v, int n, const uint32_t* rows = nullptr) {
    Napi::Env env = v.Env();
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env, "labels must be an Int32Array, Float32Array or Uint8Array");
    const Napi::TypedArray t = v.As<Napi::TypedArray>();
    const size_t length = t.ElementLength();
    if (!rows && length < size_t(n)) throw Napi::RangeError::New(env, "labels has " + std::to_string(length) + " elements, needs " + std::to_string(n));
    const napi_typedarray_type type = t.TypedArrayType();
    if (type != napi_int32_array && type != napi_float32_array && type != napi_uint8_array) {
      throw Napi::TypeError::New(env, "labels must be an Int32Array, Float32Array or Uint8Array");
    }
    const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    labels_.resize(n);
    const int k = trainer_->classes();
    for (int i = 0; i < n; i++) {
      const size_t at = rows ? rows[i] : size_t(i);
      if (at >= length) throw Napi::RangeError::New(env, "row " + std::to_string(at) + " is past the " + std::to_string(length) + " labels");
      double y;
      if (type == napi_int32_array) y = reinterpret_cast<const int32_t*>(base)[at];
      else if (type == napi_float32_array) y = reinterpret_cast<const float*>(base)[at];
      else y = base[at];
      if (!(y >= 0 && y < k && y == std::floor(y))) {
        throw Napi::RangeError::New(env, "labels[" + std::to_string(at) + "] = " + formatNumber(y) + " is not a class index in [0, " + std::to_string(k) + ")");
      }
      labels_[i] = int32_t(y);
    }
    return labels_.data();
  }

  // Row indices as Uint32Array or Int32Array (both 4-byte; negative Int32 values fail the range check).
  static const uint32_t* rowIndices(const Napi::Value& v) {
    if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "rows must be a Uint32Array or Int32Array");
    const Napi::TypedArray t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() != napi_uint32_array && t.TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(v.Env(), "rows must be a Uint32Array or Int32Array");
    return reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset());
  }

  Napi::Value result(Napi::Env env, const fa::StepResult& r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", r.loss);
    o.Set("correct", r.correct);
    o.Set("regularization", r.regularization);
    return o;
  }

  // step(x, labels, n) → { loss, correct, regularization }
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int n = integer(info[2], "n");
    const float* x = floats(info[0], "x", size_t(n) * trainer_->inputSize());
    const int32_t* y = labels(info[1], n);
    return result(env, guarded(env, [&] { return trainer_->step(x, y, n); }));
  }

  // stepRows(x, labels, rows[, next]): step on rows `rows` of the whole set x [N, inputSize] / labels [N],
  // copied here into one batch buffer; spares the caller a JS copy loop and a subarray object per row.
  // `next`, the following batch's rows, is prefetched while this step computes: a shuffled batch is 32
  // scattered 3 KB rows of a 170 MB array, so its gather otherwise waits on DRAM.
  Napi::Value StepRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const size_t width = size_t(trainer_->inputSize());
    const Napi::Float32Array x = typedArray(info[0], napi_float32_array, "x").As<Napi::Float32Array>();
    const uint32_t* rows = rowIndices(info[2]);
    const size_t count = info[2].As<Napi::TypedArray>().ElementLength();
    if (count > size_t(1) << 20) throw Napi::RangeError::New(env, "rows has " + std::to_string(count) + " elements; a batch holds at most 1048576");
    const int n = int(count);
    const size_t available = x.ElementLength() / width;
    const int64_t t0 = fa::nowNs();
    const int32_t* y = labels(info[1], n, rows);
    batch_.resize(size_t(n) * width);
    for (int i = 0; i < n; i++) {
      if (rows[i] >= available) throw Napi::RangeError::New(env, "row " + std::to_string(rows[i]) + " is past the " + std::to_string(available) + " rows of x");
      std::copy_n(x.Data() + rows[i] * width, width, batch_.data() + size_t(i) * width);
    }
    if (info.Length() > 3 && !info[3].IsUndefined()) prefetchRows(x.Data(), available, width, info[3]);
    gatherNs_ += fa::nowNs() - t0;
    return result(env, guarded(env, [&] { return trainer_->step(batch_.data(), y, n); }));
  }

  static void prefetchRows(const float* x, size_t available, size_t width, const Napi::Value& next) {
    const uint32_t* rows = rowIndices(next);
    const size_t count = next.As<Napi::TypedArray>().ElementLength();
    for (size_t i = 0; i < count; i++) {
      if (rows[i] >= available) continue;  // checked when that batch is stepped
      const char* row = reinterpret_cast<const char*>(x + rows[i] * width);
      for (size_t b = 0; b < width * sizeof(float); b += 64) __builtin_prefetch(row + b, 0, 1);
    }
  }

  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int n = integer(info[2], "n");
    const float* x = floats(info[0], "x", size_t(n) * trainer_->inputSize());
    const int32_t* y = labels(info[1], n);
    return result(env, guarded(env, [&] { return trainer_->evaluate(x, y, n); }));
  }

  // predict(x, n, out): out[n, classes] ← softmax probabilities.
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int n = integer(info[1], "n");
    const float* x = floats(info[0], "x", size_t(n) * trainer_->inputSize());
    float* out = floats(info[2], "out", size_t(n) * trainer_->classes());
    guarded(env, [&] { trainer_->predict(x, n, out); });
    return env.Undefined();
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    trainer_->setLearningRate(finiteIn(info[0], "learning rate", 0, kFloatMax));
    return info.Env().Undefined();
  }

  Napi::Value SetOptimizer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "setOptimizer(spec) needs an optimizer spec object");
    const fa::OptimizerSpec spec = optimizerSpec(info[0].As<Napi::Object>());
    guarded(env, [&] { trainer_->setOptimizer(spec); });
    return env.Undefined();
  }

  Napi::Value SetSeed(const Napi::CallbackInfo& info) {
    trainer_->setSeed(uint64_t(integerIn(info[0], "seed", 0, kSafeInteger)));
    return info.Env().Undefined();
  }

  // gradient(index): a copy of the gradient the last step applied (trainer built with keepGradients).
  Napi::Value Gradient(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int i = integer(info[0], "index");
    const std::vector<float>& g = guarded(env, [&]() -> const std::vector<float>& { return trainer_->gradient(i); });
    Napi::Float32Array out = Napi::Float32Array::New(env, g.size());
    std::copy(g.begin(), g.end(), out.Data());
    return out;
  }

  Napi::Value GetCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const fa::Counters& c = trainer_->counters;
    Napi::Object o = Napi::Object::New(env);
    o.Set("steps", double(c.steps));
    o.Set("stepMs", double(c.stepNs) / 1e6);
    o.Set("sgemmMs", double(c.sgemmNs) / 1e6);
    o.Set("sgemmCalls", double(c.sgemmCalls));
    o.Set("evalRows", double(c.evalRows));
    o.Set("evalMs", double(c.evalNs) / 1e6);
    o.Set("gatherMs", double(gatherNs_) / 1e6);
    return o;
  }

  Napi::Value ResetCounters(const Napi::CallbackInfo& info) {
    trainer_->counters = fa::Counters{};
    gatherNs_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value VariableCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trainer_->variableCount()); }
  Napi::Value SlotsPerVariable(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trainer_->slotsPerVariable()); }
  Napi::Value StateSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trainer_->stateSize()); }
  Napi::Value BufferCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trainer_->bufferCount()); }
  Napi::Value LearningRate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), trainer_->optimizer().learningRate); }

  std::unique_ptr<fa::Trainer> trainer_;
  std::vector<std::vector<Napi::ObjectReference>> varRefs_;
  std::vector<Napi::ObjectReference> stateRefs_, bufferRefs_;
  std::vector<int32_t> labels_;
  std::vector<float> batch_;
  int64_t gatherNs_ = 0;  // stepRows' label check, row copy and prefetch
};

// poolCheck(tasks): runs `tasks` tasks on the kernel pool (threads from setThreads, at least 2), each throwing
// when a helper thread runs it, and the first one on the caller waiting up to 10 s for a helper to start.
// It exists so a test can see a helper thread's exception reach JS as an Error instead of ending the process.
Napi::Value PoolCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int tasks = int(integerIn(info[0], "tasks", 2, 1 << 16));
  if (fa::Pool::instance().threads() < 2) throw Napi::RangeError::New(env, "poolCheck needs setThreads(2) or more first");
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> helperStarted{false};
  const int64_t until = fa::nowNs() + 10'000'000'000;
  guarded(env, [&] {
    fa::Pool::instance().run(tasks, [&](int i) {
      if (std::this_thread::get_id() != caller) {
        helperStarted = true;
        throw std::runtime_error("task " + std::to_string(i) + " failed on a pool helper thread");
      }
      while (!helperStarted && fa::nowNs() < until) std::this_thread::yield();
    }, true);
  });
  return Napi::Boolean::New(env, helperStarted);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Which kernels run: the best the CPU has, unless FASHION_ANN_NATIVE_KERNELS names a narrower set (tests
  // compare them; a bad name fails the load with its sentence, which the loader reports as the reason).
  const char* kernels = std::getenv("FASHION_ANN_NATIVE_KERNELS");
  guarded(env, [&] { fa::chooseKernelSet(kernels ? kernels : ""); });
  // One thread unless asked, for the kernels and for BLAS: at batch 32 BLAS's second thread costs more
  // in wake-ups than it gains, and a fixed split stalls on a core another process is using. The
  // kernels' work sharing (pool.h) does gain from a free second core; the caller decides (setThreads).
  fa::setThreads(1);
  exports.Set("sgemm", Napi::Function::New<Sgemm>(env, "sgemm"));
  exports.Set("setThreads", Napi::Function::New<SetThreads>(env, "setThreads"));
  exports.Set("getThreads", Napi::Function::New<GetThreads>(env, "getThreads"));
  exports.Set("setBlasThreads", Napi::Function::New<SetBlasThreads>(env, "setBlasThreads"));
  exports.Set("getBlasThreads", Napi::Function::New<GetBlasThreads>(env, "getBlasThreads"));
  exports.Set("useOwnKernels", Napi::Function::New<UseOwnKernels>(env, "useOwnKernels"));
  exports.Set("info", Napi::Function::New<Info>(env, "info"));
  exports.Set("poolCheck", Napi::Function::New<PoolCheck>(env, "poolCheck"));
  exports.Set("version", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kVersion); }, "version"));
  exports.Set("Trainer", TrainerWrap::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(fashion_ann_native, Init)
