/*
 * Code generation (see clusterc/codegen.h): the shared prepare-and-lower
 * path, translation to LLVM IR, LLVM optimisation and emission for x86-64
 * and AArch64.
 *
 * Invariants:
 *  - Nothing is written before everything succeeded: the IR, bitcode or
 *    object goes to a memory buffer first, then through the caller's write
 *    callback (clusterc's is a temporary file renamed into place on commit).
 *  - The JIT and the object code are lowered by the same function
 *    (clustercCodegenLower), with the same loop order. Floating point is not
 *    contracted (FP fusion stays "standard") and only the fastmath `reassoc`
 *    that cluster-order-loops puts on a reduction made innermost reorders
 *    sums (ClustercCodegenOptions.loopOrder; CLUSTERC_LOOP_ORDER_EXACT
 *    adds none): every -O level and both targets then compute the same
 *    values up to that reassociation, see docs/CODEGEN.md.
 *  - Objects are position-independent (they link into PIE executables and
 *    shared libraries) and need only libc, libm and libclusterrt: the one
 *    MLIR runtime helper the lowering may call, memrefCopy, is linked in
 *    with internal linkage (memref-copy.c).
 *  - Only entry points (public functions with a body) are exported; private
 *    functions get internal linkage, so several models link together.
 *  - With decode=runtime the decode initializer becomes a global
 *    constructor (llvm.global_ctors in IR, an .init_array entry in ELF
 *    objects, see ctorsToInitArray): weights are decoded once, when the
 *    object is loaded.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "../support/checked.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llvm-c/Analysis.h"
#include "llvm-c/BitWriter.h"
#include "llvm-c/Core.h"
#include "llvm-c/IRReader.h"
#include "llvm-c/Linker.h"
#include "llvm-c/Target.h"
#include "llvm-c/TargetMachine.h"
#include "llvm-c/Transforms/PassBuilder.h"
#include "clusterc/passes.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/LLVM.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"
#include "mlir-c/Target/LLVMIR.h"
#include "../passes/capi-ext.h"
#include "../passes/mlir-compat.h"

/* Tosa to linalg; bufferize with identity layouts at function boundaries
 * (C passes contiguous arrays) and caller-allocated results; free what the
 * function allocates; linalg to loops, which LLVM's loop vectorizer
 * vectorizes where that keeps the order of floating-point operations (the
 * elementwise ops, the decode; not the reductions).
 *
 * Results are computed into the function's own buffer and copied into the
 * caller's at the end, not computed in place (hoist-static-allocs): MLIR
 * 19's buffer-results-to-out-params crashes with that option when a
 * function returns one of its arguments, and a caller's pointer, which may
 * alias the inputs, keeps LLVM from holding accumulators in registers (the
 * tosa CNN ran 2x slower). The copy is of the outputs only.
 *
 * tosa-optional-decompositions first: tosa-to-linalg has no pattern for
 * transpose_conv2d (19 and 22 alike), which it rewrites into a conv2d of
 * the padded input with the reversed kernel (and a 1x1 depthwise_conv2d into
 * a multiply, which tosa-to-linalg lowers as well).
 *
 * int8 TFLite-style TOSA: tosa.rescale becomes tosa.apply_scale inside
 * linalg bodies, which tosa-to-arith lowers only with include-apply-rescale
 * (to 64-bit multiplies: exact, as the TOSA reference computes).
 *
 * bf16 arithmetic is done in f32 and each result rounded back
 * (arith-emulate-unsupported-floats), and the f32 <-> bf16 conversions are
 * expanded into integer ops (arith-expand include-bf16): otherwise LLVM
 * calls libgcc's __truncsfbf2, which Debian 12's libgcc (GCC 12) lacks.
 * The rounding is to nearest even, as __truncsfbf2's.
 *
 * Elementwise arith and math ops on whole tensors (a bias added with
 * arith.addf, a ReLU as arith.maximumf, as hand-written and some exported
 * models have them) become linalg.generic ops (convert-elementwise-to-linalg):
 * one-shot-bufferize has no bufferization for them.
 *
 * Math functions LLVM has no intrinsic for (tanh, erf, atan, ...) are left
 * by the first convert-to-llvm and become libm calls (convert-math-to-libm
 * first would also turn exp, sqrt, fma, ... into calls). */
#define TOSA_TO_LINALG                                                          \
  "func.func(tosa-optional-decompositions,tosa-to-linalg-named,tosa-to-linalg,"  \
  "tosa-to-arith{include-apply-rescale},tosa-to-tensor,convert-elementwise-to-linalg)"
#define PIPELINE_TO_LOOPS                                                       \
  TOSA_TO_LINALG ","                                                            \
  "one-shot-bufferize{bufferize-function-boundaries "                           \
  "function-boundary-type-conversion=identity-layout-map},"                     \
  CLUSTERC_BUFFER_RESULTS_TO_OUT_PARAMS ","                                     \
  "buffer-deallocation-pipeline,"                                               \
  "func.func(convert-linalg-to-loops)"
#define PIPELINE_TO_LLVM                                                        \
  "convert-scf-to-cf,expand-strided-metadata,lower-affine,"                     \
  "arith-emulate-unsupported-floats{source-types=bf16 target-type=f32},"        \
  "arith-expand{include-bf16},"                                                 \
  "finalize-memref-to-llvm,convert-to-llvm,"                                    \
  "convert-math-to-libm,convert-to-llvm,reconcile-unrealized-casts"
static const char defaultPipeline[] =
    "builtin.module(" PIPELINE_TO_LOOPS "," PIPELINE_TO_LLVM ")";
/* The same in two halves, for cluster-outline-loops between them (see
 * outlineLoops). */
static const char pipelineToLoops[] = "builtin.module(" PIPELINE_TO_LOOPS ")";
static const char pipelineToLLVM[] = "builtin.module(" PIPELINE_TO_LLVM ")";

const char *clustercCodegenDefaultPipeline(void) { return defaultPipeline; }

void clustercCodegenOptionsInit(ClustercCodegenOptions *o) {
  memset(o, 0, sizeof *o);
  o->optLevel = 2;
  o->loopOrder = CLUSTERC_LOOP_ORDER_REASSOCIATE;
  o->contractions = CLUSTERC_CONTRACTIONS_LOOPS;
}

bool clustercCodegenNeedsTarget(const ClustercCodegenOptions *o) {
  return o->emit >= CLUSTERC_EMIT_LLVM || o->triple || o->cpu || o->features;
}

/* ---- Target ---------------------------------------------------------------- */

static void initTargets(void) {
  static bool done;
  if (done)
    return;
  done = true;
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  LLVMInitializeAArch64TargetInfo();
  LLVMInitializeAArch64Target();
  LLVMInitializeAArch64TargetMC();
  LLVMInitializeAArch64AsmPrinter();
}

/* The normalized triple (LLVMDisposeMessage it). */
static char *tripleOf(const ClustercCodegenOptions *o) {
  if (!o->triple)
    return LLVMGetDefaultTargetTriple();
  return LLVMNormalizeTargetTriple(o->triple);
}

static bool sameArch(const char *a, const char *b) {
  size_t la = strcspn(a, "-"), lb = strcspn(b, "-");
  return la == lb && !strncmp(a, b, la);
}

static LLVMTargetMachineRef createTargetMachine(const ClustercCodegenOptions *o, char *triple);

ClustercStatus clustercCodegenCheckTarget(const ClustercCodegenOptions *o,
                                          ClustercMessageFn onMessage, void *userData) {
  char err[512];
  size_t errSize = sizeof err;
  initTargets();
  char *triple = tripleOf(o), *msg = NULL;
  LLVMTargetRef t;
  int rc = 0;
  if (LLVMGetTargetFromTriple(triple, &t, &msg)) {
    snprintf(err, errSize, "unsupported target '%s' (clusterc emits code for "
             "x86_64 and aarch64 triples, e.g. aarch64-linux-gnu): %s",
             o->triple ? o->triple : triple, msg ? msg : "");
    rc = -1;
  } else if (o->cpu && !strcmp(o->cpu, "native")) {
    char *host = LLVMGetDefaultTargetTriple();
    if (!sameArch(host, triple)) {
      snprintf(err, errSize, "--mcpu=native needs the host's target (%s), not '%s'",
               host, triple);
      rc = -1;
    }
    LLVMDisposeMessage(host);
  }
  if (!rc)
    rc = clustercCodegenCheckCpuFeatures(triple, o->cpu, o->features, err, errSize);
  if (!rc) {
    /* The lowering uses 64-bit indices and descriptors (MLIR's default data
     * layout): only 64-bit targets match it and the generated header. */
    LLVMTargetMachineRef tm = createTargetMachine(o, triple);
    LLVMTargetDataRef dl = tm ? LLVMCreateTargetDataLayout(tm) : NULL;
    if (!dl || LLVMPointerSize(dl) != 8) {
      snprintf(err, errSize, "unsupported target '%s': clusterc emits code for "
               "64-bit targets only (x86_64, aarch64)",
               o->triple ? o->triple : triple);
      rc = -1;
    }
    if (dl)
      LLVMDisposeTargetData(dl);
    if (tm)
      LLVMDisposeTargetMachine(tm);
  }
  LLVMDisposeMessage(msg);
  LLVMDisposeMessage(triple);
  if (rc)
    clustercMessagef(onMessage, userData, CLUSTERC_MESSAGE_ERROR, "%s\n", err);
  return rc ? CLUSTERC_USAGE : CLUSTERC_OK;
}

/* ---- MLIR side -------------------------------------------------------------- */

bool clustercCodegenIsEntryPoint(MlirOperation op) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (!mlirStringRefEqual(name, mlirStringRefCreateFromCString("func.func")))
    return false;
  MlirAttribute vis = mlirOperationGetAttributeByName(
      op, mlirStringRefCreateFromCString("sym_visibility"));
  if (!mlirAttributeIsNull(vis) &&
      !mlirStringRefEqual(mlirStringAttrGetValue(vis),
                          mlirStringRefCreateFromCString("public")))
    return false;
  MlirRegion body = mlirOperationGetRegion(op, 0);
  return !mlirBlockIsNull(mlirRegionGetFirstBlock(body));
}

void cgMarkEntryPoints(MlirModule module) {
  MlirContext ctx = mlirModuleGetContext(module);
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    if (clustercCodegenIsEntryPoint(op))
      mlirOperationSetAttributeByName(
          op, mlirStringRefCreateFromCString("llvm.emit_c_interface"),
          mlirUnitAttrGet(ctx));
}

/* Private functions with a body (helpers, the decode initializer) get
 * internal linkage (func-to-llvm reads llvm.linkage), so two models linked
 * into one program never clash; func.func alone lowers to external. */
static void internalizePrivate(MlirModule module) {
  MlirContext ctx = mlirModuleGetContext(module);
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            mlirStringRefCreateFromCString("func.func")) ||
        mlirBlockIsNull(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0))))
      continue;
    MlirAttribute vis = mlirOperationGetAttributeByName(
        op, mlirStringRefCreateFromCString("sym_visibility"));
    if (!mlirAttributeIsNull(vis) &&
        !mlirStringRefEqual(mlirStringAttrGetValue(vis),
                            mlirStringRefCreateFromCString("public")))
      mlirOperationSetAttributeByName(
          op, mlirStringRefCreateFromCString("llvm.linkage"),
          mlirLLVMLinkageAttrGet(ctx, MlirLLVMLinkageInternal));
  }
}

/* Where a run's output and messages go. */
typedef struct Sink {
  MlirStringCallback write;
  void *writeUser;
  ClustercMessageFn msg;
  void *msgUser;
  const char *name; /* the input's display name */
  CgEditLLVM edit;  /* NULL, or run on the LLVM module before optimisation */
  void *editUser;
  unsigned parts;   /* objects to split the back end over (0, 1: one) */
} Sink;

#define ERR(k, ...) clustercMessagef((k)->msg, (k)->msgUser, CLUSTERC_MESSAGE_ERROR, __VA_ARGS__)

typedef struct Text {
  char buf[1024];
  size_t len;
} Text;

static void appendText(MlirStringRef s, void *user) {
  Text *t = user;
  size_t n = s.length < sizeof t->buf - 1 - t->len ? s.length
                                                   : sizeof t->buf - 1 - t->len;
  memcpy(t->buf + t->len, s.data, n);
  t->len += n;
  t->buf[t->len] = 0;
}

/* Runs the lowering pipeline, then the nExtra passes of extra (owned; null
 * ones skipped); false after a diagnostic. */
static bool lowerThen(MlirModule module, const char *pipeline, const MlirPass *extra,
                      size_t nExtra, const Sink *k) {
  MlirContext ctx = mlirModuleGetContext(module);
  static bool registered;
  if (!registered) {
    mlirRegisterAllPasses();
    registered = true;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerEnableVerifier(pm, true);
  Text msg = {.len = 0};
  msg.buf[0] = 0;
  bool ok = true;
  bool parsed = mlirLogicalResultIsSuccess(mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm), mlirStringRefCreateFromCString(pipeline),
      appendText, &msg));
  for (size_t i = 0; i < nExtra; ++i)
    if (extra[i].ptr)
      mlirPassManagerAddOwnedPass(pm, extra[i]); /* destroyed with pm */
  if (!parsed) {
    ERR(k, "clusterc: error: bad lowering pipeline: %s\n", msg.buf);
    ok = false;
  } else if (mlirLogicalResultIsFailure(
                 mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    ERR(k, "%s: error: lowering failed: the lowering pipeline could "
        "not convert the model (see the errors above; unsupported ops for "
        "code generation)\n", k->name);
    ok = false;
  }
  mlirPassManagerDestroy(pm);
  return ok;
}

static bool lower(MlirModule module, const char *pipeline, const Sink *k) {
  return lowerThen(module, pipeline, NULL, 0, k);
}

/* The first op not in the LLVM dialect, to diagnose before translation;
 * an op the conversions did not know rather than the casts they left
 * around it (those would point at its operands' definitions). */
typedef struct NonLLVM {
  MlirOperation op, cast;
} NonLLVM;

static MlirWalkResult findNonLLVM(MlirOperation op, void *user) {
  NonLLVM *found = user;
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if ((name.length > 5 && !strncmp(name.data, "llvm.", 5)) ||
      mlirStringRefEqual(name, mlirStringRefCreateFromCString("builtin.module")))
    return MlirWalkResultAdvance;
  if (mlirStringRefEqual(name, mlirStringRefCreateFromCString(
                                   "builtin.unrealized_conversion_cast"))) {
    if (mlirOperationIsNull(found->cast))
      found->cast = op;
    return MlirWalkResultAdvance;
  }
  found->op = op;
  return MlirWalkResultInterrupt;
}

static bool checkLowered(MlirModule module) {
  NonLLVM found = {{NULL}, {NULL}};
  mlirOperationWalk(mlirModuleGetOperation(module), findNonLLVM, &found,
                    MlirWalkPreOrder);
  MlirOperation bad = mlirOperationIsNull(found.op) ? found.cast : found.op;
  if (mlirOperationIsNull(bad))
    return true;
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(bad));
  char msg[256];
  snprintf(msg, sizeof msg, "'%.*s' is not lowered to the LLVM dialect by the "
           "lowering pipeline (unsupported op for code generation)",
           (int)name.length, name.data);
  mlirEmitError(mlirOperationGetLocation(bad), msg);
  return false;
}

/* The decode=runtime initializer (CLUSTERC_DECODE_INIT, see
 * cluster-weights.c), if the module has one. */
static MlirOperation findInitializer(MlirModule module, const char *opName) {
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute name = mlirOperationGetAttributeByName(
        op, mlirStringRefCreateFromCString("sym_name"));
    if (mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                           mlirStringRefCreateFromCString(opName)) &&
        !mlirAttributeIsNull(name) && mlirAttributeIsAString(name) &&
        mlirStringRefEqual(mlirStringAttrGetValue(name),
                           mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT)))
      return op;
  }
  return (MlirOperation){NULL};
}

bool clustercCodegenHasInitializer(MlirModule module) {
  return !mlirOperationIsNull(findInitializer(module, "func.func"));
}

/* Makes the lowered initializer a global constructor, so the weights are
 * decoded once, when the object is loaded (before main, or in dlopen). It
 * is private, hence internal (internalizePrivate). False after a diagnostic
 * when the pipeline dropped it. */
static bool registerInitializer(MlirModule module, bool expected) {
  MlirOperation fn = findInitializer(module, "llvm.func");
  if (mlirOperationIsNull(fn)) {
    if (expected)
      mlirEmitError(mlirOperationGetLocation(mlirModuleGetOperation(module)),
                    "the lowering pipeline removed or did not lower the "
                    "decode=runtime initializer '" CLUSTERC_DECODE_INIT
                    "' (it must become an llvm.func; do not run symbol-dce "
                    "before code generation)");
    return !expected;
  }
  MlirContext ctx = mlirModuleGetContext(module);
  MlirAttribute ctor = mlirFlatSymbolRefAttrGet(
      ctx, mlirStringRefCreateFromCString(CLUSTERC_DECODE_INIT));
  MlirAttribute prio = mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 32), 65535);
  MlirNamedAttribute attrs[3] = {
      mlirNamedAttributeGet(mlirIdentifierGet(ctx, mlirStringRefCreateFromCString("ctors")),
                            mlirArrayAttrGet(ctx, 1, &ctor)),
      mlirNamedAttributeGet(
          mlirIdentifierGet(ctx, mlirStringRefCreateFromCString("priorities")),
          mlirArrayAttrGet(ctx, 1, &prio))};
  intptr_t nAttrs = 2;
#if CLUSTERC_MLIR_MAJOR >= 21
  /* 21 and later require each constructor's data pointer (none here). The
   * C API has no getter for #llvm.zero: parse it. */
  attrs[nAttrs++] = mlirNamedAttributeGet(
      mlirIdentifierGet(ctx, mlirStringRefCreateFromCString("data")),
      mlirAttributeParseGet(ctx, mlirStringRefCreateFromCString("[#llvm.zero]")));
#endif
  MlirOperationState st = mlirOperationStateGet(
      mlirStringRefCreateFromCString("llvm.mlir.global_ctors"),
      mlirOperationGetLocation(fn));
  mlirOperationStateAddAttributes(&st, nAttrs, attrs);
  mlirBlockAppendOwnedOperation(mlirModuleGetBody(module), mlirOperationCreate(&st));
  return true;
}

/* ---- LLVM side --------------------------------------------------------------- */

/* Links memrefCopy in (internal) when the module calls it. */
static bool linkMemrefCopy(LLVMModuleRef mod, const Sink *k) {
  LLVMValueRef decl = LLVMGetNamedFunction(mod, "memrefCopy");
  if (!decl || !LLVMIsDeclaration(decl))
    return true;
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(
      cgMemrefCopyIR, strlen(cgMemrefCopyIR), "memref-copy", 0);
  LLVMModuleRef helper;
  char *msg = NULL;
  if (LLVMParseIRInContext(ctx, buf, &helper, &msg)) {
    ERR(k, "%s: error: internal: memrefCopy IR: %s\n", k->name, msg ? msg : "");
    LLVMDisposeMessage(msg);
    return false;
  }
  LLVMSetTarget(helper, LLVMGetTarget(mod));
  LLVMSetDataLayout(helper, LLVMGetDataLayoutStr(mod));
  if (LLVMLinkModules2(mod, helper)) {
    ERR(k, "%s: error: internal: cannot link memrefCopy\n", k->name);
    return false;
  }
  LLVMSetLinkage(LLVMGetNamedFunction(mod, "memrefCopy"), LLVMInternalLinkage);
  return true;
}

/* ELF unless the triple names another object format's system. */
static bool isElf(const char *triple) {
  static const char *const other[] = {"apple", "darwin", "macos", "ios",
                                      "windows", "win32", "mingw", "cygwin"};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; ++i)
    if (strstr(triple, other[i]))
      return false;
  return true;
}

/* Moves the constructors of llvm.global_ctors into .init_array entries.
 * LLVM's C API cannot set TargetOptions::UseInitArray, so the back end
 * would put them in .ctors, which GNU ld and gold fold into .init_array but
 * lld (14, Debian's) leaves where the C runtime never runs it: the weights
 * would silently stay zero. An internal pointer in a section named
 * .init_array (SHT_INIT_ARRAY), kept by llvm.used, is what clang's
 * __attribute__((constructor)) amounts to. Returns false when out of
 * memory. */
static bool ctorsToInitArray(LLVMModuleRef mod) {
  LLVMValueRef ctors = LLVMGetNamedGlobal(mod, "llvm.global_ctors");
  if (!ctors || !LLVMGetInitializer(ctors))
    return true;
  LLVMValueRef list = LLVMGetInitializer(ctors);
  int n = LLVMGetNumOperands(list);
  LLVMValueRef *fns = malloc(sizeof *fns * (size_t)(n ? n : 1));
  if (!fns)
    return false;
  for (int i = 0; i < n; ++i)
    fns[i] = LLVMGetOperand(LLVMGetOperand(list, (unsigned)i), 1);
  LLVMDeleteGlobal(ctors);
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef ptr = LLVMPointerTypeInContext(ctx, 0);
  for (int i = 0; i < n; ++i) {
    LLVMValueRef g = LLVMAddGlobal(mod, ptr, "clusterc.init_array");
    LLVMSetInitializer(g, fns[i]);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetSection(g, ".init_array");
    LLVMSetAlignment(g, 8);
    fns[i] = g;
  }
  LLVMValueRef used = LLVMGetNamedGlobal(mod, "llvm.used");
  if (used) { /* not made by the MLIR lowering; keep it simple */
    free(fns);
    return true;
  }
  LLVMValueRef arr = LLVMConstArray2(ptr, fns, (uint64_t)n);
  used = LLVMAddGlobal(mod, LLVMTypeOf(arr), "llvm.used");
  LLVMSetInitializer(used, arr);
  LLVMSetLinkage(used, LLVMAppendingLinkage);
  LLVMSetSection(used, "llvm.metadata");
  free(fns);
  return true;
}

static LLVMTargetMachineRef createTargetMachine(const ClustercCodegenOptions *o, char *triple) {
  LLVMTargetRef t;
  char *msg = NULL;
  if (LLVMGetTargetFromTriple(triple, &t, &msg)) {
    LLVMDisposeMessage(msg);
    return NULL;
  }
  char *cpu = NULL, *feat = NULL;
  if (o->cpu && !strcmp(o->cpu, "native")) {
    cpu = LLVMGetHostCPUName();
    feat = LLVMGetHostCPUFeatures();
  }
  size_t fl = (feat ? strlen(feat) : 0) + (o->features ? strlen(o->features) : 0) + 2;
  char *features = malloc(fl);
  if (!features) {
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    return NULL;
  }
  snprintf(features, fl, "%s%s%s", feat ? feat : "",
           feat && o->features ? "," : "", o->features ? o->features : "");
  static const LLVMCodeGenOptLevel levels[] = {
      LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault,
      LLVMCodeGenLevelAggressive};
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      t, triple, cpu ? cpu : o->cpu ? o->cpu : "generic", features,
      levels[o->optLevel], LLVMRelocPIC, LLVMCodeModelDefault);
  free(features);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(feat);
  return tm;
}

static void writeMemoryBuffer(LLVMMemoryBufferRef buf, const Sink *k) {
  k->write(mlirStringRefCreate(LLVMGetBufferStart(buf), LLVMGetBufferSize(buf)),
           k->writeUser);
  LLVMDisposeMemoryBuffer(buf);
}

/* The optimized module as up to k->parts objects (split-codegen.c), each
 * through k->write; a target machine per partition, tm the first. False
 * after a message. */
static bool emitSplit(LLVMModuleRef mod, const ClustercCodegenOptions *o, char *triple,
                      LLVMTargetMachineRef tm, const Sink *k) {
  LLVMTargetMachineRef tms[CG_MAX_PARTS] = {tm};
  LLVMMemoryBufferRef objs[CG_MAX_PARTS];
  unsigned parts = k->parts < CG_MAX_PARTS ? k->parts : CG_MAX_PARTS, made = 1, n = 0;
  while (made < parts && (tms[made] = createTargetMachine(o, triple)))
    made++;
  char err[512];
  bool ok = made == parts;
  if (!ok)
    ERR(k, "%s: error: cannot create a target machine for '%s'\n", k->name, triple);
  else if (!(ok = cgSplitCodegen(mod, tms, parts, objs, &n, err, sizeof err)))
    ERR(k, "%s: error: code generation failed: %s\n", k->name, err);
  for (unsigned i = 0; i < n; ++i)
    writeMemoryBuffer(objs[i], k);
  for (unsigned i = 1; i < made; ++i)
    LLVMDisposeTargetMachine(tms[i]);
  return ok;
}

static double monotonic(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool timePhases(void) {
  static int on = -1;
  if (on < 0) {
    const char *v = getenv("CLUSTERC_TIME_PHASES");
    on = v && *v && strcmp(v, "0");
  }
  return on;
}

void cgPhaseStart(double *t) { *t = timePhases() ? monotonic() : 0; }

void cgPhase(const char *what, double *t) {
  if (!timePhases())
    return;
  double n = monotonic();
  fprintf(stderr, "clusterc: phase %s: %.2fs\n", what, n - *t);
  *t = n;
}

/* Translates, optimizes and emits; false after a message. */
static bool emitLLVM(MlirModule module, const ClustercCodegenOptions *o, const Sink *k) {
  const char *displayName = k->name;
  MlirContext mctx = mlirModuleGetContext(module);
  mlirRegisterAllLLVMTranslations(mctx);
  initTargets();
  char *triple = tripleOf(o);
  LLVMContextRef ctx = LLVMContextCreate();
  char cpuErr[512];
  /* Callers that skipped clustercCodegenCheckTarget: an unknown CPU would
   * abort inside LLVM. */
  bool known = !clustercCodegenCheckCpuFeatures(triple, o->cpu, o->features, cpuErr,
                                                sizeof cpuErr);
  LLVMTargetMachineRef tm = known ? createTargetMachine(o, triple) : NULL;
  LLVMModuleRef mod = NULL;
  bool ok = false;
  char *msg = NULL;
  if (!known) {
    ERR(k, "%s: error: %s\n", displayName, cpuErr);
    goto done;
  }
  if (!tm) {
    ERR(k, "%s: error: cannot create a target machine for '%s'\n",
            displayName, triple);
    goto done;
  }
  double phase;
  cgPhaseStart(&phase);
  mod = mlirTranslateModuleToLLVMIR(mlirModuleGetOperation(module), ctx);
  if (!mod) {
    ERR(k, "%s: error: translation to LLVM IR failed\n", displayName);
    goto done;
  }
  LLVMSetTarget(mod, triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(mod, dl);
  LLVMDisposeTargetData(dl);
  if (!linkMemrefCopy(mod, k) || (k->edit && !k->edit(mod, k->editUser)))
    goto done;
  if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg)) {
    ERR(k, "%s: error: invalid LLVM IR: %s\n", displayName, msg);
    goto done;
  }
  LLVMDisposeMessage(msg);
  msg = NULL;
  char passes[32];
  snprintf(passes, sizeof passes, "default<O%d>", o->optLevel);
  LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(pbo, o->optLevel >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(pbo, o->optLevel >= 2);
  LLVMPassBuilderOptionsSetLoopInterleaving(pbo, o->optLevel >= 2);
  cgPhase("translation to LLVM IR", &phase);
  LLVMErrorRef e = LLVMRunPasses(mod, passes, tm, pbo);
  LLVMDisposePassBuilderOptions(pbo);
  cgPhase("LLVM passes", &phase);
  if (e) {
    msg = LLVMGetErrorMessage(e);
    ERR(k, "%s: error: LLVM optimisation failed: %s\n", displayName, msg);
    LLVMDisposeErrorMessage(msg);
    msg = NULL;
    goto done;
  }
  LLVMMemoryBufferRef buf = NULL;
  switch (o->emit) {
  case CLUSTERC_EMIT_LLVM: {
    char *text = LLVMPrintModuleToString(mod);
    k->write(mlirStringRefCreateFromCString(text), k->writeUser);
    LLVMDisposeMessage(text);
    ok = true;
    break;
  }
  case CLUSTERC_EMIT_BC:
    writeMemoryBuffer(LLVMWriteBitcodeToMemoryBuffer(mod), k);
    ok = true;
    break;
  default:
    if (isElf(triple) && !ctorsToInitArray(mod)) {
      ERR(k, "%s: error: out of memory\n", displayName);
      break;
    }
    if (o->emit == CLUSTERC_EMIT_OBJ && k->parts > 1) {
      ok = emitSplit(mod, o, triple, tm, k);
      break;
    }
    if (LLVMTargetMachineEmitToMemoryBuffer(
            tm, mod, o->emit == CLUSTERC_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile,
            &msg, &buf)) {
      ERR(k, "%s: error: code generation failed: %s\n", displayName,
              msg ? msg : "");
      break;
    }
    writeMemoryBuffer(buf, k);
    ok = true;
  }
  cgPhase("code generation", &phase);
done:
  LLVMDisposeMessage(msg);
  if (mod)
    LLVMDisposeModule(mod);
  if (tm)
    LLVMDisposeTargetMachine(tm);
  LLVMContextDispose(ctx);
  LLVMDisposeMessage(triple);
  return ok;
}

/* Global constants of rank 2 and more as flat arrays of their elements:
 * the same bytes, but LLVM builds one constant for a flat array where a
 * nested one ([512 x [512 x [3 x [3 x float]]]], as the lowering types a
 * convolution's weight) is a uniqued constant per innermost row, 786,432
 * for that weight. Building, uniquing, walking (LazyCallGraph) and freeing
 * those was most of the LLVM time of ResNet-18's training step once its
 * loop nests were outlined (docs/PERFORMANCE.md). The memref lowering
 * reaches a global through llvm.mlir.addressof (an opaque pointer) and
 * getelementptr ops that carry their own element type, so only the global
 * changes. */
static void flattenGlobals(MlirModule module) {
  MlirStringRef valueName = mlirStringRefCreateFromCString("value");
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            mlirStringRefCreateFromCString("llvm.mlir.global")))
      continue;
    MlirAttribute v = mlirOperationGetAttributeByName(op, valueName);
    if (mlirAttributeIsNull(v))
      continue;
    MlirType t = mlirAttributeGetType(v);
    if (mlirTypeIsNull(t) || !mlirTypeIsARankedTensor(t) || mlirShapedTypeGetRank(t) < 2 ||
        !mlirShapedTypeHasStaticShape(t))
      continue;
    MlirType et = mlirShapedTypeGetElementType(t);
    if (!mlirTypeIsAInteger(et) && !mlirTypeIsAF32(et) && !mlirTypeIsAF64(et) &&
        !mlirTypeIsAF16(et) && !mlirTypeIsABF16(et))
      continue;
    int64_t n = 1;
    for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i)
      n *= mlirShapedTypeGetDimSize(t, i);
    MlirAttribute flat = clustercElementsAttrReshape(
        v, mlirRankedTensorTypeGet(1, &n, et, mlirAttributeGetNull()));
    if (mlirAttributeIsNull(flat))
      continue;
    mlirOperationSetAttributeByName(op, valueName, flat);
    mlirOperationSetAttributeByName(op, mlirStringRefCreateFromCString("global_type"),
                                    mlirTypeAttrGet(mlirLLVMArrayTypeGet(et, (unsigned)n)));
  }
}

/* The constants bufferization turns into globals (`__constant_<shape>`,
 * uniqued `_0`, `_1`, ...) come out in an order that varies from run to
 * run: MLIR 19's one-shot module bufferization visits functions that call
 * nothing in the order of a pointer-keyed map. Their names and their order
 * in the module (hence in .rodata) then differ between two compiles of the
 * same module. They are renamed and placed in the order of their first use
 * (a walk of the module, which is deterministic), so objects are
 * reproducible. */
typedef struct NamedIndex {
  const char *name;
  size_t index;
} NamedIndex;

typedef struct ConstUse {
  MlirOperation *globals; /* the __constant_ globals, in module order */
  NamedIndex *sorted;     /* their names, sorted */
  size_t n, seen;
  unsigned char *used;
  size_t *order;
} ConstUse;

static const char kConstPrefix[] = "__constant_";

static bool isConstGlobal(MlirOperation op) {
  if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                          mlirStringRefCreateFromCString("llvm.mlir.global")))
    return false;
  MlirAttribute n = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("sym_name"));
  MlirStringRef s = mlirAttributeIsNull(n) ? (MlirStringRef){"", 0} : mlirStringAttrGetValue(n);
  return s.length > sizeof kConstPrefix - 1 && !memcmp(s.data, kConstPrefix, sizeof kConstPrefix - 1);
}

/* Index of global `name` (binary search on the sorted names), or SIZE_MAX. */
static size_t findConst(const ConstUse *u, MlirStringRef name) {
  size_t lo = 0, hi = u->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const char *m = u->sorted[mid].name;
    size_t ml = strlen(m);
    int c = memcmp(m, name.data, ml < name.length ? ml : name.length);
    if (!c) c = ml < name.length ? -1 : ml > name.length;
    if (!c) return u->sorted[mid].index;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return SIZE_MAX;
}

static MlirWalkResult firstUse(MlirOperation op, void *user) {
  ConstUse *u = user;
  if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                          mlirStringRefCreateFromCString("llvm.mlir.addressof")))
    return MlirWalkResultAdvance;
  MlirAttribute g = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("global_name"));
  if (mlirAttributeIsNull(g) || !mlirAttributeIsAFlatSymbolRef(g))
    return MlirWalkResultAdvance;
  size_t i = findConst(u, mlirFlatSymbolRefAttrGetValue(g));
  if (i != SIZE_MAX && !u->used[i]) {
    u->used[i] = 1;
    u->order[u->seen++] = i;
  }
  return MlirWalkResultAdvance;
}

static int byName(const void *a, const void *b) {
  return strcmp(((const NamedIndex *)a)->name, ((const NamedIndex *)b)->name);
}

/* New names, written into the global ops and the addressof ops. */
typedef struct Rename {
  ConstUse *u;
  char **fresh; /* by global index */
} Rename;

static MlirWalkResult renameUse(MlirOperation op, void *user) {
  Rename *r = user;
  if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                          mlirStringRefCreateFromCString("llvm.mlir.addressof")))
    return MlirWalkResultAdvance;
  MlirStringRef key = mlirStringRefCreateFromCString("global_name");
  MlirAttribute g = mlirOperationGetAttributeByName(op, key);
  if (mlirAttributeIsNull(g) || !mlirAttributeIsAFlatSymbolRef(g))
    return MlirWalkResultAdvance;
  size_t i = findConst(r->u, mlirFlatSymbolRefAttrGetValue(g));
  if (i != SIZE_MAX)
    mlirOperationSetAttributeByName(
        op, key,
        mlirFlatSymbolRefAttrGet(mlirOperationGetContext(op),
                                 mlirStringRefCreateFromCString(r->fresh[i])));
  return MlirWalkResultAdvance;
}

static void canonicalConstants(MlirModule module) {
  MlirBlock body = mlirModuleGetBody(module);
  size_t n = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    n += isConstGlobal(op);
  if (n < 2)
    return;
  ConstUse u = {0};
  u.globals = malloc(sizeof *u.globals * n);
  u.sorted = malloc(sizeof *u.sorted * n);
  u.used = calloc(n, 1);
  u.order = malloc(sizeof *u.order * n);
  char **fresh = calloc(n, sizeof *fresh), **byIdx = calloc(n, sizeof *byIdx);
  bool ok = u.globals && u.sorted && u.used && u.order && fresh && byIdx;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); ok && !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!isConstGlobal(op))
      continue;
    MlirStringRef s = mlirStringAttrGetValue(
        mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("sym_name")));
    char *c = malloc(s.length + 1);
    if (!c) {
      ok = false;
      break;
    }
    memcpy(c, s.data, s.length);
    c[s.length] = 0;
    byIdx[u.n] = c;
    u.globals[u.n] = op;
    u.sorted[u.n] = (NamedIndex){c, u.n};
    u.n++;
  }
  if (ok) {
    qsort(u.sorted, u.n, sizeof *u.sorted, byName);
    mlirOperationWalk(mlirModuleGetOperation(module), firstUse, &u, MlirWalkPreOrder);
    /* Unused ones last, by name (deterministic too). */
    for (size_t i = 0; i < u.n; ++i)
      if (!u.used[u.sorted[i].index]) u.order[u.seen++] = u.sorted[i].index;
    /* Names: the base (the name without MLIR's `_N` suffix), then _0, _1,
     * ... for later ones of the same base, in first-use order. */
    for (size_t k = 0; ok && k < u.n; ++k) {
      const char *old = byIdx[u.order[k]];
      size_t len = strlen(old), cut = len;
      while (cut > 0 && old[cut - 1] >= '0' && old[cut - 1] <= '9') --cut;
      if (cut < len && cut > sizeof kConstPrefix && old[cut - 1] == '_') len = cut - 1;
      size_t dup = 0;
      for (size_t j = 0; j < k; ++j)
        if (!strncmp(fresh[u.order[j]], old, len) &&
            (fresh[u.order[j]][len] == 0 || fresh[u.order[j]][len] == '_'))
          ++dup;
      char *f = malloc(len + 24);
      if (!f) {
        ok = false;
        break;
      }
      if (dup)
        snprintf(f, len + 24, "%.*s_%zu", (int)len, old, dup - 1);
      else
        snprintf(f, len + 24, "%.*s", (int)len, old);
      fresh[u.order[k]] = f;
    }
  }
  if (ok) {
    Rename r = {&u, fresh};
    mlirOperationWalk(mlirModuleGetOperation(module), renameUse, &r, MlirWalkPreOrder);
    MlirOperation first = mlirBlockGetFirstOperation(body);
    for (size_t k = u.n; k-- > 0;) {
      MlirOperation g = u.globals[u.order[k]];
      mlirOperationSetAttributeByName(
          g, mlirStringRefCreateFromCString("sym_name"),
          mlirStringAttrGet(mlirOperationGetContext(g),
                            mlirStringRefCreateFromCString(fresh[u.order[k]])));
      if (!mlirOperationEqual(g, first))
        mlirOperationMoveBefore(g, first);
      first = g;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (byIdx) free(byIdx[i]);
    if (fresh) free(fresh[i]);
  }
  free(byIdx), free(fresh), free(u.globals), free(u.sorted), free(u.used), free(u.order);
}

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
    intptr_t m = mlirDictionaryAttrGetNumElements(d), kept = 0;
    MlirNamedAttribute keep[16];
    for (intptr_t j = 0; j < m && kept < 16; ++j) {
      MlirNamedAttribute na = mlirDictionaryAttrGetElement(d, j);
      MlirStringRef key = mlirIdentifierStr(na.name);
      if (!(key.length > 14 && !memcmp(key.data, "bufferization.", 14)))
        keep[kept++] = na;
    }
    dicts[i] = mlirDictionaryAttrGet(ctx, kept, keep);
  }
  mlirOperationSetAttributeByName(op, argAttrs, mlirArrayAttrGet(ctx, n, dicts));
  free(dicts);
  return MlirWalkResultAdvance;
}

/* cluster-order-loops with the option's reassociation; false after a
 * message. */
static bool orderLoops(MlirModule module, ClustercLoopOrder order, const Sink *k) {
  if (order == CLUSTERC_LOOP_ORDER_NONE)
    return true;
  MlirPassManager pm = mlirPassManagerCreate(mlirModuleGetContext(module));
  MlirPass pass = clustercCreateClusterOrderLoopsPass(&(ClustercClusterOrderLoopsOptions){
      .reassociate = order == CLUSTERC_LOOP_ORDER_REASSOCIATE});
  mlirPassManagerAddOwnedPass(pm, pass);
  bool ok = mlirLogicalResultIsSuccess(
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)));
  mlirPassManagerDestroy(pm);
  if (!ok)
    ERR(k, "%s: error: ordering loops failed\n", k->name);
  return ok;
}

/* contractions=gemm: TOSA to linalg, named ops generalized, then
 * cluster-contract-gemm (the pipeline's own tosa passes then find nothing
 * left); false after a message. */
static bool contractGemm(MlirModule module, ClustercContractions c, const Sink *k) {
  if (c != CLUSTERC_CONTRACTIONS_GEMM)
    return true;
  ClustercClusterContractGemmOptions go;
  clustercClusterContractGemmOptionsInit(&go);
  MlirPass gemm = clustercCreateClusterContractGemmPass(&go);
  return lowerThen(module,
                   "builtin.module(" TOSA_TO_LINALG ",func.func(linalg-generalize-named-ops))",
                   &gemm, 1, k);
}

/* The default pipeline in two halves, with cluster-early-dealloc and
 * cluster-outline-loops after convert-linalg-to-loops.
 *
 * cluster-early-dealloc: buffer-deallocation-pipeline frees every buffer of
 * a block at the block's end, so a training step, one block, held every
 * activation and gradient until it returned; the pass moves each free to
 * just after the buffer's last use (ResNet-18's batch-64 step: 1.10 GB of
 * buffers at the peak, 0.56 GB after; docs/PERFORMANCE.md "Peak memory of a
 * training run (issue 15)").
 *
 * cluster-outline-loops: each top-level loop nest becomes a private
 * noinline function, so LLVM's costs, superlinear in the size of one
 * function, stay small (docs/PERFORMANCE.md "JIT compile time and its
 * cache"). The new functions get internal linkage like every private one.
 * Not with --no-outline.
 *
 * With a pipeline of the caller's, that pipeline alone. False after a
 * message. */
static bool lowerOutlined(MlirModule module, const ClustercCodegenOptions *o,
                          const Sink *k) {
  if (o->pipeline)
    return lower(module, o->pipeline, k);
  ClustercClusterEarlyDeallocOptions ed;
  clustercClusterEarlyDeallocOptionsInit(&ed);
  MlirPass after[2] = {clustercCreateClusterEarlyDeallocPass(&ed)};
  size_t nAfter = 1;
  if (!o->noOutline) {
    ClustercClusterOutlineLoopsOptions ol;
    clustercClusterOutlineLoopsOptionsInit(&ol);
    /* The glue of a training step or a large model is not worth optimising
     * (docs/PERFORMANCE.md "Identical loop nests merged, glue not
     * optimised"): the CNN's training step (39 nests with GEMM calls, 53
     * with loops) and anything larger;
     * a batch-1 inference of a few layers (the CNN's: 18) keeps it. */
    ol.optnoneCallers = 24;
    after[nAfter++] = clustercCreateClusterOutlineLoopsPass(&ol);
  }
  if (!lowerThen(module, pipelineToLoops, after, nAfter, k))
    return false;
  if (!o->noOutline)
    internalizePrivate(module);
  return lower(module, pipelineToLLVM, k);
}

static bool lowerWith(MlirModule module, const ClustercCodegenOptions *o, const Sink *k) {
  cgMarkEntryPoints(module);
  internalizePrivate(module);
  if (!contractGemm(module, o->contractions, k) ||
      !orderLoops(module, o->loopOrder, k) ||
      !lowerOutlined(module, o, k) ||
      !checkLowered(module))
    return false;
  flattenGlobals(module);
  canonicalConstants(module);
  mlirOperationWalk(mlirModuleGetOperation(module), stripAccess, NULL, MlirWalkPreOrder);
  return true;
}

ClustercStatus clustercCodegenLower(MlirModule module, const ClustercCodegenOptions *o,
                                    const char *displayName, ClustercMessageFn onMessage,
                                    void *userData) {
  ClustercCodegenOptions defaults;
  if (!o) {
    clustercCodegenOptionsInit(&defaults);
    o = &defaults;
  }
  Sink k = {NULL, NULL, onMessage, userData, displayName, NULL, NULL, 1};
  return lowerWith(module, o, &k) ? CLUSTERC_OK : CLUSTERC_ERROR;
}

ClustercStatus cgEmitLoweredObject(MlirModule module, const ClustercCodegenOptions *o,
                                   unsigned parts, CgEditLLVM edit, void *editUser,
                                   MlirStringCallback write, void *writeUserData,
                                   const char *displayName, ClustercMessageFn onMessage,
                                   void *userData) {
  ClustercCodegenOptions obj = *o;
  obj.emit = CLUSTERC_EMIT_OBJ;
  Sink k = {write, writeUserData, onMessage, userData, displayName, edit, editUser, parts};
  return emitLLVM(module, &obj, &k) ? CLUSTERC_OK : CLUSTERC_ERROR;
}

static void printModule(MlirModule module, const Sink *k) {
  mlirOperationPrint(mlirModuleGetOperation(module), k->write, k->writeUser);
  k->write(mlirStringRefCreateFromCString("\n"), k->writeUser);
}

/* An op with a result (or a block argument of one of its regions' entry
 * blocks) whose static shape holds more bytes than int64 counts: the
 * lowering computes sizes in 64 bits and threw std::bad_alloc (abort). */
static bool tooLarge(MlirType t) {
  if (!mlirTypeIsAShaped(t) || !mlirShapedTypeHasRank(t))
    return false;
  uint64_t n = 8; /* bytes of the widest element */
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i) {
    int64_t d = mlirShapedTypeGetDimSize(t, i);
    if (!mlirShapedTypeIsDynamicSize(d) && !clustercMulCount(&n, d))
      return true;
  }
  return false;
}

static MlirWalkResult findTooLarge(MlirOperation op, void *user) {
  bool huge = false;
  for (intptr_t i = 0; !huge && i < mlirOperationGetNumResults(op); ++i)
    huge = tooLarge(mlirValueGetType(mlirOperationGetResult(op, i)));
  for (intptr_t r = 0; !huge && r < mlirOperationGetNumRegions(op); ++r) {
    MlirBlock b = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, r));
    for (intptr_t i = 0; !huge && !mlirBlockIsNull(b) && i < mlirBlockGetNumArguments(b); ++i)
      huge = tooLarge(mlirValueGetType(mlirBlockGetArgument(b, i)));
  }
  if (!huge)
    return MlirWalkResultAdvance;
  *(MlirOperation *)user = op;
  return MlirWalkResultInterrupt;
}

ClustercStatus clustercCodegenRun(MlirModule module, const ClustercCodegenOptions *o,
                                  MlirStringCallback write, void *writeUserData,
                                  const char *displayName, ClustercMessageFn onMessage,
                                  void *userData) {
  Sink k = {write, writeUserData, onMessage, userData, displayName, NULL, NULL, 1};
  if (o->emit == CLUSTERC_EMIT_MLIR) {
    cgMarkEntryPoints(module);
    printModule(module, &k);
    return CLUSTERC_OK;
  }
  MlirOperation huge = {NULL};
  mlirOperationWalk(mlirModuleGetOperation(module), findTooLarge, &huge, MlirWalkPreOrder);
  if (!mlirOperationIsNull(huge)) {
    mlirEmitError(mlirOperationGetLocation(huge),
                  "a tensor of this op is too large for code generation (its byte "
                  "size overflows 64 bits)");
    return CLUSTERC_ERROR;
  }
  bool hasInit = clustercCodegenHasInitializer(module);
  if (!lowerWith(module, o, &k) || !registerInitializer(module, hasInit))
    return CLUSTERC_ERROR;
  if (o->emit == CLUSTERC_EMIT_LLVM_DIALECT) {
    printModule(module, &k);
    return CLUSTERC_OK;
  }
  return emitLLVM(module, o, &k) ? CLUSTERC_OK : CLUSTERC_ERROR;
}
