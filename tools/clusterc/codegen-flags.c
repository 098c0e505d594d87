/* The driver's code generation glue (see codegen-flags.h; the flags are
 * rows of commands.c). */
#define _POSIX_C_SOURCE 200809L
#include "codegen-flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

void cgFlagsInit(CgFlags *f) {
  memset(f, 0, sizeof *f);
  clustercCodegenOptionsInit(&f->o);
}

int cgCheckFlags(const CgFlags *f, char *err, size_t errSize) {
  if (!clustercCodegenNeedsTarget(&f->o))
    return 0;
  DriverText t = {err, errSize, 0};
  err[0] = 0;
  return clustercCodegenCheckTarget(&f->o, driverCollectMessage, &t) ? -1 : 0;
}

/* The model's name for the header: the input's base name without suffix. */
static void modelName(const char *displayName, char *buf, size_t size) {
  const char *base = strrchr(displayName, '/');
  base = base ? base + 1 : displayName;
  snprintf(buf, size, "%s", base);
  char *dot = strchr(buf, '.');
  if (dot && dot != buf)
    *dot = 0;
}

int cgRun(MlirModule module, const CgFlags *f, Output *out, Output *hout,
          const char *displayName) {
  /* The header text comes from the signatures before lowering. */
  DriverBuffer header = {0};
  int rc = -1;
  if (hout) {
    char name[256], err[512];
    DriverText t = {err, sizeof err, 0};
    err[0] = 0;
    modelName(displayName, name, sizeof name);
    if (clustercCodegenHeader(module, name, driverBufferWrite, &header,
                              driverCollectMessage, &t)) {
      fprintf(stderr, "%s: error: %s\n", displayName, err);
      goto done;
    }
    if (header.failed) {
      fprintf(stderr, "%s: error: out of memory\n", displayName);
      goto done;
    }
  }
  if (clustercCodegenRun(module, &f->o, outputWrite, out, displayName,
                         driverPrintMessage, NULL))
    goto done;
  if (hout)
    outputWriteBytes(hout, header.data ? header.data : "", header.len);
  rc = 0;
done:
  free(header.data);
  return rc;
}
