/*
 * Gather-accumulate, AVX-512 (F/BW/VL).
 *
 * k <= 16, any format: private per-lane accumulators in registers. Sixteen
 * indices per step (avx512-util.h); up to 4 clusters, for each cluster j a
 * compare gives the lanes holding j, and acc[j] += g and cnt[j] += 1 on
 * those lanes only (masked add). From 5 clusters a permute of a one-hot
 * row and an FMA do the same sums faster (acc_step_perm; counts then come
 * from byte compares). The tail is one masked step. At the end each acc[j]
 * is reduced over its 16 lanes (_mm512_reduce_add_ps: a fixed tree).
 *
 * u8 and u16 indices with 16 < k <= 256: the compare costs grow with k, so
 * scalar code with eight banks of partial sums (element i to bank i % 8,
 * indices read eight at a time) so that repeated indices do not serialise
 * on one address; banks combined as ((b0+b1)+(b2+b3))+((b4+b5)+(b6+b7)).
 * Larger k: the generic kernel.
 *
 * Orders differ from generic; the bound of runtime/README.md holds.
 */
#include "internal.h"
#include "avx512-util.h"

/* One step of 16 lanes; live = the lanes < n. Counts are popcounts of
 * the lane masks, in general registers, leaving the vector registers to
 * the sums. */
static inline __attribute__((always_inline)) void
acc_step(__m512 *acc, uint32_t *cnt, unsigned NK, int with_counts,
         __m512i ix, __m512 gv, __mmask16 live) {
  for (unsigned j = 0; j < NK; j++) {
    __mmask16 m = _mm512_mask_cmpeq_epi32_mask(live, ix,
                                               _mm512_set1_epi32((int)j));
    acc[j] = _mm512_mask_add_ps(acc[j], m, acc[j], gv);
    if (with_counts) cnt[j] += (uint32_t)__builtin_popcount((unsigned)m);
  }
}

/* onehot[j] has 1 in lane j: vpermps by the indices turns it into 1 where
 * idx == j, else 0. */
static const float onehot[16][16] __attribute__((aligned(64))) = {
    {1}, {0, 1}, {0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

/* The same sums without masks: acc[j] = fma(onehot_j(idx), g, acc[j]), a
 * permute and an FMA per cluster instead of a compare and a masked add,
 * which here share two pipes (about 25% faster at k = 16). For finite g
 * it is the masked add bit for bit: fma(1, g, a) rounds a + g once, and
 * fma(0, g, a) = a + (+-0) = a, as a is never -0 (it starts at +0, and
 * round-to-nearest sums are -0 only from two -0). A non-finite g makes
 * 0 * g = NaN in its lane of every accumulator, which the caller detects
 * and then redoes the block with masks. Dead lanes of a tail have g = +0. */
static inline __attribute__((always_inline)) void
acc_step_perm(__m512 *acc, unsigned NK, __m512i ix, __m512 gv) {
  for (unsigned j = 0; j < NK; j++)
    acc[j] = _mm512_fmadd_ps(
        _mm512_permutexvar_ps(ix, _mm512_load_ps(onehot[j])), gv, acc[j]);
}

/* Counts only, for the permute path: byte compares on 64 u8 indices at
 * a time, other formats 16 at a time. */
static inline __attribute__((always_inline)) void
count_regs(const uint8_t *b, int bits, size_t n, unsigned NK, uint32_t *cnt) {
  size_t i = 0;
  if (bits == 8) {
    for (; i < n; i += 64) {
      __mmask64 live = n - i >= 64 ? ~(__mmask64)0
                                   : ((__mmask64)1 << (n - i)) - 1;
      __m512i x = _mm512_maskz_loadu_epi8(live, b + i);
      for (unsigned j = 0; j < NK; j++)
        cnt[j] += (uint32_t)__builtin_popcountll(_mm512_mask_cmpeq_epi8_mask(
            live, x, _mm512_set1_epi8((char)j)));
    }
    return;
  }
  for (; i < n; i += 16) {
    __mmask16 live = rt_avx512_lanes(n - i);
    __m512i ix = rt_avx512_load_idx16(b, bits, i, n - i < 16 ? n - i : 16);
    for (unsigned j = 0; j < NK; j++)
      cnt[j] += (uint32_t)__builtin_popcount((unsigned)
          _mm512_mask_cmpeq_epi32_mask(live, ix, _mm512_set1_epi32((int)j)));
  }
}

/* NK clusters (k <= NK), indices of `bits` (a constant after inlining),
 * by masked steps (counts from their masks). */
static inline __attribute__((always_inline)) void
acc_masked(const float *g, const uint8_t *b, int bits, size_t n, size_t k,
           unsigned NK, int with_counts, float *sums, uint64_t *counts) {
  __m512 acc[16];
  uint32_t cnt[16] = {0};
  for (unsigned j = 0; j < 16; j++) /* all 16: k <= NK is not visible */
    acc[j] = _mm512_setzero_ps();
  /* 32-bit counts cannot overflow: the caller's blocks are small. */
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc_step(acc, cnt, NK, with_counts, rt_avx512_load_idx16(b, bits, i, 16),
             _mm512_loadu_ps(g + i), (__mmask16)0xffff);
  if (i < n) {
    __mmask16 live = rt_avx512_lanes(n - i);
    acc_step(acc, cnt, NK, with_counts,
             rt_avx512_load_idx16(b, bits, i, n - i),
             _mm512_maskz_loadu_ps(live, g + i), live);
  }
  for (size_t j = 0; j < k; j++) {
    sums[j] += _mm512_reduce_add_ps(acc[j]);
    if (with_counts) counts[j] += cnt[j];
  }
}

/* The same sums by permute steps; counts by count_regs. */
static inline __attribute__((always_inline)) void
acc_perm(const float *g, const uint8_t *b, int bits, size_t n, size_t k,
         unsigned NK, int with_counts, float *sums, uint64_t *counts) {
  __m512 acc[16];
  for (unsigned j = 0; j < 16; j++) acc[j] = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    acc_step_perm(acc, NK, rt_avx512_load_idx16(b, bits, i, 16),
                  _mm512_loadu_ps(g + i));
  if (i < n)
    acc_step_perm(acc, NK, rt_avx512_load_idx16(b, bits, i, n - i),
                  _mm512_maskz_loadu_ps(rt_avx512_lanes(n - i), g + i));
  /* Some lane non-finite (an Inf or NaN in g, or an overflow): redo the
   * block with masks, which gives the exact Inf/NaN pattern. */
  __m512i mx = _mm512_setzero_si512();
  for (unsigned j = 0; j < NK; j++)
    mx = _mm512_max_epu32(mx, _mm512_and_si512(_mm512_castps_si512(acc[j]),
                                               _mm512_set1_epi32(0x7fffffff)));
  if (_mm512_cmpge_epu32_mask(mx, _mm512_set1_epi32(0x7f800000))) {
    acc_masked(g, b, bits, n, k, NK, with_counts, sums, counts);
    return;
  }
  uint32_t cnt[16] = {0};
  if (with_counts) count_regs(b, bits, n, NK, cnt);
  for (size_t j = 0; j < k; j++) {
    sums[j] += _mm512_reduce_add_ps(acc[j]);
    if (with_counts) counts[j] += cnt[j];
  }
}

/* Specialised on the cluster bound and the index width (BITS 0 = read the
 * width at run time: the less common pairings). Up to 4 clusters the
 * masked steps are as fast; from 8 the permutes win. */
#define DEFINE_REGS(NK, BITS)                                                \
  static void acc_regs##NK##_##BITS(const float *g, const uint8_t *b,        \
                                    int bits, size_t n, size_t k,            \
                                    float *sums, uint64_t *counts) {         \
    int bb = BITS ? BITS : bits;                                             \
    if (NK < 8 && counts)                                                    \
      acc_masked(g, b, bb, n, k, NK, 1, sums, counts);                       \
    else if (NK < 8)                                                         \
      acc_masked(g, b, bb, n, k, NK, 0, sums, counts);                       \
    else if (counts)                                                         \
      acc_perm(g, b, bb, n, k, NK, 1, sums, counts);                         \
    else                                                                     \
      acc_perm(g, b, bb, n, k, NK, 0, sums, counts);                         \
  }
DEFINE_REGS(2, 1)
DEFINE_REGS(4, 2)
DEFINE_REGS(16, 4)
DEFINE_REGS(2, 8)
DEFINE_REGS(4, 8)
DEFINE_REGS(8, 8)
DEFINE_REGS(16, 8)
DEFINE_REGS(2, 0)
DEFINE_REGS(4, 0)
DEFINE_REGS(8, 0)
DEFINE_REGS(16, 0)

/* a[ix] += the low lane of x (and cnt[ix] += 1 with counts). */
#define BANK_ADD(a, cnt, ix, x)                                              \
  do {                                                                       \
    float *p_ = &(a)[ix];                                                    \
    *p_ = _mm_cvtss_f32(_mm_add_ss(_mm_load_ss(p_), (x)));                   \
    if (cnt) (cnt)[ix]++;                                                    \
  } while (0)

/* Four elements: lanes of gv to banks q .. q + 3, indices the low four
 * bytes of x. The lanes come out of the register by shuffles, so each
 * element costs one load and one store of its bank, not also a load of g
 * (three memory operations per element were the bound: 2.5 elements/ns
 * before, 3.3 after, n = 16M, k = 256, on the AMD EPYC here). */
#define BANK_QUAD(a, c, q, gv, x)                                            \
  do {                                                                       \
    __m128 l0_ = (gv), l1_ = _mm_movehdup_ps(l0_),                           \
           l2_ = _mm_movehl_ps(l0_, l0_), l3_ = _mm_shuffle_ps(l0_, l0_, 3); \
    BANK_ADD(a[q], c ? c[q] : NULL, (x) & 255, l0_);                         \
    BANK_ADD(a[q + 1], c ? c[q + 1] : NULL, ((x) >> 8) & 255, l1_);          \
    BANK_ADD(a[q + 2], c ? c[q + 2] : NULL, ((x) >> 16) & 255, l2_);         \
    BANK_ADD(a[q + 3], c ? c[q + 3] : NULL, ((x) >> 24) & 255, l3_);         \
  } while (0)

/* Sixteen u8 elements from i: element i + j to bank j % 8. */
static inline __attribute__((always_inline)) void
bank16(float (*a)[256], uint32_t (*c)[256], const float *g, const uint8_t *b,
       size_t i) {
  uint64_t x, y;
  memcpy(&x, b + i, 8);
  memcpy(&y, b + i + 8, 8);
  __m512 gv = _mm512_loadu_ps(g + i);
  BANK_QUAD(a, c, 0, _mm512_castps512_ps128(gv), x);
  BANK_QUAD(a, c, 4, _mm512_extractf32x4_ps(gv, 1), x >> 32);
  BANK_QUAD(a, c, 0, _mm512_extractf32x4_ps(gv, 2), y);
  BANK_QUAD(a, c, 4, _mm512_extractf32x4_ps(gv, 3), y >> 32);
}

/* Eight banks of scalar partial sums, indices of `bits` 8 or 16. */
static void acc_banks(const float *g, const uint8_t *b, int bits, size_t n,
                      size_t k, float *sums, uint64_t *counts) {
  float a[8][256];
  uint32_t c[8][256];
  for (int q = 0; q < 8; q++)
    for (size_t j = 0; j < k; j++) a[q][j] = 0.0f, c[q][j] = 0;
  size_t i = 0;
  if (bits == 8 && !counts) {
    for (; i + 16 <= n; i += 16) bank16(a, NULL, g, b, i);
  } else if (bits == 8) {
    for (; i + 16 <= n; i += 16) bank16(a, c, g, b, i);
  } else {
    for (; i + 8 <= n; i += 8) {
      uint16_t x[8];
      memcpy(x, b + 2 * i, 16);
      for (int q = 0; q < 8; q++) {
        a[q][x[q]] += g[i + q];
        c[q][x[q]]++;
      }
    }
  }
  for (; i < n; i++) {
    uint32_t v = rt_index_get(b, bits == 8 ? CLUSTERRT_IDX_U8 : CLUSTERRT_IDX_U16, i);
    a[i % 8][v] += g[i];
    c[i % 8][v]++;
  }
  for (size_t j = 0; j < k; j++) {
    sums[j] += ((a[0][j] + a[1][j]) + (a[2][j] + a[3][j])) +
               ((a[4][j] + a[5][j]) + (a[6][j] + a[7][j]));
    if (counts)
      for (int q = 0; q < 8; q++) counts[j] += c[q][j];
  }
}

void clusterrt_accumulate__avx512(const float *g, const void *idx,
                                  clusterrt_index_format f, size_t n,
                                  size_t k, float *sums, uint64_t *counts) {
  int bits = (int)clusterrt_format_bits(f);
  const uint8_t *b = (const uint8_t *)idx;
  /* Indices reach at most 2^bits clusters (a narrow format may come with a
   * larger k); sums and counts past that stay as the caller zeroed them. */
  if (bits < 16 && k > ((size_t)1 << bits)) k = (size_t)1 << bits;
  typedef void (*regs_fn)(const float *, const uint8_t *, int, size_t, size_t,
                          float *, uint64_t *);
  regs_fn fn = NULL;
  if (k <= 2)
    fn = bits == 1 ? acc_regs2_1 : bits == 8 ? acc_regs2_8 : acc_regs2_0;
  else if (k <= 4)
    fn = bits == 2 ? acc_regs4_2 : bits == 8 ? acc_regs4_8 : acc_regs4_0;
  else if (k <= 8)
    fn = bits == 8 ? acc_regs8_8 : acc_regs8_0;
  else if (k <= 16)
    fn = bits == 4 ? acc_regs16_4 : bits == 8 ? acc_regs16_8 : acc_regs16_0;
  if (fn) fn(g, b, bits, n, k, sums, counts);
  else if (k <= 256) acc_banks(g, b, bits, n, k, sums, counts);
  else clusterrt_accumulate__generic(g, idx, f, n, k, sums, counts);
}
