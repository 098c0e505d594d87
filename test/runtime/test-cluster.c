/*
 * Centroid initialisation, Lloyd, exact 1-D k-means and
 * clusterrt_cluster_f32 (ISA-independent apart from the final assignment,
 * which uses argv[1]'s kernels).
 *  - every init: sorted, deterministic per seed, inside [min, max];
 *  - Lloyd: a fixed point (each centroid the mean of its cell);
 *  - kmeans1d: equal to a brute-force O(k n^2) DP on small inputs, and
 *    never worse than Lloyd from k-means++ on real-sized ones; its
 *    Lagrangian search against its layered DP (both methods, internal);
 *  - cluster: sorted distinct centroids, k_out = min(k, distinct) in the
 *    lossless case with exact round trip, sparsity keeps zeros exact.
 */
#include "test-util.h"

#include "internal.h" /* the two kmeans1d methods */

static double sse_of(const float *w, size_t n, const float *c, size_t k) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)w[i] - (double)c[t_ref_assign_one(w[i], c, k)];
    s += d * d;
  }
  return s;
}

static int sorted(const float *c, size_t k) {
  for (size_t i = 1; i < k; i++)
    if (c[i] < c[i - 1]) return 0;
  return 1;
}

static int cmpf(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Optimal SSE by the textbook DP over sorted points. */
static double brute_opt(const float *w, size_t n, size_t k) {
  float *v = malloc(n * sizeof *v);
  double *D = malloc((k + 1) * (n + 1) * sizeof *D);
  if (!v || !D) exit(2);
  memcpy(v, w, n * sizeof *v);
  qsort(v, n, sizeof *v, cmpf);
  for (size_t q = 0; q <= k; q++)
    for (size_t e = 0; e <= n; e++) D[q * (n + 1) + e] = INFINITY;
  D[0] = 0;
  for (size_t q = 1; q <= k; q++)
    for (size_t e = 1; e <= n; e++)
      for (size_t s = 0; s < e; s++) {
        double prev = D[(q - 1) * (n + 1) + s];
        if (prev == INFINITY) continue;
        double m = 0, ss = 0;
        for (size_t i = s; i < e; i++) m += v[i];
        m /= (double)(e - s);
        for (size_t i = s; i < e; i++) ss += (v[i] - m) * (v[i] - m);
        if (prev + ss < D[q * (n + 1) + e]) D[q * (n + 1) + e] = prev + ss;
      }
  double best = INFINITY;
  for (size_t q = 1; q <= k; q++)
    if (D[q * (n + 1) + n] < best) best = D[q * (n + 1) + n];
  free(v);
  free(D);
  return best;
}

static void inits(void) {
  size_t n = 5000;
  float *w = malloc(n * sizeof *w), c[300], c2[300];
  if (!w) exit(2);
  for (size_t i = 0; i < n; i++) w[i] = t_gauss() * 0.05f;
  float mn = w[0], mx = w[0];
  for (size_t i = 0; i < n; i++) {
    mn = w[i] < mn ? w[i] : mn;
    mx = w[i] > mx ? w[i] : mx;
  }
  for (int m = 0; m <= CLUSTERRT_INIT_KMEANS1D; m++) {
    size_t ks[] = {1, 2, 16, 256, 300};
    for (size_t ki = 0; ki < 5; ki++) {
      size_t k = ks[ki];
      CHECK(clusterrt_init_f32(w, n, k, (clusterrt_init)m, 42, c) ==
            CLUSTERRT_OK);
      CHECK(clusterrt_init_f32(w, n, k, (clusterrt_init)m, 42, c2) ==
            CLUSTERRT_OK);
      CHECK_MSG(memcmp(c, c2, k * sizeof *c) == 0, "init %d not deterministic",
                m);
      CHECK_MSG(sorted(c, k), "init %d not sorted k=%zu", m, k);
      for (size_t j = 0; j < k; j++) CHECK(c[j] >= mn && c[j] <= mx);
    }
  }
  /* linear hits both ends; kmeans++ picks data values */
  CHECK(clusterrt_init_f32(w, n, 5, CLUSTERRT_INIT_LINEAR, 0, c) == 0);
  CHECK(c[0] == mn && c[4] == mx);
  CHECK(clusterrt_init_f32(w, n, 64, CLUSTERRT_INIT_KMEANSPP, 7, c) == 0);
  for (size_t j = 0; j < 64; j++) {
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) found = w[i] == c[j];
    CHECK(found);
  }
  /* fewer distinct values than k: repeats allowed, still sorted */
  float few[6] = {1, 1, 2, 2, 3, 3};
  for (int m = 0; m <= CLUSTERRT_INIT_KMEANS1D; m++) {
    CHECK(clusterrt_init_f32(few, 6, 8, (clusterrt_init)m, 1, c) == 0);
    CHECK(sorted(c, 8));
  }
  w[17] = NAN;
  CHECK(clusterrt_init_f32(w, n, 4, CLUSTERRT_INIT_LINEAR, 0, c) ==
        CLUSTERRT_ERR_NAN);
  CHECK(clusterrt_init_f32(w, n, 0, CLUSTERRT_INIT_LINEAR, 0, c) ==
        CLUSTERRT_ERR_K);
  clusterrt_init im;
  CHECK(clusterrt_init_parse("kmeans++", 8, &im) == 0 &&
        im == CLUSTERRT_INIT_KMEANSPP);
  CHECK(clusterrt_init_parse("kmeans1dX", 8, &im) == 0 &&
        im == CLUSTERRT_INIT_KMEANS1D);
  CHECK(clusterrt_init_parse("kmeans", 6, &im) == -1);
  for (int m = 0; m <= CLUSTERRT_INIT_KMEANS1D; m++) {
    const char *nm = clusterrt_init_name((clusterrt_init)m);
    CHECK(nm && clusterrt_init_parse(nm, strlen(nm), &im) == 0 && (int)im == m);
  }
  free(w);
}

static void lloyd(void) {
  size_t n = 20000, k = 16;
  float *w = malloc(n * sizeof *w), c[16];
  if (!w) exit(2);
  for (size_t i = 0; i < n; i++) w[i] = t_gauss();
  /* unsorted start with a duplicate */
  for (size_t j = 0; j < k; j++) c[j] = (float)((j * 7) % 16) * 0.3f - 2.0f;
  c[5] = c[6];
  double before = sse_of(w, n, c, k);
  unsigned it = 0;
  CHECK(clusterrt_lloyd_f32(w, n, c, k, 500, &it) == CLUSTERRT_OK);
  CHECK(sorted(c, k));
  CHECK(it > 0 && it < 500);
  CHECK(sse_of(w, n, c, k) <= before);
  /* fixed point: each active centroid is the mean of its cell */
  double sum[16] = {0}, cnt[16] = {0};
  for (size_t i = 0; i < n; i++) {
    uint32_t a = t_ref_assign_one(w[i], c, k);
    sum[a] += w[i];
    cnt[a]++;
  }
  for (size_t j = 0; j < k; j++)
    if (cnt[j] > 0)
      CHECK_MSG(fabs(sum[j] / cnt[j] - c[j]) <= 1e-5 * (1 + fabs(c[j])),
                "lloyd not a fixed point j=%zu", j);
  free(w);
}

static void kmeans1d(void) {
  /* small: against brute force, with duplicates */
  for (int trial = 0; trial < 60; trial++) {
    size_t n = 1 + t_rand() % 40, k = 1 + t_rand() % 6;
    float w[40], c[6];
    for (size_t i = 0; i < n; i++)
      w[i] = trial % 3 == 0 ? (float)(t_rand() % 5) : t_gauss();
    size_t distinct = 0;
    float tmp[40];
    memcpy(tmp, w, n * sizeof *w);
    qsort(tmp, n, sizeof *tmp, cmpf);
    for (size_t i = 0; i < n; i++) distinct += i == 0 || tmp[i] != tmp[i - 1];
    CHECK(clusterrt_kmeans1d_f32(w, n, k, c) == CLUSTERRT_OK);
    CHECK(sorted(c, k));
    double got = sse_of(w, n, c, k), want = brute_opt(w, n, k);
    CHECK_MSG(got <= want * (1 + 1e-6) + 1e-9,
              "kmeans1d not optimal n=%zu k=%zu got %g want %g (distinct %zu)",
              n, k, got, want, distinct);
  }
  /* Larger k, both ways of recovering the boundaries (the argmin trail up
   * to 256 clusters, Hirschberg's split above): against an O(k n^2)
   * prefix-sum DP over the sorted values. */
  {
    size_t n = t_quick ? 400 : 520;
    float *w = malloc(n * sizeof *w), *c = malloc(300 * sizeof *c);
    double *D = malloc(2 * (n + 1) * sizeof *D), *P1 = malloc((n + 1) * sizeof *P1),
           *P2 = malloc((n + 1) * sizeof *P2);
    float *v = malloc(n * sizeof *v);
    if (!w || !c || !D || !P1 || !P2 || !v) exit(2);
    for (size_t i = 0; i < n; i++) w[i] = t_gauss() * (i % 7 == 0 ? 3.0f : 1.0f);
    memcpy(v, w, n * sizeof *v);
    qsort(v, n, sizeof *v, cmpf);
    P1[0] = P2[0] = 0;
    for (size_t i = 0; i < n; i++) {
      P1[i + 1] = P1[i] + v[i];
      P2[i + 1] = P2[i] + (double)v[i] * v[i];
    }
    static const size_t kk[] = {200, 256, 257, 300};
    for (size_t ki = 0; ki < sizeof kk / sizeof kk[0]; ki++) {
      size_t k = kk[ki];
      double *cur = D, *nxt = D + (n + 1);
      for (size_t e = 0; e <= n; e++)
        cur[e] = e ? P2[e] - P1[e] * P1[e] / (double)e : INFINITY;
      for (size_t q = 2; q <= k; q++) {
        for (size_t e = 0; e <= n; e++) {
          double best = INFINITY;
          for (size_t s = q - 1; s < e; s++) {
            double s1 = P1[e] - P1[s], nn = (double)(e - s);
            double r = P2[e] - P2[s] - s1 * s1 / nn;
            double val = cur[s] + (r > 0 ? r : 0);
            best = val < best ? val : best;
          }
          nxt[e] = best;
        }
        double *t = cur;
        cur = nxt;
        nxt = t;
      }
      CHECK(clusterrt_kmeans1d_f32(w, n, k, c) == CLUSTERRT_OK);
      CHECK(sorted(c, k));
      double got = sse_of(w, n, c, k);
      CHECK_MSG(got <= cur[n] * (1 + 1e-9) + 1e-9,
                "kmeans1d k=%zu got %.17g want %.17g", k, got, cur[n]);
    }
    free(w), free(c), free(D), free(P1), free(P2), free(v);
  }
  /* Every ISA's row scans give the same centroids, bit for bit. */
  {
    size_t n = t_quick ? 8000 : 30000;
    float *w = malloc(n * sizeof *w), *c0 = malloc(300 * sizeof *c0),
          *c1 = malloc(300 * sizeof *c1);
    if (!w || !c0 || !c1) exit(2);
    for (size_t i = 0; i < n; i++) w[i] = t_gauss() * 0.05f;
    clusterrt_isa keep = clusterrt_get_isa();
    static const size_t kk[] = {16, 256, 300};
    for (size_t ki = 0; ki < 3; ki++) {
      clusterrt_set_isa(CLUSTERRT_ISA_GENERIC);
      CHECK(clusterrt_kmeans1d_f32(w, n, kk[ki], c0) == CLUSTERRT_OK);
      for (int i = 1; i <= CLUSTERRT_ISA_NEON; i++) {
        if (clusterrt_set_isa((clusterrt_isa)i) != CLUSTERRT_OK) continue;
        CHECK(clusterrt_kmeans1d_f32(w, n, kk[ki], c1) == CLUSTERRT_OK);
        CHECK_MSG(memcmp(c0, c1, kk[ki] * sizeof *c0) == 0,
                  "kmeans1d differs on %s (k=%zu)",
                  clusterrt_isa_name((clusterrt_isa)i), kk[ki]);
      }
    }
    clusterrt_set_isa(keep);
    free(w), free(c0), free(c1);
  }
  /* real-sized: never worse than Lloyd from k-means++ */
  size_t n = t_quick ? 50000 : 200000;
  float *w = malloc(n * sizeof *w), *c = malloc(256 * sizeof *c),
        *c2 = malloc(256 * sizeof *c2);
  if (!w || !c || !c2) exit(2);
  for (size_t i = 0; i < n; i++) w[i] = t_gauss() * 0.05f;
  size_t ks[] = {4, 16, 64, 256};
  for (size_t ki = 0; ki < 4; ki++) {
    size_t k = ks[ki];
    if (k == 256) n = 20000; /* keep the test quick (and under qemu) */
    CHECK(clusterrt_kmeans1d_f32(w, n, k, c) == CLUSTERRT_OK);
    CHECK(clusterrt_init_f32(w, n, k, CLUSTERRT_INIT_KMEANSPP, 3, c2) == 0);
    CHECK(clusterrt_lloyd_f32(w, n, c2, k, 300, NULL) == 0);
    double a = sse_of(w, n, c, k), b = sse_of(w, n, c2, k);
    CHECK_MSG(a <= b * (1 + 1e-6), "kmeans1d %g worse than lloyd %g (k=%zu)", a,
              b, k);
  }
  free(w);
  free(c);
  free(c2);
}

/* kmeans1d's Lagrangian search against its layered DP over every layer,
 * on smooth densities (where the search must not give up below
 * k = 300), duplicates,
 * and exact ties: two identical blobs and a uniform grid make F_k
 * straight around some k, which needs the banded DP (or the fallback). */
static void kmeans1d_methods(void) {
  size_t n = t_quick ? 600 : 2000;
  float *w = malloc(n * sizeof *w), *c0 = malloc(n * sizeof *c0),
        *c1 = malloc(n * sizeof *c1);
  if (!w || !c0 || !c1) exit(2);
  int direct = 0, banded = 0, gaveup = 0;
  for (int shape = 0; shape < 6; shape++) {
    for (size_t i = 0; i < n; i++) {
      double u = ((double)i + 0.5) / (double)n, x = (u - 0.5) * 2;
      w[i] = shape == 0   ? t_gauss() * 0.05f
             : shape == 1 ? (float)(0.05 * x / sqrt(1 - x * x + 1e-6))
             : shape == 2 ? t_gauss() * (t_rand() % 2 ? 100.0f : 1.0f)
             : shape == 3 ? (float)(t_rand() % 50)
             : shape == 4 ? (float)((i % 2 ? 1000 : 0) + i / 2 % 97)
                          : (float)i * 0.5f;
    }
    rt_distinct d;
    CHECK(rt_distinct_init(&d, w, n, 1) == CLUSTERRT_OK);
    double T = rt_range_sse(&d, 0, d.m);
    size_t kk[] = {2, 3, 5, 16, 33, 64, 255, 256, 300, d.m / 2 + 1, d.m - 1};
    for (size_t ki = 0; ki < sizeof kk / sizeof kk[0]; ki++) {
      size_t k = kk[ki];
      if (k < 2 || k >= d.m) continue;
      int b = -1;
      clusterrt_status s = rt_kmeans1d_lagrange(&d, k, c1, &b);
      /* Giving up is allowed where it is expected: exact ties, and
       * penalties below the rounding of the prefix sums (k near m with
       * values of very different magnitudes). */
      CHECK_MSG(s == CLUSTERRT_OK ||
                    (s == CLUSTERRT_ERR_ARG && (shape >= 3 || k > 300)),
                "kmeans1d lagrange status %d (shape %d, k=%zu)", (int)s, shape,
                k);
      if (s != CLUSTERRT_OK) {
        gaveup++;
        continue;
      }
      b ? banded++ : direct++;
      CHECK(rt_kmeans1d_layered(&d, k, c0) == CLUSTERRT_OK);
      double got = sse_of(w, n, c1, k), want = sse_of(w, n, c0, k);
      CHECK(sorted(c1, k));
      CHECK_MSG(got <= want * (1 + 1e-12) + T * 0x1p-50,
                "kmeans1d lagrange %.17g, layered %.17g (shape %d, k=%zu)",
                got, want, shape, k);
    }
    rt_distinct_free(&d);
  }
  CHECK_MSG(direct > 0 && banded > 0,
            "kmeans1d paths: %d direct, %d banded, %d gave up", direct, banded,
            gaveup);
  free(w), free(c0), free(c1);
}

static void cluster(void) {
  size_t n = t_quick ? 15000 : 50000;
  float *w = malloc(n * sizeof *w), *c = malloc(300 * sizeof *c),
        *c2 = malloc(300 * sizeof *c2), *back = malloc(n * sizeof *back);
  uint8_t *idx = malloc(2 * n), *idx2 = malloc(2 * n);
  if (!w || !c || !c2 || !back || !idx || !idx2) exit(2);
  for (size_t i = 0; i < n; i++) w[i] = t_gauss() * 0.05f;
  for (size_t i = 0; i < n; i += 3) w[i] = 0.0f; /* sparse */
  w[1] = -0.0f;
  for (int m = 0; m <= CLUSTERRT_INIT_KMEANS1D; m++) {
    for (int sp = 0; sp < 2; sp++) {
      size_t ks[] = {1, 2, 16, 256};
      for (size_t ki = 0; ki < 4; ki++) {
        clusterrt_cluster_options o = {ks[ki], (clusterrt_init)m, 99, 0, sp, 0};
        size_t ko = 0, ko2 = 0;
        clusterrt_index_format f = clusterrt_narrowest_format(ks[ki]);
        CHECK(clusterrt_cluster_f32(w, n, &o, c, &ko, f, idx) == 0);
        CHECK(clusterrt_cluster_f32(w, n, &o, c2, &ko2, f, idx2) == 0);
        CHECK(ko == ko2 && memcmp(c, c2, ko * sizeof *c) == 0);
        CHECK(memcmp(idx, idx2, clusterrt_index_bytes(f, n)) == 0);
        CHECK(ko >= 1 && ko <= ks[ki]);
        for (size_t j = 1; j < ko; j++) /* -0 just before +0: both zeros in w */
          CHECK(c[j] > c[j - 1] || (c[j] == 0.0f && signbit(c[j - 1]) && !signbit(c[j])));
        for (size_t i = 0; i < n; i++)
          if (t_get(idx, f, i) != t_ref_assign_one(w[i], c, ko)) {
            CHECK_MSG(0, "cluster idx not argmin i=%zu", i);
            break;
          }
        if (sp) {
          int has0 = 0;
          for (size_t j = 0; j < ko; j++) has0 |= c[j] == 0.0f;
          CHECK(has0);
          CHECK(clusterrt_decode_f32(idx, f, n, c, ko, back) == 0);
          for (size_t i = 0; i < n; i += 3) CHECK(back[i] == 0.0f);
          CHECK(back[1] == 0.0f);
        }
        if (ks[ki] == 16) CHECK(ko == 16);
      }
    }
  }
  /* lossless: k >= distinct values gives the values themselves */
  float few[10] = {3, -1, 3, 0.5f, -1, 7, 0.5f, 0, 0, 3};
  for (int sp = 0; sp < 2; sp++) {
    clusterrt_cluster_options o = {256, CLUSTERRT_INIT_KMEANSPP, 1, 0, sp, 0};
    size_t ko;
    uint8_t id[10];
    float out[10];
    CHECK(clusterrt_cluster_f32(few, 10, &o, c, &ko, CLUSTERRT_IDX_U8, id) ==
          0);
    CHECK(ko == 5);
    CHECK(clusterrt_decode_f32(id, CLUSTERRT_IDX_U8, 10, c, ko, out) == 0);
    CHECK(memcmp(out, few, sizeof few) == 0);
  }
  clusterrt_cluster_options o = {4, CLUSTERRT_INIT_LINEAR, 1, 0, 0, 0};
  size_t ko;
  CHECK(clusterrt_cluster_f32(w, n, &o, c, &ko, CLUSTERRT_IDX_U1, idx) ==
        CLUSTERRT_ERR_FORMAT);
  w[5] = NAN;
  CHECK(clusterrt_cluster_f32(w, n, &o, c, &ko, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NAN);
  CHECK(clusterrt_cluster_f32(w, n, NULL, c, &ko, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NULL);
  free(w);
  free(c);
  free(c2);
  free(back);
  free(idx);
  free(idx2);
}

/* Both zeros in one weight: with room in k they are two centroids, -0
 * just before +0, and every weight decodes bit for bit (both came back
 * +0); without room one +0 serves both. */
static void signed_zeros(void) {
  const float w[] = {-0.0f, 0.5f, 0.0f, 3.0f, -0.0f, 5.0f, 6.0f, 0.0f};
  size_t n = 8;
  for (int sp = 0; sp < 2; sp++)
    for (size_t k = 5; k <= 8; k++) {
      clusterrt_cluster_options o = {k, CLUSTERRT_INIT_KMEANS1D, 1, 0, sp, 0};
      float c[8], back[8];
      uint8_t idx[8];
      size_t ko = 0;
      CHECK(clusterrt_cluster_f32(w, n, &o, c, &ko, CLUSTERRT_IDX_U8, idx) == 0);
      CHECK(clusterrt_decode_f32(idx, CLUSTERRT_IDX_U8, n, c, ko, back) == 0);
      if (k >= 6) {
        CHECK_MSG(ko == 6 && c[0] == 0.0f && signbit(c[0]) && !signbit(c[1]) &&
                      memcmp(back, w, sizeof w) == 0,
                  "k=%zu sp=%d: k_out %zu, c[0]=%a c[1]=%a", k, sp, ko, (double)c[0],
                  (double)c[1]);
      } else {
        CHECK(ko == 5 && !signbit(c[0]));
        for (size_t i = 0; i < n; i++)
          CHECK(w[i] == 0.0f ? back[i] == 0.0f && !signbit(back[i]) : back[i] == w[i]);
      }
    }
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  inits();
  lloyd();
  kmeans1d();
  kmeans1d_methods();
  cluster();
  signed_zeros();
  return t_finish("cluster", isa);
}
