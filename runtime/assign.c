/*
 * Assignment: idx[i] = the smallest caller index k minimising
 * d_k = fabsf(w[i] - c[k]) (float arithmetic).
 *
 * Why a search on sorted centroids is exact. Sort the distinct centroid
 * values u[0] < ... < u[m-1] and let j = #{u < w}. Rounding is monotone,
 * so fl(w - u[i]) is non-increasing in i; hence d_i = |fl(w - u[i])| is
 * non-increasing for i <= j-1 (where w - u[i] > 0) and non-decreasing for
 * i >= j. The minimum is at j-1 or j, and the set of minimisers is one
 * contiguous run (it can be longer than two when rounding makes distant
 * centroids equally far, e.g. w = 1e30). The answer is the smallest p
 * (lowest caller index of a value) over that run: rt_assign_one.
 *
 * The fast path used by every kernel: exact switch points. Between two
 * adjacent values u[j] < u[j+1], the pairwise answer ("p[j+1] wins" =
 * d_{j+1} < d_j, or equal with p[j+1] < p[j]) is monotone in w, since d_j
 * grows and d_{j+1} shrinks; thr[j] = the first float where it holds is
 * found once per table by bisection over the float order. If no rounding
 * plateau can touch the minimum, the answer for w is p[#{thr <= w}]: no
 * midpoint approximation, no neighbour check, ties included.
 *
 * When is there no plateau? fl(w - a) == fl(w - b) for a < b <= w needs
 * b - a <= ulp(w - a) <= 2^-23 (w - a). If the largest gap G and the
 * smallest gap g of u satisfy G < g * 2^20, then for w in [u[0], u[m-1]]
 * the nearest centroids are within G + g of w and no two adjacent
 * centroids there can collapse; outside, up to 2^20 gaps beyond the end
 * centroids, the same bound holds for the two end ones. So the table is
 * "fast" iff G < g * 2^20, and lanes with w in [lo_safe, hi_safe] (never
 * NaN or Inf) use the count; other lanes, and tables that are not fast,
 * take rt_assign_one (or the generic kernel). Assumes the default
 * floating-point environment (no flush-to-zero / denormals-are-zero).
 *
 * Special case: w = +Inf goes to the largest centroid and w = -Inf to the
 * smallest (the formula would give Inf for every centroid).
 *
 * Signed zeros: when the table holds both a -0.0 and a +0.0 centroid
 * (clusterrt_cluster_f32 keeps both zeros of a weight apart when K allows),
 * a zero weight goes to the zero centroid of its own sign (the lowest
 * index of that sign): zero weights are re-pointed after the kernel
 * (rt_assign_block), so a lossless table decodes both zeros bit for bit.
 * Non-zero weights (a denormal equally far from both) tie as always.
 */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether p[j+1] is the pairwise answer at w (u[j] <= w <= u[j+1]). */
static int right_wins(const rt_table *t, size_t j, float w) {
  float dl = fabsf(w - t->u[j]), dr = fabsf(w - t->u[j + 1]);
  return dr < dl || (dr == dl && t->p[j + 1] < t->p[j]);
}

/* The smallest float w in (u[j], u[j+1]] where right_wins holds, by
 * bisection over the order-preserving keys (right_wins is monotone there
 * and true at u[j+1]). */
static float switch_point(const rt_table *t, size_t j) {
  uint32_t lo = rt_f32_key(t->u[j]), hi = rt_f32_key(t->u[j + 1]);
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (right_wins(t, j, rt_key_f32(mid)))
      hi = mid;
    else
      lo = mid;
  }
  return rt_key_f32(hi);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static clusterrt_status finish_table(rt_table *t);
static clusterrt_status build_buckets(rt_table *t);

clusterrt_status rt_table_init(rt_table *t, const float *c, size_t k) {
  memset(t, 0, sizeof *t);
  uint64_t *kv = malloc(k * sizeof *kv);
  if (!kv) return CLUSTERRT_ERR_NOMEM;
  /* Sort (value, caller index); -0 is keyed as +0 so equal values are
   * adjacent and ordered by index. */
  for (size_t i = 0; i < k; i++) {
    float x = c[i] == 0.0f ? 0.0f : c[i];
    kv[i] = (uint64_t)rt_f32_key(x) << 32 | (uint64_t)i;
  }
  qsort(kv, k, sizeof *kv, cmp_u64);
  size_t m = 1;
  for (size_t i = 1; i < k; i++) m += (kv[i] >> 32) != (kv[i - 1] >> 32);

  size_t P = 1;
  while (P < m) P *= 2;
  size_t bytes = (m + 2) * sizeof(float) + (P + RT_THR_PAD) * sizeof(float) +
                 m * sizeof(uint32_t) + m * sizeof(uint16_t);
  char *mem = malloc(bytes);
  if (!mem) {
    free(kv);
    return CLUSTERRT_ERR_NOMEM;
  }
  t->mem = mem;
  t->m = m;
  t->u = (float *)mem + 1;
  t->thr = (float *)mem + (m + 2);
  t->P = P;
  t->p32 = (uint32_t *)(t->thr + P + RT_THR_PAD);
  t->p = (uint16_t *)(t->p32 + m);
  t->u[-1] = -INFINITY;
  t->u[m] = INFINITY;
  size_t j = 0;
  t->p_ident = 1;
  t->negz = t->posz = -1;
  for (size_t i = 0; i < k; i++) {
    size_t ci = (size_t)(kv[i] & 0xffffffffu);
    if (i > 0 && (kv[i] >> 32) == (kv[i - 1] >> 32)) {
      /* A zero of the other sign than u[j-1]'s: see the file comment. */
      if (c[ci] == 0.0f && t->negz < 0 && signbit(c[ci]) != signbit(t->u[j - 1])) {
        t->negz = (int32_t)(signbit(c[ci]) ? ci : t->p[j - 1]);
        t->posz = (int32_t)(signbit(c[ci]) ? t->p[j - 1] : ci);
      }
      continue;
    }
    t->u[j] = c[ci];
    t->p[j] = (uint16_t)ci;
    t->p32[j] = (uint32_t)ci;
    t->p_ident &= ci == j;
    j++;
  }
  free(kv);
  for (size_t i = 0; i < 32; i++) t->small_p[i] = t->p[i < m ? i : m - 1];
  for (size_t i = 0; i < P + RT_THR_PAD; i++)
    t->thr[i] = i + 1 < m ? switch_point(t, i) : INFINITY;
  clusterrt_status s = finish_table(t);
  if (s == CLUSTERRT_OK) s = build_buckets(t);
  if (s != CLUSTERRT_OK) rt_table_free(t);
  return s;
}

/* The bucket guess (internal.h). G ~ 64 buckets per switch point over
 * [thr[0], thr[m-2]] (at most 2^18), so most weights land in a bucket
 * with no switch point and need no probe; any positive scale is correct,
 * a good one keeps bmax small. Not built (bmax = 0) for m <= 16 or when
 * bmax would exceed RT_THR_PAD. */
static clusterrt_status build_buckets(rt_table *t) {
  size_t m = t->m;
  t->bmax = 0;
  if (m <= 16) return CLUSTERRT_OK;
  size_t G = 1;
  while (G < 64 * (m - 1) && G < ((size_t)1 << 18)) G *= 2;
  double span = (double)t->thr[m - 2] - (double)t->thr[0];
  float scale = (float)((double)G / span);
  if (!(span > 0) || !(scale > 0) || !(scale < INFINITY)) return CLUSTERRT_OK;
  t->G = G;
  t->bbase = t->thr[0];
  t->bscale = scale;
  uint32_t *bkt = malloc(G * sizeof *bkt);
  if (!bkt) return CLUSTERRT_ERR_NOMEM;
  /* bkt[b] = #{j : bucket(thr[j]) < b}; count per bucket for bmax. */
  size_t j = 0, most = 0;
  for (size_t b = 0; b < G; b++) {
    bkt[b] = (uint32_t)j;
    size_t start = j;
    while (j + 1 < m && rt_bucket(t, t->thr[j]) == b) j++;
    most = j - start > most ? j - start : most;
    if (j > start) bkt[b] |= 0x80000000u;
  }
  if (most > RT_THR_PAD) {
    free(bkt);
    return CLUSTERRT_OK;
  }
  t->bkt = bkt;
  t->bmem = bkt;
  t->bmax = most ? (unsigned)most : 1;
  return CLUSTERRT_OK;
}

/* The gap condition of the file comment: sets fast, lo_safe, hi_safe. */
static clusterrt_status finish_table(rt_table *t) {
  size_t m = t->m;
  /* The gap condition (doubles: the margin 2^20 vs 2^23 absorbs their
   * rounding). */
  t->fast = 0;
  t->lo_safe = t->hi_safe = 0;
  if (m == 1) {
    t->fast = 1;
    t->lo_safe = -FLT_MAX;
    t->hi_safe = FLT_MAX;
  } else {
    double g = INFINITY, G = 0;
    for (size_t i = 0; i + 1 < m; i++) {
      double gap = (double)t->u[i + 1] - (double)t->u[i];
      g = gap < g ? gap : g;
      G = gap > G ? gap : G;
    }
    if (G < g * 0x1p20) {
      double lo = (double)t->u[0] - ((double)t->u[1] - (double)t->u[0]) * 0x1p20;
      double hi = (double)t->u[m - 1] +
                  ((double)t->u[m - 1] - (double)t->u[m - 2]) * 0x1p20;
      /* Beyond the end centroids every distance grows; once the nearest
       * one overflows to Inf in float, all of them do and every centroid
       * ties (w = -FLT_MAX, c = {4.9e31, 1.0e38}: both Inf, so the lowest
       * caller index wins, not the nearer value; found by
       * fuzz/fuzz-assign.c). Keep the count to where the end centroid's
       * distance is finite: |w - u| <= the largest float below FLT_MAX
       * rounds to at most FLT_MAX. */
      double fin = (double)nextafterf(FLT_MAX, 0.0f);
      double lo_fin = (double)t->u[0] - fin, hi_fin = (double)t->u[m - 1] + fin;
      lo = lo < lo_fin ? lo_fin : lo;
      hi = hi > hi_fin ? hi_fin : hi;
      lo = lo < -FLT_MAX ? -FLT_MAX : lo;
      hi = hi > FLT_MAX ? FLT_MAX : hi;
      float flo = (float)lo, fhi = (float)hi; /* round inwards */
      if ((double)flo < lo) flo = nextafterf(flo, INFINITY);
      if ((double)fhi > hi) fhi = nextafterf(fhi, -INFINITY);
      t->fast = 1;
      t->lo_safe = flo;
      t->hi_safe = fhi;
    }
  }
  return CLUSTERRT_OK;
}

void rt_table_free(rt_table *t) {
  free(t->mem);
  free(t->bmem);
  memset(t, 0, sizeof *t);
}

uint16_t rt_assign_one(const rt_table *t, float w) {
  const float *u = t->u;
  size_t m = t->m;
  if (w == INFINITY) return t->p[m - 1];
  if (w == -INFINITY) return t->p[0];
  /* j = #{u < w} */
  size_t lo = 0, hi = m;
  while (lo < hi) {
    size_t h = lo + (hi - lo) / 2;
    if (u[h] < w)
      lo = h + 1;
    else
      hi = h;
  }
  size_t j = lo, a, b;
  float dmin;
  if (j == 0) {
    a = b = 0;
    dmin = fabsf(w - u[0]);
  } else if (j == m) {
    a = b = m - 1;
    dmin = fabsf(w - u[m - 1]);
  } else {
    float dl = fabsf(w - u[j - 1]), dr = fabsf(w - u[j]);
    a = dr < dl ? j : j - 1;
    b = dl < dr ? j - 1 : j;
    dmin = dl < dr ? dl : dr;
  }
  while (a > 0 && fabsf(w - u[a - 1]) == dmin) a--;
  while (b + 1 < m && fabsf(w - u[b + 1]) == dmin) b++;
  uint16_t best = t->p[a];
  for (size_t i = a + 1; i <= b; i++) best = t->p[i] < best ? t->p[i] : best;
  return best;
}

int clusterrt_assign__generic(const rt_table *t, const float *w, size_t n,
                              void *out, int wide) {
  int nan = 0;
  if (!t->fast) {
    for (size_t i = 0; i < n; i++) {
      float x = w[i];
      nan |= x != x;
      rt_store_idx(out, wide, i, x != x ? 0 : rt_assign_one(t, x));
    }
    return nan;
  }
  const float *thr = t->thr;
  size_t P = t->P;
  for (size_t i = 0; i < n; i++) {
    float x = w[i];
    if (x >= t->lo_safe && x <= t->hi_safe) {
      size_t c = 0;
      if (t->bmax) {
        uint32_t e = t->bkt[rt_bucket(t, x)];
        size_t c0 = e & 0x7fffffffu;
        if (e >> 31)
          for (unsigned q = 0; q < t->bmax; q++) c += thr[c0 + q] <= x;
        c += c0;
      } else {
        for (size_t step = P / 2; step >= 1; step /= 2)
          c += thr[c + step - 1] <= x ? step : 0;
      }
      rt_store_idx(out, wide, i, t->p[c]);
    } else if (x != x) {
      nan = 1;
      rt_store_idx(out, wide, i, 0);
    } else {
      rt_store_idx(out, wide, i, rt_assign_one(t, x));
    }
  }
  return nan;
}

/* The ISA's assign kernel, then zero weights re-pointed when the table has
 * both zeros (the file comment); returns the kernel's NaN flag. */
static int rt_assign_block(const rt_kernels *kern, const rt_table *t, const float *w,
                           size_t n, void *out, int wide) {
  int nan = kern->assign(t, w, n, out, wide);
  if (t->negz >= 0)
    for (size_t i = 0; i < n; i++)
      if (w[i] == 0.0f)
        rt_store_idx(out, wide, i, (uint32_t)(signbit(w[i]) ? t->negz : t->posz));
  return nan;
}

/* Shared argument checks of the assign entry points. */
static clusterrt_status check_format(clusterrt_index_format f, size_t k) {
  unsigned bits = clusterrt_format_bits(f);
  if (bits == 0) return CLUSTERRT_ERR_FORMAT;
  if (bits < 16 && k > ((size_t)1 << bits)) return CLUSTERRT_ERR_FORMAT;
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_assign_f32(const float *w, size_t n, const float *c,
                                      size_t k, clusterrt_index_format f,
                                      void *idx) {
  if (!c || (n > 0 && (!w || !idx))) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  clusterrt_status s = check_format(f, k);
  if (s) return s;
  if (rt_check_finite(c, k)) return CLUSTERRT_ERR_NAN;
  if (n == 0) return CLUSTERRT_OK;
  rt_table t;
  if ((s = rt_table_init(&t, c, k))) return s;
  const rt_kernels *kern = rt_get_kernels();
  if (f == CLUSTERRT_IDX_U8 || f == CLUSTERRT_IDX_U16) {
    if (rt_assign_block(kern, &t, w, n, idx, f == CLUSTERRT_IDX_U16))
      s = CLUSTERRT_ERR_NAN;
  } else { /* u8 (or u16 past 8 bits) in blocks, then packed */
    uint16_t buf[RT_BLOCK];
    int wide = clusterrt_format_bits(f) > 8;
    for (size_t i = 0; i < n; i += RT_BLOCK) {
      size_t nb = n - i < RT_BLOCK ? n - i : RT_BLOCK;
      if (rt_assign_block(kern, &t, w + i, nb, buf, wide)) {
        s = CLUSTERRT_ERR_NAN;
        break;
      }
      rt_pack(buf, wide, nb, f, idx, i);
    }
  }
  rt_table_free(&t);
  return s;
}

clusterrt_status clusterrt_assign_per_channel_f32(
    const float *w, size_t outer, size_t channels, size_t inner,
    const float *c, size_t k, clusterrt_index_format f, void *idx) {
  size_t n;
  if (__builtin_mul_overflow(outer, channels, &n) ||
      __builtin_mul_overflow(n, inner, &n))
    return CLUSTERRT_ERR_ARG;
  if ((channels > 0 && !c) || (n > 0 && (!w || !idx)))
    return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  clusterrt_status s = check_format(f, k);
  if (s) return s;
  size_t ck;
  if (__builtin_mul_overflow(channels, k, &ck)) return CLUSTERRT_ERR_ARG;
  if (channels > 0 && rt_check_finite(c, ck)) return CLUSTERRT_ERR_NAN;
  if (n == 0) return CLUSTERRT_OK;
  rt_table *tabs = calloc(channels, sizeof *tabs);
  if (!tabs) return CLUSTERRT_ERR_NOMEM;
  size_t built = 0;
  for (; built < channels; built++)
    if ((s = rt_table_init(&tabs[built], c + built * k, k))) break;
  if (!s) {
    const rt_kernels *kern = rt_get_kernels();
    uint16_t buf[RT_BLOCK];
    uint8_t buf8[RT_BLOCK];
    unsigned bits = clusterrt_format_bits(f);
    /* Walk flat blocks; split each block at channel-slice boundaries. */
    for (size_t i = 0; i < n && !s; i += RT_BLOCK) {
      size_t nb = n - i < RT_BLOCK ? n - i : RT_BLOCK;
      for (size_t e = i; e < i + nb;) {
        size_t ch = (e / inner) % channels;
        size_t end = (e / inner + 1) * inner;
        if (end > i + nb) end = i + nb;
        if (rt_assign_block(kern, &tabs[ch], w + e, end - e, buf + (e - i), 1)) {
          s = CLUSTERRT_ERR_NAN;
          break;
        }
        e = end;
      }
      if (s) break;
      if (bits == 16) {
        memcpy((uint8_t *)idx + 2 * i, buf, 2 * nb);
      } else if (bits > 8) {
        rt_pack(buf, 1, nb, f, idx, i);
      } else {
        for (size_t q = 0; q < nb; q++) buf8[q] = (uint8_t)buf[q];
        if (bits == 8)
          memcpy((uint8_t *)idx + i, buf8, nb);
        else
          rt_pack(buf8, 0, nb, f, idx, i);
      }
    }
  }
  for (size_t i = 0; i < built; i++) rt_table_free(&tabs[i]);
  free(tabs);
  return s;
}

/* Grouped assignment with global indices (runtime.h). Each table is
 * compacted to its assignable centroids (all of them, or the non-zero ones
 * with sparse) with a map back to the caller's slots; runs of one channel
 * go through the ISA's assign kernel in blocks, then are mapped and offset
 * by table * k. */
clusterrt_status clusterrt_assign_grouped_f32(
    const float *w, size_t outer, size_t channels, size_t inner, size_t group,
    const float *c, size_t k, int sparse, clusterrt_index_format f, void *idx) {
  size_t n, T, kt;
  if (group == 0) return CLUSTERRT_ERR_ARG;
  if (__builtin_mul_overflow(outer, channels, &n) ||
      __builtin_mul_overflow(n, inner, &n))
    return CLUSTERRT_ERR_ARG;
  T = channels / group + (channels % group != 0);
  if (__builtin_mul_overflow(T, k, &kt)) return CLUSTERRT_ERR_ARG;
  if ((T > 0 && !c) || (n > 0 && (!w || !idx))) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (f != CLUSTERRT_IDX_U8 && f != CLUSTERRT_IDX_U16) return CLUSTERRT_ERR_FORMAT;
  clusterrt_status s = check_format(f, kt);
  if (s || kt > CLUSTERRT_MAX_K) return s ? s : CLUSTERRT_ERR_FORMAT;
  if (T > 0 && rt_check_finite(c, kt)) return CLUSTERRT_ERR_NAN;
  if (n == 0) return CLUSTERRT_OK;
  rt_table *tabs = calloc(T, sizeof *tabs);
  uint16_t *slot = malloc(kt * sizeof *slot); /* compact -> caller slot */
  size_t *zero = malloc(T * sizeof *zero);     /* the zero slot, or k */
  size_t *m = calloc(T, sizeof *m);            /* assignable centroids */
  float *tmp = malloc(k * sizeof *tmp);
  size_t built = 0;
  s = tabs && slot && zero && m && tmp ? CLUSTERRT_OK : CLUSTERRT_ERR_NOMEM;
  for (; !s && built < T; built++) {
    const float *ct = c + built * k;
    zero[built] = k;
    for (size_t j = 0; j < k; j++) {
      if (sparse && ct[j] == 0.0f) {
        if (zero[built] == k) zero[built] = j;
        continue;
      }
      tmp[m[built]] = ct[j];
      slot[built * k + m[built]++] = (uint16_t)j;
    }
    if (m[built] && (s = rt_table_init(&tabs[built], tmp, m[built]))) break;
  }
  const rt_kernels *kern = rt_get_kernels();
  uint16_t buf[RT_BLOCK];
  int wide = f == CLUSTERRT_IDX_U16;
  uint8_t *out = idx;
  for (size_t e = 0; e < n && !s;) {
    size_t t = (e / inner) % channels / group;
    size_t end = (e / inner + 1) * inner;
    if (end - e > RT_BLOCK) end = e + RT_BLOCK;
    size_t len = end - e, off = t * k;
    const float *x = w + e;
    if (!sparse) {
      /* In place, then offset: two branch-free passes the compiler
       * vectorizes. */
      if (kern->assign(&tabs[t], x, len, out + (wide ? 2 * e : e), wide)) {
        s = CLUSTERRT_ERR_NAN;
        break;
      }
      if (off && wide) {
        uint16_t *o = (uint16_t *)(void *)buf;
        memcpy(o, out + 2 * e, 2 * len);
        for (size_t q = 0; q < len; q++) o[q] = (uint16_t)(o[q] + off);
        memcpy(out + 2 * e, o, 2 * len);
      } else if (off) {
        for (size_t q = 0; q < len; q++) out[e + q] = (uint8_t)(out[e + q] + off);
      }
    } else {
      size_t zt = zero[t];
      int bad = 0;
      if (m[t] && kern->assign(&tabs[t], x, len, buf, 1)) {
        s = CLUSTERRT_ERR_NAN;
        break;
      }
      if (!m[t]) /* only zero centroids: every weight must be 0 */
        for (size_t q = 0; q < len; q++) bad |= x[q] != 0.0f, buf[q] = 0;
      const uint16_t *map = slot + t * k;
      for (size_t q = 0; q < len; q++) {
        int isZero = x[q] == 0.0f;
        bad |= isZero & (zt == k);
        buf[q] = (uint16_t)(off + (isZero ? zt : map[buf[q]]));
      }
      if (bad) {
        s = CLUSTERRT_ERR_ARG;
        break;
      }
      if (wide) {
        memcpy(out + 2 * e, buf, 2 * len);
      } else {
        for (size_t q = 0; q < len; q++) out[e + q] = (uint8_t)buf[q];
      }
    }
    e = end;
  }
  for (size_t i = 0; i < built && tabs; i++)
    if (m[i]) rt_table_free(&tabs[i]);
  free(tabs);
  free(slot);
  free(zero);
  free(m);
  free(tmp);
  return s;
}
