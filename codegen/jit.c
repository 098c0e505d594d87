/*
 * The in-process JIT (see clusterc/codegen.h): lowered by
 * clustercCodegenLower, the path object code takes, then compiled by MLIR's
 * ExecutionEngine.
 *
 * Calling convention. After the codegen pipeline a function
 *   func.func @f(tensor<AxB..>, ...) -> (tensor<..>, ...)  {llvm.emit_c_interface}
 * has a C interface _mlir_ciface_f(D *arg0, ..., D *res0, ...) where each D
 * is a memref descriptor {T *allocated, *aligned; int64_t offset,
 * sizes[r], strides[r]} and results are out-parameters. The
 * ExecutionEngine adds a packed wrapper for every function, taking an array
 * of pointers to the arguments: here pointers to the descriptor pointers.
 * clustercJitCall builds the descriptors on the stack for contiguous buffers.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "../support/checked.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/ExecutionEngine.h"
#include "../passes/mlir-compat.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

/* libclusterrt's MLIR entry points (runtime/memref-abi.c). */
typedef struct MemRef1 MemRef1;
int32_t _mlir_ciface_clusterrt_mlir_decode_i8(const MemRef1 *, int32_t, const MemRef1 *, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_decode_i16(const MemRef1 *, const MemRef1 *, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_assign_i8(const MemRef1 *, const MemRef1 *, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_assign_i16(const MemRef1 *, const MemRef1 *, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_accumulate_i8(const MemRef1 *, const MemRef1 *, int32_t, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_accumulate_i16(const MemRef1 *, const MemRef1 *, int32_t, MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_assign_grouped_i8(const MemRef1 *, const MemRef1 *, MemRef1 *,
                                                      int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t _mlir_ciface_clusterrt_mlir_assign_grouped_i16(const MemRef1 *, const MemRef1 *, MemRef1 *,
                                                       int32_t, int32_t, int32_t, int32_t, int32_t);
int32_t _mlir_ciface_clusterrt_mlir_lut_matmul(const MemRef1 *, const MemRef1 *, int32_t,
                                               const MemRef1 *, int32_t, int32_t, MemRef1 *);

struct ClustercJit {
  MlirExecutionEngine engine;
  ClustercMessageFn msg;
  void *msgUser;
  ClustercJitFunc *funcs;
  size_t nFuncs;
};

size_t clustercJitElemSize(ClustercJitElem e) {
  switch (e) {
  case CLUSTERC_JIT_F64: case CLUSTERC_JIT_I64: return 8;
  case CLUSTERC_JIT_F32: case CLUSTERC_JIT_I32: return 4;
  case CLUSTERC_JIT_I16: return 2;
  default: return 1;
  }
}

/* ---- memrefCopy -------------------------------------------------------------
 * finalize-memref-to-llvm lowers a copy between strided memrefs to a call
 * memrefCopy(elemSize, UnrankedMemRef *src, UnrankedMemRef *dst), which
 * MLIR's runner library defines; the JIT gets this one. */
typedef struct Unranked {
  int64_t rank;
  char *desc; /* allocated, aligned, offset, sizes[rank], strides[rank] */
} Unranked;

static void copyDim(int64_t es, int64_t rank, int64_t d, const int64_t *size,
                    const int64_t *ss, const int64_t *ds, const char *s, char *t) {
  if (d == rank - 1 && ss[d] == 1 && ds[d] == 1) {
    memcpy(t, s, (size_t)(es * size[d]));
    return;
  }
  for (int64_t i = 0; i < size[d]; ++i) {
    if (d == rank - 1)
      memcpy(t + i * ds[d] * es, s + i * ss[d] * es, (size_t)es);
    else
      copyDim(es, rank, d + 1, size, ss, ds, s + i * ss[d] * es, t + i * ds[d] * es);
  }
}

static void jitMemrefCopy(int64_t es, Unranked *src, Unranked *dst) {
  int64_t rank = src->rank, so, doff;
  char *s, *d;
  memcpy(&s, src->desc + 8, sizeof s);
  memcpy(&d, dst->desc + 8, sizeof d);
  memcpy(&so, src->desc + 16, 8);
  memcpy(&doff, dst->desc + 16, 8);
  s += so * es;
  d += doff * es;
  if (rank == 0) {
    memcpy(d, s, (size_t)es);
    return;
  }
  const int64_t *size = (const int64_t *)(src->desc + 24), *ss = size + rank;
  const int64_t *ds = (const int64_t *)(dst->desc + 24) + rank;
  for (int64_t i = 0; i < rank; ++i)
    if (size[i] == 0)
      return;
  copyDim(es, rank, 0, size, ss, ds, s, d);
}

/* ---- Signatures ---------------------------------------------------------------- */

static bool tensorInfo(MlirType t, ClustercJitTensor *out) {
  if (!mlirTypeIsARankedTensor(t) && !mlirTypeIsAMemRef(t))
    return false;
  if (!mlirShapedTypeHasStaticShape(t) || mlirShapedTypeGetRank(t) > CLUSTERC_JIT_MAX_RANK)
    return false;
  MlirType e = mlirShapedTypeGetElementType(t);
  if (mlirTypeIsAF32(e))
    out->elem = CLUSTERC_JIT_F32;
  else if (mlirTypeIsAF64(e))
    out->elem = CLUSTERC_JIT_F64;
  else if (mlirTypeIsAInteger(e)) {
    unsigned w = mlirIntegerTypeGetWidth(e);
    out->elem = w == 8 ? CLUSTERC_JIT_I8 : w == 16 ? CLUSTERC_JIT_I16 : w == 32 ? CLUSTERC_JIT_I32
              : w == 64 ? CLUSTERC_JIT_I64 : CLUSTERC_JIT_I1;
    if (w != 1 && w != 8 && w != 16 && w != 32 && w != 64)
      return false;
  } else
    return false;
  out->rank = (int)mlirShapedTypeGetRank(t);
  size_t es = clustercJitElemSize(out->elem) ? clustercJitElemSize(out->elem) : 1;
  uint64_t count = es;
  for (int i = 0; i < out->rank; ++i) {
    out->shape[i] = mlirShapedTypeGetDimSize(t, i);
    if (!clustercMulCount(&count, out->shape[i]) || count > SIZE_MAX)
      return false; /* more bytes than memory counts (or dynamic) */
  }
  out->bytes = (size_t)count;
  out->count = out->bytes / es;
  return true;
}

static void freeFuncs(ClustercJit *jit) {
  for (size_t i = 0; i < jit->nFuncs; ++i) {
    free(jit->funcs[i].name);
    free(jit->funcs[i].args);
  }
  free(jit->funcs);
}

/* Records the public functions with a body and a callable signature. */
static bool collectSignatures(ClustercJit *jit, MlirModule module) {
  MlirBlock body = mlirModuleGetBody(module);
  size_t cap = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    cap++;
  jit->funcs = calloc(cap ? cap : 1, sizeof *jit->funcs);
  if (!jit->funcs)
    return false;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!clustercCodegenIsEntryPoint(op))
      continue;
    MlirType ft = mlirTypeAttrGetValue(
        mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("function_type")));
    intptr_t na = mlirFunctionTypeGetNumInputs(ft), nr = mlirFunctionTypeGetNumResults(ft);
    ClustercJitFunc *f = &jit->funcs[jit->nFuncs];
    f->args = calloc((size_t)(na + nr + 1), sizeof *f->args);
    MlirStringRef n = mlirStringAttrGetValue(
        mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("sym_name")));
    f->name = strndup(n.data, n.length);
    if (!f->args || !f->name) {
      free(f->args);
      free(f->name);
      return false;
    }
    f->results = f->args + na;
    f->nArgs = (int)na;
    f->nResults = (int)nr;
    bool ok = true;
    for (intptr_t i = 0; i < na && ok; ++i)
      ok = tensorInfo(mlirFunctionTypeGetInput(ft, i), &f->args[i]);
    for (intptr_t i = 0; i < nr && ok; ++i)
      ok = tensorInfo(mlirFunctionTypeGetResult(ft, i), &f->results[i]);
    if (!ok) { /* not callable from here: forget it */
      free(f->args);
      free(f->name);
      memset(f, 0, sizeof *f);
      continue;
    }
    jit->nFuncs++;
  }
  return true;
}

/* ---- Creation ------------------------------------------------------------------ */

static void printText(MlirStringRef s, void *user) {
  fwrite(s.data, 1, s.length, (FILE *)user);
}

#define ERR(j, ...) clustercMessagef((j)->msg, (j)->msgUser, CLUSTERC_MESSAGE_ERROR, __VA_ARGS__)

ClustercStatus clustercJitCreate(MlirModule module, const ClustercCodegenOptions *o,
                                 const char *displayName, ClustercMessageFn onMessage,
                                 void *userData, ClustercJit **out) {
  *out = NULL;
  ClustercJit *jit = calloc(1, sizeof *jit);
  if (!jit || !collectSignatures(jit, module)) {
    clustercMessagef(onMessage, userData, CLUSTERC_MESSAGE_ERROR,
                     "%s: error: out of memory\n", displayName);
    if (jit)
      freeFuncs(jit);
    free(jit);
    return CLUSTERC_ERROR;
  }
  jit->msg = onMessage;
  jit->msgUser = userData;
  /* decode=runtime models fill their weight buffers in an initializer that
   * object code runs as a constructor: here it is made public (kept out of
   * internal linkage) and called once, below. */
  MlirSymbolTable symtab = mlirSymbolTableCreate(mlirModuleGetOperation(module));
  MlirOperation init =
      mlirSymbolTableLookup(symtab, mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT));
  mlirSymbolTableDestroy(symtab);
  bool hasInit = !mlirOperationIsNull(init);
  if (hasInit)
    mlirOperationRemoveAttributeByName(init, mlirStringRefCreateFromCString("sym_visibility"));
  /* CLUSTERC_JIT_DUMP=FILE: the module as the JIT gets it, before lowering
   * (debugging). */
  const char *dump = getenv("CLUSTERC_JIT_DUMP");
  FILE *df = dump ? fopen(dump, "w") : NULL;
  if (df) {
    mlirOperationPrint(mlirModuleGetOperation(module), printText, df);
    fclose(df);
  }
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, mlirRegisterAllPasses); /* idempotent in MLIR too */
  ClustercCodegenOptions opts;
  if (o)
    opts = *o;
  else
    clustercCodegenOptionsInit(&opts);
  /* CLUSTERC_JIT_PIPELINE=TEXT replaces the pipeline (experiments). */
  if (!opts.pipeline)
    opts.pipeline = getenv("CLUSTERC_JIT_PIPELINE");
  if (clustercCodegenLower(module, &opts, displayName, onMessage, userData)) {
    clustercJitDestroy(jit);
    return CLUSTERC_ERROR;
  }
  MlirContext ctx = mlirModuleGetContext(module);
  mlirRegisterAllLLVMTranslations(ctx);
  jit->engine = clustercExecutionEngineCreate(module, opts.optLevel, 0, NULL, false);
  if (mlirExecutionEngineIsNull(jit->engine)) {
    ERR(jit, "%s: error: the JIT could not compile the module\n", displayName);
    clustercJitDestroy(jit);
    return CLUSTERC_ERROR;
  }
  static const struct {
    const char *name;
    void *fn;
  } syms[] = {
      {"_mlir_ciface_clusterrt_mlir_decode_i8", (void *)_mlir_ciface_clusterrt_mlir_decode_i8},
      {"_mlir_ciface_clusterrt_mlir_decode_i16", (void *)_mlir_ciface_clusterrt_mlir_decode_i16},
      {"_mlir_ciface_clusterrt_mlir_assign_i8", (void *)_mlir_ciface_clusterrt_mlir_assign_i8},
      {"_mlir_ciface_clusterrt_mlir_assign_i16", (void *)_mlir_ciface_clusterrt_mlir_assign_i16},
      {"_mlir_ciface_clusterrt_mlir_accumulate_i8", (void *)_mlir_ciface_clusterrt_mlir_accumulate_i8},
      {"_mlir_ciface_clusterrt_mlir_accumulate_i16", (void *)_mlir_ciface_clusterrt_mlir_accumulate_i16},
      {"_mlir_ciface_clusterrt_mlir_assign_grouped_i8", (void *)_mlir_ciface_clusterrt_mlir_assign_grouped_i8},
      {"_mlir_ciface_clusterrt_mlir_assign_grouped_i16", (void *)_mlir_ciface_clusterrt_mlir_assign_grouped_i16},
      {"_mlir_ciface_clusterrt_mlir_lut_matmul", (void *)_mlir_ciface_clusterrt_mlir_lut_matmul},
      {"memrefCopy", (void *)jitMemrefCopy},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i)
    mlirExecutionEngineRegisterSymbol(jit->engine, mlirStringRefCreateFromCString(syms[i].name),
                                      syms[i].fn);
  if (hasInit &&
      mlirLogicalResultIsFailure(mlirExecutionEngineInvokePacked(
          jit->engine, mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT), NULL))) {
    ERR(jit, "%s: error: the JIT could not run %s\n", displayName, CLUSTERC_DECODE_INIT);
    clustercJitDestroy(jit);
    return CLUSTERC_ERROR;
  }
  char buf[512];
  for (size_t i = 0; i < jit->nFuncs; ++i) {
    snprintf(buf, sizeof buf, "_mlir_ciface_%s", jit->funcs[i].name);
    jit->funcs[i].packed = (void (*)(void **))mlirExecutionEngineLookupPacked(
        jit->engine, mlirStringRefCreateFromCString(buf));
  }
  *out = jit;
  return CLUSTERC_OK;
}

void clustercJitDestroy(ClustercJit *jit) {
  if (!jit)
    return;
  if (!mlirExecutionEngineIsNull(jit->engine))
    mlirExecutionEngineDestroy(jit->engine);
  freeFuncs(jit);
  free(jit);
}

const ClustercJitFunc *clustercJitLookup(ClustercJit *jit, const char *name) {
  for (size_t i = 0; i < jit->nFuncs; ++i)
    if (!strcmp(jit->funcs[i].name, name) && jit->funcs[i].packed)
      return &jit->funcs[i];
  ERR(jit, "clusterc: error: the module has no callable function '%s' "
      "(a public func.func with statically shaped tensor arguments and results)\n",
      name);
  return NULL;
}

/* ---- Calls --------------------------------------------------------------------- */

enum { DESC_WORDS = 3 + 2 * CLUSTERC_JIT_MAX_RANK };

static void describe(const ClustercJitTensor *t, void *data, int64_t *desc) {
  memcpy(&desc[0], &data, sizeof data);
  memcpy(&desc[1], &data, sizeof data);
  desc[2] = 0;
  int64_t stride = 1;
  for (int i = t->rank - 1; i >= 0; --i) {
    desc[3 + i] = t->shape[i];
    desc[3 + t->rank + i] = stride;
    stride *= t->shape[i];
  }
}

ClustercStatus clustercJitCall(const ClustercJitFunc *f, void *const *args,
                               void *const *results) {
  int n = f->nArgs + f->nResults;
  int64_t(*descs)[DESC_WORDS] = malloc(sizeof *descs * (size_t)(n ? n : 1));
  void **ptrs = malloc(sizeof *ptrs * (size_t)(n ? n : 1));
  void **packed = malloc(sizeof *packed * (size_t)(n ? n : 1));
  if (!descs || !ptrs || !packed) {
    free(descs);
    free(ptrs);
    free(packed);
    return CLUSTERC_ERROR;
  }
  for (int i = 0; i < n; ++i) {
    bool isArg = i < f->nArgs;
    describe(isArg ? &f->args[i] : &f->results[i - f->nArgs],
             isArg ? args[i] : results[i - f->nArgs], descs[i]);
    ptrs[i] = descs[i];
    packed[i] = &ptrs[i];
  }
  f->packed(packed);
  free(descs);
  free(ptrs);
  free(packed);
  return CLUSTERC_OK;
}
