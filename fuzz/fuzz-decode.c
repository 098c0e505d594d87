/*
 * Differential fuzzer of clusterrt_decode_f32 and _per_channel_f32.
 *
 * The bytes choose k, n, the format, the per-channel layout, offsets, the
 * centroid bits (any, NaN payloads and -0 included: decode copies bits) and
 * the indices (valid, or with some >= k, which every ISA must reject with
 * CLUSTERRT_ERR_INDEX). On success every ISA's output must be the generic
 * output bit for bit, and that must be c[idx[i]].
 */
#include "fuzz-util.h"

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
    inner = fz_range(&in, 0, 30000);
  }
  size_t tables = perChannel ? channels : 1;
  if (tables * k > (1u << 17))
    k = (1u << 17) / tables;
  size_t n = outer * channels * inner;
  clusterrt_index_format fmt = fz_format(&in, k);
  unsigned bits = clusterrt_format_bits(fmt);
  size_t offI = fz_u8(&in) % 64, offC = 4 * (fz_u8(&in) % 16), offW = 4 * (fz_u8(&in) % 16);
  if (fmt == CLUSTERRT_IDX_U16)
    offI &= ~(size_t)1;

  FzBuf cb = fz_buf(tables * k * sizeof(float), offC);
  float *c = (float *)cb.p;
  fz_floats(&in, c, tables * k, 0);
  /* Indices: uniform below k, or any value the format holds (some >= k). */
  size_t bytes = clusterrt_index_bytes(fmt, n);
  FzBuf ib = fz_buf(bytes, offI);
  uint8_t ichoice = fz_u8(&in);
  unsigned range = bits ? (bits == 16 ? 65536u : 1u << bits) : 1;
  memset(ib.p, 0, bytes);
  for (size_t i = 0; i < n && bits; ++i) {
    uint32_t r = in.at < in.n ? fz_u32(&in) : (uint32_t)fz_rand(&in);
    unsigned v = (ichoice & 1) || !k ? r % range : r % (k < range ? k : range);
    fz_index_put(ib.p, fmt, i, v);
  }
  if (bits && bits != 8 && bits != 16 && (ichoice & 2) && bytes) /* junk in the unused high bits */
    ib.p[bytes - 1] |= (uint8_t)(0xFFu << ((n * bits) % 8 ? (n * bits) % 8 : 8));

  clusterrt_isa isas[4];
  int nIsa = fz_isas(isas);
  float *ref = NULL;
  clusterrt_status refSt = CLUSTERRT_OK;
  for (int t = 0; t < nIsa; ++t) {
    fz_set_isa(isas[t]);
    FzBuf wb = fz_buf(n * sizeof(float), offW);
    clusterrt_status st =
        perChannel ? clusterrt_decode_per_channel_f32(ib.p, fmt, outer, channels, inner, c, k,
                                                      (float *)wb.p)
                   : clusterrt_decode_f32(ib.p, fmt, n, c, k, (float *)wb.p);
    if (t == 0) {
      refSt = st;
      ref = malloc(n ? n * sizeof(float) : 1);
      memcpy(ref, wb.p, n * sizeof(float));
    } else {
      FZ_CHECK(st == refSt, "%s status %d, generic %d (n=%zu k=%zu fmt=%u)",
               clusterrt_isa_name(isas[t]), (int)st, (int)refSt, n, k, bits);
      if (st == CLUSTERRT_OK)
        FZ_CHECK(!memcmp(wb.p, ref, n * sizeof(float)), "%s output differs from "
                 "generic (n=%zu k=%zu fmt=%u)", clusterrt_isa_name(isas[t]), n, k, bits);
    }
    fz_free(&wb);
  }
  fz_set_isa(isas[0]);

  if (refSt == CLUSTERRT_OK) {
    for (size_t i = 0; i < n; ++i) {
      unsigned j = fz_index_at(ib.p, fmt, i);
      size_t ch = perChannel ? (i / inner) % channels : 0;
      FZ_CHECK(j < k, "index %u >= k=%zu accepted at %zu", j, k, i);
      FZ_CHECK(!memcmp(&ref[i], &c[ch * k + j], 4), "element %zu is not c[%u]", i, j);
    }
  } else if (refSt == CLUSTERRT_ERR_INDEX) {
    int bad = 0;
    for (size_t i = 0; i < n && !bad; ++i)
      bad = fz_index_at(ib.p, fmt, i) >= k;
    FZ_CHECK(bad, "ERR_INDEX with every index < k=%zu", k);
  }
  free(ref);
  fz_free(&ib);
  fz_free(&cb);
  return 0;
}
