/*
 * Assignment, AVX-512 (F/BW/VL). Sixteen weights per step, on a "fast"
 * table (assign.c); tables that are not fast use the generic kernel.
 *
 *  1. c = #{thr <= w} by a branchless binary search over the P switch
 *     points (thr[m-1..P) = +Inf), its first L1 = min(log2 P, 8) levels
 *     entirely in registers. The probes are stored in heap order (level L
 *     holds nodes [2^(L-1), 2^L)), so the node index j doubles as the
 *     lookup index: j starts at 1, each level looks up heap[j] (vpermps for
 *     nodes < 16, vpermi2ps < 32, the blend tree of avx512-util.h for the
 *     32-, 64- and 128-node levels), compares, and sets j = 2j + (probe <=
 *     w). After L1 levels c = j - 2^L1. Tables with P > 256 go on with
 *     gathers for the remaining log2 P - 8 levels.
 *  2. idx = c when the caller's centroids were sorted and distinct, else
 *     p[c]: vpermd / vpermi2d on small_p for m <= 32, a gather beyond.
 *  3. Lanes outside [lo_safe, hi_safe] (which includes NaN and +-Inf) are
 *     redone by rt_assign_one; NaN sets the return flag.
 * The tail is one masked step (lanes past n load 0.0, compute junk that
 * is never stored). Only compares and integer adds touch the data, so the
 * counts equal the generic kernel's: bit-identical indices.
 */
#include "internal.h"
#include "avx512-util.h"

typedef struct tree {
  __m512 h[16];     /* heap[0..256): the first L1 levels' probes */
  float lvl1;       /* heap[1] */
  __m512 lo, hi;    /* the safe range */
  __m512i p0, p1;   /* small_p[0..32) */
} tree;

static void build_tree(const rt_table *t, unsigned L1, tree *tr) {
  float heap[256] = {0};
  for (unsigned L = 1; L <= L1; L++) {
    size_t step = t->P >> L;
    for (size_t pre = 0; pre < ((size_t)1 << (L - 1)); pre++)
      heap[((size_t)1 << (L - 1)) + pre] = t->thr[pre * 2 * step + step - 1];
  }
  for (int q = 0; q < 16; q++) tr->h[q] = _mm512_loadu_ps(heap + 16 * q);
  tr->lvl1 = heap[1];
  tr->lo = _mm512_set1_ps(t->lo_safe);
  tr->hi = _mm512_set1_ps(t->hi_safe);
  tr->p0 = _mm512_loadu_si512((const void *)t->small_p);
  tr->p1 = _mm512_loadu_si512((const void *)(t->small_p + 16));
}

/* One step of 16 lanes (live = the lanes < n). Returns the NaN flag. */
static inline __attribute__((always_inline)) int
step16(const rt_table *t, const tree *tr, unsigned L1, unsigned LP,
       const float *w, size_t i, __mmask16 live, void *out, int wide) {
  __m512 x = _mm512_maskz_loadu_ps(live, w + i);
  const __m512i one = _mm512_set1_epi32(1);
  __m512i j = one;
  for (unsigned L = 1; L <= L1; L++) {
    __m512 tv;
    if (L == 1)
      tv = _mm512_set1_ps(tr->lvl1);
    else if (L <= 4)
      tv = _mm512_permutexvar_ps(j, tr->h[0]);
    else if (L == 5)
      tv = _mm512_permutex2var_ps(tr->h[0], j, tr->h[1]);
    else
      tv = rt_avx512_lut(tr->h + (1u << (L - 1)) / 16, 1u << (L - 1), j);
    __mmask16 le = _mm512_cmp_ps_mask(tv, x, _CMP_LE_OQ);
    j = _mm512_add_epi32(j, j);
    j = _mm512_mask_add_epi32(j, le, j, one);
  }
  __m512i c = _mm512_sub_epi32(j, _mm512_set1_epi32(1 << L1));
  if (LP > 8) { /* the remaining levels of the P-entry search */
    c = _mm512_sll_epi32(c, _mm_cvtsi32_si128((int)LP - 8));
    for (size_t s = t->P >> 9; s >= 1; s >>= 1) {
      __m512i probe = _mm512_add_epi32(c, _mm512_set1_epi32((int)s - 1));
      __m512 tv = _mm512_i32gather_ps(probe, t->thr, 4);
      __mmask16 le = _mm512_cmp_ps_mask(tv, x, _CMP_LE_OQ);
      c = _mm512_mask_add_epi32(c, le, c, _mm512_set1_epi32((int)s));
    }
  }
  if (!t->p_ident) {
    if (t->m <= 16)
      c = _mm512_permutexvar_epi32(c, tr->p0);
    else if (t->m <= 32)
      c = _mm512_permutex2var_epi32(tr->p0, c, tr->p1);
    else
      c = _mm512_i32gather_epi32(c, (const void *)t->p32, 4);
  }
  if (wide)
    _mm512_mask_cvtepi32_storeu_epi16((uint8_t *)out + 2 * i, live, c);
  else
    _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)out + i, live, c);
  __mmask16 ok = _mm512_mask_cmp_ps_mask(
      _mm512_cmp_ps_mask(x, tr->lo, _CMP_GE_OQ), x, tr->hi, _CMP_LE_OQ);
  unsigned bad = (unsigned)live & ~(unsigned)ok;
  int nan = 0;
  while (bad) {
    unsigned l = (unsigned)__builtin_ctz(bad);
    bad &= bad - 1;
    float v = w[i + l];
    if (v != v)
      nan = 1;
    else
      rt_store_idx(out, wide, i + l, rt_assign_one(t, v));
  }
  return nan;
}

/* The register levels for U independent vectors at once: each level's
 * lookup-compare-add chain is long (permute, compare to mask, masked
 * add), so interleaving vectors hides the latency. */
#define RT_U 8
static inline __attribute__((always_inline)) void
levels_u(const tree *tr, unsigned L1, const __m512 *x, __m512i *c) {
  const __m512i one = _mm512_set1_epi32(1);
  __m512i j[RT_U];
  for (int u = 0; u < RT_U; u++) j[u] = one;
  for (unsigned L = 1; L <= L1; L++) {
    for (int u = 0; u < RT_U; u++) {
      __m512 tv;
      if (L == 1)
        tv = _mm512_set1_ps(tr->lvl1);
      else if (L <= 4)
        tv = _mm512_permutexvar_ps(j[u], tr->h[0]);
      else if (L == 5)
        tv = _mm512_permutex2var_ps(tr->h[0], j[u], tr->h[1]);
      else
        tv = rt_avx512_lut(tr->h + (1u << (L - 1)) / 16, 1u << (L - 1), j[u]);
      __mmask16 le = _mm512_cmp_ps_mask(tv, x[u], _CMP_LE_OQ);
      j[u] = _mm512_add_epi32(j[u], j[u]);
      j[u] = _mm512_mask_add_epi32(j[u], le, j[u], one);
    }
  }
  for (int u = 0; u < RT_U; u++)
    c[u] = _mm512_sub_epi32(j[u], _mm512_set1_epi32(1 << L1));
}

static inline __attribute__((always_inline)) int
finish16(const rt_table *t, const tree *tr, const float *w, size_t i,
         __m512 x, __m512i c, void *out, int wide) {
  if (!t->p_ident) {
    if (t->m <= 16)
      c = _mm512_permutexvar_epi32(c, tr->p0);
    else if (t->m <= 32)
      c = _mm512_permutex2var_epi32(tr->p0, c, tr->p1);
    else
      c = _mm512_i32gather_epi32(c, (const void *)t->p32, 4);
  }
  if (wide)
    _mm256_storeu_si256((__m256i *)(void *)((uint8_t *)out + 2 * i),
                        _mm512_cvtepi32_epi16(c));
  else
    _mm_storeu_si128((__m128i *)(void *)((uint8_t *)out + i),
                     _mm512_cvtepi32_epi8(c));
  __mmask16 ok = _mm512_mask_cmp_ps_mask(
      _mm512_cmp_ps_mask(x, tr->lo, _CMP_GE_OQ), x, tr->hi, _CMP_LE_OQ);
  unsigned bad = 0xffffu & ~(unsigned)ok;
  int nan = 0;
  while (bad) {
    unsigned l = (unsigned)__builtin_ctz(bad);
    bad &= bad - 1;
    float v = w[i + l];
    if (v != v)
      nan = 1;
    else
      rt_store_idx(out, wide, i + l, rt_assign_one(t, v));
  }
  return nan;
}

static inline __attribute__((always_inline)) int
assign_tree(const rt_table *t, const float *w, size_t n, void *out, int wide,
            unsigned LP) {
  unsigned L1 = LP < 8 ? LP : 8;
  tree tr;
  build_tree(t, L1, &tr);
  int nan = 0;
  size_t i = 0;
  for (; i + 16 * RT_U <= n; i += 16 * RT_U) {
    __m512 x[RT_U];
    __m512i c[RT_U];
    for (int u = 0; u < RT_U; u++) x[u] = _mm512_loadu_ps(w + i + 16 * u);
    levels_u(&tr, L1, x, c);
    for (int u = 0; u < RT_U; u++)
      nan |= finish16(t, &tr, w, i + 16 * u, x[u], c[u], out, wide);
  }
  for (; i + 16 <= n; i += 16)
    nan |= step16(t, &tr, L1, LP, w, i, (__mmask16)0xffff, out, wide);
  if (i < n) nan |= step16(t, &tr, L1, LP, w, i, rt_avx512_lanes(n - i), out, wide);
  return nan;
}

#define DEFINE_TREE(LP)                                                      \
  static int assign_tree##LP(const rt_table *t, const float *w, size_t n,   \
                             void *out, int wide) {                          \
    return assign_tree(t, w, n, out, wide, LP);                              \
  }
DEFINE_TREE(0)
DEFINE_TREE(1)
DEFINE_TREE(2)
DEFINE_TREE(3)
DEFINE_TREE(4)
DEFINE_TREE(5)
DEFINE_TREE(6)
DEFINE_TREE(7)
DEFINE_TREE(8)

/* P > 256: log2 P is only needed for the shift after the register levels. */
static int assign_deep(const rt_table *t, const float *w, size_t n, void *out,
                       int wide) {
  unsigned LP = 0;
  while (((size_t)1 << LP) < t->P) LP++;
  tree tr;
  build_tree(t, 8, &tr);
  int nan = 0;
  for (size_t i = 0; i < n; i += 16)
    nan |= step16(t, &tr, 8, LP, w, i, rt_avx512_lanes(n - i), out, wide);
  return nan;
}

int clusterrt_assign__avx512(const rt_table *t, const float *w, size_t n,
                             void *out, int wide) {
  if (!t->fast) return clusterrt_assign__generic(t, w, n, out, wide);
  static int (*const by_log2p[9])(const rt_table *, const float *, size_t,
                                  void *, int) = {
      assign_tree0, assign_tree1, assign_tree2, assign_tree3, assign_tree4,
      assign_tree5, assign_tree6, assign_tree7, assign_tree8};
  unsigned LP = 0;
  while (((size_t)1 << LP) < t->P) LP++;
  if (LP <= 8) return by_log2p[LP](t, w, n, out, wide);
  return assign_deep(t, w, n, out, wide);
}
