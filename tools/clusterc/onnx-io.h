/*
 * ONNX in the driver (onnx-io.c): an .onnx input for every command, the
 * `clusterc import` command, and `--export-onnx`. Without libclusterc-onnx
 * in the build each of these fails with a message saying so.
 */
#ifndef CLUSTERC_ONNX_IO_H
#define CLUSTERC_ONNX_IO_H

#include <stdbool.h>

#include "clusterc/passes.h"
#include "driver.h"
#include "mlir-c/IR.h"
#include "output.h"

/* By name (.onnx) or by content (a ModelProto's first byte). */
bool onnxIsInput(const char *path);
/* Imports the model and parses the MLIR; prints a diagnostic and returns
 * a null module on failure. */
MlirModule onnxLoadModule(MlirContext ctx, const char *path);

/* The clustered weights of a run, for --export-onnx: onnxExportCollect is
 * the pass's report callback; it forwards every row to next(nextUser). */
typedef struct OnnxExport OnnxExport;
OnnxExport *onnxExportCreate(ClustercReportFn next, void *nextUser);
void onnxExportCollect(const ClustercLayerReport *row, void *user);
/* Writes srcPath with the collected weights replaced into out (and the
 * palettes into paletteDir when not NULL, as outputs of the run's
 * transaction); -1 after a message. */
int onnxExportWrite(OnnxExport *x, const char *srcPath, const char *dstPath,
                    const char *paletteDir, Output *out);
/* committed: whether the run's outputs were committed; if not, a palettes
 * folder onnxExportWrite created is removed (the transaction has removed
 * the files in it). */
void onnxExportFree(OnnxExport *x, bool committed);

#endif
