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
 * Two things cut the constant:
 *  - the last boundary only moves right as clusters are added,
 *    arg_{q-1}(e) <= arg_q(e), so each row's scan starts no earlier than
 *    the previous layer's argmin (about 20% fewer evaluations);
 *  - a row's scan runs over contiguous s, so it is a dispatched kernel
 *    (rt_rowmin_fn: AVX2 and AVX-512 versions evaluate 4 and 8 candidates
 *    per step). Every version does the same double operations per
 *    candidate (no contraction) and returns the first minimum, so the
 *    result does not depend on the ISA.
 *
 * Linear memory. Backtracking would need every layer's argmin row (k m
 * entries: 1 GiB at m = 1M, k = 256), so we use Hirschberg's split
 * instead: with a = k/2 and b = k - a, compute F_a over prefixes and, on
 * the reversed values, B_b over suffixes, both keeping only two rows;
 * the best boundary e minimises F_a(e) + B_b(m - e); recurse on
 * [0, e) with a clusters and [e, m) with b. Each level of the recursion
 * costs about k m lookups in total, over log k levels halving k, so the
 * whole run is about twice the cost of the forward pass alone, in O(m)
 * memory: prefix sums of the values and of the reversed values, two rows
 * of doubles per direction, two argmin rows. Ties pick the smallest
 * boundary, so the result is deterministic.
 *
 * Precision: prefix sums are of values centred on the mean, in double
 * (rt_distinct; the reversed sums are accumulated from the other end the
 * same way); cost is clamped at 0.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The prefix sums of one direction (forward, or of the reversed values). */
typedef struct prefix {
  const double *N, *S1, *S2;
} prefix;

typedef struct dp {
  rt_rowmin_args a;   /* prefix arrays, offset, previous layer */
  rt_rowmin_fn rowmin;
  rt_rows_fn rows;
  double *out;        /* this layer's values */
  uint32_t *arg;      /* this layer's row minima, indexed by local row */
  const uint32_t *parg; /* the previous layer's, or NULL */
  double *lb;         /* scratch: one lower bound per column block */
  double tol;         /* rounding slack of the block bounds */
} dp;

static inline double cost(const rt_rowmin_args *a, size_t s, size_t e) {
  size_t i = a->off + s, j = a->off + e;
  double n = a->N[j] - a->N[i];
  double s1 = a->S1[j] - a->S1[i], s2 = a->S2[j] - a->S2[i];
  double r = s2 - s1 * s1 / n;
  return r > 0 ? r : 0;
}

size_t clusterrt_rowmin__generic(const rt_rowmin_args *a, size_t e,
                                 size_t s0, size_t s1, double *best) {
  size_t arg = s0;
  double b = INFINITY;
  for (size_t s = s0; s <= s1; s++) {
    double v = a->prev[s] + cost(a, s, e);
    if (v < b) {
      b = v;
      arg = s;
    }
  }
  *best = b;
  return arg;
}

void clusterrt_rows__generic(const rt_rowmin_args *a, size_t count,
                             const uint32_t *e, const uint32_t *s0,
                             const uint32_t *s1, double *best, uint32_t *arg) {
  for (size_t i = 0; i < count; i++)
    arg[i] = (uint32_t)clusterrt_rowmin__generic(a, e[i], s0[i], s1[i],
                                                 &best[i]);
}

/* Long scans by blocks of RT_COLS columns with a bound. F_{q-1}(s) (prev)
 * never decreases as s grows (one more value costs no less), and cost(s,
 * e) never increases (a sub-range has no more squared error), so on a
 * block [sa, sb] every value is at least prev[sa] + cost(sb, e), and
 * prev[sb] + cost(sb, e) is one of the values. A first pass computes both
 * for every block (one evaluation per block); the second scans only the
 * blocks whose bound is within tol of the smallest of those values: the
 * others cannot hold the minimum. tol covers rounding, which can break the
 * two monotonicities by far less (prefix sums are accurate to about
 * m * 2^-53 of the total squared error T; tol = 2^-24 T), so the answer
 * is the plain scan's first minimum. Most of a long range is far from its
 * minimum and is skipped, which turns the top levels of the divide and
 * conquer from memory-bound sweeps into a few block scans. */
#define RT_COLS 64
#define RT_PRUNE_MIN 1024
static size_t rowmin_blocks(const dp *p, size_t e, size_t s0, size_t s1,
                            double *best) {
  const rt_rowmin_args *a = &p->a;
  size_t nb = (s1 - s0) / RT_COLS + 1;
  double ub = INFINITY;
  for (size_t b = 0; b < nb; b++) {
    size_t sa = s0 + b * RT_COLS, sb = sa + RT_COLS - 1 < s1 ? sa + RT_COLS - 1 : s1;
    double c = cost(a, sb, e), v = a->prev[sb] + c;
    p->lb[b] = a->prev[sa] + c;
    ub = v < ub ? v : ub;
  }
  double lim = ub + p->tol, bv = INFINITY;
  size_t arg = s0;
  for (size_t b = 0; b < nb; b++) {
    if (!(p->lb[b] <= lim)) continue;
    size_t sa = s0 + b * RT_COLS, sb = sa + RT_COLS - 1 < s1 ? sa + RT_COLS - 1 : s1;
    double v;
    size_t at = p->rowmin(a, e, sa, sb, &v);
    if (v < bv) {
      bv = v;
      arg = at;
    }
  }
  *best = bv;
  return arg;
}

/* Solves row e with its column range [slo, shi] (clipped to s < e and
 * to the previous layer's argmin); returns the argmin. */
static inline size_t row(const dp *p, size_t e, size_t slo, size_t shi) {
  size_t hi = shi < e - 1 ? shi : e - 1, from = slo;
  if (p->parg && p->parg[e] > from) from = p->parg[e];
  if (from > hi) from = hi;
  size_t arg = hi - from >= RT_PRUNE_MIN
                   ? rowmin_blocks(p, e, from, hi, &p->out[e])
                   : p->rowmin(&p->a, e, from, hi, &p->out[e]);
  p->arg[e] = (uint32_t)arg;
  return arg;
}

/* Up to RT_BLOCK_ROWS rows, level by level rather than depth first: row
 * r (1..R, e = elo - 1 + r) is solved at the level of its lowest set bit,
 * between the already solved rows r - stride and r + stride. The rows of
 * one level do not depend on each other: they go to the rows kernel as
 * one batch, whose scans overlap in the pipeline instead of each waiting
 * for the previous argmin; the block's columns stay in cache. Same ranges
 * as the recursion would give. */
#define RT_BLOCK_ROWS 256
static void block(const dp *p, size_t elo, size_t ehi, size_t slo,
                  size_t shi) {
  size_t R = ehi - elo + 1, P = 1;
  while (P <= R) P *= 2;
  uint32_t A[RT_BLOCK_ROWS + 1];
  uint32_t be[RT_BLOCK_ROWS], b0[RT_BLOCK_ROWS], b1[RT_BLOCK_ROWS],
      barg[RT_BLOCK_ROWS];
  double bbest[RT_BLOCK_ROWS];
  A[0] = (uint32_t)slo;
  for (size_t stride = P / 2; stride >= 1; stride /= 2) {
    size_t cnt = 0;
    for (size_t r = stride; r <= R; r += 2 * stride) {
      size_t e = elo - 1 + r;
      size_t right = r + stride <= R ? A[r + stride] : shi;
      size_t hi = right < e - 1 ? right : e - 1, from = A[r - stride];
      if (p->parg && p->parg[e] > from) from = p->parg[e];
      if (from > hi) from = hi;
      be[cnt] = (uint32_t)e;
      b0[cnt] = (uint32_t)from;
      b1[cnt] = (uint32_t)hi;
      cnt++;
    }
    p->rows(&p->a, cnt, be, b0, b1, bbest, barg);
    for (size_t i = 0, r = stride; i < cnt; i++, r += 2 * stride) {
      A[r] = barg[i];
      p->arg[be[i]] = barg[i];
      p->out[be[i]] = bbest[i];
    }
  }
}

/* Row minima of rows [elo, ehi] with columns in [slo, shi] by divide and
 * conquer: the argmin of the middle row splits the column range. */
static void dac(const dp *p, size_t elo, size_t ehi, size_t slo, size_t shi) {
  while (elo <= ehi) {
    if (ehi - elo < RT_BLOCK_ROWS) {
      block(p, elo, ehi, slo, shi);
      return;
    }
    size_t e = elo + (ehi - elo) / 2;
    size_t arg = row(p, e, slo, shi);
    if (e > elo) dac(p, elo, e - 1, slo, arg);
    elo = e + 1;
    slo = arg;
  }
}

/* The argmins of a layer as a bit string: for rows e = l..L in order,
 * (arg[e] - arg[e-1]) zeros then a one (arg[l-1] := l-1). Arguments are
 * non-decreasing and below L, so a layer takes at most 2L bits; arg[e] =
 * l - 1 + (zeros before the (e-l+1)-th one). */
static size_t trail_words(size_t L) { return (2 * L + 2) / 64 + 1; }

static void trail_put(uint64_t *t, size_t L, size_t l, const uint32_t *arg) {
  memset(t, 0, trail_words(L) * sizeof *t);
  size_t pos = 0, prev = l - 1;
  for (size_t e = l; e <= L; e++) {
    pos += arg[e] - prev; /* zeros */
    prev = arg[e];
    t[pos / 64] |= (uint64_t)1 << (pos % 64);
    pos++;
  }
}

static size_t trail_get(const uint64_t *t, size_t l, size_t e) {
  size_t want = e - l + 1, seen = 0, wi = 0; /* the want-th one */
  for (;; wi++) {
    size_t c = (size_t)__builtin_popcountll(t[wi]);
    if (seen + c >= want) break;
    seen += c;
  }
  uint64_t x = t[wi];
  for (size_t i = seen + 1; i < want; i++) x &= x - 1; /* drop lower ones */
  size_t pos = wi * 64 + (size_t)__builtin_ctzll(x);
  return l - 1 + (pos - (want - 1));
}

/* out[e] = optimal cost of the first e local values in q clusters, for
 * e in [0, L]; +Inf where e < q. Uses rows a, b (L + 1 doubles each) and
 * the argmin rows g0, g1 (L + 1 entries each). If trail is not NULL, layer
 * l's argmins go to trail + (l - 2) * trail_words(L). Returns a or b. */
static double *layers(dp *p, size_t L, size_t q, double *a, double *b,
                      uint32_t *g0, uint32_t *g1, uint64_t *trail) {
  double *cur = a, *nxt = b;
  cur[0] = INFINITY;
  for (size_t e = 1; e <= L; e++) cur[e] = cost(&p->a, 0, e);
  p->parg = NULL;
  for (size_t l = 2; l <= q; l++) {
    /* rows e in [l, L], columns s in [l-1, L-1] */
    p->a.prev = cur;
    p->out = nxt;
    p->arg = g0;
    for (size_t e = 0; e < l; e++) nxt[e] = INFINITY;
    dac(p, l, L, l - 1, L - 1);
    if (trail) trail_put(trail + (l - 2) * trail_words(L), L, l, g0);
    double *t = cur;
    cur = nxt;
    nxt = t;
    p->parg = g0; /* this layer's argmins bound the next one's */
    uint32_t *tg = g0;
    g0 = g1;
    g1 = tg;
  }
  return cur;
}

/* Up to RT_TRAIL_K clusters are solved in one forward pass that keeps
 * every layer's argmins as a trail (2 bits per value and layer: at most
 * 64 bytes per value, the same order as the rest of the working set);
 * more clusters are first split by Hirschberg's method. */
#define RT_TRAIL_K 256

typedef struct ws {
  prefix fwd, rev;   /* rev: prefix sums of v[m-1], v[m-2], ... */
  double *r[4];
  uint32_t *g[2];
  uint64_t *trail;   /* (RT_TRAIL_K - 1) layers of trail_words(m) */
  double *lb;        /* m / RT_COLS + 1 block bounds */
  double tol;
  size_t m;
  rt_rowmin_fn rowmin;
  rt_rows_fn rows;
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
  /* forward: local [s, e) = global [lo+s, lo+e); reversed: local [s, e)
   * = reversed-global [m-hi+s, m-hi+e) = global [hi-e, hi-s) */
  dp pf = {{w->fwd.N, w->fwd.S1, w->fwd.S2, NULL, lo}, w->rowmin, w->rows,
           NULL, NULL, NULL, w->lb, w->tol};
  if (k <= RT_TRAIL_K) {
    layers(&pf, L, k, w->r[0], w->r[1], w->g[0], w->g[1], w->trail);
    size_t e = L; /* walk the trail back from the full range */
    for (size_t q = k; q >= 2; q--) {
      size_t s = trail_get(w->trail + (q - 2) * trail_words(L), q, e);
      c[q - 1] = (float)rt_range_mean(d, lo + s, lo + e);
      e = s;
    }
    c[0] = (float)rt_range_mean(d, lo, lo + e);
    return;
  }
  size_t a = k / 2, b = k - a;
  dp pb = {{w->rev.N, w->rev.S1, w->rev.S2, NULL, w->m - hi}, w->rowmin,
           w->rows, NULL, NULL, NULL, w->lb, w->tol};
  double *F = layers(&pf, L, a, w->r[0], w->r[1], w->g[0], w->g[1], NULL);
  double *B = layers(&pb, L, b, w->r[2], w->r[3], w->g[0], w->g[1], NULL);
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
  int split = k > RT_TRAIL_K; /* Hirschberg first: needs the reversed sums */
  size_t nrows = (split ? 7 : 2) * (m + 1) + m / RT_COLS + 1;
  size_t tk = (k < RT_TRAIL_K ? k : RT_TRAIL_K) - 1;
  double *rows = malloc(nrows * sizeof *rows);
  uint32_t *u32 = malloc(2 * (m + 1) * sizeof *u32);
  uint64_t *trail = tk ? malloc(tk * trail_words(m) * sizeof *trail) : NULL;
  if (!rows || !u32 || (tk && !trail)) {
    free(rows);
    free(u32);
    free(trail);
    return CLUSTERRT_ERR_NOMEM;
  }
  w.r[0] = rows;
  w.r[1] = rows + (m + 1);
  w.lb = rows + (split ? 7 : 2) * (m + 1);
  w.fwd = (prefix){d->N, d->S1, d->S2};
  if (split) {
    w.r[2] = rows + 2 * (m + 1);
    w.r[3] = rows + 3 * (m + 1);
    double *RN = rows + 4 * (m + 1), *RS1 = RN + (m + 1), *RS2 = RS1 + (m + 1);
    /* Reversed prefix sums, accumulated like rt_distinct's. */
    RN[0] = RS1[0] = RS2[0] = 0;
    for (size_t t = 0; t < m; t++) {
      size_t j = m - 1 - t;
      double cnt = d->N[j + 1] - d->N[j], x = (double)d->v[j] - d->mean;
      RN[t + 1] = RN[t] + cnt;
      RS1[t + 1] = RS1[t] + cnt * x;
      RS2[t + 1] = RS2[t] + cnt * x * x;
    }
    w.rev = (prefix){RN, RS1, RS2};
  }
  w.trail = trail;
  w.tol = rt_range_sse(d, 0, m) * 0x1p-24;
  w.g[0] = u32;
  w.g[1] = u32 + (m + 1);
  w.m = m;
  w.rowmin = rt_get_kernels()->rowmin;
  w.rows = rt_get_kernels()->rows;
  solve(d, 0, m, k, c, &w);
  free(rows);
  free(u32);
  free(trail);
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
