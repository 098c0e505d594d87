/*
 * LUT matrix kernels, AVX-512 F (lut.c has the method).
 *
 * gemv: chunks of 16 index bytes per row, widened to 16 dword lanes
 * (vpmovzxbd); sub-element s (epb = 8 / bits per byte) is the lanes
 * shifted right by s * bits, looked up with one vpermps in a 16-entry
 * table (low 4 bits used; u2/u1 tables replicated with period 4/2; u8
 * only for k <= 16, else the generic kernel). Four rows at a time share
 * the loads of x (permuted by rt_lut_permute_x, chunk 16). Order per row:
 * sub-element s of every chunk goes to accumulator s % 2 (lane l), in
 * chunk order; then acc0 + acc1, _mm512_reduce_add_ps, then the elements
 * past the last whole chunk by sequential fmaf. u8 with k > 16: one row
 * at a time, the padded table in 2-16 registers (rt_avx512_lut), chunk ch
 * into accumulator ch % 2, then as above.
 *
 * gemm: micro-kernel 16 x 16 (16 rows of x in one zmm, 16 output
 * channels, the W element broadcast from the decoded panel by the FMA's
 * memory operand); 8 x 24 in ymm registers when M <= 8.
 */
#include "internal.h"
#include "avx512-util.h"

#include <immintrin.h>
#include <math.h>

/* The 16-entry lookup register of row n: t[j] = tab[j % period]. */
static inline __m512 row_table(const rt_lut_args *a, size_t n) {
  float tab[256], rep[16];
  rt_lut_pad_table(a, n, tab);
  unsigned period = a->bits >= 4 ? 16 : 1u << a->bits;
  for (unsigned j = 0; j < 16; j++) rep[j] = tab[j % period];
  return _mm512_loadu_ps(rep);
}

static inline __attribute__((always_inline)) void
rows(const rt_lut_args *a, const float *xp, size_t nch, size_t n, int R,
     unsigned bits) {
  const unsigned epb = 8 / bits;
  const uint8_t *r[4];
  __m512 t[4], acc0[4], acc1[4];
  for (int q = 0; q < R; q++) {
    r[q] = a->idx + (n + (size_t)q) * a->row_bytes;
    t[q] = row_table(a, n + (size_t)q);
    acc0[q] = acc1[q] = _mm512_setzero_ps();
  }
  for (size_t ch = 0; ch < nch; ch++) {
    const float *xc = xp + ch * 16 * epb;
    for (int q = 0; q < R; q++) {
      __m512i d = _mm512_cvtepu8_epi32(
          _mm_loadu_si128((const __m128i *)(const void *)(r[q] + ch * 16)));
      for (unsigned s = 0; s < epb; s++) {
        __m512i ix = s ? _mm512_srli_epi32(d, s * bits) : d;
        __m512 w = _mm512_permutexvar_ps(ix, t[q]);
        __m512 xv = _mm512_loadu_ps(xc + s * 16);
        if (s % 2)
          acc1[q] = _mm512_fmadd_ps(xv, w, acc1[q]);
        else
          acc0[q] = _mm512_fmadd_ps(xv, w, acc0[q]);
      }
    }
  }
  size_t bulk = nch * 16 * epb;
  for (int q = 0; q < R; q++) {
    float y = _mm512_reduce_add_ps(_mm512_add_ps(acc0[q], acc1[q]));
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
  size_t nch = a->K / (16 * (8 / bits));
  size_t n = n0;
  for (; n + 4 <= n1; n += 4) rows(a, xp, nch, n, 4, bits);
  for (; n < n1; n++) rows(a, xp, nch, n, 1, bits);
}

/* u8 with k > 16: one row at a time, the table (padded to S = 32 ... 256
 * entries) in S / 16 registers, rt_avx512_lut; chunk ch (16 indices) into
 * accumulator ch % 2. */
static inline __attribute__((always_inline)) void
rows_u8(const rt_lut_args *a, size_t n0, size_t n1, unsigned S) {
  size_t nch = a->K / 16;
  for (size_t n = n0; n < n1; n++) {
    float tab[256];
    rt_lut_pad_table(a, n, tab);
    __m512 h[16];
    for (unsigned q = 0; q < S / 16; q++) h[q] = _mm512_loadu_ps(tab + 16 * q);
    const uint8_t *r = a->idx + n * a->row_bytes;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t ch = 0;
    for (; ch + 2 <= nch; ch += 2) {
      __m512i d0 = _mm512_cvtepu8_epi32(
          _mm_loadu_si128((const __m128i *)(const void *)(r + ch * 16)));
      __m512i d1 = _mm512_cvtepu8_epi32(
          _mm_loadu_si128((const __m128i *)(const void *)(r + ch * 16 + 16)));
      acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a->x + ch * 16),
                             rt_avx512_lut(h, S, d0), acc0);
      acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a->x + ch * 16 + 16),
                             rt_avx512_lut(h, S, d1), acc1);
    }
    if (ch < nch) {
      __m512i d0 = _mm512_cvtepu8_epi32(
          _mm_loadu_si128((const __m128i *)(const void *)(r + ch * 16)));
      acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a->x + ch * 16),
                             rt_avx512_lut(h, S, d0), acc0);
    }
    float y = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    a->y[n] = rt_lut_dot(a->x, r, 8, nch * 16, a->K, tab, y);
  }
}

void clusterrt_lut_gemv__avx512(const rt_lut_args *a, float *xp, size_t n0,
                                size_t n1) {
  if (a->bits == 16) {
    clusterrt_lut_gemv__generic(a, xp, n0, n1);
    return;
  }
  if (a->bits == 8 && a->k > 16) {
    if (a->k <= 32) rows_u8(a, n0, n1, 32);
    else if (a->k <= 64) rows_u8(a, n0, n1, 64);
    else if (a->k <= 128) rows_u8(a, n0, n1, 128);
    else rows_u8(a, n0, n1, 256);
    return;
  }
  const float *x = rt_lut_x(a, xp, 16);
  switch (a->bits) {
  case 1: gemv_bits(a, x, n0, n1, 1); break;
  case 2: gemv_bits(a, x, n0, n1, 2); break;
  case 4: gemv_bits(a, x, n0, n1, 4); break;
  default: gemv_bits(a, x, n0, n1, 8); break;
  }
}

enum { MR = 16, NR = 16 };

static void tile(const float *ap, const float *b, size_t kc, float *ct,
                 int first) {
  __m512 acc[NR];
  for (int j = 0; j < NR; j++)
    acc[j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(ct + j * MR);
  for (size_t kk = 0; kk < kc; kk++) {
    __m512 av = _mm512_loadu_ps(ap + kk * MR);
    for (int j = 0; j < NR; j++)
      acc[j] = _mm512_fmadd_ps(av, _mm512_set1_ps(b[(size_t)j * RT_LUT_KC + kk]),
                               acc[j]);
  }
  for (int j = 0; j < NR; j++) _mm512_storeu_ps(ct + j * MR, acc[j]);
}

/* M <= 8: 8 rows of x in one ymm (AVX-512VL: 32 of them) by 24 channels,
 * so small batches do not pay for 16 lanes. */
enum { MR8 = 8, NR8 = 24 };

static void tile8(const float *ap, const float *b, size_t kc, float *ct,
                  int first) {
  __m256 acc[NR8];
  for (int j = 0; j < NR8; j++)
    acc[j] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(ct + j * MR8);
  for (size_t kk = 0; kk < kc; kk++) {
    __m256 av = _mm256_loadu_ps(ap + kk * MR8);
    for (int j = 0; j < NR8; j++)
      acc[j] = _mm256_fmadd_ps(av, _mm256_set1_ps(b[(size_t)j * RT_LUT_KC + kk]),
                               acc[j]);
  }
  for (int j = 0; j < NR8; j++) _mm256_storeu_ps(ct + j * MR8, acc[j]);
}

int clusterrt_lut_gemm__avx512(const rt_lut_args *a) {
  if (a->M <= 8) return rt_lut_gemm_run(a, tile8, MR8, NR8);
  return rt_lut_gemm_run(a, tile, MR, NR);
}
