/*
 * Decode, AVX2. u4, u8 and u16 indices, eight per step, widened to 32-bit
 * lanes; values from a 16-entry in-register table (two vpermps and a
 * blend) when k <= 16, else a gather from c with the index clamped to
 * k - 1 so no load leaves c. The unclamped indices are max-accumulated and
 * compared with k at the end (the output is unspecified on error, as the
 * API allows). u1, u2 and the n % 8 tail use the generic kernel.
 */
#include "internal.h"
#include "avx2-util.h"

int clusterrt_decode__avx2(const void *idx, clusterrt_index_format f, size_t n,
                           const float *c, size_t k, float *w) {
  int bits = (int)clusterrt_format_bits(f);
  if (bits < 4) return clusterrt_decode__generic(idx, f, n, c, k, w);
  const uint8_t *b = (const uint8_t *)idx;
  __m256i mx = _mm256_setzero_si256();
  size_t i = 0;
  if (k <= 16) {
    float tab[16] = {0};
    for (size_t j = 0; j < k; j++) tab[j] = c[j];
    __m256i t0 = _mm256_castps_si256(_mm256_loadu_ps(tab));
    __m256i t1 = _mm256_castps_si256(_mm256_loadu_ps(tab + 8));
    __m256i fifteen = _mm256_set1_epi32(15);
    for (; i + 8 <= n; i += 8) {
      __m256i ix = rt_avx2_load_idx8(b, bits, i);
      mx = _mm256_max_epu32(mx, ix);
      __m256i v = rt_avx2_lut16(t0, t1, _mm256_min_epu32(ix, fifteen));
      _mm256_storeu_ps(w + i, _mm256_castsi256_ps(v));
    }
  } else {
    __m256i km1 = _mm256_set1_epi32((int)(k - 1));
    for (; i + 8 <= n; i += 8) {
      __m256i ix = rt_avx2_load_idx8(b, bits, i);
      mx = _mm256_max_epu32(mx, ix);
      __m256 v = _mm256_i32gather_ps(c, _mm256_min_epu32(ix, km1), 4);
      _mm256_storeu_ps(w + i, v);
    }
  }
  uint32_t lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, mx);
  int bad = 0;
  for (int j = 0; j < 8; j++) bad |= lanes[j] >= k;
  if (i < n)
    bad |= clusterrt_decode__generic(b + i * (size_t)bits / 8, f, n - i, c, k,
                                     w + i);
  return bad;
}
