/* Shared by the ONNX importer and exporter: growable text buffers, error
 * reporting, reading whole files, initializer data. Not installed. */
#ifndef CLUSTERC_ONNX_INTERNAL_H
#define CLUSTERC_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/onnx.h"
#include "onnx.pb-c.h"

/* A growable byte buffer; `failed` is sticky after an allocation failure,
 * so callers append freely and check once. */
typedef struct Buf {
  char *data;
  size_t len, cap;
  bool failed;
} Buf;

void bufAppend(Buf *b, const void *data, size_t n);
void bufPuts(Buf *b, const char *s);
void bufPrintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bufFree(Buf *b);

/* The error sink of one call: the file name prefixes every message. */
typedef struct OnnxErr {
  const char *file;
  char *msg;
  size_t size;
} OnnxErr;

ClustercOnnxStatus onnxFail(OnnxErr *e, ClustercOnnxStatus st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads a whole file into *data (malloc'd). */
ClustercOnnxStatus onnxReadFile(OnnxErr *e, const char *path, uint8_t **data, size_t *size);

/* A parsed model with the file's bytes (raw_data fields point into them). */
typedef struct OnnxModel {
  uint8_t *bytes;
  size_t size;
  Onnx__ModelProto *proto;
  char *dir; /* the model's folder, for external data */
} OnnxModel;

ClustercOnnxStatus onnxModelLoad(OnnxErr *e, const char *path, OnnxModel *m);
void onnxModelFree(OnnxModel *m);

/* Bytes per element of an ONNX data type, 0 if unsupported. */
size_t onnxElementSize(int32_t dtype);
/* The MLIR element type name ("f32", "i64", ...), NULL if unsupported. */
const char *onnxMlirType(int32_t dtype);

/* An initializer's data in little-endian element order. *owned is set when
 * the data was converted or read from an external file (free it). */
ClustercOnnxStatus onnxTensorData(OnnxErr *e, const OnnxModel *m, const Onnx__TensorProto *t,
                                  const char *what, const void **data, size_t *size,
                                  void **owned);

/* Writes data to path through a temporary renamed into place. */
ClustercOnnxStatus onnxWriteFileAtomic(OnnxErr *e, const char *path, const Buf *parts,
                                       size_t numParts);

#endif
