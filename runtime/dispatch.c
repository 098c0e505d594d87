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
 *
 * The tables come from the list of kernels (kernels.def): this file only
 * says which table an ISA uses.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The tables: rt_kernels_<col> holds, for each kernels.def entry, the
 * kernel named in column col. RT_COLUMN picks the column. */
#define RT_NAME_(op, isa) clusterrt_##op##__##isa
#define RT_NAME(op, isa) RT_NAME_(op, isa)
#define RT_KERNEL(op, ret, params, generic, avx2, avx512, avx512vbmi, neon)  \
  .op = RT_NAME(op, RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon)),

#define RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon) generic
static const rt_kernels rt_kernels_generic = {
    .isa = CLUSTERRT_ISA_GENERIC,
#include "kernels.def"
};
#undef RT_COLUMN

#ifdef CLUSTERRT_HAVE_AVX2
#define RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon) avx2
static const rt_kernels rt_kernels_avx2 = {
    .isa = CLUSTERRT_ISA_AVX2,
#include "kernels.def"
};
#undef RT_COLUMN
#endif

#ifdef CLUSTERRT_HAVE_AVX512
#define RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon) avx512
static const rt_kernels rt_kernels_avx512 = {
    .isa = CLUSTERRT_ISA_AVX512,
#include "kernels.def"
};
#undef RT_COLUMN
/* The same with the kernels that also need VBMI. */
#define RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon) avx512vbmi
static const rt_kernels rt_kernels_avx512vbmi = {
    .isa = CLUSTERRT_ISA_AVX512,
#include "kernels.def"
};
#undef RT_COLUMN

/* VBMI kernels unless CLUSTERRT_VBMI=0 (tests reach the others that way). */
static int use_vbmi(void) {
  const char *env = getenv("CLUSTERRT_VBMI");
  return rt_cpu_has_avx512vbmi() && !(env && strcmp(env, "0") == 0);
}
#endif

#ifdef CLUSTERRT_HAVE_NEON
#define RT_COLUMN(generic, avx2, avx512, avx512vbmi, neon) neon
static const rt_kernels rt_kernels_neon = {
    .isa = CLUSTERRT_ISA_NEON,
#include "kernels.def"
};
#undef RT_COLUMN
#endif
#undef RT_KERNEL

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
