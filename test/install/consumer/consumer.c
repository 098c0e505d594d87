/*
 * An out-of-tree MLIR C-API program that adds cluster-weights to its own
 * pipelines, built by test-install.sh against the installed package
 * (find_package(ClusterC), or pkg-config clusterc-passes):
 *
 *   consumer model.mlir
 *
 * 1. bad option text gives a null pass and the parser's message;
 * 2. a textual pipeline names the pass (clustercRegisterPasses):
 *    builtin.module(cse,cluster-weights{clusters=4 layers=fc2*:skip},canonicalize)
 *    (not canonicalize before it: folding drops the constants' NameLocs);
 * 3. a pass created from option text goes into an MlirOpPassManager;
 * 4. cluster-train from an options struct adds the training functions.
 * After each run the module must verify; the program counts decodes and
 * index buffers and prints the clustered module of step 3. Exit 0 = ok.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Transforms.h"

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "consumer: " __VA_ARGS__);                                 \
    fputc('\n', stderr);                                                       \
    exit(1);                                                                   \
  } while (0)

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

static void append(MlirStringRef s, void *user) {
  char *buf = user;
  size_t used = strlen(buf), room = 1023 - used;
  size_t n = s.length < room ? s.length : room;
  memcpy(buf + used, s.data, n);
  buf[used + n] = 0;
}

static void print(MlirStringRef s, void *user) {
  fwrite(s.data, 1, s.length, (FILE *)user);
}

static char *readFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    FAIL("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
    FAIL("cannot read %s", path);
  buf[n] = 0;
  fclose(f);
  return buf;
}

typedef struct Counts {
  int decodes; /* linalg.generic without inputs: a decode */
  int indices; /* 1-D i8 constants: packed index buffers */
} Counts;

static MlirWalkResult count(MlirOperation op, void *user) {
  Counts *c = user;
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length == 14 && !memcmp(name.data, "linalg.generic", 14) &&
      mlirOperationGetNumOperands(op) == 1)
    c->decodes++;
  if (name.length == 14 && !memcmp(name.data, "arith.constant", 14)) {
    MlirType t = mlirValueGetType(mlirOperationGetResult(op, 0));
    if (mlirTypeIsARankedTensor(t) && mlirShapedTypeGetRank(t) == 1 &&
        mlirTypeIsAInteger(mlirShapedTypeGetElementType(t)) &&
        mlirIntegerTypeGetWidth(mlirShapedTypeGetElementType(t)) == 8)
      c->indices++;
  }
  return MlirWalkResultAdvance;
}

static Counts run(MlirContext ctx, const char *src, MlirPassManager pm) {
  MlirModule m = mlirModuleCreateParse(ctx, str(src));
  if (mlirModuleIsNull(m))
    FAIL("cannot parse the model");
  MlirOperation op = mlirModuleGetOperation(m);
  if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, op)))
    FAIL("the pipeline failed");
  if (!mlirOperationVerify(op))
    FAIL("the clustered module does not verify");
  Counts c = {0, 0};
  mlirOperationWalk(op, count, &c, MlirWalkPreOrder);
  mlirModuleDestroy(m);
  return c;
}

int main(int argc, char **argv) {
  if (argc != 2)
    FAIL("usage: consumer model.mlir");
  char *src = readFile(argv[1]);

  MlirContext ctx = mlirContextCreate();
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__func__(), ctx);
  clustercRegisterDialects(ctx);
  mlirRegisterTransformsCanonicalizer();
  mlirRegisterTransformsCSE();
  clustercRegisterPasses();

  /* 1. Bad options. */
  char msg[1024] = "";
  MlirPass bad = clustercCreateClusterWeightsPassFromString(
      str("clusters=0"), append, msg);
  if (bad.ptr || !strstr(msg, "clusters must be"))
    FAIL("bad options were not rejected (message: '%s')", msg);
  printf("bad options: %s\n", msg);
  const ClustercPassInfo *info = clustercLookupPass(str("cluster-weights"));
  if (clustercGetNumPasses() < 1 || !info || clustercLookupPass(str("nope")))
    FAIL("pass table");

  /* 2. A textual pipeline through MLIR's registry. */
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  msg[0] = 0;
  if (mlirLogicalResultIsFailure(mlirParsePassPipeline(
          mlirPassManagerGetAsOpPassManager(pm),
          str("builtin.module(cse,cluster-weights{clusters=4 "
              "init=linear layers=fc2*:skip},canonicalize)"),
          append, msg)))
    FAIL("pipeline rejected: %s", msg);
  Counts c = run(ctx, src, pm);
  mlirPassManagerDestroy(pm);
  printf("pipeline: %d decodes, %d index buffers\n", c.decodes, c.indices);
  if (c.decodes != 1 || c.indices != 1)
    FAIL("expected fc1 clustered and fc2 skipped");

  /* 3. A pass from option text in an MlirOpPassManager. */
  pm = mlirPassManagerCreate(ctx);
  MlirPass p = info->createFromString(str("clusters=8 seed=1"), append, msg);
  if (!p.ptr)
    FAIL("createFromString failed: %s", msg);
  mlirOpPassManagerAddOwnedPass(mlirPassManagerGetAsOpPassManager(pm), p);
  MlirModule m = mlirModuleCreateParse(ctx, str(src));
  if (mlirModuleIsNull(m) ||
      mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m))) ||
      !mlirOperationVerify(mlirModuleGetOperation(m)))
    FAIL("the pass from option text failed");
  mlirPassManagerDestroy(pm);
  c = (Counts){0, 0};
  mlirOperationWalk(mlirModuleGetOperation(m), count, &c, MlirWalkPreOrder);
  printf("pass from text: %d decodes, %d index buffers\n", c.decodes, c.indices);
  if (c.decodes != 2 || c.indices != 2)
    FAIL("expected both weights clustered");
  mlirOperationPrint(mlirModuleGetOperation(m), print, stdout);
  putchar('\n');
  mlirModuleDestroy(m);

  /* 4. cluster-train from an options struct. */
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  msg[0] = 0;
  const char *topts = "clusters=4 mode=ste reduce=avg";
  if (clustercClusterTrainOptionsParse(&to, topts, strlen(topts), msg, sizeof msg))
    FAIL("cluster-train options: %s", msg);
  pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterTrainPass(&to));
  clustercClusterTrainOptionsFree(&to);
  m = mlirModuleCreateParse(ctx, str(src));
  if (mlirModuleIsNull(m) ||
      mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m))) ||
      !mlirOperationVerify(mlirModuleGetOperation(m)))
    FAIL("cluster-train failed");
  mlirPassManagerDestroy(pm);
  int found = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(m));
       !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute n = mlirOperationGetAttributeByName(op, str("sym_name"));
    if (!mlirAttributeIsNull(n) && mlirAttributeIsAString(n)) {
      MlirStringRef v = mlirStringAttrGetValue(n);
      static const char *const want[] = {"mlp_train_step", "mlp_train_eval",
                                         "mlp_train_init"};
      for (int w = 0; w < 3; ++w)
        found += v.length == strlen(want[w]) && !memcmp(v.data, want[w], v.length);
    }
  }
  mlirModuleDestroy(m);
  printf("cluster-train: %d training functions\n", found);
  if (found != 3)
    FAIL("expected mlp_train_step, mlp_train_eval and mlp_train_init");

  mlirContextDestroy(ctx);
  free(src);
  puts("consumer: ok");
  return 0;
}
