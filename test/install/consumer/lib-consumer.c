/*
 * An out-of-tree program on the installed libclusterc-codegen and
 * libclusterc-train (built by test-install.sh with find_package(ClusterC)
 * and with pkg-config clusterc-train):
 *
 *   lib-consumer model.mlir WORKDIR
 *
 * 1. codegen: cluster-weights, then the model compiled to an x86-64 object
 *    in memory (clustercCodegenRun, emit obj) and its C header;
 * 2. train: a tiny IDX data set written to WORKDIR and read back
 *    (clustercDatasetLoad), one epoch of fine-tuning on the JIT
 *    (clustercTrain) with the trained values written back and clustered;
 * 3. a data set that does not exist: a status and a message, no exit.
 * Exit 0 = ok.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/codegen.h"
#include "clusterc/passes.h"
#include "clusterc/train.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "lib-consumer: " __VA_ARGS__);                             \
    fputc('\n', stderr);                                                       \
    exit(1);                                                                   \
  } while (0)

typedef struct Buffer {
  char *data;
  size_t len;
} Buffer;

static void collect(MlirStringRef s, void *user) {
  Buffer *b = user;
  char *g = realloc(b->data, b->len + s.length + 1);
  if (!g)
    FAIL("out of memory");
  memcpy(g + b->len, s.data, s.length);
  b->data = g;
  b->len += s.length;
  b->data[b->len] = 0;
}

/* Messages: errors and info on stderr, counted. */
static int errors;
static void onMessage(ClustercMessageKind kind, MlirStringRef text, void *user) {
  (void)user;
  errors += kind == CLUSTERC_MESSAGE_ERROR;
  if (kind != CLUSTERC_MESSAGE_PROGRESS && kind != CLUSTERC_MESSAGE_LOG)
    fprintf(stderr, "%.*s", (int)text.length, text.data);
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

/* An IDX file of u8: dims big-endian after the magic 0x0000 08 <rank>. */
static void writeIdx(const char *path, int rank, const uint32_t *dims, const uint8_t *data,
                     size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f)
    FAIL("cannot write %s", path);
  unsigned char head[4] = {0, 0, 0x08, (unsigned char)rank};
  fwrite(head, 1, 4, f);
  for (int i = 0; i < rank; ++i) {
    unsigned char d[4] = {(unsigned char)(dims[i] >> 24), (unsigned char)(dims[i] >> 16),
                          (unsigned char)(dims[i] >> 8), (unsigned char)dims[i]};
    fwrite(d, 1, 4, f);
  }
  if (fwrite(data, 1, n, f) != n || fclose(f))
    FAIL("cannot write %s", path);
}

static MlirModule parse(MlirContext ctx, const char *src) {
  MlirModule m = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(src));
  if (mlirModuleIsNull(m))
    FAIL("cannot parse the model");
  return m;
}

int main(int argc, char **argv) {
  if (argc != 3)
    FAIL("usage: lib-consumer model.mlir WORKDIR");
  char *src = readFile(argv[1]);
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreate();
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);

  /* 1. Code generation. */
  MlirModule m = parse(ctx, src);
  ClustercClusterWeightsOptions cw;
  clustercClusterWeightsOptionsInit(&cw);
  cw.clusters = 4;
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&cw));
  if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(m))))
    FAIL("cluster-weights failed");
  mlirPassManagerDestroy(pm);
  clustercClusterWeightsOptionsFree(&cw);
  Buffer header = {0}, obj = {0};
  if (clustercCodegenHeader(m, "mlp", collect, &header, onMessage, NULL) ||
      !strstr(header.data, "_mlir_ciface_mlp("))
    FAIL("no header");
  ClustercCodegenOptions co;
  clustercCodegenOptionsInit(&co);
  co.emit = CLUSTERC_EMIT_OBJ;
  co.triple = "x86_64-linux-gnu";
  if (clustercCodegenCheckTarget(&co, onMessage, NULL) ||
      clustercCodegenRun(m, &co, collect, &obj, "mlp.mlir", onMessage, NULL))
    FAIL("code generation failed");
  if (obj.len < 64 || memcmp(obj.data, "\x7f" "ELF", 4))
    FAIL("not an ELF object (%zu bytes)", obj.len);
  printf("codegen: an ELF object and a %zu-byte header\n", header.len);
  free(header.data);
  free(obj.data);
  mlirModuleDestroy(m);

  /* 2. Training: 32 samples of 8 values, 8 classes (the label is the
   * position of the largest value). */
  enum { N = 32, D = 8 };
  uint8_t x[N * D], y[N];
  uint64_t s = 1;
  for (int i = 0; i < N; ++i) {
    int best = 0;
    for (int j = 0; j < D; ++j) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x[i * D + j] = (uint8_t)(s >> 56);
      if (x[i * D + j] > x[i * D + best])
        best = j;
    }
    y[i] = (uint8_t)best;
  }
  char images[4096], labels[4096];
  snprintf(images, sizeof images, "%s/images-idx2-ubyte", argv[2]);
  snprintf(labels, sizeof labels, "%s/labels-idx1-ubyte", argv[2]);
  writeIdx(images, 2, (const uint32_t[]){N, D}, x, sizeof x);
  writeIdx(labels, 1, (const uint32_t[]){N}, y, sizeof y);
  ClustercDataset data;
  if (clustercDatasetLoad(&data, images, labels, onMessage, NULL) || data.n != N ||
      data.sampleSize != D)
    FAIL("the data set did not load");
  ClustercTrainOptions to;
  clustercTrainOptionsInit(&to);
  to.clusterOptions = "clusters=4";
  to.epochs = 1;
  to.quiet = true;
  to.writeBack = true;
  to.onMessage = onMessage;
  m = parse(ctx, src);
  if (clustercTrain(m, &to, &data, &data, "mlp.mlir"))
    FAIL("training failed");
  if (!mlirOperationVerify(mlirModuleGetOperation(m)))
    FAIL("the trained module does not verify");
  printf("train: %zu samples, one epoch, written back\n", data.n);
  mlirModuleDestroy(m);
  clustercDatasetFree(&data);

  /* 3. A missing file: a status and a message. */
  errors = 0;
  if (clustercDatasetLoad(&data, "/nonexistent/images", NULL, onMessage, NULL) !=
          CLUSTERC_ERROR ||
      errors != 1)
    FAIL("a missing data set was not reported");

  mlirContextDestroy(ctx);
  free(src);
  puts("lib-consumer: ok");
  return 0;
}
