/*
 * Lloyd iterations in one dimension.
 *
 * On sorted centroids a_0 < a_1 < ... each cluster is a contiguous range
 * of the sorted distinct values: value x belongs to a_j iff
 * mid_{j-1} < x <= mid_j with mid_j = (a_j + a_{j+1}) / 2 computed exactly
 * in double (ties go to the lower centroid). One iteration is therefore
 * k binary searches plus k O(1) range means from the prefix sums:
 * O(k log m), independent of n, instead of the O(n k) of the textbook
 * loop. Iteration stops when no range boundary moves (no assignment
 * changed) or after max_iter updates.
 *
 * Duplicated centroids: in each iteration only the first copy of a value
 * is active; the others are empty clusters and keep their value, as the
 * assignment "ties go to the lowest index" leaves them. Once its twin has
 * moved, a kept centroid is an ordinary one again, and moving centroids
 * can pass it, so c is re-sorted when an iteration leaves it unsorted.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* #{v[i] <= x}, v sorted, i in [lo, m). */
static size_t upper_bound(const float *v, size_t lo, size_t m, double x) {
  size_t hi = m;
  while (lo < hi) {
    size_t h = lo + (hi - lo) / 2;
    if ((double)v[h] <= x)
      lo = h + 1;
    else
      hi = h;
  }
  return lo;
}

clusterrt_status rt_lloyd_distinct(const rt_distinct *d, float *c, size_t k,
                                   unsigned max_iter, unsigned *iters) {
  unsigned it = 0;
  /* act: active centroids; bound[0..na]: their range starts; prev: the
   * previous iteration's (act, bound) to detect "nothing changed". */
  size_t *act = malloc(4 * (k + 1) * sizeof *act);
  if (!act) return CLUSTERRT_ERR_NOMEM;
  size_t *bound = act + (k + 1), *pact = bound + (k + 1),
         *pbound = pact + (k + 1), na = 0, pna = 0;
  rt_sort_small(c, k);
  for (; it < max_iter; it++) {
    /* Moved centroids can pass an empty one: keep c sorted. */
    for (size_t j = 1; j < k; j++)
      if (c[j] < c[j - 1]) {
        rt_sort_small(c, k);
        break;
      }
    na = 0;
    for (size_t j = 0; j < k; j++)
      if (j == 0 || c[j] != c[j - 1]) act[na++] = j;
    bound[0] = 0;
    for (size_t a = 0; a + 1 < na; a++) {
      double mid = ((double)c[act[a]] + (double)c[act[a + 1]]) * 0.5;
      bound[a + 1] = upper_bound(d->v, bound[a], d->m, mid);
    }
    bound[na] = d->m;
    if (it > 0 && na == pna && memcmp(pact, act, na * sizeof *act) == 0 &&
        memcmp(pbound, bound, (na + 1) * sizeof *bound) == 0)
      break;
    memcpy(pact, act, na * sizeof *act);
    memcpy(pbound, bound, (na + 1) * sizeof *bound);
    pna = na;
    for (size_t a = 0; a < na; a++)
      if (bound[a + 1] > bound[a])
        c[act[a]] = (float)rt_range_mean(d, bound[a], bound[a + 1]);
  }
  free(act);
  rt_sort_small(c, k);
  if (iters) *iters = it;
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_lloyd_f32(const float *w, size_t n, float *c,
                                     size_t k, unsigned max_iter,
                                     unsigned *iters) {
  if (!c || (n > 0 && !w)) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (rt_check_finite(c, k) || rt_check_finite(w, n)) return CLUSTERRT_ERR_NAN;
  if (iters) *iters = 0;
  if (n == 0) return rt_sort_small(c, k);
  rt_distinct d;
  clusterrt_status s = rt_distinct_init(&d, w, n, 1);
  if (s) return s;
  s = rt_lloyd_distinct(&d, c, k, max_iter, iters);
  rt_distinct_free(&d);
  return s;
}
