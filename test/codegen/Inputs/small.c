/*
 * Calls both entry points of test/codegen/emit.mlir through the generated
 * header: @forward (a clustered matmul, x = ones) and @stats (a scalar
 * argument, an index result and a dynamically shaped out-parameter), then
 * @forward from four threads at once, which must all see the same output.
 *   cc -DMODEL_HEADER='"emit.h"' small.c emit.o libclusterrt.a -lm -pthread
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include MODEL_HEADER

static void forward(float y[16]) {
  float x[32];
  for (int i = 0; i < 32; ++i)
    x[i] = 1.0f;
  int64_t xs[2] = {2, 16}, ys[2] = {2, 8};
  clusterc_memref_2d_f32 in = clusterc_memref_2d_f32_of(x, xs);
  clusterc_memref_2d_f32 out = clusterc_memref_2d_f32_of(y, ys);
  _mlir_ciface_forward(&in, &out);
}

static void *worker(void *arg) {
  float *ref = arg, y[16];
  for (int i = 0; i < 200; ++i) {
    forward(y);
    if (memcmp(y, ref, sizeof y))
      return (void *)1;
  }
  return NULL;
}

int main(void) {
  float y[16];
  forward(y);
  printf("forward:");
  for (int i = 0; i < 16; ++i)
    printf(" %g", y[i]);
  printf("\n");

  float v[5] = {1, 2, 3, 4, 5}, r[5] = {0};
  int64_t n[1] = {5};
  clusterc_memref_1d_f32 a = clusterc_memref_1d_f32_of(v, n);
  clusterc_memref_1d_f32 b = clusterc_memref_1d_f32_of(r, n);
  int64_t k = _mlir_ciface_stats(&a, 2.5f, 5, &b);
  printf("stats: %lld:", (long long)k);
  for (int i = 0; i < 5; ++i)
    printf(" %g", r[i]);
  printf("\n");

  pthread_t t[4];
  int bad = 0;
  for (int i = 0; i < 4; ++i)
    if (pthread_create(&t[i], NULL, worker, y))
      return 1;
  for (int i = 0; i < 4; ++i) {
    void *res;
    pthread_join(t[i], &res);
    bad |= res != NULL;
  }
  printf("threads: %s\n", bad ? "DIFFERENT" : "same");
  return bad;
}
