/*
 * Weighted exact 1-D k-means (clusterrt_kmeans1d_weighted_f32) against
 * brute force over every partition of the sorted distinct values into
 * contiguous groups (the optimum is always such a partition) on small
 * inputs, and never worse than weighted Lloyd (clusterrt_lloyd_weighted_f32)
 * from several seedings on larger ones. Weights include zeros (ignored) and
 * a spread of magnitudes; all ones gives the unweighted optimum.
 */
#include "test-util.h"

/* sum_i wt[i] (w[i] - nearest c)^2 in double. */
static double objective(const float *w, const float *wt, size_t n,
                        const float *c, size_t k) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(wt[i] > 0)) continue;
    double best = INFINITY;
    for (size_t j = 0; j < k; j++) {
      double d = (double)w[i] - (double)c[j];
      if (d * d < best) best = d * d;
    }
    s += (double)wt[i] * best;
  }
  return s;
}

/* The best weighted SSE over partitions of v[0..m) (weights W) into
 * exactly g contiguous groups, by recursion over the first cut. */
static double brute(const double *v, const double *W, size_t m, size_t from,
                    size_t g) {
  if (g == 1) {
    double sw = 0, sx = 0, sse = 0;
    for (size_t i = from; i < m; i++) sw += W[i], sx += W[i] * v[i];
    double mu = sx / sw;
    for (size_t i = from; i < m; i++) sse += W[i] * (v[i] - mu) * (v[i] - mu);
    return sse;
  }
  double best = INFINITY;
  for (size_t cut = from + 1; cut + g - 1 <= m; cut++) {
    double sw = 0, sx = 0, sse = 0;
    for (size_t i = from; i < cut; i++) sw += W[i], sx += W[i] * v[i];
    double mu = sx / sw;
    for (size_t i = from; i < cut; i++) sse += W[i] * (v[i] - mu) * (v[i] - mu);
    double rest = brute(v, W, m, cut, g - 1);
    if (sse + rest < best) best = sse + rest;
  }
  return best;
}

static void small_cases(void) {
  float w[12], wt[12], c[8];
  for (int trial = 0; trial < 3000; trial++) {
    size_t n = 1 + t_rand() % 12, k = 1 + t_rand() % 6;
    for (size_t i = 0; i < n; i++) {
      w[i] = (float)((int)(t_rand() % 9) - 4) * 0.25f; /* repeats likely */
      wt[i] = t_rand() % 5 == 0 ? 0.0f : (float)(1 + t_rand() % 1000) / 16.0f;
    }
    wt[t_rand() % n] = 1.0f; /* at least one positive weight */
    /* Distinct values of positive weight, with summed weights. */
    double v[12], W[12];
    size_t m = 0;
    for (int g = -4; g <= 4; g++) {
      double sw = 0;
      for (size_t i = 0; i < n; i++)
        if (wt[i] > 0 && w[i] == (float)g * 0.25f) sw += wt[i];
      if (sw > 0) v[m] = g * 0.25, W[m++] = sw;
    }
    size_t ko = 99;
    CHECK(clusterrt_kmeans1d_weighted_f32(w, wt, n, k, c, &ko) == CLUSTERRT_OK);
    size_t want_k = k < m ? k : m;
    CHECK_MSG(ko == want_k, "k_out %zu want %zu", ko, want_k);
    for (size_t j = 1; j < ko; j++) CHECK(c[j - 1] < c[j]);
    double got = objective(w, wt, n, c, ko), opt = brute(v, W, m, 0, want_k);
    /* Centroids are rounded to float: allow that much. */
    CHECK_MSG(fabs(got - opt) <= 1e-6 * (1 + opt), "n=%zu k=%zu got %.9g opt %.9g",
              n, k, got, opt);
  }
}

static void never_worse_than_lloyd(void) {
  enum { N = 3000 };
  float *w = malloc(N * sizeof *w), *wt = malloc(N * sizeof *wt);
  float c[64], l[64];
  if (!w || !wt) exit(2);
  for (int trial = 0; trial < 8; trial++) {
    for (size_t i = 0; i < N; i++) {
      w[i] = t_gauss() * (trial % 2 ? 1.0f : 0.05f);
      float u = (float)(t_rand() % 1000 + 1) / 1000.0f;
      wt[i] = trial < 4 ? u * u * u * 100.0f : 1.0f; /* skewed, or plain */
    }
    static const size_t ks[] = {2, 4, 8, 16, 64};
    for (size_t ki = 0; ki < 5; ki++) {
      size_t k = ks[ki], ko;
      CHECK(clusterrt_kmeans1d_weighted_f32(w, wt, N, k, c, &ko) == CLUSTERRT_OK);
      CHECK(ko == k);
      double exact = objective(w, wt, N, c, k);
      for (int s = 0; s < 5; s++) {
        for (size_t j = 0; j < k; j++) l[j] = w[t_rand() % N];
        CHECK(clusterrt_lloyd_weighted_f32(w, wt, N, l, k, 300, NULL) ==
              CLUSTERRT_OK);
        double lloyd = objective(w, wt, N, l, k);
        CHECK_MSG(exact <= lloyd * (1 + 1e-9) + 1e-30,
                  "trial %d k=%zu exact %.9g > lloyd %.9g", trial, k, exact, lloyd);
      }
      if (trial >= 4) { /* all weights 1: the unweighted optimum */
        float u[64];
        CHECK(clusterrt_kmeans1d_f32(w, N, k, u) == CLUSTERRT_OK);
        double plain = objective(w, wt, N, u, k);
        CHECK_MSG(fabs(exact - plain) <= 1e-9 * plain, "k=%zu %.12g vs %.12g", k,
                  exact, plain);
      }
    }
  }
  free(w);
  free(wt);
}

int main(void) {
  small_cases();
  never_worse_than_lloyd();
  float w[3] = {1, 2, 3}, wt[3] = {0, 0, 0}, c[3];
  size_t ko;
  CHECK(clusterrt_kmeans1d_weighted_f32(w, wt, 3, 2, c, &ko) == CLUSTERRT_ERR_ARG);
  wt[1] = NAN;
  CHECK(clusterrt_kmeans1d_weighted_f32(w, wt, 3, 2, c, &ko) == CLUSTERRT_ERR_NAN);
  CHECK(clusterrt_kmeans1d_weighted_f32(w, NULL, 3, 2, c, &ko) == CLUSTERRT_ERR_NULL);
  return t_finish("weighted k-means", CLUSTERRT_ISA_GENERIC);
}
