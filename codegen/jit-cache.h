/* jit-cache.c: the JIT's on-disk cache of compiled objects. Internal. */
#ifndef CLUSTERC_CODEGEN_JIT_CACHE_H
#define CLUSTERC_CODEGEN_JIT_CACHE_H

#include <stddef.h>

#include "clusterc/codegen.h"

enum { CG_JIT_KEY_CHARS = 32 }; /* hex digits of a key (128 bits of BLAKE3) */

typedef enum CgCacheResult { CG_CACHE_HIT, CG_CACHE_MISS, CG_CACHE_CORRUPT } CgCacheResult;

/* The key of `module` (before lowering) compiled with o for cpu/features
 * (the resolved names: the host's for "native"). */
void cgJitCacheKey(MlirModule module, const ClustercCodegenOptions *o, const char *cpu,
                   const char *features, char hex[CG_JIT_KEY_CHARS + 1]);

/* o->jitCacheDir, else $XDG_CACHE_HOME/clusterc/jit, else
 * $HOME/.cache/clusterc/jit (malloc'd); NULL when there is none. */
char *cgJitCacheDir(const ClustercCodegenOptions *o);

/* HIT: *data (malloc'd, the caller frees it) and *size hold the object. */
CgCacheResult cgJitCacheRead(const char *dir, const char *key, void **data, size_t *size);

/* Stores an object atomically (creating dir); 0 or an errno value. */
int cgJitCacheWrite(const char *dir, const char *key, const void *data, size_t size);

#endif
