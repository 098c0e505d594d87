/*
 * Exact optimal 1-D k-means (minimum total squared error).
 *
 * Clusters of an optimal 1-D clustering are contiguous ranges of the
 * sorted distinct values v[0..m) (weighted by multiplicity). With
 *   cost(s, e) = SSE of values [s, e)      (O(1) from prefix sums)
 *   F_q(e) = min over s of F_{q-1}(s) + cost(s, e)
 * the optimum is F_k(m). cost is Monge, so for each layer the row minima
 * of A[e][s] = F_{q-1}(s) + cost(s, e) (s < e) have non-decreasing
 * argmins, and divide and conquer (solve the middle row, split the column
 * range at its argmin) finds them all in O(m log m): O(k m log m) in all.
 * (SMAWK is O(m) per layer, but an implementation of it measured 2x slower
 * here: its branchy stack work costs more than the log factor saves.)
 *
 * Linear memory. Backtracking would need every layer's argmin row (k m
 * entries: 1 GiB at m = 1M, k = 256), so we use Hirschberg's split
 * instead: with a = k/2 and b = k - a, compute F_a over prefixes and, on
 * the reversed values, B_b over suffixes, both keeping only two rows;
 * the best boundary e minimises F_a(e) + B_b(m - e); recurse on
 * [0, e) with a clusters and [e, m) with b. Each level of the recursion
 * costs about k m lookups in total, over log k levels halving k, so the
 * whole run is about twice the cost of the forward pass alone, in O(m)
 * memory (two rows of doubles per direction, one argmin row, the prefix
 * sums of rt_distinct). Ties pick the smallest boundary, so the
 * result is deterministic.
 *
 * Precision: prefix sums are of values centred on the mean, in double
 * (rt_distinct); cost is clamped at 0.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct dp {
  const rt_distinct *d;
  size_t lo, hi; /* the global range being solved */
  int rev;       /* 0: local [s, e) = global [lo+s, lo+e); 1: mirrored */
  const double *prev; /* the previous layer */
  uint32_t *arg;      /* row minima, indexed by local row */
} dp;

static inline double cost(const dp *p, size_t s, size_t e) {
  size_t a = p->rev ? p->hi - e : p->lo + s;
  size_t b = p->rev ? p->hi - s : p->lo + e;
  const rt_distinct *d = p->d;
  double n = d->N[b] - d->N[a];
  double s1 = d->S1[b] - d->S1[a], s2 = d->S2[b] - d->S2[a];
  double r = s2 - s1 * s1 / n;
  return r > 0 ? r : 0;
}

static inline double lookup(const dp *p, uint32_t e, uint32_t s) {
  return s < e ? p->prev[s] + cost(p, s, e) : INFINITY;
}

/* Row minima of rows [elo, ehi] with columns in [slo, shi] by divide and
 * conquer: the argmin of the middle row splits the column range. */
static void dac(const dp *p, size_t elo, size_t ehi, size_t slo, size_t shi) {
  while (elo <= ehi) {
    size_t e = elo + (ehi - elo) / 2;
    size_t hi = shi < e - 1 ? shi : e - 1, arg = slo;
    double best = INFINITY;
    for (size_t s = slo; s <= hi; s++) {
      double v = p->prev[s] + cost(p, s, e);
      if (v < best) {
        best = v;
        arg = s;
      }
    }
    p->arg[e] = (uint32_t)arg;
    if (e > elo) dac(p, elo, e - 1, slo, arg);
    elo = e + 1;
    slo = arg;
  }
}

/* out[e] = optimal cost of the first e local values in q clusters, for
 * e in [0, L]; +Inf where e < q. Uses rows a, b (L + 1 doubles each) and
 * p->arg (L + 1 entries). Returns a or b. */
static double *layers(dp *p, size_t L, size_t q, double *a, double *b) {
  double *cur = a, *nxt = b;
  for (size_t e = 0; e <= L; e++) cur[e] = e >= 1 ? cost(p, 0, e) : INFINITY;
  for (size_t l = 2; l <= q; l++) {
    /* rows e in [l, L], columns s in [l-1, L-1] */
    p->prev = cur;
    dac(p, l, L, l - 1, L - 1);
    for (size_t e = 0; e < l; e++) nxt[e] = INFINITY;
    for (size_t e = l; e <= L; e++)
      nxt[e] = lookup(p, (uint32_t)e, p->arg[e]);
    double *t = cur;
    cur = nxt;
    nxt = t;
  }
  return cur;
}

typedef struct ws {
  double *r[4];
  uint32_t *arg;
} ws;

static void solve(const rt_distinct *d, size_t lo, size_t hi, size_t k,
                  float *c, ws *w) {
  size_t L = hi - lo;
  if (k == 1) {
    c[0] = (float)rt_range_mean(d, lo, hi);
    return;
  }
  if (k == L) {
    for (size_t i = 0; i < L; i++) c[i] = d->v[lo + i];
    return;
  }
  size_t a = k / 2, b = k - a;
  dp pf = {d, lo, hi, 0, NULL, w->arg};
  dp pb = {d, lo, hi, 1, NULL, w->arg};
  double *F = layers(&pf, L, a, w->r[0], w->r[1]);
  double *B = layers(&pb, L, b, w->r[2], w->r[3]);
  size_t best_e = a;
  double best = INFINITY;
  for (size_t e = a; e + b <= L; e++) {
    double v = F[e] + B[L - e];
    if (v < best) {
      best = v;
      best_e = e;
    }
  }
  solve(d, lo, lo + best_e, a, c, w);
  solve(d, lo + best_e, hi, b, c + a, w);
}

clusterrt_status rt_kmeans1d_distinct(const rt_distinct *d, size_t k,
                                      float *c) {
  size_t m = d->m;
  rt_assert(k >= 1 && k <= m);
  if (m > UINT32_MAX - 8) return CLUSTERRT_ERR_ARG;
  ws w;
  double *rows = malloc(4 * (m + 1) * sizeof *rows);
  uint32_t *u32 = malloc((m + 1) * sizeof *u32);
  if (!rows || !u32) {
    free(rows);
    free(u32);
    return CLUSTERRT_ERR_NOMEM;
  }
  for (int i = 0; i < 4; i++) w.r[i] = rows + i * (m + 1);
  w.arg = u32;
  solve(d, 0, m, k, c, &w);
  free(rows);
  free(u32);
  /* Means of ordered disjoint ranges are ascending; rounding to float
   * keeps them sorted (not necessarily distinct). */
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_kmeans1d_f32(const float *w, size_t n, size_t k,
                                        float *c) {
  if (!w || !c) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (n == 0) return CLUSTERRT_ERR_ARG;
  if (rt_check_finite(w, n)) return CLUSTERRT_ERR_NAN;
  rt_distinct d;
  clusterrt_status s = rt_distinct_init(&d, w, n, 1);
  if (s) return s;
  s = rt_init_distinct(&d, n, k, CLUSTERRT_INIT_KMEANS1D, 0, c);
  rt_distinct_free(&d);
  return s;
}
