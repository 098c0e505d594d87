/*
 * The in-process JIT (see jit.h).
 *
 * Calling convention. After the codegen pipeline a function
 *   func.func @f(tensor<AxB..>, ...) -> (tensor<..>, ...)  {llvm.emit_c_interface}
 * has a C interface _mlir_ciface_f(D *arg0, ..., D *res0, ...) where each D
 * is a memref descriptor {T *allocated, *aligned; int64_t offset,
 * sizes[r], strides[r]} and results are out-parameters. The
 * ExecutionEngine adds a packed wrapper for every function, taking an array
 * of pointers to the arguments: here pointers to the descriptor pointers.
 * jitCall builds the descriptors on the stack for contiguous buffers.
 */
#define _POSIX_C_SOURCE 200809L
#include "jit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "codegen.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/ExecutionEngine.h"
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

struct Jit {
  MlirExecutionEngine engine;
  JitFunc *funcs;
  size_t nFuncs;
};

size_t jitElemSize(JitElem e) {
  switch (e) {
  case JIT_F64: case JIT_I64: return 8;
  case JIT_F32: case JIT_I32: return 4;
  case JIT_I16: return 2;
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

static bool tensorInfo(MlirType t, JitTensor *out) {
  if (!mlirTypeIsARankedTensor(t) && !mlirTypeIsAMemRef(t))
    return false;
  if (!mlirShapedTypeHasStaticShape(t) || mlirShapedTypeGetRank(t) > JIT_MAX_RANK)
    return false;
  MlirType e = mlirShapedTypeGetElementType(t);
  if (mlirTypeIsAF32(e))
    out->elem = JIT_F32;
  else if (mlirTypeIsAF64(e))
    out->elem = JIT_F64;
  else if (mlirTypeIsAInteger(e)) {
    unsigned w = mlirIntegerTypeGetWidth(e);
    out->elem = w == 8 ? JIT_I8 : w == 16 ? JIT_I16 : w == 32 ? JIT_I32
              : w == 64 ? JIT_I64 : JIT_I1;
    if (w != 1 && w != 8 && w != 16 && w != 32 && w != 64)
      return false;
  } else
    return false;
  out->rank = (int)mlirShapedTypeGetRank(t);
  out->count = 1;
  for (int i = 0; i < out->rank; ++i) {
    out->shape[i] = mlirShapedTypeGetDimSize(t, i);
    out->count *= (size_t)out->shape[i];
  }
  out->bytes = out->count * jitElemSize(out->elem);
  return true;
}

static void freeFuncs(Jit *jit) {
  for (size_t i = 0; i < jit->nFuncs; ++i) {
    free(jit->funcs[i].name);
    free(jit->funcs[i].args);
  }
  free(jit->funcs);
}

/* Records the public functions with a body and a callable signature. */
static bool collectSignatures(Jit *jit, MlirModule module) {
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
    if (!cgIsEntryPoint(op))
      continue;
    MlirType ft = mlirTypeAttrGetValue(
        mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("function_type")));
    intptr_t na = mlirFunctionTypeGetNumInputs(ft), nr = mlirFunctionTypeGetNumResults(ft);
    JitFunc *f = &jit->funcs[jit->nFuncs];
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

/* bufferization.access on the runtime declarations (cluster-train) told
 * one-shot bufferization not to copy around the calls; the LLVM
 * translation does not know it and would warn. */
static MlirWalkResult stripAccess(MlirOperation op, void *user) {
  (void)user;
  MlirStringRef argAttrs = mlirStringRefCreateFromCString("arg_attrs");
  MlirAttribute a = mlirOperationGetAttributeByName(op, argAttrs);
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAArray(a))
    return MlirWalkResultAdvance;
  MlirContext ctx = mlirOperationGetContext(op);
  intptr_t n = mlirArrayAttrGetNumElements(a);
  MlirAttribute *dicts = malloc(sizeof *dicts * (size_t)(n ? n : 1));
  if (!dicts)
    return MlirWalkResultInterrupt;
  for (intptr_t i = 0; i < n; ++i) {
    MlirAttribute d = mlirArrayAttrGetElement(a, i);
    intptr_t m = mlirDictionaryAttrGetNumElements(d), k = 0;
    MlirNamedAttribute keep[16];
    for (intptr_t j = 0; j < m && k < 16; ++j) {
      MlirNamedAttribute na = mlirDictionaryAttrGetElement(d, j);
      MlirStringRef key = mlirIdentifierStr(na.name);
      if (!(key.length > 14 && !memcmp(key.data, "bufferization.", 14)))
        keep[k++] = na;
    }
    dicts[i] = mlirDictionaryAttrGet(ctx, k, keep);
  }
  mlirOperationSetAttributeByName(op, argAttrs, mlirArrayAttrGet(ctx, n, dicts));
  free(dicts);
  return MlirWalkResultAdvance;
}

static void printText(MlirStringRef s, void *user) {
  fwrite(s.data, 1, s.length, (FILE *)user);
}

Jit *jitCreate(MlirModule module, const char *pipeline, int optLevel,
               const char *displayName) {
  Jit *jit = calloc(1, sizeof *jit);
  if (!jit || !collectSignatures(jit, module)) {
    fprintf(stderr, "%s: error: out of memory\n", displayName);
    if (jit)
      freeFuncs(jit);
    free(jit);
    return NULL;
  }
  cgMarkEntryPoints(module);
  /* decode=runtime models fill their weight buffers in an initializer that
   * object code runs as a constructor: here it is called once, below. */
  MlirSymbolTable symtab = mlirSymbolTableCreate(mlirModuleGetOperation(module));
  MlirOperation init =
      mlirSymbolTableLookup(symtab, mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT));
  mlirSymbolTableDestroy(symtab);
  bool hasInit = !mlirOperationIsNull(init);
  if (hasInit)
    mlirOperationRemoveAttributeByName(init, mlirStringRefCreateFromCString("sym_visibility"));
  clustercOrderLoops(mlirModuleGetOperation(module), true);
  /* CLUSTERC_JIT_DUMP=FILE: the module as the JIT gets it (debugging). */
  const char *dump = getenv("CLUSTERC_JIT_DUMP");
  FILE *df = dump ? fopen(dump, "w") : NULL;
  if (df) {
    mlirOperationPrint(mlirModuleGetOperation(module), printText, df);
    fclose(df);
  }
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, mlirRegisterAllPasses); /* idempotent in MLIR too */
  MlirContext ctx = mlirModuleGetContext(module);
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  /* CLUSTERC_JIT_PIPELINE=TEXT replaces the pipeline (experiments). */
  const char *text = pipeline ? pipeline
                     : getenv("CLUSTERC_JIT_PIPELINE") ? getenv("CLUSTERC_JIT_PIPELINE")
                                                       : cgDefaultPipeline();
  MlirLogicalResult r = mlirParsePassPipeline(opm, mlirStringRefCreateFromCString(text),
                                              printText, stderr);
  if (mlirLogicalResultIsSuccess(r))
    r = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(r)) {
    fprintf(stderr, "%s: error: lowering the module for the JIT failed\n", displayName);
    jitDestroy(jit);
    return NULL;
  }
  mlirOperationWalk(mlirModuleGetOperation(module), stripAccess, NULL, MlirWalkPreOrder);
  mlirRegisterAllLLVMTranslations(ctx);
  jit->engine = mlirExecutionEngineCreate(module, optLevel, 0, NULL, false);
  if (mlirExecutionEngineIsNull(jit->engine)) {
    fprintf(stderr, "%s: error: the JIT could not compile the module\n", displayName);
    jitDestroy(jit);
    return NULL;
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
      {"memrefCopy", (void *)jitMemrefCopy},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; ++i)
    mlirExecutionEngineRegisterSymbol(jit->engine, mlirStringRefCreateFromCString(syms[i].name),
                                      syms[i].fn);
  if (hasInit &&
      mlirLogicalResultIsFailure(mlirExecutionEngineInvokePacked(
          jit->engine, mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT), NULL))) {
    fprintf(stderr, "%s: error: the JIT could not run %s\n", displayName,
            CLUSTERC_DECODE_INIT);
    jitDestroy(jit);
    return NULL;
  }
  char buf[512];
  for (size_t i = 0; i < jit->nFuncs; ++i) {
    snprintf(buf, sizeof buf, "_mlir_ciface_%s", jit->funcs[i].name);
    jit->funcs[i].packed = (void (*)(void **))mlirExecutionEngineLookupPacked(
        jit->engine, mlirStringRefCreateFromCString(buf));
  }
  return jit;
}

void jitDestroy(Jit *jit) {
  if (!jit)
    return;
  if (!mlirExecutionEngineIsNull(jit->engine))
    mlirExecutionEngineDestroy(jit->engine);
  freeFuncs(jit);
  free(jit);
}

const JitFunc *jitFunc(Jit *jit, const char *name) {
  for (size_t i = 0; i < jit->nFuncs; ++i)
    if (!strcmp(jit->funcs[i].name, name) && jit->funcs[i].packed)
      return &jit->funcs[i];
  fprintf(stderr, "clusterc: error: the module has no callable function '%s' "
          "(a public func.func with statically shaped tensor arguments and results)\n",
          name);
  return NULL;
}

/* ---- Calls --------------------------------------------------------------------- */

enum { DESC_WORDS = 3 + 2 * JIT_MAX_RANK };

static void describe(const JitTensor *t, void *data, int64_t *desc) {
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

void jitCall(const JitFunc *f, void *const *args, void *const *results) {
  int n = f->nArgs + f->nResults;
  int64_t(*descs)[DESC_WORDS] = malloc(sizeof *descs * (size_t)(n ? n : 1));
  void **ptrs = malloc(sizeof *ptrs * (size_t)(n ? n : 1));
  void **packed = malloc(sizeof *packed * (size_t)(n ? n : 1));
  if (!descs || !ptrs || !packed) {
    fprintf(stderr, "clusterc: fatal: out of memory\n");
    exit(EXIT_FAILURE);
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
}
