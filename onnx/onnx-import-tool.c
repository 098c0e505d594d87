/* clusterc-onnx-import: the ONNX library alone, for the tests.
 *   clusterc-onnx-import model.onnx [-o out.mlir] [--named-transpose] [--func=NAME]
 *   clusterc-onnx-import model.onnx --export=out.onnx [--palettes=DIR] [--k=K]
 * The first writes the imported MLIR. The second exercises the exporter
 * without the clustering pass: every FLOAT initializer of 128 or more
 * elements gets K evenly spaced centroids between its min and max and the
 * nearest one per element (ties to the lower), and is written back as
 * c[idx]. Every file goes through clusterc's output transaction
 * (support/output.h), as the driver's do: temporaries committed together
 * once the whole run succeeded, removed on an error or a signal, never an
 * input or a special file replaced; so a failed run leaves no file and
 * changes none. Exit status 1 on bad input, 2 on bad usage (an output on an
 * input or on another output included). */
#include "clusterc/onnx.h"
#include "internal.h"
#include "output.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tool = "clusterc-onnx-import";

static void writeOut(MlirStringRef s, void *user) {
  outputWriteBytes(user, s.data, s.length);
}

/* Says why output path (what) could not be opened: outputOpen's status
 * rc, its message err. Returns the exit status. */
static int openFailed(int rc, const char *path, const char *what,
                      const char *err) {
  if (rc == OUTPUT_CLASH) {
    fprintf(stderr, "%s: error: %s\n", tool, err);
    return 2;
  }
  fprintf(stderr, "%s: error: cannot write %s: %s\n", path, what,
          strerror(errno));
  return 1;
}

/* Opens path as one of the run's outputs; 0, or the exit status after
 * saying why not. */
static int openOutput(Output **o, const char *path, const char *what) {
  char err[1024];
  int rc = outputOpen(o, path, what, err, sizeof err);
  return rc ? openFailed(rc, path, what, err) : 0;
}

/* Commits the run's outputs; 0, or 1 after saying why not. */
static int commitOutputs(void) {
  char err[1024];
  if (!outputCommitAll(err, sizeof err))
    return 0;
  fprintf(stderr, "%s\n", err);
  return 1;
}

/* Set when a palette file would be an input or another output (the
 * exporter hands both of its callbacks the model's Output). */
static int paletteClash;

/* A palette file of the export: one more output of the run. */
static int paletteFile(const char *path, const void *data, size_t size, void *user) {
  (void)user;
  char err[1024];
  int rc = outputWriteWhole(path, "palette", data, size, err, sizeof err);
  if (rc) {
    int e = errno; /* EEXIST on a clash, for the exporter */
    paletteClash |= openFailed(rc, path, "palette", err) == 2;
    errno = e;
  }
  return rc ? -1 : 0;
}

/* The exporter's test: linear palettes for every large FLOAT initializer. */
static int exportTest(const char *in, const char *out, const char *dir, uint32_t k) {
  char err[2048] = "";
  OnnxErr e = {in, err, sizeof err};
  OnnxModel m;
  if (onnxModelLoad(&e, in, &m)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  const Onnx__GraphProto *g = m.proto->graph;
  ClustercOnnxWeight *w = calloc(g->n_initializer + 1, sizeof *w);
  size_t n = 0;
  int rc = w ? 0 : 1;
  for (size_t i = 0; i < g->n_initializer && !rc; ++i) {
    const Onnx__TensorProto *t = g->initializer[i];
    const void *data;
    void *owned;
    size_t size;
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
      continue;
    if (onnxTensorData(&e, &m, t, t->name, &data, &size, &owned)) {
      fprintf(stderr, "%s\n", err);
      rc = 1;
      break;
    }
    size_t numel = size / 4;
    if (numel < 128) {
      free(owned);
      continue;
    }
    float *v = malloc(size), *c = malloc(4 * (size_t)k);
    uint32_t *idx = malloc(4 * numel);
    if (!v || !c || !idx) {
      free(v), free(c), free(idx), free(owned);
      rc = 1;
      break;
    }
    memcpy(v, data, size);
    free(owned);
    float lo = v[0], hi = v[0];
    for (size_t j = 0; j < numel; ++j)
      lo = v[j] < lo ? v[j] : lo, hi = v[j] > hi ? v[j] : hi;
    for (uint32_t j = 0; j < k; ++j)
      c[j] = k > 1 ? lo + (hi - lo) * (float)j / (float)(k - 1) : lo;
    for (size_t j = 0; j < numel; ++j) {
      uint32_t best = 0;
      for (uint32_t q = 1; q < k; ++q)
        if (fabsf(v[j] - c[q]) < fabsf(v[j] - c[best]))
          best = q;
      idx[j] = best;
      v[j] = c[best];
    }
    w[n++] = (ClustercOnnxWeight){t->name, v, numel, c, k, 1, 0, idx};
  }
  /* The palettes folder is the caller's to create (and to remove again
   * when the run fails): clustercOnnxExportFiles only hands over files. */
  int madeDir = 0;
  struct stat sb;
  if (!rc && dir && stat(dir, &sb)) {
    if (errno != ENOENT || mkdir(dir, 0777)) {
      fprintf(stderr, "%s: error: cannot create the palettes folder: %s\n", dir, strerror(errno));
      rc = 1;
    } else
      madeDir = 1;
  } else if (!rc && dir && !S_ISDIR(sb.st_mode)) {
    fprintf(stderr, "%s: error: --palettes names a file that is not a folder\n", dir);
    rc = 1;
  }
  Output *o = NULL;
  if (!rc)
    rc = openOutput(&o, out, "output");
  if (!rc && clustercOnnxExportFiles(in, out, w, n, dir, paletteFile, writeOut, o, err,
                                     sizeof err)) {
    if (!paletteClash)
      fprintf(stderr, "%s\n", err);
    rc = paletteClash ? 2 : 1;
  }
  if (!rc)
    rc = commitOutputs();
  else
    outputAbandonAll();
  if (rc && madeDir)
    rmdir(dir);
  for (size_t i = 0; i < n; ++i) {
    free((void *)w[i].values);
    free((void *)w[i].centroids);
    free((void *)w[i].indices);
  }
  free(w);
  onnxModelFree(&m);
  return rc;
}

int main(int argc, char **argv) {
  const char *in = NULL, *outPath = "-", *exportPath = NULL, *palettes = NULL;
  uint32_t k = 16;
  ClustercOnnxOptions o;
  clustercOnnxOptionsInit(&o);
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-o") && i + 1 < argc)
      outPath = argv[++i];
    else if (!strcmp(argv[i], "--named-transpose"))
      o.namedTranspose = 1;
    else if (!strncmp(argv[i], "--export=", 9))
      exportPath = argv[i] + 9;
    else if (!strncmp(argv[i], "--palettes=", 11))
      palettes = argv[i] + 11;
    else if (!strncmp(argv[i], "--k=", 4) && atoi(argv[i] + 4) > 0)
      k = (uint32_t)atoi(argv[i] + 4);
    else if (!strncmp(argv[i], "--func=", 7))
      o.funcName = argv[i] + 7;
    else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "usage: %s model.onnx [-o out.mlir] [--named-transpose] [--func=NAME]\n", argv[0]);
      return 2;
    } else
      in = argv[i];
  }
  if (!in) {
    fprintf(stderr, "usage: %s model.onnx [-o out.mlir]\n", argv[0]);
    return 2;
  }
  outputCatchSignals(NULL);
  outputAddInput(in);
  if (exportPath)
    return exportTest(in, exportPath, palettes, k);
  Output *out;
  int rc = openOutput(&out, outPath, "output");
  if (rc)
    return rc;
  char err[2048];
  if (clustercOnnxImport(in, &o, writeOut, out, err, sizeof err) != CLUSTERC_ONNX_OK) {
    fprintf(stderr, "%s\n", err);
    outputAbandonAll();
    return 1;
  }
  return commitOutputs();
}
