/*
 * Optimizer steps, AVX2: the arithmetic of optim.c eight lanes wide, in the
 * same order, no FMA (built with -ffp-contract=off), so bit-identical to
 * the generic kernels. The n % 8 tail runs the generic kernel.
 */
#include "internal.h"

#include <immintrin.h>

static inline void sgd8(float *w, const float *g, float *v, size_t n,
                        float lr, float momentum, float wd, int has_mom,
                        int has_v, int has_wd) {
  __m256 vlr = _mm256_set1_ps(lr), vmo = _mm256_set1_ps(momentum),
         vwd = _mm256_set1_ps(wd);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 wi = _mm256_loadu_ps(w + i), d = _mm256_loadu_ps(g + i);
    if (has_wd) d = _mm256_add_ps(d, _mm256_mul_ps(vwd, wi));
    if (has_mom) d = _mm256_add_ps(_mm256_mul_ps(vmo, _mm256_loadu_ps(v + i)), d);
    if (has_v) _mm256_storeu_ps(v + i, d);
    _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, _mm256_mul_ps(vlr, d)));
  }
  if (i < n)
    clusterrt_sgd__generic(w + i, g + i, has_v ? v + i : NULL, n - i, lr,
                           momentum, wd);
}

void clusterrt_sgd__avx2(float *w, const float *g, float *v, size_t n,
                         float lr, float momentum, float wd) {
  int has_wd = wd != 0.0f;
  if (momentum != 0.0f) {
    if (has_wd) sgd8(w, g, v, n, lr, momentum, wd, 1, 1, 1);
    else sgd8(w, g, v, n, lr, momentum, wd, 1, 1, 0);
  } else if (v) {
    if (has_wd) sgd8(w, g, v, n, lr, momentum, wd, 0, 1, 1);
    else sgd8(w, g, v, n, lr, momentum, wd, 0, 1, 0);
  } else {
    if (has_wd) sgd8(w, g, v, n, lr, momentum, wd, 0, 0, 1);
    else sgd8(w, g, v, n, lr, momentum, wd, 0, 0, 0);
  }
}

void clusterrt_adam__avx2(float *w, const float *g, float *m, float *v,
                          size_t n, const rt_adam_consts *k) {
  __m256 b1 = _mm256_set1_ps(k->b1), omb1 = _mm256_set1_ps(k->omb1),
         b2 = _mm256_set1_ps(k->b2), omb2 = _mm256_set1_ps(k->omb2),
         nss = _mm256_set1_ps(k->nss), bc2s = _mm256_set1_ps(k->bc2s),
         eps = _mm256_set1_ps(k->eps);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 gi = _mm256_loadu_ps(g + i);
    __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)),
                              _mm256_mul_ps(omb1, gi));
    __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                              _mm256_mul_ps(_mm256_mul_ps(omb2, gi), gi));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2s), eps);
    __m256 up = _mm256_div_ps(_mm256_mul_ps(nss, mi), den);
    _mm256_storeu_ps(w + i, _mm256_add_ps(_mm256_loadu_ps(w + i), up));
  }
  if (i < n) clusterrt_adam__generic(w + i, g + i, m + i, v + i, n - i, k);
}
