/*
 * Writing clustered weights back to ONNX (see include/clusterc/onnx.h).
 *
 * The model is rewritten at the protobuf wire level rather than unpacked
 * and packed again: every field is copied byte for byte except, in each
 * replaced initializer (a TensorProto under GraphProto.initializer, found by
 * its name), the data fields (float_data, raw_data, external_data,
 * data_location), which give way to one raw_data holding the new values.
 * Only the lengths of the enclosing GraphProto and ModelProto change. So
 * the file keeps its metadata, node order, doc strings and any field this
 * schema does not know.
 *
 * Wire format: a field is a varint key (number << 3 | wire type) then a
 * varint (type 0), 8 bytes (1), a varint length and that many bytes (2), or
 * 4 bytes (5). Groups (3, 4) are not used by onnx.proto and are rejected.
 */
#include "internal.h"
#include "../support/checked.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
  MODEL_GRAPH = 7,
  GRAPH_INITIALIZER = 5,
  TENSOR_FLOAT_DATA = 4,
  TENSOR_NAME = 8,
  TENSOR_RAW_DATA = 9,
  TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14,
};

typedef struct Field {
  uint64_t number;
  int type;
  const uint8_t *start; /* the whole field, key included */
  size_t size;
  const uint8_t *payload; /* type 2: the bytes after the length */
  size_t payloadSize;
} Field;

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end)
      return false;
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80))
      return true;
  }
  return false;
}

/* The next field of [*p, end); false on malformed input. */
static bool nextField(const uint8_t **p, const uint8_t *end, Field *f) {
  f->start = *p;
  uint64_t key, len;
  if (!varint(p, end, &key))
    return false;
  f->number = key >> 3;
  f->type = (int)(key & 7);
  f->payload = NULL;
  f->payloadSize = 0;
  switch (f->type) {
  case 0:
    if (!varint(p, end, &len))
      return false;
    break;
  case 1:
    if ((size_t)(end - *p) < 8)
      return false;
    *p += 8;
    break;
  case 5:
    if ((size_t)(end - *p) < 4)
      return false;
    *p += 4;
    break;
  case 2:
    if (!varint(p, end, &len) || len > (uint64_t)(end - *p))
      return false;
    f->payload = *p;
    f->payloadSize = (size_t)len;
    *p += len;
    break;
  default:
    return false;
  }
  f->size = (size_t)(*p - f->start);
  return true;
}

static void putVarint(Buf *b, uint64_t v) {
  uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    v >>= 7;
  } while (v);
  bufAppend(b, tmp, (size_t)n);
}

static void putLenField(Buf *b, uint64_t number, const void *data, size_t n) {
  putVarint(b, number << 3 | 2);
  putVarint(b, n);
  bufAppend(b, data, n);
}

typedef struct Job {
  const ClustercOnnxWeight *w;
  size_t n;
  bool *done;
  OnnxErr *e;
} Job;

/* The weight replacing the initializer whose TensorProto is [p, p+n). */
static const ClustercOnnxWeight *match(const Job *j, const uint8_t *p, size_t n, size_t *index) {
  const uint8_t *end = p + n;
  Field f;
  while (p < end && nextField(&p, end, &f))
    if (f.number == TENSOR_NAME && f.type == 2)
      for (size_t i = 0; i < j->n; ++i)
        if (strlen(j->w[i].name) == f.payloadSize && !memcmp(j->w[i].name, f.payload, f.payloadSize)) {
          *index = i;
          return &j->w[i];
        }
  return NULL;
}

static bool rewriteTensor(Buf *out, const uint8_t *p, size_t n, const ClustercOnnxWeight *w) {
  const uint8_t *end = p + n;
  Field f;
  while (p < end) {
    if (!nextField(&p, end, &f))
      return false;
    if (f.number == TENSOR_FLOAT_DATA || f.number == TENSOR_RAW_DATA || f.number == TENSOR_EXTERNAL_DATA ||
        f.number == TENSOR_DATA_LOCATION)
      continue;
    bufAppend(out, f.start, f.size);
  }
  /* raw_data is little-endian; so is every host clusterc builds for. */
  putLenField(out, TENSOR_RAW_DATA, w->values, w->numel * sizeof(float));
  return true;
}

/* Copies the fields of a ModelProto (level 0) or GraphProto (level 1),
 * rewriting the graph and, in it, the replaced initializers. */
static bool rewrite(Buf *out, const uint8_t *p, size_t n, const Job *j, int level) {
  const uint8_t *end = p + n;
  Field f;
  while (p < end) {
    if (!nextField(&p, end, &f))
      return false;
    size_t index = 0;
    const ClustercOnnxWeight *w = NULL;
    bool graph = level == 0 && f.number == MODEL_GRAPH && f.type == 2;
    bool tensor = level == 1 && f.number == GRAPH_INITIALIZER && f.type == 2 &&
                  (w = match(j, f.payload, f.payloadSize, &index));
    if (!graph && !tensor) {
      bufAppend(out, f.start, f.size);
      continue;
    }
    Buf sub = {0};
    bool ok = graph ? rewrite(&sub, f.payload, f.payloadSize, j, 1) : rewriteTensor(&sub, f.payload, f.payloadSize, w);
    if (ok)
      putLenField(out, f.number, sub.data, sub.len);
    out->failed |= sub.failed;
    bufFree(&sub);
    if (!ok)
      return false;
    if (tensor)
      j->done[index] = true;
  }
  return true;
}

/* ---- palettes -------------------------------------------------------- */

static void npyHeader(Buf *b, const char *descr, const int64_t *dims, size_t rank) {
  Buf h = {0};
  bufPrintf(&h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (size_t i = 0; i < rank; ++i)
    bufPrintf(&h, "%lld,%s", (long long)dims[i], i + 1 < rank ? " " : "");
  bufPuts(&h, "), }");
  while ((10 + h.len + 1) % 64)
    bufPuts(&h, " ");
  bufPuts(&h, "\n");
  uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(h.len & 0xFF), (uint8_t)(h.len >> 8)};
  bufAppend(b, pre, sizeof pre);
  bufAppend(b, h.data, h.len);
  b->failed |= h.failed;
  bufFree(&h);
}

static void jsonString(Buf *b, const char *s) {
  bufPuts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\')
      bufPrintf(b, "\\%c", *p);
    else if (*p < 32)
      bufPrintf(b, "\\u%04x", *p);
    else
      bufAppend(b, p, 1);
  }
  bufPuts(b, "\"");
}

/* A palette file: to the caller's file function, or written atomically. */
typedef struct FileSink {
  ClustercOnnxFileFn fn;
  void *user;
} FileSink;

static ClustercOnnxStatus emitFile(OnnxErr *e, const FileSink *fs, const char *path, const Buf *b) {
  if (!fs->fn)
    return onnxWriteFileAtomic(e, path, b, 1);
  if (b->failed)
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  if (fs->fn(path, b->data, b->len, fs->user)) {
    const char *file = e->file;
    e->file = path;
    ClustercOnnxStatus st = onnxFail(e, CLUSTERC_ONNX_IO, "cannot write: %s", strerror(errno));
    e->file = file;
    return st;
  }
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus writePalette(OnnxErr *e, const FileSink *fs, const char *dir,
                                       const ClustercOnnxWeight *w, const Onnx__TensorProto *t,
                                       const char *key, Buf *json, bool first) {
  size_t pl = strlen(dir) + strlen(key) + 32;
  char *path = malloc(pl);
  if (!path)
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  uint32_t tables = w->tables ? w->tables : 1;
  int64_t cdims[2] = {tables, w->k};
  Buf b = {0};
  npyHeader(&b, "<f4", tables > 1 ? cdims : cdims + 1, tables > 1 ? 2 : 1);
  bufAppend(&b, w->centroids, (size_t)tables * w->k * sizeof(float));
  snprintf(path, pl, "%s/%s.centroids.npy", dir, key);
  ClustercOnnxStatus st = emitFile(e, fs, path, &b);
  bufFree(&b);
  if (!st) {
    /* The narrowest unsigned type that holds k - 1. */
    const char *descr = w->k <= 256 ? "|u1" : w->k <= 65536 ? "<u2" : "<u4";
    size_t es = w->k <= 256 ? 1 : w->k <= 65536 ? 2 : 4;
    npyHeader(&b, descr, t->dims, t->n_dims);
    for (size_t i = 0; i < w->numel && !b.failed; ++i) {
      uint32_t v = w->indices[i];
      uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
      bufAppend(&b, le, es);
    }
    snprintf(path, pl, "%s/%s.indices.npy", dir, key);
    st = emitFile(e, fs, path, &b);
    bufFree(&b);
  }
  free(path);
  if (st)
    return st;
  bufPuts(json, first ? "\n    " : ",\n    ");
  jsonString(json, w->name);
  bufPrintf(json, ": {\"centroids\": \"%s.centroids.npy\", \"indices\": \"%s.indices.npy\", \"k\": %u, "
                  "\"tables\": %u, ", key, key, w->k, tables);
  if (tables > 1)
    bufPrintf(json, "\"axis\": %d, ", w->axis);
  bufPuts(json, "\"shape\": [");
  for (size_t i = 0; i < t->n_dims; ++i)
    bufPrintf(json, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
  bufPuts(json, "]}");
  return CLUSTERC_ONNX_OK;
}

/* ---- the entry point ------------------------------------------------- */

static const Onnx__TensorProto *findInit(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; ++i)
    if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name))
      return g->initializer[i];
  return NULL;
}

static ClustercOnnxStatus checkWeights(OnnxErr *e, const Onnx__GraphProto *g, const ClustercOnnxWeight *w,
                                       size_t n, bool palettes) {
  for (size_t i = 0; i < n; ++i) {
    const Onnx__TensorProto *t = w[i].name ? findInit(g, w[i].name) : NULL;
    if (!t)
      return onnxFail(e, CLUSTERC_ONNX_INVALID, "no initializer named '%s'", w[i].name ? w[i].name : "");
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
      return onnxFail(e, CLUSTERC_ONNX_UNSUPPORTED, "initializer '%s' is not FLOAT", w[i].name);
    uint64_t numel = 1;
    for (size_t k = 0; k < t->n_dims; ++k)
      if (!clustercMulCount(&numel, t->dims[k]))
        return onnxFail(e, CLUSTERC_ONNX_INVALID, "initializer '%s' has invalid dimensions",
                        w[i].name);
    if (numel != w[i].numel || !w[i].values)
      return onnxFail(e, CLUSTERC_ONNX_INVALID, "initializer '%s' has %zu elements, %zu values given",
                      w[i].name, (size_t)numel, w[i].numel);
    for (size_t k = 0; k < i; ++k)
      if (!strcmp(w[k].name, w[i].name))
        return onnxFail(e, CLUSTERC_ONNX_INVALID, "initializer '%s' given twice", w[i].name);
    if (!palettes)
      continue;
    if (!w[i].centroids || !w[i].indices || !w[i].k)
      return onnxFail(e, CLUSTERC_ONNX_INVALID, "'%s': no centroids or indices", w[i].name);
    for (size_t k = 0; k < numel; ++k)
      if (w[i].indices[k] >= w[i].k)
        return onnxFail(e, CLUSTERC_ONNX_INVALID, "'%s': index %u at %zu is not below K = %u", w[i].name,
                        w[i].indices[k], k, w[i].k);
  }
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus clustercOnnxExportTo(const char *srcPath, const char *modelName,
                                        const ClustercOnnxWeight *weights, size_t numWeights,
                                        const char *paletteDir, MlirStringCallback write,
                                        void *userData, char *err, size_t errSize) {
  return clustercOnnxExportFiles(srcPath, modelName, weights, numWeights, paletteDir, NULL, write,
                                 userData, err, errSize);
}

ClustercOnnxStatus clustercOnnxExportFiles(const char *srcPath, const char *modelName,
                                           const ClustercOnnxWeight *weights, size_t numWeights,
                                           const char *paletteDir, ClustercOnnxFileFn file,
                                           MlirStringCallback write, void *userData, char *err,
                                           size_t errSize) {
  OnnxErr e = {srcPath, err, errSize};
  FileSink fs = {file, userData};
  if (err && errSize)
    err[0] = 0;
  OnnxModel m;
  ClustercOnnxStatus st = onnxModelLoad(&e, srcPath, &m);
  if (st)
    return st;
  bool *done = calloc(numWeights ? numWeights : 1, sizeof *done);
  Buf out = {0}, json = {0};
  char **keys = calloc(numWeights ? numWeights : 1, sizeof *keys);
  if (!done || !keys) {
    st = onnxFail(&e, CLUSTERC_ONNX_NOMEM, "out of memory");
    goto end;
  }
  if ((st = checkWeights(&e, m.proto->graph, weights, numWeights, paletteDir != NULL)))
    goto end;
  Job j = {weights, numWeights, done, &e};
  if (!rewrite(&out, m.bytes, m.size, &j, 0)) {
    st = onnxFail(&e, CLUSTERC_ONNX_INVALID, "malformed protobuf");
    goto end;
  }
  for (size_t i = 0; i < numWeights; ++i)
    if (!done[i]) {
      st = onnxFail(&e, CLUSTERC_ONNX_INVALID, "initializer '%s' not found in the main graph", weights[i].name);
      goto end;
    }
  if (out.failed) {
    st = onnxFail(&e, CLUSTERC_ONNX_NOMEM, "out of memory");
    goto end;
  }
  if (paletteDir) {
    e.file = paletteDir;
    if (!file && mkdir(paletteDir, 0777) && errno != EEXIST) {
      st = onnxFail(&e, CLUSTERC_ONNX_IO, "cannot create the folder: %s", strerror(errno));
      goto end;
    }
    const char *base = strrchr(modelName, '/');
    bufPuts(&json, "{\n  \"model\": ");
    jsonString(&json, base ? base + 1 : modelName);
    bufPuts(&json, ",\n  \"weights\": {");
    for (size_t i = 0; i < numWeights; ++i) {
      /* Keys as the importer makes them, made unique. */
      char base[256], key[300];
      clustercOnnxResourceKey(weights[i].name, base, sizeof base);
      snprintf(key, sizeof key, "%s", base);
      for (int n = 1;; ++n) {
        bool clash = false;
        for (size_t k = 0; k < i && !clash; ++k)
          clash = !strcmp(keys[k], key);
        if (!clash)
          break;
        snprintf(key, sizeof key, "%s_%d", base, n);
      }
      if (!(keys[i] = strdup(key))) {
        st = onnxFail(&e, CLUSTERC_ONNX_NOMEM, "out of memory");
        goto end;
      }
      if ((st = writePalette(&e, &fs, paletteDir, &weights[i], findInit(m.proto->graph, weights[i].name), key, &json,
                             i == 0)))
        goto end;
    }
    bufPuts(&json, numWeights ? "\n  }\n}\n" : "}\n}\n");
    size_t pl = strlen(paletteDir) + 16;
    char *path = malloc(pl);
    if (!path) {
      st = onnxFail(&e, CLUSTERC_ONNX_NOMEM, "out of memory");
      goto end;
    }
    snprintf(path, pl, "%s/palettes.json", paletteDir);
    st = emitFile(&e, &fs, path, &json);
    free(path);
    if (st)
      goto end;
  }
  write((MlirStringRef){out.data, out.len}, userData);
end:
  for (size_t i = 0; keys && i < numWeights; ++i)
    free(keys[i]);
  free(keys);
  free(done);
  bufFree(&out);
  bufFree(&json);
  onnxModelFree(&m);
  return st;
}

/* The file variant: the bytes collected, then written atomically. */
static void collect(MlirStringRef s, void *user) { bufAppend(user, s.data, s.length); }

ClustercOnnxStatus clustercOnnxExport(const char *srcPath, const char *dstPath, const ClustercOnnxWeight *weights,
                                      size_t numWeights, const char *paletteDir, char *err, size_t errSize) {
  Buf out = {0};
  ClustercOnnxStatus st = clustercOnnxExportTo(srcPath, dstPath, weights, numWeights, paletteDir, collect, &out,
                                               err, errSize);
  if (!st) {
    OnnxErr e = {dstPath, err, errSize};
    st = out.failed ? onnxFail(&e, CLUSTERC_ONNX_NOMEM, "out of memory") : onnxWriteFileAtomic(&e, dstPath, &out, 1);
  }
  bufFree(&out);
  return st;
}
