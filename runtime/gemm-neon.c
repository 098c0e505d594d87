/*
 * GEMM micro-kernel, AArch64 Advanced SIMD (gemm.c has the driver): 8 rows
 * x 12 columns in 24 q accumulators; per depth step three loads of the
 * packed B row, each A element used by element (fmla by scalar).
 */
#include "internal.h"
#include "gemm.h"

#include <arm_neon.h>

enum { MR = 8, NR = 12 };

static void tile(size_t kc, const float *ap, const float *bp, float *c,
                 ptrdiff_t ldc) {
  float32x4_t acc[MR][3];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
  for (size_t k = 0; k < kc; k++) {
    float32x4_t b0 = vld1q_f32(bp + k * NR), b1 = vld1q_f32(bp + k * NR + 4),
                b2 = vld1q_f32(bp + k * NR + 8);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      float a = ap[k * MR + (size_t)i];
      acc[i][0] = vfmaq_n_f32(acc[i][0], b0, a);
      acc[i][1] = vfmaq_n_f32(acc[i][1], b1, a);
      acc[i][2] = vfmaq_n_f32(acc[i][2], b2, a);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    float *r = c + i * ldc;
    vst1q_f32(r, vaddq_f32(vld1q_f32(r), acc[i][0]));
    vst1q_f32(r + 4, vaddq_f32(vld1q_f32(r + 4), acc[i][1]));
    vst1q_f32(r + 8, vaddq_f32(vld1q_f32(r + 8), acc[i][2]));
  }
}

int clusterrt_sgemm__neon(const rt_gemm_args *g) {
  return rt_gemm_run(g, tile, MR, NR);
}
