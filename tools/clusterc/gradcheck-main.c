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
#include "commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/train.h"
#include "driver.h"

/* clusterc gradcheck: the flags are parsed (commands.c). */
int gradcheckRun(void *args, char **argv) {
  (void)argv;
  GradcheckArgs *a = args;
  if (!a->input)
    return flagsUsageError(&clustercCommands[2], "no input file");
  const char *input = a->input;
  ClustercGradcheckOptions go = a->go;
  go.options = a->options;
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
  return rc;
}
