/*
 * LUT matrix kernels, NEON (AArch64; lut.c has the method).
 *
 * gemv: chunks of 16 index bytes per row; sub-element s (epb = 8 / bits
 * per byte) is (bytes >> s*bits) & (2^bits - 1) (u8: & 15, k <= 16, else
 * the generic kernel), sixteen indices in a q-register. The row's table
 * is held as four byte planes (vld4q_u8 of the 16 floats): four vqtbl1q_u8
 * give the four bytes of the sixteen floats, and two rounds of zips
 * reassemble them into four float vectors in index order. Two rows at a
 * time share the loads of x (permuted by rt_lut_permute_x, chunk 16, the
 * same order as AVX-512). Order per row: float vector v (lanes 4v..4v+3
 * of each 16-index vector) goes to accumulator v, sub-elements in order,
 * chunks in order; then (acc0 + acc1) + (acc2 + acc3), vaddvq_f32, then
 * the elements past the last whole chunk by sequential fmaf.
 *
 * gemm: micro-kernel 8 x 8 (8 rows of x in two q-registers, 8 output
 * channels; four W elements of a channel loaded at once and used by
 * vfmaq_laneq_f32, in K order).
 */
#include "internal.h"

#include <arm_neon.h>
#include <math.h>

static inline uint8x16x4_t row_planes(const rt_lut_args *a, size_t n) {
  float tab[256];
  rt_lut_pad_table(a, n, tab);
  return vld4q_u8((const uint8_t *)tab);
}

/* Sixteen floats tab[ix[l]] as four vectors (lanes 0-3, 4-7, ...). */
static inline void lookup(uint8x16x4_t p, uint8x16_t ix, float32x4_t w[4]) {
  uint8x16_t b0 = vqtbl1q_u8(p.val[0], ix), b1 = vqtbl1q_u8(p.val[1], ix);
  uint8x16_t b2 = vqtbl1q_u8(p.val[2], ix), b3 = vqtbl1q_u8(p.val[3], ix);
  uint16x8_t l01 = vreinterpretq_u16_u8(vzip1q_u8(b0, b1));
  uint16x8_t h01 = vreinterpretq_u16_u8(vzip2q_u8(b0, b1));
  uint16x8_t l23 = vreinterpretq_u16_u8(vzip1q_u8(b2, b3));
  uint16x8_t h23 = vreinterpretq_u16_u8(vzip2q_u8(b2, b3));
  w[0] = vreinterpretq_f32_u16(vzip1q_u16(l01, l23));
  w[1] = vreinterpretq_f32_u16(vzip2q_u16(l01, l23));
  w[2] = vreinterpretq_f32_u16(vzip1q_u16(h01, h23));
  w[3] = vreinterpretq_f32_u16(vzip2q_u16(h01, h23));
}

static inline __attribute__((always_inline)) uint8x16_t
sub(uint8x16_t d, unsigned s, unsigned bits) {
  uint8x16_t m = vdupq_n_u8(bits >= 4 ? 15 : (uint8_t)((1u << bits) - 1u));
  switch (s * bits) {
  case 0: return vandq_u8(d, m);
  case 1: return vandq_u8(vshrq_n_u8(d, 1), m);
  case 2: return vandq_u8(vshrq_n_u8(d, 2), m);
  case 3: return vandq_u8(vshrq_n_u8(d, 3), m);
  case 4: return vandq_u8(vshrq_n_u8(d, 4), m);
  case 5: return vandq_u8(vshrq_n_u8(d, 5), m);
  case 6: return vandq_u8(vshrq_n_u8(d, 6), m);
  default: return vshrq_n_u8(d, 7);
  }
}

static inline __attribute__((always_inline)) void
rows(const rt_lut_args *a, const float *xp, size_t nch, size_t n, int R,
     unsigned bits) {
  const unsigned epb = 8 / bits;
  const uint8_t *r[2];
  uint8x16x4_t p[2];
  float32x4_t acc[2][4];
  for (int q = 0; q < R; q++) {
    r[q] = a->idx + (n + (size_t)q) * a->row_bytes;
    p[q] = row_planes(a, n + (size_t)q);
    for (int v = 0; v < 4; v++) acc[q][v] = vdupq_n_f32(0.0f);
  }
  for (size_t ch = 0; ch < nch; ch++) {
    const float *xc = xp + ch * 16 * epb;
    for (int q = 0; q < R; q++) {
      uint8x16_t d = vld1q_u8(r[q] + ch * 16);
      for (unsigned s = 0; s < epb; s++) {
        float32x4_t w[4];
        lookup(p[q], sub(d, s, bits), w);
        for (int v = 0; v < 4; v++)
          acc[q][v] = vfmaq_f32(acc[q][v], vld1q_f32(xc + s * 16 + 4 * v), w[v]);
      }
    }
  }
  size_t bulk = nch * 16 * epb;
  for (int q = 0; q < R; q++) {
    float y = vaddvq_f32(vaddq_f32(vaddq_f32(acc[q][0], acc[q][1]),
                                   vaddq_f32(acc[q][2], acc[q][3])));
    if (bulk < a->K) {
      float tab[256];
      rt_lut_pad_table(a, n + (size_t)q, tab);
      y = rt_lut_dot(a->x, r[q], bits, bulk, a->K, tab, y);
    }
    a->y[n + (size_t)q] = y;
  }
}

static inline __attribute__((always_inline)) void
gemv_bits(const rt_lut_args *a, const float *xp, size_t n0, size_t n1,
          unsigned bits) {
  size_t nch = a->K / (16 * (8 / bits));
  size_t n = n0;
  for (; n + 2 <= n1; n += 2) rows(a, xp, nch, n, 2, bits);
  for (; n < n1; n++) rows(a, xp, nch, n, 1, bits);
}

void clusterrt_lut_gemv__neon(const rt_lut_args *a, float *xp, size_t n0,
                              size_t n1) {
  if (a->bits == 16 || (a->bits == 8 && a->k > 16)) {
    clusterrt_lut_gemv__generic(a, xp, n0, n1);
    return;
  }
  const float *x = rt_lut_x(a, xp, 16);
  switch (a->bits) {
  case 1: gemv_bits(a, x, n0, n1, 1); break;
  case 2: gemv_bits(a, x, n0, n1, 2); break;
  case 4: gemv_bits(a, x, n0, n1, 4); break;
  default: gemv_bits(a, x, n0, n1, 8); break;
  }
}

enum { MR = 8, NR = 8 };

static void tile(const float *ap, const float *b, size_t kc, float *ct,
                 int first) {
  float32x4_t acc[NR][2];
  for (int j = 0; j < NR; j++)
    for (int h = 0; h < 2; h++)
      acc[j][h] = first ? vdupq_n_f32(0.0f) : vld1q_f32(ct + j * MR + 4 * h);
  size_t kk = 0;
  for (; kk + 4 <= kc; kk += 4) {
    float32x4_t bv[NR];
    for (int j = 0; j < NR; j++) bv[j] = vld1q_f32(b + (size_t)j * RT_LUT_KC + kk);
#define LUT_STEP(l)                                                         \
  do {                                                                      \
    float32x4_t a0 = vld1q_f32(ap + (kk + l) * MR);                         \
    float32x4_t a1 = vld1q_f32(ap + (kk + l) * MR + 4);                     \
    for (int j = 0; j < NR; j++) {                                          \
      acc[j][0] = vfmaq_laneq_f32(acc[j][0], a0, bv[j], l);                 \
      acc[j][1] = vfmaq_laneq_f32(acc[j][1], a1, bv[j], l);                 \
    }                                                                       \
  } while (0)
    LUT_STEP(0);
    LUT_STEP(1);
    LUT_STEP(2);
    LUT_STEP(3);
#undef LUT_STEP
  }
  for (; kk < kc; kk++) {
    float32x4_t a0 = vld1q_f32(ap + kk * MR), a1 = vld1q_f32(ap + kk * MR + 4);
    for (int j = 0; j < NR; j++) {
      float bj = b[(size_t)j * RT_LUT_KC + kk];
      acc[j][0] = vfmaq_n_f32(acc[j][0], a0, bj);
      acc[j][1] = vfmaq_n_f32(acc[j][1], a1, bj);
    }
  }
  for (int j = 0; j < NR; j++)
    for (int h = 0; h < 2; h++) vst1q_f32(ct + j * MR + 4 * h, acc[j][h]);
}

int clusterrt_lut_gemm__neon(const rt_lut_args *a) {
  return rt_lut_gemm_run(a, tile, MR, NR);
}
