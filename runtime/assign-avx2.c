/*
 * Assignment, AVX2 (built with -mavx2 -mfma; only compares, adds and
 * lookups are used, so no contraction can change a result). Eight weights
 * per step, on a "fast" table (assign.c):
 *
 *  1. c = #{thr <= w}. Up to 16 unique centroids: compare against the
 *     broadcast switch points and subtract the all-ones masks. More: the
 *     first four levels of a branchless binary search over the P padded
 *     switch points come from 15 broadcast splitters thr[j*P/16 - 1] (their
 *     count is the block), the remaining levels gather.
 *  2. idx = c when the caller's centroids were sorted and distinct, else
 *     p[c] (vpermd on two halves, or a gather).
 *  3. Lanes outside [lo_safe, hi_safe] (which includes NaN and +-Inf) are
 *     redone by rt_assign_one; NaN sets the return flag.
 * Tables that are not fast, and the n % 8 tail, use the generic kernel.
 * Bit-identical to generic: the same switch points and the same fallback.
 */
#include "internal.h"
#include "avx2-util.h"

/* Store eight 32-bit indices as u8 or u16 at out[i..i+8); redo the unsafe
 * lanes. */
static inline int finish(const rt_table *t, const float *w, __m256 x,
                         __m256 lo, __m256 hi, __m256i idx, void *out,
                         size_t i, int wide) {
  __m256 ok = _mm256_and_ps(_mm256_cmp_ps(x, lo, _CMP_GE_OQ),
                            _mm256_cmp_ps(x, hi, _CMP_LE_OQ));
  __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(idx),
                                    _mm256_extracti128_si256(idx, 1));
  if (wide)
    _mm_storeu_si128((__m128i *)((uint8_t *)out + 2 * i), packed);
  else
    _mm_storel_epi64((__m128i *)((uint8_t *)out + i),
                     _mm_packus_epi16(packed, packed));
  int bad = ~_mm256_movemask_ps(ok) & 0xff;
  int nan = 0;
  while (bad) {
    int b = __builtin_ctz((unsigned)bad);
    bad &= bad - 1;
    float v = w[i + b];
    if (v != v)
      nan = 1;
    else
      rt_store_idx(out, wide, i + b, rt_assign_one(t, v));
  }
  return nan;
}

/* m <= 16: NT = number of switch points compared (a compile-time bound so
 * the loop unrolls; padding entries are +Inf and never count). */
#define DEFINE_SMALL(NT)                                                     \
  static int assign_small##NT(const rt_table *t, const float *w, size_t n,  \
                              void *out, int wide) {                              \
    __m256 thr[NT];                                                          \
    for (size_t j = 0; j < NT; j++) thr[j] = _mm256_set1_ps(t->thr[j]);      \
    __m256i p0 = _mm256_loadu_si256((const __m256i *)t->small_p);           \
    __m256i p1 = _mm256_loadu_si256((const __m256i *)(t->small_p + 8));     \
    __m256 lo = _mm256_set1_ps(t->lo_safe), hi = _mm256_set1_ps(t->hi_safe); \
    int ident = t->p_ident, nan = 0;                                         \
    size_t i = 0;                                                            \
    for (; i + 8 <= n; i += 8) {                                             \
      __m256 x = _mm256_loadu_ps(w + i);                                     \
      __m256i c = _mm256_setzero_si256();                                    \
      for (size_t j = 0; j < NT; j++)                                        \
        c = _mm256_sub_epi32(                                                \
            c, _mm256_castps_si256(_mm256_cmp_ps(thr[j], x, _CMP_LE_OQ)));   \
      if (!ident) c = rt_avx2_lut16(p0, p1, c);                              \
      nan |= finish(t, w, x, lo, hi, c, out, i, wide);                        \
    }                                                                        \
    return nan | clusterrt_assign__generic(t, w + i, n - i,                    \
                                           (uint8_t *)out + (i << wide), wide);    \
  }
DEFINE_SMALL(1)
DEFINE_SMALL(3)
DEFINE_SMALL(7)
DEFINE_SMALL(15)

static int assign_large(const rt_table *t, const float *w, size_t n,
                        void *out, int wide) {
  size_t P = t->P, B = P / 16; /* P >= 32 here */
  __m256 spl[15];
  for (size_t j = 0; j < 15; j++) spl[j] = _mm256_set1_ps(t->thr[(j + 1) * B - 1]);
  const float *thr = t->thr;
  const int *p32 = (const int *)(const void *)t->p32;
  __m256 lo = _mm256_set1_ps(t->lo_safe), hi = _mm256_set1_ps(t->hi_safe);
  __m256i vB = _mm256_set1_epi32((int)B);
  int ident = t->p_ident, nan = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(w + i);
    __m256i blk = _mm256_setzero_si256();
    for (size_t j = 0; j < 15; j++)
      blk = _mm256_sub_epi32(
          blk, _mm256_castps_si256(_mm256_cmp_ps(spl[j], x, _CMP_LE_OQ)));
    __m256i c = _mm256_mullo_epi32(blk, vB);
    for (size_t step = B / 2; step >= 1; step /= 2) {
      __m256i probe = _mm256_add_epi32(c, _mm256_set1_epi32((int)step - 1));
      __m256 tv = _mm256_i32gather_ps(thr, probe, 4);
      __m256i le = _mm256_castps_si256(_mm256_cmp_ps(tv, x, _CMP_LE_OQ));
      c = _mm256_add_epi32(c, _mm256_and_si256(le, _mm256_set1_epi32((int)step)));
    }
    if (!ident) c = _mm256_i32gather_epi32(p32, c, 4);
    nan |= finish(t, w, x, lo, hi, c, out, i, wide);
  }
  return nan | clusterrt_assign__generic(t, w + i, n - i,
                                         (uint8_t *)out + (i << wide), wide);
}

/* m > 16 with the bucket guess: c0 = bkt[bucket(w)], then bmax probes
 * for the lanes whose bucket holds a switch point. */
static int assign_bucket(const rt_table *t, const float *w, size_t n,
                         void *out, int wide) {
  const float *thr = t->thr;
  const int *p32 = (const int *)(const void *)t->p32;
  const int *bkt = (const int *)(const void *)t->bkt;
  __m256 lo = _mm256_set1_ps(t->lo_safe), hi = _mm256_set1_ps(t->hi_safe);
  __m256 base = _mm256_set1_ps(t->bbase), scale = _mm256_set1_ps(t->bscale);
  __m256 top = _mm256_set1_ps((float)(t->G - 1)), zero = _mm256_setzero_ps();
  unsigned bmax = t->bmax;
  int ident = t->p_ident, nan = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(w + i);
    /* rt_bucket: max/min return their second operand on NaN and on +-0
     * ties, which matches the scalar ternaries. */
    __m256 y = _mm256_mul_ps(_mm256_sub_ps(x, base), scale);
    y = _mm256_min_ps(_mm256_max_ps(y, zero), top);
    /* Eight scalar loads beat vpgatherdd on the Zen parts measured. */
    uint32_t bi[8], ev[8];
    _mm256_storeu_si256((__m256i *)bi, _mm256_cvttps_epi32(y));
    for (int l = 0; l < 8; l++) ev[l] = (uint32_t)bkt[bi[l]];
    __m256i e = _mm256_loadu_si256((const __m256i *)ev);
    __m256i c0 = _mm256_and_si256(e, _mm256_set1_epi32(0x7fffffff));
    __m256i c = c0;
    if (_mm256_movemask_ps(_mm256_castsi256_ps(e))) { /* rare with G ~ 64 m */
      for (unsigned q = 0; q < bmax; q++) {
        __m256 tv = _mm256_i32gather_ps(
            thr, _mm256_add_epi32(c0, _mm256_set1_epi32((int)q)), 4);
        __m256i le = _mm256_castps_si256(_mm256_cmp_ps(tv, x, _CMP_LE_OQ));
        c = _mm256_sub_epi32(c, _mm256_and_si256(le, _mm256_srai_epi32(e, 31)));
      }
    }
    if (!ident) c = _mm256_i32gather_epi32(p32, c, 4);
    nan |= finish(t, w, x, lo, hi, c, out, i, wide);
  }
  return nan | clusterrt_assign__generic(t, w + i, n - i,
                                         (uint8_t *)out + (i << wide), wide);
}

int clusterrt_assign__avx2(const rt_table *t, const float *w, size_t n,
                           void *out, int wide) {
  if (!t->fast) return clusterrt_assign__generic(t, w, n, out, wide);
  if (t->m <= 2) return assign_small1(t, w, n, out, wide);
  if (t->m <= 4) return assign_small3(t, w, n, out, wide);
  if (t->m <= 8) return assign_small7(t, w, n, out, wide);
  if (t->m <= 16) return assign_small15(t, w, n, out, wide);
  if (t->bmax) return assign_bucket(t, w, n, out, wide);
  return assign_large(t, w, n, out, wide);
}
