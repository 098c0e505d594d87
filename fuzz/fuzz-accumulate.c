/*
 * Differential fuzzer of clusterrt_accumulate_f32 and clusterrt_counts.
 *
 * Sums are formed in a different order on each ISA, so they agree within
 * the bound of runtime/README.md, not bit for bit:
 *   |gc[k] - exact| <= count[k] * 2^-23 * sum_{idx=k} |g|  (+ denormal slack)
 * with `exact` computed in double. Counts are exact; AVG is that ISA's SUM
 * divided by the count in double, rounded once; status codes (bad k or
 * format, an index >= k) match the generic kernel's. Gradients are finite
 * and at most 1e30 in magnitude, so no sum overflows.
 */
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FzIn in = fz_in(data, size);
  uint8_t mode = fz_u8(&in);
  size_t k = (mode & 0x70) == 0x70 ? fz_range(&in, 0, CLUSTERRT_MAX_K + 1)
                                   : 1 + fz_range(&in, 0, 299);
  if (k > (1u << 17))
    k = 1u << 17;
  size_t n = fz_range(&in, 0, 40000);
  clusterrt_index_format fmt = fz_format(&in, k);
  unsigned bits = clusterrt_format_bits(fmt);
  size_t offI = fz_u8(&in) % 64, offG = 4 * (fz_u8(&in) % 16);
  if (fmt == CLUSTERRT_IDX_U16)
    offI &= ~(size_t)1;
  int withCounts = mode & 2;

  FzBuf gb = fz_buf(n * sizeof(float), offG);
  float *g = (float *)gb.p;
  fz_floats(&in, g, n, FZ_FINITE);
  for (size_t i = 0; i < n; ++i)
    if (fabsf(g[i]) > 1e30f)
      g[i] = g[i] > 0 ? 1e30f : -1e30f;
  size_t bytes = clusterrt_index_bytes(fmt, n);
  FzBuf ib = fz_buf(bytes, offI);
  memset(ib.p, 0, bytes);
  uint8_t ichoice = fz_u8(&in);
  unsigned range = bits ? (bits == 16 ? 65536u : 1u << bits) : 1;
  size_t hot = 1 + fz_u8(&in) % 4; /* few clusters get most elements: long sums */
  for (size_t i = 0; i < n && bits; ++i) {
    uint32_t r = in.at < in.n ? fz_u32(&in) : (uint32_t)fz_rand(&in);
    unsigned lim = (ichoice & 1) || !k ? range : (unsigned)(k < range ? k : range);
    unsigned v = (ichoice & 2) ? (unsigned)(r % hot) % lim : r % lim;
    fz_index_put(ib.p, fmt, i, v);
  }

  /* The exact sums and counts, in double (ignored unless every index < k). */
  double *exact = calloc(k ? k : 1, sizeof(double)), *absSum = calloc(k ? k : 1, sizeof(double));
  uint64_t *cnt = calloc(k ? k : 1, sizeof(uint64_t));
  int valid = bits != 0 && k >= 1 && k <= CLUSTERRT_MAX_K;
  for (size_t i = 0; i < n && valid; ++i) {
    unsigned j = fz_index_at(ib.p, fmt, i);
    if (j >= k) {
      valid = 0;
      break;
    }
    exact[j] += g[i];
    absSum[j] += fabs((double)g[i]);
    cnt[j]++;
  }

  clusterrt_isa isas[4];
  int nIsa = fz_isas(isas);
  clusterrt_status refSt = CLUSTERRT_OK, refCountSt = CLUSTERRT_OK;
  uint64_t *refCounts = malloc(sizeof(uint64_t) * (k ? k : 1));
  for (int t = 0; t < nIsa; ++t) {
    fz_set_isa(isas[t]);
    const char *isa = clusterrt_isa_name(isas[t]);
    FzBuf sb = fz_buf(k * sizeof(float), 0), ab = fz_buf(k * sizeof(float), 0);
    FzBuf cb = fz_buf(k * sizeof(uint64_t), 0), c2 = fz_buf(k * sizeof(uint64_t), 0);
    float *sum = (float *)sb.p, *avg = (float *)ab.p;
    uint64_t *counts = (uint64_t *)cb.p, *counts2 = (uint64_t *)c2.p;
    clusterrt_status st = clusterrt_accumulate_f32(g, ib.p, fmt, n, k, CLUSTERRT_REDUCE_SUM,
                                                   sum, withCounts ? counts : NULL);
    clusterrt_status st2 = clusterrt_accumulate_f32(g, ib.p, fmt, n, k, CLUSTERRT_REDUCE_AVG,
                                                    avg, NULL);
    clusterrt_status st3 = clusterrt_counts(ib.p, fmt, n, k, counts2);
    FZ_CHECK(st == st2, "%s: SUM status %d, AVG status %d", isa, (int)st, (int)st2);
    if (t == 0) {
      refSt = st;
      refCountSt = st3;
      if (st3 == CLUSTERRT_OK)
        memcpy(refCounts, counts2, k * sizeof(uint64_t));
    } else {
      FZ_CHECK(st == refSt, "%s status %d, generic %d (n=%zu k=%zu fmt=%u)", isa, (int)st,
               (int)refSt, n, k, bits);
      FZ_CHECK(st3 == refCountSt, "%s counts status %d, generic %d", isa, (int)st3,
               (int)refCountSt);
    }
    if (st == CLUSTERRT_OK) {
      FZ_CHECK(valid, "%s accepted an index >= k=%zu", isa, k);
      for (size_t j = 0; j < k; ++j) {
        double bound = (double)cnt[j] * 0x1p-23 * absSum[j] + (double)cnt[j] * 0x1p-126;
        FZ_CHECK(fabs((double)sum[j] - exact[j]) <= bound, "%s: cluster %zu sum %a, exact "
                 "%a, bound %a (n=%zu k=%zu fmt=%u)", isa, j, (double)sum[j], exact[j], bound,
                 n, k, bits);
        float want = cnt[j] ? (float)((double)sum[j] / (double)cnt[j]) : 0.0f;
        FZ_CHECK(avg[j] == want || (avg[j] == 0 && want == 0), "%s: cluster %zu avg %a, "
                 "sum/count %a", isa, j, (double)avg[j], (double)want);
        if (withCounts)
          FZ_CHECK(counts[j] == cnt[j], "%s: count %zu is %llu, not %llu", isa, j,
                   (unsigned long long)counts[j], (unsigned long long)cnt[j]);
      }
    } else if (st == CLUSTERRT_ERR_INDEX) {
      FZ_CHECK(!valid && bits && k >= 1 && k <= CLUSTERRT_MAX_K, "%s: ERR_INDEX with valid "
               "indices", isa);
    }
    if (st3 == CLUSTERRT_OK)
      for (size_t j = 0; j < k; ++j)
        FZ_CHECK(counts2[j] == cnt[j] && counts2[j] == refCounts[j], "%s: clusterrt_counts "
                 "%zu is %llu, not %llu", isa, j, (unsigned long long)counts2[j],
                 (unsigned long long)cnt[j]);
    fz_free(&sb);
    fz_free(&ab);
    fz_free(&cb);
    fz_free(&c2);
  }
  fz_set_isa(isas[0]);
  free(refCounts);
  free(exact);
  free(absSum);
  free(cnt);
  fz_free(&gb);
  fz_free(&ib);
  return 0;
}
