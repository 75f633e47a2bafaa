#include "blas.h"

namespace fa {

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  const int lda = transA ? m : k;
  const int ldb = transB ? k : n;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
              lda, b, ldb, beta, c, n);
}

#ifdef __APPLE__
void setThreads(int) {}
int threads() { return 0; }
std::string blasName() { return "Accelerate"; }
std::string blasCore() { return "Accelerate"; }
#else
void setThreads(int n) { openblas_set_num_threads(n); }
int threads() { return openblas_get_num_threads(); }
std::string blasName() { return openblas_get_config(); }
std::string blasCore() { return openblas_get_corename(); }
#endif

}  // namespace fa
