// Tests of the public header include/clusterc/codegen.h from C, in the style
// of MLIR's mlir/test/CAPI/execution_engine.c: each testXxx function prints
// what it sees on stderr and FileCheck compares it with the CHECK lines.
//
// RUN: %capi_codegen_test 2>&1 | FileCheck %s

#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "clusterc/codegen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

// y = x . W for a 2x3 x and a 3x2 constant W with four distinct values:
// clustered with K = 4, the model is unchanged, so y is exact.
static const char model[] =
    "func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {\n"
    "  %w = arith.constant dense<[[1.0, -2.0], [0.5, 4.0], [1.0, 0.5]]> "
    ": tensor<3x2xf32> loc(\"fc.weight\")\n"
    "  %z = arith.constant 0.0 : f32\n"
    "  %e = tensor.empty() : tensor<2x2xf32>\n"
    "  %i = linalg.fill ins(%z : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>\n"
    "  %y = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x2xf32>) "
    "outs(%i : tensor<2x2xf32>) -> tensor<2x2xf32>\n"
    "  return %y : tensor<2x2xf32>\n"
    "}\n";

typedef struct Buffer {
  char *data;
  size_t len;
} Buffer;

static void collect(MlirStringRef s, void *user) {
  Buffer *b = user;
  char *g = realloc(b->data, b->len + s.length + 1);
  if (!g)
    abort();
  memcpy(g + b->len, s.data, s.length);
  b->data = g;
  b->len += s.length;
  b->data[b->len] = 0;
}

static const char *kindName(ClustercMessageKind k) {
  switch (k) {
  case CLUSTERC_MESSAGE_ERROR:
    return "error";
  case CLUSTERC_MESSAGE_INFO:
    return "info";
  case CLUSTERC_MESSAGE_PROGRESS:
    return "progress";
  case CLUSTERC_MESSAGE_RESULT:
    return "result";
  case CLUSTERC_MESSAGE_LOG:
    return "log";
  case CLUSTERC_MESSAGE_WARNING:
    return "warning";
  }
  return "?";
}

static void onMessage(ClustercMessageKind kind, MlirStringRef text, void *user) {
  (void)user;
  fprintf(stderr, "message(%s): %.*s", kindName(kind), (int)text.length, text.data);
}

static MlirContext createContext(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreate();
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  return ctx;
}

// The model, clustered with K = 4 (generic decode).
static MlirModule clusteredModel(MlirContext ctx) {
  MlirModule m = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(model));
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  o.clusters = 4;
  o.min_elements = 0;
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&o));
  MlirLogicalResult r = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m));
  mlirPassManagerDestroy(pm);
  clustercClusterWeightsOptionsFree(&o);
  fprintf(stderr, "cluster-weights: %s\n",
          mlirLogicalResultIsSuccess(r) ? "ok" : "failed");
  return m;
}

// Options start at the documented defaults.
static void testOptions(void) {
  fprintf(stderr, "@testOptions\n");
  ClustercCodegenOptions o;
  clustercCodegenOptionsInit(&o);
  fprintf(stderr, "emit=%d opt=%d loop-order=%d triple=%s needs-target=%d\n",
          (int)o.emit, o.optLevel, (int)o.loopOrder, o.triple ? o.triple : "(host)",
          clustercCodegenNeedsTarget(&o));
  o.emit = CLUSTERC_EMIT_OBJ;
  fprintf(stderr, "obj needs-target=%d\n", clustercCodegenNeedsTarget(&o));
  fprintf(stderr, "pipeline has bufferize: %d\n",
          strstr(clustercCodegenDefaultPipeline(), "one-shot-bufferize") != NULL);
  // CHECK-LABEL: @testOptions
  // CHECK: emit=0 opt=2 loop-order=0 triple=(host) needs-target=0
  // CHECK: obj needs-target=1
  // CHECK: pipeline has bufferize: 1
}

// A bad target is a status and an ERROR message, never an abort.
static void testBadTarget(void) {
  fprintf(stderr, "@testBadTarget\n");
  ClustercCodegenOptions o;
  clustercCodegenOptionsInit(&o);
  o.emit = CLUSTERC_EMIT_OBJ;
  o.triple = "sparc-sun-solaris";
  ClustercStatus s = clustercCodegenCheckTarget(&o, onMessage, NULL);
  fprintf(stderr, "status=%d\n", (int)s);
  // CHECK-LABEL: @testBadTarget
  // CHECK: message(error): {{.*}}sparc-sun-solaris
  // CHECK: status={{[12]}}
}

// LLVM IR text and the C header, through the write callback.
static void testEmit(MlirContext ctx) {
  fprintf(stderr, "@testEmit\n");
  MlirModule m = clusteredModel(ctx);
  Buffer header = {0};
  ClustercStatus s =
      clustercCodegenHeader(m, "model", collect, &header, onMessage, NULL);
  fprintf(stderr, "header status=%d declares ciface: %d\n", (int)s,
          header.data && strstr(header.data, "_mlir_ciface_forward(") != NULL);
  ClustercCodegenOptions o;
  clustercCodegenOptionsInit(&o);
  o.emit = CLUSTERC_EMIT_LLVM;
  Buffer ir = {0};
  s = clustercCodegenRun(m, &o, collect, &ir, "model.mlir", onMessage, NULL);
  fprintf(stderr, "llvm status=%d defines ciface: %d\n", (int)s,
          ir.data && strstr(ir.data, "define void @_mlir_ciface_forward(") != NULL);
  free(header.data);
  free(ir.data);
  mlirModuleDestroy(m);
  // CHECK-LABEL: @testEmit
  // CHECK: cluster-weights: ok
  // CHECK: header status=0 declares ciface: 1
  // CHECK: llvm status=0 defines ciface: 1
}

// The JIT: results written into caller buffers; exact for K >= distinct.
static void testJit(MlirContext ctx) {
  fprintf(stderr, "@testJit\n");
  MlirModule m = clusteredModel(ctx);
  ClustercJit *jit = NULL;
  ClustercStatus s = clustercJitCreate(m, NULL, "model.mlir", onMessage, NULL, &jit);
  fprintf(stderr, "create status=%d\n", (int)s);
  if (s == CLUSTERC_OK) {
    const ClustercJitFunc *f = clustercJitLookup(jit, "forward");
    fprintf(stderr, "forward: %d args, %d results, result %dx%d, %zu bytes\n",
            f->nArgs, f->nResults, (int)f->results[0].shape[0],
            (int)f->results[0].shape[1], f->results[0].bytes);
    float x[6] = {1, 2, 3, -1, 0, 2}, y[4] = {0};
    void *args[] = {x}, *results[] = {y};
    s = clustercJitCall(f, args, results);
    fprintf(stderr, "call status=%d y = %g %g %g %g\n", (int)s, y[0], y[1], y[2], y[3]);
    fprintf(stderr, "missing: %p\n", (const void *)clustercJitLookup(jit, "nope"));
    clustercJitDestroy(jit);
  }
  mlirModuleDestroy(m);
  // CHECK-LABEL: @testJit
  // CHECK: create status=0
  // CHECK: forward: 1 args, 1 results, result 2x2, 16 bytes
  // x . W = [1+1+3, -2+8+1.5; -1+0+2, 2+0+1]
  // CHECK: call status=0 y = 5 7.5 1 3
  // CHECK: message(error): {{.*}}nope
  // CHECK: missing: (nil)
}

// The JIT's cache: a miss stores the object, the same module in a new JIT
// is a hit with the same key and computes the same results; noJitCache
// compiles and reports no key.
static void runCached(MlirContext ctx, const ClustercCodegenOptions *o) {
  MlirModule m = clusteredModel(ctx);
  ClustercJit *jit = NULL;
  ClustercStatus s = clustercJitCreate(m, o, "model.mlir", onMessage, NULL, &jit);
  if (s == CLUSTERC_OK) {
    const ClustercJitStats *st = clustercJitGetStats(jit);
    float x[6] = {1, 2, 3, -1, 0, 2}, y[4] = {0};
    void *args[] = {x}, *results[] = {y};
    clustercJitCall(clustercJitLookup(jit, "forward"), args, results);
    fprintf(stderr, "cache=%d key=%s y = %g %g %g %g\n", (int)st->cache,
            st->key[0] ? "set" : "none", y[0], y[1], y[2], y[3]);
    clustercJitDestroy(jit);
  }
  mlirModuleDestroy(m);
}

static void testJitCache(MlirContext ctx) {
  fprintf(stderr, "@testJitCache\n");
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/clusterc-capi-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(dir))
    abort();
  ClustercCodegenOptions o;
  clustercCodegenOptionsInit(&o);
  o.jitCacheDir = dir;
  runCached(ctx, &o);
  runCached(ctx, &o);
  o.noJitCache = true;
  runCached(ctx, &o);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd))
    fprintf(stderr, "cannot remove %s\n", dir);
  // CHECK-LABEL: @testJitCache
  // CHECK: cache=1 key=set y = 5 7.5 1 3
  // CHECK: cache=2 key=set y = 5 7.5 1 3
  // CHECK: cache=0 key=none y = 5 7.5 1 3
}

int main(void) {
  MlirContext ctx = createContext();
  testOptions();
  testBadTarget();
  testEmit(ctx);
  testJit(ctx);
  testJitCache(ctx);
  mlirContextDestroy(ctx);
  return 0;
}
