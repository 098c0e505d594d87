/*
 * Helpers for the AVX2 kernel files (compiled with -mavx2 -mfma only).
 * Included by *-avx2.c; never by generic code.
 */
#ifndef CLUSTERRT_AVX2_UTIL_H
#define CLUSTERRT_AVX2_UTIL_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* Eight indices of format f (u4, u8 or u16) starting at element i (even for
 * u4) as 32-bit lanes. Reads exactly the bytes of those eight indices. */
static inline __m256i rt_avx2_load_idx8(const uint8_t *b, int bits, size_t i) {
  if (bits == 8) {
    int64_t v;
    memcpy(&v, b + i, 8);
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v));
  }
  if (bits == 16)
    return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 2 * i)));
  /* u4: four bytes, low nibble first */
  int32_t v;
  memcpy(&v, b + i / 2, 4);
  __m128i x = _mm_cvtsi32_si128(v);
  __m128i m = _mm_set1_epi8(0x0f);
  __m128i lo = _mm_and_si128(x, m), hi = _mm_and_si128(_mm_srli_epi16(x, 4), m);
  return _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi));
}

/* 16-entry table lookup: t[c] for c in [0, 16), t given as two halves. */
static inline __m256i rt_avx2_lut16(__m256i lo, __m256i hi, __m256i c) {
  __m256i a = _mm256_permutevar8x32_epi32(lo, c);
  __m256i b = _mm256_permutevar8x32_epi32(hi, c);
  __m256i sel = _mm256_slli_epi32(c, 28); /* bit 3 -> sign */
  return _mm256_castps_si256(_mm256_blendv_ps(
      _mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _mm256_castsi256_ps(sel)));
}

#endif
