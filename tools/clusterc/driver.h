/*
 * What every clusterc command shares: an MLIR context with all dialects
 * and MLIR-style diagnostics on stderr (`file:line:col: error: ...`), and
 * reading a model from a file or stdin.
 */
#ifndef CLUSTERC_DRIVER_H
#define CLUSTERC_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "mlir-c/IR.h"

enum { EXIT_BAD_INPUT = 1, EXIT_USAGE = 2 };

typedef struct DiagState {
  const char *filename; /* shown for locations without a file */
  int errors;           /* errors reported so far */
} DiagState;

/* A context with every dialect loaded and diagnostics printed on stderr,
 * counted in *ds (which must outlive the context). */
MlirContext driverCreateContext(DiagState *ds);

/* The whole of a file ('-' is stdin), NUL-terminated; NULL with errno set
 * on failure. */
char *driverReadAll(const char *path, size_t *len);

/* Reads and parses a model. On failure prints a diagnostic and returns a
 * null module. */
MlirModule driverLoadModule(MlirContext ctx, const char *path, DiagState *ds);

/* "<stdin>" for "-", else path. */
const char *driverDisplayName(const char *path);

/* Prints a module with its locations (`loc(...)`), so that layer names
 * (NameLocs) survive a round trip through the file: a model clustered or
 * trained by clusterc keeps the names its selectors and reports use. */
void driverPrintModule(MlirModule module, MlirStringCallback write, void *user);

/* splitmix64: the training tools' small deterministic generator. */
static inline uint64_t driverRandom(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Appends "opt" to the space-separated option text *text (pass-pipeline
 * option syntax); -1 when out of memory. */
int driverAppendOption(char **text, const char *opt);

#endif
