/* clusterc-onnx-import: the ONNX library alone, for the tests.
 *   clusterc-onnx-import model.onnx [-o out.mlir] [--named-transpose] [--func=NAME]
 *   clusterc-onnx-import model.onnx --export=out.onnx [--palettes=DIR] [--k=K]
 * The first writes the imported MLIR. The second exercises the exporter
 * without the clustering pass: every FLOAT initializer of 128 or more
 * elements gets K evenly spaced centroids between its min and max and the
 * nearest one per element (ties to the lower), and is written back as
 * c[idx]. Outputs go to temporary files renamed into place, so an error
 * leaves no file. Exit status 1 on bad input, 2 on bad usage. */
#include "clusterc/onnx.h"
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void writeOut(MlirStringRef s, void *user) {
  FILE *f = user;
  if (s.length)
    fwrite(s.data, 1, s.length, f);
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
  if (!rc && clustercOnnxExport(in, out, w, n, dir, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    rc = 1;
  }
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
  if (exportPath)
    return exportTest(in, exportPath, palettes, k);
  FILE *f = stdout;
  char *tmp = NULL;
  if (strcmp(outPath, "-")) {
    size_t n = strlen(outPath) + 16;
    tmp = malloc(n);
    if (!tmp)
      return 1;
    snprintf(tmp, n, "%s.tmp.XXXXXX", outPath);
    int fd = mkstemp(tmp);
    if (fd < 0 || !(f = fdopen(fd, "wb"))) {
      fprintf(stderr, "%s: error: cannot write: %s\n", outPath, strerror(errno));
      free(tmp);
      return 1;
    }
  }
  char err[2048];
  ClustercOnnxStatus st = clustercOnnxImport(in, &o, writeOut, f, err, sizeof err);
  int bad = st != CLUSTERC_ONNX_OK;
  if (bad)
    fprintf(stderr, "%s\n", err);
  if (fflush(f) || ferror(f)) {
    if (!bad)
      fprintf(stderr, "%s: error: cannot write\n", outPath);
    bad = 1;
  }
  if (tmp) {
    fclose(f);
    if (!bad) {
      mode_t mask = umask(0);
      umask(mask);
      chmod(tmp, 0666 & ~mask);
      if (rename(tmp, outPath)) {
        fprintf(stderr, "%s: error: cannot write: %s\n", outPath, strerror(errno));
        bad = 1;
      }
    }
    if (bad)
      unlink(tmp);
    free(tmp);
  }
  return bad;
}
