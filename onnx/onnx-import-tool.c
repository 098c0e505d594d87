/* clusterc-onnx-import: ONNX -> MLIR text, for the tests.
 *   clusterc-onnx-import model.onnx [-o out.mlir] [--named-transpose] [--func=NAME]
 * The output is written to a temporary file renamed into place, so an error
 * leaves no file. Exit status 1 on bad input, 2 on bad usage. */
#include "clusterc/onnx.h"

#include <errno.h>
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

int main(int argc, char **argv) {
  const char *in = NULL, *outPath = "-";
  ClustercOnnxOptions o;
  clustercOnnxOptionsInit(&o);
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-o") && i + 1 < argc)
      outPath = argv[++i];
    else if (!strcmp(argv[i], "--named-transpose"))
      o.namedTranspose = 1;
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
