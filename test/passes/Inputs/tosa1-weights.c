/*
 * Runs tosa1-weights.mlir's compiled @model (3 inputs, 6 outputs) on
 * deterministic inputs and prints every output element's bits as a signed
 * 32-bit integer, one per line, for a bit-for-bit diff between builds.
 *
 *   cc -DMODEL_HEADER='"m.h"' tosa1-weights.c m.o libclusterrt.a -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include MODEL_HEADER

#define NUM(a) (sizeof(a) / sizeof *(a))

static float x[1 * 8 * 8 * 4], v[1 * 2 * 2 * 2 * 4], a[1 * 3 * 16];
static float y0[1 * 8 * 8 * 8], y1[1 * 8 * 8 * 8], y2[1 * 2 * 2 * 2 * 8];
static float y3[1 * 3 * 8], y4[1 * 3 * 8], y5[1 * 10 * 10 * 8];

static void fill(float *p, size_t n, uint32_t *s) {
  for (size_t i = 0; i < n; ++i) {
    *s = (*s * 1103515245u + 12345u) & 0x7FFFFFFFu;
    p[i] = (float)((int)((*s >> 8) % 256) - 128) / 64.0f;
  }
}

static void print(const float *p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int32_t b;
    memcpy(&b, &p[i], sizeof b);
    printf("%d\n", (int)b);
  }
}

int main(void) {
  uint32_t s = 7;
  fill(x, NUM(x), &s);
  fill(v, NUM(v), &s);
  fill(a, NUM(a), &s);
  clusterc_memref_4d_f32 mx = clusterc_memref_4d_f32_of(x, (int64_t[]){1, 8, 8, 4});
  clusterc_memref_5d_f32 mv = clusterc_memref_5d_f32_of(v, (int64_t[]){1, 2, 2, 2, 4});
  clusterc_memref_3d_f32 ma = clusterc_memref_3d_f32_of(a, (int64_t[]){1, 3, 16});
  clusterc_memref_4d_f32 r0 = clusterc_memref_4d_f32_of(y0, (int64_t[]){1, 8, 8, 8});
  clusterc_memref_4d_f32 r1 = clusterc_memref_4d_f32_of(y1, (int64_t[]){1, 8, 8, 8});
  clusterc_memref_5d_f32 r2 = clusterc_memref_5d_f32_of(y2, (int64_t[]){1, 2, 2, 2, 8});
  clusterc_memref_3d_f32 r3 = clusterc_memref_3d_f32_of(y3, (int64_t[]){1, 3, 8});
  clusterc_memref_3d_f32 r4 = clusterc_memref_3d_f32_of(y4, (int64_t[]){1, 3, 8});
  clusterc_memref_4d_f32 r5 = clusterc_memref_4d_f32_of(y5, (int64_t[]){1, 10, 10, 8});
  _mlir_ciface_model(&mx, &mv, &ma, &r0, &r1, &r2, &r3, &r4, &r5);
  print(y0, NUM(y0));
  print(y1, NUM(y1));
  print(y2, NUM(y2));
  print(y3, NUM(y3));
  print(y4, NUM(y4));
  print(y5, NUM(y5));
  return 0;
}
