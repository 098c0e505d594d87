/*
 * Gather-accumulate, NEON (AArch64). k <= 8 with u4/u8/u16 indices:
 * private per-lane accumulators, acc[j] += g & (idx == j) and
 * cnt[j] -= (idx == j), four lanes summed at the end (vaddvq). Otherwise,
 * and for the tail, the generic kernel (four banks). Orders differ from
 * generic; the bound of runtime/README.md holds.
 */
#include "internal.h"

#include <arm_neon.h>
#include <string.h>

/* Four indices of format f (u4, u8, u16) from element i (even for u4). */
static inline uint32x4_t load_idx4(const uint8_t *b, int bits, size_t i) {
  if (bits == 16) {
    uint16_t v[4];
    memcpy(v, b + 2 * i, 8);
    return vmovl_u16(vld1_u16(v));
  }
  uint8_t v[8] = {0};
  if (bits == 8) {
    memcpy(v, b + i, 4);
  } else {
    uint8_t x0 = b[i / 2], x1 = b[i / 2 + 1];
    v[0] = x0 & 15;
    v[1] = x0 >> 4;
    v[2] = x1 & 15;
    v[3] = x1 >> 4;
  }
  return vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(v))));
}

void clusterrt_accumulate__neon(const float *g, const void *idx,
                                clusterrt_index_format f, size_t n, size_t k,
                                float *sums, uint64_t *counts) {
  int bits = (int)clusterrt_format_bits(f);
  const uint8_t *b = (const uint8_t *)idx;
  size_t i = 0;
  if (bits >= 4 && k <= 8) {
    float32x4_t acc[8];
    uint32x4_t cnt[8];
    for (int j = 0; j < 8; j++) {
      acc[j] = vdupq_n_f32(0);
      cnt[j] = vdupq_n_u32(0);
    }
    for (; i + 4 <= n; i += 4) {
      uint32x4_t ix = load_idx4(b, bits, i);
      uint32x4_t gv = vreinterpretq_u32_f32(vld1q_f32(g + i));
      for (size_t j = 0; j < k; j++) {
        uint32x4_t eq = vceqq_u32(ix, vdupq_n_u32((uint32_t)j));
        acc[j] = vaddq_f32(acc[j], vreinterpretq_f32_u32(vandq_u32(gv, eq)));
        cnt[j] = vsubq_u32(cnt[j], eq);
      }
    }
    for (size_t j = 0; j < k; j++) {
      sums[j] += vaddvq_f32(acc[j]);
      if (counts) counts[j] += vaddvq_u32(cnt[j]);
    }
  }
  if (i < n)
    clusterrt_accumulate__generic(g + i, b + i * (size_t)bits / 8, f, n - i, k,
                                  sums, counts);
}
