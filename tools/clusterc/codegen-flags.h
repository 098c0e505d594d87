/*
 * The driver's code generation options and the glue between
 * libclusterc-codegen (clusterc/codegen.h) and its output files. The flags
 * that fill CgFlags (--emit, --target, --mcpu, --mattr, -O0..-O3,
 * --pipeline, --print-pipeline, --emit-header) are rows of commands.c.
 */
#ifndef CLUSTERC_CODEGEN_FLAGS_H
#define CLUSTERC_CODEGEN_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "clusterc/codegen.h"
#include "output.h"

typedef struct CgFlags {
  ClustercCodegenOptions o;
  const char *header; /* --emit-header=FILE, or NULL */
  bool printPipeline;
} CgFlags;

void cgFlagsInit(CgFlags *f);

/* Checks the target when the flags need one; 0, or -1 with a message in err. */
int cgCheckFlags(const CgFlags *f, char *err, size_t errSize);

/* Writes the output of kind f->o.emit to out and, when hout is not NULL,
 * the header to hout (both committed by the caller). Returns 0, or -1
 * after messages on stderr. */
int cgRun(MlirModule module, const CgFlags *f, Output *out, Output *hout,
          const char *displayName);

#endif
