/*
 * The driver's code generation flags and the glue between libclusterc-codegen
 * (clusterc/codegen.h) and its output files: --emit=, --target=, --mcpu=,
 * --mattr=, -O0..-O3, --pipeline=, --print-pipeline, --emit-header=.
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

/* Driver usage lines for the flags above. */
extern const char cgUsage[];

void cgFlagsInit(CgFlags *f);
/* Consumes one command-line argument. Returns 1 when consumed, 0 when not
 * a codegen flag, -1 on a bad value (message in err). */
int cgParseArg(CgFlags *f, const char *arg, char *err, size_t errSize);

/* Checks the target when the flags need one; 0, or -1 with a message in err. */
int cgCheckFlags(const CgFlags *f, char *err, size_t errSize);

/* Writes the header (if asked for) and the output of kind f->o.emit to out.
 * Returns 0, or -1 after messages on stderr. */
int cgRun(MlirModule module, const CgFlags *f, Output *out, const char *displayName);

#endif
