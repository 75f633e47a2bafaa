// The one place that knows which BLAS the addon links: OpenBLAS on Linux, Accelerate on macOS.
#pragma once

#include <string>

#ifdef __APPLE__
#define ACCELERATE_NEW_LAPACK 1
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
// Declared here as well as in OpenBLAS's cblas.h: on Debian, cblas.h is an alternatives link that may
// point at the reference CBLAS header, which lacks these, while -lopenblas still provides them.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

namespace fa {

// Row-major C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C, with tight leading dimensions.
void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c);

// BLAS threads. OpenBLAS only; Accelerate has no runtime switch (VECLIB_MAXIMUM_THREADS is read at start).
void setThreads(int n);
int threads();

// "OpenBLAS 0.3.21 ... Cooperlake" or "Accelerate".
std::string blasName();
std::string blasCore();

}  // namespace fa
