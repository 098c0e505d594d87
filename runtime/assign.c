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
 * The fast path used by every kernel: count c = #{mid < w} over the
 * midpoints mid[j] = u[j]/2 + u[j+1]/2, then accept p[c] iff d_c is strictly
 * below both neighbours' distances (u[-1] = -Inf and u[m] = +Inf pad the
 * ends). By the unimodality above a strict local minimum is the unique
 * global minimum, so acceptance is always right whatever the rounding of
 * the midpoints; rejected elements (ties, plateaus, +-Inf) take
 * rt_assign_one. The midpoints only decide how often the check passes.
 *
 * Special case: w = +Inf goes to the largest centroid and w = -Inf to the
 * smallest (the formula would give Inf for every centroid).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

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
  size_t bytes = (m + 2) * sizeof(float) + P * sizeof(float) +
                 m * sizeof(uint16_t);
  char *mem = malloc(bytes);
  if (!mem) {
    free(kv);
    return CLUSTERRT_ERR_NOMEM;
  }
  t->mem = mem;
  t->m = m;
  t->u = (float *)mem + 1;
  t->mid = (float *)mem + (m + 2);
  t->nmid_pad = P;
  t->p = (uint16_t *)(t->mid + P);
  t->u[-1] = -INFINITY;
  t->u[m] = INFINITY;
  size_t j = 0;
  for (size_t i = 0; i < k; i++) {
    if (i > 0 && (kv[i] >> 32) == (kv[i - 1] >> 32)) continue;
    size_t ci = (size_t)(kv[i] & 0xffffffffu);
    t->u[j] = c[ci];
    t->p[j] = (uint16_t)ci;
    j++;
  }
  free(kv);
  for (size_t i = 0; i < P; i++)
    t->mid[i] = i + 1 < m ? 0.5f * t->u[i] + 0.5f * t->u[i + 1] : INFINITY;
  if (m <= 32) {
    for (size_t i = 0; i < 32; i++) {
      size_t q = i < m ? i : m - 1;
      t->small_lo[i] = t->u[(ptrdiff_t)q - 1];
      t->small_ce[i] = t->u[q];
      t->small_hi[i] = t->u[q + 1];
      t->small_p[i] = t->p[q];
    }
  }
  return CLUSTERRT_OK;
}

void rt_table_free(rt_table *t) {
  free(t->mem);
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

int clusterrt_assign_u16__generic(const rt_table *t, const float *w, size_t n,
                                  uint16_t *out) {
  const float *u = t->u, *mid = t->mid;
  size_t P = t->nmid_pad;
  int nan = 0;
  for (size_t i = 0; i < n; i++) {
    float x = w[i];
    if (x != x) {
      nan = 1;
      out[i] = 0;
      continue;
    }
    size_t c = 0;
    for (size_t step = P / 2; step >= 1; step /= 2)
      c += mid[c + step - 1] < x ? step : 0;
    float d = fabsf(x - u[c]);
    if (d < fabsf(x - u[(ptrdiff_t)c - 1]) && d < fabsf(x - u[c + 1]))
      out[i] = t->p[c];
    else
      out[i] = rt_assign_one(t, x);
  }
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
  uint16_t buf[RT_BLOCK];
  for (size_t i = 0; i < n; i += RT_BLOCK) {
    size_t nb = n - i < RT_BLOCK ? n - i : RT_BLOCK;
    if (kern->assign(&t, w + i, nb, buf)) {
      s = CLUSTERRT_ERR_NAN;
      break;
    }
    rt_pack(buf, nb, f, idx, i);
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
    /* Walk flat blocks; split each block at channel-slice boundaries. */
    for (size_t i = 0; i < n && !s; i += RT_BLOCK) {
      size_t nb = n - i < RT_BLOCK ? n - i : RT_BLOCK;
      for (size_t e = i; e < i + nb;) {
        size_t ch = (e / inner) % channels;
        size_t end = (e / inner + 1) * inner;
        if (end > i + nb) end = i + nb;
        if (kern->assign(&tabs[ch], w + e, end - e, buf + (e - i))) {
          s = CLUSTERRT_ERR_NAN;
          break;
        }
        e = end;
      }
      if (!s) rt_pack(buf, nb, f, idx, i);
    }
  }
  for (size_t i = 0; i < built; i++) rt_table_free(&tabs[i]);
  free(tabs);
  return s;
}
