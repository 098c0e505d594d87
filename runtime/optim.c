/*
 * Optimizer steps: SGD with momentum and Adam, PyTorch's conventions
 * (include/clusterc/runtime.h has the formulas).
 *
 * The entry points check the arguments and turn the hyper-parameters into
 * the float constants of the per-element update (rt_adam_consts), computed
 * in double and rounded once, as PyTorch does with its Python-float
 * scalars. The kernels then use only float multiplies, adds, one divide and
 * one square root per element, in the order written below; those are
 * correctly rounded everywhere and this file and the ISA variants are
 * built with -ffp-contract=off, so every ISA gives bit-identical results.
 *
 * The generic loops are plain enough for the compiler to vectorize (SSE2
 * on x86-64, NEON on AArch64); optim-avx2.c and optim-avx512.c do the same
 * arithmetic 8 and 16 lanes wide.
 */
#include "internal.h"

#include <math.h>

/* Each case is its own loop, so each vectorizes without branches. */
void clusterrt_sgd__generic(float *w, const float *g, float *v, size_t n,
                            float lr, float momentum, float wd) {
  if (momentum != 0.0f) {
    if (wd != 0.0f)
      for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        float b = momentum * v[i] + d;
        v[i] = b;
        w[i] = w[i] - lr * b;
      }
    else
      for (size_t i = 0; i < n; i++) {
        float b = momentum * v[i] + g[i];
        v[i] = b;
        w[i] = w[i] - lr * b;
      }
  } else if (v) {
    for (size_t i = 0; i < n; i++) {
      float d = wd != 0.0f ? g[i] + wd * w[i] : g[i];
      v[i] = d;
      w[i] = w[i] - lr * d;
    }
  } else if (wd != 0.0f) {
    for (size_t i = 0; i < n; i++) w[i] = w[i] - lr * (g[i] + wd * w[i]);
  } else {
    for (size_t i = 0; i < n; i++) w[i] = w[i] - lr * g[i];
  }
}

void clusterrt_adam__generic(float *w, const float *g, float *m, float *v,
                             size_t n, const rt_adam_consts *k) {
  const float b1 = k->b1, omb1 = k->omb1, b2 = k->b2, omb2 = k->omb2,
              nss = k->nss, bc2s = k->bc2s, eps = k->eps;
  for (size_t i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + omb1 * gi;
    float vi = b2 * v[i] + (omb2 * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] + (nss * mi) / (sqrtf(vi) / bc2s + eps);
  }
}

/* A hyper-parameter that must be finite and >= 0. */
static int bad_nonneg(float x) { return !(x >= 0.0f && x <= 3.4028235e38f); }

clusterrt_status clusterrt_sgd_f32(float *w, const float *g, float *v,
                                   size_t n, float lr, float momentum,
                                   float weight_decay) {
  if (n > 0 && (!w || !g || (momentum != 0.0f && !v)))
    return CLUSTERRT_ERR_NULL;
  if (bad_nonneg(lr) || bad_nonneg(momentum) || bad_nonneg(weight_decay))
    return CLUSTERRT_ERR_ARG;
  if (n == 0) return CLUSTERRT_OK;
  rt_get_kernels()->sgd(w, g, v, n, lr, momentum, weight_decay);
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_adam_f32(float *w, const float *g, float *m,
                                    float *v, size_t n, float lr, float beta1,
                                    float beta2, float eps, uint64_t step) {
  if (n > 0 && (!w || !g || !m || !v)) return CLUSTERRT_ERR_NULL;
  if (bad_nonneg(lr) || bad_nonneg(eps) || !(beta1 >= 0.0f && beta1 < 1.0f) ||
      !(beta2 >= 0.0f && beta2 < 1.0f) || step == 0)
    return CLUSTERRT_ERR_ARG;
  if (n == 0) return CLUSTERRT_OK;
  double bc1 = 1.0 - pow((double)beta1, (double)step);
  double bc2 = 1.0 - pow((double)beta2, (double)step);
  rt_adam_consts k;
  k.b1 = beta1;
  k.omb1 = (float)(1.0 - (double)beta1);
  k.b2 = beta2;
  k.omb2 = (float)(1.0 - (double)beta2);
  k.nss = (float)(-((double)lr / bc1));
  k.bc2s = (float)sqrt(bc2);
  k.eps = eps;
  rt_get_kernels()->adam(w, g, m, v, n, &k);
  return CLUSTERRT_OK;
}
