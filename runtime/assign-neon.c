/*
 * Assignment, NEON (AArch64). Four weights per step, on a "fast" table
 * (assign.c):
 *  - up to 16 unique centroids: c = #{thr <= w} by compare-and-subtract
 *    against broadcast switch points;
 *  - more, with the bucket guess: rt_bucket in vector form (the clamps are
 *    compare+select so NaN and -0 behave as the scalar ternaries; fmax/fmin
 *    would propagate NaN), bkt[] and the rare probes by lane loads (no
 *    gather on NEON);
 *  - idx = c, or p[c] when the caller's centroids were not sorted/distinct.
 * Lanes outside [lo_safe, hi_safe] (NaN, +-Inf included) are redone by
 * rt_assign_one. Tables that are not fast or have no bucket guess, and the
 * n % 4 tail, use the generic kernel.
 */
#include "internal.h"

#include <arm_neon.h>
#include <string.h>

static inline int finish(const rt_table *t, const float *w, float32x4_t x,
                         float32x4_t lo, float32x4_t hi, uint32x4_t c,
                         void *out, size_t i, int wide) {
  uint32x4_t ok = vandq_u32(vcgeq_f32(x, lo), vcleq_f32(x, hi));
  uint16x4_t c16 = vmovn_u32(c);
  if (wide) {
    memcpy((uint8_t *)out + 2 * i, &c16, 8);
  } else {
    uint8x8_t c8 = vmovn_u16(vcombine_u16(c16, c16));
    memcpy((uint8_t *)out + i, &c8, 4);
  }
  if (vminvq_u32(ok)) return 0;
  int nan = 0;
  uint32_t okl[4];
  vst1q_u32(okl, ok);
  for (int l = 0; l < 4; l++) {
    if (okl[l]) continue;
    float v = w[i + l];
    if (v != v)
      nan = 1;
    else
      rt_store_idx(out, wide, i + l, rt_assign_one(t, v));
  }
  return nan;
}

static inline uint32x4_t lookup_p(const rt_table *t, const uint32_t *p,
                                  uint32x4_t c) {
  (void)t;
  uint32_t cl[4];
  vst1q_u32(cl, c);
  for (int l = 0; l < 4; l++) cl[l] = p[cl[l]];
  return vld1q_u32(cl);
}

static int assign_small(const rt_table *t, const float *w, size_t n,
                        void *out, int wide) {
  size_t nt = t->m - 1; /* <= 15 */
  float32x4_t thr[15];
  for (size_t j = 0; j < nt; j++) thr[j] = vdupq_n_f32(t->thr[j]);
  float32x4_t lo = vdupq_n_f32(t->lo_safe), hi = vdupq_n_f32(t->hi_safe);
  int ident = t->p_ident, nan = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t x = vld1q_f32(w + i);
    uint32x4_t c = vdupq_n_u32(0);
    for (size_t j = 0; j < nt; j++) c = vsubq_u32(c, vcleq_f32(thr[j], x));
    if (!ident) c = lookup_p(t, t->small_p, c);
    nan |= finish(t, w, x, lo, hi, c, out, i, wide);
  }
  return nan | clusterrt_assign__generic(t, w + i, n - i,
                                         (uint8_t *)out + (i << wide), wide);
}

static int assign_bucket(const rt_table *t, const float *w, size_t n,
                         void *out, int wide) {
  float32x4_t lo = vdupq_n_f32(t->lo_safe), hi = vdupq_n_f32(t->hi_safe);
  float32x4_t base = vdupq_n_f32(t->bbase), scale = vdupq_n_f32(t->bscale);
  float32x4_t top = vdupq_n_f32((float)(t->G - 1)), zero = vdupq_n_f32(0.0f);
  const uint32_t *bkt = t->bkt;
  const float *thr = t->thr;
  unsigned bmax = t->bmax;
  int ident = t->p_ident, nan = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t x = vld1q_f32(w + i);
    float32x4_t y = vmulq_f32(vsubq_f32(x, base), scale);
    y = vbslq_f32(vcgtq_f32(y, zero), y, zero);
    y = vbslq_f32(vcltq_f32(y, top), y, top);
    uint32_t b[4], e[4];
    vst1q_u32(b, vcvtq_u32_f32(y));
    for (int l = 0; l < 4; l++) e[l] = bkt[b[l]];
    uint32x4_t ev = vld1q_u32(e);
    uint32x4_t c = vandq_u32(ev, vdupq_n_u32(0x7fffffffu));
    if (vmaxvq_u32(ev) >> 31) {
      uint32_t cl[4];
      float xl[4];
      vst1q_u32(cl, c);
      vst1q_f32(xl, x);
      for (int l = 0; l < 4; l++) {
        if (!(e[l] >> 31)) continue;
        uint32_t c0 = cl[l];
        for (unsigned q = 0; q < bmax; q++) cl[l] += thr[c0 + q] <= xl[l];
      }
      c = vld1q_u32(cl);
    }
    if (!ident) c = lookup_p(t, t->p32, c);
    nan |= finish(t, w, x, lo, hi, c, out, i, wide);
  }
  return nan | clusterrt_assign__generic(t, w + i, n - i,
                                         (uint8_t *)out + (i << wide), wide);
}

int clusterrt_assign__neon(const rt_table *t, const float *w, size_t n,
                           void *out, int wide) {
  if (!t->fast) return clusterrt_assign__generic(t, w, n, out, wide);
  if (t->m <= 16) return assign_small(t, w, n, out, wide);
  if (t->bmax) return assign_bucket(t, w, n, out, wide);
  return clusterrt_assign__generic(t, w, n, out, wide);
}
