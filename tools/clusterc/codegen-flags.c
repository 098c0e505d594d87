/* The driver's code generation flags (see codegen-flags.h). */
#define _POSIX_C_SOURCE 200809L
#include "codegen-flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

const char cgUsage[] =
    "Code generation:\n"
    "  --emit=KIND             mlir (default), llvm-dialect, llvm (IR text), bc,\n"
    "                          asm or obj\n"
    "  --target=TRIPLE         x86_64-linux-gnu or aarch64-linux-gnu (default: host)\n"
    "  --mcpu=CPU              target CPU (default generic; 'native': this host's)\n"
    "  --mattr=+F,-G           target features\n"
    "  -O0 .. -O3              LLVM optimisation level (default -O2)\n"
    "  --pipeline='TEXT'       replace the lowering pipeline (pass-pipeline syntax)\n"
    "  --print-pipeline        print the lowering pipeline and exit\n"
    "  --emit-header=FILE      write a C header declaring the entry points\n";

void cgFlagsInit(CgFlags *f) {
  memset(f, 0, sizeof *f);
  clustercCodegenOptionsInit(&f->o);
}

static const char *const emitNames[] = {"mlir", "llvm-dialect", "llvm",
                                        "bc",   "asm",          "obj"};

static bool prefixed(const char *arg, const char *prefix, const char **value) {
  size_t n = strlen(prefix);
  if (strncmp(arg, prefix, n))
    return false;
  *value = arg + n;
  return true;
}

int cgParseArg(CgFlags *f, const char *arg, char *err, size_t errSize) {
  ClustercCodegenOptions *o = &f->o;
  const char *v;
  if (prefixed(arg, "--emit=", &v)) {
    for (size_t i = 0; i < sizeof emitNames / sizeof emitNames[0]; ++i)
      if (!strcmp(v, emitNames[i])) {
        o->emit = (ClustercEmit)i;
        return 1;
      }
    return 0; /* other --emit values belong to the driver */
  }
  const struct {
    const char *prefix;
    const char **slot;
  } valued[] = {{"--target=", &o->triple},   {"--mcpu=", &o->cpu},
                {"--mattr=", &o->features},  {"--pipeline=", &o->pipeline},
                {"--emit-header=", &f->header}};
  for (size_t i = 0; i < sizeof valued / sizeof valued[0]; ++i)
    if (prefixed(arg, valued[i].prefix, &v)) {
      if (!*v) {
        snprintf(err, errSize, "option '%s' needs a value", arg);
        return -1;
      }
      *valued[i].slot = v;
      return 1;
    }
  if (!strcmp(arg, "--print-pipeline")) {
    f->printPipeline = true;
    return 1;
  }
  if (arg[0] == '-' && arg[1] == 'O' && arg[2]) {
    if (arg[2] < '0' || arg[2] > '3' || arg[3]) {
      snprintf(err, errSize, "bad optimisation level '%s' (expected -O0..-O3)", arg);
      return -1;
    }
    o->optLevel = arg[2] - '0';
    return 1;
  }
  return 0;
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
