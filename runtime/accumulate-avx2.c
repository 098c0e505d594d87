/*
 * Gather-accumulate, AVX2.
 *
 * k <= 8 with u4/u8/u16 indices: private per-lane accumulators in
 * registers. For each cluster j, acc[j] += g & (idx == j) and cnt[j] -=
 * (idx == j), or without counts acc[j] = fma(onehot_j(idx), g, acc[j])
 * (the same sums); the eight lanes of acc[j] are summed at the end (lane
 * order 0..7, pairwise). Larger k: eight banks of scalar partial sums (element i
 * to bank i % 8) so repeated indices do not serialise on one address.
 * Both orders differ from generic; the bound in runtime/README.md holds.
 */
#include "internal.h"
#include "avx2-util.h"

static float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static uint64_t hsum8i(__m256i v) {
  uint32_t l[8];
  _mm256_storeu_si256((__m256i *)l, v);
  uint64_t s = 0;
  for (int j = 0; j < 8; j++) s += l[j];
  return s;
}

/* onehot8[j] has 1 in lane j: vpermps by the indices turns it into 1
 * where idx == j, else 0 (as in accumulate-avx512.c). */
static const float onehot8[8][8] __attribute__((aligned(32))) = {
    {1}, {0, 1}, {0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0, 1},
    {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1}};

/* k <= 8 without counts: acc[j] = fma(onehot_j(idx), g, acc[j]), two
 * operations per cluster instead of compare, and, add; for finite g the
 * same sums bit for bit (accumulate-avx512.c explains why). Sets *done to
 * the elements summed (a multiple of 8) and returns 1, or returns 0 with
 * nothing added if some lane ended non-finite (an Inf or NaN in g, or an
 * overflow). */
static int acc_perm8(const float *g, const uint8_t *b, int bits, size_t n,
                     size_t k, float *sums, size_t *done) {
  __m256 acc[8];
  for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i ix = rt_avx2_load_idx8(b, bits, i);
    __m256 gv = _mm256_loadu_ps(g + i);
    for (size_t j = 0; j < k; j++)
      acc[j] = _mm256_fmadd_ps(
          _mm256_permutevar8x32_ps(_mm256_load_ps(onehot8[j]), ix), gv,
          acc[j]);
  }
  __m256i mx = _mm256_setzero_si256();
  for (size_t j = 0; j < k; j++)
    mx = _mm256_max_epu32(mx, _mm256_and_si256(_mm256_castps_si256(acc[j]),
                                               _mm256_set1_epi32(0x7fffffff)));
  __m256i bad = _mm256_cmpeq_epi32(
      _mm256_max_epu32(mx, _mm256_set1_epi32(0x7f800000)), mx);
  if (!_mm256_testz_si256(bad, bad)) return 0;
  for (size_t j = 0; j < k; j++) sums[j] += hsum8(acc[j]);
  *done = i;
  return 1;
}

void clusterrt_accumulate__avx2(const float *g, const void *idx,
                                clusterrt_index_format f, size_t n, size_t k,
                                float *sums, uint64_t *counts) {
  int bits = (int)clusterrt_format_bits(f);
  const uint8_t *b = (const uint8_t *)idx;
  size_t i = 0;
  if (bits >= 4 && k <= 8 && !counts && acc_perm8(g, b, bits, n, k, sums, &i)) {
    /* summed up to i; the generic kernel does the rest */
  } else if (bits >= 4 && k <= 8) {
    __m256 acc[8];
    __m256i cnt[8];
    for (int j = 0; j < 8; j++) {
      acc[j] = _mm256_setzero_ps();
      cnt[j] = _mm256_setzero_si256();
    }
    /* 32-bit count lanes: the caller's blocks (ACC_BLOCK = 65536) cannot overflow. */
    for (; i + 8 <= n; i += 8) {
      __m256i ix = rt_avx2_load_idx8(b, bits, i);
      __m256 gv = _mm256_loadu_ps(g + i);
      for (size_t j = 0; j < k; j++) {
        __m256i eq = _mm256_cmpeq_epi32(ix, _mm256_set1_epi32((int)j));
        acc[j] = _mm256_add_ps(acc[j],
                               _mm256_and_ps(gv, _mm256_castsi256_ps(eq)));
        cnt[j] = _mm256_sub_epi32(cnt[j], eq);
      }
    }
    for (size_t j = 0; j < k; j++) {
      sums[j] += hsum8(acc[j]);
      if (counts) counts[j] += hsum8i(cnt[j]);
    }
  } else if (bits == 8 && k <= 256) {
    float acc[8][256];
    uint32_t cnt[8][256];
    for (int q = 0; q < 8; q++)
      for (size_t j = 0; j < k; j++) {
        acc[q][j] = 0;
        cnt[q][j] = 0;
      }
    if (counts) {
      for (; i + 8 <= n; i += 8)
        for (int q = 0; q < 8; q++) {
          acc[q][b[i + q]] += g[i + q];
          cnt[q][b[i + q]]++;
        }
    } else {
      for (; i + 8 <= n; i += 8)
        for (int q = 0; q < 8; q++) acc[q][b[i + q]] += g[i + q];
    }
    for (size_t j = 0; j < k; j++) {
      sums[j] += ((acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j])) +
                 ((acc[4][j] + acc[5][j]) + (acc[6][j] + acc[7][j]));
      if (counts)
        for (int q = 0; q < 8; q++) counts[j] += cnt[q][j];
    }
  }
  if (i < n)
    clusterrt_accumulate__generic(g + i, b + i * (size_t)bits / 8, f, n - i, k,
                                  sums, counts);
}
