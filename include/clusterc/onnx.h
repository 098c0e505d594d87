/*
 * ONNX in and out of clusterc (libclusterc-onnx).
 *
 * Import: an ONNX ModelProto becomes MLIR text in the linalg-on-tensors
 * form (func, arith, math, tensor, linalg), one `func.func @forward` whose
 * arguments and results are the graph's inputs and outputs. Initializers
 * become `arith.constant dense_resource<key>` with the key derived from the
 * initializer's name and a NameLoc `loc("<initializer name>")`; every op
 * carries `loc("<node name>")`. Fully-connected layers (Gemm with
 * transB=1) take their [OUT, IN] weight through a transposing
 * linalg.generic into linalg.matmul, as torch-mlir emits them.
 *
 *   ClustercOnnxOptions o;
 *   clustercOnnxOptionsInit(&o);
 *   char err[1024];
 *   if (clustercOnnxImport("model.onnx", &o, write, file, err, sizeof err))
 *     fprintf(stderr, "%s\n", err);
 *
 * The text reaches the callback only once the whole model has been
 * translated: on an error the callback is never called, so a caller that
 * writes to a temporary file never sees a partial model.
 *
 * Export: the original ONNX file with chosen float initializers replaced
 * (the clustered values c[idx]); everything else is copied byte for byte.
 * Palettes: per weight `<key>.centroids.npy` and `<key>.indices.npy` in a
 * folder, and `palettes.json` mapping each initializer name to its files,
 * K and shape. Every file is written to a temporary and renamed into place.
 *
 * Functions return a ClustercOnnxStatus (0 = ok) and, on failure, a
 * diagnostic in err ("model.onnx: error: node '/fc/Gemm' (Foo): ...",
 * truncated to errSize); they never print, exit or abort.
 */
#ifndef CLUSTERC_ONNX_H
#define CLUSTERC_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "mlir-c/Support.h" /* MlirStringCallback, MlirStringRef */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ClustercOnnxStatus {
  CLUSTERC_ONNX_OK = 0,
  CLUSTERC_ONNX_IO,          /* a file could not be read or written */
  CLUSTERC_ONNX_INVALID,     /* not a valid ModelProto, or an inconsistent graph */
  CLUSTERC_ONNX_UNSUPPORTED, /* an op, attribute, type or opset clusterc does not translate */
  CLUSTERC_ONNX_DYNAMIC,     /* a dimension that is not static */
  CLUSTERC_ONNX_NOMEM,
} ClustercOnnxStatus;

/* The newest (and oldest) default-domain opset the importer accepts. */
#define CLUSTERC_ONNX_MAX_OPSET 17
#define CLUSTERC_ONNX_MIN_OPSET 11

typedef struct ClustercOnnxOptions {
  /* Name of the emitted function (default "forward"). */
  const char *funcName;
  /* How a Gemm's transB=1 weight is transposed: 0 = a permutation
   * linalg.generic (torch-mlir's form, the default), 1 = linalg.transpose. */
  int namedTranspose;
} ClustercOnnxOptions;

void clustercOnnxOptionsInit(ClustercOnnxOptions *options);

/* Translates the ONNX file at path and hands the MLIR text to out (in
 * pieces, in order). External data files are looked up next to path. */
ClustercOnnxStatus clustercOnnxImport(const char *path, const ClustercOnnxOptions *options,
                                      MlirStringCallback out, void *userData, char *err,
                                      size_t errSize);

/* The resource key the importer derives from an initializer name: valid
 * as a dense_resource key ([A-Za-z_][A-Za-z0-9_.$]*, other characters
 * become '_'); names already valid are kept as they are. Writes it to key
 * (NUL-terminated, truncated to keySize). Where two names map to one key,
 * the importer and the palette files add "_1", "_2", ... in order. */
void clustercOnnxResourceKey(const char *initializerName, char *key, size_t keySize);

/* One clustered weight. values (numel floats, the decoded c[idx]) replace
 * the initializer's data; centroids (tables x k floats) and indices (numel
 * entries < k) go to the palette folder when one is given (centroids and
 * indices may be NULL when it is not). tables > 1 means one table per
 * slice along axis (per-channel clustering). */
typedef struct ClustercOnnxWeight {
  const char *name; /* the ONNX initializer name */
  const float *values;
  size_t numel;
  const float *centroids;
  uint32_t k;
  uint32_t tables;
  int axis;
  const uint32_t *indices;
} ClustercOnnxWeight;

/* Writes dstPath: srcPath with the given initializers replaced (FLOAT
 * initializers only; external data is inlined). With paletteDir non-NULL,
 * also writes the .npy files and palettes.json into it (created if
 * missing). Nothing is written unless every weight names an initializer of
 * the right size. */
ClustercOnnxStatus clustercOnnxExport(const char *srcPath, const char *dstPath,
                                      const ClustercOnnxWeight *weights, size_t numWeights,
                                      const char *paletteDir, char *err, size_t errSize);

/* clustercOnnxExport with the model's bytes handed to write (once, whole,
 * after the palettes are written) instead of a file: for callers that
 * commit several outputs together. modelName is what palettes.json calls
 * the model (its base name is used). */
ClustercOnnxStatus clustercOnnxExportTo(const char *srcPath, const char *modelName,
                                        const ClustercOnnxWeight *weights, size_t numWeights,
                                        const char *paletteDir, MlirStringCallback write,
                                        void *userData, char *err, size_t errSize);

/* Receives one file of the palettes folder (its path inside paletteDir and
 * its whole contents); returns 0, or non-zero (errno set) to fail the
 * export. */
typedef int (*ClustercOnnxFileFn)(const char *path, const void *data, size_t size,
                                  void *userData);

/* clustercOnnxExportTo with the palette files handed to file (each once,
 * whole, before the model's bytes go to write) instead of written: the
 * folder is not created either (the caller's job), so that a caller that
 * commits all its outputs together can make the palettes part of that.
 * Both functions get userData. file == NULL is clustercOnnxExportTo. */
ClustercOnnxStatus clustercOnnxExportFiles(const char *srcPath, const char *modelName,
                                           const ClustercOnnxWeight *weights, size_t numWeights,
                                           const char *paletteDir, ClustercOnnxFileFn file,
                                           MlirStringCallback write, void *userData, char *err,
                                           size_t errSize);

/* True when the file at path looks like an ONNX model: its name ends in
 * ".onnx", or its first byte is a ModelProto's first field (ir_version,
 * varint field 1: 0x08), which no MLIR text or bytecode starts with. */
int clustercOnnxIsModelFile(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_ONNX_H */
