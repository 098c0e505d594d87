/*
 * Optimizer steps, AVX-512F: the arithmetic of optim.c sixteen lanes wide,
 * in the same order, no FMA (built with -ffp-contract=off), so
 * bit-identical to the generic kernels. The tail is one masked step: masked
 * loads and stores touch no element at or past n.
 */
#include "internal.h"

#include <immintrin.h>

static inline __mmask16 tail_mask(size_t r) {
  return (__mmask16)((1u << r) - 1u);
}

/* One step of 16 lanes (k = the lanes < n). */
static inline __attribute__((always_inline)) void
sgd_step(float *w, const float *g, float *v, size_t i, __mmask16 k,
         __m512 vlr, __m512 vmo, __m512 vwd, int has_mom, int has_v,
         int has_wd) {
  __m512 wi = _mm512_maskz_loadu_ps(k, w + i);
  __m512 d = _mm512_maskz_loadu_ps(k, g + i);
  if (has_wd) d = _mm512_add_ps(d, _mm512_mul_ps(vwd, wi));
  if (has_mom)
    d = _mm512_add_ps(_mm512_mul_ps(vmo, _mm512_maskz_loadu_ps(k, v + i)), d);
  if (has_v) _mm512_mask_storeu_ps(v + i, k, d);
  _mm512_mask_storeu_ps(w + i, k, _mm512_sub_ps(wi, _mm512_mul_ps(vlr, d)));
}

static inline void sgd16(float *w, const float *g, float *v, size_t n,
                         float lr, float momentum, float wd, int has_mom,
                         int has_v, int has_wd) {
  __m512 vlr = _mm512_set1_ps(lr), vmo = _mm512_set1_ps(momentum),
         vwd = _mm512_set1_ps(wd);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) /* full steps: the constant mask folds away */
    sgd_step(w, g, v, i, (__mmask16)0xffff, vlr, vmo, vwd, has_mom, has_v,
             has_wd);
  if (i < n)
    sgd_step(w, g, v, i, tail_mask(n - i), vlr, vmo, vwd, has_mom, has_v,
             has_wd);
}

void clusterrt_sgd__avx512(float *w, const float *g, float *v, size_t n,
                           float lr, float momentum, float wd) {
  int has_wd = wd != 0.0f;
  if (momentum != 0.0f) {
    if (has_wd) sgd16(w, g, v, n, lr, momentum, wd, 1, 1, 1);
    else sgd16(w, g, v, n, lr, momentum, wd, 1, 1, 0);
  } else if (v) {
    if (has_wd) sgd16(w, g, v, n, lr, momentum, wd, 0, 1, 1);
    else sgd16(w, g, v, n, lr, momentum, wd, 0, 1, 0);
  } else {
    if (has_wd) sgd16(w, g, v, n, lr, momentum, wd, 0, 0, 1);
    else sgd16(w, g, v, n, lr, momentum, wd, 0, 0, 0);
  }
}

static inline __attribute__((always_inline)) void
adam_step(float *w, const float *g, float *m, float *v, size_t i, __mmask16 k,
          __m512 b1, __m512 omb1, __m512 b2, __m512 omb2, __m512 nss,
          __m512 bc2s, __m512 eps) {
  __m512 gi = _mm512_maskz_loadu_ps(k, g + i);
  __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(k, m + i)),
                            _mm512_mul_ps(omb1, gi));
  __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(k, v + i)),
                            _mm512_mul_ps(_mm512_mul_ps(omb2, gi), gi));
  _mm512_mask_storeu_ps(m + i, k, mi);
  _mm512_mask_storeu_ps(v + i, k, vi);
  __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2s), eps);
  __m512 up = _mm512_div_ps(_mm512_mul_ps(nss, mi), den);
  _mm512_mask_storeu_ps(w + i, k,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(k, w + i), up));
}

void clusterrt_adam__avx512(float *w, const float *g, float *m, float *v,
                            size_t n, const rt_adam_consts *c) {
  __m512 b1 = _mm512_set1_ps(c->b1), omb1 = _mm512_set1_ps(c->omb1),
         b2 = _mm512_set1_ps(c->b2), omb2 = _mm512_set1_ps(c->omb2),
         nss = _mm512_set1_ps(c->nss), bc2s = _mm512_set1_ps(c->bc2s),
         eps = _mm512_set1_ps(c->eps);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    adam_step(w, g, m, v, i, (__mmask16)0xffff, b1, omb1, b2, omb2, nss, bc2s,
              eps);
  if (i < n)
    adam_step(w, g, m, v, i, tail_mask(n - i), b1, omb1, b2, omb2, nss, bc2s,
              eps);
}
