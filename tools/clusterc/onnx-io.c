/*
 * The driver's ONNX side (libclusterc-onnx): reading an .onnx model as the
 * input of any command (driverLoadModule), `clusterc import`, and the
 * clustered ONNX of --export-onnx, built from the report rows the
 * cluster-weights pass hands over (centroids and indices of each clustered
 * weight, decoded here to c[idx]). A build without protobuf-c has the same
 * entry points, each failing with one message.
 */
#define _POSIX_C_SOURCE 200809L
#include "onnx-io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../passes/capi-ext.h"
#include "commands.h"
#include "output.h"

#ifdef CLUSTERC_HAVE_ONNX
#include "clusterc/onnx.h"

bool onnxIsInput(const char *path) { return clustercOnnxIsModelFile(path) != 0; }

MlirModule onnxLoadModule(MlirContext ctx, const char *path) {
  ClustercOnnxOptions o;
  clustercOnnxOptionsInit(&o);
  DriverBuffer b = {0};
  char err[2048];
  MlirModule m = {NULL};
  if (clustercOnnxImport(path, &o, driverBufferWrite, &b, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
  } else if (b.failed) {
    fprintf(stderr, "%s: error: out of memory\n", path);
  } else {
    m = clustercParseSourceString(ctx, mlirStringRefCreate(b.data, b.len),
                                  mlirStringRefCreateFromCString(path));
    if (mlirModuleIsNull(m))
      fprintf(stderr, "%s: error: the imported model does not parse (a bug in "
              "the importer)\n", path);
  }
  free(b.data);
  return m;
}

int importRun(void *args, char **argv) {
  (void)argv;
  const ImportArgs *a = args;
  const Command *cmd = &clustercCommands[3];
  if (!a->input)
    return flagsUsageError(cmd, "no input file");
  ClustercOnnxOptions o;
  clustercOnnxOptionsInit(&o);
  o.namedTranspose = a->namedTranspose;
  if (a->funcName)
    o.funcName = a->funcName;
  Output *out;
  outputAddInput(a->input);
  int rc = driverOpenOutput(cmd, &out, a->output ? a->output : "-", "output");
  if (rc)
    return rc;
  char err[2048];
  if (clustercOnnxImport(a->input, &o, outputWrite, out, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    outputAbandonAll();
    return EXIT_BAD_INPUT;
  }
  if ((rc = driverCommitOutputs()))
    return rc;
  return 0;
}

/* ---- --export-onnx ------------------------------------------------------- */

struct OnnxExport {
  ClustercOnnxWeight *w;
  size_t n, cap;
  bool oom;
  ClustercReportFn next; /* the report's own collector */
  void *nextUser;
  char *unsupported;     /* the first weight with an extended palette */
  char *createdDir;      /* the palettes folder, when this run made it */
};

OnnxExport *onnxExportCreate(ClustercReportFn next, void *nextUser) {
  OnnxExport *x = calloc(1, sizeof *x);
  if (x) {
    x->next = next;
    x->nextUser = nextUser;
  }
  return x;
}

void onnxExportFree(OnnxExport *x, bool committed) {
  if (!x)
    return;
  if (x->createdDir && !committed)
    rmdir(x->createdDir);
  free(x->createdDir);
  for (size_t i = 0; i < x->n; ++i) {
    free((void *)x->w[i].name);
    free((void *)x->w[i].values);
    free((void *)x->w[i].centroids);
    free((void *)x->w[i].indices);
  }
  free(x->w);
  free(x->unsupported);
  free(x);
}

/* The decode of row's indices through the table `tab` (tables x k). */
static bool decode(const ClustercLayerReport *row, const float *tab, float *out) {
  size_t n = row->elements;
  if (row->channel_axis < 0)
    return clusterrt_decode_f32(row->indices, row->index_format, n, tab, row->k, out) ==
           CLUSTERRT_OK;
  size_t outer = 1, chans = (size_t)row->shape[row->channel_axis];
  for (int i = 0; i < row->channel_axis; ++i)
    outer *= (size_t)row->shape[i];
  return clusterrt_decode_per_channel_f32(row->indices, row->index_format, outer, chans,
                                          n / (outer * chans), tab, row->k, out) ==
         CLUSTERRT_OK;
}

/* Keeps what the export needs of a clustered weight: c[idx], the tables,
 * and the indices (decoded through a table holding 0..k-1, exact in f32
 * for k <= 65,536), then passes the row on to the report. */
void onnxExportCollect(const ClustercLayerReport *row, void *user) {
  OnnxExport *x = user;
  if (x->next)
    x->next(row, x->nextUser);
  if (row->clustered && !row->centroids && !x->unsupported &&
      !(x->unsupported = strdup(row->name)))
    x->oom = true;
  if (!row->clustered || !row->centroids || x->oom)
    return;
  size_t n = row->elements, nt = (size_t)row->tables * row->k;
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 16;
    ClustercOnnxWeight *g = realloc(x->w, cap * sizeof *g);
    if (!g) {
      x->oom = true;
      return;
    }
    x->w = g;
    x->cap = cap;
  }
  float *values = malloc(n * sizeof(float)), *c = malloc(nt * sizeof(float));
  float *ramp = malloc(nt * sizeof(float)), *fidx = malloc(n * sizeof(float));
  uint32_t *idx = malloc(n * sizeof(uint32_t));
  char *name = strdup(row->name);
  bool ok = values && c && ramp && fidx && idx && name;
  if (ok) {
    memcpy(c, row->centroids, nt * sizeof(float));
    for (size_t i = 0; i < nt; ++i)
      ramp[i] = (float)(i % row->k);
    ok = decode(row, c, values) && decode(row, ramp, fidx);
  }
  if (ok) {
    for (size_t i = 0; i < n; ++i)
      idx[i] = (uint32_t)fidx[i];
    x->w[x->n++] = (ClustercOnnxWeight){name, values, n, c, row->k, row->tables,
                                        row->channel_axis < 0 ? 0 : row->channel_axis,
                                        idx};
  } else {
    x->oom = true;
    free(values), free(c), free(idx), free(name);
  }
  free(ramp);
  free(fidx);
}

/* A palette file, as one more output of the run's transaction. A clash
 * with another output or an input is said here (once: paletteClash keeps
 * the library's "cannot write" from repeating it). */
static bool paletteClash;

static int paletteFile(const char *path, const void *data, size_t size, void *user) {
  (void)user;
  char err[1024];
  int rc = outputWriteWhole(path, "palette", data, size, err, sizeof err);
  if (rc == OUTPUT_CLASH) {
    int e = errno; /* EEXIST, for the exporter */
    fprintf(stderr, "clusterc: error: %s\n", err);
    paletteClash = true;
    errno = e;
  }
  return rc ? -1 : 0;
}

int onnxExportWrite(OnnxExport *x, const char *srcPath, const char *dstPath,
                    const char *paletteDir, Output *out) {
  if (x->oom) {
    fprintf(stderr, "%s: error: out of memory\n", dstPath);
    return -1;
  }
  if (x->unsupported) {
    fprintf(stderr, "%s: error: --export-onnx writes float tables of scalar "
            "centroids; weight '%s' has a quantized table, per-channel scales or "
            "a vector palette (table-type, per-channel-scale, cluster-dim)\n",
            dstPath, x->unsupported);
    return -1;
  }
  struct stat sb;
  if (paletteDir && stat(paletteDir, &sb)) {
    if (errno != ENOENT || mkdir(paletteDir, 0777)) {
      fprintf(stderr, "%s: error: cannot create the palettes folder: %s\n", paletteDir,
              strerror(errno));
      return -1;
    }
    if (!(x->createdDir = strdup(paletteDir))) {
      rmdir(paletteDir);
      fprintf(stderr, "%s: error: out of memory\n", dstPath);
      return -1;
    }
  } else if (paletteDir && !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "%s: error: --palettes names a file that is not a folder\n", paletteDir);
    return -1;
  }
  char err[2048];
  if (clustercOnnxExportFiles(srcPath, dstPath, x->w, x->n, paletteDir, paletteFile,
                              outputWrite, out, err, sizeof err)) {
    if (!paletteClash)
      fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

#else /* !CLUSTERC_HAVE_ONNX */

static void noOnnx(const char *path) {
  fprintf(stderr, "%s: error: this clusterc was built without ONNX support (it needs "
          "protobuf-c-compiler, libprotobuf-c-dev and python3-onnx)\n", path);
}

bool onnxIsInput(const char *path) {
  size_t n = strlen(path);
  return n > 5 && !strcmp(path + n - 5, ".onnx");
}

MlirModule onnxLoadModule(MlirContext ctx, const char *path) {
  (void)ctx;
  noOnnx(path);
  return (MlirModule){NULL};
}

int importRun(void *args, char **argv) {
  (void)argv;
  const ImportArgs *a = args;
  noOnnx(a->input ? a->input : "clusterc import");
  return EXIT_BAD_INPUT;
}

OnnxExport *onnxExportCreate(ClustercReportFn next, void *nextUser) {
  (void)next, (void)nextUser;
  return NULL;
}
void onnxExportFree(OnnxExport *x, bool committed) { (void)x, (void)committed; }
void onnxExportCollect(const ClustercLayerReport *row, void *user) { (void)row, (void)user; }
int onnxExportWrite(OnnxExport *x, const char *srcPath, const char *dstPath,
                    const char *paletteDir, Output *out) {
  (void)x, (void)dstPath, (void)paletteDir, (void)out;
  noOnnx(srcPath);
  return -1;
}

#endif
