/*
 * Runs the int8 TOSA model (Inputs/int8-tosa.mlir), the bf16 one
 * (Inputs/bf16-linalg.mlir) or an f32 one with 1x8 -> 1x4 (-DF32,
 * Inputs/tensor-arith.mlir), compiled to an object, on a fixed input and
 * prints the outputs, one a line (bf16 as its float value).
 *   cc -DINT8 -DMODEL_HEADER='"m.h"' int8-bf16.c m.o libclusterrt.a -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include MODEL_HEADER

int main(void) {
  int64_t xd[2] = {1, 8}, yd[2] = {1, 4};
#ifdef INT8
  int8_t x[8] = {-128, -5, 0, 3, 17, 100, 127, -60}, y[4] = {0};
  clusterc_memref_2d_i8 in = clusterc_memref_2d_i8_of(x, xd);
  clusterc_memref_2d_i8 out = clusterc_memref_2d_i8_of(y, yd);
  _mlir_ciface_forward(&in, &out);
  for (int i = 0; i < 4; ++i)
    printf("%d\n", y[i]);
#elif defined(F32)
  float x[8], y[4] = {0};
  for (int i = 0; i < 8; ++i)
    x[i] = 1.0f;
  clusterc_memref_2d_f32 in = clusterc_memref_2d_f32_of(x, xd);
  clusterc_memref_2d_f32 out = clusterc_memref_2d_f32_of(y, yd);
  _mlir_ciface_forward(&in, &out);
  for (int i = 0; i < 4; ++i)
    printf("%g\n", y[i]);
#else
  uint16_t x[8], y[4] = {0};
  for (int i = 0; i < 8; ++i)
    x[i] = 0x3F80; /* 1.0 */
  clusterc_memref_2d_bf16 in = clusterc_memref_2d_bf16_of(x, xd);
  clusterc_memref_2d_bf16 out = clusterc_memref_2d_bf16_of(y, yd);
  _mlir_ciface_forward(&in, &out);
  for (int i = 0; i < 4; ++i) {
    uint32_t bits = (uint32_t)y[i] << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    printf("%g\n", f);
  }
#endif
  return 0;
}
