/*
 * clusterrt_accumulate_f32 (SUM, AVG) and clusterrt_counts on one ISA
 * (argv[1]). Counts must be exact. Sums are compared with a double
 * reference under the documented bound (runtime/README.md):
 *   |gc[k] - exact| <= count[k] * 2^-23 * sum_{idx[i]=k} |g[i]|
 * plus a denormal-sized absolute slack. Inf and NaN in g give the sums
 * they give in exact arithmetic (Inf, -Inf or NaN) in their cluster and
 * leave the other clusters alone.
 */
#include "test-util.h"

static void check_one(clusterrt_index_format f, size_t n, size_t k,
                      size_t ioff, size_t goff) {
  size_t bytes = clusterrt_index_bytes(f, n);
  t_buf ib = t_buf_new(bytes, ioff);
  t_buf gb = t_buf_new(n * sizeof(float), goff * sizeof(float));
  t_buf cb = t_buf_new(k * sizeof(float), 0);
  float *g = (float *)(void *)gb.p, *gc = (float *)(void *)cb.p;
  uint64_t *cnt = malloc(k * sizeof *cnt), *cnt2 = malloc(k * sizeof *cnt2);
  double *ref = calloc(k, sizeof *ref), *mag = calloc(k, sizeof *mag);
  uint64_t *rc = calloc(k, sizeof *rc);
  if (!cnt || !cnt2 || !ref || !mag || !rc) exit(2);
  memset(ib.p, 0, bytes);
  /* Skewed indices: runs of equal indices stress per-lane accumulators.
   * They stay below k and below what the format can hold. */
  unsigned bits = clusterrt_format_bits(f);
  size_t reach = bits < 16 && k > ((size_t)1 << bits) ? (size_t)1 << bits : k;
  uint32_t cur = 0;
  for (size_t i = 0; i < n; i++) {
    if (t_rand() % 3 == 0) cur = (uint32_t)(t_rand() % reach);
    t_set(ib.p, f, i, cur);
    g[i] = t_gauss();
    if (t_rand() % 50 == 0) g[i] = 0.0f;
    if (t_rand() % 53 == 0) g[i] = -0.0f;
    if (t_rand() % 59 == 0) g[i] = (t_rand() & 1 ? 1 : -1) * 1e-40f;
    ref[cur] += g[i];
    mag[cur] += fabs(g[i]);
    rc[cur]++;
  }
  CHECK(clusterrt_accumulate_f32(g, ib.p, f, n, k, CLUSTERRT_REDUCE_SUM, gc,
                                 cnt) == CLUSTERRT_OK);
  for (size_t j = 0; j < k; j++) {
    CHECK_MSG(cnt[j] == rc[j], "count k=%zu j=%zu", k, j);
    double tol = (double)rc[j] * 0x1.0p-23 * mag[j] + 1e-30;
    CHECK_MSG(fabs(gc[j] - ref[j]) <= tol,
              "sum fmt=%s n=%zu k=%zu j=%zu got %g want %g",
              clusterrt_format_name(f), n, k, j, gc[j], ref[j]);
  }
  CHECK(t_buf_guard_ok(&cb));
  /* Again from copies of g and idx that end at an inaccessible page. */
  if (n <= 300) {
    t_edge ei = t_edge_new(ib.p, bytes), eg = t_edge_new(g, n * sizeof *g);
    float *gc2 = malloc(k * sizeof *gc2);
    CHECK(clusterrt_accumulate_f32((const float *)(void *)eg.p, ei.p, f, n, k,
                                   CLUSTERRT_REDUCE_SUM, gc2, cnt2) ==
          CLUSTERRT_OK);
    CHECK(memcmp(gc, gc2, k * sizeof *gc) == 0);
    CHECK(memcmp(cnt, cnt2, k * sizeof *cnt) == 0);
    free(gc2);
    t_edge_free(&ei);
    t_edge_free(&eg);
  }
  /* Without counts (kernels may take another path): the same sums. */
  for (size_t j = 0; j < k; j++) gc[j] = NAN;
  CHECK(clusterrt_accumulate_f32(g, ib.p, f, n, k, CLUSTERRT_REDUCE_SUM, gc,
                                 NULL) == CLUSTERRT_OK);
  for (size_t j = 0; j < k; j++) {
    double tol = (double)rc[j] * 0x1.0p-23 * mag[j] + 1e-30;
    CHECK_MSG(fabs(gc[j] - ref[j]) <= tol, "sum (no counts) fmt=%s n=%zu "
              "k=%zu j=%zu got %g want %g", clusterrt_format_name(f), n, k, j,
              gc[j], ref[j]);
  }
  CHECK(t_buf_guard_ok(&cb));
  CHECK(clusterrt_accumulate_f32(g, ib.p, f, n, k, CLUSTERRT_REDUCE_AVG, gc,
                                 NULL) == CLUSTERRT_OK);
  for (size_t j = 0; j < k; j++) {
    double want = rc[j] ? ref[j] / (double)rc[j] : 0.0;
    double tol = rc[j] ? (double)rc[j] * 0x1.0p-22 * mag[j] / (double)rc[j] +
                             1e-30
                       : 0.0;
    CHECK_MSG(fabs(gc[j] - want) <= tol, "avg k=%zu j=%zu", k, j);
  }
  CHECK(clusterrt_counts(ib.p, f, n, k, cnt2) == CLUSTERRT_OK);
  CHECK(memcmp(cnt, cnt2, k * sizeof *cnt) == 0);
  if (n > 0 && (bits == 16 ? k < 65536 : k < (1u << bits))) {
    size_t pos = t_rand() % n;
    t_set(ib.p, f, pos, (uint32_t)k);
    CHECK(clusterrt_accumulate_f32(g, ib.p, f, n, k, CLUSTERRT_REDUCE_SUM, gc,
                                   NULL) == CLUSTERRT_ERR_INDEX);
    CHECK(clusterrt_counts(ib.p, f, n, k, cnt2) == CLUSTERRT_ERR_INDEX);
  }
  free(cnt);
  free(cnt2);
  free(ref);
  free(mag);
  free(rc);
  t_buf_free(&ib);
  t_buf_free(&gb);
  t_buf_free(&cb);
}

/* Inf, -Inf and NaN gradients in a few clusters (the permute kernels sum
 * with FMAs and must fall back to masks for such blocks). */
static void check_nonfinite(clusterrt_index_format f, size_t n, size_t k) {
  size_t bytes = clusterrt_index_bytes(f, n);
  uint8_t *ib = calloc(bytes ? bytes : 1, 1);
  float *g = malloc(n * sizeof *g), *gc = malloc(k * sizeof *gc);
  uint64_t *cnt = malloc(k * sizeof *cnt), *rc = calloc(k, sizeof *rc);
  double *ref = calloc(k, sizeof *ref), *mag = calloc(k, sizeof *mag);
  if (!ib || !g || !gc || !cnt || !rc || !ref || !mag) exit(2);
  unsigned bits = clusterrt_format_bits(f);
  size_t reach = bits < 16 && k > ((size_t)1 << bits) ? (size_t)1 << bits : k;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = (uint32_t)(t_rand() % reach);
    t_set(ib, f, i, v);
    g[i] = t_gauss();
    if (t_rand() % 997 == 0)
      g[i] = t_rand() % 3 == 0 ? NAN : t_rand() & 1 ? INFINITY : -INFINITY;
    ref[v] += g[i];
    if (isfinite(g[i])) mag[v] += fabs(g[i]);
    rc[v]++;
  }
  for (int r = 0; r < 2; r++) {
    CHECK(clusterrt_accumulate_f32(g, ib, f, n, k, CLUSTERRT_REDUCE_SUM, gc,
                                   r ? cnt : NULL) == CLUSTERRT_OK);
    for (size_t j = 0; j < k; j++) {
      int ok = isnan(ref[j])   ? isnan(gc[j])
               : isinf(ref[j]) ? gc[j] == ref[j]
                               : fabs(gc[j] - ref[j]) <=
                                     (double)rc[j] * 0x1.0p-23 * mag[j] + 1e-30;
      CHECK_MSG(ok, "non-finite g: fmt=%s n=%zu k=%zu j=%zu got %g want %g",
                clusterrt_format_name(f), n, k, j, gc[j], ref[j]);
      if (r) CHECK(cnt[j] == rc[j]);
    }
  }
  free(ib), free(g), free(gc), free(cnt), free(rc), free(ref), free(mag);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  static const size_t big[] = {97, 1021, 40009, 300007};
  for (int fi = 0; fi < 5; fi++) {
    clusterrt_index_format f = t_formats[fi];
    size_t kmax = (size_t)1 << clusterrt_format_bits(f);
    size_t ks[] = {1, 2, 3, 4, 5, 8, 9, 16, 17, 255, 256, 257, 65536};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
      size_t k = ks[ki];
      if (k > kmax) continue;
      for (size_t n = 0; n <= 80; n += (k > 300 ? 9 : 1))
        check_one(f, n, k, n % 64, n % 16);
      for (size_t b = 0; b < sizeof big / sizeof big[0]; b++)
        check_one(f, big[b], k, b, b);
    }
    for (size_t io = 0; io < 64; io++) check_one(f, 150, 2, io, io % 16);
    /* A format narrower than k: indices reach only 2^bits clusters. */
    if (kmax < 65536) {
      size_t wide[] = {kmax + 1, 17, 300};
      for (size_t wi = 0; wi < 3; wi++) {
        if (wide[wi] <= kmax) continue;
        for (size_t n = 0; n <= 40; n += 3) check_one(f, n, wide[wi], n % 7, n % 16);
        check_one(f, 40009, wide[wi], 1, 3);
      }
    }
  }
  for (size_t fi = 0; fi < T_NODD; fi++) { /* odd widths, unpacked first */
    clusterrt_index_format f = t_odd_formats[fi];
    size_t kmax = (size_t)1 << clusterrt_format_bits(f);
    size_t ks[] = {2, 3, kmax - 1, kmax, kmax + 1};
    for (size_t ki = 0; ki < 5; ki++) {
      for (size_t n = 0; n <= 40; n += 3) check_one(f, n, ks[ki], n % 7, n % 16);
      check_one(f, 2049, ks[ki], 1, 2);
      check_one(f, 40009, ks[ki], 3, 1);
    }
  }
  for (int fi = 0; fi < 5; fi++) {
    size_t kmax = (size_t)1 << clusterrt_format_bits(t_formats[fi]);
    static const size_t ks[] = {2, 4, 8, 16, 256};
    for (size_t ki = 0; ki < 5; ki++)
      if (ks[ki] <= kmax) {
        check_nonfinite(t_formats[fi], 5000, ks[ki]);
        check_nonfinite(t_formats[fi], 40009, ks[ki]);
      }
  }
  return t_finish("accumulate", isa);
}
