/*
 * Decode, AVX-512 with VBMI: u8 indices and tables of 17 to 256 entries,
 * 64 indices per step, by bytes instead of floats.
 *
 * The table is split into four byte planes (byte p of every entry, 256
 * bytes = four registers each). vpermi2b looks 64 indices up in 128
 * entries of a plane at once; tables above 128 entries take a second
 * vpermi2b on the upper half and a blend on index bit 7. Interleaving the
 * four planes (unpack bytes, then 16-bit pairs) gives the floats; the
 * unpacks work within 128-bit lanes, so the indices are first permuted
 * (a 4x4 transpose of their dwords) such that the results come out in
 * order. About 30 operations per 64 elements, against about 80 for
 * decode-avx512.c's blend tree of vpermi2ps; the values are copies of the
 * table's bits either way. Other formats and sizes, and the n % 64 tail,
 * go to the AVX-512 kernel. Chosen by dispatch.c when the CPU has VBMI
 * (CLUSTERRT_VBMI=0 in the environment keeps the plain AVX-512 kernel).
 */
#include "internal.h"

#include <immintrin.h>
#include <string.h>

static inline __attribute__((always_inline)) __m512i
plane(__m512i x, __mmask64 hi, const __m512i *t, int big) {
  __m512i lo = _mm512_permutex2var_epi8(t[0], x, t[1]);
  if (!big) return lo;
  return _mm512_mask_blend_epi8(hi, lo,
                                _mm512_permutex2var_epi8(t[2], x, t[3]));
}

static inline __attribute__((always_inline)) uint8_t
decode_planes(const uint8_t *b, size_t n, const __m512i (*t)[4], int big,
              float *w) {
  /* Dword q of 128-bit lane L of the permuted indices is dword 4q + L of
   * the originals, so that after the in-lane unpacks below output register
   * r holds elements 16r .. 16r + 15 in order. */
  const __m512i tr =
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  __m512i mx = _mm512_setzero_si512();
  for (size_t i = 0; i + 64 <= n; i += 64) {
    __m512i raw = _mm512_loadu_si512((const void *)(b + i));
    mx = _mm512_max_epu8(mx, raw);
    __m512i x = _mm512_permutexvar_epi32(tr, raw);
    __mmask64 hi = _mm512_movepi8_mask(x);
    __m512i y0 = plane(x, hi, t[0], big), y1 = plane(x, hi, t[1], big),
            y2 = plane(x, hi, t[2], big), y3 = plane(x, hi, t[3], big);
    __m512i a0 = _mm512_unpacklo_epi8(y0, y1), a1 = _mm512_unpackhi_epi8(y0, y1);
    __m512i b0 = _mm512_unpacklo_epi8(y2, y3), b1 = _mm512_unpackhi_epi8(y2, y3);
    _mm512_storeu_si512((void *)(w + i), _mm512_unpacklo_epi16(a0, b0));
    _mm512_storeu_si512((void *)(w + i + 16), _mm512_unpackhi_epi16(a0, b0));
    _mm512_storeu_si512((void *)(w + i + 32), _mm512_unpacklo_epi16(a1, b1));
    _mm512_storeu_si512((void *)(w + i + 48), _mm512_unpackhi_epi16(a1, b1));
  }
  __m256i m = _mm256_max_epu8(_mm512_castsi512_si256(mx),
                              _mm512_extracti64x4_epi64(mx, 1));
  __m128i m2 = _mm_max_epu8(_mm256_castsi256_si128(m),
                            _mm256_extracti128_si256(m, 1));
  uint8_t l[16], r = 0;
  _mm_storeu_si128((__m128i *)(void *)l, m2);
  for (int j = 0; j < 16; j++) r = l[j] > r ? l[j] : r;
  return r;
}

int clusterrt_decode__avx512vbmi(const void *idx, clusterrt_index_format f,
                                 size_t n, const float *c, size_t k,
                                 float *w) {
  if (f != CLUSTERRT_IDX_U8 || k <= 16 || n < 64)
    return clusterrt_decode__avx512(idx, f, n, c, k, w);
  const uint8_t *b = (const uint8_t *)idx;
  size_t T = k < 256 ? k : 256;
  uint8_t bytes[4][256] __attribute__((aligned(64)));
  for (size_t j = 0; j < 256; j++) {
    uint32_t u = 0;
    if (j < T) memcpy(&u, &c[j], 4);
    for (int p = 0; p < 4; p++) bytes[p][j] = (uint8_t)(u >> (8 * p));
  }
  __m512i t[4][4];
  for (int p = 0; p < 4; p++)
    for (int q = 0; q < 4; q++)
      t[p][q] = _mm512_load_si512((const void *)(bytes[p] + 64 * q));
  uint8_t mx = T > 128 ? decode_planes(b, n, (const __m512i(*)[4])t, 1, w)
                       : decode_planes(b, n, (const __m512i(*)[4])t, 0, w);
  size_t done = n / 64 * 64;
  int bad = mx >= k;
  if (done < n)
    bad |= clusterrt_decode__avx512(b + done, f, n - done, c, k, w + done);
  return bad;
}
