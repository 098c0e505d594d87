// Tests of the public header include/clusterc/passes.h from C, in the style
// of MLIR's mlir/test/CAPI/pass.c: each testXxx function prints what it sees
// on stderr and FileCheck compares it with the CHECK lines below it.
//
// RUN: %capi_passes_test 2>&1 | FileCheck %s

#define _POSIX_C_SOURCE 200809L /* strdup */

#include "clusterc/passes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

static void printToStderr(MlirStringRef s, void *user) {
  (void)user;
  fwrite(s.data, 1, s.length, stderr);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic d, void *user) {
  (void)user;
  fprintf(stderr, "diagnostic: ");
  mlirDiagnosticPrint(d, printToStderr, NULL);
  fprintf(stderr, "\n");
  return mlirLogicalResultSuccess();
}

// A context with the dialects the test modules use (and the passes create),
// and diagnostics on stderr.
static MlirContext createContext(void) {
  MlirContext ctx = mlirContextCreate();
  clustercRegisterDialects(ctx);
  mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);
  return ctx;
}

// MLIR 19's C API has no mlirPassDestroy: a pass is released by the pass
// manager that owns it.
static void releasePass(MlirPass pass) {
  if (!pass.ptr)
    return;
  MlirContext ctx = mlirContextCreate();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, pass);
  mlirPassManagerDestroy(pm);
  mlirContextDestroy(ctx);
}

static void printOptions(const ClustercClusterWeightsOptions *o) {
  fprintf(stderr,
          "clusters=%u init=%s seed=%" PRIu64 " min-elements=%" PRIu64
          " per-channel=%d channel-axis=%d preserve-sparsity=%d decode=%d "
          "threads=%u\n",
          o->clusters, clusterrt_init_name(o->init), o->seed, o->min_elements,
          o->per_channel, o->channel_axis, o->preserve_sparsity, (int)o->decode,
          o->threads);
  for (size_t i = 0; i < o->num_layers; ++i)
    fprintf(stderr, "layers[%zu]: glob=%s lo=%" PRId64 " hi=%" PRId64 " k=%u\n",
            i, o->layers[i].glob ? o->layers[i].glob : "(index)",
            o->layers[i].lo, o->layers[i].hi, o->layers[i].k);
  for (size_t i = 0; i < o->num_only; ++i)
    fprintf(stderr, "only[%zu]: glob=%s lo=%" PRId64 " hi=%" PRId64 "\n", i,
            o->only[i].glob ? o->only[i].glob : "(index)", o->only[i].lo,
            o->only[i].hi);
}

// The options struct: defaults, a pass from it, a deep copy.
static void testOptionsStruct(void) {
  fprintf(stderr, "testOptionsStruct\n");
  // CHECK-LABEL: testOptionsStruct
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  printOptions(&o);
  // CHECK: clusters=16 init=kmeans++ seed=0 min-elements=128 per-channel=0
  // CHECK-SAME: channel-axis=-1 preserve-sparsity=0 decode=0 threads=0

  o.clusters = 8;
  o.init = CLUSTERRT_INIT_LINEAR;
  MlirPass pass = clustercCreateClusterWeightsPass(&o);
  fprintf(stderr, "pass from struct: %s\n", pass.ptr ? "ok" : "null");
  // CHECK: pass from struct: ok
  // Not yet handed to a pass manager: the caller owns it.
  releasePass(pass);

  char err[256];
  if (clustercClusterWeightsOptionsParse(&o, "layers=fc*:4", 12, err,
                                         sizeof err))
    fprintf(stderr, "unexpected error: %s\n", err);
  ClustercClusterWeightsOptions copy;
  int rc = clustercClusterWeightsOptionsCopy(&copy, &o);
  clustercClusterWeightsOptionsFree(&o); // the copy owns its own selectors
  fprintf(stderr, "copy: %d, source freed: layers=%zu\n", rc, o.num_layers);
  printOptions(&copy);
  // CHECK: copy: 0, source freed: layers=0
  // CHECK: clusters=8 init=linear
  // CHECK: layers[0]: glob=fc* lo=0 hi=0 k=4
  clustercClusterWeightsOptionsFree(&copy);
}

// Option text in pipeline syntax, on top of the struct's values.
static void testOptionsText(void) {
  fprintf(stderr, "testOptionsText\n");
  // CHECK-LABEL: testOptionsText
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  o.seed = 9; // kept: the text does not set it
  const char *text = "clusters=8 init=kmeans1d min-elements=5 per-channel "
                     "channel-axis=1 preserve-sparsity=true decode=fold "
                     "threads=3 layers=fc*:4,#1..2:skip only=#-3..-1,conv?";
  char err[256];
  int rc = clustercClusterWeightsOptionsParse(&o, text, strlen(text), err,
                                              sizeof err);
  fprintf(stderr, "parse: %d\n", rc);
  printOptions(&o);
  // CHECK: parse: 0
  // CHECK: clusters=8 init=kmeans1d seed=9 min-elements=5 per-channel=1
  // CHECK-SAME: channel-axis=1 preserve-sparsity=1 decode=1 threads=3
  // CHECK: layers[0]: glob=fc* lo=0 hi=0 k=4
  // CHECK: layers[1]: glob=(index) lo=1 hi=2 k=0
  // CHECK: only[0]: glob=(index) lo=-3 hi=-1
  // CHECK: only[1]: glob=conv? lo=0 hi=0
  clustercClusterWeightsOptionsFree(&o);

  // The length counts: the text need not be NUL-terminated.
  clustercClusterWeightsOptionsInit(&o);
  rc = clustercClusterWeightsOptionsParse(&o, "clusters=4 garbage", 10, err,
                                          sizeof err);
  fprintf(stderr, "prefix: %d clusters=%u\n", rc, o.clusters);
  // CHECK: prefix: 0 clusters=4
  clustercClusterWeightsOptionsFree(&o);

  ClustercClusterTrainOptions t;
  clustercClusterTrainOptionsInit(&t);
  text = "clusters=2 mode=centroids-only loss=mse reduce=avg function=net";
  rc =
      clustercClusterTrainOptionsParse(&t, text, strlen(text), err, sizeof err);
  fprintf(stderr,
          "train parse: %d clusters=%u mode=%d loss=%d reduce=%d "
          "function=%s\n",
          rc, t.cluster.clusters, (int)t.mode, (int)t.loss, (int)t.reduce,
          t.function ? t.function : "(default)");
  // CHECK: train parse: 0 clusters=2 mode=1 loss=1 reduce=1 function=net
  MlirPass pass = clustercCreateClusterTrainPass(&t);
  fprintf(stderr, "train pass from struct: %s\n", pass.ptr ? "ok" : "null");
  // CHECK: train pass from struct: ok
  releasePass(pass);
  clustercClusterTrainOptionsFree(&t);
}

static void printError(MlirStringRef s, void *user) {
  fprintf(stderr, "%s: %.*s\n", (const char *)user, (int)s.length, s.data);
}

// Bad option text: an error code and a message, or a null pass and the
// message through the callback; never a print or an exit.
static void testBadOptions(void) {
  fprintf(stderr, "testBadOptions\n");
  // CHECK-LABEL: testBadOptions
  const char *bad[] = {"clusters=0",    "clusters=65537", "init=kmeans",
                       "frobnicate=1",  "layers=conv1",   "only=#x",
                       "decode=sparse", "threads=2000"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    ClustercClusterWeightsOptions o;
    clustercClusterWeightsOptionsInit(&o);
    char err[256] = "";
    int rc = clustercClusterWeightsOptionsParse(&o, bad[i], strlen(bad[i]), err,
                                                sizeof err);
    fprintf(stderr, "'%s': %d %s\n", bad[i], rc, err);
    clustercClusterWeightsOptionsFree(&o);
  }
  // CHECK: 'clusters=0': -1 clusters must be an integer in 1..65536, got '0'
  // CHECK: 'clusters=65537': -1 clusters must be an integer in 1..65536, got '65537'
  // CHECK: 'init=kmeans': -1 unknown init 'kmeans' (expected linear, random, density, kmeans++ or kmeans1d)
  // CHECK: 'frobnicate=1': -1 unknown option 'frobnicate' of cluster-weights
  // CHECK: 'layers=conv1': -1 layer override 'conv1' needs ':K' (a cluster count or 'skip')
  // CHECK: 'only=#x': -1 bad layer selector '#x' (expected a glob, #N or #N..M)
  // CHECK: 'decode=sparse': -1 unknown decode 'sparse' (expected generic, fold, runtime or fused)
  // CHECK: 'threads=2000': -1 threads must be an integer in 0..1024 (0: one per core), got '2000'

  // A short error buffer gets a truncated, NUL-terminated message.
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  char small[9];
  memset(small, 'x', sizeof small);
  int rc = clustercClusterWeightsOptionsParse(&o, "clusters=0", 10, small,
                                              sizeof small);
  fprintf(stderr, "short buffer: %d '%s'\n", rc, small);
  // CHECK: short buffer: -1 'clusters'
  clustercClusterWeightsOptionsFree(&o);

  MlirPass p = clustercCreateClusterWeightsPassFromString(
      mlirStringRefCreateFromCString("clusters=4 bogus=1"), printError,
      "weights onError");
  fprintf(stderr, "weights pass: %s\n", p.ptr ? "ok" : "null");
  // CHECK: weights onError: unknown option 'bogus' of cluster-weights
  // CHECK: weights pass: null
  p = clustercCreateClusterTrainPassFromString(
      mlirStringRefCreateFromCString("mode=fast"), printError, "train onError");
  fprintf(stderr, "train pass: %s\n", p.ptr ? "ok" : "null");
  // CHECK: train onError: unknown mode 'fast' (expected ste, centroids-only or float)
  // CHECK: train pass: null
  // onError may be NULL.
  p = clustercCreateClusterWeightsPassFromString(
      mlirStringRefCreateFromCString("clusters=x"), NULL, NULL);
  fprintf(stderr, "no callback: %s\n", p.ptr ? "ok" : "null");
  // CHECK: no callback: null
  p = clustercCreateClusterWeightsPassFromString(
      mlirStringRefCreateFromCString("clusters=3"), printError, "unexpected");
  fprintf(stderr, "good text: %s\n", p.ptr ? "ok" : "null");
  // CHECK: good text: ok
  releasePass(p);
}

// The pass table, lookup by name, and registration for textual pipelines.
static void testRegistry(void) {
  fprintf(stderr, "testRegistry\n");
  // CHECK-LABEL: testRegistry
  intptr_t n = clustercGetNumPasses();
  for (intptr_t i = 0; i < n; ++i) {
    const ClustercPassInfo *info = clustercGetPassInfo(i);
    fprintf(stderr, "pass: %s %s\n", info->argument, info->name);
  }
  // Other passes may come between or after them.
  // CHECK-DAG: pass: cluster-weights ClusterWeights
  // CHECK-DAG: pass: cluster-train ClusterTrain
  fprintf(stderr, "past the end: %s, negative: %s\n",
          clustercGetPassInfo(n) ? "found" : "null",
          clustercGetPassInfo(-1) ? "found" : "null");
  // CHECK: past the end: null, negative: null

  // MlirStringRef is not NUL-terminated: the length decides.
  const ClustercPassInfo *w = clustercLookupPass(
      mlirStringRefCreate("cluster-weights{clusters=2}", 15));
  const ClustercPassInfo *t =
      clustercLookupPass(mlirStringRefCreateFromCString("cluster-train"));
  const ClustercPassInfo *none =
      clustercLookupPass(mlirStringRefCreateFromCString("cluster"));
  fprintf(stderr, "lookup: %s %s %s\n", w ? w->name : "null",
          t ? t->name : "null", none ? none->name : "null");
  // CHECK: lookup: ClusterWeights ClusterTrain null
  MlirPass p = w->createFromString(mlirStringRefCreateFromCString("clusters=2"),
                                   printError, "unexpected");
  fprintf(stderr, "createFromString: %s\n", p.ptr ? "ok" : "null");
  // CHECK: createFromString: ok
  releasePass(p);

  // Registered by name (twice is fine), a textual pipeline names them.
  clustercRegisterPasses();
  clustercRegisterPasses();
  MlirContext ctx = createContext();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult ok = mlirParsePassPipeline(
      opm,
      mlirStringRefCreateFromCString(
          "builtin.module(cluster-weights{clusters=8 init=linear})"),
      printError, "pipeline error");
  fprintf(stderr, "parse pipeline: %s\n",
          mlirLogicalResultIsSuccess(ok) ? "ok" : "failed");
  // CHECK: parse pipeline: ok
  mlirPrintPassPipeline(opm, printToStderr, NULL);
  fprintf(stderr, "\n");
  // CHECK: builtin.module(cluster-weights)
  ok = mlirOpPassManagerAddPipeline(
      opm, mlirStringRefCreateFromCString("cluster-weights{clusters=0}"),
      printError, "pipeline error");
  fprintf(stderr, "bad pipeline: %s\n",
          mlirLogicalResultIsSuccess(ok) ? "ok" : "failed");
  // CHECK: pipeline error: {{.*}}clusters must be an integer in 1..65536, got '0'
  // CHECK: bad pipeline: failed
  mlirPassManagerDestroy(pm);
  mlirContextDestroy(ctx);
}

static const char *const kModel =
    "func.func @forward(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {\n"
    "  %w = arith.constant dense<[[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0],"
    " [-1.0, -1.0]]> : tensor<4x2xf32> loc(\"fc.weight\")\n"
    "  %s = arith.constant dense<0.5> : tensor<2x2xf32> loc(\"fc2.weight\")\n"
    "  %zero = arith.constant 0.0 : f32\n"
    "  %e = tensor.empty() : tensor<1x2xf32>\n"
    "  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>)"
    " -> tensor<1x2xf32>\n"
    "  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>)"
    " outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>\n"
    "  %y2 = linalg.matmul ins(%y, %s : tensor<1x2xf32>, tensor<2x2xf32>)"
    " outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>\n"
    "  return %y2 : tensor<1x2xf32>\n"
    "}\n";

// Parses `text`, runs `pass` on it (the pass manager takes the pass) and
// prints the result, or "pass failed".
static void runOnModule(MlirContext ctx, const char *text, MlirPass pass) {
  MlirModule m =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(text));
  if (mlirModuleIsNull(m)) {
    fprintf(stderr, "parse failed\n");
    releasePass(pass);
    return;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, pass);
  MlirLogicalResult ok = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m));
  if (mlirLogicalResultIsSuccess(ok))
    mlirOperationPrint(mlirModuleGetOperation(m), printToStderr, NULL);
  else
    fprintf(stderr, "pass failed\n");
  fprintf(stderr, "\n");
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(m);
}

// cluster-weights on a module parsed from a string. Two values, K = 2: the
// table is [-1, 1]; indices [1,0,0,1,1,1,0,0] pack one bit each, LSB
// first: 0b00111001 = 57.
static void testRunClusterWeights(void) {
  fprintf(stderr, "testRunClusterWeights\n");
  // CHECK-LABEL: testRunClusterWeights
  MlirContext ctx = createContext();
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  o.clusters = 2;
  o.min_elements = 0;
  runOnModule(ctx, kModel, clustercCreateClusterWeightsPass(&o));
  clustercClusterWeightsOptionsFree(&o);
  // The weight constant is gone: no 2-D literal anywhere in the module.
  // CHECK:     func.func @forward
  // CHECK-DAG: %[[T:.*]] = arith.constant {clusterc.palette = "centroids"} dense<[-1.000000e+00, 1.000000e+00]> : tensor<2xf32>
  // CHECK-DAG: %[[I:.*]] = arith.constant {clusterc.palette = "indices"} dense<57> : tensor<1xi8>
  // CHECK-NOT: dense<{{\[\[}}
  // CHECK:     %[[W:.*]] = linalg.generic
  // CHECK:       tensor.extract %[[I]]
  // CHECK:       tensor.extract %[[T]]
  // CHECK-NOT: dense<{{\[\[}}
  // CHECK:     %[[S:.*]] = arith.constant dense<5.000000e-01> : tensor<2x2xf32>
  // CHECK:     %[[Y:.*]] = linalg.matmul ins(%{{.*}}, %[[W]] :
  // CHECK:     linalg.matmul ins(%[[Y]], %[[S]] :
  // CHECK-NOT: dense<{{\[\[}}
  // CHECK:     return

  // The same from option text; the pass outlives the text.
  char *text = strdup("clusters=2 min-elements=0 decode=fold");
  MlirPass p = clustercCreateClusterWeightsPassFromString(
      mlirStringRefCreateFromCString(text), printError, "unexpected");
  free(text);
  runOnModule(ctx, kModel, p);
  // CHECK:     func.func @forward
  // CHECK:     arith.constant {clusterc.palette = "decoded"} dense<{{\[\[}}1.000000e+00, -1.000000e+00], [-1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00], [-1.000000e+00, -1.000000e+00]]> : tensor<4x2xf32>
  // CHECK-NOT: linalg.generic
  // CHECK:     return

  // Bad input is a diagnostic at the weight and a failed run.
  runOnModule(
      ctx,
      "func.func @f(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {\n"
      "  %w = arith.constant dense<[[1.0, 0x7FC00000], [2.0, 3.0]]>"
      " : tensor<2x2xf32> loc(\"nan.weight\")\n"
      "  %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, "
      "tensor<2x2xf32>) outs(%x : tensor<1x2xf32>) -> "
      "tensor<1x2xf32>\n"
      "  return %y : tensor<1x2xf32>\n"
      "}\n",
      clustercCreateClusterWeightsPassFromString(
          mlirStringRefCreateFromCString("min-elements=0"), NULL, NULL));
  // CHECK: diagnostic: cluster-weights: weight 'nan.weight' has a non-finite value (NaN) at element 1; cannot cluster
  // CHECK-NEXT: pass failed
  mlirContextDestroy(ctx);
}

static void printRow(const ClustercLayerReport *r, void *user) {
  ++*(int *)user;
  fprintf(stderr,
          "row: index=%d name=%s consumer=%s role=%s dtype=%s form=%s "
          "shape=",
          r->index, r->name, r->consumer, r->role, r->dtype, r->form);
  for (intptr_t i = 0; i < r->rank; ++i)
    fprintf(stderr, "%s%" PRId64, i ? "x" : "", r->shape[i]);
  fprintf(stderr, " clustered=%d reason='%s'", r->clustered, r->reason);
  if (r->clustered)
    fprintf(stderr,
            " k_requested=%u k=%u tables=%u init=%s bits=%u "
            "elements=%" PRIu64 " bytes_before=%" PRIu64 " bytes_after=%" PRIu64
            " mse=%g sqnr_db=%g",
            r->k_requested, r->k, r->tables, r->init, r->bits, r->elements,
            r->bytes_before, r->bytes_after, r->mse, r->sqnr_db);
  fprintf(stderr, "\n");
}

// The report callback: once per constant the pass looks at, with its user
// data.
static void testLayerReport(void) {
  fprintf(stderr, "testLayerReport\n");
  // CHECK-LABEL: testLayerReport
  MlirContext ctx = createContext();
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  o.clusters = 4;
  o.min_elements = 0;
  int rows = 0;
  o.report = printRow;
  o.report_user = &rows;
  MlirPass pass = clustercCreateClusterWeightsPass(&o);
  clustercClusterWeightsOptionsFree(&o);
  runOnModule(ctx, kModel, pass);
  fprintf(stderr, "rows: %d\n", rows);
  // K = 4 asked, 2 distinct values: k = 2, lossless. 8 f32 = 32 bytes
  // before; a 2-entry table and 8 one-bit indices = 9 bytes after.
  // CHECK: row: index=0 name=fc.weight consumer=linalg.matmul role=weight dtype=f32 form=dense shape=4x2 clustered=1 reason='' k_requested=4 k=2 tables=1 init=kmeans++ bits=1 elements=8 bytes_before=32 bytes_after=9 mse=0 sqnr_db=inf
  // CHECK: row: index=1 name=fc2.weight consumer=linalg.matmul role=weight dtype=f32 form=splat shape=2x2 clustered=0 reason='splat (a single value already)'
  // CHECK: func.func @forward
  // CHECK: rows: 2
  mlirContextDestroy(ctx);
}

static void printTable(const ClustercLayerReport *r, void *user) {
  (void)user;
  if (!r->clustered)
    return;
  fprintf(stderr, "table %s:", r->name);
  for (unsigned i = 0; i < r->tables * r->k; ++i)
    fprintf(stderr, " %.6g", r->centroids[i]);
  fprintf(stderr, "\n");
}

// Sensitivities (o.sensitivity, matched by layer name): the weighted exact
// k-means. 0..3 and 10..13 at K = 2 give [1.5, 11.5] unweighted; with the
// element 3 a hundred times as sensitive, the low centroid moves to
// (0 + 1 + 2 + 300) / 103 = 2.94175. Per channel (axis 1 of the [4, 2]
// matmul weight: columns 0,2,10,12 and 1,3,11,13) each table is weighted
// by its own elements. A count that is not the weight's is an error.
static void testSensitivity(void) {
  fprintf(stderr, "testSensitivity\n");
  // CHECK-LABEL: testSensitivity
  static const char *const model =
      "func.func @forward(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {\n"
      "  %w = arith.constant dense<[[0.0, 1.0], [2.0, 3.0], [10.0, 11.0],"
      " [12.0, 13.0]]> : tensor<4x2xf32> loc(\"fc.weight\")\n"
      "  %zero = arith.constant 0.0 : f32\n"
      "  %e = tensor.empty() : tensor<1x2xf32>\n"
      "  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>)"
      " -> tensor<1x2xf32>\n"
      "  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>)"
      " outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>\n"
      "  return %y : tensor<1x2xf32>\n"
      "}\n";
  MlirContext ctx = createContext();
  static const float sens[8] = {1, 1, 1, 100, 1, 1, 1, 1};
  ClustercSensitivity sv[2] = {{(char *)"other.weight", -1, sens, 8},
                               {(char *)"fc.weight", -1, sens, 8}};
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  o.clusters = 2;
  o.min_elements = 0;
  o.report = printTable;
  runOnModule(ctx, model, clustercCreateClusterWeightsPass(&o));
  // CHECK: table fc.weight: 1.5 11.5
  o.sensitivity = sv;
  o.num_sensitivity = 2;
  runOnModule(ctx, model, clustercCreateClusterWeightsPass(&o));
  // CHECK: table fc.weight: 2.94175 11.5
  o.per_channel = 1;
  runOnModule(ctx, model, clustercCreateClusterWeightsPass(&o));
  // Column 1 holds 1, 3 (x100), 11, 13: (1 + 300) / 101 = 2.9802.
  // CHECK: table fc.weight: 1 11 2.9802 12
  o.per_channel = 0;
  sv[1].count = 7;
  runOnModule(ctx, model, clustercCreateClusterWeightsPass(&o));
  // CHECK: diagnostic: cluster-weights: the sensitivity of weight 'fc.weight' has 7 values; the weight has 8
  // CHECK-NEXT: pass failed
  clustercClusterWeightsOptionsFree(&o);
  mlirContextDestroy(ctx);
}

// cluster-train on a module parsed from a string: the training functions.
static void testRunClusterTrain(void) {
  fprintf(stderr, "testRunClusterTrain\n");
  // CHECK-LABEL: testRunClusterTrain
  MlirContext ctx = createContext();
  MlirPass pass = clustercCreateClusterTrainPassFromString(
      mlirStringRefCreateFromCString("clusters=2 min-elements=1 reduce=avg"),
      printError, "unexpected");
  runOnModule(ctx, kModel, pass);
  // CHECK-DAG: func.func private @clusterrt_mlir_assign_i8(
  // CHECK-DAG: func.func private @clusterrt_mlir_accumulate_i8(
  // CHECK: func.func @forward(
  // CHECK: func.func @forward_train_init() -> (tensor<4x2xf32>, tensor<2xf32>, tensor<2x2xf32>)
  // CHECK: func.func @forward_train_step(
  // CHECK-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "weight:fc.weight", "centroids:fc.weight", "param:fc2.weight"]
  // CHECK: call @clusterrt_mlir_assign_i8
  // CHECK: %[[AVG:.*]] = arith.constant 1 : i32
  // CHECK: call @clusterrt_mlir_accumulate_i8({{.*}}, {{.*}}, %[[AVG]], {{.*}})
  // CHECK: func.func @forward_train_eval(

  // From the struct, float mode: every weight a plain parameter.
  fprintf(stderr, "float mode\n");
  // CHECK-LABEL: float mode
  ClustercClusterTrainOptions t;
  clustercClusterTrainOptionsInit(&t);
  t.mode = CLUSTERC_TRAIN_FLOAT;
  t.cluster.min_elements = 1;
  pass = clustercCreateClusterTrainPass(&t);
  clustercClusterTrainOptionsFree(&t);
  runOnModule(ctx, kModel, pass);
  // CHECK-NOT: @clusterrt_mlir
  // CHECK: func.func @forward_train_step(
  // CHECK-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight", "param:fc2.weight"]

  // A model it cannot train: a diagnostic and a failed run.
  runOnModule(ctx, kModel,
              clustercCreateClusterTrainPassFromString(
                  mlirStringRefCreateFromCString("function=nope"), NULL, NULL));
  // CHECK: diagnostic: cluster-train: no function 'nope' in the module
  // CHECK-NEXT: pass failed
  mlirContextDestroy(ctx);
}

// Future public headers get their tests next to these (test/CAPI/), e.g.
// codegen.c for include/clusterc/codegen.h and train.c for train.h.

int main(void) {
  testOptionsStruct();
  testOptionsText();
  testBadOptions();
  testRegistry();
  testRunClusterWeights();
  testLayerReport();
  testSensitivity();
  testRunClusterTrain();
  return 0;
}
