#include "kernels.h"

#include "pool.h"

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace fa {

namespace {
bool enabled = true;
}

void setOwnKernels(bool on) { enabled = on; }

#if defined(__AVX512F__)

bool ownKernels() { return enabled; }

namespace {

// Column blocks of up to 48 floats (3 vectors, the last one masked); row blocks of MR rows. MR x NV
// accumulators (24 at 8 x 3) stay in registers through the whole k loop, so each weight vector is
// loaded once per row block and each x value broadcast once per column block.
constexpr int kBlockCols = 48;

// Up to 8 rows x 3 vectors of accumulators as named variables (rows past MR compile away). Arrays of
// __m512 would read better, but GCC 12 then stores every accumulator back to the stack on each k,
// which halves the kernel's speed.
#define FA_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

template <int MR, int NV>
inline void block(int k, const float* x, int ldx, const float* w, int ldw, const float* bias, float* z, int ldz, __mmask16 tail) {
  static_assert(MR >= 1 && MR <= 8 && NV >= 1 && NV <= 3, "block: 1-8 rows, 1-3 vectors");
  const __mmask16 m0 = NV == 1 ? tail : __mmask16(0xffff), m1 = NV == 2 ? tail : __mmask16(0xffff), m2 = tail;
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias && NV > 1 ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  const __m512 b2 = bias && NV > 2 ? _mm512_maskz_loadu_ps(m2, bias + 32) : _mm512_setzero_ps();
#define FA_DECLARE(r) __m512 c0_##r = b0, c1_##r = b1, c2_##r = b2;
  FA_ROWS(FA_DECLARE)
#undef FA_DECLARE
  for (int p = 0; p < k; p++) {
    const float* wp = w + size_t(p) * ldw;
    const __m512 w0 = _mm512_maskz_loadu_ps(m0, wp);
    const __m512 w1 = NV > 1 ? _mm512_maskz_loadu_ps(m1, wp + 16) : w0;
    const __m512 w2 = NV > 2 ? _mm512_maskz_loadu_ps(m2, wp + 32) : w0;
#define FA_FMA(r)                                                 \
  if (MR > r) {                                                   \
    const __m512 xv = _mm512_set1_ps(x[size_t(r) * ldx + p]);     \
    c0_##r = _mm512_fmadd_ps(xv, w0, c0_##r);                     \
    if (NV > 1) c1_##r = _mm512_fmadd_ps(xv, w1, c1_##r);         \
    if (NV > 2) c2_##r = _mm512_fmadd_ps(xv, w2, c2_##r);         \
  }
    FA_ROWS(FA_FMA)
#undef FA_FMA
  }
#define FA_STORE(r)                                               \
  if (MR > r) {                                                   \
    float* zr = z + size_t(r) * ldz;                              \
    _mm512_mask_storeu_ps(zr, m0, c0_##r);                        \
    if (NV > 1) _mm512_mask_storeu_ps(zr + 16, m1, c1_##r);       \
    if (NV > 2) _mm512_mask_storeu_ps(zr + 32, m2, c2_##r);       \
  }
  FA_ROWS(FA_STORE)
#undef FA_STORE
}
#undef FA_ROWS

// Rows r0..r0+MR of w, 48 columns: the accumulators start from w (or zero) and take one rank-1 update
// per batch row i, alpha·x[i, r]·dz[i, :]; each dz vector is loaded once for all MR rows.
#define FA_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

template <int MR, int NV>
inline void gradientBlock(int m, float alpha, const float* x, int ldx, const float* dz, int lddz, bool accumulate, float* w, int ldw, __mmask16 tail) {
  const __mmask16 m0 = NV == 1 ? tail : __mmask16(0xffff), m1 = NV == 2 ? tail : __mmask16(0xffff), m2 = tail;
#define FA_LOAD(r)                                                                                 \
  __m512 c0_##r = _mm512_setzero_ps(), c1_##r = c0_##r, c2_##r = c0_##r;                           \
  if (MR > r && accumulate) {                                                                      \
    const float* wr = w + size_t(r) * ldw;                                                         \
    c0_##r = _mm512_maskz_loadu_ps(m0, wr);                                                        \
    if (NV > 1) c1_##r = _mm512_maskz_loadu_ps(m1, wr + 16);                                       \
    if (NV > 2) c2_##r = _mm512_maskz_loadu_ps(m2, wr + 32);                                       \
  }
  FA_ROWS(FA_LOAD)
#undef FA_LOAD
  for (int i = 0; i < m; i++) {
    const float* di = dz + size_t(i) * lddz;
    const float* xi = x + size_t(i) * ldx;
    const __m512 d0 = _mm512_maskz_loadu_ps(m0, di);
    const __m512 d1 = NV > 1 ? _mm512_maskz_loadu_ps(m1, di + 16) : d0;
    const __m512 d2 = NV > 2 ? _mm512_maskz_loadu_ps(m2, di + 32) : d0;
#define FA_FMA(r)                                                 \
  if (MR > r) {                                                   \
    const __m512 xv = _mm512_set1_ps(alpha * xi[r]);              \
    c0_##r = _mm512_fmadd_ps(xv, d0, c0_##r);                     \
    if (NV > 1) c1_##r = _mm512_fmadd_ps(xv, d1, c1_##r);         \
    if (NV > 2) c2_##r = _mm512_fmadd_ps(xv, d2, c2_##r);         \
  }
    FA_ROWS(FA_FMA)
#undef FA_FMA
  }
#define FA_STORE(r)                                               \
  if (MR > r) {                                                   \
    float* wr = w + size_t(r) * ldw;                              \
    _mm512_mask_storeu_ps(wr, m0, c0_##r);                        \
    if (NV > 1) _mm512_mask_storeu_ps(wr + 16, m1, c1_##r);       \
    if (NV > 2) _mm512_mask_storeu_ps(wr + 32, m2, c2_##r);       \
  }
  FA_ROWS(FA_STORE)
#undef FA_STORE
}
#undef FA_ROWS

template <int MR>
void gradientRows(int nv, int m, float alpha, const float* x, int ldx, const float* dz, int lddz, bool accumulate, float* w, int ldw, __mmask16 tail) {
  switch (nv) {
    case 1: return gradientBlock<MR, 1>(m, alpha, x, ldx, dz, lddz, accumulate, w, ldw, tail);
    case 2: return gradientBlock<MR, 2>(m, alpha, x, ldx, dz, lddz, accumulate, w, ldw, tail);
    default: return gradientBlock<MR, 3>(m, alpha, x, ldx, dz, lddz, accumulate, w, ldw, tail);
  }
}

template <int MR>
void rowBlock(int nv, int k, const float* x, int ldx, const float* w, int ldw, const float* bias, float* z, int ldz, __mmask16 tail) {
  switch (nv) {
    case 1: return block<MR, 1>(k, x, ldx, w, ldw, bias, z, ldz, tail);
    case 2: return block<MR, 2>(k, x, ldx, w, ldw, bias, z, ldz, tail);
    default: return block<MR, 3>(k, x, ldx, w, ldw, bias, z, ldz, tail);
  }
}

}  // namespace

bool denseForwardKernel(int m, int n, int k, const float* x, const float* w, const float* bias, float* z) {
  if (!enabled) return false;
  // One task per 48-column slice: its k x 48 weights (150 KB at k = 784) stay in the L2 of the core
  // that runs it while every row block passes over them.
  const int slices = (n + kBlockCols - 1) / kBlockCols;
  Pool::instance().run(slices, [&](int s) {
    const int j = s * kBlockCols;
    const int cols = n - j < kBlockCols ? n - j : kBlockCols;
    const int nv = (cols + 15) / 16;
    const __mmask16 tail = __mmask16((1u << (cols - 16 * (nv - 1))) - 1);
    const float* wj = w + j;
    const float* bj = bias ? bias + j : nullptr;
    int i = 0;
    for (; i + 8 <= m; i += 8) rowBlock<8>(nv, k, x + size_t(i) * k, k, wj, n, bj, z + size_t(i) * n + j, n, tail);
    for (; i + 4 <= m; i += 4) rowBlock<4>(nv, k, x + size_t(i) * k, k, wj, n, bj, z + size_t(i) * n + j, n, tail);
    for (; i < m; i++) rowBlock<1>(nv, k, x + size_t(i) * k, k, wj, n, bj, z + size_t(i) * n + j, n, tail);
  });
  return true;
}

namespace {

// Rows [r0, r1) of w, all columns, in row blocks of 8 (then 4, then 1 at the end of w).
void gradientRowRange(int r0, int r1, int m, int n, int k, float alpha, const float* x, const float* dz, bool accumulate, float* w,
                      const RowsDone* rowsDone) {
  int r = r0;
  // A block's rows when w is null: 8 x n floats (9.6 KB at n = 300), in L1 until rowsDone has used them.
  thread_local std::vector<float> scratch;
  if (!w) scratch.resize(size_t(8) * n);
  const auto rows = [&](auto mr) {
    constexpr int MR = decltype(mr)::value;
    for (; r + MR <= r1; r += MR) {
      float* out = w ? w + size_t(r) * n : scratch.data();
      for (int j = 0; j < n; j += kBlockCols) {
        const int cols = n - j < kBlockCols ? n - j : kBlockCols;
        const int nv = (cols + 15) / 16;
        const __mmask16 tail = __mmask16((1u << (cols - 16 * (nv - 1))) - 1);
        gradientRows<MR>(nv, m, alpha, x + r, k, dz + j, n, accumulate, out + j, n, tail);
      }
      if (rowsDone) (*rowsDone)(r, r + MR, out);
    }
  };
  rows(std::integral_constant<int, 8>{});
  rows(std::integral_constant<int, 4>{});
  rows(std::integral_constant<int, 1>{});
}

}  // namespace

bool weightGradientKernel(int m, int n, int k, float alpha, const float* x, const float* dz, bool accumulate, float* w,
                          const RowsDone* rowsDone) {
  if (!enabled || (!w && (!rowsDone || accumulate))) return false;
  // Row blocks outermost: each 8 x 48 tile of w is read and written once, and dz (m x n, 38 KB at
  // 32 x 300) stays in L1. Tasks are ranges of whole 8-row blocks, four per thread for balance.
  const int blocks = k / 8;
  const int threads = Pool::instance().threads();
  const int tasks = threads == 1 || blocks == 0 ? 1 : std::min(blocks, 4 * threads);
  Pool::instance().run(tasks, [&](int t) {
    const int r0 = 8 * (blocks * t / tasks);
    const int r1 = t == tasks - 1 ? k : 8 * (blocks * (t + 1) / tasks);
    gradientRowRange(r0, r1, m, n, k, alpha, x, dz, accumulate, w, rowsDone);
  });
  return true;
}

#else

bool ownKernels() { return false; }

bool denseForwardKernel(int, int, int, const float*, const float*, const float*, float*) { return false; }
bool weightGradientKernel(int, int, int, float, const float*, const float*, bool, float*, const RowsDone*) { return false; }

#endif

}  // namespace fa
