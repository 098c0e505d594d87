/*
 * Split code generation: the object code of an optimized LLVM module as up
 * to P objects compiled concurrently, as llvm::splitCodeGen does for LTO,
 * with LLVM's C API only. The JIT uses it (jit.c, CLUSTERC_JIT_THREADS);
 * --emit=obj does not. Optimisation stays one serial run on the whole
 * module before this (codegen.c emitLLVM): only the back end (instruction
 * selection, scheduling, register allocation, emission), most of a cold
 * compile, is split.
 *
 *   1. Plan, on the module: each defined function goes to a partition,
 *      largest first (instruction count; equal sizes in module order) onto
 *      the least loaded one (the lowest on a tie); every global variable
 *      definition goes to partition 0, charged a little for its bytes. The
 *      same module gives the same partitions, so the objects, and the cache
 *      entries holding them, are reproducible.
 *   2. Local (internal, private) functions and globals become external with
 *      hidden visibility under a unique name, "clusterc.local." + name: a
 *      partition may call or read one that another defines. The prefix keeps
 *      them off every name the JIT defines itself (memrefCopy is linked in
 *      as an internal function, and is also one of the JIT's absolute
 *      symbols) and off the process's symbols.
 *   3. The module is written to bitcode once. Partitions 1..P-1 each parse
 *      it into an LLVMContext of their own, on a thread of their own, with a
 *      target machine of their own (one context is not thread-safe; separate
 *      ones are, as in LTO's parallel code generation); partition 0 is the
 *      module itself, on the calling thread.
 *   4. A partition replaces every function and global it does not own by a
 *      fresh declaration: default visibility and not dso_local, so its code
 *      reaches them through the GOT and PLT, which the JIT's linker fills
 *      whatever the distance between two objects (a hidden declaration would
 *      be a 32-bit PC-relative reference, out of range once two objects are
 *      mapped more than 2 GB apart). The llvm.* globals (llvm.used, ...)
 *      stay in partition 0 only. Then it emits its object.
 *
 * Every function is compiled once, from the same optimized IR that one
 * object would be made from: the code computes the same values; names,
 * linkage and references across partitions differ. One object
 * (the module as it is) when it defines fewer than two functions or has
 * aliases or ifuncs (the MLIR lowering makes none).
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm-c/BitReader.h"
#include "llvm-c/BitWriter.h"
#include "llvm-c/Core.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"

static const char kLocalPrefix[] = "clusterc.local.";

/* One global byte costs as much back-end time as this fraction of an
 * instruction (emitting data is a copy; selecting an instruction is not). */
enum { BYTES_PER_INSTRUCTION = 1024 };

/* Which partition defines what: owner[i] of the i-th function and the i-th
 * global variable in module order (bitcode keeps the order), -1 for
 * declarations and the llvm.* globals. */
typedef struct Plan {
  int *funcOwner, *globalOwner;
  size_t nFuncs, nGlobals;
} Plan;

typedef struct Part {
  const Plan *plan;
  const char *bitcode;
  size_t bitcodeSize;
  unsigned index;
  LLVMTargetMachineRef tm;
  LLVMMemoryBufferRef obj;
  char err[512];
} Part;

static bool isLLVMGlobal(LLVMValueRef g) {
  size_t len;
  const char *name = LLVMGetValueName2(g, &len);
  return len >= 5 && !memcmp(name, "llvm.", 5);
}

static bool isLocal(LLVMValueRef g) {
  LLVMLinkage l = LLVMGetLinkage(g);
  return l == LLVMInternalLinkage || l == LLVMPrivateLinkage;
}

static uint64_t instructionCount(LLVMValueRef f) {
  uint64_t n = 0;
  for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
    for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i))
      n++;
  return n;
}

/* Step 2: a local definition becomes clusterc.local.NAME (LLVM adds a suffix
 * if that is taken), external, hidden. False when out of memory. */
static bool externalize(LLVMValueRef g, size_t *anon) {
  if (LLVMIsDeclaration(g) || !isLocal(g))
    return true;
  size_t len;
  const char *old = LLVMGetValueName2(g, &len);
  size_t cap = sizeof kLocalPrefix + (len ? len : 32);
  char *name = malloc(cap);
  if (!name)
    return false;
  if (len)
    snprintf(name, cap, "%s%.*s", kLocalPrefix, (int)len, old);
  else
    snprintf(name, cap, "%sanon.%zu", kLocalPrefix, (*anon)++);
  LLVMSetValueName2(g, name, strlen(name));
  free(name);
  LLVMSetLinkage(g, LLVMExternalLinkage);
  LLVMSetVisibility(g, LLVMHiddenVisibility);
  return true;
}

typedef struct Load {
  uint64_t cost;
  size_t func; /* index in module order */
} Load;

static int largerFirst(const void *a, const void *b) {
  const Load *x = a, *y = b;
  if (x->cost != y->cost)
    return x->cost > y->cost ? -1 : 1;
  return x->func < y->func ? -1 : x->func > y->func;
}

/* Steps 1 and 2 on mod; 0 partitions when one object is to be made (see
 * the top), -1 when out of memory. */
static int makePlan(LLVMModuleRef mod, unsigned parts, Plan *p) {
  if (LLVMGetFirstGlobalAlias(mod) || LLVMGetFirstGlobalIFunc(mod))
    return 0;
  size_t defined = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), p->nFuncs++)
    defined += !LLVMIsDeclaration(f);
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
    p->nGlobals++;
  if (defined < 2)
    return 0;
  if (parts > defined)
    parts = (unsigned)defined;
  p->funcOwner = malloc(sizeof *p->funcOwner * p->nFuncs);
  p->globalOwner = malloc(sizeof *p->globalOwner * (p->nGlobals ? p->nGlobals : 1));
  Load *loads = malloc(sizeof *loads * defined);
  uint64_t *total = calloc(parts, sizeof *total);
  if (!p->funcOwner || !p->globalOwner || !loads || !total) {
    free(loads);
    free(total);
    return -1;
  }
  size_t i = 0, n = 0, anon = 0;
  bool ok = true;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++i) {
    p->funcOwner[i] = -1;
    if (!LLVMIsDeclaration(f))
      loads[n++] = (Load){instructionCount(f), i};
    ok = ok && externalize(f, &anon);
  }
  LLVMTargetDataRef dl = LLVMGetModuleDataLayout(mod);
  i = 0;
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g), ++i) {
    bool def = !LLVMIsDeclaration(g) && !isLLVMGlobal(g);
    p->globalOwner[i] = def ? 0 : -1;
    if (def)
      total[0] += LLVMABISizeOfType(dl, LLVMGlobalGetValueType(g)) / BYTES_PER_INSTRUCTION;
    ok = ok && externalize(g, &anon);
  }
  qsort(loads, n, sizeof *loads, largerFirst);
  for (size_t j = 0; j < n; ++j) {
    unsigned least = 0;
    for (unsigned k = 1; k < parts; ++k)
      if (total[k] < total[least])
        least = k;
    total[least] += loads[j].cost;
    p->funcOwner[loads[j].func] = (int)least;
  }
  free(loads);
  free(total);
  return ok ? (int)parts : -1;
}

static char *takeName(LLVMValueRef v) {
  size_t len;
  const char *n = LLVMGetValueName2(v, &len);
  char *name = malloc(len + 1);
  if (name) {
    memcpy(name, n, len);
    name[len] = 0;
    LLVMSetValueName2(v, "", 0); /* free for the declaration */
  }
  return name;
}

/* Replaces function f by a declaration (attributes and calling convention
 * kept, as Function::deleteBody keeps them). */
static bool declareFunction(LLVMModuleRef mod, LLVMValueRef f) {
  char *name = takeName(f);
  if (!name)
    return false;
  LLVMTypeRef ft = LLVMGlobalGetValueType(f);
  LLVMValueRef d = LLVMAddFunction(mod, name, ft);
  free(name);
  LLVMSetFunctionCallConv(d, LLVMGetFunctionCallConv(f));
  LLVMSetUnnamedAddress(d, LLVMGetUnnamedAddress(f));
  unsigned nParams = LLVMCountParamTypes(ft);
  for (unsigned idx = 0; idx <= nParams + 1; ++idx) {
    LLVMAttributeIndex at =
        idx == nParams + 1 ? (LLVMAttributeIndex)LLVMAttributeFunctionIndex : idx;
    unsigned n = LLVMGetAttributeCountAtIndex(f, at);
    if (!n)
      continue;
    LLVMAttributeRef *attrs = malloc(sizeof *attrs * n);
    if (!attrs)
      return false;
    LLVMGetAttributesAtIndex(f, at, attrs);
    for (unsigned j = 0; j < n; ++j)
      LLVMAddAttributeAtIndex(d, at, attrs[j]);
    free(attrs);
  }
  LLVMReplaceAllUsesWith(f, d);
  LLVMDeleteFunction(f);
  return true;
}

static bool declareGlobal(LLVMModuleRef mod, LLVMValueRef g) {
  char *name = takeName(g);
  if (!name)
    return false;
  LLVMValueRef d = LLVMAddGlobalInAddressSpace(mod, LLVMGlobalGetValueType(g), name,
                                               LLVMGetPointerAddressSpace(LLVMTypeOf(g)));
  free(name);
  LLVMSetGlobalConstant(d, LLVMIsGlobalConstant(g));
  LLVMSetThreadLocalMode(d, LLVMGetThreadLocalMode(g));
  LLVMSetAlignment(d, LLVMGetAlignment(g));
  LLVMSetUnnamedAddress(d, LLVMGetUnnamedAddress(g));
  LLVMReplaceAllUsesWith(g, d);
  LLVMDeleteGlobal(g);
  return true;
}

/* Step 4 on mod (the planned module or a copy parsed from its bitcode):
 * keeps the definitions of partition k. */
static bool keepPartition(LLVMModuleRef mod, const Plan *p, unsigned k, char *err,
                          size_t errSize) {
  size_t nf = 0, ng = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    nf++;
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
    ng++;
  if (nf != p->nFuncs || ng != p->nGlobals) {
    snprintf(err, errSize, "internal: the bitcode of partition %u has %zu functions and "
             "%zu globals, the module %zu and %zu", k, nf, ng, p->nFuncs, p->nGlobals);
    return false;
  }
  /* Snapshots first: declarations are appended to the lists. */
  LLVMValueRef *fs = malloc(sizeof *fs * (nf ? nf : 1));
  LLVMValueRef *gs = malloc(sizeof *gs * (ng ? ng : 1));
  bool ok = fs && gs;
  if (ok) {
    size_t i = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
      fs[i++] = f;
    i = 0;
    for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g))
      gs[i++] = g;
  }
  for (size_t i = 0; ok && i < ng; ++i) {
    if (isLLVMGlobal(gs[i])) {
      if (k)
        LLVMDeleteGlobal(gs[i]);
    } else if (p->globalOwner[i] >= 0 && p->globalOwner[i] != (int)k)
      ok = declareGlobal(mod, gs[i]);
  }
  for (size_t i = 0; ok && i < nf; ++i)
    if (p->funcOwner[i] >= 0 && p->funcOwner[i] != (int)k)
      ok = declareFunction(mod, fs[i]);
  if (!ok)
    snprintf(err, errSize, "out of memory");
  free(fs);
  free(gs);
  return ok;
}

static bool emit(LLVMTargetMachineRef tm, LLVMModuleRef mod, LLVMMemoryBufferRef *obj,
                 char *err, size_t errSize) {
  char *msg = NULL;
  if (!LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &msg, obj)) {
    LLVMDisposeMessage(msg);
    return true;
  }
  snprintf(err, errSize, "%s", msg ? msg : "code generation failed");
  LLVMDisposeMessage(msg);
  *obj = NULL;
  return false;
}

/* A partition other than 0, on its own thread. */
static void *runPart(void *arg) {
  Part *t = arg;
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
      t->bitcode, t->bitcodeSize, "clusterc-partition", 0);
  LLVMModuleRef mod = NULL;
  if (LLVMParseBitcodeInContext2(ctx, buf, &mod))
    snprintf(t->err, sizeof t->err, "internal: cannot read back the module's bitcode");
  else if (keepPartition(mod, t->plan, t->index, t->err, sizeof t->err))
    emit(t->tm, mod, &t->obj, t->err, sizeof t->err);
  LLVMDisposeMemoryBuffer(buf);
  if (mod)
    LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  return NULL;
}

bool cgSplitCodegen(LLVMModuleRef mod, LLVMTargetMachineRef *tms, unsigned parts,
                    LLVMMemoryBufferRef *objs, unsigned *nObjs, char *err, size_t errSize) {
  *nObjs = 0;
  Plan plan = {0};
  int n = parts > 1 ? makePlan(mod, parts, &plan) : 0;
  if (n < 0) {
    free(plan.funcOwner);
    free(plan.globalOwner);
    snprintf(err, errSize, "out of memory");
    return false;
  }
  if (n < 2) { /* one object, as without splitting */
    free(plan.funcOwner);
    free(plan.globalOwner);
    bool ok = emit(tms[0], mod, &objs[0], err, errSize);
    *nObjs = ok;
    return ok;
  }
  LLVMMemoryBufferRef bc = LLVMWriteBitcodeToMemoryBuffer(mod);
  Part *t = calloc((size_t)n, sizeof *t);
  pthread_t *th = calloc((size_t)n, sizeof *th);
  bool *started = calloc((size_t)n, sizeof *started);
  bool ok = bc && t && th && started;
  if (!ok)
    snprintf(err, errSize, "out of memory");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, (size_t)32 << 20); /* LLVM recurses deeply */
  for (int k = 1; ok && k < n; ++k) {
    t[k] = (Part){&plan, LLVMGetBufferStart(bc), LLVMGetBufferSize(bc), (unsigned)k, tms[k],
                  NULL, ""};
    /* Without a thread it is compiled here, after partition 0. */
    started[k] = !pthread_create(&th[k], &attr, runPart, &t[k]);
  }
  pthread_attr_destroy(&attr);
  if (ok) {
    if (keepPartition(mod, &plan, 0, t[0].err, sizeof t[0].err))
      emit(tms[0], mod, &t[0].obj, t[0].err, sizeof t[0].err);
  }
  for (int k = 1; ok && k < n; ++k) {
    if (started[k])
      pthread_join(th[k], NULL);
    else
      runPart(&t[k]);
  }
  for (int k = 0; ok && k < n; ++k)
    if (!t[k].obj) {
      snprintf(err, errSize, "partition %d of %d: %s", k, n, t[k].err);
      ok = false;
    }
  for (int k = 0; t && k < n; ++k) {
    if (ok)
      objs[k] = t[k].obj;
    else if (t[k].obj)
      LLVMDisposeMemoryBuffer(t[k].obj);
  }
  *nObjs = ok ? (unsigned)n : 0;
  if (bc)
    LLVMDisposeMemoryBuffer(bc);
  free(t);
  free(th);
  free(started);
  free(plan.funcOwner);
  free(plan.globalOwner);
  return ok;
}
