/*
 * k-means of d-dimensional vectors (vector palettes, coremltools'
 * cluster_dim): k-means++ seeding from a deterministic seed, then Lloyd
 * iterations until no assignment changes (or max_iter), and the nearest-
 * centroid assignment. Generic C: the pass clusters each weight once, at
 * compile time, and d is at most a few floats.
 *
 * Distances and means are accumulated in double in a fixed order, so the
 * result depends only on (x, n, d, k, seed, max_iter). Ties go to the
 * lowest centroid index. Seeding stops early when every vector already
 * equals a chosen centroid (total squared distance 0): *k_out is then the
 * number of distinct vectors, and the clustering is lossless.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static double dist2(const float *a, const float *b, size_t d) {
  double s = 0;
  for (size_t e = 0; e < d; ++e) {
    double t = (double)a[e] - (double)b[e];
    s += t * t;
  }
  return s;
}

/* The nearest of c[0..k) to v (ties: the lowest) and its distance. */
static size_t nearest(const float *v, const float *c, size_t k, size_t d,
                      double *best) {
  size_t j = 0;
  double b = dist2(v, c, d);
  for (size_t i = 1; i < k; ++i) {
    double t = dist2(v, c + i * d, d);
    if (t < b) {
      b = t;
      j = i;
    }
  }
  if (best)
    *best = b;
  return j;
}

clusterrt_status clusterrt_assign_vec_f32(const float *x, size_t n, size_t d,
                                          const float *c, size_t k,
                                          uint32_t *idx) {
  if ((!x && n) || !c || !idx || d == 0 || k == 0 || k > CLUSTERRT_MAX_K)
    return CLUSTERRT_ERR_ARG;
  for (size_t v = 0; v < n; ++v)
    idx[v] = (uint32_t)nearest(x + v * d, c, k, d, NULL);
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_kmeans_vec_f32(const float *x, size_t n, size_t d,
                                          size_t k, uint64_t seed,
                                          unsigned max_iter, int init_only,
                                          float *c, size_t *k_out) {
  if (!x || n == 0 || d == 0 || !c || !k_out || k == 0 || k > CLUSTERRT_MAX_K)
    return CLUSTERRT_ERR_ARG;
  if (max_iter == 0)
    max_iter = 300;
  double *dmin = malloc(n * sizeof *dmin);
  uint32_t *asg = malloc(n * sizeof *asg);
  double *sum = malloc(k * d * sizeof *sum);
  size_t *cnt = malloc(k * sizeof *cnt);
  if (!dmin || !asg || !sum || !cnt) {
    free(dmin), free(asg), free(sum), free(cnt);
    return CLUSTERRT_ERR_NOMEM;
  }
  /* k-means++: the first centroid uniformly, each next one with
   * probability proportional to the squared distance to the nearest
   * chosen one. */
  rt_rng rng;
  rt_rng_seed(&rng, seed);
  size_t first = (size_t)(rt_rng_unit(&rng) * (double)n);
  if (first >= n)
    first = n - 1;
  memcpy(c, x + first * d, d * sizeof *c);
  size_t kc = 1;
  double total = 0;
  for (size_t v = 0; v < n; ++v)
    total += dmin[v] = dist2(x + v * d, c, d);
  while (kc < k && total > 0) {
    double r = rt_rng_unit(&rng) * total, acc = 0;
    size_t pick = n;
    for (size_t v = 0; v < n; ++v) {
      acc += dmin[v];
      if (dmin[v] > 0 && acc > r) {
        pick = v;
        break;
      }
    }
    if (pick == n) /* rounding at the end of the sum: the last candidate */
      for (size_t v = n; v-- > 0;)
        if (dmin[v] > 0) {
          pick = v;
          break;
        }
    memcpy(c + kc * d, x + pick * d, d * sizeof *c);
    total = 0;
    for (size_t v = 0; v < n; ++v) {
      double t = dist2(x + v * d, c + kc * d, d);
      if (t < dmin[v])
        dmin[v] = t;
      total += dmin[v];
    }
    ++kc;
  }
  /* Lloyd: assign, then move each non-empty centroid to its mean. */
  for (unsigned it = 0; !init_only && it < max_iter; ++it) {
    int changed = 0;
    for (size_t v = 0; v < n; ++v) {
      uint32_t j = (uint32_t)nearest(x + v * d, c, kc, d, NULL);
      changed |= it == 0 || j != asg[v];
      asg[v] = j;
    }
    if (!changed)
      break;
    memset(sum, 0, kc * d * sizeof *sum);
    memset(cnt, 0, kc * sizeof *cnt);
    for (size_t v = 0; v < n; ++v) {
      ++cnt[asg[v]];
      for (size_t e = 0; e < d; ++e)
        sum[asg[v] * d + e] += x[v * d + e];
    }
    for (size_t j = 0; j < kc; ++j)
      if (cnt[j])
        for (size_t e = 0; e < d; ++e)
          c[j * d + e] = (float)(sum[j * d + e] / (double)cnt[j]);
  }
  *k_out = kc;
  free(dmin), free(asg), free(sum), free(cnt);
  return CLUSTERRT_OK;
}
