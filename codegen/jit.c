/*
 * The in-process JIT (see clusterc/codegen.h): the object --emit=obj makes,
 * loaded with LLVM's ORC LLJIT, and kept in a disk cache (jit-cache.c).
 *
 *   module -> key = hash(module text, options, versions, build)
 *   cache hit:  the stored objects
 *   cache miss: clustercCodegenLower (the AOT path, same loop order and
 *               pipeline) -> cgEmitLoweredObject (LLVM -On, host CPU; the
 *               back end split over jitParts() objects compiled
 *               concurrently, split-codegen.c) -> stored atomically
 *   -> LLVMOrcLLJITAddObjectFile of each into one JITDylib; libclusterrt's
 *      entry points and memrefCopy as absolute symbols, the rest (libm,
 *      libc) from the process.
 * MLIR's ExecutionEngine, used before, ran the same LLVM passes but took
 * 2-5x longer than --emit=obj on ResNet-18 and could not reuse its work.
 *
 * Calling convention. After the codegen pipeline a function
 *   func.func @f(tensor<AxB..>, ...) -> (tensor<..>, ...)  {llvm.emit_c_interface}
 * has a C interface _mlir_ciface_f(D *arg0, ..., D *res0, ...) where each D
 * is a memref descriptor {T *allocated, *aligned; int64_t offset,
 * sizes[r], strides[r]} and results are out-parameters. Before LLVM's
 * passes, addPackedWrappers gives every _mlir_ciface_f a wrapper
 * clusterc_packed_f(void **args) (MLIR's packed convention: args[i] points
 * to argument i), so one C signature calls any entry point: here pointers
 * to the descriptor pointers. clustercJitCall builds the descriptors on the
 * stack for contiguous buffers.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "jit-cache.h"
#include "../support/checked.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "llvm-c/Core.h"
#include "llvm-c/Error.h"
#include "llvm-c/LLJIT.h"
#include "llvm-c/Object.h"
#include "llvm-c/Orc.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
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
int32_t _mlir_ciface_clusterrt_mlir_sgemm(const MemRef1 *, const MemRef1 *, const MemRef1 *,
                                          MemRef1 *);
int32_t _mlir_ciface_clusterrt_mlir_sgemm_acc(const MemRef1 *, const MemRef1 *, const MemRef1 *,
                                              const MemRef1 *, MemRef1 *);

struct ClustercJit {
  LLVMOrcLLJITRef lljit;
  ClustercJitStats stats;
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

/* ---- Packed wrappers ------------------------------------------------------- */

static const char kCiface[] = "_mlir_ciface_", kPacked[] = "clusterc_packed_";

/* Adds clusterc_packed_f(ptr args) for every defined _mlir_ciface_f: it
 * loads argument i from *args[i], calls, and stores a result (none with
 * the default pipeline) to *args[n]. A CgEditLLVM. */
static bool addPackedWrappers(LLVMModuleRef mod, void *user) {
  (void)user;
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0), i64 = LLVMInt64TypeInContext(ctx);
  LLVMTypeRef wrapperType = LLVMFunctionType(LLVMVoidTypeInContext(ctx), &ptr, 1, 0);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  bool ok = true;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f && ok; f = LLVMGetNextFunction(f)) {
    size_t len;
    const char *name = LLVMGetValueName2(f, &len);
    size_t pre = sizeof kCiface - 1;
    if (LLVMIsDeclaration(f) || len <= pre || strncmp(name, kCiface, pre))
      continue;
    LLVMTypeRef ft = LLVMGlobalGetValueType(f);
    unsigned n = LLVMCountParamTypes(ft);
    char *wname = malloc(sizeof kPacked + len - pre);
    LLVMTypeRef *types = malloc(sizeof *types * (n ? n : 1));
    LLVMValueRef *args = malloc(sizeof *args * (n ? n : 1));
    if ((ok = wname && types && args)) {
      snprintf(wname, sizeof kPacked + len - pre, "%s%.*s", kPacked, (int)(len - pre),
               name + pre);
      LLVMValueRef w = LLVMAddFunction(mod, wname, wrapperType);
      LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, w, "entry"));
      LLVMValueRef packed = LLVMGetParam(w, 0);
      LLVMGetParamTypes(ft, types);
      for (unsigned i = 0; i <= n; ++i) {
        LLVMValueRef idx = LLVMConstInt(i64, i, 0);
        if (i == n && LLVMGetTypeKind(LLVMGetReturnType(ft)) == LLVMVoidTypeKind)
          break;
        LLVMValueRef slot = LLVMBuildLoad2(b, ptr, LLVMBuildGEP2(b, ptr, packed, &idx, 1, ""), "");
        if (i < n) {
          args[i] = LLVMBuildLoad2(b, types[i], slot, "");
          continue;
        }
        LLVMBuildStore(b, LLVMBuildCall2(b, ft, f, args, n, ""), slot);
      }
      if (LLVMGetTypeKind(LLVMGetReturnType(ft)) == LLVMVoidTypeKind)
        LLVMBuildCall2(b, ft, f, args, n, "");
      LLVMBuildRetVoid(b);
    }
    free(wname);
    free(types);
    free(args);
  }
  LLVMDisposeBuilder(b);
  return ok;
}

/* ---- Creation ------------------------------------------------------------------ */

static void printText(MlirStringRef s, void *user) {
  fwrite(s.data, 1, s.length, (FILE *)user);
}

#define ERR(j, ...) clustercMessagef((j)->msg, (j)->msgUser, CLUSTERC_MESSAGE_ERROR, __VA_ARGS__)
#define WARN(j, ...) clustercMessagef((j)->msg, (j)->msgUser, CLUSTERC_MESSAGE_WARNING, __VA_ARGS__)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The compiled objects, each malloc'd (cgEmitLoweredObject writes one per
 * call). */
typedef struct Compiled {
  CgJitObjects objs;
  bool oom;
} Compiled;

static void addObject(MlirStringRef s, void *user) {
  Compiled *c = user;
  char *p = c->oom || c->objs.n == CG_MAX_PARTS ? NULL : malloc(s.length ? s.length : 1);
  if (!p) {
    c->oom = true;
    return;
  }
  memcpy(p, s.data, s.length);
  c->objs.data[c->objs.n] = p;
  c->objs.size[c->objs.n++] = s.length;
}

static void freeCompiled(Compiled *c) {
  for (unsigned i = 0; i < c->objs.n; ++i)
    free((char *)c->objs.data[i]);
}

/* Objects to split a cold compile's back end over: CLUSTERC_JIT_THREADS=N
 * (1 to CG_MAX_PARTS; 1 is one object on this thread), else 2 where two or
 * more CPUs are online, else 1. Optimisation stays serial: only code
 * generation is split (docs/PERFORMANCE.md). */
static unsigned jitParts(void) {
  const char *v = getenv("CLUSTERC_JIT_THREADS");
  if (v && *v) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!errno && !*end && n >= 1 && n <= CG_MAX_PARTS)
      return (unsigned)n;
  }
  return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1; /* not a count: the default */
}

/* Reports an LLVM error (consumed); false. */
static bool llvmFailed(ClustercJit *jit, LLVMErrorRef e, const char *name, const char *what) {
  char *m = LLVMGetErrorMessage(e);
  ERR(jit, "%s: error: the JIT could not %s: %s\n", name, what, m ? m : "");
  LLVMDisposeErrorMessage(m);
  return false;
}

/* libclusterrt's entry points and memrefCopy for the object's undefined
 * symbols (the driver links libclusterrt statically: dlsym cannot find
 * them), then the process's symbols (libm, libc). */
static LLVMErrorRef defineSymbols(LLVMOrcLLJITRef lljit) {
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
      {"_mlir_ciface_clusterrt_mlir_sgemm", (void *)_mlir_ciface_clusterrt_mlir_sgemm},
      {"_mlir_ciface_clusterrt_mlir_sgemm_acc", (void *)_mlir_ciface_clusterrt_mlir_sgemm_acc},
      {"memrefCopy", (void *)jitMemrefCopy},
  };
  enum { N = sizeof syms / sizeof syms[0] };
  LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(lljit);
  LLVMOrcCSymbolMapPair pairs[N];
  for (size_t i = 0; i < N; ++i) {
    pairs[i].Name = LLVMOrcLLJITMangleAndIntern(lljit, syms[i].name);
    pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)syms[i].fn;
    pairs[i].Sym.Flags.GenericFlags =
        LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
    pairs[i].Sym.Flags.TargetFlags = 0;
  }
  LLVMErrorRef e = LLVMOrcJITDylibDefine(jd, LLVMOrcAbsoluteSymbols(pairs, N));
  if (e)
    return e;
  LLVMOrcDefinitionGeneratorRef gen;
  e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
      &gen, LLVMOrcLLJITGetGlobalPrefix(lljit), NULL, NULL);
  if (!e)
    LLVMOrcJITDylibAddGenerator(jd, gen);
  return e;
}

static void *lookup(ClustercJit *jit, const char *prefix, const char *name) {
  size_t n = strlen(prefix) + strlen(name) + 1;
  char *full = malloc(n);
  if (!full)
    return NULL;
  snprintf(full, n, "%s%s", prefix, name);
  LLVMOrcExecutorAddress addr = 0;
  LLVMErrorRef e = LLVMOrcLLJITLookup(jit->lljit, &addr, full);
  free(full);
  if (e) {
    LLVMConsumeError(e);
    return NULL;
  }
  return (void *)(uintptr_t)addr;
}

/* CLUSTERC_JIT_PERF_MAP=1: appends every function of the loaded objects to
 * /tmp/perf-PID.map (start, size, name in hex and text), which perf report
 * reads for addresses outside any file: the compiled step's loop nests get
 * names instead of raw addresses. A section's load address is found from
 * a symbol of it that the JIT can look up (a function with external
 * linkage); sections without one are left out. */
static void writePerfMap(ClustercJit *jit, const CgJitObjects *objs) {
  const char *v = getenv("CLUSTERC_JIT_PERF_MAP");
  if (!v || strcmp(v, "1"))
    return;
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
  FILE *f = fopen(path, "a");
  if (!f)
    return;
  for (unsigned i = 0; i < objs->n; ++i) {
    LLVMMemoryBufferRef buf =
        LLVMCreateMemoryBufferWithMemoryRangeCopy(objs->data[i], objs->size[i], "perf-map");
    char *err = NULL;
    LLVMBinaryRef bin = LLVMCreateBinary(buf, NULL, &err);
    LLVMDisposeMessage(err);
    if (!bin) {
      LLVMDisposeMemoryBuffer(buf);
      continue;
    }
    /* Two passes over the symbols: the load address of each text section
     * (by section address), then the functions. */
    enum { MAX_SECTIONS = 1024 };
    uint64_t secAddr[MAX_SECTIONS];
    intptr_t delta[MAX_SECTIONS];
    size_t nsec = 0;
    for (int pass = 0; pass < 2; ++pass) {
      LLVMSymbolIteratorRef sym = LLVMObjectFileCopySymbolIterator(bin);
      LLVMSectionIteratorRef sec = LLVMObjectFileCopySectionIterator(bin);
      for (; !LLVMObjectFileIsSymbolIteratorAtEnd(bin, sym); LLVMMoveToNextSymbol(sym)) {
        const char *name = LLVMGetSymbolName(sym);
        LLVMMoveToContainingSection(sec, sym);
        if (LLVMObjectFileIsSectionIteratorAtEnd(bin, sec) || !name || !name[0])
          continue;
        const char *sname = LLVMGetSectionName(sec);
        if (!sname || strncmp(sname, ".text", 5))
          continue;
        uint64_t sa = LLVMGetSectionAddress(sec), off = LLVMGetSymbolAddress(sym) - sa;
        size_t k = 0;
        while (k < nsec && secAddr[k] != sa)
          ++k;
        if (pass == 0) {
          if (k < nsec || nsec == MAX_SECTIONS)
            continue;
          void *at = lookup(jit, "", name);
          if (at)
            secAddr[nsec] = sa, delta[nsec++] = (intptr_t)at - (intptr_t)off;
        } else if (k < nsec && LLVMGetSymbolSize(sym) > 0) {
          fprintf(f, "%lx %lx %s\n", (unsigned long)(delta[k] + (intptr_t)off),
                  (unsigned long)LLVMGetSymbolSize(sym), name);
        }
      }
      LLVMDisposeSymbolIterator(sym);
      LLVMDisposeSectionIterator(sec);
    }
    LLVMDisposeBinary(bin);
    LLVMDisposeMemoryBuffer(buf);
  }
  fclose(f);
}

/* Loads the objects into one JITDylib (the buffers are copied), where
 * they resolve each other's symbols; false after a message. */
static bool load(ClustercJit *jit, const char *name, const CgJitObjects *objs) {
  LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit->lljit, NULL);
  if (e) {
    jit->lljit = NULL;
    return llvmFailed(jit, e, name, "start");
  }
  if ((e = defineSymbols(jit->lljit)))
    return llvmFailed(jit, e, name, "define the runtime's symbols");
  LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit->lljit);
  for (unsigned i = 0; i < objs->n; ++i) {
    LLVMMemoryBufferRef buf =
        LLVMCreateMemoryBufferWithMemoryRangeCopy(objs->data[i], objs->size[i], "clusterc-jit");
    if ((e = LLVMOrcLLJITAddObjectFile(jit->lljit, jd, buf)))
      return llvmFailed(jit, e, name, "load the object");
  }
  jit->stats.objects = objs->n;
  writePerfMap(jit, objs);
  return true;
}

/* The objects of the lowered module (compiled now, the back end split over
 * `parts`), into *out; false after a message. */
static bool compile(ClustercJit *jit, MlirModule module, const ClustercCodegenOptions *o,
                    unsigned parts, const char *name, Compiled *out) {
  double phase;
  cgPhaseStart(&phase);
  if (clustercCodegenLower(module, o, name, jit->msg, jit->msgUser))
    return false;
  cgPhase("MLIR lowering", &phase);
  mlirRegisterAllLLVMTranslations(mlirModuleGetContext(module));
  if (cgEmitLoweredObject(module, o, parts, addPackedWrappers, NULL, addObject, out, name,
                          jit->msg, jit->msgUser))
    return false;
  if (out->oom)
    ERR(jit, "%s: error: out of memory\n", name);
  return !out->oom;
}

ClustercStatus clustercJitCreate(MlirModule module, const ClustercCodegenOptions *o,
                                 const char *displayName, ClustercMessageFn onMessage,
                                 void *userData, ClustercJit **out) {
  double t0 = now();
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
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  ClustercCodegenOptions opts;
  if (o)
    opts = *o;
  else
    clustercCodegenOptionsInit(&opts);
  /* CLUSTERC_JIT_PIPELINE=TEXT replaces the pipeline (experiments). */
  if (!opts.pipeline)
    opts.pipeline = getenv("CLUSTERC_JIT_PIPELINE");
  if (!opts.cpu)
    opts.cpu = "native"; /* the code runs here */
  bool native = !strcmp(opts.cpu, "native");
  char *cpu = native ? LLVMGetHostCPUName() : NULL;
  char *features = native ? LLVMGetHostCPUFeatures() : NULL;
  char *dir = opts.noJitCache ? NULL : cgJitCacheDir(&opts);
  Compiled compiled = {.objs.n = 0, .oom = false};
  void *cached = NULL;
  CgJitObjects cachedObjs = {.n = 0};
  jit->stats.cache = CLUSTERC_JIT_CACHE_OFF;
  if (dir) {
    cgJitCacheKey(module, &opts, cpu ? cpu : opts.cpu, features, jit->stats.key);
    CgCacheResult r = cgJitCacheRead(dir, jit->stats.key, &cached, &cachedObjs);
    jit->stats.cache = r == CG_CACHE_HIT ? CLUSTERC_JIT_CACHE_HIT
                     : r == CG_CACHE_CORRUPT ? CLUSTERC_JIT_CACHE_CORRUPT
                                             : CLUSTERC_JIT_CACHE_MISS;
    if (r == CG_CACHE_CORRUPT)
      WARN(jit, "%s: warning: the JIT cache entry %s/%s.o is corrupt: compiling it again\n",
           displayName, dir, jit->stats.key);
  }
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  bool ok;
  if (cached) {
    ok = load(jit, displayName, &cachedObjs);
  } else {
    ok = compile(jit, module, &opts, jitParts(), displayName, &compiled);
    int err = ok && dir ? cgJitCacheWrite(dir, jit->stats.key, &compiled.objs) : 0;
    if (err)
      WARN(jit, "%s: warning: cannot write the JIT cache in %s (%s): compiled without it\n",
           displayName, dir, strerror(err));
    ok = ok && load(jit, displayName, &compiled.objs);
  }
  free(cached);
  freeCompiled(&compiled);
  free(dir);
  void (*initFn)(void **) = ok && hasInit ? lookup(jit, kPacked, CLUSTERC_DECODE_INIT) : NULL;
  if (ok && hasInit && !initFn) {
    ERR(jit, "%s: error: the JIT could not find %s\n", displayName, CLUSTERC_DECODE_INIT);
    ok = false;
  }
  if (!ok) {
    clustercJitDestroy(jit);
    return CLUSTERC_ERROR;
  }
  if (initFn)
    initFn(NULL);
  for (size_t i = 0; i < jit->nFuncs; ++i)
    jit->funcs[i].packed = (void (*)(void **))lookup(jit, kPacked, jit->funcs[i].name);
  jit->stats.seconds = now() - t0;
  *out = jit;
  return CLUSTERC_OK;
}

const ClustercJitStats *clustercJitGetStats(const ClustercJit *jit) { return &jit->stats; }

void clustercJitDestroy(ClustercJit *jit) {
  if (!jit)
    return;
  if (jit->lljit) {
    LLVMErrorRef e = LLVMOrcDisposeLLJIT(jit->lljit);
    if (e)
      LLVMConsumeError(e);
  }
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
