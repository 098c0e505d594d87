/*
 * clusterrt_sgd_f32 and clusterrt_adam_f32 on one ISA (argv[1]):
 *  - bit-identical to the generic kernel (same input, both ISAs);
 *  - within a few float roundings of a double-precision evaluation of the
 *    documented formulas;
 *  - equal (to 2 ulp) to three steps of torch.optim.SGD / Adam recorded
 *    from PyTorch 1.13.1 (a hand check: sgd step 2 of w[0] = 0.949 -
 *    0.1 * (0.9 * 0.51 + 0.5 + 0.01 * 0.949) = 0.852151; adam step 1 moves
 *    each weight by lr * sign(g) to within eps);
 * with n = 0..80, odd primes and large n (also split over 3 threads),
 * every float offset within 64
 * bytes, guard bytes after every output, and the argument errors.
 */
#include "test-util.h"

static clusterrt_isa isa;

/* Runs f on the generic ISA and on the one under test. */
#define BOTH(call_generic, call_isa)                                        \
  do {                                                                      \
    clusterrt_set_isa(CLUSTERRT_ISA_GENERIC);                               \
    call_generic;                                                           \
    clusterrt_set_isa(isa);                                                 \
    call_isa;                                                               \
  } while (0)

static float *fbuf(t_buf *b, size_t n, size_t off) {
  *b = t_buf_new(n * sizeof(float), off * sizeof(float));
  return (float *)(void *)b->p;
}

static int same(const float *a, const float *b, size_t n) {
  return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

static void fill(float *x, size_t n, float scale, int nonneg) {
  for (size_t i = 0; i < n; i++) {
    float v = t_gauss() * scale;
    if (t_rand() % 61 == 0) v = 0.0f;
    if (t_rand() % 67 == 0) v = -0.0f;
    if (t_rand() % 71 == 0) v = 1e-40f; /* denormal */
    x[i] = nonneg ? fabsf(v) : v;
  }
}

/* One SGD configuration on n elements at offset off. mode: 0 momentum
 * with v, 1 momentum 0 with v, 2 momentum 0 without v. */
static void sgd_case(size_t n, size_t off, int mode, float wd) {
  float lr = 0.05f, mom = mode == 0 ? 0.9f : 0.0f;
  t_buf bw0, bg, bv0, bw1, bv1, bw2, bv2;
  float *w0 = fbuf(&bw0, n, 0), *g = fbuf(&bg, n, off), *v0 = fbuf(&bv0, n, 0);
  float *w1 = fbuf(&bw1, n, off), *v1 = fbuf(&bv1, n, (off + 3) % 16);
  float *w2 = fbuf(&bw2, n, (off + 5) % 16), *v2 = fbuf(&bv2, n, off);
  fill(w0, n, 1.0f, 0);
  fill(g, n, 0.1f, 0);
  fill(v0, n, 0.1f, 0);
  if (n) {
    memcpy(w1, w0, n * 4), memcpy(w2, w0, n * 4);
    memcpy(v1, v0, n * 4), memcpy(v2, v0, n * 4);
  }
  float *pv1 = mode == 2 ? NULL : v1, *pv2 = mode == 2 ? NULL : v2;
  clusterrt_status s1 = 99, s2 = 99;
  BOTH(s1 = clusterrt_sgd_f32(w1, g, pv1, n, lr, mom, wd),
       s2 = clusterrt_sgd_f32(w2, g, pv2, n, lr, mom, wd));
  CHECK(s1 == CLUSTERRT_OK && s2 == CLUSTERRT_OK);
  CHECK_MSG(same(w1, w2, n), "sgd w differs from generic n=%zu mode=%d", n,
            mode);
  if (mode != 2) CHECK_MSG(same(v1, v2, n), "sgd v differs n=%zu", n);
  else CHECK(same(v2, v0, n)); /* untouched */
  for (size_t i = 0; i < n; i++) {
    double d = (double)g[i] + (double)wd * w0[i];
    double b = mode == 0 ? (double)mom * v0[i] + d : d;
    double w = (double)w0[i] - (double)lr * b;
    double scale = fabs(w0[i]) + lr * (fabs(g[i]) + wd * fabs(w0[i]) +
                                       mom * fabs(v0[i]));
    if (fabs(w2[i] - w) > scale * 0x1p-21 + 1e-44) {
      CHECK_MSG(0, "sgd n=%zu i=%zu got %a want %a", n, i, (double)w2[i], w);
      break;
    }
    if (mode != 2 && fabs(v2[i] - b) > (fabs(d) + mom * fabs(v0[i]) +
                                        wd * fabs(w0[i])) * 0x1p-22 + 1e-44) {
      CHECK_MSG(0, "sgd v n=%zu i=%zu", n, i);
      break;
    }
  }
  CHECK(t_buf_guard_ok(&bw1) && t_buf_guard_ok(&bw2) && t_buf_guard_ok(&bv1) &&
        t_buf_guard_ok(&bv2));
  t_buf_free(&bw0), t_buf_free(&bg), t_buf_free(&bv0), t_buf_free(&bw1);
  t_buf_free(&bv1), t_buf_free(&bw2), t_buf_free(&bv2);
}

static void adam_case(size_t n, size_t off, uint64_t step) {
  float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  t_buf bw0, bg, bm0, bv0, bw[2], bm[2], bv[2];
  float *w0 = fbuf(&bw0, n, 0), *g = fbuf(&bg, n, off);
  float *m0 = fbuf(&bm0, n, 0), *v0 = fbuf(&bv0, n, 0);
  float *w[2], *m[2], *v[2];
  for (int r = 0; r < 2; r++) {
    w[r] = fbuf(&bw[r], n, (off + 7 * (size_t)r) % 16);
    m[r] = fbuf(&bm[r], n, (off + 1) % 16);
    v[r] = fbuf(&bv[r], n, (off + 2 + (size_t)r) % 16);
  }
  fill(w0, n, 1.0f, 0);
  fill(g, n, 0.1f, 0);
  fill(m0, n, step == 1 ? 0.0f : 0.05f, 0);
  fill(v0, n, step == 1 ? 0.0f : 0.003f, 1);
  for (int r = 0; r < 2 && n; r++) {
    memcpy(w[r], w0, n * 4), memcpy(m[r], m0, n * 4), memcpy(v[r], v0, n * 4);
  }
  clusterrt_status s1 = 99, s2 = 99;
  BOTH(s1 = clusterrt_adam_f32(w[0], g, m[0], v[0], n, lr, b1, b2, eps, step),
       s2 = clusterrt_adam_f32(w[1], g, m[1], v[1], n, lr, b1, b2, eps, step));
  CHECK(s1 == CLUSTERRT_OK && s2 == CLUSTERRT_OK);
  CHECK_MSG(same(w[0], w[1], n) && same(m[0], m[1], n) && same(v[0], v[1], n),
            "adam differs from generic n=%zu step=%llu", n,
            (unsigned long long)step);
  /* Stage by stage: m and v against double from the inputs (absolute
   * slack for products that underflow), then w against double from the
   * float m and v (so cancellation in m does not blur the check of w). */
  double bc1 = 1 - pow(b1, (double)step), bc2 = 1 - pow(b2, (double)step);
  for (size_t i = 0; i < n; i++) {
    double mm = (double)b1 * m0[i] + (1 - (double)b1) * g[i];
    double vv = (double)b2 * v0[i] + (1 - (double)b2) * g[i] * g[i];
    double mt = (fabs(b1 * m0[i]) + fabs((1 - b1) * g[i])) * 0x1p-23 + 0x1p-148;
    double vt = vv * 0x1p-22 + 0x1p-148;
    double mf = m[1][i], vf = v[1][i];
    double den = sqrt(vf / bc2) + eps;
    double up = lr * (mf / bc1) / den;
    double want = (double)w0[i] - up;
    /* -lr/bc1 * m can round to a denormal, which 1/den then magnifies. */
    double tol = (fabs(w0[i]) + fabs(up)) * 0x1p-21 + 0x1p-148 / den;
    if (fabs(mf - mm) > mt || fabs(vf - vv) > vt || fabs(w[1][i] - want) > tol) {
      CHECK_MSG(0, "adam n=%zu i=%zu step=%llu got w %a m %a v %a want %a %a %a",
                n, i, (unsigned long long)step, (double)w[1][i], mf, vf, want,
                mm, vv);
      break;
    }
  }
  for (int r = 0; r < 2; r++) {
    CHECK(t_buf_guard_ok(&bw[r]) && t_buf_guard_ok(&bm[r]) &&
          t_buf_guard_ok(&bv[r]));
    t_buf_free(&bw[r]), t_buf_free(&bm[r]), t_buf_free(&bv[r]);
  }
  t_buf_free(&bw0), t_buf_free(&bg), t_buf_free(&bm0), t_buf_free(&bv0);
}

/* |a - b| in units of b's ulp. */
static double ulps(float a, float b) {
  return fabs((double)a - (double)b) / (nextafterf(fabsf(b), INFINITY) - fabsf(b));
}

/* Three steps recorded from torch.optim (PyTorch 1.13.1, CPU, float32):
 *   w = [1, -2, 0.5, 0]; SGD(lr=0.1, momentum=0.9, weight_decay=0.01);
 *   Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8). */
static void pytorch(void) {
  static const float grads_sgd[3][4] = {
      {0.5f, 0.25f, -1.0f, 2.0f}, {0.5f, -0.75f, 0.125f, -3.0f},
      {0.1f, 0.2f, 0.3f, 0.4f}};
  static const float want_sgd[3][4] = {
      {0x1.e5e354p-1f, -0x1.02f1aap+1f, 0x1.32f1aap-1f, -0x1.99999ap-3f},
      {0x1.b44d22p-1f, -0x1.f77824p+0f, 0x1.5a163p-1f, -0x1.46dc5ap-4f},
      {0x1.821df2p-1f, -0x1.ef1be8p+0f, 0x1.6d9be6p-1f, -0x1.7a2602p-7f}};
  static const float grads_adam[3][4] = {
      {0.5f, 0.25f, -1.0f, 2.0f}, {0.25f, -0.75f, 0.125f, -3.0f},
      {0.1f, 0.2f, 0.3f, 0.4f}};
  static const float want_adam[3][4] = {
      {0x1.ff7ceep-1f, -0x1.0020c4p+1f, 0x1.008312p-1f, -0x1.0624dcp-10f},
      {0x1.ff02cp-1f, -0x1.001092p+1f, 0x1.00ce1ep-1f, -0x1.8a6bbep-11f},
      {0x1.fe9706p-1f, -0x1.000992p+1f, 0x1.00edccp-1f, -0x1.4b9988p-11f}};
  float w[4] = {1, -2, 0.5f, 0}, v[4] = {0};
  for (int s = 0; s < 3; s++) {
    CHECK(clusterrt_sgd_f32(w, grads_sgd[s], v, 4, 0.1f, 0.9f, 0.01f) ==
          CLUSTERRT_OK);
    for (int i = 0; i < 4; i++)
      CHECK_MSG(ulps(w[i], want_sgd[s][i]) <= 2, "sgd step %d w[%d] = %a",
                s + 1, i, (double)w[i]);
  }
  /* The hand check of step 2 (w[0]). */
  float w1[4] = {1, -2, 0.5f, 0}, v1[4] = {0};
  clusterrt_sgd_f32(w1, grads_sgd[0], v1, 4, 0.1f, 0.9f, 0.01f);
  CHECK(fabsf(w1[0] - 0.949f) < 1e-6f && fabsf(v1[0] - 0.51f) < 1e-6f);
  clusterrt_sgd_f32(w1, grads_sgd[1], v1, 4, 0.1f, 0.9f, 0.01f);
  CHECK(fabsf(w1[0] - 0.852151f) < 1e-6f);
  float wa[4] = {1, -2, 0.5f, 0}, m[4] = {0}, va[4] = {0};
  for (int s = 0; s < 3; s++) {
    CHECK(clusterrt_adam_f32(wa, grads_adam[s], m, va, 4, 1e-3f, 0.9f, 0.999f,
                             1e-8f, (uint64_t)s + 1) == CLUSTERRT_OK);
    if (s == 0) { /* step 1: m^ = g, v^ = g^2: w moves by -lr * sign(g) */
      static const double w_init[4] = {1, -2, 0.5, 0};
      for (int i = 0; i < 4; i++)
        CHECK(fabs(wa[i] - (w_init[i] - 1e-3 * (grads_adam[0][i] > 0 ? 1 : -1)))
              < 2e-7);
    }
    for (int i = 0; i < 4; i++)
      CHECK_MSG(ulps(wa[i], want_adam[s][i]) <= 2, "adam step %d w[%d] = %a",
                s + 1, i, (double)wa[i]);
  }
}

static void errors(void) {
  float w[4] = {0}, g[4] = {0}, v[4] = {0}, m[4] = {0};
  CHECK(clusterrt_sgd_f32(NULL, g, v, 4, 0.1f, 0.9f, 0) == CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_sgd_f32(w, NULL, v, 4, 0.1f, 0.9f, 0) == CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_sgd_f32(w, g, NULL, 4, 0.1f, 0.9f, 0) == CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_sgd_f32(w, g, NULL, 4, 0.1f, 0.0f, 0) == CLUSTERRT_OK);
  CHECK(clusterrt_sgd_f32(NULL, NULL, NULL, 0, 0.1f, 0.9f, 0) == CLUSTERRT_OK);
  CHECK(clusterrt_sgd_f32(w, g, v, 4, -0.1f, 0.9f, 0) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_sgd_f32(w, g, v, 4, NAN, 0.9f, 0) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_sgd_f32(w, g, v, 4, 0.1f, -0.5f, 0) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_sgd_f32(w, g, v, 4, 0.1f, INFINITY, 0) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_sgd_f32(w, g, v, 4, 0.1f, 0.9f, -1e-4f) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, 1e-3f, 1.0f, 0.999f, 1e-8f, 1) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, 1e-3f, 0.9f, -0.1f, 1e-8f, 1) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, 1e-3f, 0.9f, NAN, 1e-8f, 1) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, 1e-3f, 0.9f, 0.999f, -1e-8f, 1) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, m, v, 4, INFINITY, 0.9f, 0.999f, 1e-8f, 1) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_adam_f32(w, g, NULL, v, 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 1) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_adam_f32(w, g, m, NULL, 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 1) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_adam_f32(NULL, NULL, NULL, NULL, 0, 1e-3f, 0.9f, 0.999f,
                           1e-8f, 1) == CLUSTERRT_OK);
  /* beta = 0 and eps = 0 are valid (plain sign-like steps). */
  float w2[2] = {1, 1}, g2[2] = {0.5f, -0.25f}, m2[2] = {0}, v2[2] = {0};
  CHECK(clusterrt_adam_f32(w2, g2, m2, v2, 2, 0.5f, 0.0f, 0.0f, 0.0f, 7) ==
        CLUSTERRT_OK);
  CHECK(w2[0] == 0.5f && w2[1] == 1.5f);
}

int main(int argc, char **argv) {
  isa = t_select_isa(argc, argv);
  static const size_t big[] = {97, 257, 1021, 4099, 100003};
  for (size_t n = 0; n <= 80; n++) {
    for (int mode = 0; mode < 3; mode++) {
      sgd_case(n, n % 16, mode, 0.0f);
      sgd_case(n, (n + 1) % 16, mode, 1e-3f);
    }
    adam_case(n, n % 16, 1);
    adam_case(n, (n + 9) % 16, 2 + n * 37);
  }
  for (size_t b = 0; b < sizeof big / sizeof big[0]; b++) {
    sgd_case(big[b], b, (int)(b % 3), b % 2 ? 5e-4f : 0.0f);
    adam_case(big[b], 3 * b % 16, b + 1);
  }
  /* Tensors large enough to be split over threads (parts of whole cache
   * lines, an odd tail): the same checks at 3 threads. */
  CHECK(clusterrt_set_threads(3) == CLUSTERRT_OK);
  for (int mode = 0; mode < 3; mode++) sgd_case(300007, 5, mode, mode ? 1e-3f : 0.0f);
  adam_case(300007, 5, 4);
  adam_case((size_t)1 << 18, 0, 1);
  CHECK(clusterrt_set_threads(1) == CLUSTERRT_OK);
  for (size_t off = 0; off < 16; off++) {
    sgd_case(61, off, 0, 1e-2f);
    adam_case(61, off, 3);
  }
  pytorch();
  errors();
  clusterrt_set_isa(isa);
  return t_finish("optim", isa);
}
