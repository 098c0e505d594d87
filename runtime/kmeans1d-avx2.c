/*
 * The row scan of exact 1-D k-means (kmeans1d.c), AVX2: four candidates
 * per step in two interleaved sets; each lane keeps its first strict
 * minimum and the smallest s among lanes holding the overall minimum is
 * returned, the generic kernel's first minimum. Same double operations per
 * candidate as generic (-ffp-contract=off; max(r, 0) clamps -0 and NaN to
 * +0 like the generic ternary). The remainder runs the generic loop.
 */
#include "internal.h"

#include <immintrin.h>
#include <math.h>

static inline __m256d value4(const double *N, const double *S1,
                             const double *S2, const double *prev, size_t s,
                             __m256d Nj, __m256d S1j, __m256d S2j) {
  __m256d n = _mm256_sub_pd(Nj, _mm256_loadu_pd(N + s));
  __m256d x = _mm256_sub_pd(S1j, _mm256_loadu_pd(S1 + s));
  __m256d y = _mm256_sub_pd(S2j, _mm256_loadu_pd(S2 + s));
  __m256d r = _mm256_sub_pd(y, _mm256_div_pd(_mm256_mul_pd(x, x), n));
  r = _mm256_max_pd(r, _mm256_setzero_pd());
  return _mm256_add_pd(_mm256_loadu_pd(prev + s), r);
}

/* Up to 8 candidates without a branch on the data (most rows of the
 * divide and conquer have only a few): vmaskmovpd loads nothing for lanes
 * past s1 (no fault), those lanes are +Inf, and the first lane equal to
 * the minimum is the first minimum. */
static size_t short8(const double *N, const double *S1, const double *S2,
                     const double *prev, size_t s0, size_t len, __m256d Nj,
                     __m256d S1j, __m256d S2j, double *best) {
  __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
  __m256i L = _mm256_set1_epi64x((long long)len);
  __m256i l0 = _mm256_cmpgt_epi64(L, lane);
  __m256i l1 = _mm256_cmpgt_epi64(L, _mm256_add_epi64(lane, _mm256_set1_epi64x(4)));
  __m256d inf = _mm256_set1_pd(INFINITY), zero = _mm256_setzero_pd();
  __m256d v[2];
  for (int h = 0; h < 2; h++) {
    __m256i l = h ? l1 : l0;
    size_t s = s0 + 4 * (size_t)h;
    __m256d n = _mm256_sub_pd(Nj, _mm256_maskload_pd(N + s, l));
    __m256d x = _mm256_sub_pd(S1j, _mm256_maskload_pd(S1 + s, l));
    __m256d y = _mm256_sub_pd(S2j, _mm256_maskload_pd(S2 + s, l));
    __m256d r = _mm256_sub_pd(y, _mm256_div_pd(_mm256_mul_pd(x, x), n));
    r = _mm256_max_pd(r, zero);
    __m256d val = _mm256_add_pd(_mm256_maskload_pd(prev + s, l), r);
    v[h] = _mm256_blendv_pd(inf, val, _mm256_castsi256_pd(l));
  }
  __m256d mn = _mm256_min_pd(v[0], v[1]);
  mn = _mm256_min_pd(mn, _mm256_permute4x64_pd(mn, 0x4e));
  mn = _mm256_min_pd(mn, _mm256_permute_pd(mn, 5));
  unsigned k = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v[0], mn, _CMP_EQ_OQ)) |
               (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(v[1], mn, _CMP_EQ_OQ)) << 4;
  *best = _mm256_cvtsd_f64(mn);
  return s0 + (size_t)__builtin_ctz(k | 0x100u);
}

size_t clusterrt_rowmin__avx2(const rt_rowmin_args *a, size_t e, size_t s0,
                              size_t s1, double *best) {
  const double *N = a->N + a->off, *S1 = a->S1 + a->off, *S2 = a->S2 + a->off;
  const double *prev = a->prev;
  __m256d Nj = _mm256_set1_pd(N[e]), S1j = _mm256_set1_pd(S1[e]),
          S2j = _mm256_set1_pd(S2[e]);
  if (s1 - s0 < 8)
    return short8(N, S1, S2, prev, s0, s1 - s0 + 1, Nj, S1j, S2j, best);
  __m256d b0 = _mm256_set1_pd(INFINITY), b1 = b0;
  __m256i c0 = _mm256_add_epi64(_mm256_set1_epi64x((long long)s0),
                                _mm256_setr_epi64x(0, 1, 2, 3));
  __m256i c1 = _mm256_add_epi64(c0, _mm256_set1_epi64x(4));
  __m256i i0 = c0, i1 = c1, step = _mm256_set1_epi64x(8);
  size_t s = s0, end = s1 + 1;
  for (; s + 8 <= end; s += 8) {
    __m256d v0 = value4(N, S1, S2, prev, s, Nj, S1j, S2j);
    __m256d v1 = value4(N, S1, S2, prev, s + 4, Nj, S1j, S2j);
    __m256d m0 = _mm256_cmp_pd(v0, b0, _CMP_LT_OQ);
    __m256d m1 = _mm256_cmp_pd(v1, b1, _CMP_LT_OQ);
    b0 = _mm256_blendv_pd(b0, v0, m0);
    b1 = _mm256_blendv_pd(b1, v1, m1);
    i0 = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(i0),
                                              _mm256_castsi256_pd(c0), m0));
    i1 = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(i1),
                                              _mm256_castsi256_pd(c1), m1));
    c0 = _mm256_add_epi64(c0, step);
    c1 = _mm256_add_epi64(c1, step);
  }
  double bv[8];
  long long iv[8];
  _mm256_storeu_pd(bv, b0);
  _mm256_storeu_pd(bv + 4, b1);
  _mm256_storeu_si256((__m256i *)(void *)iv, i0);
  _mm256_storeu_si256((__m256i *)(void *)(iv + 4), i1);
  double m = INFINITY;
  size_t arg = s0;
  for (int l = 0; l < 8; l++) /* the overall minimum, then its first s */
    if (bv[l] < m || (bv[l] == m && (size_t)iv[l] < arg)) {
      m = bv[l];
      arg = (size_t)iv[l];
    }
  if (s < end) { /* the remainder continues the scan: a later s only wins
                    on a strictly smaller value */
    double t;
    size_t at = clusterrt_rowmin__generic(a, e, s, s1, &t);
    if (t < m) {
      m = t;
      arg = at;
    }
  }
  *best = m;
  return arg;
}

/* A batch of independent rows (the levels of kmeans1d.c's blocks). */
void clusterrt_rows__avx2(const rt_rowmin_args *a, size_t count,
                          const uint32_t *e, const uint32_t *s0,
                          const uint32_t *s1, double *best, uint32_t *arg) {
  for (size_t i = 0; i < count; i++)
    arg[i] = (uint32_t)clusterrt_rowmin__avx2(a, e[i], s0[i], s1[i], &best[i]);
}
