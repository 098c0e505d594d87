/*
 * libclusterc-codegen: a clustered module to the LLVM dialect, LLVM IR,
 * bitcode, assembly or an object file for x86-64 or AArch64, a C header
 * declaring the model's entry points, or an in-process JIT.
 *
 * One prepare-and-lower path (clustercCodegenLower) serves both the
 * ahead-of-time emission (clustercCodegenRun) and the JIT (clustercJitCreate):
 *
 *   mark entry points, internalize private functions
 *   -> (contractions=gemm) tosa-to-linalg, linalg-generalize-named-ops,
 *      cluster-contract-gemm (ClustercCodegenOptions.contractions)
 *   -> cluster-order-loops{reassociate=...} (ClustercCodegenOptions.loopOrder)
 *   -> the lowering pipeline (text, replaceable) -> check: only LLVM dialect
 *      (the default one with cluster-outline-loops after
 *      convert-linalg-to-loops, unless ClustercCodegenOptions.noOutline)
 *   AOT: -> mlirTranslateModuleToLLVMIR -> LLVMRunPasses("default<On>")
 *        -> LLVMTargetMachineEmitToMemoryBuffer -> the caller's callback
 *   JIT: -> mlirExecutionEngineCreate (libclusterrt's entry points bound)
 *
 * Entry points are the public func.func ops with a body; each gets
 * `llvm.emit_c_interface`, so C calls `_mlir_ciface_<name>` with memref
 * descriptors. The default pipeline bufferizes with identity layouts and
 * turns tensor results into trailing out-parameters the caller allocates.
 * A decode=runtime model's initializer (CLUSTERC_DECODE_INIT) becomes a
 * global constructor (AOT) or is called once by clustercJitCreate.
 *
 * Errors: a status (0 = ok) and a message through the ClustercMessageFn
 * (or an MLIR diagnostic through the context's handler). See
 * docs/CODEGEN.md.
 */
#ifndef CLUSTERC_CODEGEN_H
#define CLUSTERC_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/status.h"
#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ClustercEmit {
  CLUSTERC_EMIT_MLIR,         /* the clustered module (no lowering) */
  CLUSTERC_EMIT_LLVM_DIALECT, /* after the lowering pipeline */
  CLUSTERC_EMIT_LLVM,         /* LLVM IR text, optimized */
  CLUSTERC_EMIT_BC,           /* LLVM bitcode, optimized */
  CLUSTERC_EMIT_ASM,
  CLUSTERC_EMIT_OBJ
} ClustercEmit;

/* The loop order of linalg.generic ops before lowering (the
 * cluster-order-loops pass, passes/cluster-order-loops.c). */
typedef enum ClustercLoopOrder {
  /* Contiguous dimension innermost; a reduction may become innermost and
   * its sum gets fastmath reassoc (vectorized; the result then depends on
   * the vector width). The default, for AOT and the JIT alike. */
  CLUSTERC_LOOP_ORDER_REASSOCIATE = 0,
  /* Reordered, but never a reduction innermost: sums keep their order. */
  CLUSTERC_LOOP_ORDER_EXACT,
  /* The loops as the ops give them. */
  CLUSTERC_LOOP_ORDER_NONE
} ClustercLoopOrder;

/* How contractions (matmuls, convolutions and their gradients) are
 * computed: calls of libclusterrt's GEMM (the cluster-contract-gemm pass,
 * after tosa-to-linalg and linalg-generalize-named-ops) or loop nests. */
typedef enum ClustercContractions {
  /* The default of clustercCodegenOptionsInit for now: the object and JIT
   * tests compare bit for bit with mlir-cpu-runner's loops. clusterc train
   * defaults to GEMM (ClustercTrainOptions.contractions). */
  CLUSTERC_CONTRACTIONS_LOOPS = 0,
  CLUSTERC_CONTRACTIONS_GEMM
} ClustercContractions;

typedef struct ClustercCodegenOptions {
  ClustercEmit emit;
  const char *triple;   /* NULL: the host's */
  const char *cpu;      /* NULL: "generic"; "native": the host CPU */
  const char *features; /* NULL: none beyond the CPU's */
  int optLevel;         /* 0..3, default 2 */
  const char *pipeline; /* NULL: clustercCodegenDefaultPipeline() */
  ClustercLoopOrder loopOrder;
  /* The JIT's cache of compiled modules (codegen/jit-cache.c): NULL is
   * $XDG_CACHE_HOME/clusterc/jit or ~/.cache/clusterc/jit; noJitCache
   * compiles every time and stores nothing. */
  const char *jitCacheDir;
  bool noJitCache;
  ClustercContractions contractions;
  /* With the default pipeline, each top-level loop nest is moved into a
   * function of its own after convert-linalg-to-loops
   * (cluster-outline-loops): LLVM compiles many small functions much faster
   * than one huge one. noOutline keeps the nests where they are. The values
   * computed are the same either way. */
  bool noOutline;
} ClustercCodegenOptions;

/* Defaults: emit mlir, host target, generic CPU, -O2, the default
 * pipeline, CLUSTERC_LOOP_ORDER_REASSOCIATE, CLUSTERC_CONTRACTIONS_LOOPS. */
void clustercCodegenOptionsInit(ClustercCodegenOptions *o);

/* The default lowering pipeline (textual pass-pipeline syntax); static. */
const char *clustercCodegenDefaultPipeline(void);

/* Whether o needs a target machine (an LLVM output or a target option),
 * and a check of the target triple and CPU before any work: CLUSTERC_OK, or
 * CLUSTERC_USAGE with the reason (no prefix, no newline) through onMessage. */
bool clustercCodegenNeedsTarget(const ClustercCodegenOptions *o);
ClustercStatus clustercCodegenCheckTarget(const ClustercCodegenOptions *o,
                                          ClustercMessageFn onMessage,
                                          void *userData);

/* The shared path: marks the entry points, internalizes private functions,
 * orders loops (o->loopOrder) and runs the lowering pipeline (o->pipeline),
 * then checks that only the LLVM dialect is left. Modifies `module` in
 * place. displayName prefixes messages ("<displayName>: error: ..."). */
ClustercStatus clustercCodegenLower(MlirModule module,
                                    const ClustercCodegenOptions *o,
                                    const char *displayName,
                                    ClustercMessageFn onMessage, void *userData);

/* Lowers (unless o->emit is mlir) and writes the output of kind o->emit
 * through `write`. Nothing is written unless everything succeeded. */
ClustercStatus clustercCodegenRun(MlirModule module,
                                  const ClustercCodegenOptions *o,
                                  MlirStringCallback write, void *writeUserData,
                                  const char *displayName,
                                  ClustercMessageFn onMessage, void *userData);

/* The C header declaring the entry points of `module` (tensor or memref
 * signatures, before lowering) as compiled by the default pipeline, written
 * through `write`; modelName names its guard. On failure the reason (no
 * prefix, no newline) goes to onMessage and nothing is written. */
ClustercStatus clustercCodegenHeader(MlirModule module, const char *modelName,
                                     MlirStringCallback write,
                                     void *writeUserData,
                                     ClustercMessageFn onMessage,
                                     void *userData);

/* An entry point: a public func.func with a body, at the module's top. */
bool clustercCodegenIsEntryPoint(MlirOperation op);
/* True when cluster-weights (decode=runtime) gave the module a decode
 * initializer. */
bool clustercCodegenHasInitializer(MlirModule module);

/* ---- The JIT ----------------------------------------------------------------
 *
 * Only functions whose arguments and results are statically shaped tensors
 * (or memrefs) can be called. The signatures are read before lowering. The
 * default pipeline turns results into trailing out-parameters, so a call
 * writes every result into a buffer the caller owns: no allocation crosses
 * the boundary, and a training loop reuses its buffers. */

enum { CLUSTERC_JIT_MAX_RANK = 8 };

typedef enum ClustercJitElem {
  CLUSTERC_JIT_F32, CLUSTERC_JIT_F64, CLUSTERC_JIT_I8, CLUSTERC_JIT_I16,
  CLUSTERC_JIT_I32, CLUSTERC_JIT_I64, CLUSTERC_JIT_I1
} ClustercJitElem;

typedef struct ClustercJitTensor {
  int rank;
  int64_t shape[CLUSTERC_JIT_MAX_RANK];
  ClustercJitElem elem;
  size_t count; /* elements */
  size_t bytes; /* count * element size */
} ClustercJitTensor;

typedef struct ClustercJitFunc {
  char *name;
  int nArgs, nResults;
  ClustercJitTensor *args, *results;
  void (*packed)(void **); /* the packed wrapper of _mlir_ciface_<name> */
} ClustercJitFunc;

typedef struct ClustercJit ClustercJit;

/* Compiles `module` for the host (o: pipeline, optLevel, loopOrder, target
 * options, cache; NULL: the defaults; the CPU is the host's unless o->cpu
 * names one) and loads it. The object is the one --emit=obj makes
 * (clustercCodegenLower, then LLVM's passes and back end), kept in a disk
 * cache keyed by a hash of the module and the options, so an unchanged
 * module is loaded, not compiled, the next time. On a cache miss `module`
 * is lowered in place (else it is left as it is). *out is NULL unless
 * CLUSTERC_OK. Destroy with clustercJitDestroy. Messages go to onMessage,
 * which the JIT keeps for clustercJitLookup; a cache that cannot be written
 * is a WARNING, not a failure. */
ClustercStatus clustercJitCreate(MlirModule module,
                                 const ClustercCodegenOptions *o,
                                 const char *displayName,
                                 ClustercMessageFn onMessage, void *userData,
                                 ClustercJit **out);
void clustercJitDestroy(ClustercJit *jit);

/* A public function of the module (borrowed from the JIT), or NULL (with a
 * message) when it is missing or has a signature that cannot be called. */
const ClustercJitFunc *clustercJitLookup(ClustercJit *jit, const char *name);

/* Calls f. args[i] points to f->args[i].bytes of row-major data,
 * results[i] to f->results[i].bytes the call fills. CLUSTERC_ERROR only
 * when out of memory (nothing called). Thread-safe. */
ClustercStatus clustercJitCall(const ClustercJitFunc *f, void *const *args,
                               void *const *results);

size_t clustercJitElemSize(ClustercJitElem e);

/* How clustercJitCreate got its code. */
typedef enum ClustercJitCache {
  CLUSTERC_JIT_CACHE_OFF,     /* compiled; no cache (noJitCache or no directory) */
  CLUSTERC_JIT_CACHE_MISS,    /* compiled and stored (or the store failed: a warning) */
  CLUSTERC_JIT_CACHE_HIT,     /* loaded from the cache */
  CLUSTERC_JIT_CACHE_CORRUPT, /* an unreadable entry: compiled and replaced */
} ClustercJitCache;

typedef struct ClustercJitStats {
  ClustercJitCache cache;
  double seconds;   /* clustercJitCreate's wall time */
  char key[33];     /* the cache key (hex), "" when the cache is off */
  unsigned objects; /* object files loaded: the partitions the code generator
                       split the module into (CLUSTERC_JIT_THREADS) */
} ClustercJitStats;

const ClustercJitStats *clustercJitGetStats(const ClustercJit *jit);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_CODEGEN_H */
