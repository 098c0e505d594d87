/*
 * Running a module in process: lower it with the codegen pipeline, compile
 * it with MLIR's ExecutionEngine (libclusterrt's entry points registered)
 * and call its functions on plain row-major buffers.
 *
 * Only functions whose arguments and results are statically shaped tensors
 * (or memrefs) can be called. The signatures are read before lowering. The
 * default pipeline turns results into trailing out-parameters, so a call
 * writes every result into a buffer the caller owns: no allocation crosses
 * the boundary, and a training loop reuses its buffers.
 */
#ifndef CLUSTERC_JIT_H
#define CLUSTERC_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mlir-c/IR.h"

enum { JIT_MAX_RANK = 8 };

typedef enum JitElem { JIT_F32, JIT_F64, JIT_I8, JIT_I16, JIT_I32, JIT_I64, JIT_I1 } JitElem;

typedef struct JitTensor {
  int rank;
  int64_t shape[JIT_MAX_RANK];
  JitElem elem;
  size_t count; /* elements */
  size_t bytes; /* count * element size */
} JitTensor;

typedef struct JitFunc {
  char *name;
  int nArgs, nResults;
  JitTensor *args, *results;
  void (*packed)(void **); /* the packed wrapper of _mlir_ciface_<name> */
} JitFunc;

typedef struct Jit Jit;

/* Lowers `module` in place with `pipeline` (NULL: the codegen default) and
 * compiles it at LLVM -O`optLevel`. Errors are diagnosed on stderr
 * (context diagnostics, or "<displayName>: error: ..."); NULL then. */
Jit *jitCreate(MlirModule module, const char *pipeline, int optLevel,
               const char *displayName);
void jitDestroy(Jit *jit);

/* A public function of the module, or NULL (with a diagnostic) when it is
 * missing or has a signature that cannot be called. */
const JitFunc *jitFunc(Jit *jit, const char *name);

/* Calls f. args[i] points to f->args[i].bytes of row-major data,
 * results[i] to f->results[i].bytes the call fills. */
void jitCall(const JitFunc *f, void *const *args, void *const *results);

size_t jitElemSize(JitElem e);

#endif
