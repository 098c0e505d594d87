/*
 * Reading ONNX files: the ModelProto through protobuf-c, initializer data in
 * its three encodings (raw_data, the typed repeated fields, an external
 * file), and the small utilities the importer and exporter share.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bufAppend(Buf *b, const void *data, size_t n) {
  if (b->failed || !n)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
      b->failed = true;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = 0;
}

void bufPuts(Buf *b, const char *s) { bufAppend(b, s, strlen(s)); }

void bufPrintf(Buf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    bufAppend(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  bufAppend(b, big, (size_t)n);
  free(big);
}

void bufFree(Buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

ClustercOnnxStatus onnxFail(OnnxErr *e, ClustercOnnxStatus st, const char *fmt, ...) {
  if (!e->msg || !e->size)
    return st;
  int n = snprintf(e->msg, e->size, "%s: error: ", e->file);
  if (n >= 0 && (size_t)n < e->size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, e->size - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return st;
}

ClustercOnnxStatus onnxReadFile(OnnxErr *e, const char *path, uint8_t **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return onnxFail(e, CLUSTERC_ONNX_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
    fclose(f);
    return onnxFail(e, CLUSTERC_ONNX_IO, "'%s' is not a regular file", path);
  }
  size_t n = (size_t)st.st_size;
  uint8_t *p = malloc(n ? n : 1);
  if (!p) {
    fclose(f);
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory reading '%s'", path);
  }
  if (fread(p, 1, n, f) != n) {
    free(p);
    fclose(f);
    return onnxFail(e, CLUSTERC_ONNX_IO, "cannot read '%s'", path);
  }
  fclose(f);
  *data = p;
  *size = n;
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus onnxModelLoad(OnnxErr *e, const char *path, OnnxModel *m) {
  memset(m, 0, sizeof *m);
  ClustercOnnxStatus st = onnxReadFile(e, path, &m->bytes, &m->size);
  if (st)
    return st;
  m->proto = onnx__model_proto__unpack(NULL, m->size, m->bytes);
  if (!m->proto || !m->proto->graph) {
    onnxModelFree(m);
    return onnxFail(e, CLUSTERC_ONNX_INVALID,
                    "not a valid ONNX model (the protobuf is truncated or malformed)");
  }
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
  m->dir = malloc(dl + 1);
  if (!m->dir) {
    onnxModelFree(m);
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  memcpy(m->dir, path, dl);
  m->dir[dl] = 0;
  return CLUSTERC_ONNX_OK;
}

void onnxModelFree(OnnxModel *m) {
  if (m->proto)
    onnx__model_proto__free_unpacked(m->proto, NULL);
  free(m->bytes);
  free(m->dir);
  memset(m, 0, sizeof *m);
}

size_t onnxElementSize(int32_t dtype) {
  switch (dtype) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    return 4;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    return 8;
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
    return 2;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    return 1;
  default:
    return 0;
  }
}

const char *onnxMlirType(int32_t dtype) {
  switch (dtype) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    return "f32";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    return "i32";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    return "i64";
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    return "f64";
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    return "f16";
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16:
    return "bf16";
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    return "i1";
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    return "i8";
  default:
    return NULL;
  }
}

static const char *externalField(const Onnx__TensorProto *t, const char *key) {
  for (size_t i = 0; i < t->n_external_data; ++i)
    if (t->external_data[i]->key && !strcmp(t->external_data[i]->key, key))
      return t->external_data[i]->value;
  return NULL;
}

/* External data: a file next to the model, at an offset, of a length. */
static ClustercOnnxStatus externalData(OnnxErr *e, const OnnxModel *m, const Onnx__TensorProto *t,
                                       const char *what, size_t want, const void **data,
                                       void **owned) {
  const char *loc = externalField(t, "location");
  const char *off = externalField(t, "offset");
  const char *len = externalField(t, "length");
  if (!loc || !*loc || loc[0] == '/' || strstr(loc, ".."))
    return onnxFail(e, CLUSTERC_ONNX_INVALID, "%s: external data without a valid location", what);
  size_t pl = strlen(m->dir) + strlen(loc) + 1;
  char *path = malloc(pl);
  if (!path)
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  snprintf(path, pl, "%s%s", m->dir, loc);
  FILE *f = fopen(path, "rb");
  if (!f) {
    onnxFail(e, CLUSTERC_ONNX_IO, "%s: external data file '%s' is missing: %s", what, path,
             strerror(errno));
    free(path);
    return CLUSTERC_ONNX_IO;
  }
  long long o = off ? atoll(off) : 0;
  long long l = len ? atoll(len) : (long long)want;
  uint8_t *p = malloc(want ? want : 1);
  ClustercOnnxStatus st = CLUSTERC_ONNX_OK;
  if (!p)
    st = onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  else if (o < 0 || l != (long long)want || fseeko(f, (off_t)o, SEEK_SET) ||
           fread(p, 1, want, f) != want)
    st = onnxFail(e, CLUSTERC_ONNX_INVALID,
                  "%s: external data file '%s' is too short or its length is not %zu bytes", what,
                  path, want);
  fclose(f);
  free(path);
  if (st) {
    free(p);
    return st;
  }
  *data = p;
  *owned = p;
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus onnxTensorData(OnnxErr *e, const OnnxModel *m, const Onnx__TensorProto *t,
                                  const char *what, const void **data, size_t *size,
                                  void **owned) {
  *data = NULL;
  *owned = NULL;
  size_t es = onnxElementSize(t->data_type);
  if (!es)
    return onnxFail(e, CLUSTERC_ONNX_UNSUPPORTED, "%s: unsupported data type %d", what,
                    (int)t->data_type);
  size_t n = 1;
  for (size_t i = 0; i < t->n_dims; ++i) {
    if (t->dims[i] < 0 || (t->dims[i] && n > SIZE_MAX / 16 / (size_t)t->dims[i]))
      return onnxFail(e, CLUSTERC_ONNX_INVALID, "%s: invalid dimensions", what);
    n *= (size_t)t->dims[i];
  }
  size_t bytes = n * es;
  *size = bytes;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return externalData(e, m, t, what, bytes, data, owned);
  if (t->has_raw_data) {
    if (t->raw_data.len != bytes)
      return onnxFail(e, CLUSTERC_ONNX_INVALID, "%s: raw_data holds %zu bytes, its shape needs %zu",
                      what, t->raw_data.len, bytes);
    *data = t->raw_data.data;
    return CLUSTERC_ONNX_OK;
  }
  /* The typed fields: float_data for FLOAT, int64_data for INT64,
   * int32_data for the narrower integers and the 16-bit floats' bits,
   * double_data for DOUBLE. */
  uint8_t *p = malloc(bytes ? bytes : 1);
  if (!p)
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  size_t have;
  switch (t->data_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    have = t->n_float_data;
    if (have == n)
      memcpy(p, t->float_data, bytes);
    break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    have = t->n_int64_data;
    if (have == n)
      memcpy(p, t->int64_data, bytes);
    break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    have = t->n_double_data;
    if (have == n)
      memcpy(p, t->double_data, bytes);
    break;
  default:
    have = t->n_int32_data;
    if (have == n)
      for (size_t i = 0; i < n; ++i) {
        int32_t v = t->int32_data[i];
        if (es == 4)
          memcpy(p + 4 * i, &v, 4);
        else if (es == 2) {
          uint16_t h = (uint16_t)v;
          memcpy(p + 2 * i, &h, 2);
        } else
          p[i] = (uint8_t)v;
      }
    break;
  }
  if (have != n) {
    free(p);
    return onnxFail(e, CLUSTERC_ONNX_INVALID, "%s: holds %zu values, its shape needs %zu", what,
                    have, n);
  }
  *data = p;
  *owned = p;
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus onnxWriteFileAtomic(OnnxErr *e, const char *path, const Buf *parts,
                                       size_t numParts) {
  size_t pl = strlen(path) + 16;
  char *tmp = malloc(pl);
  if (!tmp)
    return onnxFail(e, CLUSTERC_ONNX_NOMEM, "out of memory");
  snprintf(tmp, pl, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    onnxFail(e, CLUSTERC_ONNX_IO, "cannot create '%s': %s", tmp, strerror(errno));
    free(tmp);
    return CLUSTERC_ONNX_IO;
  }
  FILE *f = fdopen(fd, "wb");
  bool bad = !f;
  if (!f)
    close(fd);
  for (size_t i = 0; f && i < numParts && !bad; ++i)
    bad = parts[i].failed || fwrite(parts[i].data, 1, parts[i].len, f) != parts[i].len;
  int err = errno;
  if (f && fclose(f))
    bad = true, err = errno;
  if (!bad) {
    mode_t mask = umask(0);
    umask(mask);
    chmod(tmp, 0666 & ~mask);
    if (rename(tmp, path))
      bad = true, err = errno;
  }
  if (bad) {
    unlink(tmp);
    onnxFail(e, CLUSTERC_ONNX_IO, "cannot write '%s': %s", path, strerror(err ? err : EIO));
  }
  free(tmp);
  return bad ? CLUSTERC_ONNX_IO : CLUSTERC_ONNX_OK;
}

int clustercOnnxIsModelFile(const char *path) {
  size_t n = strlen(path);
  if (n > 5 && !strcmp(path + n - 5, ".onnx"))
    return 1;
  if (!strcmp(path, "-"))
    return 0; /* stdin cannot be peeked at and read again */
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  int c = fgetc(f);
  fclose(f);
  return c == 0x08;
}
