/*
 * A program that uses only libclusterrt, built by test-install.sh with
 *   cc rt-consumer.c $(pkg-config --cflags --libs clusterrt)
 * against the installed prefix: clusters 1,000 values into 16 centroids,
 * decodes them and checks that every value went to its nearest centroid.
 */
#include <math.h>
#include <stdio.h>

#include "clusterc/runtime.h"

enum { N = 1000, K = 16 };

int main(void) {
  static float w[N], c[K], d[N];
  static unsigned char idx[N];
  for (int i = 0; i < N; ++i)
    w[i] = sinf((float)i * 0.37f) * (float)(i % 7);
  clusterrt_cluster_options o = {K, CLUSTERRT_INIT_KMEANSPP, 1, 0, 0, 0};
  size_t k = 0;
  clusterrt_status s =
      clusterrt_cluster_f32(w, N, &o, c, &k, CLUSTERRT_IDX_U8, idx);
  if (s == CLUSTERRT_OK)
    s = clusterrt_decode_f32(idx, CLUSTERRT_IDX_U8, N, c, k, d);
  if (s != CLUSTERRT_OK) {
    fprintf(stderr, "rt-consumer: %s\n", clusterrt_status_string(s));
    return 1;
  }
  for (int i = 0; i < N; ++i)
    for (size_t j = 0; j < k; ++j)
      if (fabsf(w[i] - c[j]) < fabsf(w[i] - d[i])) {
        fprintf(stderr, "rt-consumer: w[%d] not at its nearest centroid\n", i);
        return 1;
      }
  printf("rt-consumer: ok, k=%zu, isa=%s\n", k,
         clusterrt_isa_name(clusterrt_get_isa()));
  return 0;
}
