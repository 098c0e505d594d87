/*
 * Runs a compiled model's `forward` on the deterministic input of
 * test/e2e/harness.py (an LCG, seed 7) and prints every output element's
 * bits as a signed 32-bit integer, one per line, so the output compares
 * bit for bit with the JIT run of the same model (printMemrefI32).
 *
 *   cc -DMODEL_HEADER='"model.h"' -DIN_RANK=2 -DIN_DIMS=1,784 \
 *      -DOUT_RANK=2 -DOUT_DIMS=1,10 harness.c model.o libclusterrt.a -lm
 *   ./a.out [N]   N > 0: also time N calls (median ns per call on stderr)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include MODEL_HEADER

#define CAT_(a, b, c) a##b##c
#define CAT(a, b, c) CAT_(a, b, c)
#define IN_T CAT(clusterc_memref_, IN_RANK, d_f32)
#define OUT_T CAT(clusterc_memref_, OUT_RANK, d_f32)
#define IN_OF CAT(clusterc_memref_, IN_RANK, d_f32_of)
#define OUT_OF CAT(clusterc_memref_, OUT_RANK, d_f32_of)

static size_t count(const int64_t *d, int r) {
  size_t n = 1;
  for (int i = 0; i < r; ++i)
    n *= (size_t)d[i];
  return n;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int64_t inDims[] = {IN_DIMS}, outDims[] = {OUT_DIMS};
  size_t n = count(inDims, IN_RANK), m = count(outDims, OUT_RANK);
  float *x = malloc(n * sizeof *x), *y = calloc(m, sizeof *y);
  if (!x || !y)
    return 1;
  uint32_t s = 7;
  for (size_t i = 0; i < n; ++i) {
    s = (s * 1103515245u + 12345u) & 0x7FFFFFFFu;
    x[i] = (float)((int)((s >> 8) % 256) - 128) / 64.0f;
  }
  IN_T in = IN_OF(x, inDims);
  OUT_T out = OUT_OF(y, outDims);
  _mlir_ciface_forward(&in, &out);
  for (size_t i = 0; i < m; ++i) {
    int32_t b;
    memcpy(&b, &y[i], sizeof b);
    printf("%d\n", (int)b);
  }
  int iters = argc > 1 ? atoi(argv[1]) : 0;
  if (iters > 0) {
    double *t = malloc((size_t)iters * sizeof *t);
    if (!t)
      return 1;
    for (int i = 0; i < iters; ++i) {
      double t0 = now();
      _mlir_ciface_forward(&in, &out);
      t[i] = now() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp);
    fprintf(stderr, "median %.0f ns per call (%d calls)\n", t[iters / 2], iters);
    free(t);
  }
  free(x);
  free(y);
  return 0;
}
