/*
 * Runtime ISA dispatch.
 *
 * The kernel set is chosen once, at the first call that needs it: the one
 * named by the environment variable CLUSTERRT_ISA (generic, avx2, avx512,
 * neon) if this CPU and build can run it, else the best available. The
 * choice is a pointer to a const table, stored atomically, so concurrent
 * first calls are harmless (they compute the same answer).
 * clusterrt_set_isa replaces it (tests and benchmarks). The AVX-512 set
 * has a variant with kernels that also need VBMI, used when the CPU has it
 * and CLUSTERRT_VBMI is not 0.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const rt_kernels rt_kernels_generic = {
    .isa = CLUSTERRT_ISA_GENERIC,
    .assign = clusterrt_assign__generic,
    .decode = clusterrt_decode__generic,
    .accumulate = clusterrt_accumulate__generic,
    .sgd = clusterrt_sgd__generic,
    .adam = clusterrt_adam__generic,
    .rowmin = clusterrt_rowmin__generic,
    .rows = clusterrt_rows__generic};

#ifdef CLUSTERRT_HAVE_AVX2
const rt_kernels rt_kernels_avx2 = {
    .isa = CLUSTERRT_ISA_AVX2,
    .assign = clusterrt_assign__avx2,
    .decode = clusterrt_decode__avx2,
    .accumulate = clusterrt_accumulate__avx2,
    .sgd = clusterrt_sgd__avx2,
    .adam = clusterrt_adam__avx2,
    .rowmin = clusterrt_rowmin__avx2,
    .rows = clusterrt_rows__avx2};
#endif
#ifdef CLUSTERRT_HAVE_AVX512
const rt_kernels rt_kernels_avx512 = {
    .isa = CLUSTERRT_ISA_AVX512,
    .assign = clusterrt_assign__avx512,
    .decode = clusterrt_decode__avx512,
    .accumulate = clusterrt_accumulate__avx512,
    .sgd = clusterrt_sgd__avx512,
    .adam = clusterrt_adam__avx512,
    .rowmin = clusterrt_rowmin__avx512,
    .rows = clusterrt_rows__avx512};
/* The same with the kernels that also need VBMI. */
const rt_kernels rt_kernels_avx512vbmi = {
    .isa = CLUSTERRT_ISA_AVX512,
    .assign = clusterrt_assign__avx512,
    .decode = clusterrt_decode__avx512vbmi,
    .accumulate = clusterrt_accumulate__avx512,
    .sgd = clusterrt_sgd__avx512,
    .adam = clusterrt_adam__avx512,
    .rowmin = clusterrt_rowmin__avx512,
    .rows = clusterrt_rows__avx512};

/* VBMI kernels unless CLUSTERRT_VBMI=0 (tests reach the others that way). */
static int use_vbmi(void) {
  const char *env = getenv("CLUSTERRT_VBMI");
  return rt_cpu_has_avx512vbmi() && !(env && strcmp(env, "0") == 0);
}
#endif
#ifdef CLUSTERRT_HAVE_NEON
/* The generic optimizer loops auto-vectorize to NEON already; the
 * k-means row scan stays scalar there. */
const rt_kernels rt_kernels_neon = {
    .isa = CLUSTERRT_ISA_NEON,
    .assign = clusterrt_assign__neon,
    .decode = clusterrt_decode__neon,
    .accumulate = clusterrt_accumulate__neon,
    .sgd = clusterrt_sgd__generic,
    .adam = clusterrt_adam__generic,
    .rowmin = clusterrt_rowmin__generic,
    .rows = clusterrt_rows__generic};
#endif

static _Atomic(const rt_kernels *) current;

static const rt_kernels *kernels_for(clusterrt_isa isa) {
  switch (isa) {
  case CLUSTERRT_ISA_GENERIC: return &rt_kernels_generic;
#ifdef CLUSTERRT_HAVE_AVX2
  case CLUSTERRT_ISA_AVX2:
    return rt_cpu_has_avx2() ? &rt_kernels_avx2 : NULL;
#endif
#ifdef CLUSTERRT_HAVE_AVX512
  case CLUSTERRT_ISA_AVX512:
    return !rt_cpu_has_avx512() ? NULL
           : use_vbmi()         ? &rt_kernels_avx512vbmi
                                : &rt_kernels_avx512;
#endif
#ifdef CLUSTERRT_HAVE_NEON
  case CLUSTERRT_ISA_NEON:
    return rt_cpu_has_neon() ? &rt_kernels_neon : NULL;
#endif
  default: return NULL;
  }
}

static const rt_kernels *choose(void) {
  const char *env = getenv("CLUSTERRT_ISA");
  if (env) {
    for (int i = CLUSTERRT_ISA_NEON; i >= 0; i--) {
      const char *name = clusterrt_isa_name((clusterrt_isa)i);
      if (strcmp(env, name) == 0) {
        const rt_kernels *k = kernels_for((clusterrt_isa)i);
        if (k) return k;
      }
    }
  }
  static const clusterrt_isa order[] = {CLUSTERRT_ISA_AVX512,
                                        CLUSTERRT_ISA_AVX2, CLUSTERRT_ISA_NEON};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    const rt_kernels *k = kernels_for(order[i]);
    if (k) return k;
  }
  return &rt_kernels_generic;
}

const rt_kernels *rt_get_kernels(void) {
  const rt_kernels *k = atomic_load_explicit(&current, memory_order_acquire);
  if (!k) {
    k = choose();
    atomic_store_explicit(&current, k, memory_order_release);
  }
  return k;
}

clusterrt_isa clusterrt_get_isa(void) { return rt_get_kernels()->isa; }

int clusterrt_isa_available(clusterrt_isa isa) {
  return kernels_for(isa) != NULL;
}

clusterrt_status clusterrt_set_isa(clusterrt_isa isa) {
  const rt_kernels *k = kernels_for(isa);
  if (!k) return CLUSTERRT_ERR_ISA;
  atomic_store_explicit(&current, k, memory_order_release);
  return CLUSTERRT_OK;
}
