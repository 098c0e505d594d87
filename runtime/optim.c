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

/* Tensors of this many elements or more are updated on every thread, in
 * parts of whole cache lines: the update is element by element, so any
 * split gives the same bits. (Adam reads four arrays and writes three:
 * ResNet-18's 11.2 M parameters are ~7 % of its one-thread step, all on
 * the calling thread before.) */
#define OPTIM_PARALLEL_MIN ((size_t)1 << 17)

typedef struct OptimJob {
  float *w, *m, *v;
  const float *g;
  size_t n, per;
  const rt_adam_consts *k;            /* Adam; else SGD: */
  float lr, momentum, wd;
} OptimJob;

static void optimPart(void *ctx, size_t part) {
  const OptimJob *J = ctx;
  size_t lo = part * J->per, len = J->n - lo < J->per ? J->n - lo : J->per;
  float *m = J->m ? J->m + lo : NULL, *v = J->v ? J->v + lo : NULL;
  if (J->k)
    rt_get_kernels()->adam(J->w + lo, J->g + lo, m, v, len, J->k);
  else
    rt_get_kernels()->sgd(J->w + lo, J->g + lo, v, len, J->lr, J->momentum, J->wd);
}

/* Runs J over the pool (or here, for small tensors or one thread). */
static void optimRun(OptimJob *J) {
  size_t T = (size_t)rt_threads();
  if (T < 2 || J->n < OPTIM_PARALLEL_MIN) {
    J->per = J->n;
    optimPart(J, 0);
    return;
  }
  size_t parts = 2 * T;
  J->per = ((J->n + parts - 1) / parts + 15) / 16 * 16;
  rt_parallel((J->n + J->per - 1) / J->per, optimPart, J);
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
  OptimJob J = {.w = w, .g = g, .v = v, .n = n, .lr = lr, .momentum = momentum,
               .wd = weight_decay};
  optimRun(&J);
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
  OptimJob J = {.w = w, .g = g, .m = m, .v = v, .n = n, .k = &k};
  optimRun(&J);
  return CLUSTERRT_OK;
}
