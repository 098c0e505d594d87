/*
 * LUT matrix kernels: y = x · Wᵀ straight from packed indices and centroid
 * tables (runtime.h, "Matrix products on clustered weights").
 *
 * gemv (batch 1) is memory-bound: it must stream each packed byte once.
 * W is N-major (a row of K indices per output channel, with its own table
 * for per-channel/grouped tables), so the SIMD kernels work along a row:
 * each loads a chunk of index bytes, widens the bytes to 32-bit lanes, and
 * looks the values up with a register permute on shifted copies of those
 * lanes (vpermps uses the low 3/4 bits of a lane, so no masking: tables of
 * u1/u2 are replicated to fill 8/16 entries). Sub-element s of byte l
 * lands in vector s, lane l, so x is permuted once per call into that
 * order (rt_lut_permute_x) and every row reuses it from L1. The generic
 * kernel is the sequential fused sum, the same as gemm's.
 *
 * gemm (batch M) is compute-bound: rt_lut_gemm_run packs blocks of x
 * (MC rows x all of K, transposed into MR-wide panels), decodes NR rows x
 * KC inputs of W with the ISA's decode kernel (bit-identical to
 * clusterrt_decode_f32) into a buffer that stays in L1, and runs the ISA's
 * micro-kernel over it for every panel,
 * whose accumulators are MR rows of x (vector lanes) by NR output
 * channels: acc[j] += ap[kk][0..MR) * b[j][kk], the b element broadcast.
 * Each output element is thus one sequential chain of fused multiply-adds
 * over K (continued across K blocks in the tile's accumulators), on every
 * ISA.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rt_lut_pad_table(const rt_lut_args *a, size_t n, float *tab) {
  const float *c = rt_lut_table(a, n);
  unsigned range = 1u << a->bits;
  for (unsigned j = 0; j < range; j++) tab[j] = j < a->k ? c[j] : 0.0f;
}

size_t rt_lut_permute_x(const float *x, size_t K, unsigned bits, size_t chunk,
                        float *xp) {
  size_t epb = 8 / bits, ce = chunk * epb, bulk = K / ce * ce;
  for (size_t c0 = 0; c0 < bulk; c0 += ce)
    for (size_t s = 0; s < epb; s++)
      for (size_t l = 0; l < chunk; l++)
        xp[c0 + s * chunk + l] = x[c0 + l * epb + s];
  return bulk;
}

const float *rt_lut_x(const rt_lut_args *a, float *xp, size_t chunk) {
  if (a->bits >= 8) return a->x;
  rt_lut_permute_x(a->x, a->K, a->bits, chunk, xp);
  return xp;
}

/* One row of the generic gemv / reference: the sequential fused sum. */
static float row_dot(const rt_lut_args *a, const float *x, size_t n,
                     float *tab) {
  const uint8_t *row = a->idx + n * a->row_bytes;
  if (a->bits == 16) {
    const float *c = rt_lut_table(a, n);
    float acc = 0.0f;
    for (size_t e = 0; e < a->K; e++) {
      uint16_t v;
      memcpy(&v, row + 2 * e, 2);
      acc = fmaf(x[e], v < a->k ? c[v] : 0.0f, acc);
    }
    return acc;
  }
  return rt_lut_dot(x, row, a->bits, 0, a->K, tab, 0.0f);
}

void clusterrt_lut_gemv__generic(const rt_lut_args *a, float *xp, size_t n0,
                                 size_t n1) {
  (void)xp;
  float tab[256];
  size_t cur = (size_t)-1;
  for (size_t n = n0; n < n1; n++) {
    size_t t = a->group ? n / a->group : 0;
    if (a->bits <= 8 && t != cur) {
      rt_lut_pad_table(a, n, tab);
      cur = t;
    }
    a->y[n] = row_dot(a, a->x, n, tab);
  }
}

/* ---- gemm ---------------------------------------------------------------- */

/* x is packed once per block of at most LUT_MC rows, over the whole of K
 * (at most LUT_PACK_BYTES of panels: L2/L3-resident, read at a few bytes a
 * cycle); each NR x KC block of W is decoded once per row block and swept
 * by every MR-row panel; a tile's accumulators ct persist across the K
 * blocks and are written to y once. (Carrying them through y per K block,
 * as before, cost two strided scalar passes over y per block, with y's
 * rows 4 KiB-aliased at N = 4096: ~15 % of batch 64.) */
enum { LUT_KC = RT_LUT_KC, LUT_MC = 256, LUT_PACK_BYTES = 4 << 20 };

static size_t lut_mc(size_t M, size_t K, size_t MR) {
  size_t cap = LUT_PACK_BYTES / sizeof(float) / (K ? K : 1) / MR * MR;
  if (cap < MR) cap = MR;
  if (cap > LUT_MC) cap = LUT_MC;
  size_t m = (M + MR - 1) / MR * MR;
  return m < cap ? m : cap;
}

int rt_lut_gemm_run(const rt_lut_args *a, rt_lut_tile_fn tile, size_t MR,
                    size_t NR) {
  rt_decode_fn decode = rt_get_kernels()->decode;
  size_t M = a->M, K = a->K, N = a->N;
  if (K == 0) {
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < N; n++)
        a->y[m * a->ldy + n] = 0.0f;
    return CLUSTERRT_OK;
  }
  if (MR > RT_LUT_MAX_MR) return CLUSTERRT_ERR_ARG;
  size_t mc_max = lut_mc(M, K, MR);
  float *ap = malloc(sizeof(float) * (mc_max * K + NR * LUT_KC + mc_max * NR));
  if (!ap) return CLUSTERRT_ERR_NOMEM;
  float *bp = ap + mc_max * K, *ct = bp + NR * LUT_KC;
  int bad = 0;
  for (size_t m0 = 0; m0 < M; m0 += mc_max) {
    size_t mc = M - m0 < mc_max ? M - m0 : mc_max;
    /* x[m0..m0+mc) as MR-wide panels over all of K, zero-padded rows;
     * written in order (the panel of a deep K is megabytes: storing one
     * row at a time, MR floats apart, missed the cache on every store). */
    for (size_t p = 0; p < mc; p += MR) {
      float *pp = ap + p * K;
      const float *xr[RT_LUT_MAX_MR];
      size_t mr = mc - p < MR ? mc - p : MR;
      for (size_t i = 0; i < mr; i++) xr[i] = a->x + (m0 + p + i) * a->ldx;
      for (size_t kk = 0; kk < K; kk++, pp += MR) {
        for (size_t i = 0; i < mr; i++) pp[i] = xr[i][kk];
        for (size_t i = mr; i < MR; i++) pp[i] = 0.0f;
      }
    }
    for (size_t n0 = 0; n0 < N; n0 += NR) {
      size_t nr = N - n0 < NR ? N - n0 : NR;
      for (size_t k0 = 0; k0 < K; k0 += LUT_KC) {
        size_t kc = K - k0 < LUT_KC ? K - k0 : LUT_KC;
        for (size_t j = 0; j < nr; j++)
          bad |= decode(a->idx + (n0 + j) * a->row_bytes + k0 * a->bits / 8,
                        a->f, kc, rt_lut_table(a, n0 + j), a->k,
                        bp + j * LUT_KC);
        if (nr < NR && k0 == 0)
          memset(bp + nr * LUT_KC, 0, sizeof(float) * (NR - nr) * LUT_KC);
        for (size_t p = 0; p < mc; p += MR)
          tile(ap + p * K + k0 * MR, bp, kc, ct + p * NR, k0 == 0);
      }
      for (size_t p = 0; p < mc; p += MR) {
        size_t mr = mc - p < MR ? mc - p : MR;
        const float *cp = ct + p * NR;
        float *yt = a->y + (m0 + p) * a->ldy + n0;
        for (size_t i = 0; i < mr; i++)
          for (size_t j = 0; j < nr; j++) yt[i * a->ldy + j] = cp[j * MR + i];
      }
    }
  }
  free(ap);
  return bad ? CLUSTERRT_ERR_INDEX : CLUSTERRT_OK;
}

enum { GEN_MR = 4, GEN_NR = 4 };

static void tile_generic(const float *ap, const float *b, size_t kc,
                         float *ct, int first) {
  for (size_t j = 0; j < GEN_NR; j++)
    for (size_t i = 0; i < GEN_MR; i++) {
      float acc = first ? 0.0f : ct[j * GEN_MR + i];
      for (size_t kk = 0; kk < kc; kk++)
        acc = fmaf(ap[kk * GEN_MR + i], b[j * RT_LUT_KC + kk], acc);
      ct[j * GEN_MR + i] = acc;
    }
}

int clusterrt_lut_gemm__generic(const rt_lut_args *a) {
  return rt_lut_gemm_run(a, tile_generic, GEN_MR, GEN_NR);
}

/* ---- Entry points ---------------------------------------------------------- */

clusterrt_status rt_lut_check_args(const float *x, size_t M, size_t ldx,
                                   size_t K, size_t N, const void *idx,
                                   clusterrt_index_format f, size_t row_bytes,
                                   const float *c, size_t k, size_t group,
                                   float *y, size_t ldy, rt_lut_args *a) {
  unsigned bits = clusterrt_format_bits(f);
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (!clusterrt_format_aligned(f)) return CLUSTERRT_ERR_FORMAT;
  if (bits < 16 && k > (1u << bits)) return CLUSTERRT_ERR_FORMAT;
  size_t rb = clusterrt_index_bytes(f, K);
  if (row_bytes == 0) row_bytes = rb;
  if (ldx == 0) ldx = K;
  if (ldy == 0) ldy = N;
  if (row_bytes < rb || ldx < K || ldy < N) return CLUSTERRT_ERR_ARG;
  size_t t;
  if (__builtin_mul_overflow(N, row_bytes, &t) ||
      __builtin_mul_overflow(M, ldx, &t) || __builtin_mul_overflow(M, ldy, &t))
    return CLUSTERRT_ERR_ARG;
  if (M > 0 && N > 0 && (!y || !c || (K > 0 && (!x || !idx))))
    return CLUSTERRT_ERR_NULL;
  *a = (rt_lut_args){.x = x, .M = M, .ldx = ldx, .K = K, .N = N,
                     .idx = (const uint8_t *)idx, .f = f, .bits = bits,
                     .row_bytes = row_bytes, .c = c, .k = k, .group = group,
                     .y = y, .ldy = ldy};
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_lut_gemv_f32(const float *x, size_t K, size_t N,
                                        const void *idx,
                                        clusterrt_index_format f,
                                        size_t row_bytes, const float *c,
                                        size_t k, size_t group, float *y) {
  rt_lut_args a;
  clusterrt_status s = rt_lut_check_args(x, 1, K, K, N, idx, f, row_bytes, c, k,
                                         group, y, N, &a);
  if (s || N == 0) return s;
  float *xp = NULL;
  if (a.bits < 8 && K > 0) {
    xp = malloc(K * sizeof *xp);
    if (!xp) return CLUSTERRT_ERR_NOMEM;
  }
  rt_get_kernels()->lut_gemv(&a, xp, 0, N);
  free(xp);
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_lut_gemm_f32(const float *x, size_t M, size_t ldx,
                                        size_t K, size_t N, const void *idx,
                                        clusterrt_index_format f,
                                        size_t row_bytes, const float *c,
                                        size_t k, size_t group, float *y,
                                        size_t ldy) {
  rt_lut_args a;
  clusterrt_status s = rt_lut_check_args(x, M, ldx, K, N, idx, f, row_bytes, c,
                                         k, group, y, ldy, &a);
  if (s || M == 0 || N == 0) return s;
  return (clusterrt_status)rt_get_kernels()->lut_gemm(&a);
}
