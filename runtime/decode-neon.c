/*
 * Decode, NEON (AArch64). k <= 16 with u8 or u4 indices: the table is 64
 * bytes, four q-registers, and vqtbl4q_u8 looks up the four bytes of each
 * float (byte index 4*idx + 0..3), sixteen indices per step. Indices are
 * clamped to 15 for the lookup and max-accumulated for the bound check.
 * Everything else (u16, u1, u2, k > 16: NEON has no gather) and the tail
 * use the generic kernel.
 */
#include "internal.h"

#include <arm_neon.h>

/* w[0..16) = tab[ix[0..16)], ix < 16. */
static inline void lut16x16(uint8x16x4_t tab, uint8x16_t ix, float *w) {
  static const uint8_t rep[4][16] = {
      {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
      {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
      {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
      {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
  static const uint8_t off[16] = {0, 1, 2, 3, 0, 1, 2, 3,
                                  0, 1, 2, 3, 0, 1, 2, 3};
  uint8x16_t x4 = vshlq_n_u8(ix, 2), o = vld1q_u8(off);
  for (int g = 0; g < 4; g++) {
    uint8x16_t bi = vaddq_u8(vqtbl1q_u8(x4, vld1q_u8(rep[g])), o);
    vst1q_u8((uint8_t *)(w + 4 * g), vqtbl4q_u8(tab, bi));
  }
}

int clusterrt_decode__neon(const void *idx, clusterrt_index_format f, size_t n,
                           const float *c, size_t k, float *w) {
  int bits = (int)clusterrt_format_bits(f);
  if (k > 16 || (bits != 8 && bits != 4))
    return clusterrt_decode__generic(idx, f, n, c, k, w);
  const uint8_t *b = (const uint8_t *)idx;
  float tabf[16] = {0};
  for (size_t j = 0; j < k; j++) tabf[j] = c[j];
  uint8x16x4_t tab = vld1q_u8_x4((const uint8_t *)tabf);
  uint8x16_t mx = vdupq_n_u8(0), fifteen = vdupq_n_u8(15);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16_t ix;
    if (bits == 8) {
      ix = vld1q_u8(b + i);
    } else {
      uint8x8_t v = vld1_u8(b + i / 2);
      uint8x8_t l = vand_u8(v, vdup_n_u8(15)), h = vshr_n_u8(v, 4);
      uint8x8x2_t z = vzip_u8(l, h);
      ix = vcombine_u8(z.val[0], z.val[1]);
    }
    mx = vmaxq_u8(mx, ix);
    lut16x16(tab, vminq_u8(ix, fifteen), w + i);
  }
  int bad = vmaxvq_u8(mx) >= k;
  if (i < n)
    bad |= clusterrt_decode__generic(b + i * (size_t)bits / 8, f, n - i, c, k,
                                     w + i);
  return bad;
}
