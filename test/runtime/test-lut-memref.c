/*
 * clusterrt_mlir_lut_matmul (memref-abi.c), the entry point decode=fused
 * models call: for every batch b, y[b] must equal clusterrt_lut_gemm_f32
 * (M > 1) or clusterrt_lut_gemv_f32 (M = 1) on dense copies, bit for bit,
 * with strided x and y (element strides 2 and 3, copied by the wrapper),
 * one index matrix shared by the batches or one per batch, per-tensor and
 * per-channel tables, every bit width; bad descriptors are
 * CLUSTERRT_ERR_ARG. Runs on the ISA given (test-util.h).
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
int32_t _mlir_ciface_clusterrt_mlir_lut_matmul(const M3 *x, const M1B *idx,
                                               int32_t bits, const M1F *c,
                                               int32_t k, int32_t group, M3 *y);

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
  return t_finish("lut memref entry", isa);
}
