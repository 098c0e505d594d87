/*
 * What every clusterc command shares: an MLIR context with all dialects
 * and MLIR-style diagnostics on stderr (`file:line:col: error: ...`), and
 * reading a model from a file or stdin.
 */
#ifndef CLUSTERC_DRIVER_H
#define CLUSTERC_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/status.h"
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

/* Reads and parses a model: MLIR text or bytecode, or an ONNX model
 * (onnx-io.h), imported first. On failure prints a diagnostic and returns
 * a null module. */
MlirModule driverLoadModule(MlirContext ctx, const char *path, DiagState *ds);

/* "<stdin>" for "-", else path. */
const char *driverDisplayName(const char *path);

/* Prints a module with its locations (`loc(...)`), so that layer names
 * (NameLocs) survive a round trip through the file: a model clustered or
 * trained by clusterc keeps the names its selectors and reports use. */
void driverPrintModule(MlirModule module, MlirStringCallback write, void *user);

/* The ClustercMessageFn of the commands: RESULT on stdout, LOG into the
 * FILE * userData (dropped when NULL), the rest on stderr. */
void driverPrintMessage(ClustercMessageKind kind, MlirStringRef text, void *userData);

/* A ClustercMessageFn keeping the text of the messages (truncated to the
 * buffer, NUL-terminated) for a driver message of its own. */
typedef struct DriverText {
  char *buf;
  size_t size, len;
} DriverText;
void driverCollectMessage(ClustercMessageKind kind, MlirStringRef text, void *userData);

/* An MlirStringCallback appending to a growable buffer. */
typedef struct DriverBuffer {
  char *data;
  size_t len, cap;
  bool failed;
} DriverBuffer;
void driverBufferWrite(MlirStringRef s, void *userData);

/* Appends "opt" to the space-separated option text *text (pass-pipeline
 * option syntax); -1 when out of memory. */
int driverAppendOption(char **text, const char *opt);

/* dir/base.gz when it is readable, else dir/base (in buf). */
const char *driverDataPath(const char *dir, const char *base, char *buf, size_t size);
bool driverIsDirectory(const char *path);

/* Loads a data set: `images` is one path per model input, comma-separated
 * (split in place: the data set borrows the names). 0, or -1 after a
 * message. */
struct ClustercDataset;
int driverLoadData(struct ClustercDataset *d, char *images, const char *labels);

#endif
