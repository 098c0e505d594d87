/*
 * clusterrt_assign_f32 and clusterrt_assign_per_channel_f32 on one ISA
 * (argv[1]) against the brute-force definition (test-util.h), which the
 * generic kernel must also match; so every ISA is bit-identical to generic.
 *
 * Sweeps: n = 0..80 (several 16-lane vectors) plus odd primes and a large
 * n; every float offset within a 64-byte line for w and every byte offset
 * for idx; 64 guard bytes around idx; K = 1, 2, 3, 16, 17, 33, 64, 65,
 * 100, 129, 255, 256, 257, 1000, 5000, 65536 in the narrowest aligned
 * format, the dense one (any width: u3, u5, u6, u7, u9, u10, u13) and u16; centroid tables sorted, unsorted,
 * with duplicates and -0/+0, on an integer grid (exact midpoints); weights
 * with ties, +-0, denormals, +-Inf, huge values (rounding plateaus).
 */
#include "test-util.h"

#include <float.h>
#include <stdbool.h>

/* The list, plus sizes that reach each depth of the AVX-512
 * register search (P = 32, 64, 128). */
static const size_t Ks[] = {1,  2,  3,   5,   16,  17,  33,  64,   65,
                            100, 129, 255, 256, 257, 1000, 5000, 65536};

/* Fills c[0..k) in one of four styles. */
static void make_centroids(float *c, size_t k, int style) {
  for (size_t j = 0; j < k; j++) {
    switch (style) {
    case 0: /* sorted, evenly spaced */
      c[j] = k == 1 ? 0.0f : -1.0f + 2.0f * (float)j / (float)(k - 1);
      break;
    case 1: /* unsorted random */
      c[j] = t_gauss() * 0.5f;
      break;
    case 2: { /* duplicates, -0 and +0, denormals */
      static const float pool[] = {-0.0f, 0.0f, 0.25f, -0.25f, 1e-40f,
                                   -1e-40f, 0.5f, 0.25f, 1.0f, -3.0f};
      c[j] = (t_rand() % 4 == 0) ? t_gauss() : pool[t_rand() % 10];
      break;
    }
    default: /* integer grid, shuffled: many exact midpoints */
      c[j] = (float)((int)(t_rand() % (2 * k + 3)) - (int)k);
      break;
    }
  }
}

static float special_weight(const float *c, size_t k) {
  switch (t_rand() % 12) {
  case 0: return 0.0f;
  case 1: return -0.0f;
  case 2: return (t_rand() & 1 ? 1 : -1) * 1e-40f;
  case 3: return INFINITY;
  case 4: return -INFINITY;
  case 5: return (t_rand() & 1 ? 1 : -1) * 1e30f;
  case 6: return c[t_rand() % k];
  case 7: { /* an exact or nearly exact midpoint */
    float a = c[t_rand() % k], b = c[t_rand() % k];
    return (a + b) * 0.5f;
  }
  case 8: return (float)((int)(t_rand() % 41) - 20) * 0.5f;
  case 9: return 3e38f;
  case 10: return -3e38f;
  default: return t_gauss() * 1e-3f;
  }
}

static void make_weights(float *w, size_t n, const float *c, size_t k,
                         int style) {
  for (size_t i = 0; i < n; i++) {
    if (t_rand() % 4 == 0)
      w[i] = special_weight(c, k);
    else
      w[i] = style == 3 ? (float)((int)(t_rand() % 61) - 30) * 0.5f
                        : t_gauss() * 0.6f;
  }
}

static int check_one(const float *w, size_t n, const float *c, size_t k,
                     clusterrt_index_format f, size_t woff, size_t ioff) {
  t_buf wb = t_buf_new(n * sizeof(float), woff * sizeof(float));
  float *wp = (float *)(void *)wb.p;
  if (n) memcpy(wp, w, n * sizeof(float));
  size_t bytes = clusterrt_index_bytes(f, n);
  t_buf ib = t_buf_new(bytes, ioff);
  clusterrt_status s = clusterrt_assign_f32(wp, n, c, k, f, ib.p);
  int bad = 0;
  CHECK_MSG(s == CLUSTERRT_OK, "status %d n=%zu k=%zu", (int)s, n, k);
  if (s == CLUSTERRT_OK) {
    for (size_t i = 0; i < n && !bad; i++) {
      uint32_t want = t_ref_assign_one(w[i], c, k), got = t_get(ib.p, f, i);
      if (want != got) {
        CHECK_MSG(want == got,
                  "n=%zu k=%zu fmt=%s i=%zu w=%a want %u (%a) got %u (%a)", n,
                  k, clusterrt_format_name(f), i, (double)w[i], want,
                  (double)c[want], got, got < k ? (double)c[got] : 0.0);
        bad = 1;
      }
    }
    /* Unused high bits of the last byte are zero. */
    unsigned bits = clusterrt_format_bits(f);
    if (bits != 8 && bits != 16 && (n * bits) % 8)
      CHECK((ib.p[bytes - 1] >> ((n * bits) % 8)) == 0);
  }
  CHECK_MSG(t_buf_guard_ok(&ib), "guard bytes overwritten n=%zu k=%zu", n, k);
  /* Again from a copy of w that ends at an inaccessible page. */
  if (n <= 100 && k <= 300 && s == CLUSTERRT_OK) {
    t_edge e = t_edge_new(w, n * sizeof(float));
    uint8_t *i2 = malloc(bytes + 1);
    CHECK(clusterrt_assign_f32((const float *)(void *)e.p, n, c, k, f, i2) ==
          CLUSTERRT_OK);
    CHECK(bytes == 0 || memcmp(ib.p, i2, bytes) == 0);
    free(i2);
    t_edge_free(&e);
  }
  t_buf_free(&wb);
  t_buf_free(&ib);
  return bad;
}

static void sweep(void) {
  static const size_t big[] = {97, 257, 1021, 4099, 100003};
  size_t maxn = 100003;
  float *w = malloc(maxn * sizeof *w), *c = malloc(65536 * sizeof *c);
  if (!w || !c) exit(2);
  for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
    size_t k = Ks[ki];
    clusterrt_index_format fs[3] = {clusterrt_narrowest_format(k),
                                     CLUSTERRT_IDX_U16,
                                     clusterrt_dense_format(k)};
    int nf = fs[2] == fs[0] || fs[2] == fs[1] ? 2 : 3;
    for (int style = 0; style < 4; style++) {
      if (t_quick && k > 4096 && style % 2) continue;
      make_centroids(c, k, style);
      for (int fi = 0; fi < nf; fi++) {
        clusterrt_index_format f = fs[fi];
        /* Small n, all of them; brute force costs n*k, keep k large rare. */
        size_t step = k > 300 ? 11 : 1;
        for (size_t n = 0; n <= 80; n += step) {
          make_weights(w, n, c, k, style);
          check_one(w, n, c, k, f, n % 16, n % 64);
        }
        for (size_t b = 0; b < sizeof big / sizeof big[0]; b++) {
          size_t n = big[b];
          if ((k > 300 || (k > 17 && k < 255) || t_quick) && n > 4099)
            continue;
          if (k > 4096 && t_quick && n > 257) continue;
          if (k > 4096 && n > 1021) continue;
          make_weights(w, n, c, k, style);
          check_one(w, n, c, k, f, b, 3 * b);
        }
      }
    }
  }
  /* Every offset of w (in floats) and idx (in bytes) within 64 bytes. */
  make_centroids(c, 16, 1);
  make_weights(w, 203, c, 16, 1);
  for (size_t wo = 0; wo < 16; wo++)
    for (size_t io = 0; io < 64; io++)
      check_one(w, 203, c, 16, io % 2 ? CLUSTERRT_IDX_U8 : CLUSTERRT_IDX_U4,
                wo, io);
  make_centroids(c, 300, 1);
  make_weights(w, 203, c, 300, 1);
  for (size_t wo = 0; wo < 16; wo++)
    check_one(w, 203, c, 300, CLUSTERRT_IDX_U16, wo, 2 * wo + 1);
  free(w);
  free(c);
}

/* Plateaus: weights so far from the centroids that rounding makes several
 * of them equally distant; the lowest caller index must win. */
static void plateaus(void) {
  float c[6] = {1.0f, 0.5f, 1.0f + 0x1p-23f, 0.75f, -2.0f, 3.0f};
  float w[8] = {1e9f, -1e9f, 1e30f, -1e30f, 16777216.0f, 3e38f, -3e38f, 1e20f};
  for (size_t k = 1; k <= 6; k++) check_one(w, 8, c, k, CLUSTERRT_IDX_U8, 0, 0);
  /* Distances that overflow to Inf: beyond the end centroids every one
   * does, so all tie and the lowest caller index wins (fuzz-assign found
   * the count path giving the nearer value's index here). */
  float c2[4] = {0x1.77aa48p+126f, 0x1.f77694p+104f, -0x1.8p+127f, 1.0f};
  float w2[8] = {-FLT_MAX, FLT_MAX, -0x1.fffffcp+127f, 0x1.fffffcp+127f,
                 -0x1p+127f, 0x1p+127f, -3e38f, 3e38f};
  for (size_t k = 1; k <= 4; k++)
    for (size_t wo = 0; wo < 16; wo += 5)
      check_one(w2, 8, c2, k, CLUSTERRT_IDX_U8, wo, 0);
}

static void errors(void) {
  float c[4] = {0, 1, 2, 3}, w[40];
  uint8_t idx[64];
  for (int i = 0; i < 40; i++) w[i] = (float)i * 0.1f;
  for (int pos = 0; pos < 40; pos += 3) {
    float save = w[pos];
    w[pos] = NAN;
    CHECK(clusterrt_assign_f32(w, 40, c, 4, CLUSTERRT_IDX_U8, idx) ==
          CLUSTERRT_ERR_NAN);
    w[pos] = save;
  }
  c[2] = NAN;
  CHECK(clusterrt_assign_f32(w, 40, c, 4, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NAN);
  c[2] = INFINITY;
  CHECK(clusterrt_assign_f32(w, 40, c, 4, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NAN);
  c[2] = 2;
  CHECK(clusterrt_assign_f32(NULL, 40, c, 4, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_assign_f32(w, 40, NULL, 4, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_assign_f32(w, 40, c, 4, CLUSTERRT_IDX_U8, NULL) ==
        CLUSTERRT_ERR_NULL);
  CHECK(clusterrt_assign_f32(w, 40, c, 0, CLUSTERRT_IDX_U8, idx) ==
        CLUSTERRT_ERR_K);
  CHECK(clusterrt_assign_f32(w, 40, c, 65537, CLUSTERRT_IDX_U16, idx) ==
        CLUSTERRT_ERR_K);
  CHECK(clusterrt_assign_f32(w, 40, c, 4, CLUSTERRT_IDX_U1, idx) ==
        CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_assign_f32(w, 40, c, 4, (clusterrt_index_format)17, idx) ==
        CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_assign_f32(w, 40, c, 9, CLUSTERRT_IDX_U3, idx) ==
        CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_assign_f32(NULL, 0, c, 4, CLUSTERRT_IDX_U2, NULL) ==
        CLUSTERRT_OK);
}

static void per_channel(void) {
  static const size_t shapes[][3] = {{1, 1, 1},  {2, 3, 5},  {3, 4, 7},
                                     {1, 8, 64}, {4, 2, 33}, {2, 5, 1}};
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    size_t outer = shapes[si][0], ch = shapes[si][1], inner = shapes[si][2];
    size_t n = outer * ch * inner;
    for (size_t kk = 0; kk < 6; kk++) {
      static const size_t pk[] = {3, 16, 200, 5, 64, 1000};
      size_t k = pk[kk];
      clusterrt_index_format f = kk < 3 ? clusterrt_narrowest_format(k)
                                        : clusterrt_dense_format(k);
      float *w = malloc(n * sizeof *w), *c = malloc(ch * k * sizeof *c);
      t_buf ib = t_buf_new(clusterrt_index_bytes(f, n), 1);
      if (!w || !c) exit(2);
      for (size_t q = 0; q < ch; q++) make_centroids(c + q * k, k, (int)(q % 4));
      make_weights(w, n, c, k, 1);
      CHECK(clusterrt_assign_per_channel_f32(w, outer, ch, inner, c, k, f,
                                             ib.p) == CLUSTERRT_OK);
      for (size_t e = 0; e < n; e++) {
        size_t q = (e / inner) % ch;
        CHECK_MSG(t_get(ib.p, f, e) == t_ref_assign_one(w[e], c + q * k, k),
                  "per-channel e=%zu", e);
      }
      CHECK(t_buf_guard_ok(&ib));
      /* Decode back per channel: every weight becomes its centroid. */
      float *d = malloc(n * sizeof *d + 1);
      CHECK(clusterrt_decode_per_channel_f32(ib.p, f, outer, ch, inner, c, k,
                                             d) == CLUSTERRT_OK);
      for (size_t e = 0; e < n; e++) {
        size_t q = (e / inner) % ch;
        CHECK(d[e] == c[q * k + t_ref_assign_one(w[e], c + q * k, k)]);
      }
      free(d);
      free(w);
      free(c);
      t_buf_free(&ib);
    }
  }
}

/* The reference of clusterrt_assign_grouped_f32 for one element of table
 * ct (k slots): t * k + the argmin, over the non-zero slots with sparse
 * (zeros to the first zero slot); -1 when that slot does not exist. */
static long ref_grouped(float x, const float *ct, size_t k, int sparse) {
  long best = -1;
  for (size_t j = 0; j < k; j++) {
    if (sparse && x == 0.0f) {
      if (ct[j] == 0.0f) return (long)j;
      continue;
    }
    if (sparse && ct[j] == 0.0f) continue;
    if (best < 0 || fabsf(x - ct[j]) < fabsf(x - ct[best])) best = (long)j;
  }
  return best;
}

/* Grouped tables with global indices, per tensor to per channel, with and
 * without sparse; runs longer than a block (RT_BLOCK) and of one element. */
static void grouped(void) {
  static const size_t shapes[][4] = {{1, 1, 1, 1},   {2, 3, 5, 1},  {3, 4, 7, 2},
                                     {1, 8, 64, 3},  {4, 2, 33, 2}, {2, 5, 1, 5},
                                     {1, 6, 5000, 4}, {7, 16, 1, 1}};
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    size_t outer = shapes[si][0], ch = shapes[si][1], inner = shapes[si][2];
    size_t group = shapes[si][3], T = (ch + group - 1) / group;
    size_t n = outer * ch * inner;
    for (size_t kk = 0; kk < 4; kk++) {
      static const size_t pk[] = {1, 3, 16, 200};
      size_t k = pk[kk];
      for (int sparse = 0; sparse < 2; sparse++) {
        clusterrt_index_format f = T * k > 256 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8;
        if (T * k > 65536) continue;
        float *w = malloc(n * sizeof *w), *c = malloc(T * k * sizeof *c);
        t_buf ib = t_buf_new(clusterrt_index_bytes(f, n), 1);
        if (!w || !c) exit(2);
        for (size_t t = 0; t < T; t++) {
          make_centroids(c + t * k, k, (int)(t % 4));
          if (sparse) c[t * k + (t % k)] = 0.0f; /* every table has a zero slot */
        }
        for (size_t e = 0; e < n; e++)
          w[e] = sparse && t_rand() % 3 == 0 ? (t_rand() & 1 ? 0.0f : -0.0f) : t_gauss();
        bool nonzero = true; /* sparse with k = 1: only the zero slot */
        for (size_t t = 0; sparse && t < T; t++) {
          size_t nz = 0;
          for (size_t j = 0; j < k; j++) nz += c[t * k + j] != 0.0f;
          nonzero &= nz > 0;
        }
        if (!nonzero)
          for (size_t e = 0; e < n; e++) w[e] = 0.0f;
        CHECK_MSG(clusterrt_assign_grouped_f32(w, outer, ch, inner, group, c, k, sparse, f,
                                               ib.p) == CLUSTERRT_OK,
                  "grouped shape %zu k=%zu sparse=%d", si, k, sparse);
        for (size_t e = 0; e < n; e++) {
          size_t t = (e / inner) % ch / group;
          long want = ref_grouped(w[e], c + t * k, k, sparse);
          CHECK_MSG(want >= 0 && t_get(ib.p, f, e) == t * k + (size_t)want,
                    "grouped shape %zu k=%zu sparse=%d e=%zu", si, k, sparse, e);
        }
        CHECK(t_buf_guard_ok(&ib));
        if (sparse && n > 1 && k > 1) { /* a table without a zero slot */
          for (size_t j = 0; j < k; j++)
            if (c[j] == 0.0f) c[j] = 1.0f;
          w[0] = 0.0f;
          CHECK(clusterrt_assign_grouped_f32(w, outer, ch, inner, group, c, k, 1, f,
                                             ib.p) == CLUSTERRT_ERR_ARG);
        }
        free(w);
        free(c);
        t_buf_free(&ib);
      }
    }
  }
  float w1 = 1, c300[300] = {0};
  uint8_t i8;
  CHECK(clusterrt_assign_grouped_f32(&w1, 1, 1, 1, 0, c300, 3, 0, CLUSTERRT_IDX_U8, &i8) ==
        CLUSTERRT_ERR_ARG);
  CHECK(clusterrt_assign_grouped_f32(&w1, 1, 1, 1, 1, c300, 300, 0, CLUSTERRT_IDX_U8, &i8) ==
        CLUSTERRT_ERR_FORMAT);
  CHECK(clusterrt_assign_grouped_f32(&w1, 1, 1, 1, 1, c300, 3, 0, CLUSTERRT_IDX_U4, &i8) ==
        CLUSTERRT_ERR_FORMAT);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  sweep();
  plateaus();
  errors();
  per_channel();
  grouped();
  return t_finish("assign", isa);
}
