/*
 * Centroid initialisation: tfmot's four methods plus exact 1-D k-means.
 *
 *  linear   c[i] = min + (max - min) * i / (k - 1)   (k = 1: min)
 *  random   k uniform draws in [min, max] (xoshiro256**, seeded), sorted
 *  density  c[i] = the weight of rank floor((i + 1/2) * n / k) in sorted
 *           order: evenly spaced in the empirical CDF
 *  kmeans++ D^2 sampling (Arthur & Vassilvitskii), the plain one-candidate
 *           variant: first centre uniform over the n weights, each next
 *           one with probability proportional to the squared distance to
 *           the nearest chosen centre. Exact, not subsampled, and
 *           O(n + k log m) after sorting, using the 1-D structure:
 *           the chosen centres split the sorted distinct values into
 *           regions; a region's D^2 mass is O(1) from prefix sums; region
 *           masses live in a Fenwick tree keyed by the region's left
 *           centre, and a second Fenwick tree of 0/1 flags finds a
 *           position's neighbouring centres.
 *  kmeans1d the optimum (kmeans1d.c).
 *
 * All work on rt_distinct, so -0 and +0 count as one value. When k exceeds
 * the distinct values, kmeans++ and kmeans1d repeat centroids.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Fenwick trees (1-based inside, 0-based API) ------------------------ */

typedef struct fenwick {
  size_t n, top; /* top = highest power of two <= n */
  double *t;
  int32_t *f;
} fenwick;

static void fw_add(fenwick *fw, size_t i, double dv, int32_t df) {
  for (i++; i <= fw->n; i += i & (0 - i)) {
    fw->t[i] += dv;
    fw->f[i] += df;
  }
}

/* Sum of t over [0, i). */
static double fw_sum(const fenwick *fw, size_t i, int32_t *flags) {
  double s = 0;
  int32_t c = 0;
  for (; i > 0; i -= i & (0 - i)) {
    s += fw->t[i];
    c += fw->f[i];
  }
  if (flags) *flags = c;
  return s;
}

/* Smallest i with sum(t[0..i]) > r, clamped to n-1. */
static size_t fw_find_mass(const fenwick *fw, double r) {
  size_t pos = 0;
  for (size_t step = fw->top; step; step >>= 1) {
    if (pos + step <= fw->n && fw->t[pos + step] <= r) {
      pos += step;
      r -= fw->t[pos];
    }
  }
  return pos < fw->n ? pos : fw->n - 1;
}

/* Position of the flag with rank q (0-based). */
static size_t fw_find_flag(const fenwick *fw, int32_t q) {
  size_t pos = 0;
  for (size_t step = fw->top; step; step >>= 1) {
    if (pos + step <= fw->n && fw->f[pos + step] <= q) {
      pos += step;
      q -= fw->f[pos];
    }
  }
  return pos;
}

/* sum cnt * (v - x)^2 over distinct values [a, b). */
static double mass_to(const rt_distinct *d, size_t a, size_t b, double x) {
  if (b <= a) return 0;
  double y = x - d->mean;
  double r = (d->S2[b] - d->S2[a]) - 2 * y * (d->S1[b] - d->S1[a]) +
             y * y * (d->N[b] - d->N[a]);
  return r > 0 ? r : 0;
}

/* First index in [a, b) with v >= x (or b). */
static size_t lower_bound_d(const float *v, size_t a, size_t b, double x) {
  while (a < b) {
    size_t h = a + (b - a) / 2;
    if ((double)v[h] < x)
      a = h + 1;
    else
      b = h;
  }
  return a;
}

/* Region [a, b) lies between centres at positions L (or none: L == SIZE_MAX)
 * and R (or none: R == m). Mass up to split point t in [a, b]. */
typedef struct region {
  size_t a, b, s; /* points [a, s) go to the left centre, [s, b) right */
  double xl, xr;
} region;

static region make_region(const rt_distinct *d, size_t L, size_t R) {
  region g;
  g.a = L == SIZE_MAX ? 0 : L + 1;
  g.b = R;
  g.xl = L == SIZE_MAX ? 0 : d->v[L];
  g.xr = R == d->m ? 0 : d->v[R];
  if (L == SIZE_MAX)
    g.s = g.a;
  else if (R == d->m)
    g.s = g.b;
  else
    g.s = lower_bound_d(d->v, g.a, g.b, (g.xl + g.xr) * 0.5);
  return g;
}

static double region_mass_upto(const rt_distinct *d, const region *g,
                               size_t t) {
  if (t <= g->s) return mass_to(d, g->a, t, g->xl);
  return mass_to(d, g->a, g->s, g->xl) + mass_to(d, g->s, t, g->xr);
}

static clusterrt_status init_kmeanspp(const rt_distinct *d, size_t n, size_t k,
                                      uint64_t seed, float *c) {
  size_t m = d->m, slots = m + 1; /* slot m: the region left of all centres */
  fenwick fw;
  fw.n = slots;
  fw.top = 1;
  while (fw.top * 2 <= slots) fw.top *= 2;
  fw.t = calloc(slots + 1, sizeof *fw.t);
  fw.f = calloc(slots + 1, sizeof *fw.f);
  double *val = calloc(slots, sizeof *val);
  if (!fw.t || !fw.f || !val) {
    free(fw.t);
    free(fw.f);
    free(val);
    return CLUSTERRT_ERR_NOMEM;
  }
  rt_rng rng;
  rt_rng_seed(&rng, seed);
  /* First centre: uniform over the n weights = by multiplicity. */
  double r = rt_rng_unit(&rng) * (double)n;
  size_t lo = 0, hi = m - 1;
  while (lo < hi) { /* first j with N[j+1] > r */
    size_t h = lo + (hi - lo) / 2;
    if (d->N[h + 1] > r)
      hi = h;
    else
      lo = h + 1;
  }
  size_t chosen = 0, pos = lo;
  for (;;) {
    /* Insert the centre at pos: find its neighbours among chosen ones. */
    int32_t below;
    fw_sum(&fw, pos, &below);
    size_t L = below > 0 ? fw_find_flag(&fw, below - 1) : SIZE_MAX;
    size_t R = (size_t)below < chosen ? fw_find_flag(&fw, below) : m;
    fw_add(&fw, pos, 0, 1);
    c[chosen++] = d->v[pos];
    size_t lslot = L == SIZE_MAX ? m : L;
    region gl = make_region(d, L, pos), gr = make_region(d, pos, R);
    double ml = region_mass_upto(d, &gl, gl.b);
    double mr = region_mass_upto(d, &gr, gr.b);
    fw_add(&fw, lslot, ml - val[lslot], 0);
    val[lslot] = ml;
    fw_add(&fw, pos, mr - val[pos], 0);
    val[pos] = mr;
    if (chosen == k) break;
    double total = fw_sum(&fw, slots, NULL);
    if (!(total > 0)) break; /* every distinct value is a centre */
    r = rt_rng_unit(&rng) * total;
    size_t slot = fw_find_mass(&fw, r);
    double before = fw_sum(&fw, slot, NULL);
    double rr = r - before;
    /* Region owned by slot: left centre = slot (or none for slot m). */
    size_t Ls = slot == m ? SIZE_MAX : slot;
    int32_t rank;
    fw_sum(&fw, slot == m ? 0 : slot + 1, &rank);
    size_t Rs = (size_t)rank < chosen ? fw_find_flag(&fw, rank) : m;
    region g = make_region(d, Ls, Rs);
    if (g.b <= g.a) { /* drifted onto an empty region: take any point */
      for (size_t q = 0; q < m; q++) {
        int32_t a0, a1;
        fw_sum(&fw, q, &a0);
        fw_sum(&fw, q + 1, &a1);
        if (a1 == a0) {
          pos = q;
          break;
        }
      }
      continue;
    }
    /* Smallest t in (a, b] with mass(a, t) > rr; the point is t - 1. */
    size_t a = g.a + 1, b = g.b;
    while (a < b) {
      size_t h = a + (b - a) / 2;
      if (region_mass_upto(d, &g, h) > rr)
        b = h;
      else
        a = h + 1;
    }
    pos = a - 1;
  }
  /* Fewer distinct values than k: repeat the chosen centres. */
  for (size_t i = chosen; i < k; i++) c[i] = c[i % chosen];
  free(fw.t);
  free(fw.f);
  free(val);
  return rt_sort_small(c, k);
}

clusterrt_status rt_init_distinct(const rt_distinct *d, size_t n, size_t k,
                                  clusterrt_init method, uint64_t seed,
                                  float *c) {
  float mn = d->v[0], mx = d->v[d->m - 1];
  switch (method) {
  case CLUSTERRT_INIT_LINEAR:
    for (size_t i = 0; i < k; i++) {
      /* mx - mn is inexact when the two differ by more than 2^29 in
       * magnitude (e.g. -1e-13 and a denormal), and mn + (mx - mn) then
       * lands past mx: clamp (found by fuzz/fuzz-cluster.c). */
      float f = k == 1 ? mn
                       : (float)((double)mn + ((double)mx - (double)mn) *
                                                  (double)i / (double)(k - 1));
      c[i] = f > mx ? mx : f < mn ? mn : f;
    }
    return rt_sort_small(c, k); /* rounding can't unsort, but be safe */
  case CLUSTERRT_INIT_RANDOM: {
    rt_rng rng;
    rt_rng_seed(&rng, seed);
    for (size_t i = 0; i < k; i++) {
      double x = (double)mn + ((double)mx - (double)mn) * rt_rng_unit(&rng);
      float f = (float)x;
      c[i] = f > mx ? mx : f;
    }
    return rt_sort_small(c, k);
  }
  case CLUSTERRT_INIT_DENSITY: {
    size_t j = 0;
    for (size_t i = 0; i < k; i++) {
      double rank = ((double)i + 0.5) * (double)n / (double)k;
      while (j + 1 < d->m && d->N[j + 1] <= rank) j++;
      c[i] = d->v[j];
    }
    return CLUSTERRT_OK;
  }
  case CLUSTERRT_INIT_KMEANSPP:
    return init_kmeanspp(d, n, k, seed, c);
  case CLUSTERRT_INIT_KMEANS1D: {
    size_t kk = k < d->m ? k : d->m;
    clusterrt_status s = rt_kmeans1d_distinct(d, kk, c);
    if (s) return s;
    for (size_t i = kk; i < k; i++) c[i] = c[i % kk];
    return rt_sort_small(c, k);
  }
  }
  return CLUSTERRT_ERR_ARG;
}

clusterrt_status clusterrt_init_f32(const float *w, size_t n, size_t k,
                                    clusterrt_init method, uint64_t seed,
                                    float *c) {
  if (!w || !c) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if ((unsigned)method > CLUSTERRT_INIT_KMEANS1D || n == 0)
    return CLUSTERRT_ERR_ARG;
  if (rt_check_finite(w, n)) return CLUSTERRT_ERR_NAN;
  rt_distinct d;
  clusterrt_status s = rt_distinct_init(&d, w, n, 1);
  if (s) return s;
  s = rt_init_distinct(&d, n, k, method, seed, c);
  rt_distinct_free(&d);
  return s;
}
