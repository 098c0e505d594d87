/*
 * GEMM micro-kernels, AVX-512 F (gemm.c has the driver): 12 rows x 32
 * columns in 24 zmm accumulators; per depth step two loads of the packed
 * B row and 12 broadcasts of the packed A column. Products of at most 16
 * columns and at least 24 rows (a convolution with 16 output channels,
 * say) use 24 rows x 16 columns instead, so that half of each tile is not
 * zero padding; products whose rows 8 divides with fewer rows of padding
 * than 12 (64, 128, 256, 512 output channels) use 8 rows x 32 columns.
 * Every element is the same fused sum in the same order either way.
 */
#include "internal.h"
#include "gemm.h"

#include <immintrin.h>

enum { MR = 12, NR = 32 };

/* The 32-column micro-kernel for `rows` rows (12, or 8 for products of
 * 8k rows that 12 does not divide: 64 output channels padded to 72 rows
 * waste 11 % of the multiply-adds). */
#define DEFINE_TILE(name, rows)                                                      \
  static void name(size_t kc, const float *ap, const float *bp, float *c,            \
                   ptrdiff_t ldc) {                                                  \
    __m512 acc0[rows], acc1[rows];                                                   \
    _Pragma("GCC unroll 12") for (int i = 0; i < rows; i++) acc0[i] = acc1[i] =      \
        _mm512_setzero_ps();                                                         \
    for (size_t k = 0; k < kc; k++) {                                                \
      __m512 b0 = _mm512_load_ps(bp + k * NR), b1 = _mm512_load_ps(bp + k * NR + 16); \
      _Pragma("GCC unroll 12") for (int i = 0; i < rows; i++) {                      \
        __m512 a = _mm512_set1_ps(ap[k * rows + (size_t)i]);                         \
        acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);                                   \
        acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);                                   \
      }                                                                              \
    }                                                                                \
    _Pragma("GCC unroll 12") for (int i = 0; i < rows; i++) {                        \
      float *r = c + i * ldc;                                                        \
      _mm512_storeu_ps(r, _mm512_add_ps(_mm512_loadu_ps(r), acc0[i]));               \
      _mm512_storeu_ps(r + 16, _mm512_add_ps(_mm512_loadu_ps(r + 16), acc1[i]));     \
    }                                                                                \
  }

DEFINE_TILE(tile, MR)
DEFINE_TILE(tile8, 8)

enum { MR16 = 24 };

static void tile16(size_t kc, const float *ap, const float *bp, float *c,
                   ptrdiff_t ldc) {
  __m512 acc[MR16];
#pragma GCC unroll 24
  for (int i = 0; i < MR16; i++) acc[i] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; k++) {
    __m512 b = _mm512_load_ps(bp + k * 16);
#pragma GCC unroll 24
    for (int i = 0; i < MR16; i++)
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(ap[k * MR16 + (size_t)i]), b, acc[i]);
  }
#pragma GCC unroll 24
  for (int i = 0; i < MR16; i++) {
    float *r = c + i * ldc;
    _mm512_storeu_ps(r, _mm512_add_ps(_mm512_loadu_ps(r), acc[i]));
  }
}

int clusterrt_sgemm__avx512(const rt_gemm_args *g) {
  if (g->N <= 16 && g->M >= MR16) return rt_gemm_run(g, tile16, MR16, 16);
  size_t M = g->M;
  if (M % MR && (M + 7) / 8 * 8 < (M + MR - 1) / MR * MR) return rt_gemm_run(g, tile8, 8, NR);
  return rt_gemm_run(g, tile, MR, NR);
}
