/*
 * Reading IDX and .npy files (see clusterc/train.h); folders of PNG images
 * are data-png.c's.
 *
 * IDX: a big-endian header, magic 0x0000TTDD (TT the element type, 0x08 =
 * u8, 0x0B = i16, 0x0C = i32, 0x0D = f32, 0x0E = f64; DD the number of
 * dimensions), DD big-endian u32 sizes, then the data, big-endian.
 * .npy: "\x93NUMPY", version, header length, a Python dict literal with
 * 'descr', 'fortran_order' and 'shape', then the data.
 * Both are read through gzread, which reads plain files unchanged.
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

int dataFail(const DataMsg *m, const char *path, const char *fmt, ...) {
  if (!m->fn)
    return -1;
  char text[8192];
  int at = snprintf(text, sizeof text, "%s: error: ", path);
  if (at < 0 || (size_t)at >= sizeof text - 2)
    at = 0;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text + at, sizeof text - 1 - (size_t)at, fmt, ap);
  va_end(ap);
  size_t len = (size_t)at + (n < 0 ? 0 : (size_t)n);
  if (len > sizeof text - 2)
    len = sizeof text - 2;
  text[len++] = '\n';
  m->fn(CLUSTERC_MESSAGE_ERROR, mlirStringRefCreate(text, len), m->user);
  return -1;
}

/* An array as read: elements of one type, any rank. */
typedef enum Elem { E_U8, E_I16, E_I32, E_I64, E_F32, E_F64 } Elem;
typedef struct Array {
  Elem elem;
  int rank;
  int64_t shape[8];
  size_t count;
  void *data;
} Array;

static size_t elemSize(Elem e) {
  static const size_t s[] = {1, 2, 4, 8, 4, 8};
  return s[e];
}

/* Reads exactly n bytes; 0, or -1 with a diagnostic. */
static int readAll(gzFile f, const DataMsg *m, const char *path, void *buf, size_t n, const char *what) {
  size_t got = 0;
  while (got < n) {
    unsigned chunk = n - got > (1u << 30) ? (1u << 30) : (unsigned)(n - got);
    int r = gzread(f, (char *)buf + got, chunk);
    if (r < 0) {
      int zerr;
      const char *msg = gzerror(f, &zerr);
      return dataFail(m, path, "cannot read %s: %s", what, zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (r == 0)
      return dataFail(m, path, "truncated file: %s needs %zu bytes, the file has %zu", what, n, got);
    got += (size_t)r;
  }
  return 0;
}

/* Reads exactly n bytes into a new buffer that grows as the data arrives,
 * so that a short file whose header claims a huge array fails as
 * truncated instead of first allocating the claim (found by
 * fuzz/fuzz-data.c: 30 bytes asked for 3.6 GB). NULL after a diagnostic. */
static void *readData(gzFile f, const DataMsg *m, const char *path, size_t n, const char *what) {
  size_t cap = n < ((size_t)1 << 24) ? n : (size_t)1 << 24, got = 0;
  char *buf = malloc(cap ? cap : 1);
  if (!buf) {
    dataFail(m, path, "out of memory (%zu bytes)", cap);
    return NULL;
  }
  while (got < n) {
    if (got == cap) {
      size_t grown = cap > n / 2 ? n : 2 * cap;
      char *g = realloc(buf, grown);
      if (!g) {
        free(buf);
        dataFail(m, path, "out of memory (%zu bytes)", grown);
        return NULL;
      }
      buf = g;
      cap = grown;
    }
    size_t want = cap - got;
    int r = gzread(f, buf + got, want > (1u << 30) ? (1u << 30) : (unsigned)want);
    if (r <= 0) {
      int zerr = Z_OK;
      const char *msg = r < 0 ? gzerror(f, &zerr) : NULL;
      if (r < 0)
        dataFail(m, path, "cannot read %s: %s", what, zerr == Z_ERRNO ? strerror(errno) : msg);
      else
        dataFail(m, path, "truncated file: %s needs %zu bytes, the file has %zu", what, n, got);
      free(buf);
      return NULL;
    }
    got += (size_t)r;
  }
  return buf;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void swapBytes(void *data, size_t count, size_t size) {
  unsigned char *p = data;
  for (size_t i = 0; i < count; ++i, p += size)
    for (size_t a = 0, b = size - 1; a < b; ++a, --b) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static bool sizeOk(Array *a, const DataMsg *m, const char *path) {
  a->count = 1;
  for (int i = 0; i < a->rank; ++i) {
    if (a->shape[i] < 0 || (a->shape[i] && a->count > SIZE_MAX / 16 / (size_t)a->shape[i])) {
      dataFail(m, path, "array dimensions too large");
      return false;
    }
    a->count *= (size_t)a->shape[i];
  }
  return true;
}

static int readIdx(gzFile f, const DataMsg *m, const char *path, const unsigned char *head, Array *a) {
  static const struct { unsigned code; Elem e; } types[] = {
      {0x08, E_U8}, {0x0B, E_I16}, {0x0C, E_I32}, {0x0D, E_F32}, {0x0E, E_F64}};
  unsigned code = head[2], dims = head[3];
  size_t t = 0;
  while (t < 5 && types[t].code != code)
    ++t;
  if (t == 5)
    return dataFail(m, path, "IDX element type 0x%02X is not supported (u8, i16, i32, f32, f64)", code);
  if (dims < 1 || dims > 8)
    return dataFail(m, path, "IDX file with %u dimensions (1 to 8 supported)", dims);
  a->elem = types[t].e;
  a->rank = (int)dims;
  unsigned char sz[32];
  if (readAll(f, m, path, sz, 4 * dims, "the IDX header"))
    return -1;
  for (unsigned i = 0; i < dims; ++i)
    a->shape[i] = be32(sz + 4 * i);
  if (!sizeOk(a, m, path))
    return -1;
  size_t bytes = a->count * elemSize(a->elem);
  if (!(a->data = readData(f, m, path, bytes, "the IDX data")))
    return -1;
  swapBytes(a->data, a->count, elemSize(a->elem)); /* big-endian on disk */
  char extra;
  if (gzread(f, &extra, 1) > 0)
    return dataFail(m, path, "%zu bytes of IDX data expected; the file has more", bytes);
  return 0;
}

/* The value of 'key' in a .npy header dict, or NULL. */
static const char *npyField(const char *hdr, const char *key) {
  const char *p = strstr(hdr, key);
  if (!p)
    return NULL;
  p = strchr(p + strlen(key), ':');
  if (!p)
    return NULL;
  ++p;
  while (*p == ' ')
    ++p;
  return p;
}

static int readNpy(gzFile f, const DataMsg *m, const char *path, const unsigned char *head, Array *a) {
  unsigned char rest[6];
  if (readAll(f, m, path, rest, 6, "the .npy header")) /* "PY", major, minor, len */
    return -1;
  if (memcmp(rest, "PY", 2))
    return dataFail(m, path, "not a .npy file (bad magic)");
  unsigned major = rest[2];
  size_t hlen = rest[4] | (size_t)rest[5] << 8;
  if (major >= 2) {
    unsigned char more[2];
    if (readAll(f, m, path, more, 2, "the .npy header"))
      return -1;
    hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
  }
  if (hlen > 1 << 20)
    return dataFail(m, path, ".npy header too long (%zu bytes)", hlen);
  char *hdr = malloc(hlen + 1);
  if (!hdr)
    return dataFail(m, path, "out of memory");
  if (readAll(f, m, path, hdr, hlen, "the .npy header")) {
    free(hdr);
    return -1;
  }
  hdr[hlen] = 0;
  (void)head;
  int rc = -1;
  const char *descr = npyField(hdr, "'descr'"), *fo = npyField(hdr, "'fortran_order'");
  const char *shape = npyField(hdr, "'shape'");
  static const struct { const char *d; Elem e; } types[] = {
      {"'|u1'", E_U8}, {"'<u1'", E_U8}, {"'<i2'", E_I16}, {"'<i4'", E_I32},
      {"'<i8'", E_I64}, {"'<f4'", E_F32}, {"'<f8'", E_F64}};
  size_t t = 0;
  while (descr && t < sizeof types / sizeof types[0] && strncmp(descr, types[t].d, strlen(types[t].d)))
    ++t;
  if (!descr || !shape || !fo)
    dataFail(m, path, "malformed .npy header: %s", hdr);
  else if (t == sizeof types / sizeof types[0])
    dataFail(m, path, ".npy dtype %.6s is not supported (u1, i2, i4, i8, f4, f8, little-endian)", descr);
  else if (!strncmp(fo, "True", 4))
    dataFail(m, path, ".npy array in Fortran order is not supported");
  else if (*shape != '(')
    dataFail(m, path, "malformed .npy shape");
  else {
    a->elem = types[t].e;
    a->rank = 0;
    const char *p = shape + 1;
    bool ok = true;
    while (ok && *p && *p != ')') {
      while (*p == ' ' || *p == ',')
        ++p;
      if (*p == ')')
        break;
      char *end;
      long long v = strtoll(p, &end, 10);
      if (end == p || v < 0 || a->rank == 8)
        ok = false;
      else
        a->shape[a->rank++] = v;
      p = end;
    }
    if (!ok || a->rank == 0)
      dataFail(m, path, "malformed or unsupported .npy shape");
    else if (sizeOk(a, m, path)) {
      size_t bytes = a->count * elemSize(a->elem);
      if ((a->data = readData(f, m, path, bytes, "the .npy data"))) {
        char extra;
        if (gzread(f, &extra, 1) > 0)
          dataFail(m, path, "%zu bytes of .npy data expected; the file has more", bytes);
        else
          rc = 0;
      }
    }
  }
  free(hdr);
  return rc;
}

static int readArray(const DataMsg *m, const char *path, Array *a) {
  memset(a, 0, sizeof *a);
  gzFile f = gzopen(path, "rb");
  if (!f)
    return dataFail(m, path, "cannot open: %s", strerror(errno ? errno : ENOMEM));
  gzbuffer(f, 1 << 17);
  unsigned char head[4];
  int rc;
  if (readAll(f, m, path, head, 4, "the header"))
    rc = -1;
  else if (head[0] == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M')
    rc = readNpy(f, m, path, head, a);
  else if (head[0] == 0 && head[1] == 0)
    rc = readIdx(f, m, path, head, a);
  else
    rc = dataFail(m, path, "not an IDX or .npy file (gzip or plain)");
  gzclose(f);
  if (rc) {
    free(a->data);
    a->data = NULL;
  }
  return rc;
}

static double valueAt(const Array *a, size_t i) {
  switch (a->elem) {
  case E_U8: return ((const uint8_t *)a->data)[i];
  case E_I16: return ((const int16_t *)a->data)[i];
  case E_I32: return ((const int32_t *)a->data)[i];
  case E_I64: return (double)((const int64_t *)a->data)[i];
  case E_F32: return ((const float *)a->data)[i];
  default: return ((const double *)a->data)[i];
  }
}

static int load(ClustercDataset *d, const char *images, const char *labels, const DataMsg *m) {
  Array im, lb = {0};
  if (readArray(m, images, &im))
    return -1;
  if (im.rank < 2 || im.rank > 5) {
    free(im.data);
    return dataFail(m, images, "samples must have rank 2 to 5 ([N, ...]); this array has rank %d",
                im.rank);
  }
  if (im.shape[0] == 0) {
    /* Nothing to train or evaluate on; its sample shape could not be
     * checked against the model either (fuzz-data: [0, 524544, 513]
     * loaded as a data set of 1-value samples). */
    free(im.data);
    return dataFail(m, images, "the data set has no samples (its first dimension is 0)");
  }
  d->n = (size_t)im.shape[0];
  d->rank = im.rank - 1;
  d->sampleSize = im.count / d->n;
  for (int i = 0; i < d->rank; ++i)
    d->shape[i] = im.shape[i + 1];
  if (im.elem == E_F32) {
    d->x = im.data; /* as is */
    im.data = NULL;
  } else if (im.elem == E_U8) {
    d->u8 = im.data; /* converted per sample (clustercDatasetSample) */
    im.data = NULL;
  } else {
    d->x = malloc(sizeof *d->x * (im.count ? im.count : 1));
    if (!d->x) {
      free(im.data);
      return dataFail(m, images, "out of memory");
    }
    for (size_t i = 0; i < im.count; ++i)
      d->x[i] = (float)valueAt(&im, i);
  }
  free(im.data);
  if (!labels)
    return 0;
  if (readArray(m, labels, &lb)) {
    clustercDatasetFree(d);
    return -1;
  }
  int rc = 0;
  bool isFloat = lb.elem == E_F32 || lb.elem == E_F64;
  if ((size_t)lb.shape[0] != d->n)
    rc = dataFail(m, labels, "%lld labels for %zu samples in %s", (long long)lb.shape[0], d->n, images);
  else if (isFloat && lb.count == 0)
    rc = dataFail(m, labels, "float labels with no values per sample");
  else if (isFloat) { /* regression targets, [N, ...] */
    d->targetSize = lb.count / d->n;
    if (!(d->targets = malloc(sizeof *d->targets * (lb.count ? lb.count : 1))))
      rc = dataFail(m, labels, "out of memory");
    for (size_t i = 0; !rc && i < lb.count; ++i)
      d->targets[i] = (float)valueAt(&lb, i);
  } else if (lb.rank != 1)
    rc = dataFail(m, labels, "class labels (integers) must have rank 1; this array has rank %d "
              "(float labels are regression targets)", lb.rank);
  else if (!(d->y = malloc(sizeof *d->y * (d->n ? d->n : 1))))
    rc = dataFail(m, labels, "out of memory");
  else
    for (size_t i = 0; i < d->n; ++i) {
      double v = valueAt(&lb, i);
      if (v < 0 || v > 1e9) {
        rc = dataFail(m, labels, "label %zu is %.0f; class indices are 0 or more", i, v);
        break;
      }
      d->y[i] = (int32_t)v;
    }
  free(lb.data);
  if (rc)
    clustercDatasetFree(d);
  return rc;
}

static bool isDirectory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

ClustercStatus clustercDatasetLoad(ClustercDataset *d, const char *images, const char *labels,
                                   ClustercMessageFn onMessage, void *userData) {
  memset(d, 0, sizeof *d);
  const DataMsg m = {onMessage, userData};
  if (isDirectory(images)) {
    if (labels) {
      dataFail(&m, labels, "labels for a folder of images come from its class folders; "
           "give no labels file");
      return CLUSTERC_ERROR;
    }
    if (dataLoadPngFolder(d, images, &m)) {
      clustercDatasetFree(d);
      return CLUSTERC_ERROR;
    }
    labels = images;
  } else if (load(d, images, labels, &m))
    return CLUSTERC_ERROR;
  d->labelsName = labels;
  d->name = images;
  return CLUSTERC_OK;
}

ClustercStatus clustercDatasetAddInput(ClustercDataset *d, const char *images,
                                       ClustercMessageFn onMessage, void *userData) {
  const DataMsg m = {onMessage, userData};
  ClustercDataset *more = calloc(1, sizeof *more);
  if (!more) {
    dataFail(&m, images, "out of memory");
    return CLUSTERC_ERROR;
  }
  if (load(more, images, NULL, &m)) {
    free(more);
    return CLUSTERC_ERROR;
  }
  more->name = images;
  if (more->n != d->n) {
    dataFail(&m, images, "%zu samples; the model's first input has %zu (%s)", more->n, d->n,
         d->name ? d->name : "");
    clustercDatasetFree(more);
    free(more);
    return CLUSTERC_ERROR;
  }
  ClustercDataset *last = d;
  while (last->next)
    last = last->next;
  last->next = more;
  return CLUSTERC_OK;
}

void clustercDatasetSample(const ClustercDataset *d, size_t i, float *out) {
  size_t ss = d->sampleSize;
  if (d->x) {
    memcpy(out, d->x + i * ss, ss * sizeof *out);
    return;
  }
  const uint8_t *p = d->u8 + i * ss;
  for (size_t k = 0; k < ss; ++k)
    out[k] = (float)((double)p[k] * (1.0 / 255.0)); /* as a double, rounded once */
}

/* *p shrunk to `bytes` (kept as it is when realloc fails: only smaller). */
static void shrink(void *p, size_t bytes) {
  void **pp = p;
  void *q = *pp ? realloc(*pp, bytes ? bytes : 1) : NULL;
  if (q)
    *pp = q;
}

void clustercDatasetTruncate(ClustercDataset *d, size_t n) {
  for (; d; d = d->next) {
    if (n >= d->n)
      continue;
    d->n = n;
    shrink(&d->x, n * d->sampleSize * sizeof *d->x);
    shrink(&d->u8, n * d->sampleSize);
    shrink(&d->y, n * sizeof *d->y);
    shrink(&d->targets, n * d->targetSize * sizeof *d->targets);
  }
}

void clustercDatasetFree(ClustercDataset *d) {
  if (d->next) {
    clustercDatasetFree(d->next);
    free(d->next);
  }
  free(d->x);
  free(d->u8);
  free(d->y);
  free(d->targets);
  memset(d, 0, sizeof *d);
}
