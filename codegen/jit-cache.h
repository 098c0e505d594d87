/* jit-cache.c: the JIT's on-disk cache of compiled objects. Internal. */
#ifndef CLUSTERC_CODEGEN_JIT_CACHE_H
#define CLUSTERC_CODEGEN_JIT_CACHE_H

#include <stddef.h>

#include "clusterc/codegen.h"
#include "internal.h"

enum { CG_JIT_KEY_CHARS = 32 }; /* hex digits of a key (128 bits of BLAKE3) */

typedef enum CgCacheResult { CG_CACHE_HIT, CG_CACHE_MISS, CG_CACHE_CORRUPT } CgCacheResult;

/* The key of `module` (before lowering) compiled with o for cpu/features
 * (the resolved names: the host's for "native"). */
void cgJitCacheKey(MlirModule module, const ClustercCodegenOptions *o, const char *cpu,
                   const char *features, char hex[CG_JIT_KEY_CHARS + 1]);

/* o->jitCacheDir, else $XDG_CACHE_HOME/clusterc/jit, else
 * $HOME/.cache/clusterc/jit (malloc'd); NULL when there is none. */
char *cgJitCacheDir(const ClustercCodegenOptions *o);

/* The objects of one compiled module (one per code-generation partition),
 * borrowed. */
typedef struct CgJitObjects {
  unsigned n;
  const char *data[CG_MAX_PARTS];
  size_t size[CG_MAX_PARTS];
} CgJitObjects;

/* HIT: objs points into *buf (malloc'd, the caller frees it). */
CgCacheResult cgJitCacheRead(const char *dir, const char *key, void **buf, CgJitObjects *objs);

/* Stores the objects (1 to CG_MAX_PARTS) as one entry, atomically
 * (creating dir); 0 or an errno value. */
int cgJitCacheWrite(const char *dir, const char *key, const CgJitObjects *objs);

#endif
