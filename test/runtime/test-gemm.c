/*
 * clusterrt_sgemm_f32 and the contraction entry points of compiled models
 * (clusterrt_mlir_sgemm, _acc) on one ISA (argv[1]), against a naive loop
 * in double: every element within K * 2^-22 * sum |a*b| (plus denormal
 * slack) of the exact product, the bound of any summation order with a
 * little room for alpha's rounding.
 *
 * Sweeps M, N, K around every ISA's tiles (4/6/8/12 rows, 12/16/32
 * columns) and the 256-deep / 144-row / 3072-column blocks, all four
 * transpose combinations, padded lda/ldb/ldc, alpha 1 and not, beta 0
 * (NaN in C overwritten), 1 and other; guard values after each row of C;
 * argument errors. The contraction entry: batched matmul with a broadcast
 * operand, an NHWC convolution (strided windows, implicit im2col), an
 * NCHW convolution's weight gradient and a reduction that moves C, against
 * naive loops over the same descriptor.
 *
 * Threads: products large enough to be split (rows, columns, and a deep
 * product with few of either) give bit-identical C at 1, 2, 3 and 7
 * threads, also when two threads of the program multiply at once (one
 * gets the workers, the other runs alone); the contraction cases are run
 * again at 3 threads.
 */
#include "test-util.h"

#include <pthread.h>
#include <string.h>

typedef struct M1 {
  float *allocated, *aligned;
  int64_t offset, size, stride;
} M1;
typedef struct M1L {
  int64_t *allocated, *aligned;
  int64_t offset, size, stride;
} M1L;
int32_t _mlir_ciface_clusterrt_mlir_sgemm(const M1 *a, const M1 *b, const M1L *d, M1 *c);
int32_t _mlir_ciface_clusterrt_mlir_sgemm_acc(const M1 *a, const M1 *b, const M1 *i,
                                              const M1L *d, M1 *c);

static void gemm_case(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                      float beta, size_t pad) {
  size_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  size_t arows = ta ? K : M, brows = tb ? N : K;
  float *A = malloc(sizeof(float) * (arows * lda + 1));
  float *B = malloc(sizeof(float) * (brows * ldb + 1));
  float *C = malloc(sizeof(float) * (M * ldc + 1));
  float *C0 = malloc(sizeof(float) * (M * ldc + 1));
  if (!A || !B || !C || !C0) exit(2);
  for (size_t i = 0; i < arows * lda; i++) A[i] = t_gauss();
  for (size_t i = 0; i < brows * ldb; i++) B[i] = t_gauss();
  for (size_t i = 0; i < M * ldc; i++) C[i] = C0[i] = (i % ldc) < N ? t_gauss() : 1234.5f;
  if (beta == 0.0f && M > 0 && N > 0) C[0] = C0[0] = NAN;
  clusterrt_status st = clusterrt_sgemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb,
                                            beta, C, ldc);
  CHECK_MSG(st == CLUSTERRT_OK, "status %d", st);
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < ldc; j++) {
      float got = C[i * ldc + j];
      if (j >= N) {
        CHECK_MSG(got == 1234.5f, "guard overwritten at %zu,%zu", i, j);
        continue;
      }
      double s = 0, mag = 0;
      for (size_t k = 0; k < K; k++) {
        double p = (double)(ta ? A[k * lda + i] : A[i * lda + k]) *
                   (double)(tb ? B[j * ldb + k] : B[k * ldb + j]);
        s += p, mag += fabs(p);
      }
      double c0 = beta == 0.0f ? 0.0 : (double)beta * C0[i * ldc + j];
      double want = (double)alpha * s + c0;
      double tol = (K + 2) * 0x1p-22 * (fabs((double)alpha) * mag + fabs(c0)) + 1e-30;
      CHECK_MSG(fabs(got - want) <= tol,
                "ta %d tb %d M %zu N %zu K %zu alpha %g beta %g pad %zu: C[%zu][%zu] "
                "%.9g want %.9g",
                ta, tb, M, N, K, (double)alpha, (double)beta, pad, i, j, (double)got,
                want);
    }
  free(A), free(B), free(C), free(C0);
}

/* Naive contraction over desc (rank, then size, sa, sb, sc, red per loop);
 * mag[i] gets the sum of |a*b| and cnt[i] the number of products that
 * element i of C receives (the error bound of any summation order). */
static void naive(const int64_t *d, const float *a, const float *b, double *c,
                  double *mag, double *cnt) {
  int64_t rank = d[0], idx[16] = {0};
  for (;;) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (int64_t r = 0; r < rank; r++) {
      const int64_t *l = d + 1 + 5 * r;
      oa += idx[r] * l[1], ob += idx[r] * l[2], oc += idx[r] * l[3];
    }
    c[oc] += (double)a[oa] * b[ob];
    mag[oc] += fabs((double)a[oa] * b[ob]);
    cnt[oc] += 1;
    int64_t r = rank;
    while (r > 0 && ++idx[r - 1] == d[1 + 5 * (r - 1)]) idx[--r] = 0;
    if (r == 0) break;
  }
}

/* If set, edits the random operands before a contract_case runs (zeros). */
static void (*prep)(float *a, float *b);

static void contract_case(const char *what, const int64_t *d, size_t na, size_t nb,
                          size_t nc, int acc) {
  float *a = malloc(sizeof(float) * na), *b = malloc(sizeof(float) * nb);
  float *c = malloc(sizeof(float) * nc), *init = malloc(sizeof(float) * nc);
  double *ref = calloc(nc, sizeof(double)), *mag = calloc(nc, sizeof(double));
  double *cnt = calloc(nc, sizeof(double));
  if (!a || !b || !c || !init || !ref || !mag || !cnt) exit(2);
  for (size_t i = 0; i < na; i++) a[i] = t_gauss();
  for (size_t i = 0; i < nb; i++) b[i] = t_gauss();
  if (prep) prep(a, b);
  for (size_t i = 0; i < nc; i++) {
    c[i] = NAN;
    init[i] = t_gauss();
    ref[i] = acc ? init[i] : 0.0;
  }
  naive(d, a, b, ref, mag, cnt);
  M1 am = {a, a, 0, (int64_t)na, 1}, bm = {b, b, 0, (int64_t)nb, 1};
  M1 cm = {c, c, 0, (int64_t)nc, 1}, im = {init, init, 0, (int64_t)nc, 1};
  M1L dm = {(int64_t *)d, (int64_t *)d, 0, 1 + 5 * d[0], 1};
  int32_t st = acc ? _mlir_ciface_clusterrt_mlir_sgemm_acc(&am, &bm, &im, &dm, &cm)
                   : _mlir_ciface_clusterrt_mlir_sgemm(&am, &bm, &dm, &cm);
  CHECK_MSG(st == 0, "%s: status %d", what, st);
  for (size_t i = 0; i < nc; i++)
    CHECK_MSG(fabs(c[i] - ref[i]) <=
                  1e-6 * (1 + fabs(ref[i])) + (cnt[i] + 2) * 0x1p-23 * (mag[i] + fabs(init[i])),
              "%s: c[%zu] %.9g want %.9g", what, i, (double)c[i], ref[i]);
  /* An operand too small for its loops. */
  am.size = (int64_t)na - 1;
  CHECK(_mlir_ciface_clusterrt_mlir_sgemm(&am, &bm, &dm, &cm) == CLUSTERRT_ERR_ARG);
  free(a), free(b), free(c), free(init), free(ref), free(mag), free(cnt);
}

/* ResNet-18's last stage at 32x32: a 1x1 image zero-padded to 3x3, so only
 * the centre tap is nonzero; some filters all zero too. */
enum { PAD_N = 36, PAD_C = 40, PAD_F = 40 }; /* 32 or more rows and columns: checked */

static void padTaps(float *x) {
  for (int n = 0; n < PAD_N; n++)
    for (int c = 0; c < PAD_C; c++)
      for (int k = 0; k < 9; k++)
        if (k != 4) x[(n * PAD_C + c) * 9 + k] = 0.0f;
}

static void padPrep(float *x, float *w) {
  padTaps(x);
  for (int f = 0; f < PAD_F; f += 5)
    for (int i = 0; i < PAD_C * 9; i++) w[f * PAD_C * 9 + i] = 0.0f;
}

/* The weight gradient: dy (n, f) is A, x B; filter 3 gets no gradient. */
static void padPrepGrad(float *dy, float *x) {
  padTaps(x);
  for (int n = 0; n < PAD_N; n++) dy[n * PAD_F + 3] = 0.0f;
}

static void padded(void) {
  int64_t n = PAD_N, C = PAD_C, F = PAD_F;
  /* out[n,f] += x[n,c,kh,kw] w[f,c,kh,kw]; loops n f c kh kw */
  const int64_t d[] = {5,
                       n, C * 9, 0, F, 0,
                       F, 0, C * 9, 1, 0,
                       C, 9, 9, 0, 1,
                       3, 3, 3, 0, 1,
                       3, 1, 1, 0, 1};
  prep = padPrep;
  contract_case("padded 1x1 conv", d, (size_t)(n * C * 9), (size_t)(F * C * 9),
                (size_t)(n * F), 0);
  contract_case("padded 1x1 conv acc", d, (size_t)(n * C * 9), (size_t)(F * C * 9),
                (size_t)(n * F), 1);
  /* dw[f,c,kh,kw] += dy[n,f] x[n,c,kh,kw]; loops f c kh kw n */
  const int64_t g[] = {5,
                       F, 1, 0, C * 9, 0,
                       C, 0, 9, 9, 0,
                       3, 0, 3, 3, 0,
                       3, 0, 1, 1, 0,
                       n, F, C * 9, 0, 1};
  prep = padPrepGrad;
  contract_case("padded 1x1 conv weight gradient", g, (size_t)(n * F), (size_t)(n * C * 9),
                (size_t)(F * C * 9), 1);
  prep = NULL;
}

static void contractions(void) {
  padded();
  /* batch matmul, A broadcast over the batch: c[b,m,n] = sum_k a[m,k] b[b,k,n] */
  {
    int64_t B = 3, M = 13, N = 21, K = 17;
    const int64_t d[] = {4, B, 0, K * N, M * N, 0, M, K, 0, N, 0,
                         N, 0, 1, 1, 0, K, 1, N, 0, 1};
    contract_case("batch matmul", d, (size_t)(M * K), (size_t)(B * K * N),
                  (size_t)(B * M * N), 0);
    contract_case("batch matmul acc", d, (size_t)(M * K), (size_t)(B * K * N),
                  (size_t)(B * M * N), 1);
  }
  /* NHWC conv, stride 2: out[n,oh,ow,f] += x[n,2oh+kh,2ow+kw,c] w[kh,kw,c,f];
   * loops n oh ow f kh kw c */
  {
    int64_t n = 2, H = 11, W = 9, C = 5, F = 19, KH = 3, KW = 3;
    int64_t OH = (H - KH) / 2 + 1, OW = (W - KW) / 2 + 1;
    const int64_t d[] = {7,
                         n, H * W * C, 0, OH * OW * F, 0,
                         OH, 2 * W * C, 0, OW * F, 0,
                         OW, 2 * C, 0, F, 0,
                         F, 0, 1, 1, 0,
                         KH, W * C, KW * C * F, 0, 1,
                         KW, C, C * F, 0, 1,
                         C, 1, F, 0, 1};
    contract_case("nhwc conv", d, (size_t)(n * H * W * C), (size_t)(KH * KW * C * F),
                  (size_t)(n * OH * OW * F), 0);
  }
  /* NCHW convolutions and their weight gradients, at the image sizes of
   * ResNet-18's stages and odd ones: the forward's columns (n, oh, ow) lie
   * in runs of OW in the input and in C (B packed by runs: 4, 8, 16 long or
   * uneven; C added back by runs), the weight gradient's depth (n, oh, ow)
   * in runs of OW (B packed through 4 x 4 transposes, with remainders in
   * depth and columns); the last a 3 x 2 window.
   * forward y[n,f,oh,ow] += x[n,c,oh+kh,ow+kw] w[f,c,kh,kw]; loops n f oh ow c kh kw */
  {
    static const int64_t cases[][7] = {/* n, C, F, H, W, KH, KW */
                                       {3, 5, 13, 10, 10, 3, 3}, {3, 5, 13, 6, 6, 3, 3},
                                       {3, 5, 13, 7, 7, 3, 3},   {3, 5, 13, 4, 4, 3, 3},
                                       {3, 5, 13, 6, 11, 3, 3},  {3, 5, 13, 18, 18, 3, 3},
                                       {3, 4, 6, 8, 7, 3, 2}};
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
      int64_t n = cases[s][0], C = cases[s][1], F = cases[s][2], H = cases[s][3],
              W = cases[s][4], KH = cases[s][5], KW = cases[s][6];
      int64_t OH = H - KH + 1, OW = W - KW + 1;
      const int64_t d[] = {7,
                           n, C * H * W, 0, F * OH * OW, 0,
                           F, 0, C * KH * KW, OH * OW, 0,
                           OH, W, 0, OW, 0,
                           OW, 1, 0, 1, 0,
                           C, H * W, KH * KW, 0, 1,
                           KH, W, KW, 0, 1,
                           KW, 1, 1, 0, 1};
      contract_case("nchw conv", d, (size_t)(n * C * H * W), (size_t)(F * C * KH * KW),
                    (size_t)(n * F * OH * OW), 1);
      /* dw[f,c,kh,kw] += dy[n,f,oh,ow] x[n,c,oh+kh,ow+kw]; loops f c kh kw n oh ow */
      const int64_t g[] = {7,
                           F, OH * OW, 0, C * KH * KW, 0,
                           C, 0, H * W, KH * KW, 0,
                           KH, 0, W, KW, 0,
                           KW, 0, 1, 1, 0,
                           n, F * OH * OW, C * H * W, 0, 1,
                           OH, OW, W, 0, 1,
                           OW, 1, 1, 0, 1};
      contract_case("nchw conv weight gradient", g, (size_t)(n * F * OH * OW),
                    (size_t)(n * C * H * W), (size_t)(F * C * KH * KW), 1);
    }
  }
  /* An NCHW data gradient, folded, whose batch is a column loop (after
   * the operands swap) and, at 3 threads, splits the folded product:
   * dx[n,c,oh+kh,ow+kw] += dy[n,f,oh,ow] w[f,c,kh,kw]; loops n f oh ow c kh kw */
  {
    int64_t n = 16, C = 16, F = 32, OH = 14, OW = 14, KH = 3, KW = 3;
    int64_t H = OH + KH - 1, W = OW + KW - 1;
    const int64_t d[] = {7,
                         n, F * OH * OW, 0, C * H * W, 0,
                         F, OH * OW, C * KH * KW, 0, 1,
                         OH, OW, 0, W, 0,
                         OW, 1, 0, 1, 0,
                         C, 0, KH * KW, H * W, 0,
                         KH, 0, KW, W, 1,
                         KW, 0, 1, 1, 1};
    contract_case("nchw data gradient", d, (size_t)(n * F * OH * OW),
                  (size_t)(F * C * KH * KW), (size_t)(n * C * H * W), 1);
  }
  /* A reduction loop that moves C (a data gradient written as a scatter):
   * dx[n, oh+kh] += dy[n, oh] w[kh]; loops n oh kh (kh a reduction) */
  {
    int64_t n = 4, OH = 10, KH = 3, H = OH + KH - 1;
    const int64_t d[] = {3, n, OH, 0, H, 0, OH, 1, 0, 1, 0, KH, 0, 1, 1, 1};
    contract_case("scatter", d, (size_t)(n * OH), (size_t)KH, (size_t)(n * H), 1);
  }
  /* Data gradients large enough that the window loops are folded into one
   * GEMM (a rows x (windows x columns) temporary added into C), the second
   * over more rows than one chunk of the temporary. NHWC, stride 2:
   * dx[n,2oh+kh,2ow+kw,c] += dy[n,oh,ow,f] w[kh,kw,c,f]; loops n oh ow c kh kw f */
  for (int big = 0; big < 2; big++) {
    int64_t n = big ? 8 : 2, OH = big ? 28 : 14, OW = OH, C = 16, F = 32, KH = 3, KW = 3;
    int64_t H = 2 * (OH - 1) + KH, W = 2 * (OW - 1) + KW;
    const int64_t d[] = {7,
                         n, OH * OW * F, 0, H * W * C, 0,
                         OH, OW * F, 0, 2 * W * C, 0,
                         OW, F, 0, 2 * C, 0,
                         C, 0, F, 1, 0,
                         KH, 0, KW * C * F, W * C, 1,
                         KW, 0, C * F, C, 1,
                         F, 1, 1, 0, 1};
    contract_case(big ? "nhwc data gradient, chunks" : "nhwc data gradient", d,
                  (size_t)(n * OH * OW * F), (size_t)(KH * KW * C * F),
                  (size_t)(n * H * W * C), 1);
  }
  /* Depthwise convolutions (the channel moves A, B and C: direct loops),
   * large enough to be split over threads by channel. NCHW, stride 1:
   * forward y[n,c,oh,ow] += x[n,c,oh+kh,ow+kw] w[c,kh,kw], data gradient
   * dx[n,c,oh+kh,ow+kw] += dy[n,c,oh,ow] w[c,kh,kw], weight gradient
   * dw[c,kh,kw] += dy[n,c,oh,ow] x[n,c,oh+kh,ow+kw]; loops n c oh ow kh kw. */
  {
    int64_t n = 10, C = 64, OH = 30, OW = 30, KH = 3, KW = 3, H = OH + 2, W = OW + 2;
    const int64_t fwd[] = {6,
                           n, C * H * W, 0, C * OH * OW, 0,
                           C, H * W, KH * KW, OH * OW, 0,
                           OH, W, 0, OW, 0,
                           OW, 1, 0, 1, 0,
                           KH, W, KW, 0, 1,
                           KW, 1, 1, 0, 1};
    contract_case("depthwise", fwd, (size_t)(n * C * H * W), (size_t)(C * KH * KW),
                  (size_t)(n * C * OH * OW), 1);
    const int64_t dgrad[] = {6,
                             n, C * OH * OW, 0, C * H * W, 0,
                             C, OH * OW, KH * KW, H * W, 0,
                             OH, OW, 0, W, 0,
                             OW, 1, 0, 1, 0,
                             KH, 0, KW, W, 1,
                             KW, 0, 1, 1, 1};
    contract_case("depthwise data gradient", dgrad, (size_t)(n * C * OH * OW),
                  (size_t)(C * KH * KW), (size_t)(n * C * H * W), 1);
    const int64_t wgrad[] = {6,
                             n, C * OH * OW, C * H * W, 0, 1,
                             C, OH * OW, H * W, KH * KW, 0,
                             OH, OW, W, 0, 1,
                             OW, 1, 1, 0, 1,
                             KH, 0, W, KW, 0,
                             KW, 0, 1, 1, 0};
    contract_case("depthwise weight gradient", wgrad, (size_t)(n * C * OH * OW),
                  (size_t)(n * C * H * W), (size_t)(C * KH * KW), 1);
  }
  /* NHWC depthwise, stride 2 (channels innermost):
   * y[n,oh,ow,c] += x[n,2oh+kh,2ow+kw,c] w[kh,kw,c]; loops n oh ow c kh kw */
  {
    int64_t n = 2, OH = 7, OW = 7, C = 24, KH = 3, KW = 3;
    int64_t H = 2 * (OH - 1) + KH, W = 2 * (OW - 1) + KW;
    const int64_t d[] = {6,
                         n, H * W * C, 0, OH * OW * C, 0,
                         OH, 2 * W * C, 0, OW * C, 0,
                         OW, 2 * C, 0, C, 0,
                         C, 1, 1, 1, 0,
                         KH, W * C, KW * C, 0, 1,
                         KW, C, C, 0, 1};
    contract_case("nhwc depthwise", d, (size_t)(n * H * W * C), (size_t)(KH * KW * C),
                  (size_t)(n * OH * OW * C), 0);
  }
  /* NCHW, stride 1: dx[n,c,oh+kh,ow+kw] += dy[n,f,oh,ow] w[f,c,kh,kw];
   * loops n c oh ow kh kw f */
  {
    int64_t n = 4, OH = 12, OW = 12, C = 24, F = 16, KH = 3, KW = 3;
    int64_t H = OH + KH - 1, W = OW + KW - 1;
    const int64_t d[] = {7,
                         n, F * OH * OW, 0, C * H * W, 0,
                         C, 0, KH * KW, H * W, 0,
                         OH, OW, 0, W, 0,
                         OW, 1, 0, 1, 0,
                         KH, 0, KW, W, 1,
                         KW, 0, 1, 1, 1,
                         F, OH * OW, C * KH * KW, 0, 1};
    contract_case("nchw data gradient", d, (size_t)(n * F * OH * OW),
                  (size_t)(F * C * KH * KW), (size_t)(n * C * H * W), 1);
  }
}

typedef struct Product {
  size_t M, N, K;
  int ta, tb;
  float *A, *B, *C;
} Product;

static Product product(size_t M, size_t N, size_t K, int ta, int tb) {
  Product p = {M, N, K, ta, tb, malloc(sizeof(float) * M * K),
               malloc(sizeof(float) * K * N), malloc(sizeof(float) * M * N)};
  if (!p.A || !p.B || !p.C) exit(2);
  for (size_t i = 0; i < M * K; i++) p.A[i] = t_gauss();
  for (size_t i = 0; i < K * N; i++) p.B[i] = t_gauss();
  return p;
}

static void *multiply(void *arg) {
  Product *p = arg;
  for (size_t i = 0; i < p->M * p->N; i++) p->C[i] = (float)i * 0.25f;
  clusterrt_status st = clusterrt_sgemm_f32(p->ta, p->tb, p->M, p->N, p->K, 1.0f, p->A, 0,
                                            p->B, 0, 1.0f, p->C, 0);
  CHECK_MSG(st == CLUSTERRT_OK, "status %d", st);
  return NULL;
}

static void threads(void) {
  CHECK(clusterrt_set_threads(0) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_set_threads(-3) == CLUSTERRT_ERR_ARG);
  static const size_t shapes[][3] = {
      {300, 97, 600},  /* rows and columns */
      {13, 3100, 257}, /* columns, more than one 3072-column block */
      {600, 7, 1000},  /* rows only */
      {16, 9, 50000},  /* a weight gradient: deep, too few panels to split */
  };
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    int ta = (int)(s & 1), tb = (int)(s >> 1 & 1);
    Product p = product(shapes[s][0], shapes[s][1], shapes[s][2], ta, tb);
    size_t bytes = sizeof(float) * p.M * p.N;
    float *one = malloc(bytes);
    if (!one) exit(2);
    CHECK(clusterrt_set_threads(1) == CLUSTERRT_OK);
    multiply(&p);
    memcpy(one, p.C, bytes);
    static const int counts[] = {2, 3, 7};
    for (size_t t = 0; t < 3; t++) {
      CHECK(clusterrt_set_threads(counts[t]) == CLUSTERRT_OK);
      CHECK(clusterrt_get_threads() == counts[t]);
      multiply(&p);
      CHECK_MSG(!memcmp(one, p.C, bytes), "%zux%zux%zu: %d threads differ from one",
                p.M, p.N, p.K, counts[t]);
    }
    /* Two callers at once, each with the same product. */
    Product q = p;
    q.C = malloc(bytes);
    if (!q.C) exit(2);
    pthread_t tid;
    CHECK(clusterrt_set_threads(2) == CLUSTERRT_OK);
    if (pthread_create(&tid, NULL, multiply, &q)) exit(2);
    multiply(&p);
    pthread_join(tid, NULL);
    CHECK_MSG(!memcmp(one, p.C, bytes) && !memcmp(one, q.C, bytes),
              "%zux%zux%zu: concurrent callers differ", p.M, p.N, p.K);
    free(q.C);
    free(one);
    free(p.A), free(p.B), free(p.C);
  }
  CHECK(clusterrt_set_threads(3) == CLUSTERRT_OK);
  contractions();
  CHECK(clusterrt_set_threads(1) == CLUSTERRT_OK);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  static const size_t ms[] = {1, 5, 12, 13, 31, 145, 300};
  static const size_t ns[] = {1, 7, 16, 33, 97};
  static const size_t ks[] = {0, 1, 3, 64, 257, 600};
  for (int t = 0; t < 4; t++)
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
      for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
        for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
          if (t_quick && ms[mi] * ns[ni] * ks[ki] > 200000) continue;
          float alpha = (mi + ki) % 3 ? 1.0f : -0.75f;
          float beta = (float)((mi + ni) % 3) * 0.5f; /* 0, 0.5, 1 */
          gemm_case(t & 1, t >> 1, ms[mi], ns[ni], ks[ki], alpha, beta, (ni + ki) % 2 * 3);
        }
  if (!t_quick) gemm_case(0, 0, 150, 3100, 40, 1.0f, 1.0f, 0); /* > NC columns */
  /* errors */
  float x[4] = {0};
  CHECK(clusterrt_sgemm_f32(0, 0, 2, 2, 2, 1, x, 1, x, 2, 0, x, 2) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_sgemm_f32(0, 0, 2, 2, 2, 1, NULL, 2, x, 2, 0, x, 2) == CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_sgemm_f32(0, 0, 0, 2, 2, 1, NULL, 2, NULL, 2, 0, NULL, 2) == CLUSTERRT_OK);
  contractions();
  threads();
  return t_finish("sgemm", isa);
}
