/*
 * clusterc gradcheck: checks the gradients cluster-train generates (see
 * train/gradcheck.c, clustercGradcheck in clusterc/train.h).
 *
 *   clusterc gradcheck [--mode=float|ste|centroids-only] [--loss=L]
 *                      [--reduce=sum|avg] [cluster options]
 *                      [--eps=E] [--tol=T] [--samples=N] [--data-seed=N]
 *                      model.mlir
 *
 * Exit 0 when every check passes, 1 otherwise, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#include "gradcheck-main.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/train.h"
#include "driver.h"

static const char gcUsage[] =
    "usage: clusterc gradcheck [options] model.mlir\n"
    "\n"
    "Checks the training step cluster-train generates for the model, on\n"
    "random inputs, on the JIT: finite differences (float, centroids-only),\n"
    "or the STE identities (ste). Exit 0 when every check passes.\n"
    "\n"
    "  --mode=float|ste|centroids-only   (default float)\n"
    "  --loss=softmax-ce|mse, --reduce=sum|avg, --function=NAME\n"
    "  --clusters=K, --init=M, --layers=..., --only=... (as cluster-weights)\n"
    "  --eps=E          finite-difference step (default 1e-2)\n"
    "  --tol=T          largest relative error accepted (default 2e-2)\n"
    "  --samples=N      elements checked per tensor (default 16)\n"
    "  --data-seed=N    seed of the random inputs (default 1)\n";

int gradcheckMain(int argc, char **argv) {
  ClustercGradcheckOptions go;
  clustercGradcheckOptionsInit(&go);
  const char *input = NULL;
  char *options = NULL;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    char *end;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(gcUsage, stdout);
      free(options);
      return 0;
    } else if (!strncmp(a, "--eps=", 6)) {
      go.eps = strtod(a + 6, &end);
      if (*end || !(go.eps > 0))
        goto bad;
    } else if (!strncmp(a, "--tol=", 6)) {
      go.tol = strtod(a + 6, &end);
      if (*end || !(go.tol > 0))
        goto bad;
    } else if (!strncmp(a, "--samples=", 10)) {
      go.samples = (int)strtol(a + 10, &end, 10);
      if (*end || go.samples < 1)
        goto bad;
    } else if (!strncmp(a, "--data-seed=", 12)) {
      go.dataSeed = strtoull(a + 12, &end, 10);
      if (*end)
        goto bad;
    } else if (!strncmp(a, "--", 2) && a[2]) {
      if (driverAppendOption(&options, a + 2))
        goto bad;
    } else if (!input) {
      input = a;
    } else {
      fprintf(stderr, "clusterc gradcheck: error: more than one input ('%s')\n", a);
      free(options);
      return EXIT_USAGE;
    }
    continue;
  bad:
    fprintf(stderr, "clusterc gradcheck: error: bad option '%s'\n", a);
    free(options);
    return EXIT_USAGE;
  }
  if (!input) {
    fprintf(stderr, "clusterc gradcheck: error: no input file\n");
    free(options);
    return EXIT_USAGE;
  }
  go.options = options;
  go.onMessage = driverPrintMessage;
  DiagState ds = {driverDisplayName(input), 0};
  MlirContext ctx = driverCreateContext(&ds);
  int rc = EXIT_BAD_INPUT;
  MlirModule model = driverLoadModule(ctx, input, &ds);
  if (!mlirModuleIsNull(model)) {
    ClustercStatus st = clustercGradcheck(model, &go, driverDisplayName(input));
    rc = st == CLUSTERC_OK ? 0 : st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;
    mlirModuleDestroy(model);
  }
  mlirContextDestroy(ctx);
  free(options);
  return rc;
}
