/*
 * clusterrt_cluster_f32: the one call the pass and the trainer use.
 *
 *   1. Sorted distinct values of w (radix sort). With preserve_sparsity and
 *      zeros present, zero is set aside as an exact centroid and the
 *      non-zero weights are clustered with the remaining k - 1 centroids.
 *   2. If the budget covers every distinct value, the centroids are those
 *      values (lossless). Otherwise: init, then Lloyd (skipped for
 *      kmeans1d, which is already optimal, and with init_only).
 *   3. Centroids sorted, -0 made +0, duplicates removed (a collapsed pair
 *      would otherwise leave a centroid no weight can reach), zero added
 *      back for sparsity. A zero centroid is -0 when every zero of w is
 *      -0 (so a lossless table decodes -0 bit for bit). With both zeros
 *      in w and a zero centroid, a -0 centroid is added just before the
 *      +0 one when k allows (k_out < k): the two zeros are then distinct
 *      values, each weight decoding to its own (assign.c: signed zeros);
 *      without room, one +0 centroid serves both.
 *   4. idx, if wanted, is the exact assignment (clusterrt_assign_f32) over
 *      the final table, so a zero weight maps to the zero centroid, and a
 *      tiny non-zero weight may too when zero is its nearest centroid.
 *
 * Deterministic for a given (w, n, opts): no step depends on timing,
 * threads or addresses.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t dedupe_sorted(float *c, size_t k) {
  size_t j = 0;
  for (size_t i = 0; i < k; i++) {
    float x = c[i] == 0.0f ? 0.0f : c[i];
    if (j == 0 || x != c[j - 1]) c[j++] = x;
  }
  return j;
}

clusterrt_status clusterrt_cluster_f32(const float *w, size_t n,
                                       const clusterrt_cluster_options *opts,
                                       float *c, size_t *k_out,
                                       clusterrt_index_format f, void *idx) {
  if (!opts || !c || !k_out || (n > 0 && !w)) return CLUSTERRT_ERR_NULL;
  size_t k = opts->k;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if ((unsigned)opts->init > CLUSTERRT_INIT_KMEANS1D) return CLUSTERRT_ERR_ARG;
  if (idx && clusterrt_format_bits(f) == 0) return CLUSTERRT_ERR_FORMAT;
  *k_out = 0;
  if (n == 0) return CLUSTERRT_OK;
  if (rt_check_finite(w, n)) return CLUSTERRT_ERR_NAN;
  unsigned max_iter = opts->max_iter ? opts->max_iter : 300;

  /* The values to cluster: all of w, or its non-zeros under sparsity. */
  const float *src = w;
  size_t ns = n, zeros = 0;
  float *nz = NULL;
  if (opts->preserve_sparsity) {
    for (size_t i = 0; i < n; i++) zeros += w[i] == 0.0f;
    if (zeros > 0) {
      ns = n - zeros;
      if (ns > 0) {
        nz = malloc(ns * sizeof *nz);
        if (!nz) return CLUSTERRT_ERR_NOMEM;
        size_t j = 0;
        for (size_t i = 0; i < n; i++)
          if (w[i] != 0.0f) nz[j++] = w[i];
      }
      src = nz;
    }
  }
  size_t budget = zeros ? k - 1 : k, kc = 0;
  clusterrt_status s = CLUSTERRT_OK;
  if (ns > 0 && budget > 0) {
    rt_distinct d;
    s = rt_distinct_init(&d, src, ns, 1);
    if (!s) {
      if (budget >= d.m) {
        kc = d.m;
        memcpy(c, d.v, kc * sizeof *c);
      } else {
        kc = budget;
        s = rt_init_distinct(&d, ns, kc, opts->init, opts->seed, c);
        if (!s && opts->init != CLUSTERRT_INIT_KMEANS1D && !opts->init_only)
          s = rt_lloyd_distinct(&d, c, kc, max_iter, NULL);
      }
      rt_distinct_free(&d);
    }
  }
  free(nz);
  if (s) return s;
  if (kc > 0) {
    rt_sort_small(c, kc);
    kc = dedupe_sorted(c, kc);
  }
  if (zeros) { /* insert the exact zero (it may already be there) */
    size_t pos = 0;
    while (pos < kc && c[pos] < 0.0f) pos++;
    if (pos == kc || c[pos] != 0.0f) {
      memmove(c + pos + 1, c + pos, (kc - pos) * sizeof *c);
      c[pos] = 0.0f;
      kc++;
    }
  }
  if (kc > 0) { /* the sign of a zero centroid: see 3. above */
    size_t negz = 0, posz = 0;
    for (size_t i = 0; i < n; i++)
      if (w[i] == 0.0f) {
        negz += signbit(w[i]) != 0;
        posz += signbit(w[i]) == 0;
      }
    for (size_t i = 0; i < kc; i++)
      if (c[i] == 0.0f) {
        if (negz && !posz) {
          c[i] = -0.0f;
        } else if (negz && kc < k) {
          memmove(c + i + 1, c + i, (kc - i) * sizeof *c);
          c[i] = -0.0f;
          kc++;
        }
        break;
      }
  }
  *k_out = kc;
  if (idx) return clusterrt_assign_f32(w, n, c, kc, f, idx);
  return CLUSTERRT_OK;
}
