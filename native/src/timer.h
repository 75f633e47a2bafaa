// Wall-clock counters, so a benchmark can tell BLAS time from everything else in a step.
#pragma once

#include <cstdint>
#include <ctime>

namespace fa {

inline int64_t nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);  // vDSO: ~20 ns, cheap next to a 10 µs GEMM
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

struct Counters {
  int64_t steps = 0;
  int64_t stepNs = 0;   // whole step() calls, inside the addon
  int64_t sgemmNs = 0;  // the matrix products within them (BLAS and kernels.h)
  int64_t sgemmCalls = 0;  // in steps
  int64_t evalRows = 0;
  int64_t evalNs = 0;   // evaluate() and predict()
};

}  // namespace fa
