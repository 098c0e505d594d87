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
#include "gemm.h"

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

static clusterrt_status lut_args(const float *x, size_t M, size_t ldx,
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
  clusterrt_status s =
      lut_args(x, 1, K, K, N, idx, f, row_bytes, c, k, group, y, N, &a);
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
  clusterrt_status s =
      lut_args(x, M, ldx, K, N, idx, f, row_bytes, c, k, group, y, ldy, &a);
  if (s || M == 0 || N == 0) return s;
  return (clusterrt_status)rt_get_kernels()->lut_gemm(&a);
}

/* ---- Convolutions: implicit im2col --------------------------------------- */

/* a * b + c into *r without overflow; false if it overflows. */
static int mad(size_t a, size_t b, size_t c, size_t *r) {
  size_t t;
  return !__builtin_mul_overflow(a, b, &t) && !__builtin_add_overflow(t, c, r);
}

int rt_lut_conv_f32(const rt_lut_conv *g, const float *x, size_t xn,
                    const void *idx, clusterrt_index_format f, size_t idx_bytes,
                    const float *c, size_t c_n, size_t k, size_t group, float *y,
                    size_t yn) {
  size_t K, M, t, xs, ys, hp, wp, xps;
  /* K = c*kh*kw, M = n*oh*ow, y = M*oc elements, and the last pixel of
   * the last window inside the padded x: ((oh-1)*sh + (kh-1)*dh) < h + pt
   * + pb, likewise w. */
  if (!g->n || !g->oc || !g->oh || !g->ow) return CLUSTERRT_OK;
  if (!g->c || !g->kh || !g->kw || !g->h || !g->w ||
      !mad(g->c, g->kh, 0, &t) || !mad(t, g->kw, 0, &K) ||
      !mad(g->n, g->oh, 0, &t) || !mad(t, g->ow, 0, &M) || !mad(M, g->oc, 0, &ys) ||
      !mad(g->n, g->c, 0, &t) || !mad(t, g->h, 0, &t) || !mad(t, g->w, 0, &xs) ||
      ys != yn || xs != xn || K > PTRDIFF_MAX / 4 || M > PTRDIFF_MAX / 4 ||
      !mad(1, g->h, g->pt, &hp) || !mad(1, hp, g->pb, &hp) ||
      !mad(1, g->w, g->pl, &wp) || !mad(1, wp, g->pr, &wp) ||
      !mad(g->n, g->c, 0, &t) || !mad(t, hp, 0, &t) || !mad(t, wp, 0, &xps) ||
      xps > PTRDIFF_MAX / 4)
    return CLUSTERRT_ERR_ARG;
  size_t lastH, lastW;
  if (!mad(g->oh - 1, g->sh, 0, &t) || !mad(g->kh - 1, g->dh, t, &lastH) ||
      !mad(g->ow - 1, g->sw, 0, &t) || !mad(g->kw - 1, g->dw, t, &lastW) ||
      lastH >= hp || lastW >= wp)
    return CLUSTERRT_ERR_ARG;
  float *padded = NULL;
  if (hp != g->h || wp != g->w) {
    /* A zero-bordered copy (the input's size, not the patches'). */
    if (!(padded = calloc(xps ? xps : 1, sizeof *padded))) return CLUSTERRT_ERR_NOMEM;
    size_t planes = g->nchw ? g->n * g->c : g->n, row = g->nchw ? g->w : g->w * g->c;
    size_t prow = g->nchw ? wp : wp * g->c, lead = g->nchw ? g->pl : g->pl * g->c;
    for (size_t q = 0; q < planes; q++)
      for (size_t r = 0; r < g->h; r++)
        memcpy(padded + (q * hp + g->pt + r) * prow + lead, x + (q * g->h + r) * row,
               sizeof *x * row);
    x = padded;
  }
  rt_lut_args a;
  clusterrt_status s = (clusterrt_status)lut_args(x, M, K, K, g->oc, idx, f, 0, c, k,
                                                  group, y, g->oc, &a);
  if (s) return s;
  size_t tables = group ? (g->oc + group - 1) / group : 1;
  if (idx_bytes != g->oc * a.row_bytes || c_n < tables * k) return CLUSTERRT_ERR_ARG;
  ptrdiff_t *tab = malloc(sizeof *tab * (2 * M + K + g->oc));
  if (!tab) {
    free(padded);
    return CLUSTERRT_ERR_NOMEM;
  }
  ptrdiff_t *xm = tab, *ym = tab + M, *xe = tab + 2 * M, *yo = xe + K;
  ptrdiff_t H = (ptrdiff_t)hp, W = (ptrdiff_t)wp, C = (ptrdiff_t)g->c;
  ptrdiff_t OH = (ptrdiff_t)g->oh, OW = (ptrdiff_t)g->ow, OC = (ptrdiff_t)g->oc;
  /* Element strides of x's n, h, w, c and y's pixel and output channel. */
  ptrdiff_t xsn = C * H * W, xsh = g->nchw ? W : W * C, xsw = g->nchw ? 1 : C,
            xsc = g->nchw ? H * W : 1;
  ptrdiff_t ysp = g->nchw ? 1 : OC, yso = g->nchw ? OH * OW : 1;
  size_t m = 0;
  for (ptrdiff_t n = 0; n < (ptrdiff_t)g->n; n++)
    for (ptrdiff_t i = 0; i < OH; i++)
      for (ptrdiff_t j = 0; j < OW; j++, m++) {
        xm[m] = n * xsn + i * (ptrdiff_t)g->sh * xsh + j * (ptrdiff_t)g->sw * xsw;
        ym[m] = n * OH * OW * OC + (i * OW + j) * ysp;
      }
  size_t e = 0;
  if (g->nchw) {
    for (ptrdiff_t ch = 0; ch < C; ch++)
      for (ptrdiff_t u = 0; u < (ptrdiff_t)g->kh; u++)
        for (ptrdiff_t v = 0; v < (ptrdiff_t)g->kw; v++)
          xe[e++] = ch * xsc + u * (ptrdiff_t)g->dh * xsh + v * (ptrdiff_t)g->dw * xsw;
  } else {
    for (ptrdiff_t u = 0; u < (ptrdiff_t)g->kh; u++)
      for (ptrdiff_t v = 0; v < (ptrdiff_t)g->kw; v++)
        for (ptrdiff_t ch = 0; ch < C; ch++)
          xe[e++] = ch * xsc + u * (ptrdiff_t)g->dh * xsh + v * (ptrdiff_t)g->dw * xsw;
  }
  for (ptrdiff_t o = 0; o < OC; o++) yo[o] = o * yso;
  /* The float GEMM driver with the weights as its clustered operand: they
   * are decoded panel by panel while packing, the patches gathered. The
   * output's unit-stride axis is its GEMM column: pixels for NCHW (the
   * weights are A, rows = output channels), channels for NHWC (the
   * weights are B). */
  rt_gemm_lut w = {a.idx, a.row_bytes, (int)a.f, a.c, a.k, a.group};
  rt_gemm_args ga = {.K = K, .alpha = 1.0f, .c = y};
  if (g->nchw) {
    ga.M = g->oc, ga.N = M, ga.alut = &w;
    ga.b = x, ga.bk = xe, ga.bn = xm, ga.cm = yo, ga.cn = ym;
  } else {
    ga.M = M, ga.N = g->oc, ga.blut = &w;
    ga.a = x, ga.am = xm, ga.ak = xe, ga.cm = ym, ga.cn = yo;
  }
  memset(y, 0, sizeof *y * yn);
  int r = rt_get_kernels()->sgemm(&ga);
  free(tab);
  free(padded);
  return r;
}
