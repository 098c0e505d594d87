/*
 * LUT matrix kernels, AVX2 + FMA (lut.c has the method).
 *
 * gemv: chunks of 8 index bytes per row, widened to 8 dword lanes
 * (vpmovzxbd); sub-element s (epb = 8 / bits per byte) is the lanes
 * shifted right by s * bits, looked up in the row's table: u1/u2 with one
 * vpermps (low 3 bits; the table replicated with period 2/4 over 8
 * entries), u4 and u8 (k <= 16, else the generic kernel) with two vpermps
 * and a blend on bit 3 (rt_avx2_lut16). Four rows at a time share the
 * loads of x (permuted by rt_lut_permute_x, chunk 8). Order per row: one
 * 8-lane accumulator, sub-elements in order within each chunk, chunks in
 * order; then the lanes summed as ((0+4)+(2+6))+((1+5)+(3+7)), then the
 * elements past the last whole chunk by sequential fmaf. u8 with k > 16:
 * one row at a time, a gather from the table padded to 256 entries, chunk
 * ch into accumulator ch % 2, (acc0 + acc1) reduced as above.
 *
 * gemm: micro-kernel 8 x 12 (8 rows of x in one ymm, 12 output channels,
 * the W element broadcast from the decoded panel).
 */
#include "internal.h"
#include "avx2-util.h"

#include <immintrin.h>
#include <math.h>

/* The table registers of row n: lo = entries 0-7, hi = 8-15 (u4/u8);
 * u1/u2 use lo only, t[j] = tab[j % period]. */
static inline void row_table(const rt_lut_args *a, size_t n, __m256i *lo,
                             __m256i *hi) {
  float tab[256], rep[16];
  rt_lut_pad_table(a, n, tab);
  unsigned period = a->bits >= 4 ? 16 : 1u << a->bits;
  for (unsigned j = 0; j < 16; j++) rep[j] = tab[j % period];
  *lo = _mm256_castps_si256(_mm256_loadu_ps(rep));
  *hi = _mm256_castps_si256(_mm256_loadu_ps(rep + 8));
}

static inline __attribute__((always_inline)) void
rows(const rt_lut_args *a, const float *xp, size_t nch, size_t n, int R,
     unsigned bits) {
  const unsigned epb = 8 / bits;
  const uint8_t *r[4];
  __m256i lo[4], hi[4];
  __m256 acc[4];
  for (int q = 0; q < R; q++) {
    r[q] = a->idx + (n + (size_t)q) * a->row_bytes;
    row_table(a, n + (size_t)q, &lo[q], &hi[q]);
    acc[q] = _mm256_setzero_ps();
  }
  for (size_t ch = 0; ch < nch; ch++) {
    const float *xc = xp + ch * 8 * epb;
    for (int q = 0; q < R; q++) {
      long long v;
      __builtin_memcpy(&v, r[q] + ch * 8, 8);
      __m256i d = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v));
      for (unsigned s = 0; s < epb; s++) {
        __m256i ix = s ? _mm256_srli_epi32(d, (int)(s * bits)) : d;
        __m256 w = bits >= 4 ? _mm256_castsi256_ps(rt_avx2_lut16(lo[q], hi[q], ix))
                             : _mm256_permutevar8x32_ps(
                                   _mm256_castsi256_ps(lo[q]), ix);
        acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(xc + s * 8), w, acc[q]);
      }
    }
  }
  size_t bulk = nch * 8 * epb;
  for (int q = 0; q < R; q++) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[q]),
                          _mm256_extractf128_ps(acc[q], 1)); /* i + (i+4) */
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));                  /* + (i+2) */
    h = _mm_add_ss(h, _mm_movehdup_ps(h));                   /* 0 + 1 */
    float y = _mm_cvtss_f32(h);
    if (bulk < a->K) {
      float tab[256];
      rt_lut_pad_table(a, n + (size_t)q, tab);
      y = rt_lut_dot(a->x, r[q], bits, bulk, a->K, tab, y);
    }
    a->y[n + (size_t)q] = y;
  }
}

static inline __attribute__((always_inline)) void
gemv_bits(const rt_lut_args *a, const float *xp, size_t n0, size_t n1,
          unsigned bits) {
  size_t nch = a->K / (8 * (8 / bits));
  size_t n = n0;
  for (; n + 4 <= n1; n += 4) rows(a, xp, nch, n, 4, bits);
  for (; n < n1; n++) rows(a, xp, nch, n, 1, bits);
}

/* u8 with k > 16: one row at a time, a gather from the table padded to
 * 256 entries; chunk ch (8 indices) into accumulator ch % 2. */
static void rows_u8(const rt_lut_args *a, size_t n0, size_t n1) {
  size_t nch = a->K / 8;
  for (size_t n = n0; n < n1; n++) {
    float tab[256];
    rt_lut_pad_table(a, n, tab);
    const uint8_t *r = a->idx + n * a->row_bytes;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    for (size_t ch = 0; ch < nch; ch++) {
      long long v;
      __builtin_memcpy(&v, r + ch * 8, 8);
      __m256i d = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v));
      acc[ch % 2] = _mm256_fmadd_ps(_mm256_loadu_ps(a->x + ch * 8),
                                    _mm256_i32gather_ps(tab, d, 4), acc[ch % 2]);
    }
    __m256 s = _mm256_add_ps(acc[0], acc[1]);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    a->y[n] = rt_lut_dot(a->x, r, 8, nch * 8, a->K, tab, _mm_cvtss_f32(h));
  }
}

void clusterrt_lut_gemv__avx2(const rt_lut_args *a, float *xp, size_t n0,
                              size_t n1) {
  if (a->bits == 16) {
    clusterrt_lut_gemv__generic(a, xp, n0, n1);
    return;
  }
  if (a->bits == 8 && a->k > 16) {
    rows_u8(a, n0, n1);
    return;
  }
  const float *x = rt_lut_x(a, xp, 8);
  switch (a->bits) {
  case 1: gemv_bits(a, x, n0, n1, 1); break;
  case 2: gemv_bits(a, x, n0, n1, 2); break;
  case 4: gemv_bits(a, x, n0, n1, 4); break;
  default: gemv_bits(a, x, n0, n1, 8); break;
  }
}

enum { MR = 8, NR = 12 };

static void tile(const float *ap, const float *b, size_t kc, float *ct,
                 int first) {
  __m256 acc[NR];
  for (int j = 0; j < NR; j++)
    acc[j] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(ct + j * MR);
  for (size_t kk = 0; kk < kc; kk++) {
    __m256 av = _mm256_loadu_ps(ap + kk * MR);
    for (int j = 0; j < NR; j++)
      acc[j] = _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + (size_t)j * RT_LUT_KC + kk),
                               acc[j]);
  }
  for (int j = 0; j < NR; j++) _mm256_storeu_ps(ct + j * MR, acc[j]);
}

int clusterrt_lut_gemm__avx2(const rt_lut_args *a) {
  return rt_lut_gemm_run(a, tile, MR, NR);
}
