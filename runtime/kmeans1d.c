/*
 * Exact optimal 1-D k-means (minimum total squared error).
 *
 * Clusters of an optimal 1-D clustering are contiguous ranges of the
 * sorted distinct values v[0..m) (weighted by multiplicity). With
 *   cost(s, e) = SSE of values [s, e)      (O(1) from prefix sums)
 *   F_q(e) = min over s of F_{q-1}(s) + cost(s, e)
 * the optimum is F_K(m). cost is Monge: for a <= b <= c <= d,
 *   cost(a, c) + cost(b, d) <= cost(a, d) + cost(b, c).
 *
 * Method: Lagrangian relaxation (Aggarwal, Schieber and Tokuyama 1994;
 * for 1-D k-means, Gronlund et al. 2017), then at most one banded DP.
 *
 * 1. For a penalty lambda per cluster, the best clustering with any number
 *    of clusters, min SSE + lambda * clusters, is a least-weight
 *    subsequence problem over the m + 1 boundaries, solved in about 10
 *    cost evaluations per value (lws, a queue of candidates). If its
 *    solution P has k clusters, P is an optimal k-clustering: any other
 *    k-clustering Q has SSE(Q) + lambda k >= SSE(P) + lambda k. F_K(m) is
 *    convex in K (Monge), so each K on the lower hull of the points
 *    (k, F_k(m)) is reached by a lambda between its two slopes. lagrange()
 *    searches lambda (log-log interpolation, the hull secant, bisection as
 *    a safeguard): 5 to 8 solves for real weights, O(m) memory.
 * 2. Where F is straight around K (exact ties: symmetric data, grids) no
 *    lambda isolates K, and the search ends with optimal clusterings P
 *    (K1 < K clusters, boundaries p_0 = 0 < ... < p_K1 = m) and R (K2 > K,
 *    r_j). Then some optimal K-clustering Q interlaces with both:
 *      max(r_j, p_{j-(K-K1)}) <= q_j <= min(p_j, r_{j+(K2-K)}).
 *    Uncrossing: with indices aligned (p_j = m for j > K1), the
 *    boundaries min(q_j, p_j) form a K-clustering and max(q_j, p_j) a
 *    K1-clustering; range by range, where the two sequences cross, a
 *    nested pair of ranges becomes an overlapping pair with the same ends,
 *    which costs no more (Monge). So cost(min) + cost(max) <= cost(Q) +
 *    cost(P); P is optimal, so cost(max) >= cost(P) and min(Q, P) is an
 *    optimal K-clustering too. The same with
 *    max and with R, with the indices shifted for the other two bounds;
 *    each step keeps the bounds already met as long as the band is not
 *    empty (checked). band_dp runs the layered DP below on these bands
 *    only (each at most about one cluster wide: about m rows in all).
 * 3. Inputs the search cannot resolve fall back to the layered DP over
 *    every layer (rt_kmeans1d_layered): penalties below the rounding of
 *    the prefix sums (values spanning about 2^60 and more), bands wider
 *    than 16 m in all (long straight parts of F, e.g. a uniform grid of
 *    values with K > m / 2), or no answer in 60 solves.
 *
 * On 1M distinct weights at K = 256 this is ~40 times fewer instructions
 * than the layered DP alone (docs/PERFORMANCE.md).
 *
 * Rounding. Every method evaluates cost by the same double operations, and
 * relies on Monge (the queue's crossing points, the divide and conquer's
 * monotone argmins) and on convexity, which rounding of the prefix sums
 * can break by a few ulps of the total squared error T: both methods are
 * exact up to that (the tests compare them with each other and with brute
 * force). The result is deterministic and independent of the ISA: lws is
 * scalar, and the row scans of the DPs return the same value and first
 * minimum on every ISA.
 *
 * The layered DP. For each layer the row minima of
 * A[e][s] = F_{q-1}(s) + cost(s, e) (s < e) have non-decreasing argmins
 * (Monge), and divide and conquer (solve the middle row, split the column
 * range at its argmin) finds them all in O(m log m): O(K m log m) in all.
 * (SMAWK is O(m) per layer, but an implementation of it measured 2x slower
 * here: its branchy stack work costs more than the log factor saves.)
 * Two things cut the constant:
 *  - the last boundary only moves right as clusters are added,
 *    arg_{q-1}(e) <= arg_q(e), so each row's scan starts no earlier than
 *    the previous layer's argmin (about 20% fewer evaluations);
 *  - a row's scan runs over contiguous s, so it is a dispatched kernel
 *    (rt_rowmin_fn: AVX2 and AVX-512 versions evaluate 4 and 8 candidates
 *    per step). Every version does the same double operations per
 *    candidate (no contraction) and returns the first minimum.
 * Linear memory: up to 256 clusters, one forward pass keeps each layer's
 * argmins as a 2-bit-per-value trail; above, Hirschberg's split: with
 * a = K/2 and b = K - a, compute F_a over prefixes and, on the reversed
 * values, B_b over suffixes, both keeping only two rows; the best boundary
 * e minimises F_a(e) + B_b(m - e); recurse on [0, e) with a clusters and
 * [e, m) with b. Ties pick the smallest boundary.
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
  uint32_t *arg;      /* this layer's row minima: arg[e - aoff] */
  size_t aoff;        /* ... and values out[e - aoff] */
  const uint32_t *parg; /* the previous layer's (by e), or NULL */
  double *lb;         /* scratch: one lower bound per column block, or NULL
                         (no block bounds: prev need not be monotone) */
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
  size_t arg = p->lb && hi - from >= RT_PRUNE_MIN
                   ? rowmin_blocks(p, e, from, hi, &p->out[e - p->aoff])
                   : p->rowmin(&p->a, e, from, hi, &p->out[e - p->aoff]);
  p->arg[e - p->aoff] = (uint32_t)arg;
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
      p->arg[be[i] - p->aoff] = barg[i];
      p->out[be[i] - p->aoff] = bbest[i];
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
           NULL, NULL, 0, NULL, w->lb, w->tol};
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
           w->rows, NULL, NULL, 0, NULL, w->lb, w->tol};
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

clusterrt_status rt_kmeans1d_layered(const rt_distinct *d, size_t k,
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

/* ---- Lagrangian relaxation: one penalised problem per lambda ---- */

/* A candidate last boundary s of the queue below: G(s), its cluster count
 * and the first row it is the best for. */
typedef struct cand {
  double g;
  uint32_t s, cnt, row;
} cand;

typedef struct lag {
  const double *N, *S1, *S2;
  size_t m;
  uint32_t *arg; /* arg[e]: the last boundary of the solution for [0, e) */
  cand *q;       /* the queue, q[head..tail) live */
  size_t cap;
} lag;

static inline double lval(const lag *L, const cand *c, size_t e) {
  size_t s = c->s;
  double n = L->N[e] - L->N[s];
  double s1 = L->S1[e] - L->S1[s], s2 = L->S2[e] - L->S2[s];
  double r = s2 - s1 * s1 / n;
  return c->g + (r > 0 ? r : 0);
}

/* G(e) = min_{s<e} G(s) + cost(s, e) + lambda, G(0) = 0: a least-weight
 * subsequence problem with a Monge weight, solved with a queue of
 * candidates (Galil and Giancarlo; Hirschberg and Larmore). The cost
 * difference between a newer and an older candidate never increases along
 * a row (Monge), so each candidate is the best over one interval of
 * future rows: the queue holds the candidates that still own rows, with
 * the first row of each. A new candidate removes those it beats at the
 * start of their interval, then finds where it overtakes the last one by
 * a galloping search from that start (usually a few rows away). Ties keep
 * the older candidate, i.e. the smallest boundary, as the row scans do.
 * Returns the number of clusters of the solution found, 0 if out of
 * memory; *F its squared error. */
static size_t lws(lag *L, double lambda, double *F) {
  size_t m = L->m, head = 0, tail = 1;
  L->q[0] = (cand){0, 0, 0, 1};
  double g = 0;
  uint32_t cnt = 0;
  for (size_t e = 1; e <= m; e++) {
    while (tail - head >= 2 && L->q[head + 1].row <= e) head++;
    const cand *b = &L->q[head];
    g = lval(L, b, e) + lambda;
    cnt = b->cnt + 1;
    L->arg[e] = b->s;
    if (e == m) break;
    cand ne = {g, (uint32_t)e, cnt, (uint32_t)(e + 1)};
    while (tail > head) {
      const cand *c = &L->q[tail - 1];
      size_t r = c->row > e + 1 ? c->row : e + 1;
      if (lval(L, &ne, r) < lval(L, c, r)) { /* e owns all of c's rows */
        tail--;
        continue;
      }
      size_t lo = r, hi = 0, step = 1; /* e loses at lo */
      while (lo < m) {
        size_t t = m - lo > step ? lo + step : m;
        if (lval(L, &ne, t) < lval(L, c, t)) {
          hi = t;
          break;
        }
        lo = t;
        step *= 2;
      }
      if (!hi) goto next; /* never better than c */
      while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (lval(L, &ne, mid) < lval(L, c, mid))
          hi = mid;
        else
          lo = mid;
      }
      ne.row = (uint32_t)hi;
      break;
    }
    if (tail == L->cap) { /* make room: drop the dead head, or grow */
      if (head >= L->cap / 2) { /* moves at most one entry per push */
        memmove(L->q, L->q + head, (tail - head) * sizeof *L->q);
        tail -= head;
        head = 0;
      } else {
        cand *nq = realloc(L->q, 2 * L->cap * sizeof *nq);
        if (!nq) return 0;
        L->q = nq;
        L->cap *= 2;
      }
    }
    L->q[tail++] = ne;
  next:;
  }
  *F = g - lambda * (double)cnt;
  return cnt;
}

/* The boundaries b[0..k] (b[0] = 0, b[k] = m) of the last lws solution. */
static void lws_bounds(const lag *L, size_t k, uint32_t *b) {
  size_t e = L->m;
  for (size_t j = k; j >= 1; j--) {
    b[j] = (uint32_t)e;
    e = L->arg[e];
  }
  b[0] = 0;
}

/* One side of the bracket: an optimal clustering with k clusters (the
 * penalised optimum at lam), its error F and its boundaries b[0..k] if
 * k <= kmax (else unknown). */
typedef struct side {
  double lam, F;
  size_t k;
  uint32_t *b;
  int known;
} side;

/* The optimum with K clusters whose boundaries q[j] lie in [lo[j], hi[j]]
 * (both strictly increasing): the layered DP on the bands only, each
 * layer by divide and conquer in coordinates local to the previous band
 * (so its values fit in two rows of the widest band); writes q[0..K]. */
static clusterrt_status band_dp(const rt_distinct *d, size_t K,
                                const uint32_t *lo, const uint32_t *hi,
                                size_t total, uint32_t *q) {
  size_t wmax = 0;
  for (size_t j = 1; j <= K; j++)
    wmax = hi[j] - lo[j] + 1 > wmax ? hi[j] - lo[j] + 1 : wmax;
  size_t *off = malloc((K + 1) * sizeof *off);
  uint32_t *barg = malloc(total * sizeof *barg);
  double *rows = malloc(2 * wmax * sizeof *rows), *prev = rows,
         *cur = rows + wmax;
  if (!off || !barg || !rows) {
    free(off), free(barg), free(rows);
    return CLUSTERRT_ERR_NOMEM;
  }
  const rt_kernels *kr = rt_get_kernels();
  dp p = {{d->N, d->S1, d->S2, NULL, 0}, kr->rowmin, kr->rows,
          NULL, NULL, 0, NULL, NULL, 0};
  for (size_t e = lo[1]; e <= hi[1]; e++) /* one cluster: [0, e) */
    prev[e - lo[1]] = cost(&p.a, 0, e);
  size_t o = hi[1] - lo[1] + 1;
  for (size_t j = 2; j <= K; j++) {
    size_t base = lo[j - 1]; /* local index = global - base */
    off[j] = o;
    p.a.off = base;
    p.a.prev = prev;
    p.out = cur;
    p.arg = barg + o;
    p.aoff = lo[j] - base;
    dac(&p, lo[j] - base, hi[j] - base, 0, hi[j - 1] - base);
    o += hi[j] - lo[j] + 1;
    double *t = prev;
    prev = cur;
    cur = t;
  }
  size_t e = d->m;
  for (size_t j = K; j >= 2; j--) {
    q[j] = (uint32_t)e;
    e = lo[j - 1] + barg[off[j] + (e - lo[j])];
  }
  q[1] = (uint32_t)e;
  q[0] = 0;
  free(off), free(barg), free(rows);
  return CLUSTERRT_OK;
}

/* Lagrangian search (see the top of this file). */
#define RT_LAG_ITERS 60
#define RT_LAG_GAP 8
clusterrt_status rt_kmeans1d_lagrange(const rt_distinct *d, size_t K,
                                      float *c, int *banded) {
  rt_assert(K >= 2 && K < d->m && d->m <= UINT32_MAX - 8);
  size_t m = d->m, kmax = 2 * K + 64 < m ? 2 * K + 64 : m;
  lag L = {d->N, d->S1, d->S2, m, NULL, NULL, 0};
  L.cap = m + 1 < 4096 ? m + 1 : 4096;
  L.arg = malloc((m + 1) * sizeof *L.arg);
  L.q = malloc(L.cap * sizeof *L.q);
  uint32_t *mem = malloc((2 * (kmax + 1) + 3 * (K + 1)) * sizeof *mem);
  if (!L.arg || !L.q || !mem) {
    free(L.arg), free(L.q), free(mem);
    return CLUSTERRT_ERR_NOMEM;
  }
  double T = rt_range_sse(d, 0, m);
  /* lo: k >= K (smaller lambda); hi: k <= K. Start from the two trivial
   * optima: every value alone (lambda = 0) and one cluster. */
  side lo = {0, 0, m, mem, 0}, hi = {INFINITY, T, 1, mem + (kmax + 1), 1};
  uint32_t *blo = mem + 2 * (kmax + 1), *bhi = blo + (K + 1), *q = bhi + (K + 1);
  hi.b[0] = 0;
  hi.b[1] = (uint32_t)m;
  clusterrt_status st = CLUSTERRT_ERR_ARG;
  int direct = 0, same = 0, last = 0;
  double Kd = (double)K, pl = 0, up = 1.25; /* pl, pk: the previous solve */
  size_t pk = 0;
  for (int it = 0; it < RT_LAG_ITERS; it++) {
    double lam;
    int secant = 0;
    if (it == 0) { /* F_k ~ T / k^2 for a smooth density */
      lam = 2 * T / (Kd * Kd * Kd);
    } else if (hi.lam == INFINITY || lo.lam == 0) {
      /* One side only: extrapolate lambda ~ k^-a, a = 3 or fitted to the
       * last two solves, by a factor of at least up, which squares at
       * every such step (an exponential search in log lambda). */
      const side *sd = hi.lam == INFINITY ? &lo : &hi;
      double a = 3;
      if (pk && pk != sd->k && pl != sd->lam) {
        a = log(pl / sd->lam) / log((double)sd->k / (double)pk);
        a = a < 1 ? 1 : a > 8 ? 8 : a;
      }
      double f = pow((double)sd->k / Kd, a);
      lam = sd == &lo ? lo.lam * (f > up ? f : up)
                      : hi.lam * (f < 1 / up ? f : 1 / up);
      up = up < 0x1p100 ? up * up : up;
    } else if (lo.k - hi.k <= RT_LAG_GAP || same == 2) {
      /* The slope between the two optima: a k strictly between on the
       * lower convex hull of F_k is strictly better there. If this slope
       * is (to rounding) one side's lambda, both optima are optimal at it:
       * F_k is straight between them and no lambda isolates K. */
      lam = (hi.F - lo.F) / (double)(lo.k - hi.k);
      secant = 1;
      if (!(lam > lo.lam * (1 + 0x1p-40) && lam < hi.lam * (1 - 0x1p-40)))
        break;
    } else if (same > 2) { /* regula falsi stuck: bisect log lambda */
      lam = sqrt(lo.lam) * sqrt(hi.lam);
    } else { /* log lambda linear in log k */
      double t = (log(Kd) - log((double)lo.k)) /
                 (log((double)hi.k) - log((double)lo.k));
      lam = exp(log(lo.lam) + t * (log(hi.lam) - log(lo.lam)));
    }
    /* Below about T 2^-52 the penalty is lost in the rounding of the
     * prefix sums: leave such inputs (values spanning 2^60 and more) to
     * the layered DP. */
    if (!(lam >= T * 0x1p-60)) break;
    if (!(lam > lo.lam && lam < hi.lam)) {
      lam = hi.lam == INFINITY ? lo.lam * 8
            : lo.lam == 0      ? hi.lam / 8
                               : sqrt(lo.lam) * sqrt(hi.lam);
      if (!(lam > lo.lam && lam < hi.lam)) break;
    }
    double F = 0;
    size_t k = lws(&L, lam, &F);
    if (k == 0) {
      st = CLUSTERRT_ERR_NOMEM;
      break;
    }
    pl = lam;
    pk = k;
    if (k == K) {
      lws_bounds(&L, k, q);
      direct = 1;
      break;
    }
    side *sd = k > K ? &lo : &hi;
    if (secant && (k == lo.k || k == hi.k)) break; /* straight, as above */
    /* Interpolation that keeps landing on one side: the next step is the
     * secant, then bisection. */
    same = (k > K ? 1 : -1) == last ? same + 1 : 1;
    last = k > K ? 1 : -1;
    if (k > K ? k <= lo.k : k >= hi.k) {
      sd->lam = lam;
      sd->F = F;
      sd->k = k;
      sd->known = k <= kmax;
      if (sd->known) lws_bounds(&L, k, sd->b);
    }
  }
  if (direct) {
    st = CLUSTERRT_OK;
  } else if (st == CLUSTERRT_ERR_ARG && hi.known && lo.known) {
    /* Bands from the two optima (the uncrossing argument at the top). */
    size_t d1 = K - hi.k, d2 = lo.k - K, total = 0;
    int ok = 1;
    for (size_t j = 0; j <= K && ok; j++) {
      uint32_t p_hi = j <= hi.k ? hi.b[j] : (uint32_t)m;
      uint32_t p_lo = j >= d1 ? hi.b[j - d1] : 0;
      uint32_t r_lo = lo.b[j], r_hi = lo.b[j + d2];
      blo[j] = r_lo > p_lo ? r_lo : p_lo;
      bhi[j] = r_hi < p_hi ? r_hi : p_hi;
      ok = blo[j] <= bhi[j] && (j == 0 || (blo[j] > blo[j - 1] &&
                                           bhi[j] > bhi[j - 1]));
      if (j) total += bhi[j] - blo[j] + 1;
    }
    if (ok && total <= 16 * m + K) st = band_dp(d, K, blo, bhi, total, q);
  }
  if (st == CLUSTERRT_OK)
    for (size_t j = 0; j < K; j++)
      c[j] = (float)rt_range_mean(d, q[j], q[j + 1]);
  if (banded) *banded = !direct;
  free(L.arg), free(L.q), free(mem);
  return st;
}

clusterrt_status rt_kmeans1d_distinct(const rt_distinct *d, size_t k,
                                      float *c) {
  rt_assert(k >= 1 && k <= d->m);
  if (k == 1 || k == d->m || d->m > UINT32_MAX - 8)
    return rt_kmeans1d_layered(d, k, c);
  clusterrt_status s = rt_kmeans1d_lagrange(d, k, c, NULL);
  return s == CLUSTERRT_ERR_ARG ? rt_kmeans1d_layered(d, k, c) : s;
}

/* The checks of the weighted entry points; builds *d. */
static clusterrt_status weighted_distinct(const float *w, const float *wt,
                                          size_t n, size_t k, const float *c,
                                          rt_distinct *d) {
  if (!w || !wt || !c) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (n == 0) return CLUSTERRT_ERR_ARG;
  if (rt_check_finite(w, n) || rt_check_finite(wt, n)) return CLUSTERRT_ERR_NAN;
  return rt_distinct_init_weighted(d, w, wt, n);
}

clusterrt_status clusterrt_kmeans1d_weighted_f32(const float *w,
                                                 const float *wt, size_t n,
                                                 size_t k, float *c,
                                                 size_t *k_out) {
  if (!k_out) return CLUSTERRT_ERR_NULL;
  *k_out = 0;
  rt_distinct d;
  clusterrt_status s = weighted_distinct(w, wt, n, k, c, &d);
  if (s) return s;
  size_t kc = k < d.m ? k : d.m;
  if (kc == d.m)
    memcpy(c, d.v, kc * sizeof *c);
  else
    s = rt_kmeans1d_distinct(&d, kc, c);
  rt_distinct_free(&d);
  if (!s) *k_out = kc;
  return s;
}

clusterrt_status clusterrt_lloyd_weighted_f32(const float *w, const float *wt,
                                              size_t n, float *c, size_t k,
                                              unsigned max_iter,
                                              unsigned *iters) {
  rt_distinct d;
  clusterrt_status s = weighted_distinct(w, wt, n, k, c, &d);
  if (s) return s;
  if (rt_check_finite(c, k)) s = CLUSTERRT_ERR_NAN;
  if (!s) s = rt_sort_small(c, k);
  if (!s) s = rt_lloyd_distinct(&d, c, k, max_iter, iters);
  rt_distinct_free(&d);
  return s;
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
