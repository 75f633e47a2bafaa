#include "kernels.h"

#include "pool.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

// GCC's target pragmas; clang (macOS) ignores them, so there the products go to BLAS (Accelerate), reported as such.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FA_X86_KERNELS 1
#include <immintrin.h>
#endif

namespace fa {

#if defined(FA_X86_KERNELS)

// The addon is compiled for the baseline x86-64 level (binding.gyp), so it loads on any x86-64 CPU; these
// two regions alone are compiled for wider vectors, and run only where the CPU reports them
// (__builtin_cpu_supports, which also checks that the OS saves the vector registers). The pragma, rather
// than __attribute__((target)) on each function, also covers the templates and the lambdas inside.
#pragma GCC push_options
#pragma GCC target("avx512f,fma")
namespace avx512 {
using Vec = __m512;
using Mask = __mmask16;
constexpr int kWidth = 16;
constexpr int kMaxRows = 8;  // 8 x 3 accumulators of the 32 zmm registers
inline Mask fullMask() { return Mask(0xffff); }
inline Mask tailMask(int cols) { return Mask((1u << cols) - 1); }
inline Vec load(Mask m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
inline void store(float* p, Mask m, Vec v) { _mm512_mask_storeu_ps(p, m, v); }
inline Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec broadcast(float x) { return _mm512_set1_ps(x); }
inline Vec zero() { return _mm512_setzero_ps(); }
#include "kernels_simd.inc"
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
using Vec = __m256;
using Mask = __m256i;
constexpr int kWidth = 8;
constexpr int kMaxRows = 4;  // 4 x 3 accumulators + 3 weight vectors + 1 broadcast = the 16 ymm registers
inline Mask fullMask() { return _mm256_set1_epi32(-1); }
inline Mask tailMask(int cols) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
inline Vec load(Mask m, const float* p) { return _mm256_maskload_ps(p, m); }
inline void store(float* p, Mask m, Vec v) { _mm256_maskstore_ps(p, m, v); }
inline Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec broadcast(float x) { return _mm256_set1_ps(x); }
inline Vec zero() { return _mm256_setzero_ps(); }
#include "kernels_simd.inc"
}  // namespace avx2
#pragma GCC pop_options

#endif

namespace {

bool enabled = true;

KernelSet supported() {
#if defined(FA_X86_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return KernelSet::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return KernelSet::Avx2;
#endif
  return KernelSet::Blas;
}

KernelSet active = supported();

}  // namespace

const char* kernelSetName(KernelSet set) {
  switch (set) {
    case KernelSet::Avx512: return "avx512";
    case KernelSet::Avx2: return "avx2";
    default: return "baseline";
  }
}

KernelSet cpuKernelSet() { return supported(); }

KernelSet kernelSet() { return active; }

void chooseKernelSet(const std::string& request) {
  const KernelSet best = supported();
  KernelSet wanted;
  if (request.empty() || request == "auto") wanted = best;
  else if (request == "baseline") wanted = KernelSet::Blas;
  else if (request == "avx2") wanted = KernelSet::Avx2;
  else if (request == "avx512") wanted = KernelSet::Avx512;
  else throw std::invalid_argument("FASHION_ANN_NATIVE_KERNELS=" + request + " is not one of auto, avx512, avx2, baseline");
  if (int(wanted) > int(best)) {
    throw std::invalid_argument(std::string("FASHION_ANN_NATIVE_KERNELS=") + request + " asks for kernels this CPU lacks (it supports " +
                                kernelSetName(best) + ")");
  }
  active = wanted;
}

void setOwnKernels(bool on) { enabled = on; }

bool ownKernels() { return enabled && active != KernelSet::Blas; }

bool denseForwardKernel(int m, int n, int k, const float* x, const float* w, const float* bias, float* z) {
  if (!ownKernels()) return false;
#if defined(FA_X86_KERNELS)
  if (active == KernelSet::Avx512) avx512::denseForward(m, n, k, x, w, bias, z);
  else avx2::denseForward(m, n, k, x, w, bias, z);
  return true;
#else
  (void)m, (void)n, (void)k, (void)x, (void)w, (void)bias, (void)z;
  return false;
#endif
}

bool weightGradientKernel(int m, int n, int k, float alpha, const float* x, const float* dz, bool accumulate, float* w,
                          const RowsDone* rowsDone) {
  if (!ownKernels() || (!w && (!rowsDone || accumulate))) return false;
#if defined(FA_X86_KERNELS)
  if (active == KernelSet::Avx512) avx512::weightGradient(m, n, k, alpha, x, dz, accumulate, w, rowsDone);
  else avx2::weightGradient(m, n, k, alpha, x, dz, accumulate, w, rowsDone);
  return true;
#else
  (void)m, (void)n, (void)k, (void)alpha, (void)x, (void)dz, (void)accumulate, (void)w, (void)rowsDone;
  return false;
#endif
}

}  // namespace fa
