/*
 * What the MLIR fuzz targets share: a fresh context per input (every
 * dialect registered, loaded when the parser or a pass asks; diagnostics
 * counted, printed only with FUZZ_VERBOSE=1), parsing from the fuzzer's
 * bytes, running one pass, and the checks on the result.
 */
#ifndef CLUSTERC_FUZZ_MLIR_H
#define CLUSTERC_FUZZ_MLIR_H

#include <stddef.h>

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

typedef struct FzMlir {
  MlirContext ctx;
  int errors; /* error diagnostics so far */
} FzMlir;

/* Once, from LLVMFuzzerInitialize. */
void fzMlirInit(void);
void fzMlirOpen(FzMlir *m);
void fzMlirClose(FzMlir *m);
/* Parses len bytes (copied and NUL-terminated); null module on error. */
MlirModule fzParse(FzMlir *m, const char *text, size_t len, const char *name);
/* Runs `pass` (owned) on the module without the pass manager's verifier.
 * A failure must come with an error diagnostic; a success must leave a
 * module that verifies, prints, and parses again (traps otherwise).
 * Returns 1 on success. */
int fzRunPassAndCheck(FzMlir *m, MlirModule module, MlirPass pass, const char *what);

#endif
