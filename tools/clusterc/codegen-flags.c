/* The driver's code generation glue (see codegen-flags.h; the flags are
 * rows of commands.c). */
#define _POSIX_C_SOURCE 200809L
#include "codegen-flags.h"

#include <errno.h>
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

int cgRun(MlirModule module, const CgFlags *f, Output *out, const char *displayName) {
  Output hout;
  bool hopen = false;
  int rc = -1;
  /* The header text comes from the signatures before lowering; it is
   * written last, once the main output is known to be complete. */
  DriverBuffer header = {0};
  if (f->header) {
    char name[256], err[512];
    DriverText t = {err, sizeof err, 0};
    err[0] = 0;
    modelName(displayName, name, sizeof name);
    if (clustercCodegenHeader(module, name, driverBufferWrite, &header,
                              driverCollectMessage, &t)) {
      fprintf(stderr, "%s: error: %s\n", displayName, err);
      return -1;
    }
    if (header.failed) {
      fprintf(stderr, "%s: error: out of memory\n", displayName);
      free(header.data);
      return -1;
    }
    if (outputOpen(&hout, f->header)) {
      fprintf(stderr, "%s: error: cannot write header: %s\n", f->header,
              strerror(errno));
      free(header.data);
      return -1;
    }
    hopen = true;
  }
  if (clustercCodegenRun(module, &f->o, outputWrite, out, displayName,
                         driverPrintMessage, NULL))
    goto done;
  if (hopen) {
    /* The main output is committed by the driver after this; write it out
     * now so that a full disk fails before the header appears. */
    if (out->failed || fflush(out->f)) {
      fprintf(stderr, "%s: error: cannot write output: %s\n", out->path,
              strerror(errno ? errno : EIO));
      goto done;
    }
    outputWrite(mlirStringRefCreate(header.data ? header.data : "", header.len), &hout);
    hopen = false;
    if (outputCommit(&hout)) {
      fprintf(stderr, "%s: error: cannot write header: %s\n", f->header,
              strerror(errno));
      goto done;
    }
  }
  rc = 0;
done:
  if (hopen)
    outputAbandon(&hout);
  free(header.data);
  return rc;
}
