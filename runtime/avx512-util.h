/*
 * Helpers for the AVX-512 kernel files (built with -mavx512f -mavx512bw
 * -mavx512vl). Included by *-avx512.c; never by generic code.
 *
 * Sixteen elements per step, one per 32-bit lane. Tails are masked: a
 * partial step loads exactly the bytes its elements occupy (masked byte
 * loads never touch, or fault on, the bytes they skip) and stores with a
 * lane mask, so no kernel reads or writes past n.
 */
#ifndef CLUSTERRT_AVX512_UTIL_H
#define CLUSTERRT_AVX512_UTIL_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* The lanes of a step with r (<= 16) elements left. */
static inline __mmask16 rt_avx512_lanes(size_t r) {
  return r >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << r) - 1u);
}

/* Sixteen indices of a buffer in format `bits` (1, 2, 4, 8, 16) starting at
 * element i, a multiple of 16, as 32-bit lanes. r (1..16) elements are
 * valid; only their bytes are read, and lanes >= r hold junk (which may
 * exceed k: callers mask them out). */
static inline __m512i rt_avx512_load_idx16(const uint8_t *b, int bits,
                                           size_t i, size_t r) {
  size_t bytes = (r * (size_t)bits + 7) / 8;
  const uint8_t *p = b + i / 8 * (size_t)bits;
  __m128i x = _mm_setzero_si128();
  if (r >= 16) {
    switch (bits) {
    case 1: { uint16_t v; memcpy(&v, p, 2); x = _mm_cvtsi32_si128(v); break; }
    case 2: { uint32_t v; memcpy(&v, p, 4); x = _mm_cvtsi32_si128((int)v); break; }
    case 4: { uint64_t v; memcpy(&v, p, 8); x = _mm_cvtsi64_si128((long long)v); break; }
    case 8: x = _mm_loadu_si128((const __m128i *)(const void *)p); break;
    default: break; /* 16: below */
    }
  } else if (bits < 16) {
    x = _mm_maskz_loadu_epi8((__mmask16)((1u << bytes) - 1u), p);
  }
  switch (bits) {
  case 16: {
    __m256i y;
    if (r >= 16)
      y = _mm256_loadu_si256((const __m256i *)(const void *)p);
    else
      y = _mm256_maskz_loadu_epi16(rt_avx512_lanes(r), p);
    return _mm512_cvtepu16_epi32(y);
  }
  case 8: return _mm512_cvtepu8_epi32(x);
  case 4: {
    /* lanes 0-7 from the low dword, 8-15 from the next; nibble l % 8 */
    __m512i d = _mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
        _mm512_castsi128_si512(x));
    __m512i sh = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12,
                                   16, 20, 24, 28);
    return _mm512_and_si512(_mm512_srlv_epi32(d, sh), _mm512_set1_epi32(15));
  }
  case 2: {
    __m512i d = _mm512_broadcastd_epi32(x);
    __m512i sh = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22,
                                   24, 26, 28, 30);
    return _mm512_and_si512(_mm512_srlv_epi32(d, sh), _mm512_set1_epi32(3));
  }
  default: { /* 1 */
    __m512i d = _mm512_broadcastd_epi32(x);
    __m512i sh = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                   13, 14, 15);
    return _mm512_and_si512(_mm512_srlv_epi32(d, sh), _mm512_set1_epi32(1));
  }
  }
}

/* Table lookup t[ix] for a table of up to 256 floats held in registers:
 * h[q] holds t[16q .. 16q+16). S = the table size rounded up to 16, 32,
 * 64, 128 or 256 (a compile-time constant after inlining); index bits at
 * and above log2(S) are ignored. vpermps / vpermi2ps pick within 16 / 32
 * entries; larger tables blend the 32-entry results on index bits 5-7. */
static inline __attribute__((always_inline)) __m512
rt_avx512_lut(const __m512 *h, unsigned S, __m512i ix) {
  if (S <= 16) return _mm512_permutexvar_ps(ix, h[0]);
  __m512 r0 = _mm512_permutex2var_ps(h[0], ix, h[1]);
  if (S <= 32) return r0;
  __mmask16 b5 = _mm512_test_epi32_mask(ix, _mm512_set1_epi32(32));
  __m512 r1 = _mm512_permutex2var_ps(h[2], ix, h[3]);
  __m512 s0 = _mm512_mask_blend_ps(b5, r0, r1);
  if (S <= 64) return s0;
  __mmask16 b6 = _mm512_test_epi32_mask(ix, _mm512_set1_epi32(64));
  __m512 r2 = _mm512_permutex2var_ps(h[4], ix, h[5]);
  __m512 r3 = _mm512_permutex2var_ps(h[6], ix, h[7]);
  __m512 s1 = _mm512_mask_blend_ps(b6, s0, _mm512_mask_blend_ps(b5, r2, r3));
  if (S <= 128) return s1;
  __mmask16 b7 = _mm512_test_epi32_mask(ix, _mm512_set1_epi32(128));
  __m512 r4 = _mm512_permutex2var_ps(h[8], ix, h[9]);
  __m512 r5 = _mm512_permutex2var_ps(h[10], ix, h[11]);
  __m512 r6 = _mm512_permutex2var_ps(h[12], ix, h[13]);
  __m512 r7 = _mm512_permutex2var_ps(h[14], ix, h[15]);
  __m512 s2 = _mm512_mask_blend_ps(b6, _mm512_mask_blend_ps(b5, r4, r5),
                                   _mm512_mask_blend_ps(b5, r6, r7));
  return _mm512_mask_blend_ps(b7, s1, s2);
}

#endif
