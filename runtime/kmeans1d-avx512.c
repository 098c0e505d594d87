/*
 * The row scan of exact 1-D k-means (kmeans1d.c), AVX-512F: eight
 * candidates s per step, in two interleaved sets so the compare-and-keep
 * chain does not wait on the divides. Each lane keeps its first strict
 * minimum; the result is the smallest s among lanes holding the overall
 * minimum, which is the generic kernel's first minimum. The same double
 * operations per candidate as generic (built with -ffp-contract=off;
 * max(r, 0) returns +0 for -0 and 0 for NaN like the generic clamp), so
 * the same answer. The last partial step is masked.
 */
#include "internal.h"

#include <immintrin.h>
#include <math.h>

static inline __m512d value8(const double *N, const double *S1,
                             const double *S2, const double *prev, size_t s,
                             __m512d Nj, __m512d S1j, __m512d S2j,
                             __mmask8 live) {
  __m512d n = _mm512_sub_pd(Nj, _mm512_maskz_loadu_pd(live, N + s));
  __m512d x = _mm512_sub_pd(S1j, _mm512_maskz_loadu_pd(live, S1 + s));
  __m512d y = _mm512_sub_pd(S2j, _mm512_maskz_loadu_pd(live, S2 + s));
  __m512d r = _mm512_sub_pd(y, _mm512_div_pd(_mm512_mul_pd(x, x), n));
  r = _mm512_max_pd(r, _mm512_setzero_pd());
  return _mm512_add_pd(_mm512_maskz_loadu_pd(live, prev + s), r);
}

/* Up to 16 candidates without a branch on the data (most rows of the
 * divide and conquer have only a few): lanes past s1 are +Inf, and the
 * first lane equal to the minimum is the first minimum. */
static size_t short16(const double *N, const double *S1, const double *S2,
                      const double *prev, size_t s0, size_t len, __m512d Nj,
                      __m512d S1j, __m512d S2j, double *best) {
  __mmask8 l0 = len >= 8 ? (__mmask8)0xff : (__mmask8)((1u << len) - 1u);
  __mmask8 l1 = len >= 16  ? (__mmask8)0xff
                : len > 8 ? (__mmask8)((1u << (len - 8)) - 1u)
                          : (__mmask8)0;
  __m512d inf = _mm512_set1_pd(INFINITY);
  __m512d v0 = _mm512_mask_mov_pd(
      inf, l0, value8(N, S1, S2, prev, s0, Nj, S1j, S2j, l0));
  __m512d v1 = _mm512_mask_mov_pd(
      inf, l1, value8(N, S1, S2, prev, s0 + 8, Nj, S1j, S2j, l1));
  double m = _mm512_reduce_min_pd(_mm512_min_pd(v0, v1));
  __m512d vm = _mm512_set1_pd(m);
  unsigned k = (unsigned)_mm512_cmp_pd_mask(v0, vm, _CMP_EQ_OQ) |
               (unsigned)_mm512_cmp_pd_mask(v1, vm, _CMP_EQ_OQ) << 8;
  *best = m;
  return s0 + (size_t)__builtin_ctz(k | 0x10000u);
}

size_t clusterrt_rowmin__avx512(const rt_rowmin_args *a, size_t e, size_t s0,
                                size_t s1, double *best) {
  const double *N = a->N + a->off, *S1 = a->S1 + a->off, *S2 = a->S2 + a->off;
  const double *prev = a->prev;
  __m512d Nj = _mm512_set1_pd(N[e]), S1j = _mm512_set1_pd(S1[e]),
          S2j = _mm512_set1_pd(S2[e]);
  if (s1 - s0 < 16)
    return short16(N, S1, S2, prev, s0, s1 - s0 + 1, Nj, S1j, S2j, best);
  __m512d b0 = _mm512_set1_pd(INFINITY), b1 = b0;
  __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  __m512i c0 = _mm512_add_epi64(_mm512_set1_epi64((long long)s0), lane);
  __m512i c1 = _mm512_add_epi64(c0, _mm512_set1_epi64(8));
  __m512i i0 = c0, i1 = c1, step = _mm512_set1_epi64(16);
  size_t s = s0, end = s1 + 1;
  for (; s + 16 <= end; s += 16) {
    __m512d v0 = value8(N, S1, S2, prev, s, Nj, S1j, S2j, 0xff);
    __m512d v1 = value8(N, S1, S2, prev, s + 8, Nj, S1j, S2j, 0xff);
    __mmask8 m0 = _mm512_cmp_pd_mask(v0, b0, _CMP_LT_OQ);
    __mmask8 m1 = _mm512_cmp_pd_mask(v1, b1, _CMP_LT_OQ);
    b0 = _mm512_mask_mov_pd(b0, m0, v0);
    i0 = _mm512_mask_mov_epi64(i0, m0, c0);
    b1 = _mm512_mask_mov_pd(b1, m1, v1);
    i1 = _mm512_mask_mov_epi64(i1, m1, c1);
    c0 = _mm512_add_epi64(c0, step);
    c1 = _mm512_add_epi64(c1, step);
  }
  for (; s < end; s += 8) { /* at most two more steps, the last masked */
    size_t r = end - s;
    __mmask8 live = r >= 8 ? (__mmask8)0xff : (__mmask8)((1u << r) - 1u);
    __m512d v0 = value8(N, S1, S2, prev, s, Nj, S1j, S2j, live);
    __mmask8 m0 = _mm512_mask_cmp_pd_mask(live, v0, b0, _CMP_LT_OQ);
    b0 = _mm512_mask_mov_pd(b0, m0, v0);
    i0 = _mm512_mask_mov_epi64(i0, m0, c0);
    c0 = _mm512_add_epi64(c0, _mm512_set1_epi64(8));
  }
  double m = _mm512_reduce_min_pd(_mm512_min_pd(b0, b1));
  __m512d vm = _mm512_set1_pd(m);
  __m512i big = _mm512_set1_epi64(-1);
  __m512i j0 = _mm512_mask_mov_epi64(big, _mm512_cmp_pd_mask(b0, vm, _CMP_EQ_OQ), i0);
  __m512i j1 = _mm512_mask_mov_epi64(big, _mm512_cmp_pd_mask(b1, vm, _CMP_EQ_OQ), i1);
  *best = m;
  return (size_t)_mm512_reduce_min_epu64(_mm512_min_epu64(j0, j1));
}

/* A batch of independent rows (the levels of kmeans1d.c's blocks): short
 * rows, the common case, inline with one or two masked steps and no
 * branch on the data; the rows' latencies overlap. */
void clusterrt_rows__avx512(const rt_rowmin_args *a, size_t count,
                            const uint32_t *e, const uint32_t *s0,
                            const uint32_t *s1, double *best, uint32_t *arg) {
  const double *N = a->N + a->off, *S1 = a->S1 + a->off, *S2 = a->S2 + a->off;
  const double *prev = a->prev;
  __m512d inf = _mm512_set1_pd(INFINITY);
  for (size_t i = 0; i < count; i++) {
    size_t len = (size_t)s1[i] - s0[i] + 1, lo = s0[i], ei = e[i];
    __m512d Nj = _mm512_set1_pd(N[ei]), S1j = _mm512_set1_pd(S1[ei]),
            S2j = _mm512_set1_pd(S2[ei]);
    if (len <= 8) {
      __mmask8 l0 = (__mmask8)((1u << len) - 1u);
      __m512d v0 = _mm512_mask_mov_pd(
          inf, l0, value8(N, S1, S2, prev, lo, Nj, S1j, S2j, l0));
      double m = _mm512_reduce_min_pd(v0);
      unsigned k = _mm512_cmp_pd_mask(v0, _mm512_set1_pd(m), _CMP_EQ_OQ);
      best[i] = m;
      arg[i] = (uint32_t)(lo + (size_t)__builtin_ctz(k | 0x100u));
    } else if (len <= 16) {
      arg[i] = (uint32_t)short16(N, S1, S2, prev, lo, len, Nj, S1j, S2j,
                                 &best[i]);
    } else {
      arg[i] = (uint32_t)clusterrt_rowmin__avx512(a, ei, lo, s1[i], &best[i]);
    }
  }
}
