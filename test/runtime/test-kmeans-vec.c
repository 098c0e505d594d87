/*
 * Vector k-means (clusterrt_kmeans_vec_f32, clusterrt_assign_vec_f32):
 * lossless when k >= the distinct vectors, deterministic for a seed, Lloyd
 * never worse than its k-means++ seeding, the assignment the brute-force
 * nearest (ties to the lowest index), and argument errors.
 */
#include "test-util.h"

static double sse(const float *x, size_t n, size_t d, const float *c, size_t k) {
  uint32_t *idx = malloc(n * sizeof *idx);
  CHECK(clusterrt_assign_vec_f32(x, n, d, c, k, idx) == CLUSTERRT_OK);
  double s = 0;
  for (size_t v = 0; v < n; ++v)
    for (size_t e = 0; e < d; ++e) {
      double t = (double)x[v * d + e] - c[idx[v] * d + e];
      s += t * t;
    }
  free(idx);
  return s;
}

/* n vectors drawn from `distinct` prototypes: k >= distinct is exact. */
static void lossless(size_t d, size_t distinct, size_t k) {
  size_t n = 600;
  float *proto = malloc(distinct * d * sizeof *proto), *x = malloc(n * d * sizeof *x);
  float *c = malloc(k * d * sizeof *c);
  for (size_t i = 0; i < distinct * d; ++i)
    proto[i] = t_gauss();
  for (size_t v = 0; v < n; ++v)
    memcpy(x + v * d, proto + (t_rand() % distinct) * d, d * sizeof *x);
  size_t ko = 0;
  CHECK(clusterrt_kmeans_vec_f32(x, n, d, k, 7, 0, 0, c, &ko) == CLUSTERRT_OK);
  CHECK_MSG(ko <= distinct, "d=%zu: k_out %zu > %zu distinct", d, ko, distinct);
  CHECK_MSG(sse(x, n, d, c, ko) == 0, "d=%zu distinct=%zu k=%zu: not lossless", d,
            distinct, k);
  free(proto), free(x), free(c);
}

static void lloyd_and_seed(size_t d, size_t k) {
  size_t n = 1000;
  float *x = malloc(n * d * sizeof *x), *c0 = malloc(k * d * sizeof *c0);
  float *c1 = malloc(k * d * sizeof *c1), *c2 = malloc(k * d * sizeof *c2);
  for (size_t i = 0; i < n * d; ++i)
    x[i] = t_gauss();
  size_t k0, k1, k2;
  CHECK(clusterrt_kmeans_vec_f32(x, n, d, k, 3, 0, 1, c0, &k0) == CLUSTERRT_OK);
  CHECK(clusterrt_kmeans_vec_f32(x, n, d, k, 3, 0, 0, c1, &k1) == CLUSTERRT_OK);
  CHECK(clusterrt_kmeans_vec_f32(x, n, d, k, 3, 0, 0, c2, &k2) == CLUSTERRT_OK);
  CHECK(k0 == k && k1 == k && k2 == k);
  CHECK_MSG(!memcmp(c1, c2, k * d * sizeof *c1), "d=%zu: not deterministic", d);
  CHECK_MSG(sse(x, n, d, c1, k) <= sse(x, n, d, c0, k), "d=%zu: Lloyd worse than its init", d);
  free(x), free(c0), free(c1), free(c2);
}

static void assign_brute(void) {
  for (int rep = 0; rep < 50; ++rep) {
    size_t d = (size_t)1 << (rep % 4), k = 1 + t_rand() % 9, n = 64;
    float x[64 * 8], c[10 * 8];
    uint32_t idx[64];
    for (size_t i = 0; i < n * d; ++i)
      x[i] = (float)(int)(t_rand() % 5) - 2; /* small integers: many ties */
    for (size_t i = 0; i < k * d; ++i)
      c[i] = (float)(int)(t_rand() % 5) - 2;
    CHECK(clusterrt_assign_vec_f32(x, n, d, c, k, idx) == CLUSTERRT_OK);
    for (size_t v = 0; v < n; ++v) {
      double best = INFINITY;
      uint32_t want = 0;
      for (size_t j = 0; j < k; ++j) {
        double s = 0;
        for (size_t e = 0; e < d; ++e)
          s += ((double)x[v * d + e] - c[j * d + e]) * ((double)x[v * d + e] - c[j * d + e]);
        if (s < best) {
          best = s;
          want = (uint32_t)j;
        }
      }
      CHECK_MSG(idx[v] == want, "d=%zu k=%zu v=%zu: %u, want %u", d, k, v, idx[v], want);
    }
  }
}

int main(void) {
  for (size_t d = 1; d <= 8; d *= 2) {
    lossless(d, 5, 5);
    lossless(d, 5, 16);
    lossless(d, 1, 4);
    lloyd_and_seed(d, 16);
  }
  assign_brute();
  float x[4] = {0}, c[4];
  size_t ko;
  uint32_t idx[2];
  CHECK(clusterrt_kmeans_vec_f32(x, 2, 2, 0, 0, 0, 0, c, &ko) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_kmeans_vec_f32(x, 0, 2, 2, 0, 0, 0, c, &ko) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_kmeans_vec_f32(x, 2, 0, 2, 0, 0, 0, c, &ko) == CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_assign_vec_f32(x, 2, 2, NULL, 2, idx) == CLUSTERRT_ERR_ARG);
  return t_finish("vector k-means", CLUSTERRT_ISA_GENERIC);
}
