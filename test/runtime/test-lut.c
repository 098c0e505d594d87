/*
 * clusterrt_lut_gemv_f32 / clusterrt_lut_gemm_f32 on one ISA (argv[1]).
 *
 * References, from W decoded by the definition w[n][e] = table(n)[idx]:
 *  - seq: the sequential fused sum acc = fmaf(x[e], w[n][e], acc), e = 0..K-1,
 *    in float. gemm on every ISA and gemv on the generic ISA must equal it
 *    bit for bit (runtime.h, "Accumulation").
 *  - exact: the sum in double; every ISA's gemv must be within
 *    K * 2^-24 / (1 - K * 2^-24) * sum |x[e] * w[n][e]| of it (plus a
 *    denormal-sized slack), and within twice that of the generic gemv.
 * Sweeps every K from 0 to 300 and large K (chunk tails: the SIMD kernels
 * take 8/16 index bytes per step), N = 1..9 and larger (row blocks of 4/2
 * and their tails), M odd/even around the micro-kernel tiles (8, 16) and
 * the 128-row block, K around the 256-input panel; every format (u1, u2,
 * u4, u8 with k <= 16 and k > 16, u16), full and partial tables; per-tensor,
 * per-channel and grouped tables; padded row strides and ldx/ldy; byte
 * offsets of idx, float offsets of x and y; guard bytes around y; idx
 * copies that end at a PROT_NONE page; argument errors.
 */
#include "test-util.h"

typedef struct lcase {
  clusterrt_index_format f;
  size_t M, K, N, k, group, row_bytes, ldx, ldy;
} lcase;

static size_t ntables(const lcase *t) {
  return t->group ? (t->N + t->group - 1) / t->group : 1;
}

/* Random data for a case; returns everything in one struct. */
typedef struct ldata {
  float *x, *c, *w; /* w: N x K decoded */
  t_buf ib;
} ldata;

static ldata make(const lcase *t, size_t ioff) {
  ldata d;
  size_t nt = ntables(t);
  d.x = malloc(sizeof(float) * (t->M * t->ldx + 1));
  d.c = malloc(sizeof(float) * nt * t->k);
  d.w = malloc(sizeof(float) * (t->N * t->K + 1));
  if (!d.x || !d.c || !d.w) exit(2);
  for (size_t i = 0; i < t->M * t->ldx; i++) d.x[i] = t_gauss();
  for (size_t i = 0; i < nt * t->k; i++) d.c[i] = t_gauss() * 0.05f;
  if (t->k > 1) {
    d.c[0] = -0.0f;
    d.c[1] = 1e-40f;
  }
  d.ib = t_buf_new(t->N * t->row_bytes, ioff);
  for (size_t i = 0; i < t->N * t->row_bytes; i++) d.ib.p[i] = (uint8_t)t_rand();
  for (size_t n = 0; n < t->N; n++) {
    uint8_t *row = d.ib.p + n * t->row_bytes;
    size_t used = clusterrt_index_bytes(t->f, t->K);
    memset(row, 0, used);
    const float *c = d.c + (t->group ? n / t->group : 0) * t->k;
    for (size_t e = 0; e < t->K; e++) {
      uint32_t v = (uint32_t)(t_rand() % t->k);
      t_set(row, t->f, e, v);
      d.w[n * t->K + e] = c[v];
    }
  }
  return d;
}

static void unmake(ldata *d) {
  free(d->x);
  free(d->c);
  free(d->w);
  t_buf_free(&d->ib);
}

static float seq(const float *x, const float *w, size_t K) {
  float acc = 0.0f;
  for (size_t e = 0; e < K; e++) acc = fmaf(x[e], w[e], acc);
  return acc;
}

static int within(float got, const float *x, const float *w, size_t K) {
  double ex = 0, mag = 0;
  for (size_t e = 0; e < K; e++) {
    ex += (double)x[e] * w[e];
    mag += fabs((double)x[e] * w[e]);
  }
  double u = 0x1p-24 * (double)K;
  double bound = u / (1 - u) * mag + 0x1p-140;
  return fabs((double)got - ex) <= bound;
}

/* |a - b| within twice the bound: both are within it of the exact sum. */
static int within2(float a, float b, const float *x, const float *w, size_t K) {
  double mag = 0;
  for (size_t e = 0; e < K; e++) mag += fabs((double)x[e] * w[e]);
  double u = 0x1p-24 * (double)K;
  return fabs((double)a - b) <= 2 * (u / (1 - u) * mag + 0x1p-140);
}

static void check_gemv(const lcase *t, clusterrt_isa isa, size_t ioff,
                       size_t xoff, size_t yoff) {
  ldata d = make(t, ioff);
  /* x at a float offset (copy) */
  float *xb = malloc(sizeof(float) * (t->K + xoff + 1));
  if (!xb) exit(2);
  memcpy(xb + xoff, d.x, sizeof(float) * t->K);
  t_buf yb = t_buf_new(sizeof(float) * t->N, yoff * sizeof(float));
  float *y = (float *)(void *)yb.p;
  clusterrt_status s = clusterrt_lut_gemv_f32(xb + xoff, t->K, t->N, d.ib.p, t->f,
                                              t->row_bytes, d.c, t->k, t->group, y);
  CHECK_MSG(s == CLUSTERRT_OK, "gemv status %d", (int)s);
  /* The generic kernel's answer (bit-identical to seq, checked below on
   * the generic run) for the direct comparison with this ISA. */
  float *yg = malloc(sizeof(float) * (t->N + 1));
  if (!yg) exit(2);
  clusterrt_set_isa(CLUSTERRT_ISA_GENERIC);
  CHECK(clusterrt_lut_gemv_f32(d.x, t->K, t->N, d.ib.p, t->f, t->row_bytes,
                               d.c, t->k, t->group, yg) == CLUSTERRT_OK);
  clusterrt_set_isa(isa);
  for (size_t n = 0; n < t->N; n++) {
    const float *w = d.w + n * t->K;
    float want = seq(d.x, w, t->K);
    CHECK_MSG(within2(y[n], yg[n], d.x, w, t->K),
              "gemv vs generic fmt=%s K=%zu N=%zu n=%zu: %a vs %a",
              clusterrt_format_name(t->f), t->K, t->N, n, (double)y[n],
              (double)yg[n]);
    if (isa == CLUSTERRT_ISA_GENERIC) {
      CHECK_MSG(memcmp(&want, &y[n], 4) == 0,
                "gemv not bit-exact fmt=%s K=%zu N=%zu k=%zu g=%zu n=%zu: %a vs %a",
                clusterrt_format_name(t->f), t->K, t->N, t->k, t->group, n,
                (double)y[n], (double)want);
    }
    CHECK_MSG(within(y[n], d.x, w, t->K),
              "gemv out of bound fmt=%s K=%zu N=%zu k=%zu g=%zu n=%zu: %a vs %a",
              clusterrt_format_name(t->f), t->K, t->N, t->k, t->group, n,
              (double)y[n], (double)want);
  }
  free(yg);
  CHECK_MSG(t_buf_guard_ok(&yb), "gemv guard fmt=%s K=%zu N=%zu",
            clusterrt_format_name(t->f), t->K, t->N);
  /* Same result from an index copy ending at an inaccessible page. */
  size_t bytes = t->N * t->row_bytes;
  if (bytes > 0 && bytes <= 4096) {
    /* the last row needs only its used bytes: trim the padding after it */
    size_t tight = bytes - (t->row_bytes - clusterrt_index_bytes(t->f, t->K));
    t_edge e = t_edge_new(d.ib.p, tight);
    float *y2 = malloc(sizeof(float) * t->N);
    if (!y2) exit(2);
    CHECK(clusterrt_lut_gemv_f32(xb + xoff, t->K, t->N, e.p, t->f, t->row_bytes,
                                 d.c, t->k, t->group, y2) == CLUSTERRT_OK);
    CHECK(memcmp(y, y2, sizeof(float) * t->N) == 0);
    free(y2);
    t_edge_free(&e);
  }
  /* A split into row ranges gives the same bits (per-tensor tables, or
   * cuts on group boundaries). */
  if (t->N >= 2) {
    size_t g = t->group ? t->group : 1, cut = (t->N / 2) / g * g;
    if (cut > 0) {
      float *y3 = malloc(sizeof(float) * t->N);
      if (!y3) exit(2);
      CHECK(clusterrt_lut_gemv_f32(xb + xoff, t->K, cut, d.ib.p, t->f,
                                   t->row_bytes, d.c, t->k, t->group, y3) == 0);
      const float *c2 = d.c + (t->group ? cut / t->group : 0) * t->k;
      CHECK(clusterrt_lut_gemv_f32(xb + xoff, t->K, t->N - cut,
                                   d.ib.p + cut * t->row_bytes, t->f,
                                   t->row_bytes, c2, t->k, t->group,
                                   y3 + cut) == 0);
      CHECK_MSG(memcmp(y, y3, sizeof(float) * t->N) == 0, "split K=%zu N=%zu",
                t->K, t->N);
      free(y3);
    }
  }
  free(xb);
  t_buf_free(&yb);
  unmake(&d);
}

static void check_gemm(const lcase *t, size_t ioff, size_t xoff, size_t yoff) {
  ldata d = make(t, ioff);
  float *xb = malloc(sizeof(float) * (t->M * t->ldx + xoff + 1));
  if (!xb) exit(2);
  memcpy(xb + xoff, d.x, sizeof(float) * t->M * t->ldx);
  size_t ybytes = t->M ? ((t->M - 1) * t->ldy + t->N) * sizeof(float) : 0;
  t_buf yb = t_buf_new(ybytes, yoff * sizeof(float));
  float *y = (float *)(void *)yb.p;
  clusterrt_status s = clusterrt_lut_gemm_f32(
      xb + xoff, t->M, t->ldx, t->K, t->N, d.ib.p, t->f, t->row_bytes, d.c,
      t->k, t->group, y, t->ldy);
  CHECK_MSG(s == CLUSTERRT_OK, "gemm status %d", (int)s);
  int bad = 0;
  for (size_t m = 0; m < t->M && !bad; m++)
    for (size_t n = 0; n < t->N && !bad; n++) {
      float want = seq(d.x + m * t->ldx, d.w + n * t->K, t->K);
      float got = y[m * t->ldy + n];
      if (memcmp(&want, &got, 4) != 0) {
        CHECK_MSG(0, "gemm not bit-exact fmt=%s M=%zu K=%zu N=%zu k=%zu g=%zu "
                  "m=%zu n=%zu: %a vs %a", clusterrt_format_name(t->f), t->M,
                  t->K, t->N, t->k, t->group, m, n, (double)got, (double)want);
        bad = 1;
      }
    }
  /* the gaps between rows of y (ldy > N) are untouched */
  for (size_t m = 0; m + 1 < t->M; m++)
    for (size_t n = t->N; n < t->ldy; n++)
      CHECK(((uint32_t *)(void *)y)[m * t->ldy + n] == 0xA5A5A5A5u);
  CHECK_MSG(t_buf_guard_ok(&yb), "gemm guard M=%zu K=%zu N=%zu", t->M, t->K,
            t->N);
  /* An index >= k is reported (when the format can hold one). */
  unsigned bits = clusterrt_format_bits(t->f);
  if (t->K > 0 && t->N > 0 && t->M > 0 &&
      (bits == 16 ? t->k < 65536 : t->k < (1u << bits))) {
    size_t n = t_rand() % t->N, e = t_rand() % t->K;
    t_set(d.ib.p + n * t->row_bytes, t->f, e, (uint32_t)t->k);
    CHECK(clusterrt_lut_gemm_f32(xb + xoff, t->M, t->ldx, t->K, t->N, d.ib.p,
                                 t->f, t->row_bytes, d.c, t->k, t->group, y,
                                 t->ldy) == CLUSTERRT_ERR_INDEX);
  }
  free(xb);
  t_buf_free(&yb);
  unmake(&d);
}

static lcase mk(clusterrt_index_format f, size_t M, size_t K, size_t N,
                size_t k, size_t group, size_t pad, size_t ldpad) {
  lcase t = {.f = f, .M = M, .K = K, .N = N, .k = k, .group = group};
  t.row_bytes = clusterrt_index_bytes(f, K) + pad;
  t.ldx = K + ldpad;
  t.ldy = N + ldpad;
  return t;
}

static size_t pick_k(unsigned bits, unsigned variant) {
  size_t kmax = bits == 16 ? 300 : (size_t)1 << bits;
  /* u8: every register-table size of the AVX-512 kernel, and k <= 16 */
  static const size_t k8[] = {256, 255, 16, 17, 32, 33, 64, 100, 129, 5};
  if (bits == 8) return k8[variant % 10];
  switch (variant % 3) {
  case 0: return kmax;
  case 1: return kmax > 2 ? kmax - 1 : 1;
  default: return bits == 8 ? 16 : (kmax > 1 ? kmax / 2 + 1 : 1);
  }
}

static void errors(void) {
  float x[4] = {1, 2, 3, 4}, c[4] = {0, 1, 2, 3}, y[4];
  uint8_t idx[4] = {0};
  CHECK(clusterrt_lut_gemv_f32(NULL, 4, 1, idx, CLUSTERRT_IDX_U2, 0, c, 4, 0, y) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_lut_gemv_f32(x, 4, 1, idx, CLUSTERRT_IDX_U2, 0, NULL, 4, 0, y) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_lut_gemv_f32(x, 4, 1, idx, CLUSTERRT_IDX_U2, 0, c, 0, 0, y) ==
        CLUSTERRT_ERR_K);
  CHECK(clusterrt_lut_gemv_f32(x, 4, 1, idx, CLUSTERRT_IDX_U3, 0, c, 4, 0, y) ==
        CLUSTERRT_ERR_FORMAT); /* odd widths: decode instead */
  CHECK(clusterrt_lut_gemv_f32(x, 4, 1, idx, CLUSTERRT_IDX_U1, 0, c, 4, 0, y) ==
        CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_lut_gemv_f32(x, 4, 1, idx, (clusterrt_index_format)3, 0, c, 4,
                               0, y) == CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_lut_gemv_f32(x, 8, 1, idx, CLUSTERRT_IDX_U2, 1, c, 4, 0, y) ==
        CLUSTERRT_ERR_ARG); /* row_bytes < 2 */
  CHECK(clusterrt_lut_gemm_f32(x, 2, 1, 2, 1, idx, CLUSTERRT_IDX_U2, 0, c, 4, 0,
                               y, 0) == CLUSTERRT_ERR_ARG); /* ldx < K */
  CHECK(clusterrt_lut_gemm_f32(x, 2, 0, 2, 2, idx, CLUSTERRT_IDX_U2, 0, c, 4, 0,
                               y, 1) == CLUSTERRT_ERR_ARG); /* ldy < N */
  CHECK(clusterrt_lut_gemm_f32(x, 0, 0, 2, 2, idx, CLUSTERRT_IDX_U2, 0, c, 4, 0,
                               NULL, 0) == CLUSTERRT_OK); /* nothing to do */
  /* K = 0: y = 0 */
  y[0] = y[1] = 7;
  CHECK(clusterrt_lut_gemv_f32(NULL, 0, 2, NULL, CLUSTERRT_IDX_U4, 0, c, 4, 0,
                               y) == CLUSTERRT_OK);
  CHECK(y[0] == 0 && y[1] == 0);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  errors();
  static const unsigned bitsl[] = {1, 2, 4, 8, 16};
  size_t kmax_sweep = t_quick ? 140 : 300;
  for (int bi = 0; bi < 5; bi++) {
    clusterrt_index_format f = (clusterrt_index_format)bitsl[bi];
    unsigned bits = bitsl[bi];
    /* gemv: every K up to kmax_sweep, N cycling 1..9, tables cycling */
    for (size_t K = 0; K <= kmax_sweep; K++) {
      size_t N = 1 + K % 9;
      size_t group = (size_t[]){0, 1, 3}[K % 3];
      lcase t = mk(f, 1, K, N, pick_k(bits, (unsigned)(K / 3)), group, K % 2,
                   0);
      check_gemv(&t, isa, K % 64, K % 16, K % 16);
    }
    static const size_t bigK[] = {1024, 1031, 4096, 4100};
    static const size_t bigN[] = {13, 4, 7, 37};
    for (int i = 0; i < 4; i++) {
      if (t_quick && i > 1) break;
      for (size_t g = 0; g < 3; g++) {
        lcase t = mk(f, 1, bigK[i], bigN[i], pick_k(bits, (unsigned)(i + g)),
                     (size_t[]){0, 1, 5}[g], (size_t)i % 2 * 3, 0);
        check_gemv(&t, isa, (size_t)i * 7, (size_t)i, g);
      }
    }
    /* gemm */
    static const size_t Ms[] = {1, 2, 3, 7, 8, 9, 12, 13, 16, 17, 31, 33, 129};
    static const size_t Ks[] = {0, 1, 3, 8, 9, 31, 64, 100, 255, 256, 257, 1100};
    static const size_t Ns[] = {1, 2, 5, 8, 11, 12, 13, 16, 17, 24, 25, 33};
    size_t iter = 0;
    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
      for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
        size_t M = Ms[mi], K = Ks[ki], N = Ns[(mi * 5 + ki) % 12];
        if ((t_quick || bits != 4) && M * K * N > 300000) continue;
        if (M * K * N > 3000000) continue;
        iter++;
        lcase t = mk(f, M, K, N, pick_k(bits, (unsigned)iter),
                     (size_t[]){0, 1, 4}[iter % 3], iter % 2, iter % 3);
        check_gemm(&t, iter % 64, iter % 16, (iter * 3) % 16);
      }
    /* K so large that x is packed in several row blocks (4 MiB of panels:
     * at most ~52 rows at K = 20000), the last one partial */
    lcase t = mk(f, 61, 20000, 3, pick_k(bits, 5), 2, 1, 1);
    check_gemm(&t, 3, 5, 7);
  }
  return t_finish("lut gemv/gemm", isa);
}
