/*
 * Differential fuzzer of clusterrt_assign_f32 and _per_channel_f32.
 *
 * The bytes choose k (0 .. 65,536), n, the index format (usually the
 * narrowest, sometimes one too narrow), the per-channel layout, pointer
 * offsets and the values (raw bits, NaN, Inf, denormals, near-ties). Every
 * ISA this CPU runs gets the same call; each must return the generic
 * kernel's status and, on success, its index bytes exactly (the unused
 * high bits of the last packed byte included). The generic result is also
 * checked against the definition (clusterc/runtime.h): idx = the lowest k
 * with the smallest fabsf(w - c[k]), except that a zero w goes to the
 * lowest k of its own sign when c holds both -0.0 and +0.0; +-Inf weights
 * go to the largest or smallest centroid. All buffers end where their data ends, so AddressSanitizer
 * sees any read or write past n.
 */
#include "fuzz-util.h"

/* The definition, for one element: the lowest index of the nearest
 * centroid, or for +-Inf the value it must decode to. */
static int checkOne(float w, const float *c, size_t k, unsigned got) {
  if (isinf(w)) {
    float want = c[0];
    for (size_t j = 1; j < k; ++j)
      want = w > 0 ? (c[j] > want ? c[j] : want) : (c[j] < want ? c[j] : want);
    return got < k && c[got] == want;
  }
  if (w == 0) { /* both zeros among c: the lowest of w's sign */
    size_t neg = k, pos = k;
    for (size_t j = k; j-- > 0;)
      if (c[j] == 0) {
        if (signbit(c[j]))
          neg = j;
        else
          pos = j;
      }
    if (neg < k && pos < k)
      return got == (signbit(w) ? neg : pos);
  }
  size_t best = 0;
  float bd = fabsf(w - c[0]);
  for (size_t j = 1; j < k; ++j) {
    float d = fabsf(w - c[j]);
    if (d < bd) {
      bd = d;
      best = j;
    }
  }
  return got == best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FzIn in = fz_in(data, size);
  uint8_t mode = fz_u8(&in);
  int perChannel = mode & 1;
  size_t k = (mode & 0x70) == 0x70 ? fz_range(&in, 0, CLUSTERRT_MAX_K + 1)
                                   : 1 + fz_range(&in, 0, 299);
  size_t outer = 1, channels = 1, inner;
  if (perChannel) {
    outer = fz_range(&in, 1, 6);
    channels = fz_range(&in, 1, 40);
    inner = fz_range(&in, 0, 64);
  } else {
    inner = fz_range(&in, 0, 20000);
  }
  size_t tables = perChannel ? channels : 1;
  if (k > 4096) { /* keep each run fast: few weights with large tables */
    size_t cap = 5000 / (outer * channels);
    inner = inner < cap ? inner : cap;
    if (tables * k > (1u << 17))
      k = (1u << 17) / tables;
  }
  size_t n = outer * channels * inner;
  clusterrt_index_format fmt = fz_format(&in, k);
  size_t offW = 4 * (fz_u8(&in) % 16), offC = 4 * (fz_u8(&in) % 16);
  size_t offI = fz_u8(&in) % 64;
  if (fmt == CLUSTERRT_IDX_U16)
    offI &= ~(size_t)1;

  FzBuf wb = fz_buf(n * sizeof(float), offW), cb = fz_buf(tables * k * sizeof(float), offC);
  float *w = (float *)wb.p, *c = (float *)cb.p;
  uint8_t cflags = fz_u8(&in);
  fz_floats(&in, c, tables * k, (cflags & 3) ? FZ_FINITE : 0);
  if (cflags & 4) /* near-ties: weights at centroids and their midpoints */
    for (size_t i = 0; i < n; ++i) {
      size_t a = (size_t)(fz_rand(&in) % (tables * k ? tables * k : 1));
      size_t b = (size_t)(fz_rand(&in) % (tables * k ? tables * k : 1));
      float m = tables * k ? (fz_rand(&in) & 1 ? c[a] : c[a] * 0.5f + c[b] * 0.5f) : 0.0f;
      w[i] = fz_rand(&in) & 1 ? m : nextafterf(m, fz_rand(&in) & 1 ? INFINITY : -INFINITY);
    }
  else
    fz_floats(&in, w, n, (cflags & 8) ? FZ_FINITE : 0);

  size_t bytes = clusterrt_index_bytes(fmt, n);
  clusterrt_isa isas[4];
  int nIsa = fz_isas(isas);
  unsigned char *ref = NULL;
  clusterrt_status refSt = CLUSTERRT_OK;
  for (int t = 0; t < nIsa; ++t) {
    fz_set_isa(isas[t]);
    FzBuf ib = fz_buf(bytes, offI);
    clusterrt_status st =
        perChannel ? clusterrt_assign_per_channel_f32(w, outer, channels, inner, c, k, fmt, ib.p)
                   : clusterrt_assign_f32(w, n, c, k, fmt, ib.p);
    if (t == 0) {
      refSt = st;
      ref = malloc(bytes ? bytes : 1);
      memcpy(ref, ib.p, bytes);
    } else {
      FZ_CHECK(st == refSt, "%s status %d, generic %d (n=%zu k=%zu fmt=%u)",
               clusterrt_isa_name(isas[t]), (int)st, (int)refSt, n, k,
               clusterrt_format_bits(fmt));
      if (st == CLUSTERRT_OK)
        for (size_t i = 0; i < bytes; ++i)
          FZ_CHECK(ib.p[i] == ref[i], "%s index byte %zu is 0x%02x, generic 0x%02x "
                   "(n=%zu k=%zu fmt=%u)", clusterrt_isa_name(isas[t]), i, ib.p[i],
                   ref[i], n, k, clusterrt_format_bits(fmt));
    }
    fz_free(&ib);
  }
  fz_set_isa(isas[0]);

  /* The generic result against the definition. */
  if (refSt == CLUSTERRT_OK) {
    FZ_CHECK(k >= 1 && k <= CLUSTERRT_MAX_K, "k=%zu accepted", k);
    size_t step = n * k > 4000000 ? n * k / 4000000 + 1 : 1;
    for (size_t i = 0; i < n; i += step) {
      size_t ch = perChannel ? (i / inner) % channels : 0;
      unsigned got = fz_index_at(ref, fmt, i);
      FZ_CHECK(checkOne(w[i], c + ch * k, k, got), "element %zu (w=%a): index %u "
               "(c=%a) is not the nearest centroid (k=%zu; c[0]=%a, c[k-1]=%a)", i,
               (double)w[i], got, got < k ? (double)c[ch * k + got] : 0.0, k,
               (double)c[ch * k], (double)c[ch * k + k - 1]);
    }
    unsigned bits = clusterrt_format_bits(fmt);
    if (bits != 8 && bits != 16 && (n * bits) % 8)
      FZ_CHECK((ref[bytes - 1] >> ((n * bits) % 8)) == 0, "unused high bits of the "
               "last byte not zero: 0x%02x", ref[bytes - 1]);
  } else {
    int nan = 0;
    for (size_t i = 0; i < tables * k && !nan; ++i)
      nan = !isfinite(c[i]);
    for (size_t i = 0; i < n && !nan; ++i)
      nan = isnan(w[i]);
    FZ_CHECK(refSt != CLUSTERRT_ERR_NAN || nan, "ERR_NAN without NaN or Inf");
    FZ_CHECK(refSt != CLUSTERRT_ERR_K || k == 0 || k > CLUSTERRT_MAX_K, "ERR_K for k=%zu", k);
  }
  free(ref);
  fz_free(&wb);
  fz_free(&cb);
  return 0;
}
