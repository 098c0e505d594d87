/*
 * clusterrt_decode_f32 on one ISA (argv[1]) against the definition
 * w[i] = c[idx[i]], bit for bit (including -0 and denormal centroids).
 * Sweeps n = 0..80, odd primes, a large n; every byte offset of idx and
 * float offset of w within 64 bytes (also for n >= 1000, where the entry
 * point aligns the bulk of w); guard bytes around w; each format
 * (the five aligned ones fully, the eleven odd widths on a smaller sweep)
 * with k from 1 to its maximum (sizes that pick each in-register table
 * width: 16, 32, 64, 128, 256 entries, and the gather beyond); out-of-range indices give CLUSTERRT_ERR_INDEX
 * wherever they are.
 */
#include "test-util.h"

static void check_one(clusterrt_index_format f, size_t n, size_t k,
                      size_t ioff, size_t woff, const float *c) {
  size_t bytes = clusterrt_index_bytes(f, n);
  t_buf ib = t_buf_new(bytes, ioff);
  t_buf wb = t_buf_new(n * sizeof(float), woff * sizeof(float));
  memset(ib.p, 0, bytes);
  for (size_t i = 0; i < n; i++) t_set(ib.p, f, i, (uint32_t)(t_rand() % k));
  float *w = (float *)(void *)wb.p;
  CHECK(clusterrt_decode_f32(ib.p, f, n, c, k, w) == CLUSTERRT_OK);
  for (size_t i = 0; i < n; i++) {
    float want = c[t_get(ib.p, f, i)];
    if (memcmp(&want, &w[i], 4) != 0) {
      CHECK_MSG(0, "fmt=%s n=%zu k=%zu i=%zu", clusterrt_format_name(f), n, k,
                i);
      break;
    }
  }
  CHECK_MSG(t_buf_guard_ok(&wb), "guard fmt=%s n=%zu", clusterrt_format_name(f),
            n);
  /* Again from a copy of idx that ends at an inaccessible page. */
  if (n <= 300) {
    t_edge e = t_edge_new(ib.p, bytes);
    float *w2 = malloc(n * sizeof *w2 + 1);
    CHECK(clusterrt_decode_f32(e.p, f, n, c, k, w2) == CLUSTERRT_OK);
    CHECK(n == 0 || memcmp(w, w2, n * sizeof *w) == 0);
    free(w2);
    t_edge_free(&e);
  }
  /* One bad index anywhere is reported (when the format can hold one). */
  unsigned bits = clusterrt_format_bits(f);
  if (n > 0 && (bits == 16 ? k < 65536 : k < (1u << bits))) {
    size_t pos = t_rand() % n;
    uint32_t save = t_get(ib.p, f, pos);
    t_set(ib.p, f, pos, (uint32_t)k);
    CHECK_MSG(clusterrt_decode_f32(ib.p, f, n, c, k, w) == CLUSTERRT_ERR_INDEX,
              "bad index not reported fmt=%s n=%zu k=%zu pos=%zu",
              clusterrt_format_name(f), n, k, pos);
    t_set(ib.p, f, pos, save);
  }
  t_buf_free(&ib);
  t_buf_free(&wb);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  float *c = malloc(65536 * sizeof *c);
  if (!c) return 2;
  for (size_t j = 0; j < 65536; j++) c[j] = t_gauss();
  c[0] = -0.0f;
  c[1] = 1e-40f;
  static const size_t big[] = {97, 1021, 4099, 65537, 300007};
  for (int fi = 0; fi < 5; fi++) {
    clusterrt_index_format f = t_formats[fi];
    unsigned bits = clusterrt_format_bits(f);
    size_t kmax = (size_t)1 << bits;
    size_t ks[] = {1,  2,   3,   5,   16,  17,  33,    65,
                   100, 129, 255, 256, 257, 65535, 65536};
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
      size_t k = ks[ki];
      if (k > kmax) continue;
      for (size_t n = 0; n <= 80; n++) check_one(f, n, k, n % 64, n % 16, c);
      for (size_t b = 0; b < sizeof big / sizeof big[0]; b++)
        check_one(f, big[b], k, b, b, c);
    }
    for (size_t io = 0; io < 64; io++)
      for (size_t wo = 0; wo < 16; wo++)
        check_one(f, 211, kmax < 7 ? kmax : 7, io, wo, c);
    /* Long enough for the entry point to split off a head that aligns w
     * (when the head ends on a byte of a packed format), at each float
     * offset of w. */
    for (size_t wo = 0; wo < 16; wo++)
      for (size_t n = 1000; n < 1003; n++) {
        check_one(f, n, kmax < 7 ? kmax : 7, wo * 5 % 64, wo, c);
        check_one(f, n, kmax < 300 ? kmax : 300, wo, wo, c);
      }
  }
  /* Odd widths (unpacked to u8/u16 before the kernels): k at the edges of
   * each width, sizes around the unpacking block, every byte offset. */
  static const size_t odd_n[] = {0, 1, 7, 8, 9, 63, 2047, 2048, 2049, 4099, 65537};
  for (size_t fi = 0; fi < T_NODD; fi++) {
    clusterrt_index_format f = t_odd_formats[fi];
    size_t kmax = (size_t)1 << clusterrt_format_bits(f);
    size_t ks[] = {1, 3, kmax / 2 + 1, kmax - 1, kmax};
    for (size_t ki = 0; ki < 5; ki++) {
      for (size_t n = 0; n <= 40; n++) check_one(f, n, ks[ki], n % 64, n % 16, c);
      for (size_t b = 0; b < sizeof odd_n / sizeof odd_n[0]; b++)
        check_one(f, odd_n[b], ks[ki], b, b, c);
    }
    for (size_t io = 0; io < 64; io += 5) check_one(f, 1001, 5, io, io % 16, c);
  }
  uint8_t idx[4] = {0};
  float w[4];
  CHECK(clusterrt_decode_f32(NULL, CLUSTERRT_IDX_U8, 4, c, 4, w) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_decode_f32(idx, CLUSTERRT_IDX_U8, 4, c, 0, w) ==
        CLUSTERRT_ERR_K);
  CHECK(clusterrt_decode_f32(idx, (clusterrt_index_format)17, 4, c, 4, w) ==
        CLUSTERRT_ERR_FORMAT);
  free(c);
  return t_finish("decode", isa);
}
