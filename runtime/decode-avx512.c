/*
 * Decode, AVX-512 (F/BW/VL). Sixteen indices per step in every format,
 * widened to 32-bit lanes (avx512-util.h: u1/u2/u4 by a broadcast and
 * per-lane shifts, u8/u16 by zero extension), then looked up:
 *  - tables of up to 256 entries (every u1..u8 buffer, and u16 with
 *    k <= 256) live in registers: vpermps for 16 entries, vpermi2ps for 32,
 *    and a blend tree of vpermi2ps results on index bits 5-7 up to 256.
 *    Entries past k are 0; an index >= k still reads inside the table;
 *  - larger u16 tables: a gather from c with the index clamped to k - 1,
 *    so no load leaves c.
 * The unclamped indices of valid lanes are max-accumulated and compared
 * with k once at the end (the output is unspecified on error, as the API
 * allows). The tail is one masked step.
 */
#include "internal.h"
#include "avx512-util.h"

/* One loop per table size S, so the lookup inlines to a fixed sequence. */
static inline __attribute__((always_inline)) __m512i
decode_regs(const uint8_t *b, int bits, size_t n, const __m512 *h, unsigned S,
            float *w) {
  __m512i mx = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i ix = rt_avx512_load_idx16(b, bits, i, 16);
    mx = _mm512_max_epu32(mx, ix);
    _mm512_storeu_ps(w + i, rt_avx512_lut(h, S, ix));
  }
  if (i < n) {
    __mmask16 m = rt_avx512_lanes(n - i);
    __m512i ix = rt_avx512_load_idx16(b, bits, i, n - i);
    mx = _mm512_mask_max_epu32(mx, m, mx, ix);
    _mm512_mask_storeu_ps(w + i, m, rt_avx512_lut(h, S, ix));
  }
  return mx;
}

/* u8 with a full 16-entry table or less: 64 indices per step. */
static __m512i decode_u8_16(const uint8_t *b, size_t n, __m512 h0, float *w) {
  __m512i mx = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i x = _mm512_loadu_si512((const void *)(b + i));
    mx = _mm512_max_epu8(mx, x);
    /* (the lane number of vextracti32x4 must be a literal) */
    _mm512_storeu_ps(w + i, _mm512_permutexvar_ps(
        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 0)), h0));
    _mm512_storeu_ps(w + i + 16, _mm512_permutexvar_ps(
        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 1)), h0));
    _mm512_storeu_ps(w + i + 32, _mm512_permutexvar_ps(
        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 2)), h0));
    _mm512_storeu_ps(w + i + 48, _mm512_permutexvar_ps(
        _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(x, 3)), h0));
  }
  /* bytes -> the 32-bit lane max the caller expects */
  __m512i m32 = _mm512_cvtepu8_epi32(_mm_max_epu8(
      _mm_max_epu8(_mm512_extracti32x4_epi32(mx, 0),
                   _mm512_extracti32x4_epi32(mx, 1)),
      _mm_max_epu8(_mm512_extracti32x4_epi32(mx, 2),
                   _mm512_extracti32x4_epi32(mx, 3))));
  if (i < n) {
    __m512 hh[1] = {h0};
    m32 = _mm512_max_epu32(m32, decode_regs(b + i, 8, n - i, hh, 16, w + i));
  }
  return m32;
}

int clusterrt_decode__avx512(const void *idx, clusterrt_index_format f,
                             size_t n, const float *c, size_t k, float *w) {
  int bits = (int)clusterrt_format_bits(f);
  const uint8_t *b = (const uint8_t *)idx;
  size_t range = bits == 16 ? 65536 : (size_t)1 << bits;
  size_t T = k < range ? k : range; /* entries an index can reach */
  __m512i mx;
  if (T <= 256) {
    float tab[256];
    unsigned S = 16;
    while (S < T) S *= 2;
    for (size_t j = 0; j < S; j++) tab[j] = j < T ? c[j] : 0.0f;
    __m512 h[16];
    for (unsigned q = 0; q < S / 16; q++) h[q] = _mm512_loadu_ps(tab + 16 * q);
    switch (S) {
    case 16:
      mx = bits == 8 ? decode_u8_16(b, n, h[0], w)
                     : decode_regs(b, bits, n, h, 16, w);
      break;
    case 32: mx = decode_regs(b, bits, n, h, 32, w); break;
    case 64: mx = decode_regs(b, bits, n, h, 64, w); break;
    case 128: mx = decode_regs(b, bits, n, h, 128, w); break;
    default: mx = decode_regs(b, bits, n, h, 256, w); break;
    }
  } else { /* u16, k > 256 */
    __m512i km1 = _mm512_set1_epi32((int)(k - 1));
    mx = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
      __mmask16 m = rt_avx512_lanes(n - i);
      __m512i ix = rt_avx512_load_idx16(b, 16, i, n - i);
      mx = _mm512_mask_max_epu32(mx, m, mx, ix);
      __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m,
                                          _mm512_min_epu32(ix, km1), c, 4);
      _mm512_mask_storeu_ps(w + i, m, v);
    }
  }
  return (size_t)_mm512_reduce_max_epu32(mx) >= k;
}
