/*
 * clusterrt_mlir_lut_matmul (memref-abi.c), the entry point decode=fused
 * models call: for every batch b, y[b] must equal clusterrt_lut_gemm_f32
 * (M > 1) or clusterrt_lut_gemv_f32 (M = 1) on dense copies, bit for bit,
 * with strided x and y (element strides 2 and 3, copied by the wrapper),
 * one index matrix shared by the batches or one per batch, per-tensor and
 * per-channel tables, every bit width; bad descriptors are
 * CLUSTERRT_ERR_ARG. clusterrt_mlir_lut_conv (implicit im2col, the float
 * GEMM on panels decoded from the indices), NCHW and NHWC, strides,
 * dilations, odd sizes, batch 2, every width, per-tensor and per-channel
 * tables: within K * 2^-23 * sum |x * w| of the convolution summed in
 * double from an explicit im2col copy and the table lookups (any summation
 * order is within K * 2^-24 of it); a window past the input, a wrong
 * output size, too few index bytes, too short a table are
 * CLUSTERRT_ERR_ARG. Runs on the ISA given
 * (test-util.h).
 */
#include "test-util.h"

typedef struct M3 {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} M3;
typedef struct M1F {
  float *allocated, *aligned;
  int64_t offset, size, stride;
} M1F;
typedef struct M1B {
  uint8_t *allocated, *aligned;
  int64_t offset, size, stride;
} M1B;
typedef struct M1L {
  int64_t *allocated, *aligned;
  int64_t offset, size, stride;
} M1L;
int32_t _mlir_ciface_clusterrt_mlir_lut_matmul(const M3 *x, const M1B *idx,
                                               int32_t bits, const M1F *c,
                                               int32_t k, int32_t group, M3 *y);
int32_t _mlir_ciface_clusterrt_mlir_lut_conv(const M1F *x, const M1B *idx, int32_t bits,
                                             const M1F *c, int32_t k, int32_t group,
                                             const M1L *geometry, M1F *y);

static uint32_t s = 99;
static float rnd(void) {
  s = s * 1103515245u + 12345u;
  return (float)((s >> 8) & 0xFFFF) / 65536.0f - 0.5f;
}

static void one(unsigned bits, size_t B, size_t M, size_t K, size_t N,
                int perBatch, int perChannel) {
  clusterrt_index_format f = (clusterrt_index_format)bits;
  size_t k = bits >= 8 ? 20 : (1u << bits), rb = clusterrt_index_bytes(f, K);
  size_t mats = perBatch ? B : 1, tables = perChannel ? N : 1;
  uint8_t *idx = calloc(mats * N * rb + 1, 1);
  float *c = malloc(sizeof(float) * tables * k);
  float *x = malloc(sizeof(float) * B * M * K * 2 + 1);
  float *y = malloc(sizeof(float) * B * M * N * 3 + 1);
  float *xd = malloc(sizeof(float) * M * K + 1), *ref = malloc(sizeof(float) * M * N + 1);
  for (size_t i = 0; i < tables * k; ++i) c[i] = rnd();
  for (size_t i = 0; i < B * M * K * 2; ++i) x[i] = rnd();
  for (size_t i = 0; i < mats * N; ++i)
    for (size_t e = 0; e < K; ++e) {
      unsigned v = (s = s * 1103515245u + 12345u) >> 8;
      v %= (unsigned)k;
      uint8_t *row = idx + i * rb;
      if (bits == 16) {
        uint16_t h = (uint16_t)v;
        memcpy(row + 2 * e, &h, 2);
      } else {
        row[e * bits / 8] |= (uint8_t)(v << (e * bits % 8));
      }
    }
  M3 xm = {x, x, 0, {(int64_t)B, (int64_t)M, (int64_t)K},
           {(int64_t)(M * K * 2), (int64_t)(K * 2), 2}};
  M3 ym = {y, y, 0, {(int64_t)B, (int64_t)M, (int64_t)N},
           {(int64_t)(M * N * 3), (int64_t)(N * 3), 3}};
  M1B im = {idx, idx, 0, (int64_t)(mats * N * rb), 1};
  M1F cm = {c, c, 0, (int64_t)(tables * k), 1};
  int32_t st = _mlir_ciface_clusterrt_mlir_lut_matmul(&xm, &im, (int32_t)bits, &cm,
                                                      (int32_t)k, perChannel, &ym);
  CHECK_MSG(st == 0, "status %d bits %u B %zu M %zu K %zu N %zu", st, bits, B, M, K, N);
  for (size_t b = 0; b < B; ++b) {
    for (size_t i = 0; i < M * K; ++i) xd[i] = x[b * M * K * 2 + i * 2];
    const uint8_t *w = idx + (perBatch ? b * N * rb : 0);
    if (M == 1)
      clusterrt_lut_gemv_f32(xd, K, N, w, f, rb, c, k, (size_t)perChannel, ref);
    else
      clusterrt_lut_gemm_f32(xd, M, K, K, N, w, f, rb, c, k, (size_t)perChannel, ref, N);
    for (size_t i = 0; i < M * N; ++i)
      CHECK_MSG(memcmp(&ref[i], &y[b * M * N * 3 + i * 3], 4) == 0,
                "bits %u B %zu M %zu K %zu N %zu: y[%zu][%zu] %g != %g", bits, B, M,
                K, N, b, i, (double)y[b * M * N * 3 + i * 3], (double)ref[i]);
  }
  /* An index buffer of the wrong size, a table too small. */
  im.size = (int64_t)(mats * N * rb) + 1;
  CHECK(_mlir_ciface_clusterrt_mlir_lut_matmul(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                               perChannel, &ym) == CLUSTERRT_ERR_ARG);
  im.size = (int64_t)(mats * N * rb);
  cm.size = (int64_t)(tables * k) - 1;
  CHECK(_mlir_ciface_clusterrt_mlir_lut_matmul(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                               perChannel, &ym) == CLUSTERRT_ERR_ARG);
  free(idx), free(c), free(x), free(y), free(xd), free(ref);
}

/* A convolution: geometry {nchw, n, c, h, w, oc, oh, ow, kh, kw, sh, sw,
 * dh, dw}, oh and ow derived here. */
static void conv(unsigned bits, int nchw, size_t n, size_t c, size_t h, size_t w,
                 size_t oc, size_t kh, size_t kw, size_t sh, size_t sw, size_t dh,
                 size_t dw, size_t pad, int perChannel) {
  clusterrt_index_format f = (clusterrt_index_format)bits;
  /* pad: top = left = pad, bottom = right = pad + 1 (asymmetric, as TFLite's
   * SAME padding can be). */
  size_t pt = pad, pb = pad ? pad + 1 : 0, hp = h + pt + pb, wp = w + pt + pb;
  size_t oh = (hp - (kh - 1) * dh - 1) / sh + 1, ow = (wp - (kw - 1) * dw - 1) / sw + 1;
  size_t K = c * kh * kw, M = n * oh * ow, k = bits >= 8 ? 20 : (1u << bits);
  size_t rb = clusterrt_index_bytes(f, K), tables = perChannel ? oc : 1;
  uint8_t *idx = calloc(oc * rb + 1, 1);
  float *tab = malloc(sizeof(float) * tables * k), *x = malloc(sizeof(float) * n * c * h * w);
  float *y = malloc(sizeof(float) * M * oc), *cols = malloc(sizeof(float) * M * K);
  float *ref = malloc(sizeof(float) * M * oc);
  for (size_t i = 0; i < tables * k; ++i) tab[i] = rnd();
  for (size_t i = 0; i < n * c * h * w; ++i) x[i] = rnd();
  for (size_t r = 0; r < oc; ++r)
    for (size_t e = 0; e < K; ++e) {
      unsigned v = ((s = s * 1103515245u + 12345u) >> 8) % (unsigned)k;
      if (bits == 16) {
        uint16_t hv = (uint16_t)v;
        memcpy(idx + r * rb + 2 * e, &hv, 2);
      } else {
        idx[r * rb + e * bits / 8] |= (uint8_t)(v << (e * bits % 8));
      }
    }
  /* The explicit im2col: row (b, i, j), column in the filter's order. */
  for (size_t b = 0, m = 0; b < n; ++b)
    for (size_t i = 0; i < oh; ++i)
      for (size_t j = 0; j < ow; ++j, ++m)
        for (size_t ch = 0, e; ch < c; ++ch)
          for (size_t u = 0; u < kh; ++u)
            for (size_t v = 0; v < kw; ++v) {
              size_t hh = i * sh + u * dh, ww = j * sw + v * dw;
              e = nchw ? (ch * kh + u) * kw + v : (u * kw + v) * c + ch;
              int in = hh >= pt && hh - pt < h && ww >= pt && ww - pt < w;
              hh -= pt, ww -= pt;
              cols[m * K + e] = !in   ? 0.0f
                                : nchw ? x[((b * c + ch) * h + hh) * w + ww]
                                       : x[((b * h + hh) * w + ww) * c + ch];
            }
  double *bound = malloc(sizeof(double) * M * oc);
  for (size_t m = 0; m < M; ++m)
    for (size_t o = 0; o < oc; ++o) {
      const float *t = tab + (perChannel ? o * k : 0);
      double acc = 0, mag = 0;
      for (size_t e = 0; e < K; ++e) {
        unsigned v;
        if (bits == 16) {
          uint16_t hv;
          memcpy(&hv, idx + o * rb + 2 * e, 2);
          v = hv;
        } else {
          v = (idx[o * rb + e * bits / 8] >> (e * bits % 8)) & ((1u << bits) - 1u);
        }
        double pr = (double)cols[m * K + e] * (double)t[v];
        acc += pr, mag += pr < 0 ? -pr : pr;
      }
      ref[m * oc + o] = (float)acc;
      bound[m * oc + o] = (double)K * 0x1p-23 * mag + 1e-30;
    }
  int64_t geo[18] = {nchw, (int64_t)n, (int64_t)c, (int64_t)h, (int64_t)w, (int64_t)oc,
                     (int64_t)oh, (int64_t)ow, (int64_t)kh, (int64_t)kw, (int64_t)sh,
                     (int64_t)sw, (int64_t)dh, (int64_t)dw, (int64_t)pt, (int64_t)pb,
                     (int64_t)pt, (int64_t)pb};
  M1F xm = {x, x, 0, (int64_t)(n * c * h * w), 1}, ym = {y, y, 0, (int64_t)(M * oc), 1};
  M1F cm = {tab, tab, 0, (int64_t)(tables * k), 1};
  M1B im = {idx, idx, 0, (int64_t)(oc * rb), 1};
  M1L gm = {geo, geo, 0, 18, 1};
  int32_t st = _mlir_ciface_clusterrt_mlir_lut_conv(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                                    perChannel, &gm, &ym);
  CHECK_MSG(st == 0, "lut_conv status %d", st);
  for (size_t b = 0, m = 0; b < n; ++b)
    for (size_t i = 0; i < oh * ow; ++i, ++m)
      for (size_t o = 0; o < oc; ++o) {
        size_t at = nchw ? (b * oc + o) * oh * ow + i : m * oc + o;
        double d = (double)y[at] - (double)ref[m * oc + o];
        CHECK_MSG((d < 0 ? -d : d) <= bound[m * oc + o],
                  "lut_conv bits %u nchw %d c %zu h %zu w %zu oc %zu k %zux%zu s %zu,%zu d "
                  "%zu,%zu pad %zu: pixel %zu channel %zu: %g != %g",
                  bits, nchw, c, h, w, oc, kh, kw, sh, sw, dh, dw, pad, m, o, (double)y[at],
                  (double)ref[m * oc + o]);
      }
  /* A window that reaches past the (padded) input; an output of the wrong
   * size. */
  geo[3] = (int64_t)((oh - 1) * sh + (kh - 1) * dh - pt - pb);
  xm.size = (int64_t)(n * c * (size_t)geo[3] * w);
  CHECK(_mlir_ciface_clusterrt_mlir_lut_conv(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                             perChannel, &gm, &ym) == CLUSTERRT_ERR_ARG);
  geo[3] = (int64_t)h, xm.size = (int64_t)(n * c * h * w), ym.size--;
  CHECK(_mlir_ciface_clusterrt_mlir_lut_conv(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                             perChannel, &gm, &ym) == CLUSTERRT_ERR_ARG);
  /* Too few index bytes; too short a table (with padding, after the
   * padded copy is made: the ASan build checks that it is freed). */
  ym.size++, im.size--;
  CHECK(_mlir_ciface_clusterrt_mlir_lut_conv(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                             perChannel, &gm, &ym) == CLUSTERRT_ERR_ARG);
  im.size++, cm.size--;
  CHECK(_mlir_ciface_clusterrt_mlir_lut_conv(&xm, &im, (int32_t)bits, &cm, (int32_t)k,
                                             perChannel, &gm, &ym) == CLUSTERRT_ERR_ARG);
  free(idx), free(tab), free(x), free(y), free(cols), free(ref), free(bound);
}

int main(int argc, char **argv) {
  clusterrt_isa isa = t_select_isa(argc, argv);
  static const unsigned bitsl[] = {1, 2, 4, 8, 16};
  for (int bi = 0; bi < 5; ++bi)
    for (int v = 0; v < 4; ++v) {
      one(bitsl[bi], 1, 1, 37, 5, v & 1, v >> 1);
      one(bitsl[bi], 3, 1, 64, 9, v & 1, v >> 1);
      one(bitsl[bi], 2, 5, 13, 7, v & 1, v >> 1);
      one(bitsl[bi], 2, 17, 300, 19, v & 1, v >> 1);
    }
  for (int bi = 0; bi < 5; ++bi)
    for (int layout = 0; layout < 2; ++layout) {
      conv(bitsl[bi], layout, 1, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 0, bi & 1);
      conv(bitsl[bi], layout, 2, 5, 13, 10, 17, 3, 2, 2, 3, 1, 2, 0, !(bi & 1));
      conv(bitsl[bi], layout, 1, 7, 6, 6, 33, 1, 1, 2, 2, 1, 1, 0, 1);
      conv(bitsl[bi], layout, 1, 40, 8, 8, 9, 3, 3, 1, 1, 2, 2, 0, 0);
      conv(bitsl[bi], layout, 2, 4, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, bi & 1);
      conv(bitsl[bi], layout, 1, 3, 8, 8, 5, 3, 3, 2, 2, 1, 1, 2, 0);
    }
  return t_finish("lut memref entry", isa);
}
