#pragma once

// Denormal floats (|x| < 2^-126) cost about a hundred cycles per operation on x86 unless the CPU flushes them. The
// optimizers' moments reach them in ordinary training: a weight whose gradient is exactly zero (a border pixel that
// is 0 in every image, a dead ReLU unit) has its first moment multiplied by β₁ every step, so after ~800 steps it is
// denormal for ~150 more. A Fashion-MNIST Adam epoch took 4-8 s instead of ~1 s that way. TensorFlow, and so Keras on
// CPU, flushes denormals to zero on its threads for the same reason (tensorflow/core/platform/denormal.h); the native
// engine does too, inside its calls only: the caller's thread gets its own mode back, so JavaScript's arithmetic and
// the tfjs backends keep IEEE denormals.

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace fa {

#if defined(__x86_64__) || defined(_M_X64)
// MXCSR's flush-to-zero (results) and denormals-are-zero (inputs) bits.
constexpr unsigned kFlushDenormalBits = 0x8040;

inline void flushDenormalsOnThisThread() { _mm_setcsr(_mm_getcsr() | kFlushDenormalBits); }

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushDenormalBits); }
  ~ScopedFlushDenormals() { _mm_setcsr(saved_); }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_;
};
#else
// Elsewhere (arm64's FPCR.FZ) the mode is left as it is: the addon's arm64 build runs the BLAS path only.
inline void flushDenormalsOnThisThread() {}
class ScopedFlushDenormals {};
#endif

}  // namespace fa
