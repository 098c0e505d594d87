// Tests of the public header include/clusterc/train.h from C: data sets,
// option checks, writing trained values back, and one epoch of training on
// the JIT. Each testXxx function prints what it sees on stderr and
// FileCheck compares it with the CHECK lines.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %capi_train_test %t 2>&1 | FileCheck %s

#define _POSIX_C_SOURCE 200809L

#include "clusterc/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/IR.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/RegisterEverything.h"

static const char *dir;

static void onMessage(ClustercMessageKind kind, MlirStringRef text, void *user) {
  (void)user;
  if (kind == CLUSTERC_MESSAGE_PROGRESS || kind == CLUSTERC_MESSAGE_LOG)
    return;
  fprintf(stderr, "message(%s): %.*s", kind == CLUSTERC_MESSAGE_ERROR ? "error" : "info",
          (int)text.length, text.data);
}

static void path(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", dir, name);
}

// An IDX file of u8 (magic 0x0000 08 <rank>, big-endian dims).
static void writeIdx(const char *name, int rank, const unsigned *dims,
                     const unsigned char *data, size_t n) {
  char p[4096];
  path(p, sizeof p, name);
  FILE *f = fopen(p, "wb");
  unsigned char head[4] = {0, 0, 0x08, (unsigned char)rank};
  fwrite(head, 1, 4, f);
  for (int i = 0; i < rank; ++i) {
    unsigned char d[4] = {(unsigned char)(dims[i] >> 24), (unsigned char)(dims[i] >> 16),
                          (unsigned char)(dims[i] >> 8), (unsigned char)dims[i]};
    fwrite(d, 1, 4, f);
  }
  fwrite(data, 1, n, f);
  fclose(f);
}

// A .npy of f32, shape [n, d].
static void writeNpy(const char *name, int n, int d, const float *data) {
  char p[4096], header[128];
  path(p, sizeof p, name);
  int len = snprintf(header, sizeof header,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d);
  int total = 10 + len + 1;
  int pad = (64 - total % 64) % 64;
  FILE *f = fopen(p, "wb");
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  unsigned short hl = (unsigned short)(len + pad + 1);
  fputc(hl & 0xff, f);
  fputc(hl >> 8, f);
  fwrite(header, 1, (size_t)len, f);
  for (int i = 0; i < pad; ++i)
    fputc(' ', f);
  fputc('\n', f);
  fwrite(data, sizeof(float), (size_t)n * (size_t)d, f);
  fclose(f);
}

// Four 2x2 images as IDX u8 with labels; four 3-value samples as .npy f32.
static void testDataset(void) {
  fprintf(stderr, "@testDataset\n");
  unsigned char px[16] = {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  unsigned char lb[4] = {3, 1, 0, 2};
  unsigned dims[3] = {4, 2, 2}, ldims[1] = {4};
  writeIdx("images", 3, dims, px, 16);
  writeIdx("labels", 1, ldims, lb, 4);
  char images[4096], labels[4096];
  path(images, sizeof images, "images");
  path(labels, sizeof labels, "labels");
  ClustercDataset d;
  ClustercStatus s = clustercDatasetLoad(&d, images, labels, onMessage, NULL);
  float x[4];
  clustercDatasetSample(&d, 0, x);
  fprintf(stderr, "idx: status=%d n=%zu sample=%zu rank=%d shape=%dx%d y0=%d x0=%g %g %g %g\n",
          (int)s, d.n, d.sampleSize, d.rank, (int)d.shape[0], (int)d.shape[1], d.y[0], x[0],
          x[1], x[2], x[3]);
  clustercDatasetFree(&d);

  float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  writeNpy("x.npy", 4, 3, v);
  char npy[4096];
  path(npy, sizeof npy, "x.npy");
  s = clustercDatasetLoad(&d, npy, NULL, onMessage, NULL);
  clustercDatasetSample(&d, 3, x);
  fprintf(stderr, "npy: status=%d n=%zu sample=%zu labels=%s x3=%g %g %g\n", (int)s, d.n,
          d.sampleSize, d.y ? "yes" : "no", x[0], x[1], x[2]);
  clustercDatasetFree(&d);

  char missing[4096];
  path(missing, sizeof missing, "missing");
  s = clustercDatasetLoad(&d, missing, NULL, onMessage, NULL);
  fprintf(stderr, "missing: status=%d\n", (int)s);
  // CHECK-LABEL: @testDataset
  // CHECK: idx: status=0 n=4 sample=4 rank=2 shape=2x2 y0=3 x0=0 1 0.2 0.4
  // CHECK: npy: status=0 n=4 sample=3 labels=no x3=10 11 12
  // CHECK: message(error): {{.*}}missing{{.*}}
  // CHECK: missing: status=1
}

// Option texts are checked before any work: a usage status and a message.
static void testOptionsCheck(void) {
  fprintf(stderr, "@testOptionsCheck\n");
  ClustercTrainOptions o;
  clustercTrainOptionsInit(&o);
  o.onMessage = onMessage;
  fprintf(stderr, "defaults: epochs=%d optimizer=%d threads=%d check=%d\n", o.epochs,
          (int)o.optimizer, o.threads, (int)clustercTrainOptionsCheck(&o));
  o.clusterOptions = "clusters=0";
  fprintf(stderr, "clusters=0: %d\n", (int)clustercTrainOptionsCheck(&o));
  o.clusterOptions = "clusters=4 per-channel=true preserve-sparsity=true";
  fprintf(stderr, "per-channel: %d\n", (int)clustercTrainOptionsCheck(&o));
  o.clusterOptions = NULL;
  o.trainOptions = "mode=bogus";
  fprintf(stderr, "mode=bogus: %d\n", (int)clustercTrainOptionsCheck(&o));
  o.trainOptions = NULL;
  o.transform.numNormalize = 1;
  o.transform.mean[0] = 0.5f;
  o.transform.std[0] = 0.0f;
  fprintf(stderr, "std=0: %d\n", (int)clustercTrainOptionsCheck(&o));
  o.transform.std[0] = 0.25f;
  o.transform.inputH = 32;
  fprintf(stderr, "height only: %d\n", (int)clustercTrainOptionsCheck(&o));
  o.transform.inputW = 32;
  fprintf(stderr, "transform: %d\n", (int)clustercTrainOptionsCheck(&o));
  // CHECK-LABEL: @testOptionsCheck
  // CHECK: defaults: epochs=1 optimizer=2 threads=1 check=0
  // CHECK: message(error): {{.*}}clusters
  // CHECK: clusters=0: 2
  // CHECK-NOT: message(error): {{.*}}per-channel
  // CHECK: per-channel: 0
  // CHECK: message(error): {{.*}}bogus
  // CHECK: mode=bogus: 2
  // CHECK: message(error): clusterc train: error: data transform: a normalisation std is not positive
  // CHECK: std=0: 2
  // CHECK: message(error): clusterc train: error: data transform: the input size needs a positive height and width
  // CHECK: height only: 2
  // CHECK: transform: 0
}

// A classifier with one weight: logits = x . W (4 features, 3 classes).
static const char model[] =
    "func.func @forward(%x: tensor<4x4xf32>) -> tensor<4x3xf32> {\n"
    "  %w = arith.constant dense<[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], "
    "[-0.7, 0.8, 0.9], [1.0, -1.1, 1.2]]> : tensor<4x3xf32> loc(\"fc.weight\")\n"
    "  %z = arith.constant 0.0 : f32\n"
    "  %e = tensor.empty() : tensor<4x3xf32>\n"
    "  %i = linalg.fill ins(%z : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>\n"
    "  %y = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x3xf32>) "
    "outs(%i : tensor<4x3xf32>) -> tensor<4x3xf32>\n"
    "  return %y : tensor<4x3xf32>\n"
    "}\n";

static MlirModule parse(MlirContext ctx) {
  return mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(model));
}

static void printWeight(MlirModule m) {
  // The first float constant's first values, as the model now holds them.
  MlirOperation fn = mlirBlockGetFirstOperation(mlirModuleGetBody(m));
  MlirOperation op = mlirBlockGetFirstOperation(
      mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0)));
  MlirAttribute v = mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString("value"));
  fprintf(stderr, "w[0..2] = %g %g %g\n", mlirDenseElementsAttrGetFloatValue(v, 0),
          mlirDenseElementsAttrGetFloatValue(v, 1), mlirDenseElementsAttrGetFloatValue(v, 2));
}

// Trained values go back into the model's constants by layer name.
static void testSetTrainedValues(MlirContext ctx) {
  fprintf(stderr, "@testSetTrainedValues\n");
  MlirModule m = parse(ctx);
  float w[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const char *names[] = {"fc.weight"};
  const float *values[] = {w};
  char err[256] = "";
  int rc = clustercSetTrainedValues(mlirModuleGetOperation(m), NULL, 1, names, values, err,
                                    sizeof err);
  fprintf(stderr, "rc=%d\n", rc);
  printWeight(m);
  const char *bad[] = {"nope"};
  rc = clustercSetTrainedValues(mlirModuleGetOperation(m), NULL, 1, bad, values, err,
                                sizeof err);
  fprintf(stderr, "unknown: rc=%d err=%s\n", rc, err);
  mlirModuleDestroy(m);
  // CHECK-LABEL: @testSetTrainedValues
  // CHECK: rc=0
  // CHECK: w[0..2] = 1 2 3
  // CHECK: unknown: rc=-1 err={{.*}}nope
}

static void onReport(const ClustercLayerReport *row, void *user) {
  (void)user;
  fprintf(stderr, "report: %s %s clustered=%d k=%u bits=%u\n", row->name, row->role,
          row->clustered, row->k, row->bits);
}

// One epoch of STE fine-tuning at K = 2 on the JIT, written back clustered:
// the report of the written-back model shows the weight at two centroids.
static void testTrain(MlirContext ctx) {
  fprintf(stderr, "@testTrain\n");
  float x[8 * 4];
  for (int i = 0; i < 8 * 4; ++i)
    x[i] = (float)((i * 7) % 5) / 4.0f;
  writeNpy("tx.npy", 8, 4, x);
  unsigned char y[8] = {0, 1, 2, 0, 1, 2, 0, 1};
  unsigned ld[1] = {8};
  writeIdx("ty", 1, ld, y, 8);
  char tx[4096], ty[4096];
  path(tx, sizeof tx, "tx.npy");
  path(ty, sizeof ty, "ty");
  ClustercDataset d;
  if (clustercDatasetLoad(&d, tx, ty, onMessage, NULL))
    return;
  MlirModule m = parse(ctx);
  ClustercTrainOptions o;
  clustercTrainOptionsInit(&o);
  o.clusterOptions = "clusters=2 min-elements=0";
  o.epochs = 1;
  o.quiet = true;
  o.writeBack = true;
  o.onMessage = onMessage;
  o.report = onReport;
  ClustercStatus s = clustercTrain(m, &o, &d, &d, "model.mlir");
  fprintf(stderr, "train: status=%d\n", (int)s);
  clustercDatasetFree(&d);
  mlirModuleDestroy(m);
  // CHECK-LABEL: @testTrain
  // CHECK: report: fc.weight weight clustered=1 k=2 bits=1
  // CHECK: train: status=0
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreate();
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  testDataset();
  testOptionsCheck();
  testSetTrainedValues(ctx);
  testTrain(ctx);
  mlirContextDestroy(ctx);
  return 0;
}
