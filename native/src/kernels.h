// Hand-written matrix kernels for shapes where a general BLAS loses time: the training step's products
// with the large weight matrix at batch 32. BLAS packs the whole right-hand matrix (the 784x300 weights, ~1 MB) into its
// panel format on every call, since the weights change every step; at 32 rows that copy costs about a
// third of the product. Dense weights are row-major [in, units], already contiguous along the output
// columns, so an AVX-512 kernel can stream them as they are.
#pragma once

#include <functional>
#include <string>

namespace fa {

// Where the kernels beat BLAS: up to 64 rows (evaluation's larger chunks go to BLAS) and weights of at
// least 64K values, where packing them costs. Measured at 32 rows: forward 784x300 130 µs against
// OpenBLAS's 177 (300x100: 18 against 17, so BLAS keeps it); weight gradient 784x288 128 against 145.
constexpr int kSmallBatchRows = 64;
constexpr long kLargeWeights = 65536;
inline bool kernelPays(int rows, int n, int k) { return rows <= kSmallBatchRows && long(n) * k >= kLargeWeights; }

// The kernels in use, chosen at run time from what the CPU supports: AVX-512, AVX2 (with FMA), or none
// ("baseline": every product goes to BLAS, as on arm64). Declared in the order of preference.
enum class KernelSet { Blas = 0, Avx2 = 1, Avx512 = 2 };
const char* kernelSetName(KernelSet set);
KernelSet cpuKernelSet();  // the best this CPU supports
KernelSet kernelSet();     // the one in use
// "auto" or "" (the best), "avx512", "avx2" or "baseline"; throws std::invalid_argument for another name or
// for a set the CPU lacks. FASHION_ANN_NATIVE_KERNELS passes through here when the addon loads.
void chooseKernelSet(const std::string& request);

// Whether denseForward may use the kernels (default yes); the benchmark turns them off to compare with BLAS.
void setOwnKernels(bool enabled);
bool ownKernels();  // switched on and a kernel set other than baseline in use

// z[m, n] = x[m, k] · w[k, n] (+ bias[n] when not null), all row-major and tight. Returns false when the
// CPU has neither AVX-512 nor AVX2 or the kernels are switched off (the caller then uses sgemm).
bool denseForwardKernel(int m, int n, int k, const float* x, const float* w, const float* bias, float* z);

// Told that rows [r0, r1) of w are final, on the thread that wrote them while they are still in its
// cache: the trainer applies the optimizer there instead of reading the whole gradient back afterwards.
// `rows` holds them, (r1 - r0) x n row-major: w + r0·n, or the thread's scratch when w is null.
using RowsDone = std::function<void(int r0, int r1, float* rows)>;

// w[k, n] = alpha · x[m, k]ᵀ · dz[m, n] + (accumulate ? w : 0): a Dense kernel's gradient (or, with
// accumulate and alpha = -lr, its SGD update) straight into row-major w. Same conditions as above.
// rowsDone, when given, is called once per finished block of rows (8 at most), from any pool thread.
// With rowsDone, w may be null (and accumulate false): each block then lives only in a small per-thread
// scratch until rowsDone has used it, so the whole gradient is never written to memory.
bool weightGradientKernel(int m, int n, int k, float alpha, const float* x, const float* dz, bool accumulate, float* w,
                          const RowsDone* rowsDone = nullptr);

}  // namespace fa
