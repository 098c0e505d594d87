/*
 * --cluster-weights: replace each selected weight constant W by a centroid
 * table c, an index buffer idx and a decode that rebuilds W' = c[idx].
 *
 *   %w = tosa.const {value = dense<...> : tensor<16x3x3x8xf32>}
 * becomes
 *   %c   = tosa.const {value = dense<[...]> : tensor<16xf32>}
 *   %idx = tosa.const {value = dense<...> : tensor<576xi8>}   // 4-bit packed
 *   %e   = tensor.empty() : tensor<16x3x3x8xf32>
 *   %w   = linalg.generic {...} outs(%e) {  // idx -> shift/mask -> extract c
 * With decode=runtime the linalg.generic is a func.call to libclusterrt's
 * vectorized decode instead (f32 weights with one table; see below). With
 * decode=fused the matrix products that read the weight become calls of
 * libclusterrt's LUT kernels on the packed indices (fuse-lut.c); only the
 * uses it cannot fuse keep a decode.
 *
 * Which constants: weights of compute ops (see weights.c), float (f32, f16,
 * bf16), at least min-elements, selected by `only` and not skipped by
 * `layers`. Splats are left alone (one value already; clustering would grow
 * them). Biases, integer and quantized tensors are reported and left alone.
 *
 * Invariants:
 *  - The decoded tensor is exactly c[idx], where idx = argmin_k |w - c_k|
 *    (ties to the lowest k) over the table as stored in the weight's type:
 *    f16/bf16 centroids are rounded first, then the weights are assigned.
 *  - The table is sorted and distinct, so K >= the number of distinct
 *    values is lossless.
 *  - Output depends only on the input and the options (seed): each weight
 *    gets its own seed, derived from `seed` and its walk-order index.
 *  - Indices use the narrowest width that holds K (or `bits`): any width
 *    but 8 and 16 is packed densely into i8 bytes (one little-endian bit
 *    stream, see clusterc/runtime.h: K = 8 takes 3 bits, K = 64 6 bits),
 *    8 and 16 are i8 or i16 in the weight's shape (read unsigned).
 */
#include "clusterc/passes.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capi-ext.h"
#include "fuse-lut.h"
#include "ir.h"
#include "palette.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/Tensor.h"
#include "weights.h"

/* A user table (table=FILE.npy): tables rows of k finite centroids. */
typedef struct UserTable {
  float *c;
  size_t tables, k;
} UserTable;

typedef struct CwPass {
  ClustercClusterWeightsOptions o;
  const UserTable *ut; /* during a run, when table= is set */
} CwPass;

/* ---- Clustering ----------------------------------------------------------- */

/* Rounds sorted centroids to the storage type and drops the duplicates that
 * rounding makes; returns the new count. */
static size_t roundTable(float *c, size_t k, ElemKind e) {
  if (e == ELEM_F32)
    return k;
  size_t m = 0;
  for (size_t i = 0; i < k; ++i) {
    float r = e == ELEM_F16 ? weightsHalfToFloat(weightsFloatToHalf(c[i]))
                            : weightsBF16ToFloat(weightsFloatToBF16(c[i]));
    if (m == 0 || r != c[m - 1])
      c[m++] = r;
  }
  return m;
}

static int cmpFloat(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Sorts c[0..k) and drops duplicates (-0 counts as +0); returns the count. */
static size_t sortDistinct(float *c, size_t k) {
  for (size_t i = 0; i < k; ++i)
    c[i] = c[i] == 0.0f ? 0.0f : c[i];
  qsort(c, k, sizeof *c, cmpFloat);
  size_t m = 0;
  for (size_t i = 0; i < k; ++i)
    if (m == 0 || c[i] != c[m - 1])
      c[m++] = c[i];
  return m;
}

typedef struct Clustered {
  float *table;      /* tables * k floats */
  float *chanTable;  /* grouped: channels * k floats (each channel's group
                      * table, for libclusterrt's per-channel calls); NULL
                      * otherwise */
  size_t k, tables, group;
  size_t outer, chans, inner; /* per-channel layout */
  clusterrt_index_format fmt;
  void *idx;
  size_t idxBytes;
  /* Why clustering failed beyond the status: palette=unique found
   * `distinct` values (> k), or the user table has rows that fit no
   * table count (`tables` needed). */
  size_t distinct, needTables;
  Palette *pal;      /* an extended palette (palette.h), owned; then table
                      * and chanTable are NULL and idx is in index space */
} Clustered;

static void clusteredFree(Clustered *cl) {
  free(cl->table);
  free(cl->chanTable);
  free(cl->idx);
  if (cl->pal)
    paletteFree(cl->pal);
  free(cl->pal);
}

clusterrt_cluster_options weightsClusterOptions(const ClustercClusterWeightsOptions *o,
                                                size_t kReq, uint64_t seed) {
  clusterrt_cluster_options co = {.k = kReq, .init = o->init, .seed = seed,
                                  .preserve_sparsity = o->preserve_sparsity};
  if (o->palette == CLUSTERC_PALETTE_UNIFORM) {
    co.init = CLUSTERRT_INIT_LINEAR;
    co.init_only = 1;
  } else if (o->lloyd_iterations == 0) {
    co.init_only = 1;
  } else if (o->lloyd_iterations > 0) {
    co.max_iter = (unsigned)o->lloyd_iterations;
  }
  return co;
}

/* One table from the m values at src into tab (room for kReq, or the user
 * table's k), its size in *kt. With sensitivities wt (NULL: none) the
 * weighted exact k-means makes it (a slice whose sensitivities are all
 * zero is clustered unweighted). */
static clusterrt_status makeTable(const float *src, const float *wt, size_t m,
                                  unsigned kReq,
                                  const ClustercClusterWeightsOptions *o,
                                  const float *user, size_t userK,
                                  uint64_t seed, float *tab, size_t *kt,
                                  size_t *distinct) {
  bool anyWeight = false;
  for (size_t i = 0; wt && i < m && !anyWeight; ++i)
    anyWeight = wt[i] > 0;
  if (anyWeight && !user && o->palette == CLUSTERC_PALETTE_KMEANS)
    return clusterrt_kmeans1d_weighted_f32(src, wt, m, kReq, tab, kt);
  if (user) {
    memcpy(tab, user, userK * sizeof *tab);
    *kt = sortDistinct(tab, userK);
    return CLUSTERRT_OK;
  }
  if (o->palette == CLUSTERC_PALETTE_UNIQUE) {
    float *v = malloc(sizeof(float) * (m ? m : 1));
    if (!v)
      return CLUSTERRT_ERR_NOMEM;
    memcpy(v, src, m * sizeof *v);
    size_t d = sortDistinct(v, m);
    free(v);
    if (d > kReq) {
      *distinct = d;
      return CLUSTERRT_ERR_K;
    }
  }
  clusterrt_cluster_options co = weightsClusterOptions(o, kReq, seed);
  return clusterrt_cluster_f32(src, m, &co, tab, kt, CLUSTERRT_IDX_U16, NULL);
}

/* Copies channels [c0, c1) of every outer slice of src (outer x chans x
 * inner) to dst; returns the count copied. */
static size_t gatherChannels(const float *src, size_t outer, size_t chans, size_t inner,
                             size_t c0, size_t c1, float *dst) {
  size_t run = (c1 - c0) * inner;
  for (size_t a = 0; a < outer; ++a)
    memcpy(dst + a * run, src + (a * chans + c0) * inner, run * sizeof(float));
  return outer * run;
}

/* makeTable for the extended palettes' scalar tables. */
typedef struct TableUser {
  const ClustercClusterWeightsOptions *o;
  const UserTable *ut;
  unsigned kReq;
  size_t *distinct;
} TableUser;

static clusterrt_status paletteTable(void *user, const float *src, size_t m,
                                     size_t t, uint64_t seed, float *tab,
                                     size_t *kt) {
  const TableUser *tu = user;
  const UserTable *ut = tu->ut;
  const float *u = ut ? ut->c + (ut->tables > 1 ? t : 0) * ut->k : NULL;
  return makeTable(src, NULL, m, tu->kReq, tu->o, u, ut ? ut->k : 0, seed, tab, kt,
                   tu->distinct);
}

/* The extended palette of w into cl (lay: its layout), indices packed in
 * index-space order. */
static clusterrt_status clusterPalette(const float *w, const ConstInfo *ci,
                                       const Palette *lay, unsigned kReq,
                                       const ClustercClusterWeightsOptions *o,
                                       const UserTable *ut, uint64_t seed,
                                       Clustered *cl) {
  TableUser tu = {o, ut, kReq, &cl->distinct};
  if (!(cl->pal = malloc(sizeof *cl->pal)))
    return CLUSTERRT_ERR_NOMEM;
  *cl->pal = *lay;
  Palette *p = cl->pal;
  clusterrt_status st = paletteCluster(p, w, ci, kReq, ut ? ut->k : kReq, o, seed,
                                       paletteTable, &tu);
  if (st != CLUSTERRT_OK)
    return st;
  cl->k = p->k;
  cl->tables = p->tables;
  cl->group = p->group;
  cl->fmt = o->bits ? (clusterrt_index_format)o->bits : clusterrt_dense_format(p->k);
  cl->idxBytes = clusterrt_index_bytes(cl->fmt, p->nIdx);
  /* Packed by assigning the indices (as floats, exact) to the table
   * 0, 1, ..., k - 1. */
  float *fi = malloc(sizeof(float) * (p->nIdx ? p->nIdx : 1));
  float *ramp = malloc(sizeof(float) * p->k);
  cl->idx = calloc(cl->idxBytes ? cl->idxBytes : 1, 1);
  st = CLUSTERRT_ERR_NOMEM;
  if (fi && ramp && cl->idx) {
    for (size_t i = 0; i < p->nIdx; ++i)
      fi[i] = (float)p->idx[i];
    for (size_t j = 0; j < p->k; ++j)
      ramp[j] = (float)j;
    st = clusterrt_assign_f32(fi, p->nIdx, ramp, p->k, cl->fmt, cl->idx);
  }
  free(fi);
  free(ramp);
  return st;
}

/* Clusters w (n values) with kReq clusters, per tensor (axis < 0) or one
 * table per group of `group` consecutive slices along axis (group 1: per
 * channel); sens (NULL: none): the elements' sensitivities. */
static clusterrt_status clusterWeights(const float *w, const float *sens, const ConstInfo *ci,
                                       int axis, size_t group, unsigned kReq,
                                       const ClustercClusterWeightsOptions *o,
                                       const UserTable *ut, const Palette *lay,
                                       uint64_t seed, Clustered *cl) {
  memset(cl, 0, sizeof *cl);
  size_t n = ci->elements, chans = 1, outer = 1, inner = n;
  if (axis >= 0) {
    chans = (size_t)ci->shape[axis];
    outer = 1;
    for (int i = 0; i < axis; ++i)
      outer *= (size_t)ci->shape[i];
    inner = n / (outer * chans);
  } else {
    group = 1;
  }
  if (group > chans)
    group = chans ? chans : 1;
  size_t T = (chans + group - 1) / group;
  if (ut && ut->tables != 1 && ut->tables != T) {
    cl->needTables = T;
    return CLUSTERRT_ERR_ARG;
  }
  if (lay) {
    clusterrt_status pst = clusterPalette(w, ci, lay, kReq, o, ut, seed, cl);
    if (pst != CLUSTERRT_OK) {
      size_t distinct = cl->distinct;
      clusteredFree(cl);
      memset(cl, 0, sizeof *cl);
      cl->distinct = distinct;
    }
    return pst;
  }
  size_t kRoom = ut ? ut->k : kReq;
  float *tab = malloc(sizeof(float) * T * kRoom);
  size_t *ks = malloc(sizeof(size_t) * T);
  size_t sliceSize = n / T + inner * outer * group + 1;
  float *slice = axis >= 0 ? malloc(sizeof(float) * sliceSize) : NULL;
  float *sensSlice = axis >= 0 && sens ? malloc(sizeof(float) * sliceSize) : NULL;
  clusterrt_status st = CLUSTERRT_ERR_NOMEM;
  if (!tab || !ks || (axis >= 0 && !slice) || (axis >= 0 && sens && !sensSlice))
    goto done;
  size_t kMax = 1;
  for (size_t t = 0; t < T; ++t) {
    const float *src = w, *wt = sens;
    size_t m = n;
    if (axis >= 0) { /* channels [c0, c1) of every outer slice */
      size_t c0 = t * group, c1 = c0 + group < chans ? c0 + group : chans;
      m = gatherChannels(w, outer, chans, inner, c0, c1, slice);
      src = slice;
      if (sens) {
        gatherChannels(sens, outer, chans, inner, c0, c1, sensSlice);
        wt = sensSlice;
      }
    }
    const float *user = ut ? ut->c + (ut->tables > 1 ? t : 0) * ut->k : NULL;
    st = makeTable(src, wt, m, kReq, o, user, ut ? ut->k : 0,
                   weightsSplitMix64(seed ^ (uint64_t)t), tab + t * kRoom, &ks[t],
                   &cl->distinct);
    if (st != CLUSTERRT_OK)
      goto done;
    ks[t] = roundTable(tab + t * kRoom, ks[t], ci->elem);
    if (ks[t] > kMax)
      kMax = ks[t];
  }
  /* One table per group, each padded to kMax by repeating its last entry:
   * ties go to the lowest index, so padding is never chosen. */
  cl->table = malloc(sizeof(float) * T * kMax);
  if (!cl->table) {
    st = CLUSTERRT_ERR_NOMEM;
    goto done;
  }
  for (size_t t = 0; t < T; ++t)
    for (size_t j = 0; j < kMax; ++j)
      cl->table[t * kMax + j] = tab[t * kRoom + (j < ks[t] ? j : ks[t] - 1)];
  if (group > 1) {
    if (!(cl->chanTable = malloc(sizeof(float) * chans * kMax))) {
      st = CLUSTERRT_ERR_NOMEM;
      goto done;
    }
    for (size_t ch = 0; ch < chans; ++ch)
      memcpy(cl->chanTable + ch * kMax, cl->table + ch / group * kMax,
             kMax * sizeof(float));
  }
  cl->k = kMax;
  cl->tables = T;
  cl->group = group;
  cl->outer = outer;
  cl->chans = chans;
  cl->inner = inner;
  cl->fmt = o->bits ? (clusterrt_index_format)o->bits : clusterrt_dense_format(kMax);
  cl->idxBytes = clusterrt_index_bytes(cl->fmt, n);
  cl->idx = calloc(cl->idxBytes ? cl->idxBytes : 1, 1);
  if (!cl->idx) {
    st = CLUSTERRT_ERR_NOMEM;
    goto done;
  }
  st = axis >= 0 ? clusterrt_assign_per_channel_f32(
                       w, outer, chans, inner,
                       cl->chanTable ? cl->chanTable : cl->table, kMax, cl->fmt,
                       cl->idx)
                 : clusterrt_assign_f32(w, n, cl->table, kMax, cl->fmt, cl->idx);
done:
  free(tab);
  free(ks);
  free(slice);
  free(sensSlice);
  if (st != CLUSTERRT_OK) {
    size_t distinct = cl->distinct, need = cl->needTables;
    clusteredFree(cl);
    memset(cl, 0, sizeof *cl);
    cl->distinct = distinct;
    cl->needTables = need;
  }
  return st;
}

int weightsGroupAxis(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                     size_t *group) {
  *group = o->group_size ? o->group_size : 1;
  if (!o->per_channel && !o->group_size)
    return -1;
  return o->channel_axis >= 0 ? o->channel_axis : ci->channelAxis >= 0 ? ci->channelAxis : 0;
}

clusterrt_status weightsClusterTables(const float *w, const ConstInfo *ci, int axis,
                                      size_t group, unsigned kReq,
                                      const ClustercClusterWeightsOptions *o,
                                      uint64_t seed, WeightsTables *out) {
  Clustered cl;
  memset(out, 0, sizeof *out);
  clusterrt_status st = clusterWeights(w, NULL, ci, axis, group, kReq, o, NULL, NULL, seed, &cl);
  if (st != CLUSTERRT_OK)
    return st;
  *out = (WeightsTables){.table = cl.table, .k = cl.k, .tables = cl.tables,
                         .outer = cl.outer, .chans = cl.chans, .inner = cl.inner,
                         .group = cl.group};
  cl.table = NULL;
  clusteredFree(&cl);
  return CLUSTERRT_OK;
}

/* ---- table=FILE.npy ----------------------------------------------------------
 * A NumPy array, C order, little-endian f4, f8 or f2, of shape (K,) or
 * (T, K), every value finite, 1 <= K <= 65536. */

/* The text after `key` in the header dict (past the colon and blanks). */
static const char *npyValue(const char *hdr, const char *key) {
  const char *at = strstr(hdr, key);
  if (!at)
    return NULL;
  at += strlen(key);
  while (*at == ' ' || *at == ':')
    ++at;
  return at;
}

/* Loads path into *ut; on failure a message in why (a static string or
 * buf). */
static bool loadUserTable(const char *path, UserTable *ut, char *buf, size_t bsz,
                          const char **why) {
  memset(ut, 0, sizeof *ut);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(buf, bsz, "cannot open: %s", strerror(errno));
    *why = buf;
    return false;
  }
  unsigned char *data = NULL;
  size_t size = 0, cap = 0;
  for (;;) {
    if (size == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *grown = realloc(data, cap + 1);
      if (!grown) {
        free(data);
        fclose(f);
        *why = "out of memory";
        return false;
      }
      data = grown;
    }
    size_t got = fread(data + size, 1, cap - size, f);
    size += got;
    if (got == 0)
      break;
  }
  fclose(f);
  bool ok = false;
  *why = "not a .npy file (bad magic)";
  size_t hlen = 0, off = 0;
  if (size >= 10 && !memcmp(data, "\x93NUMPY", 6)) {
    if (data[6] == 1) {
      hlen = (size_t)data[8] | (size_t)data[9] << 8;
      off = 10;
    } else if (size >= 12) {
      hlen = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 |
             (size_t)data[11] << 24;
      off = 12;
    }
    *why = "truncated .npy header";
  }
  if (off && hlen <= size - off) {
    char *hdr = strndup((const char *)data + off, hlen);
    const char *descr = hdr ? npyValue(hdr, "'descr'") : NULL;
    const char *fo = hdr ? npyValue(hdr, "'fortran_order'") : NULL;
    const char *shape = hdr ? npyValue(hdr, "'shape'") : NULL;
    size_t eb = 0;
    long long d0 = -1, d1 = -1;
    if (descr && !strncmp(descr, "'<f4'", 5))
      eb = 4;
    else if (descr && !strncmp(descr, "'<f8'", 5))
      eb = 8;
    else if (descr && !strncmp(descr, "'<f2'", 5))
      eb = 2;
    int dims = shape ? sscanf(shape, "(%lld, %lld)", &d0, &d1) : 0;
    if (dims == 1 && shape && !strchr(shape, ','))
      dims = 0; /* "(K)" is not a tuple */
    if (!hdr)
      *why = "out of memory";
    else if (!eb)
      *why = "the dtype must be little-endian f4, f8 or f2";
    else if (!fo || strncmp(fo, "False", 5))
      *why = "the array must be in C order";
    else if (dims < 1 || d0 < 1 || (dims == 2 && d1 < 1))
      *why = "the shape must be (K,) or (T, K)";
    else {
      ut->tables = dims == 2 ? (size_t)d0 : 1;
      ut->k = dims == 2 ? (size_t)d1 : (size_t)d0;
      size_t count = ut->tables * ut->k, at = off + hlen;
      if (ut->k > CLUSTERRT_MAX_K)
        *why = "more than 65536 centroids per table";
      else if (ut->tables > (size - at) / ut->k || count * eb != size - at)
        *why = "the data does not match the shape";
      else if (!(ut->c = malloc(sizeof(float) * count)))
        *why = "out of memory";
      else {
        ok = true;
        for (size_t i = 0; i < count; ++i) {
          const unsigned char *e = data + at + i * eb;
          if (eb == 4) {
            memcpy(&ut->c[i], e, 4);
          } else if (eb == 8) {
            double d;
            memcpy(&d, e, 8);
            ut->c[i] = (float)d;
          } else {
            ut->c[i] = weightsHalfToFloat((uint16_t)(e[0] | e[1] << 8));
          }
          if (!isfinite(ut->c[i])) {
            snprintf(buf, bsz, "value %zu is not finite (as f32)", i);
            *why = buf;
            ok = false;
            break;
          }
        }
      }
    }
    free(hdr);
  }
  free(data);
  if (!ok) {
    free(ut->c);
    memset(ut, 0, sizeof *ut);
  }
  return ok;
}

/* ---- IR -------------------------------------------------------------------- */

static MlirType elemType(MlirContext ctx, ElemKind e) {
  return e == ELEM_F16 ? mlirF16TypeGet(ctx)
         : e == ELEM_BF16 ? mlirBF16TypeGet(ctx) : mlirF32TypeGet(ctx);
}

/* Encodes floats in the storage type; returns a new buffer. */
static void *encodeTable(const float *c, size_t n, ElemKind e) {
  size_t eb = e == ELEM_F32 ? 4 : 2;
  unsigned char *out = malloc(n ? n * eb : 1);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; ++i) {
    if (e == ELEM_F32) {
      memcpy(out + 4 * i, &c[i], 4);
    } else {
      uint16_t h = e == ELEM_F16 ? weightsFloatToHalf(c[i]) : weightsFloatToBF16(c[i]);
      memcpy(out + 2 * i, &h, 2);
    }
  }
  return out;
}

static void freeBlob(void *user, const void *data, size_t size, size_t align) {
  (void)data, (void)size, (void)align;
  free(user);
}

/* A constant of the same op kind as `like` (arith.constant or tosa.const). */
static MlirValue makeConst(IrBuilder *b, MlirOperation like, MlirAttribute v) {
  MlirNamedAttribute a = irNamed(b->ctx, weightsValueAttrName(like), v);
  MlirIdentifier name = mlirOperationGetName(like);
  char buf[32];
  snprintf(buf, sizeof buf, "%.*s", (int)mlirIdentifierStr(name).length,
           mlirIdentifierStr(name).data);
  return irCreate1(b, buf, 0, NULL, mlirAttributeGetType(v), 1, &a);
}

/* clusterc's own output: its centroid tables, index buffers and folded
 * weights carry `clusterc.palette = "centroids" | "indices" | "decoded"`,
 * so that running the pass on its output leaves them alone (reported as
 * CLUSTERC_ALREADY_CLUSTERED) instead of clustering them again. */
#define OWN_ATTR "clusterc.palette"

static void markOwn(MlirOperation op, const char *what) {
  MlirContext ctx = mlirOperationGetContext(op);
  mlirOperationSetDiscardableAttributeByName(op, irStr(OWN_ATTR),
                                             mlirStringAttrGet(ctx, irStr(what)));
}

/* The mark of op, or NULL. */
static const char *ownMark(MlirOperation op) {
  MlirAttribute a = mlirOperationGetDiscardableAttributeByName(op, irStr(OWN_ATTR));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsAString(a))
    return NULL;
  MlirStringRef v = mlirStringAttrGetValue(a);
  static const char *const kinds[] = {"centroids", "indices", "decoded", "scales"};
  for (int i = 0; i < 4; ++i)
    if (v.length == strlen(kinds[i]) && !memcmp(v.data, kinds[i], v.length))
      return kinds[i];
  return "centroids"; /* another value: still clusterc's */
}

/* Builds the decode: a linalg.generic over the weight's shape that reads
 * the index (from `ins` when stored in the weight's shape, else from the
 * packed byte buffer by flat position) and extracts the centroid. */
static MlirValue buildDecode(IrBuilder *b, const ConstInfo *ci,
                             const Clustered *cl, int axis, MlirValue table,
                             MlirValue idx) {
  MlirContext ctx = b->ctx;
  MlirType et = elemType(ctx, ci->elem), indexT = mlirIndexTypeGet(ctx);
  bool packed = cl->fmt != CLUSTERRT_IDX_U8 && cl->fmt != CLUSTERRT_IDX_U16;
  MlirValue empty = irCreate1(b, "tensor.empty", 0, NULL, ci->type, 0, NULL);

  MlirType idxElem = mlirShapedTypeGetElementType(mlirValueGetType(idx));
  MlirType argTypes[2] = {idxElem, et};
  MlirLocation argLocs[2] = {b->loc, b->loc};
  int nIns = packed ? 0 : 1;
  MlirBlock body = mlirBlockCreate(nIns + 1, packed ? argTypes + 1 : argTypes,
                                   argLocs);
  IrBuilder bb = {ctx, {NULL}, body, b->loc};

  MlirValue ix;
  if (!packed) {
    ix = irCast(&bb, "arith.index_castui", mlirBlockGetArgument(body, 0), indexT);
  } else {
    /* flat = ((i0 * d1 + i1) * d2 + i2) ...; the index is at bit
     * flat * bits of the packed stream. */
    MlirValue flat = ci->rank == 0 ? irConstIndex(&bb, 0) : (MlirValue){NULL};
    for (intptr_t d = 0; d < ci->rank; ++d) {
      MlirNamedAttribute dim = irNamed(ctx, "dim",
                                       mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), d));
      MlirValue id = irCreate1(&bb, "linalg.index", 0, NULL, indexT, 1, &dim);
      flat = d == 0 ? id
                    : irBinary(&bb, "arith.addi",
                               irBinary(&bb, "arith.muli", flat,
                                        irConstIndex(&bb, ci->shape[d])),
                               id);
    }
    ix = irPackedIndex(&bb, idx, flat, clusterrt_format_bits(cl->fmt), cl->idxBytes);
  }
  MlirValue ext[3] = {table, ix, ix};
  intptr_t nExt = 2;
  if (axis >= 0) {
    MlirNamedAttribute dim = irNamed(ctx, "dim",
                                     mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), axis));
    ext[1] = irCreate1(&bb, "linalg.index", 0, NULL, indexT, 1, &dim);
    if (cl->group > 1) /* the table of a group of channels */
      ext[1] = irBinary(&bb, "arith.divui", ext[1], irConstIndex(&bb, (int64_t)cl->group));
    ext[2] = ix;
    nExt = 3;
  }
  MlirValue val = irCreate1(&bb, "tensor.extract", nExt, ext, et, 0, NULL);
  irCreate(&bb, "linalg.yield", 1, &val, 0, NULL, 0, NULL);

  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  MlirAttribute id = mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, ci->rank));
  MlirAttribute maps[2] = {id, id};
  int32_t seg[2] = {nIns, 1};
  MlirNamedAttribute attrs[3] = {
      irNamed(ctx, "indexing_maps", mlirArrayAttrGet(ctx, nIns + 1, maps)),
      irNamed(ctx, "iterator_types", irParallelIterators(ctx, ci->rank)),
      irNamed(ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(ctx, 2, seg))};
  MlirValue operands[2] = {idx, empty};
  MlirOperationState st = mlirOperationStateGet(irStr("linalg.generic"), b->loc);
  mlirOperationStateAddOperands(&st, nIns + 1, packed ? operands + 1 : operands);
  mlirOperationStateAddResults(&st, 1, &ci->type);
  mlirOperationStateAddAttributes(&st, 3, attrs);
  mlirOperationStateAddOwnedRegions(&st, 1, &region);
  return mlirOperationGetResult(irInsert(b, mlirOperationCreate(&st)), 0);
}

/* ---- decode=runtime --------------------------------------------------------
 *
 * The decode as a call into libclusterrt's vectorized kernel, made once
 * per weight when the program starts instead of on every call:
 *
 *   memref.global "private" constant @fc1.weight_idx : memref<100352xi8> = dense<..>
 *   memref.global "private" constant @fc1.weight_centroids : memref<16xf32> = ..
 *   memref.global "private" @fc1.weight_decoded : memref<256x784xf32>
 *       = uninitialized {alignment = 64 : i64}
 *   func.func @forward(..) {
 *     %m = memref.get_global @fc1.weight_decoded : memref<256x784xf32>
 *     %w = bufferization.to_tensor %m restrict : memref<256x784xf32>
 *     ..  // every user of the weight now uses %w
 *   }
 *   func.func private @clusterc_decode_weights() {  // one per module
 *     %i = memref.get_global @fc1.weight_idx ..; %c = ..; %d = ..
 *     %d1 = memref.collapse_shape %d [[0, 1]] ..   // then memref.cast to ?
 *     %s = func.call @clusterrt_mlir_decode_i8(%i', %bits, %c', %d1')
 *            : (memref<?xi8>, i32, memref<?xf32>, memref<?xf32>) -> i32
 *     return
 *   }
 *
 * The initializer (CLUSTERC_DECODE_INIT, clusterc/passes.h) must run once
 * before any entry point: clusterc's code generation registers it as a
 * global constructor, so a compiled model decodes its weights when it is
 * loaded; other clients call it themselves. Entry points only read the
 * decoded buffer (to_tensor without `writable`: bufferization copies before
 * any in-place write), so concurrent calls are safe. The buffer is
 * zero-initialized memory: it costs memory at run time, not bytes in the
 * binary. The callee takes memrefs, so bufferization never has to guess
 * what it reads or writes. Its status is not checked: the shapes it checks
 * are the ones built here. */

static void blobName(char *buf, size_t size, const char *layer, const char *suffix);
static void emitErrorf(MlirLocation loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char kDecodeI8[] = "clusterrt_mlir_decode_i8";
static const char kDecodeI16[] = "clusterrt_mlir_decode_i16";

static MlirType dynMemref1d(MlirType elem) {
  int64_t d = mlirShapedTypeGetDynamicSize();
  return mlirMemRefTypeContiguousGet(elem, 1, &d, mlirAttributeGetNull());
}

static bool checkRuntimeDialects(MlirContext ctx, MlirLocation loc,
                                 const char *mode) {
  static const char *const ops[] = {"func.func", "memref.global",
                                    "bufferization.to_tensor"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i)
    if (!mlirContextIsRegisteredOperation(ctx, irStr(ops[i]))) {
      emitErrorf(loc, "cluster-weights: decode=%s needs the func, memref "
                 "and bufferization dialects loaded ('%s' is not)", mode, ops[i]);
      return false;
    }
  return true;
}

/* The decode function's type: (memref<?xi8>, i32, memref<?xf32>,
 * memref<?xf32>) -> i32, or (memref<?xi16>, memref<?xf32>, memref<?xf32>). */
static MlirType decodeFnType(MlirContext ctx, bool i16) {
  MlirType f32 = mlirF32TypeGet(ctx), i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType in[4];
  intptr_t n = 0;
  in[n++] = dynMemref1d(mlirIntegerTypeGet(ctx, i16 ? 16 : 8));
  if (!i16)
    in[n++] = i32;
  in[n++] = dynMemref1d(f32);
  in[n++] = dynMemref1d(f32);
  return mlirFunctionTypeGet(ctx, n, in, 1, &i32);
}

static MlirType funcTypeOf(MlirOperation fn) {
  return mlirTypeAttrGetValue(
      mlirOperationGetAttributeByName(fn, irStr("function_type")));
}

/* A private func.func `name` of type `type` at the module's end, with an
 * empty body (one block holding func.return) unless `declOnly`. */
static MlirOperation createFunc(MlirOperation module, MlirSymbolTable symtab,
                                const char *name, MlirType type, bool declOnly,
                                bool cInterface, MlirLocation loc) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirNamedAttribute attrs[4] = {
      irNamed(ctx, "sym_name", mlirStringAttrGet(ctx, irStr(name))),
      irNamed(ctx, "sym_visibility", mlirStringAttrGet(ctx, irStr("private"))),
      irNamed(ctx, "function_type", mlirTypeAttrGet(type)),
      irNamed(ctx, "llvm.emit_c_interface", mlirUnitAttrGet(ctx))};
  MlirRegion body = mlirRegionCreate();
  if (!declOnly) {
    MlirBlock entry = mlirBlockCreate(0, NULL, NULL);
    mlirRegionAppendOwnedBlock(body, entry);
    IrBuilder rb = {ctx, {NULL}, entry, loc};
    irCreate(&rb, "func.return", 0, NULL, 0, NULL, 0, NULL);
  }
  MlirOperationState st = mlirOperationStateGet(irStr("func.func"), loc);
  mlirOperationStateAddAttributes(&st, cInterface ? 4 : 3, attrs);
  mlirOperationStateAddOwnedRegions(&st, 1, &body);
  MlirOperation fn = mlirOperationCreate(&st);
  mlirBlockAppendOwnedOperation(
      mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0)), fn);
  mlirSymbolTableInsert(symtab, fn);
  return fn;
}

/* Declares the decode function once per module; false after a diagnostic
 * if a different symbol of that name exists. */
static bool declareDecode(MlirOperation module, MlirSymbolTable symtab,
                          bool i16, MlirLocation loc) {
  const char *name = i16 ? kDecodeI16 : kDecodeI8;
  MlirContext ctx = mlirOperationGetContext(module);
  MlirType type = decodeFnType(ctx, i16);
  MlirOperation old = mlirSymbolTableLookup(symtab, irStr(name));
  if (mlirOperationIsNull(old)) {
    createFunc(module, symtab, name, type, true, true, loc);
    return true;
  }
  if (mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(old)),
                         irStr("func.func")) &&
      mlirTypeEqual(funcTypeOf(old), type))
    return true;
  emitErrorf(loc, "cluster-weights: decode=runtime: the module already has a "
             "symbol '%s' that is not the libclusterrt decode function", name);
  return false;
}

/* The initializer's func.return (new ops go before it), creating the
 * function on first use; null after a diagnostic. */
static MlirOperation initReturn(MlirOperation module, MlirSymbolTable symtab,
                                MlirLocation loc) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirType type = mlirFunctionTypeGet(ctx, 0, NULL, 0, NULL);
  MlirOperation fn = mlirSymbolTableLookup(symtab, irStr(CLUSTERC_DECODE_INIT));
  if (mlirOperationIsNull(fn))
    fn = createFunc(module, symtab, CLUSTERC_DECODE_INIT, type, false, false, loc);
  else if (!mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(fn)),
                               irStr("func.func")) ||
           !mlirTypeEqual(funcTypeOf(fn), type))
    fn = (MlirOperation){NULL};
  MlirBlock body = mlirOperationIsNull(fn)
                       ? (MlirBlock){NULL}
                       : mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0));
  MlirOperation ret = mlirBlockIsNull(body) ? (MlirOperation){NULL}
                                            : mlirBlockGetTerminator(body);
  if (mlirOperationIsNull(ret) ||
      !mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(ret)),
                          irStr("func.return"))) {
    emitErrorf(loc, "cluster-weights: decode=runtime: the module has a symbol "
               "'%s' that is not the decode initializer (a func.func () -> () "
               "with one block)", CLUSTERC_DECODE_INIT);
    return (MlirOperation){NULL};
  }
  return ret;
}

/* A private memref.global named <base><suffix> (made unique) before
 * `anchor`: constant with `init`, else uninitialized. Returns its name. */
static MlirAttribute memrefGlobal(MlirContext ctx, MlirSymbolTable symtab,
                                  MlirOperation anchor, MlirLocation loc,
                                  const char *base, const char *suffix,
                                  MlirType memref, MlirAttribute init,
                                  int64_t align) {
  char name[256];
  blobName(name, sizeof name, base, suffix);
  MlirNamedAttribute attrs[6];
  intptr_t n = 0;
  attrs[n++] = irNamed(ctx, "sym_name", mlirStringAttrGet(ctx, irStr(name)));
  attrs[n++] = irNamed(ctx, "sym_visibility", mlirStringAttrGet(ctx, irStr("private")));
  attrs[n++] = irNamed(ctx, "type", mlirTypeAttrGet(memref));
  attrs[n++] = irNamed(ctx, "initial_value",
                       mlirAttributeIsNull(init) ? mlirUnitAttrGet(ctx) : init);
  if (!mlirAttributeIsNull(init))
    attrs[n++] = irNamed(ctx, "constant", mlirUnitAttrGet(ctx));
  if (align)
    attrs[n++] = irNamed(ctx, "alignment",
                         mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), align));
  IrBuilder b = {ctx, anchor, {NULL}, loc};
  MlirOperation g = irCreate(&b, "memref.global", 0, NULL, 0, NULL, n, attrs);
  if (!mlirAttributeIsNull(init))
    markOwn(g, strcmp(suffix, "_idx") ? "centroids" : "indices");
  return mlirSymbolTableInsert(symtab, g);
}

static MlirValue getGlobal(IrBuilder *b, MlirAttribute name, MlirType memref) {
  MlirNamedAttribute a = irNamed(
      b->ctx, "name", mlirFlatSymbolRefAttrGet(b->ctx, mlirStringAttrGetValue(name)));
  return irCreate1(b, "memref.get_global", 0, NULL, memref, 1, &a);
}

/* [[0, 1, ..., rank-1]]: every dimension into one. */
static MlirAttribute allDims(MlirContext ctx, intptr_t rank) {
  MlirAttribute *dims = malloc(sizeof *dims * (size_t)(rank ? rank : 1));
  if (!dims)
    return mlirAttributeGetNull();
  for (intptr_t i = 0; i < rank; ++i)
    dims[i] = mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), i);
  MlirAttribute group = mlirArrayAttrGet(ctx, rank, dims);
  free(dims);
  return mlirArrayAttrGet(ctx, 1, &group);
}

/* The op at the module's top level that holds op (or op itself). */
static MlirOperation topLevelOf(MlirOperation op, MlirOperation module) {
  for (MlirOperation p = mlirOperationGetParentOperation(op);
       !mlirOperationIsNull(p) && !mlirOperationEqual(p, module);
       p = mlirOperationGetParentOperation(p))
    op = p;
  return op;
}

/* Replaces the constant (or each load of the global) by a read of a global
 * buffer that the initializer fills with libclusterrt's decode (see above).
 * `tv` and `iv` are the table and the index data, `iv` typed 1-D. Only for
 * f32 weights with one table. False after a diagnostic. */
static bool rewriteRuntime(const ConstInfo *ci, const Clustered *cl,
                           MlirAttribute tv, MlirAttribute iv, const char *name,
                           MlirOperation module, MlirSymbolTable symtab) {
  MlirContext ctx = mlirOperationGetContext(ci->op);
  MlirLocation loc = mlirOperationGetLocation(ci->op);
  bool i16 = cl->fmt == CLUSTERRT_IDX_U16;
  MlirOperation ret;
  if (!checkRuntimeDialects(ctx, loc, "runtime") || !declareDecode(module, symtab, i16, loc) ||
      mlirOperationIsNull(ret = initReturn(module, symtab, loc)))
    return false;
  MlirType f32 = mlirF32TypeGet(ctx), i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType ie = mlirShapedTypeGetElementType(mlirAttributeGetType(iv));
  int64_t n = (int64_t)ci->elements, k = (int64_t)cl->k,
          nb = mlirShapedTypeGetDimSize(mlirAttributeGetType(iv), 0);
  MlirType im = mlirMemRefTypeContiguousGet(ie, 1, &nb, mlirAttributeGetNull());
  MlirType tm = mlirMemRefTypeContiguousGet(f32, 1, &k, mlirAttributeGetNull());
  MlirType dm = mlirMemRefTypeContiguousGet(f32, ci->rank, ci->shape,
                                            mlirAttributeGetNull());
  MlirOperation anchor = topLevelOf(ci->op, module);
  MlirAttribute gi = memrefGlobal(ctx, symtab, anchor, loc, name, "_idx", im, iv, 0);
  MlirAttribute gt = memrefGlobal(ctx, symtab, anchor, loc, name, "_centroids", tm, tv, 0);
  MlirAttribute gd = memrefGlobal(ctx, symtab, anchor, loc, name, "_decoded", dm,
                                  mlirAttributeGetNull(), 64);

  /* The initializer: decode into the buffer. */
  IrBuilder ib = {ctx, ret, {NULL}, loc};
  MlirValue args[4];
  intptr_t na = 0;
  args[na++] = irCast(&ib, "memref.cast", getGlobal(&ib, gi, im), dynMemref1d(ie));
  if (!i16)
    args[na++] = irConstInt(&ib, i32, clusterrt_format_bits(cl->fmt));
  args[na++] = irCast(&ib, "memref.cast", getGlobal(&ib, gt, tm), dynMemref1d(f32));
  MlirValue d = getGlobal(&ib, gd, dm);
  if (ci->rank != 1) {
    MlirAttribute reassoc = allDims(ctx, ci->rank);
    if (mlirAttributeIsNull(reassoc))
      return false;
    MlirNamedAttribute ra = irNamed(ctx, "reassociation", reassoc);
    MlirType flat = mlirMemRefTypeContiguousGet(f32, 1, &n, mlirAttributeGetNull());
    d = irCreate1(&ib, "memref.collapse_shape", 1, &d, flat, 1, &ra);
  }
  args[na++] = irCast(&ib, "memref.cast", d, dynMemref1d(f32));
  MlirNamedAttribute callee = irNamed(
      ctx, "callee", mlirFlatSymbolRefAttrGet(ctx, irStr(i16 ? kDecodeI16 : kDecodeI8)));
  irCreate(&ib, "func.call", na, args, 1, &i32, 1, &callee);

  /* The users read the buffer. */
  MlirNamedAttribute restrict_ = irNamed(ctx, "restrict", mlirUnitAttrGet(ctx));
  size_t nUses = ci->loads ? ci->numLoads : 1;
  for (size_t i = 0; i < nUses; ++i) {
    MlirOperation use = ci->loads ? ci->loads[i] : ci->op;
    IrBuilder ub = {ctx, use, {NULL}, mlirOperationGetLocation(use)};
    MlirValue m = getGlobal(&ub, gd, dm);
    MlirValue w = irCreate1(&ub, "bufferization.to_tensor", 1, &m, ci->type, 1,
                            &restrict_);
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(use, 0), w);
    mlirOperationDestroy(use);
  }
  if (ci->loads)
    mlirSymbolTableErase(symtab, ci->op);
  return true;
}

/* Name for a new dense_resource blob, from the layer name. */
static void blobName(char *buf, size_t size, const char *layer, const char *suffix) {
  size_t j = 0;
  for (size_t i = 0; layer[i] && j + 1 < size; ++i) {
    char ch = layer[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
    buf[j++] = ok ? ch : '_';
  }
  buf[j] = 0;
  snprintf(buf + j, size - j, "%s", suffix);
}

/* An attribute of type t holding `bytes`: a dense_resource blob (MLIR frees
 * its copy with the context) when the original was one, else dense. */
static MlirAttribute makeData(const ConstInfo *ci, MlirType t, const void *bytes,
                              size_t size, size_t align, const char *name,
                              const char *suffix) {
  if (ci->form != FORM_RESOURCE)
    return mlirDenseElementsAttrRawBufferGet(t, size, bytes);
  void *copy = malloc(size ? size : 1);
  if (!copy)
    return mlirAttributeGetNull();
  memcpy(copy, bytes, size);
  char bn[200];
  blobName(bn, sizeof bn, name, suffix);
  return mlirUnmanagedDenseResourceElementsAttrGet(t, irStr(bn), copy, size,
                                                   align, false, freeBlob, copy);
}

/* decode=fold: replaces the constant by one holding the decoded weights. */
static bool rewriteFolded(const ConstInfo *ci, const void *enc, const char *name) {
  MlirContext ctx = mlirOperationGetContext(ci->op);
  IrBuilder b = {ctx, ci->op, {NULL}, mlirOperationGetLocation(ci->op)};
  MlirAttribute v = makeData(ci, ci->type, enc, ci->elements * ci->elemBytes,
                             ci->elemBytes, name, "_clustered");
  if (mlirAttributeIsNull(v))
    return false;
  if (ci->loads) {
    mlirOperationSetAttributeByName(ci->op, irStr(weightsValueAttrName(ci->op)), v);
    markOwn(ci->op, "decoded");
    return true;
  }
  MlirValue w = makeConst(&b, ci->op, v);
  markOwn(mlirOpResultGetOwner(w), "decoded");
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(ci->op, 0), w);
  mlirOperationDestroy(ci->op);
  return true;
}

/* A private immutable ml_program.global holding v, next to `like`; its
 * name is made unique in the symbol table. Returns the name attribute. */
static MlirAttribute makeGlobal(IrBuilder *b, MlirSymbolTable symtab,
                                MlirOperation like, const char *suffix,
                                const char *mark, MlirAttribute v) {
  MlirStringRef base = weightsGlobalName(like);
  char name[256];
  snprintf(name, sizeof name, "%.*s%s", (int)base.length, base.data, suffix);
  MlirNamedAttribute attrs[4] = {
      irNamed(b->ctx, "sym_name", mlirStringAttrGet(b->ctx, irStr(name))),
      irNamed(b->ctx, "sym_visibility", mlirStringAttrGet(b->ctx, irStr("private"))),
      irNamed(b->ctx, "type", mlirTypeAttrGet(mlirAttributeGetType(v))),
      irNamed(b->ctx, "value", v)};
  MlirOperation g = irCreate(b, "ml_program.global", 0, NULL, 0, NULL, 4, attrs);
  markOwn(g, mark);
  return mlirSymbolTableInsert(symtab, g);
}

static MlirValue loadGlobal(IrBuilder *b, MlirAttribute symName, MlirType t) {
  MlirNamedAttribute a = irNamed(
      b->ctx, "global",
      mlirFlatSymbolRefAttrGet(b->ctx, mlirStringAttrGetValue(symName)));
  return irCreate1(b, "ml_program.global_load_const", 0, NULL, t, 1, &a);
}

/* rewrite's outcome: RW_OOM is diagnosed by the caller, RW_FAILED already. */
enum { RW_OK, RW_OOM, RW_FAILED };

/* decode=fused's constants: in the weight's own form (makeData), as the
 * constant's op kind, or arith.constant for a global's loads. */
typedef struct FuseUser {
  const ConstInfo *ci;
  const char *name;
} FuseUser;

static MlirValue fuseMakeConst(void *user, IrBuilder *b, MlirType t,
                               const void *bytes, size_t size, size_t align,
                               const char *suffix) {
  const FuseUser *fu = user;
  MlirAttribute v = makeData(fu->ci, t, bytes, size, align, fu->name, suffix);
  if (mlirAttributeIsNull(v))
    return (MlirValue){NULL};
  if (!fu->ci->loads)
    return makeConst(b, fu->ci->op, v);
  MlirNamedAttribute a = irNamed(b->ctx, "value", v);
  return irCreate1(b, "arith.constant", 0, NULL, t, 1, &a);
}

/* What decode=fused stored for a weight: the bytes of its LUT calls'
 * constants (0: none fused) and their index width; kept: whether the
 * weight's own table + indices + decode stay for the uses left. */
typedef struct FusedStore {
  uint64_t bytes;
  unsigned bits;
  bool kept;
} FusedStore;

/* decode=fused: turns the weight's matrix products into LUT calls. The
 * constant (or each load of the global) that has no use left is erased and
 * dropped from *numUses; *numUses = 0 means the decode is not needed. The
 * first reason a use is kept goes to why. -1 when out of memory. */
static int fuseWeight(const ConstInfo *ci, const Clustered *cl, int axis,
                      const char *name, MlirOperation module,
                      MlirOperation *uses, size_t *numUses, char *why,
                      size_t whySize, FusedStore *st) {
  FuseUser fu = {ci, name};
  FuseWeight fw = {.ci = ci, .table = cl->table, .k = cl->k,
                   .tables = cl->tables, .axis = axis, .fmt = cl->fmt,
                   .idx = cl->idx, .makeConst = fuseMakeConst, .user = &fu,
                   .storedBytes = &st->bytes, .storedBits = &st->bits};
  size_t kept = 0;
  for (size_t i = 0; i < *numUses; ++i) {
    int left = fuseLutUses(mlirOperationGetResult(uses[i], 0), &fw, module,
                           why, whySize);
    if (left < 0)
      return -1;
    if (left == 0 && ci->loads)
      mlirOperationDestroy(uses[i]);
    else if (left > 0)
      uses[kept++] = uses[i];
  }
  *numUses = kept;
  return 0;
}

/* The constants a decode reads (table, indices, scales...), each with its
 * name suffix and its clusterc.palette mark. */
typedef struct Parts {
  MlirAttribute v[5];
  const char *suffix[5], *mark[5];
  size_t n;
} Parts;

/* Builds the decode at b from the parts' values. */
typedef MlirValue (*DecodeFn)(IrBuilder *b, const void *user, const MlirValue *vals);

typedef struct DecodeUser {
  const ConstInfo *ci;
  const Clustered *cl;
  int axis;
} DecodeUser;

static MlirValue decodeGeneric(IrBuilder *b, const void *user, const MlirValue *v) {
  const DecodeUser *du = user;
  return buildDecode(b, du->ci, du->cl, du->axis, v[0], v[1]);
}

static MlirValue decodePalette(IrBuilder *b, const void *user, const MlirValue *v) {
  const DecodeUser *du = user;
  return paletteBuildDecode(b, du->ci, du->cl->pal, du->cl->fmt, du->cl->idxBytes, v);
}

/* Replaces the constant by the parts (constants of its op kind) and the
 * decode fn builds from them; a global by one global per part, and each of
 * its loads by their loads + the decode. */
static int materialize(const ConstInfo *ci, const Parts *pp, MlirOperation module,
                       MlirSymbolTable symtab, DecodeFn fn, const void *user) {
  MlirContext ctx = mlirOperationGetContext(ci->op);
  IrBuilder b = {ctx, ci->op, {NULL}, mlirOperationGetLocation(ci->op)};
  for (size_t i = 0; i < pp->n; ++i)
    if (mlirAttributeIsNull(pp->v[i]))
      return RW_OOM;
  MlirValue vals[5];
  if (ci->loads) {
    MlirOperation scope = mlirOperationGetParentOperation(ci->op);
    bool top = mlirOperationEqual(scope, module);
    MlirSymbolTable st = top ? symtab : mlirSymbolTableCreate(scope);
    if (mlirSymbolTableIsNull(st))
      return RW_OOM;
    MlirAttribute g[5];
    for (size_t i = 0; i < pp->n; ++i)
      g[i] = makeGlobal(&b, st, ci->op, pp->suffix[i], pp->mark[i], pp->v[i]);
    int rc = RW_OK;
    for (size_t l = 0; l < ci->numLoads && rc == RW_OK; ++l) {
      MlirOperation load = ci->loads[l];
      IrBuilder lb = {ctx, load, {NULL}, mlirOperationGetLocation(load)};
      for (size_t i = 0; i < pp->n; ++i)
        vals[i] = loadGlobal(&lb, g[i], mlirAttributeGetType(pp->v[i]));
      MlirValue w = fn(&lb, user, vals);
      if (mlirValueIsNull(w)) {
        rc = RW_OOM;
        break;
      }
      mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(load, 0), w);
      mlirOperationDestroy(load);
    }
    if (rc == RW_OK)
      mlirSymbolTableErase(st, ci->op);
    if (!top)
      mlirSymbolTableDestroy(st);
    return rc;
  }
  for (size_t i = 0; i < pp->n; ++i) {
    vals[i] = makeConst(&b, ci->op, pp->v[i]);
    markOwn(mlirOpResultGetOwner(vals[i]), pp->mark[i]);
  }
  MlirValue w = fn(&b, user, vals);
  if (mlirValueIsNull(w))
    return RW_OOM;
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(ci->op, 0), w);
  mlirOperationDestroy(ci->op);
  return RW_OK;
}

static MlirAttribute denseOf(MlirType elem, intptr_t rank, const int64_t *shape,
                             const void *bytes, size_t size) {
  MlirType t = mlirRankedTensorTypeGet(rank, shape, elem, mlirAttributeGetNull());
  return mlirDenseElementsAttrRawBufferGet(t, size, bytes);
}

/* An extended palette (palette.h): its table, indices, scales and zero
 * points, and its decode. The tables are [T,] K [, D] (T with per-channel
 * or grouped tables, D with vectors); the indices one flat buffer. */
static int rewritePalette(const ConstInfo *ci, const Clustered *cl, const char *name,
                          MlirOperation module, MlirSymbolTable symtab) {
  const Palette *p = cl->pal;
  MlirContext ctx = mlirOperationGetContext(ci->op);
  MlirType i8 = mlirIntegerTypeGet(ctx, 8), f32 = mlirF32TypeGet(ctx);
  int64_t shape[3], T = (int64_t)p->tables;
  intptr_t rank = 0;
  if (p->taxis >= 0)
    shape[rank++] = T;
  shape[rank++] = (int64_t)p->k;
  if (p->dim > 1)
    shape[rank++] = (int64_t)p->dim;
  size_t entries = p->tables * p->k * p->dim;
  Parts pp = {.n = 2, .suffix = {"_centroids", "_idx"}, .mark = {"centroids", "indices"}};
  if (p->ttype == CLUSTERC_TABLE_FLOAT) {
    void *enc = encodeTable(p->table, entries, ci->elem);
    if (!enc)
      return RW_OOM;
    pp.v[0] = denseOf(elemType(ctx, ci->elem), rank, shape, enc, entries * ci->elemBytes);
    free(enc);
  } else {
    pp.v[0] = denseOf(i8, rank, shape, p->q, entries);
    pp.v[pp.n] = denseOf(f32, 1, &T, p->qscale, sizeof(float) * p->tables);
    pp.suffix[pp.n] = "_scale";
    pp.mark[pp.n++] = "scales";
    if (p->ttype == CLUSTERC_TABLE_UINT8) {
      pp.v[pp.n] = denseOf(i8, 1, &T, p->qzp, p->tables);
      pp.suffix[pp.n] = "_zero_point";
      pp.mark[pp.n++] = "scales";
    }
  }
  if (p->cscale) {
    int64_t c = ci->shape[p->saxis];
    pp.v[pp.n] = denseOf(f32, 1, &c, p->cscale, sizeof(float) * (size_t)c);
    pp.suffix[pp.n] = "_channel_scale";
    pp.mark[pp.n++] = "scales";
  }
  bool u16 = cl->fmt == CLUSTERRT_IDX_U16;
  int64_t ni = u16 ? (int64_t)p->nIdx : (int64_t)cl->idxBytes;
  MlirType it = mlirRankedTensorTypeGet(1, &ni, mlirIntegerTypeGet(ctx, u16 ? 16 : 8),
                                        mlirAttributeGetNull());
  pp.v[1] = makeData(ci, it, cl->idx, cl->idxBytes, u16 ? 2 : 1, name, "_idx");
  DecodeUser du = {ci, cl, p->taxis};
  return materialize(ci, &pp, module, symtab, decodePalette, &du);
}

/* Why decode=fused keeps the decode of an extended palette. */
static void paletteKept(const Palette *p, char *kept, size_t size) {
  snprintf(kept, size, "all uses: %s%s%s has no LUT kernel",
           p->dim > 1 ? "a vector palette (cluster-dim)"
           : p->ttype != CLUSTERC_TABLE_FLOAT ? "a quantized table (table-type)"
                                              : "a per-channel scale",
           p->dim > 1 && p->ttype != CLUSTERC_TABLE_FLOAT ? " with a quantized table" : "",
           p->cscale && (p->dim > 1 || p->ttype != CLUSTERC_TABLE_FLOAT)
               ? " and a per-channel scale" : "");
}

/* Replaces the constant by table + indices + decode; a global by two
 * globals, and each of its loads by two loads + decode. With `runtime`,
 * f32 weights with one table get the load-time decode of rewriteRuntime. */
static int rewrite(const ConstInfo *ciIn, const Clustered *cl, int axis,
                   const char *name, MlirOperation module,
                   MlirSymbolTable symtab, bool runtime, bool fused,
                   char *kept, size_t keptSize, FusedStore *st) {
  if (cl->pal) { /* no LUT kernel and no runtime decode: the generic one */
    if (fused && kept)
      paletteKept(cl->pal, kept, keptSize);
    return rewritePalette(ciIn, cl, name, module, symtab);
  }
  /* With fused, only the loads (or the constant) that still have uses get
   * the decode below. */
  ConstInfo fci = *ciIn;
  const ConstInfo *ci = ciIn;
  if (fused) {
    if (!checkRuntimeDialects(mlirOperationGetContext(ciIn->op),
                              mlirOperationGetLocation(ciIn->op), "fused"))
      return RW_FAILED;
    MlirOperation self = ciIn->op;
    size_t n = ciIn->loads ? ciIn->numLoads : 1;
    MlirOperation *uses = ciIn->loads ? malloc(sizeof *uses * (n ? n : 1)) : &self;
    if (!uses)
      return RW_OOM;
    if (ciIn->loads)
      memcpy(uses, ciIn->loads, sizeof *uses * n);
    int rc = fuseWeight(ciIn, cl, axis, name, module, uses, &n, kept, keptSize,
                        st);
    st->kept = rc == 0 && n > 0;
    if (rc < 0 || n == 0) {
      if (rc == 0 && ciIn->loads)
        mlirSymbolTableErase(symtab, ciIn->op);
      else if (rc == 0)
        mlirOperationDestroy(ciIn->op);
      if (ciIn->loads)
        free(uses);
      return rc < 0 ? RW_OOM : RW_OK;
    }
    if (ciIn->loads) {
      fci.loads = uses; /* freed below */
      fci.numLoads = n;
    }
    ci = &fci;
    int r = rewrite(ci, cl, axis, name, module, symtab, false, false, NULL, 0,
                    NULL);
    if (ciIn->loads)
      free(uses);
    return r;
  }
  MlirContext ctx = mlirOperationGetContext(ci->op);
  MlirType et = elemType(ctx, ci->elem);
  int64_t tshape[2] = {(int64_t)cl->tables, (int64_t)cl->k};
  MlirType tt = mlirRankedTensorTypeGet(axis >= 0 ? 2 : 1, axis >= 0 ? tshape : tshape + 1,
                                        et, mlirAttributeGetNull());
  void *enc = encodeTable(cl->table, cl->tables * cl->k, ci->elem);
  if (!enc)
    return RW_OOM;
  MlirAttribute tv = mlirDenseElementsAttrRawBufferGet(
      tt, cl->tables * cl->k * (ci->elem == ELEM_F32 ? 4 : 2), enc);
  free(enc);

  /* Symbols resolve in the nearest symbol table: a global (or, for the
   * runtime decode, a constant) in a nested module gets its new symbols
   * there. The runtime decode's initializer lives in the top module, so
   * weights of nested modules keep the generic decode. */
  MlirOperation scope = ci->loads ? mlirOperationGetParentOperation(ci->op)
                                  : clustercNearestSymbolTable(
                                        mlirOperationGetParentOperation(ci->op));
  bool top = mlirOperationEqual(scope, module);
  /* (A tensor with an encoding, e.g. sparse, is no memref's to_tensor.) */
  runtime = runtime && top && ci->elem == ELEM_F32 && axis < 0 && ci->rank > 0 &&
            mlirAttributeIsNull(mlirRankedTensorTypeGetEncoding(ci->type));
  bool packed = cl->fmt != CLUSTERRT_IDX_U8 && cl->fmt != CLUSTERRT_IDX_U16;
  MlirType ie = mlirIntegerTypeGet(ctx, cl->fmt == CLUSTERRT_IDX_U16 ? 16 : 8);
  /* Packed bytes, or for the runtime decode the indices flat. */
  int64_t nb = packed ? (int64_t)cl->idxBytes : (int64_t)ci->elements;
  MlirType it = packed || runtime
                    ? mlirRankedTensorTypeGet(1, &nb, ie, mlirAttributeGetNull())
                    : mlirRankedTensorTypeGet(ci->rank, ci->shape, ie,
                                              mlirAttributeGetNull());
  MlirAttribute iv = makeData(ci, it, cl->idx, cl->idxBytes,
                              cl->fmt == CLUSTERRT_IDX_U16 ? 2 : 1, name, "_idx");
  if (mlirAttributeIsNull(tv) || mlirAttributeIsNull(iv))
    return RW_OOM;
  if (runtime)
    return rewriteRuntime(ci, cl, tv, iv, name, module, symtab) ? RW_OK : RW_FAILED;
  Parts pp = {.n = 2, .v = {tv, iv}, .suffix = {"_centroids", "_idx"},
              .mark = {"centroids", "indices"}};
  DecodeUser du = {ci, cl, axis};
  return materialize(ci, &pp, module, symtab, decodeGeneric, &du);
}

/* ---- The pass ---------------------------------------------------------- */

typedef struct Collect {
  ConstInfo *items;
  size_t count, cap;
  MlirOperation *loads; /* every ml_program.global_load_const */
  size_t numLoads, capLoads;
  bool oom;
} Collect;

/* Grows *items (of *cap elements of size sz) to hold one more. */
static bool grow(void **items, size_t count, size_t *cap, size_t sz) {
  if (count < *cap)
    return true;
  size_t n = *cap ? 2 * *cap : 32;
  void *g = realloc(*items, n * sz);
  if (!g)
    return false;
  *items = g;
  *cap = n;
  return true;
}

static MlirWalkResult collectConst(MlirOperation op, void *user) {
  Collect *c = user;
  ConstInfo ci;
  MlirStringRef sym;
  if (weightsIsGlobalLoad(op, &sym)) {
    if (!grow((void **)&c->loads, c->numLoads, &c->capLoads, sizeof *c->loads))
      goto oom;
    c->loads[c->numLoads++] = op;
    return MlirWalkResultAdvance;
  }
  if (!weightsInspect(op, &ci))
    return MlirWalkResultAdvance;
  if (!grow((void **)&c->items, c->count, &c->cap, sizeof *c->items)) {
    weightsRelease(&ci);
    goto oom;
  }
  c->items[c->count++] = ci;
  return MlirWalkResultAdvance;
oom:
  c->oom = true;
  return MlirWalkResultInterrupt;
}

/* Gives each global its loads; false when out of memory. A load refers to
 * the global its symbol resolves to from where it is (globals of nested
 * modules may share names). */
static bool attachLoads(Collect *c) {
  MlirOperation *target = malloc(sizeof *target * (c->numLoads + 1));
  if (!target)
    return false;
  for (size_t j = 0; j < c->numLoads; ++j) {
    MlirStringRef sym;
    weightsIsGlobalLoad(c->loads[j], &sym);
    target[j] = clustercLookupSymbolFrom(c->loads[j], sym);
  }
  bool ok = true;
  for (size_t i = 0; ok && i < c->count; ++i) {
    ConstInfo *ci = &c->items[i];
    MlirStringRef op = mlirIdentifierStr(mlirOperationGetName(ci->op));
    if (op.length != 17 || memcmp(op.data, "ml_program.global", 17))
      continue;
    if (!(ci->loads = malloc(sizeof(MlirOperation) * (c->numLoads + 1)))) {
      ok = false;
      break;
    }
    for (size_t j = 0; j < c->numLoads; ++j)
      if (mlirOperationEqual(target[j], ci->op))
        ci->loads[ci->numLoads++] = c->loads[j];
  }
  free(target);
  return ok;
}

static void emitErrorf(MlirLocation loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void emitErrorf(MlirLocation loc, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  mlirEmitError(loc, buf);
}

static double sqnrDb(double sig, double err) {
  return err == 0 ? INFINITY : 10.0 * log10(sig / err);
}

/* ---- Jobs and threads -------------------------------------------------------
 *
 * Three steps per constant:
 *  1. jobPrepare, on the calling thread, in walk order: name, selection,
 *     the report row, and a borrowed pointer to the constant's bytes. No
 *     diagnostics yet.
 *  2. jobRun, on any thread: conversion to f32, the finiteness check,
 *     clustering (libclusterrt, one call per table, single-threaded), the
 *     reconstruction error, and the encoded data. It touches no MLIR object:
 *     MLIR IR is not thread-safe, and the attributes it reads from were
 *     fetched in step 1 (attribute storage is immutable and lives as long
 *     as the context, so the IR rewriting of step 3 cannot move it).
 *  3. jobFinish, on the calling thread, in walk order: the diagnostic of a
 *     failed job, or the IR rewrite, then the report row. The first failure
 *     stops the pass, as with one thread.
 * Each job's result depends only on its constant, the options and its walk
 * index (its seed), so the output is the same byte for byte for any
 * number of threads. Jobs are handed out largest first, which balances the
 * threads; step 3 waits for each job in walk order, running pending jobs
 * itself meanwhile, so one thread (threads=1) is the plain sequential loop.
 */

typedef enum JobState {
  JOB_SKIP,      /* not clustered: r.reason says why */
  JOB_READ_ERR,  /* the constant's bytes are missing or malformed: why */
  JOB_AXIS_ERR,  /* channel axis out of range */
  JOB_WORK,      /* to be clustered by jobRun */
  JOB_OK,        /* clustered: cl, enc (fold) and the error sums are set */
  JOB_NONFINITE, /* NaN or Inf at element bad */
  JOB_CLUSTER_ERR, /* libclusterrt failed: st */
  JOB_UNIQUE_ERR,  /* palette=unique: cl.distinct values, more than k */
  JOB_TABLE_ERR,   /* table=: its rows fit no cl.needTables */
  JOB_SENS_ERR,    /* its sensitivity has sensCount values, not the weight's */
  JOB_LAYOUT_ERR,  /* the extended palette does not fit the weight: layWhy */
  JOB_OOM
} JobState;

typedef struct Job {
  const ConstInfo *ci;
  bool work;             /* handed to jobRun (set by jobPrepare, then fixed) */
  JobState state;        /* read after the job is done (see Pool) */
  int index;             /* weight index in execution order, -1 if not a weight */
  const char *own;       /* clusterc's own output: ownMark, else NULL */
  char *name;            /* owned */
  char consumer[128];
  char kept[160];        /* decode=fused: why a use keeps the decode */
  ClustercLayerReport r; /* points into name, consumer, kept and ci */
  unsigned k;
  int axis;
  size_t group;          /* channels per table (1: per channel) */
  bool ext;              /* an extended palette, laid out in lay */
  Palette lay;
  char layWhy[200];
  const char *why;
  const void *raw;       /* the constant's bytes, borrowed from the attribute */
  size_t rawSize;
  const float *sens;     /* its sensitivities (borrowed from the options), or NULL */
  uint64_t sensCount;
  /* Results of jobRun. */
  uint64_t bad;          /* JOB_NONFINITE: the element; badNan: NaN, else Inf */
  bool badNan;
  clusterrt_status st;
  Clustered cl;
  void *folded;          /* decode=fold: c[idx] in the storage type (owned) */
  double sig, err;       /* sum w^2 and sum (w - w')^2 */
} Job;

static void jobFree(Job *j) {
  free(j->name);
  clusteredFree(&j->cl);
  free(j->folded);
  j->name = NULL;
  j->folded = NULL;
  memset(&j->cl, 0, sizeof j->cl);
}

/* Step 1. False when out of memory. */
static bool jobPrepare(const CwPass *p, Job *j, const ConstInfo *ci, int index,
                       int count) {
  const ClustercClusterWeightsOptions *o = &p->o;
  memset(j, 0, sizeof *j);
  j->ci = ci;
  j->index = index;
  j->axis = -1;
  if (!(j->name = weightsLayerName(ci, index)))
    return false;
  if (!mlirOperationIsNull(ci->consumer)) {
    MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(ci->consumer));
    snprintf(j->consumer, sizeof j->consumer, "%.*s", (int)s.length, s.data);
  }
  static const char *roles[] = {"other", "weight", "bias", "zero-point"};
  j->r = (ClustercLayerReport){
      .index = ci->role == ROLE_WEIGHT ? index : -1, .name = j->name, .channel_axis = -1,
      .consumer = j->consumer, .role = roles[ci->role],
      .dtype = weightsElemName(ci->elem), .form = weightsFormName(ci->form),
      .shape = ci->shape, .rank = ci->rank, .reason = "", .decode_kept = "",
      .cluster_dim = 1, .table_type = "float",
      .init = clusterrt_init_name(o->init), .elements = ci->elements,
      .bytes_before = ci->form == FORM_SPLAT ? ci->elemBytes
                                             : ci->elements * ci->elemBytes};
  j->r.bytes_after = j->r.bytes_before;
  bool isFloat = weightsIsFloat(ci->elem);
  const char *why = "";
  ClustercLayerReport *r = &j->r;
  bool forced = weightsForced(o, ci, j->name);
  if ((j->own = ownMark(ci->op)))
    r->reason = CLUSTERC_ALREADY_CLUSTERED;
  else if (ci->role == ROLE_BIAS && !forced)
    r->reason = "bias";
  else if (ci->role == ROLE_OTHER && !forced)
    r->reason = "not a weight of a compute op";
  else if (ci->role == ROLE_ZERO_POINT)
    r->reason = "zero point";
  else if (ci->elem == ELEM_INT)
    r->reason = "integer weights are left as they are";
  else if (ci->elem == ELEM_QUANT)
    r->reason = "quantized weights are left as they are";
  else if (!isFloat)
    r->reason = "unsupported element type (f32, f16, bf16 are clustered)";
  else if (ci->tooLarge)
    r->reason = "too many elements (the count overflows 64 bits)";
  else if (!(j->k = weightsSelectK(o, ci, j->name, index, count, &why)))
    r->reason = why;
  else if (ci->elements == 0)
    r->reason = "empty tensor";
  else if (ci->form == FORM_SPLAT)
    r->reason = "splat (a single value already)";
  else if (ci->elements < o->min_elements)
    r->reason = "fewer elements than min-elements";
  if (*r->reason) {
    j->state = JOB_SKIP;
    return true;
  }
  r->k_requested = j->k;
  if (o->bits && j->k > (1u << o->bits)) /* bits=N caps K at 2^N */
    j->k = 1u << o->bits;
  if (p->ut) { /* K is the file's */
    r->k_requested = (unsigned)p->ut->k;
    j->k = (unsigned)p->ut->k;
  }
  j->axis = weightsGroupAxis(o, ci, &j->group);
  if (j->axis >= ci->rank) {
    j->state = JOB_AXIS_ERR;
    return true;
  }
  if (paletteWanted(o)) {
    int chan = o->channel_axis >= 0 ? o->channel_axis
               : ci->channelAxis >= 0 ? ci->channelAxis : 0;
    if (o->per_channel_scale && chan >= ci->rank) {
      j->axis = chan;
      j->state = JOB_AXIS_ERR;
      return true;
    }
    if (!paletteLayout(&j->lay, o, ci, j->axis, j->group, chan, j->layWhy,
                       sizeof j->layWhy)) {
      j->state = JOB_LAYOUT_ERR;
      return true;
    }
    j->ext = true;
  }
  j->state = weightsRawData(ci, &j->raw, &j->rawSize, &j->why) ? JOB_WORK
                                                                : JOB_READ_ERR;
  for (size_t i = 0; j->state == JOB_WORK && i < o->num_sensitivity; ++i) {
    const ClustercSensitivity *sv = &o->sensitivity[i];
    if (!sv->name || strcmp(sv->name, j->name))
      continue;
    j->sensCount = sv->count;
    if (sv->count != ci->elements)
      j->state = JOB_SENS_ERR;
    else
      j->sens = sv->values;
    if (o->palette == CLUSTERC_PALETTE_KMEANS && !p->ut)
      j->r.init = "kmeans1d-weighted";
    break;
  }
  j->work = j->state == JOB_WORK;
  return true;
}

/* The job's values as f32: in place when the constant is aligned f32 (it
 * is for dense and dense_resource attributes), else a copy in *copy (free
 * it). NULL when out of memory. */
static const float *jobValues(const Job *j, float **copy) {
  *copy = NULL;
  if (j->ci->elem == ELEM_F32 && (uintptr_t)j->raw % _Alignof(float) == 0)
    return j->raw;
  return *copy = weightsConvertF32(j->ci, j->raw, j->rawSize);
}

/* Decodes elements [at, at + m) of a clustered weight into dec (per
 * channel: the whole weight, at = 0). */
static clusterrt_status decodeRange(const Clustered *cl, int axis, size_t at, size_t m,
                                    float *dec) {
  unsigned bits = clusterrt_format_bits(cl->fmt);
  return axis >= 0 ? clusterrt_decode_per_channel_f32(
                         cl->idx, cl->fmt, cl->outer, cl->chans, cl->inner,
                         cl->chanTable ? cl->chanTable : cl->table, cl->k, dec)
                   : clusterrt_decode_f32((const char *)cl->idx + at * bits / 8,
                                          cl->fmt, m, cl->table, cl->k, dec);
}

/* Step 2: sets j->state to JOB_OK or an error state. */
static void jobRun(const CwPass *p, Job *j) {
  const ClustercClusterWeightsOptions *o = &p->o;
  const ConstInfo *ci = j->ci;
  size_t n = ci->elements;
  float *copy;
  const float *w = jobValues(j, &copy);
  if (!w) {
    j->state = JOB_OOM;
    return;
  }
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(w[i])) {
      j->state = JOB_NONFINITE;
      j->bad = i;
      j->badNan = isnan(w[i]);
      goto out;
    }
  j->st = clusterWeights(w, j->sens, ci, j->axis, j->group, j->k, o, p->ut,
                         j->ext ? &j->lay : NULL, weightsSeed(o->seed, j->index),
                         &j->cl);
  if (j->st != CLUSTERRT_OK) {
    j->state = j->st == CLUSTERRT_ERR_NOMEM ? JOB_OOM
               : j->cl.distinct             ? JOB_UNIQUE_ERR
               : j->cl.needTables           ? JOB_TABLE_ERR
                                            : JOB_CLUSTER_ERR;
    goto out;
  }
  /* The reconstruction, with the runtime's own decode: whole for fold
   * (it is the output) and per channel, else in blocks (a multiple of 8
   * elements, so packed indices start on a byte). */
  const Clustered *cl = &j->cl;
  bool whole = o->decode == CLUSTERC_DECODE_FOLD || j->axis >= 0 || cl->pal;
  enum { BLOCK = 1 << 14 };
  size_t blk = whole ? n : (n < BLOCK ? n : BLOCK);
  float *dec = malloc(sizeof(float) * (blk ? blk : 1));
  if (!dec) {
    j->state = JOB_OOM;
    goto out;
  }
  double sig = 0, err = 0;
  for (size_t at = 0; at < n; at += blk) {
    size_t m = n - at < blk ? n - at : blk;
    clusterrt_status st = CLUSTERRT_OK;
    if (cl->pal)
      paletteDecode(cl->pal, ci, dec);
    else
      st = decodeRange(cl, j->axis, at, m, dec);
    if (st != CLUSTERRT_OK) {
      j->state = st == CLUSTERRT_ERR_NOMEM ? JOB_OOM : JOB_CLUSTER_ERR;
      j->st = st;
      free(dec);
      goto out;
    }
    for (size_t i = 0; i < m; ++i) {
      double d = (double)w[at + i] - dec[i];
      sig += (double)w[at + i] * w[at + i];
      err += d * d;
    }
  }
  j->sig = sig;
  j->err = err;
  if (o->decode == CLUSTERC_DECODE_FOLD) {
    if (ci->elem == ELEM_F32) {
      j->folded = dec; /* already the f32 bytes */
      dec = NULL;
    } else if (!(j->folded = encodeTable(dec, n, ci->elem))) {
      j->state = JOB_OOM;
      free(dec);
      goto out;
    }
  }
  free(dec);
  j->state = JOB_OK;
out:
  free(copy);
}

/* Step 3. False on a hard error (diagnosed here). */
static bool jobFinish(const CwPass *p, Job *j, MlirOperation module,
                      MlirSymbolTable symtab) {
  const ClustercClusterWeightsOptions *o = &p->o;
  const ConstInfo *ci = j->ci;
  MlirLocation loc = mlirOperationGetLocation(ci->op);
  const Clustered *cl = &j->cl;
  switch (j->state) {
  case JOB_SKIP: {
    bool isFloat = weightsIsFloat(ci->elem);
    /* Of clusterc's own output, one row per weight (not its indices). */
    bool shown = j->own ? strcmp(j->own, "indices") != 0 && strcmp(j->own, "scales") != 0
                        : ci->role == ROLE_WEIGHT || ci->role == ROLE_BIAS ||
                              (ci->role == ROLE_OTHER && isFloat &&
                               ci->elements >= o->min_elements);
    if (o->report && shown)
      o->report(&j->r, o->report_user);
    return true;
  }
  case JOB_AXIS_ERR:
    emitErrorf(loc, "cluster-weights: channel-axis %d is out of range for "
               "weight '%s' of rank %d", j->axis, j->name, (int)ci->rank);
    return false;
  case JOB_READ_ERR:
    emitErrorf(loc, "cluster-weights: cannot read weight '%s': %s", j->name, j->why);
    return false;
  case JOB_NONFINITE:
    emitErrorf(loc, "cluster-weights: weight '%s' has a non-finite value "
               "(%s) at element %llu; cannot cluster", j->name,
               j->badNan ? "NaN" : "Inf", (unsigned long long)j->bad);
    return false;
  case JOB_UNIQUE_ERR:
    emitErrorf(loc, "cluster-weights: palette=unique: weight '%s' has %zu "
               "distinct values%s, more than K = %u", j->name, cl->distinct,
               j->axis >= 0 ? " in one table" : "", j->k);
    return false;
  case JOB_TABLE_ERR:
    emitErrorf(loc, "cluster-weights: table %s has %zu rows; weight '%s' "
               "needs 1 or %zu", o->table, p->ut->tables, j->name, cl->needTables);
    return false;
  case JOB_SENS_ERR:
    emitErrorf(loc, "cluster-weights: the sensitivity of weight '%s' has %llu values; "
               "the weight has %llu", j->name, (unsigned long long)j->sensCount,
               (unsigned long long)ci->elements);
    return false;
  case JOB_LAYOUT_ERR:
    emitErrorf(loc, "cluster-weights: weight '%s': %s", j->name, j->layWhy);
    return false;
  case JOB_CLUSTER_ERR:
    emitErrorf(loc, "cluster-weights: clustering weight '%s' failed: %s", j->name,
               clusterrt_status_string(j->st));
    return false;
  case JOB_WORK: /* not run: cannot happen */
  case JOB_OOM:
    emitErrorf(loc, "cluster-weights: out of memory on weight '%s'", j->name);
    return false;
  case JOB_OK:
    break;
  }
  FusedStore fs = {0, 0, true};
  int rw = o->decode == CLUSTERC_DECODE_FOLD
               ? (rewriteFolded(ci, j->folded, j->name) ? RW_OK : RW_OOM)
               : rewrite(ci, cl, j->axis, j->name, module, symtab,
                         o->decode == CLUSTERC_DECODE_RUNTIME,
                         o->decode == CLUSTERC_DECODE_FUSED, j->kept,
                         sizeof j->kept, &fs);
  if (rw == RW_FAILED)
    return false;
  if (rw != RW_OK) {
    emitErrorf(loc, "cluster-weights: out of memory on weight '%s'", j->name);
    return false;
  }
  ClustercLayerReport *r = &j->r;
  r->clustered = 1;
  r->k = (unsigned)cl->k;
  r->tables = (unsigned)cl->tables;
  /* decode=fused: what the object stores, the LUT calls' repacked copies
   * (at the kernels' width) plus the weight's own form where a decode is
   * kept. */
  r->bits = fs.bytes ? fs.bits : clusterrt_format_bits(cl->fmt);
  r->bytes_after = o->decode == CLUSTERC_DECODE_FOLD ? r->bytes_before
                   : cl->pal ? paletteTableBytes(cl->pal, ci) + cl->idxBytes
                             : fs.bytes + (fs.kept ? cl->tables * cl->k * ci->elemBytes +
                                                         cl->idxBytes
                                                   : 0);
  r->mse = j->err / (double)ci->elements;
  r->sqnr_db = sqnrDb(j->sig, j->err);
  r->centroids = cl->table; /* NULL for an extended palette */
  r->indices = cl->idx;
  r->cluster_dim = cl->pal ? (unsigned)cl->pal->dim : 1;
  r->table_type = cl->pal && cl->pal->ttype == CLUSTERC_TABLE_INT8    ? "int8"
                  : cl->pal && cl->pal->ttype == CLUSTERC_TABLE_UINT8 ? "uint8"
                                                                      : "float";
  r->per_channel_scale = cl->pal && cl->pal->cscale;
  r->index_format = cl->fmt;
  r->channel_axis = j->axis;
  r->decode_kept = j->kept;
  if (o->report)
    o->report(r, o->report_user);
  r->centroids = NULL;
  r->indices = NULL;
  return true;
}

/* The jobs to run (state JOB_WORK), handed out in `order`; `done` marks the
 * finished ones. All fields after the constants are under `mu`. */
typedef struct Pool {
  const CwPass *p;
  Job *jobs;
  const size_t *order;
  size_t numOrder;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t next;          /* next position in order to hand out */
  unsigned char *done;  /* per job */
  bool cancel;          /* stop handing out jobs */
} Pool;

/* Claims and runs one job; false when none is left. Called with mu held,
 * returns with it held. */
static bool poolRunOne(Pool *pl) {
  if (pl->cancel || pl->next == pl->numOrder)
    return false;
  size_t i = pl->order[pl->next++];
  pthread_mutex_unlock(&pl->mu);
  jobRun(pl->p, &pl->jobs[i]);
  pthread_mutex_lock(&pl->mu);
  pl->done[i] = 1;
  pthread_cond_broadcast(&pl->cv);
  return true;
}

static void *poolWorker(void *user) {
  Pool *pl = user;
  pthread_mutex_lock(&pl->mu);
  while (poolRunOne(pl))
    ;
  pthread_mutex_unlock(&pl->mu);
  return NULL;
}

/* Waits until job i has run, running pending jobs meanwhile. */
static void poolWait(Pool *pl, size_t i) {
  pthread_mutex_lock(&pl->mu);
  while (!pl->done[i])
    if (!poolRunOne(pl))
      pthread_cond_wait(&pl->cv, &pl->mu);
  pthread_mutex_unlock(&pl->mu);
}

static unsigned threadCount(unsigned requested) {
  if (requested)
    return requested;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

/* A job number and its size, for handing out the largest jobs first. */
typedef struct SizedJob {
  uint64_t elements;
  size_t job;
} SizedJob;

static int bySize(const void *a, const void *b) {
  const SizedJob *x = a, *y = b;
  if (x->elements != y->elements)
    return x->elements > y->elements ? -1 : 1;
  return x->job < y->job ? -1 : x->job > y->job;
}

/* Fills order[0..n) with the job numbers of sized[0..n), largest first
 * (then in walk order). */
static void orderJobs(SizedJob *sized, size_t n, size_t *order) {
  qsort(sized, n, sizeof *sized, bySize);
  for (size_t i = 0; i < n; ++i)
    order[i] = sized[i].job;
}

/* ---- Mixed precision under a budget (size-budget=, bits-budget=) ------------
 *
 * Each selected weight gets a width b in 1..8 (K = 2^b). Its curve is the
 * stored bytes (tables + packed indices, as the report counts them) and the
 * squared error, weighted by the sensitivities when it has them, of the
 * clustering it would get at each b (the same clusterWeights call). A
 * multiple-choice knapsack over the curves picks the widths: dynamic
 * programming over the Pareto frontier of (bytes, error) states, layer by
 * layer, every state within the budget, so the result is feasible and,
 * unless a frontier outgrows BUDGET_MAX_STATES (then thinned evenly), the
 * exact minimum. */

enum { BUDGET_BITS = 8, BUDGET_MAX_STATES = 1 << 16 };

typedef struct Curve {
  uint64_t bytes[BUDGET_BITS]; /* [b - 1] */
  double err[BUDGET_BITS];
} Curve;

/* Fills j's curve; false when out of memory. A non-finite weight gets a
 * flat curve (jobRun reports it). */
static bool jobCurve(const CwPass *p, const Job *j, Curve *cv) {
  const ConstInfo *ci = j->ci;
  size_t n = ci->elements;
  memset(cv, 0, sizeof *cv);
  float *copy;
  const float *w = jobValues(j, &copy);
  float *dec = w ? malloc(sizeof(float) * (n ? n : 1)) : NULL;
  bool ok = dec != NULL;
  for (size_t i = 0; ok && i < n; ++i)
    if (!isfinite(w[i]))
      goto out;
  for (unsigned b = 1; ok && b <= BUDGET_BITS; ++b) {
    Clustered cl;
    clusterrt_status st = clusterWeights(w, j->sens, ci, j->axis, j->group, 1u << b, &p->o,
                                         NULL, NULL, weightsSeed(p->o.seed, j->index), &cl);
    if (st == CLUSTERRT_OK)
      st = decodeRange(&cl, j->axis, 0, n, dec);
    if (st != CLUSTERRT_OK) { /* jobRun meets the same failure and says so */
      clusteredFree(&cl);
      ok = st != CLUSTERRT_ERR_NOMEM;
      memset(cv, 0, sizeof *cv);
      break;
    }
    double err = 0;
    for (size_t i = 0; i < n; ++i) {
      double d = (double)w[i] - dec[i];
      err += (j->sens ? (double)j->sens[i] : 1.0) * d * d;
    }
    cv->bytes[b - 1] = cl.tables * cl.k * ci->elemBytes + cl.idxBytes;
    cv->err[b - 1] = err;
    clusteredFree(&cl);
  }
out:
  free(dec);
  free(copy);
  return ok;
}

typedef struct BState {
  uint64_t bytes;
  double err;
  uint32_t parent; /* state of the previous layer */
  uint8_t bits;
} BState;

static int byBytes(const void *a, const void *b) {
  const BState *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes < y->bytes ? -1 : 1;
  return (x->err > y->err) - (x->err < y->err);
}

/* Chooses bits[0..L) (1..8) for curves cv[0..L) minimising the total error
 * with the total bytes at most budget. 1: done, 0: infeasible, -1: out of
 * memory. */
static int budgetChoose(const Curve *cv, size_t L, uint64_t budget, unsigned *bits) {
  BState **F = calloc(L + 1, sizeof *F);
  size_t *size = calloc(L + 1, sizeof *size);
  int rc = -1;
  if (!F || !size || !(F[0] = calloc(1, sizeof **F)))
    goto done;
  size[0] = 1;
  for (size_t l = 0; l < L; ++l) {
    BState *cand = malloc(sizeof *cand * size[l] * BUDGET_BITS);
    if (!cand)
      goto done;
    size_t m = 0;
    for (size_t s = 0; s < size[l]; ++s)
      for (unsigned b = 1; b <= BUDGET_BITS; ++b) {
        uint64_t bytes = F[l][s].bytes + cv[l].bytes[b - 1];
        if (bytes <= budget)
          cand[m++] = (BState){bytes, F[l][s].err + cv[l].err[b - 1], (uint32_t)s,
                               (uint8_t)b};
      }
    if (!m) {
      free(cand);
      rc = 0;
      goto done;
    }
    qsort(cand, m, sizeof *cand, byBytes);
    size_t k = 0; /* the Pareto frontier: more bytes only for less error */
    for (size_t i = 0; i < m; ++i)
      if (!k || cand[i].err < cand[k - 1].err)
        cand[k++] = cand[i];
    if (k > BUDGET_MAX_STATES) { /* thin evenly, keeping the last (least error) */
      size_t step = (k + BUDGET_MAX_STATES - 1) / BUDGET_MAX_STATES, t = 0;
      for (size_t i = 0; i < k; i += step)
        cand[t++] = cand[i];
      if (cand[t - 1].bytes != cand[k - 1].bytes)
        cand[t++] = cand[k - 1];
      k = t;
    }
    F[l + 1] = cand;
    size[l + 1] = k;
  }
  size_t s = size[L] - 1; /* the least error */
  for (size_t l = L; l > 0; --l) {
    bits[l - 1] = F[l][s].bits;
    s = F[l][s].parent;
  }
  rc = 1;
done:
  for (size_t l = 0; F && l <= L; ++l)
    free(F[l]);
  free(F);
  free(size);
  return rc;
}

/* With a budget: sets the K of every job to be clustered (n jobs). False
 * after a diagnostic. */
static bool budgetAssign(const CwPass *p, Job *jobs, size_t n, MlirOperation module) {
  const ClustercClusterWeightsOptions *o = &p->o;
  MlirLocation loc = mlirOperationGetLocation(module);
  const char *opt = o->size_budget ? "size-budget" : "bits-budget";
  if (o->bits || o->table || o->palette == CLUSTERC_PALETTE_UNIQUE) {
    emitErrorf(loc, "cluster-weights: %s chooses the widths; it does not combine with %s",
               opt, o->bits ? "bits=" : o->table ? "table=" : "palette=unique");
    return false;
  }
  size_t L = 0;
  uint64_t elements = 0;
  for (size_t i = 0; i < n; ++i)
    if (jobs[i].work) {
      L++;
      elements += jobs[i].ci->elements;
    }
  uint64_t budget = o->size_budget ? o->size_budget
                                   : (uint64_t)(o->bits_budget * (double)elements / 8);
  Curve *cv = calloc(L ? L : 1, sizeof *cv);
  unsigned *bits = calloc(L ? L : 1, sizeof *bits);
  bool ok = cv && bits;
  for (size_t i = 0, l = 0; ok && i < n; ++i)
    if (jobs[i].work)
      ok = jobCurve(p, &jobs[i], &cv[l++]);
  int rc = ok ? budgetChoose(cv, L, budget, bits) : -1;
  if (rc < 0) {
    emitErrorf(loc, "cluster-weights: out of memory");
  } else if (rc == 0) {
    uint64_t least = 0;
    for (size_t l = 0; l < L; ++l) {
      uint64_t m = cv[l].bytes[0];
      for (unsigned b = 1; b < BUDGET_BITS; ++b)
        m = cv[l].bytes[b] < m ? cv[l].bytes[b] : m;
      least += m;
    }
    emitErrorf(loc, "cluster-weights: %s: %llu bytes cannot hold the %zu selected weights "
               "(%llu elements): the smallest clustering (1 bit, K = 2, everywhere) "
               "takes %llu bytes", opt, (unsigned long long)budget, L,
               (unsigned long long)elements, (unsigned long long)least);
  } else {
    for (size_t i = 0, l = 0; i < n; ++i)
      if (jobs[i].work) {
        jobs[i].k = 1u << bits[l++];
        jobs[i].r.k_requested = jobs[i].k;
      }
  }
  free(cv);
  free(bits);
  return rc > 0;
}

/* Clusters every constant of c; false after a diagnostic. */
static bool processAll(const CwPass *p, Collect *c, MlirOperation module,
                       MlirSymbolTable symtab) {
  int count = 0;
  for (size_t i = 0; i < c->count; ++i)
    count += c->items[i].role == ROLE_WEIGHT;
  size_t cap = c->count ? c->count : 1;
  Job *jobs = calloc(cap, sizeof *jobs);
  size_t *order = malloc(sizeof *order * cap);
  SizedJob *sized = malloc(sizeof *sized * cap);
  unsigned char *done = calloc(cap, 1);
  Pool pl = {.p = p, .jobs = jobs, .order = order, .done = done};
  bool ok = jobs && order && sized && done;
  /* Weight indices in execution order (weightsNumber). */
  const ConstInfo **ptrs = malloc(sizeof *ptrs * cap);
  int *index = malloc(sizeof *index * cap);
  ok = ok && ptrs && index;
  for (size_t i = 0; ok && i < c->count; ++i)
    ptrs[i] = &c->items[i];
  ok = ok && weightsNumber(module, ptrs, c->count, index);
  free(ptrs);
  size_t prepared = 0;
  for (; ok && prepared < c->count; ++prepared) {
    const ConstInfo *ci = &c->items[prepared];
    ok = jobPrepare(p, &jobs[prepared], ci, index[prepared], count);
    if (ok && jobs[prepared].work)
      sized[pl.numOrder++] = (SizedJob){ci->elements, prepared};
  }
  /* Selectors that match no weight (names[i]: weight index i). */
  bool selected = true;
  if (ok && (p->o.num_only || p->o.num_layers)) {
    const char **names = malloc(sizeof *names * (c->count ? c->count : 1));
    ok = names != NULL;
    int numNames = count; /* weights at their index, then forced constants */
    for (size_t i = 0; ok && i < c->count; ++i)
      if (jobs[i].index >= 0)
        names[jobs[i].index] = jobs[i].name;
      else if (p->o.force && weightsForced(&p->o, &c->items[i], jobs[i].name))
        names[numNames++] = jobs[i].name;
    selected = !ok || weightsCheckSelectors("cluster-weights", &p->o, names, count,
                                            numNames, mlirOperationGetLocation(module));
    free(names);
  }
  if (ok && selected && (p->o.size_budget || p->o.bits_budget > 0))
    selected = budgetAssign(p, jobs, prepared, module);
  if (!ok) {
    mlirEmitError(mlirOperationGetLocation(module), "cluster-weights: out of memory");
  } else if (selected) {
    orderJobs(sized, pl.numOrder, order);
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    unsigned want = threadCount(p->o.threads);
    size_t nWorkers = want - 1 < pl.numOrder ? want - 1 : pl.numOrder;
    pthread_t *tids = malloc(sizeof *tids * (nWorkers ? nWorkers : 1));
    size_t started = 0;
    while (tids && started < nWorkers &&
           !pthread_create(&tids[started], NULL, poolWorker, &pl))
      ++started; /* fewer threads than asked for is fine */
    for (size_t i = 0; ok && i < c->count; ++i) {
      if (jobs[i].work) /* (not .state: a worker may be writing it) */
        poolWait(&pl, i);
      ok = jobFinish(p, &jobs[i], module, symtab);
      jobFree(&jobs[i]);
    }
    pthread_mutex_lock(&pl.mu);
    pl.cancel = true;
    pthread_mutex_unlock(&pl.mu);
    for (size_t t = 0; t < started; ++t)
      pthread_join(tids[t], NULL);
    free(tids);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
  }
  ok = ok && selected;
  for (size_t i = 0; i < prepared; ++i)
    jobFree(&jobs[i]);
  free(jobs);
  free(order);
  free(sized);
  free(done);
  free(index);
  return ok;
}

static void cwRun(MlirOperation module, MlirExternalPass pass, void *user) {
  CwPass run = *(const CwPass *)user; /* shallow: p->o stays the pass's */
  const CwPass *p = &run;
  UserTable ut = {0};
  run.ut = NULL;
  char usage[256];
  if (clustercClusterWeightsOptionsCheck(&run.o, usage, sizeof usage)) {
    emitErrorf(mlirOperationGetLocation(module), "cluster-weights: %s", usage);
    mlirExternalPassSignalFailure(pass);
    return;
  }
  if (run.o.table) {
    char buf[128];
    const char *why;
    if (!loadUserTable(run.o.table, &ut, buf, sizeof buf, &why)) {
      emitErrorf(mlirOperationGetLocation(module), "cluster-weights: table %s: %s",
                 run.o.table, why);
      mlirExternalPassSignalFailure(pass);
      return;
    }
    run.ut = &ut;
  }
  Collect c = {0};
  mlirOperationWalk(module, collectConst, &c, MlirWalkPreOrder);
  bool ok = !c.oom && attachLoads(&c);
  for (size_t i = 0; ok && i < c.count; ++i)
    weightsClassify(&c.items[i]);
  MlirSymbolTable symtab = mlirSymbolTableCreate(module);
  if (!ok)
    mlirEmitError(mlirOperationGetLocation(module), "cluster-weights: out of memory");
  else
    ok = processAll(p, &c, module, symtab);
  mlirSymbolTableDestroy(symtab);
  for (size_t i = 0; i < c.count; ++i)
    weightsRelease(&c.items[i]);
  free(c.items);
  free(c.loads);
  free(ut.c);
  if (!ok)
    mlirExternalPassSignalFailure(pass);
}

static void cwConstruct(void *user) { (void)user; }

static void cwDestruct(void *user) {
  CwPass *p = user;
  clustercClusterWeightsOptionsFree(&p->o);
  free(p);
}

static void *cwClone(void *user) {
  const CwPass *src = user;
  CwPass *p = malloc(sizeof *p);
  if (p && clustercClusterWeightsOptionsCopy(&p->o, &src->o)) {
    free(p);
    p = NULL;
  }
  return p;
}

static MlirTypeIDAllocator typeIdAllocator;
static MlirTypeID cwTypeId;
static void initTypeId(void) {
  typeIdAllocator = mlirTypeIDAllocatorCreate();
  cwTypeId = mlirTypeIDAllocatorAllocateTypeID(typeIdAllocator);
}

void clustercRegisterDialects(MlirContext ctx) {
  /* cluster-weights creates arith, linalg and tensor ops; cluster-train
   * also func and math ones. */
  MlirDialectHandle hs[5] = {mlirGetDialectHandle__arith__(),
                             mlirGetDialectHandle__linalg__(),
                             mlirGetDialectHandle__tensor__(),
                             mlirGetDialectHandle__func__(),
                             mlirGetDialectHandle__math__()};
  for (int i = 0; i < 5; ++i) {
    mlirDialectHandleRegisterDialect(hs[i], ctx);
    mlirDialectHandleLoadDialect(hs[i], ctx);
  }
}

MlirPass clustercCreateClusterWeightsPass(const ClustercClusterWeightsOptions *o) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, initTypeId);
  CwPass *p = malloc(sizeof *p);
  if (!p)
    return (MlirPass){NULL};
  if (clustercClusterWeightsOptionsCopy(&p->o, o)) {
    free(p);
    return (MlirPass){NULL};
  }
  MlirDialectHandle deps[3] = {mlirGetDialectHandle__arith__(),
                               mlirGetDialectHandle__linalg__(),
                               mlirGetDialectHandle__tensor__()};
  MlirExternalPassCallbacks cb = {cwConstruct, cwDestruct, NULL, cwClone, cwRun};
  return mlirCreateExternalPass(
      cwTypeId, irStr("ClusterWeights"), irStr("cluster-weights"),
      irStr("Cluster weight constants into centroid tables, packed indices "
            "and a decode"),
      irStr("builtin.module"), 3, deps, cb, p);
}
