/*
 * Sorting and 1-D statistics shared by init, Lloyd and exact k-means.
 *
 * Every clustering algorithm here works on the weights as sorted distinct
 * values with multiplicities (rt_distinct): clusters of an optimal or Lloyd
 * 1-D clustering are contiguous ranges of that array, and range sums come
 * from prefix sums in O(1). The sums are of values centred on the mean, in
 * double, which keeps the cancellation in sum(x^2) - sum(x)^2/n small for
 * weights that are all close to some offset.
 *
 * Sorting is an LSD radix sort on order-preserving 32-bit keys: O(n) for
 * the millions of weights of a layer, and deterministic.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rt_sort_keys(uint32_t *a, uint32_t *tmp, size_t n) {
  static const unsigned shift[3] = {0, 11, 22};
  static const unsigned width[3] = {11, 11, 10};
  size_t hist[3][2048];
  memset(hist, 0, sizeof hist);
  for (size_t i = 0; i < n; i++) {
    uint32_t x = a[i];
    hist[0][x & 2047]++;
    hist[1][(x >> 11) & 2047]++;
    hist[2][x >> 22]++;
  }
  uint32_t *src = a, *dst = tmp;
  for (int p = 0; p < 3; p++) {
    size_t buckets = (size_t)1 << width[p], sum = 0;
    int trivial = 0;
    for (size_t b = 0; b < buckets; b++) {
      if (hist[p][b] == n) trivial = 1;
      size_t c = hist[p][b];
      hist[p][b] = sum;
      sum += c;
    }
    if (trivial) continue; /* every key has the same digit */
    unsigned s = shift[p];
    uint32_t mask = (uint32_t)buckets - 1;
    for (size_t i = 0; i < n; i++) {
      uint32_t x = src[i];
      dst[hist[p][(x >> s) & mask]++] = x;
    }
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

clusterrt_status rt_check_finite(const float *w, size_t n) {
  /* An exponent of all ones is Inf or NaN; OR the test across a block so
   * the loop vectorises. */
  size_t i = 0;
  while (i < n) {
    size_t e = n - i < 4096 ? n : i + 4096;
    uint32_t bad = 0;
    for (; i < e; i++) {
      uint32_t u;
      memcpy(&u, &w[i], 4);
      bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    if (bad) return CLUSTERRT_ERR_NAN;
  }
  return CLUSTERRT_OK;
}

static void prefix_sums(rt_distinct *d, int want_prefix);

/* d's arrays for m distinct values in one allocation: N, S1, S2 (m + 1
 * doubles each) and v (m floats). */
static clusterrt_status distinct_alloc(rt_distinct *d, size_t m) {
  char *mem = malloc(m * sizeof(float) + 3 * (m + 1) * sizeof(double));
  if (!mem) return CLUSTERRT_ERR_NOMEM;
  d->mem = mem;
  d->m = m;
  d->N = (double *)mem;
  d->S1 = d->N + (m + 1);
  d->S2 = d->S1 + (m + 1);
  d->v = (float *)(d->S2 + (m + 1));
  return CLUSTERRT_OK;
}

clusterrt_status rt_distinct_init(rt_distinct *d, const float *w, size_t n,
                                  int want_prefix) {
  memset(d, 0, sizeof *d);
  if (n == 0) return CLUSTERRT_ERR_ARG;
  uint32_t *keys = malloc(2 * n * sizeof *keys);
  if (!keys) return CLUSTERRT_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) keys[i] = rt_f32_key(w[i]);
  rt_sort_keys(keys, keys + n, n);

  /* Count distinct values (-0 == +0 merge). */
  size_t m = 1;
  for (size_t i = 1; i < n; i++)
    m += rt_key_f32(keys[i]) != rt_key_f32(keys[i - 1]);

  if (distinct_alloc(d, m)) {
    free(keys);
    return CLUSTERRT_ERR_NOMEM;
  }
  if (!want_prefix) d->S1 = d->S2 = NULL;

  /* Values and counts; the mean from the sorted values (deterministic). */
  double total = 0;
  size_t j = 0, run = 1;
  float prev = rt_key_f32(keys[0]);
  for (size_t i = 1; i <= n; i++) {
    float x = i < n ? rt_key_f32(keys[i]) : 0.0f;
    if (i < n && x == prev) {
      run++;
      continue;
    }
    d->v[j] = prev == 0.0f ? 0.0f : prev;
    d->N[j + 1] = (double)run; /* turned into a prefix below */
    total += (double)run * (double)d->v[j];
    j++;
    prev = x;
    run = 1;
  }
  free(keys);
  d->mean = total / (double)n;
  prefix_sums(d, want_prefix);
  return CLUSTERRT_OK;
}

/* N[1..m] hold the per-value weights and mean is set: N becomes a prefix,
 * and S1, S2 are filled when wanted. */
static void prefix_sums(rt_distinct *d, int want_prefix) {
  size_t m = d->m;
  d->N[0] = 0;
  double s1 = 0, s2 = 0;
  for (size_t t = 0; t < m; t++) {
    double c = d->N[t + 1], x = (double)d->v[t] - d->mean;
    if (want_prefix) {
      d->S1[t] = s1;
      d->S2[t] = s2;
      s1 += c * x;
      s2 += c * x * x;
    }
    d->N[t + 1] = d->N[t] + c;
  }
  if (want_prefix) {
    d->S1[m] = s1;
    d->S2[m] = s2;
  }
}

typedef struct keyed {
  uint32_t key;
  size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

clusterrt_status rt_distinct_init_weighted(rt_distinct *d, const float *w,
                                           const float *wt, size_t n) {
  memset(d, 0, sizeof *d);
  size_t np = 0;
  for (size_t i = 0; i < n; i++) np += wt[i] > 0.0f;
  if (np == 0) return CLUSTERRT_ERR_ARG;
  keyed *kv = malloc(np * sizeof *kv);
  if (!kv) return CLUSTERRT_ERR_NOMEM;
  for (size_t i = 0, j = 0; i < n; i++)
    if (wt[i] > 0.0f) kv[j++] = (keyed){rt_f32_key(w[i] == 0.0f ? 0.0f : w[i]), i};
  qsort(kv, np, sizeof *kv, cmp_keyed);
  size_t m = 1;
  for (size_t i = 1; i < np; i++) m += kv[i].key != kv[i - 1].key;
  if (distinct_alloc(d, m)) {
    free(kv);
    return CLUSTERRT_ERR_NOMEM;
  }
  double total = 0, wsum = 0;
  size_t j = 0;
  for (size_t i = 0; i < np;) { /* one run of equal values */
    double run = 0;
    size_t e = i;
    for (; e < np && kv[e].key == kv[i].key; e++) run += (double)wt[kv[e].i];
    d->v[j] = rt_key_f32(kv[i].key);
    d->N[j + 1] = run;
    total += run * (double)d->v[j];
    wsum += run;
    j++;
    i = e;
  }
  free(kv);
  d->mean = total / wsum;
  prefix_sums(d, 1);
  return CLUSTERRT_OK;
}

void rt_distinct_free(rt_distinct *d) {
  free(d->mem);
  memset(d, 0, sizeof *d);
}

double rt_range_sse(const rt_distinct *d, size_t a, size_t b) {
  double n = d->N[b] - d->N[a];
  if (n <= 0) return 0;
  double s1 = d->S1[b] - d->S1[a], s2 = d->S2[b] - d->S2[a];
  double r = s2 - s1 * s1 / n;
  return r > 0 ? r : 0;
}

double rt_range_mean(const rt_distinct *d, size_t a, size_t b) {
  double n = d->N[b] - d->N[a];
  double m = d->mean + (d->S1[b] - d->S1[a]) / n;
  /* The mean lies within the range's values; the prefix sums, of values
   * that may span 2^100 and more, can put it far outside (found by
   * fuzz/fuzz-cluster.c: a centroid of -2^50 for values >= -2^48). */
  if (b > a) {
    double lo = d->v[a], hi = d->v[b - 1];
    m = m < lo ? lo : m > hi ? hi : m;
  }
  return m;
}

static int cmp_f32(const void *pa, const void *pb) {
  float a = *(const float *)pa, b = *(const float *)pb;
  return (a > b) - (a < b);
}

clusterrt_status rt_sort_small(float *c, size_t k) {
  if (k <= 32) {
    for (size_t i = 1; i < k; i++) {
      float x = c[i];
      size_t j = i;
      for (; j > 0 && c[j - 1] > x; j--) c[j] = c[j - 1];
      c[j] = x;
    }
  } else {
    qsort(c, k, sizeof *c, cmp_f32);
  }
  return CLUSTERRT_OK;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void rt_rng_seed(rt_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rt_rng_next(rt_rng *r) {
  uint64_t *s = r->s;
  uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return res;
}

double rt_rng_unit(rt_rng *r) {
  return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53;
}
