/*
 * GEMM micro-kernel, AVX2 + FMA (gemm.c has the driver): 6 rows x 16
 * columns in 12 ymm accumulators.
 */
#include "internal.h"
#include "gemm.h"

#include <immintrin.h>

enum { MR = 6, NR = 16 };

static void tile(size_t kc, const float *ap, const float *bp, float *c,
                 ptrdiff_t ldc) {
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(bp + k * NR), b1 = _mm256_load_ps(bp + k * NR + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m256 a = _mm256_broadcast_ss(ap + k * MR + (size_t)i);
      acc0[i] = _mm256_fmadd_ps(a, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(a, b1, acc1[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    float *r = c + i * ldc;
    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), acc0[i]));
    _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), acc1[i]));
  }
}

int clusterrt_sgemm__avx2(const rt_gemm_args *g) {
  return rt_gemm_run(g, tile, MR, NR);
}
