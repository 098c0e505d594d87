/*
 * Output files that appear whole or not at all: data goes to a temporary
 * file in the target's directory, renamed over the target on commit. An
 * error, an abandon or a signal (SIGINT/SIGTERM, via
 * outputAbandonFromSignal) removes the temporary file. A target that
 * exists and is not a regular file (/dev/null, a FIFO) is written
 * directly; a directory is refused.
 */
#ifndef CLUSTERC_OUTPUT_H
#define CLUSTERC_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "mlir-c/Support.h"

typedef struct Output {
  FILE *f;
  const char *path; /* target; "-" = stdout */
  int slot;         /* index in the pending-temporaries table, or -1 */
  bool direct;      /* an existing non-regular file, written in place */
  bool failed;
} Output;

/* Returns 0, or -1 with errno set. */
int outputOpen(Output *o, const char *path);
/* An MlirStringCallback: userData is the Output. */
void outputWrite(MlirStringRef s, void *userData);
/* Flushes and renames into place; on failure removes the temporary and
 * returns -1 with errno set. */
int outputCommit(Output *o);
void outputAbandon(Output *o);
/* Async-signal-safe: unlinks every pending temporary. */
void outputAbandonFromSignal(void);

#endif
