/*
 * Fuzzer of the clustering calls: clusterrt_init_f32, clusterrt_lloyd_f32,
 * clusterrt_kmeans1d_f32 and clusterrt_cluster_f32 (what the pass runs).
 *
 * Checks, for weights with few or many duplicates, zeros, denormals and
 * huge values:
 *  - every ISA gives the same centroids and indices (kmeans1d's row scans
 *    and the final assignment are dispatched; the rest is one
 *    implementation);
 *  - init writes k sorted centroids within [min, max]; Lloyd returns them
 *    sorted;
 *  - cluster: k_out <= k, the table sorted, distinct, finite; a zero
 *    centroid is -0 when every zero weight is, and with both zeros in w
 *    the table has -0 just before +0 exactly when k allows; lossless (bit
 *    for bit) when k >= the number of distinct values (+1 for both zeros); with
 *    preserve_sparsity zero is a centroid when zeros exist and zeros map
 *    to it; idx is clusterrt_assign_f32 over the table;
 *  - kmeans1d is optimal: for up to 40 distinct values and k <= 8, its
 *    squared error equals the exact optimum of a brute-force dynamic
 *    program (in double) up to the rounding of the centroids to float.
 */
#include "fuzz-util.h"

/* Optimal SSE of 1-D k-means over sorted distinct v[0..m) with counts
 * cnt, by the O(k m^2) dynamic program. */
static double optimalSse(const double *v, const double *cnt, size_t m, size_t k) {
  double F[9][41];
  for (size_t e = 0; e <= m; ++e)
    F[0][e] = e ? INFINITY : 0;
  for (size_t q = 1; q <= k; ++q)
    for (size_t e = 0; e <= m; ++e) {
      double best = e ? INFINITY : 0;
      double n = 0, s = 0, s2 = 0;
      for (size_t st = e; st-- > 0;) { /* cluster [st, e) */
        n += cnt[st];
        s += cnt[st] * v[st];
        s2 += cnt[st] * v[st] * v[st];
        double cost = s2 - s * s / n;
        if (cost < 0)
          cost = 0;
        if (F[q - 1][st] + cost < best)
          best = F[q - 1][st] + cost;
      }
      F[q][e] = best;
    }
  return F[k][m];
}

static int cmpFloat(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* SSE of w against its nearest centroid in c (double). */
static double sseNearest(const float *w, size_t n, const float *c, size_t k) {
  double e = 0;
  for (size_t i = 0; i < n; ++i) {
    double best = INFINITY;
    for (size_t j = 0; j < k; ++j) {
      double d = (double)w[i] - c[j];
      if (d * d < best)
        best = d * d;
    }
    e += best;
  }
  return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FzIn in = fz_in(data, size);
  uint8_t mode = fz_u8(&in);
  size_t n = fz_range(&in, 0, 3000);
  size_t k = (mode & 0x70) == 0x70 ? fz_range(&in, 0, CLUSTERRT_MAX_K + 1)
                                   : 1 + fz_range(&in, 0, 63);
  clusterrt_cluster_options o = {.k = k, .init = (clusterrt_init)(fz_u8(&in) % 5),
                                 .seed = fz_u32(&in), .max_iter = fz_u8(&in) % 4 ? 0 : 1 + fz_u8(&in) % 8,
                                 .preserve_sparsity = (mode >> 1) & 1};
  FzBuf wb = fz_buf(n * sizeof(float), 4 * (fz_u8(&in) % 16));
  float *w = (float *)wb.p;
  uint8_t vals = fz_u8(&in);
  fz_floats(&in, w, n, (vals & 3) ? FZ_FINITE : 0);
  if (vals & 4) /* few distinct values */
    for (size_t i = 0; i < n; ++i)
      w[i] = (float)(int)(fz_rand(&in) % (1 + vals / 8)) * 0.25f;
  if (vals & 8) /* zeros */
    for (size_t i = 0; i < n; i += 1 + fz_rand(&in) % 4)
      w[i] = fz_rand(&in) & 1 ? 0.0f : -0.0f;

  int finite = 1;
  for (size_t i = 0; i < n && finite; ++i)
    finite = isfinite(w[i]);
  size_t distinct = 0;
  float *sorted = malloc(sizeof(float) * (n ? n : 1));
  memcpy(sorted, w, n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    if (sorted[i] == 0)
      sorted[i] = 0.0f;
  if (finite) {
    qsort(sorted, n, sizeof(float), cmpFloat);
    for (size_t i = 0; i < n; ++i)
      if (!i || sorted[i] != sorted[distinct - 1])
        sorted[distinct++] = sorted[i];
  }

  clusterrt_isa isas[4];
  int nIsa = fz_isas(isas);
  size_t kk = k >= 1 && k <= CLUSTERRT_MAX_K ? k : 1;
  float *refC = malloc(sizeof(float) * kk), *refK1 = malloc(sizeof(float) * kk);
  size_t refKout = 0;
  uint16_t *refIdx = malloc(sizeof(uint16_t) * (n ? n : 1));
  clusterrt_status refSt = CLUSTERRT_OK, refK1St = CLUSTERRT_OK;
  for (int t = 0; t < nIsa; ++t) {
    fz_set_isa(isas[t]);
    const char *isa = clusterrt_isa_name(isas[t]);
    FzBuf cb = fz_buf(kk * sizeof(float), 0), ib = fz_buf(n * 2, 0);
    float *c = (float *)cb.p;
    size_t kout = 0;
    clusterrt_status st = clusterrt_cluster_f32(w, n, &o, c, &kout, CLUSTERRT_IDX_U16, ib.p);
    FzBuf k1 = fz_buf(kk * sizeof(float), 0);
    clusterrt_status st1 = CLUSTERRT_ERR_ARG;
    if (n <= 3000 && (k <= 300 || n <= 300))
      st1 = clusterrt_kmeans1d_f32(w, n, k, (float *)k1.p);
    if (t == 0) {
      refSt = st;
      refKout = kout;
      refK1St = st1;
      if (st == CLUSTERRT_OK) {
        memcpy(refC, c, kout * sizeof(float));
        memcpy(refIdx, ib.p, n * 2);
      }
      if (st1 == CLUSTERRT_OK)
        memcpy(refK1, k1.p, kk * sizeof(float));
    } else {
      FZ_CHECK(st == refSt && kout == refKout, "%s: cluster status %d k_out %zu, generic %d "
               "%zu", isa, (int)st, kout, (int)refSt, refKout);
      if (st == CLUSTERRT_OK) {
        FZ_CHECK(!memcmp(c, refC, kout * sizeof(float)), "%s: centroids differ", isa);
        FZ_CHECK(!memcmp(ib.p, refIdx, n * 2), "%s: indices differ", isa);
      }
      FZ_CHECK(st1 == refK1St, "%s: kmeans1d status %d, generic %d", isa, (int)st1,
               (int)refK1St);
      if (st1 == CLUSTERRT_OK)
        FZ_CHECK(!memcmp(k1.p, refK1, kk * sizeof(float)),
                 "%s: kmeans1d centroids differ (n=%zu k=%zu)", isa, n, k);
    }
    fz_free(&cb);
    fz_free(&ib);
    fz_free(&k1);
  }
  fz_set_isa(isas[0]);

  if (refSt == CLUSTERRT_OK && n > 0) {
    FZ_CHECK(finite, "clustered non-finite weights");
    FZ_CHECK(refKout >= 1 && refKout <= k, "k_out %zu for k=%zu", refKout, k);
    /* A zero centroid is -0.0 exactly when every zero weight is -0.0 (so
     * the lossless decode gives -0.0 back bit for bit); with both zeros in
     * w, a -0.0 centroid just before the +0.0 one when k allows. */
    int negz = 0, posz = 0;
    for (size_t i = 0; i < n; ++i)
      if (w[i] == 0) {
        negz |= signbit(w[i]) != 0;
        posz |= signbit(w[i]) == 0;
      }
    size_t zc = 0, negzc = 0; /* zero centroids, of them -0.0 */
    for (size_t j = 0; j < refKout; ++j) {
      FZ_CHECK(isfinite(refC[j]), "centroid %zu is %a", j, (double)refC[j]);
      zc += refC[j] == 0;
      negzc += refC[j] == 0 && signbit(refC[j]);
      int pair = j && refC[j] == 0 && signbit(refC[j - 1]) && !signbit(refC[j]);
      FZ_CHECK(!j || refC[j - 1] < refC[j] || pair,
               "centroids not sorted and distinct at %zu", j);
    }
    if (zc) {
      size_t wantNeg = negz && !posz ? 1 : negz && posz && zc == 2 ? 1 : 0;
      FZ_CHECK(negzc == wantNeg && zc <= (size_t)(negz && posz ? 2 : 1),
               "zero centroids: %zu, %zu of them -0.0 (weights: -0 %d, +0 %d)", zc, negzc,
               negz, posz);
      FZ_CHECK(zc == 2 || !(negz && posz) || refKout == k,
               "both zeros in w, room in k = %zu (k_out %zu) but one zero centroid", k,
               refKout);
    }
    int zeros = 0;
    for (size_t i = 0; i < n; ++i)
      zeros |= w[i] == 0;
    size_t budget = o.preserve_sparsity && zeros ? k - 1 : k;
    size_t lossless = distinct + (negz && posz);
    if (budget >= lossless && !o.preserve_sparsity) {
      FZ_CHECK(refKout == lossless, "k=%zu >= %zu distinct values but k_out=%zu", k, lossless,
               refKout);
      for (size_t i = 0; i < n; ++i)
        FZ_CHECK(!memcmp(&refC[refIdx[i]], &w[i], sizeof(float)),
                 "lossless case: w[%zu]=%a decodes to %a", i, (double)w[i],
                 (double)refC[refIdx[i]]);
    }
    if (o.preserve_sparsity && zeros)
      for (size_t i = 0; i < n; ++i)
        if (w[i] == 0)
          FZ_CHECK(refC[refIdx[i]] == 0, "zero weight %zu decodes to %a", i,
                   (double)refC[refIdx[i]]);
    uint16_t *idx = malloc(n * 2);
    FZ_CHECK(clusterrt_assign_f32(w, n, refC, refKout, CLUSTERRT_IDX_U16, idx) == CLUSTERRT_OK &&
                 !memcmp(idx, refIdx, n * 2), "idx is not assign() over the table");
    free(idx);
  } else if (refSt == CLUSTERRT_OK) {
    FZ_CHECK(refKout == 0, "k_out %zu for n=0", refKout);
  } else {
    FZ_CHECK(refSt != CLUSTERRT_ERR_NAN || !finite, "ERR_NAN on finite weights");
    FZ_CHECK(refSt != CLUSTERRT_ERR_K || k == 0 || k > CLUSTERRT_MAX_K, "ERR_K for k=%zu", k);
    FZ_CHECK(refSt == CLUSTERRT_ERR_NAN || refSt == CLUSTERRT_ERR_K, "cluster failed: %s",
             clusterrt_status_string(refSt));
  }

  /* kmeans1d against the brute-force optimum. */
  if (refK1St == CLUSTERRT_OK && finite && distinct <= 40 && k >= 1 && k <= 8 && n > 0) {
    double v[40], cnt[40] = {0};
    for (size_t j = 0; j < distinct; ++j)
      v[j] = sorted[j];
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < distinct; ++j)
        if ((double)w[i] == v[j]) {
          cnt[j] += 1;
          break;
        }
    size_t kd = k < distinct ? k : distinct;
    double opt = optimalSse(v, cnt, distinct, kd), got = sseNearest(w, n, refK1, kk);
    double maxAbs = 0;
    for (size_t i = 0; i < n; ++i)
      maxAbs = fmax(maxAbs, fabs((double)w[i]));
    double ulp = maxAbs * 0x1p-23;
    double tol = 1e-6 * opt + 4.0 * (double)n * ulp * ulp + (double)n * 0x1p-140;
    FZ_CHECK(got <= opt + tol, "kmeans1d SSE %.17g, optimum %.17g (n=%zu distinct=%zu k=%zu)",
             got, opt, n, distinct, k);
  }
  if (refK1St == CLUSTERRT_OK)
    for (size_t j = 1; j < kk; ++j)
      FZ_CHECK(refK1[j - 1] <= refK1[j], "kmeans1d centroids not sorted at %zu", j);

  /* init and Lloyd on their own. */
  if (finite && n > 0 && k >= 1 && k <= 300) {
    float *c = malloc(sizeof(float) * k);
    if (clusterrt_init_f32(w, n, k, o.init, o.seed, c) == CLUSTERRT_OK) {
      for (size_t j = 0; j < k; ++j) {
        FZ_CHECK(c[j] >= sorted[0] && c[j] <= sorted[distinct - 1],
                 "init %s centroid %zu = %a outside [%a, %a]", clusterrt_init_name(o.init), j,
                 (double)c[j], (double)sorted[0], (double)sorted[distinct - 1]);
        FZ_CHECK(!j || c[j - 1] <= c[j], "init %s not sorted at %zu",
                 clusterrt_init_name(o.init), j);
      }
      unsigned iters = 0;
      if (clusterrt_lloyd_f32(w, n, c, k, 20, &iters) == CLUSTERRT_OK)
        for (size_t j = 1; j < k; ++j)
          FZ_CHECK(c[j - 1] <= c[j], "lloyd result not sorted at %zu", j);
    }
    free(c);
  }
  free(sorted);
  free(refC);
  free(refK1);
  free(refIdx);
  fz_free(&wb);
  return 0;
}
