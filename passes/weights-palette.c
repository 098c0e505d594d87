/*
 * Extended palettes: quantized tables, per-channel scales and vector
 * palettes (see palette.h for the stored form and the decode).
 */
#include "palette.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/AffineMap.h"

bool paletteWanted(const ClustercClusterWeightsOptions *o) {
  return o->table_type != CLUSTERC_TABLE_FLOAT || o->per_channel_scale ||
         o->cluster_dim > 1;
}

const char *paletteCheckOptions(const ClustercClusterWeightsOptions *o,
                                char *buf, size_t size) {
  unsigned d = o->cluster_dim;
  if (d != 1 && d != 2 && d != 4 && d != 8) {
    snprintf(buf, size, "cluster-dim must be 1, 2, 4 or 8, got %u", d);
    return buf;
  }
  if (d > 1 && o->palette != CLUSTERC_PALETTE_KMEANS) {
    snprintf(buf, size, "cluster-dim=%u takes palette=kmeans only (uniform and "
             "unique are scalar palettes)", d);
    return buf;
  }
  if (d > 1 && o->table) {
    snprintf(buf, size, "cluster-dim=%u does not take a table file (table=%s "
             "holds scalar centroids)", d, o->table);
    return buf;
  }
  if (d > 1 && o->init != CLUSTERRT_INIT_KMEANSPP) {
    snprintf(buf, size, "cluster-dim=%u: init=%s is a 1-D init; vector "
             "palettes start from kmeans++", d, clusterrt_init_name(o->init));
    return buf;
  }
  if (d > 1 && o->preserve_sparsity) {
    snprintf(buf, size, "cluster-dim=%u does not combine with "
             "preserve-sparsity (a zero vector is not kept exact)", d);
    return buf;
  }
  return NULL;
}

/* The last axis that is not the output channels' (the input channels of
 * matmul [K, N], fc [O, I], TOSA conv [O, H, W, I], linalg HWCF). */
static int inputAxis(const ConstInfo *ci, int chanAxis) {
  for (int a = (int)ci->rank - 1; a >= 0; --a)
    if (a != chanAxis)
      return a;
  return 0;
}

bool paletteLayout(Palette *p, const ClustercClusterWeightsOptions *o,
                   const ConstInfo *ci, int taxis, size_t group, int chanAxis,
                   char *why, size_t whySize) {
  memset(p, 0, sizeof *p);
  p->dim = o->cluster_dim ? o->cluster_dim : 1;
  p->taxis = taxis;
  p->group = taxis >= 0 ? group : 1;
  p->ttype = o->table_type;
  p->saxis = o->per_channel_scale ? (chanAxis >= 0 && chanAxis < ci->rank ? chanAxis : 0)
                                  : -1;
  p->vaxis = -1;
  if (p->dim > 1) {
    p->vaxis = inputAxis(ci, p->saxis >= 0 ? p->saxis : taxis >= 0 ? taxis : chanAxis);
    int64_t len = ci->rank ? ci->shape[p->vaxis] : 1;
    if (len % (int64_t)p->dim) {
      snprintf(why, whySize, "cluster-dim=%zu: the vectors' axis %d has %lld "
               "elements, which do not divide by %zu (leave the weight out "
               "with layers=NAME:skip)", p->dim, p->vaxis, (long long)len, p->dim);
      return false;
    }
    if (p->vaxis == taxis || p->vaxis == p->saxis) {
      snprintf(why, whySize, "cluster-dim=%zu: the vectors would run along axis "
               "%d, the axis of the %s (a weight of rank %d has no other)",
               p->dim, p->vaxis, p->vaxis == taxis ? "tables" : "channel scales",
               (int)ci->rank);
      return false;
    }
  }
  return true;
}

/* ---- Index arithmetic --------------------------------------------------- */

/* The product of shape[from..to). */
static size_t span(const ConstInfo *ci, int from, int to) {
  size_t s = 1;
  for (int a = from; a < to; ++a)
    s *= (size_t)ci->shape[a];
  return s;
}

typedef struct Walk {
  size_t d, A, innerV;        /* vectors: the axis length, what is inside */
  size_t tStride, tLen, group; /* tables: index-space stride and length */
  size_t sStride, sLen;       /* scales: element stride and length */
} Walk;

static Walk walkOf(const Palette *p, const ConstInfo *ci) {
  Walk w = {.d = p->dim, .A = 1, .innerV = 1, .tStride = 1, .tLen = 1,
            .group = p->group ? p->group : 1, .sStride = 1, .sLen = 1};
  int r = (int)ci->rank;
  if (p->vaxis >= 0) {
    w.A = (size_t)ci->shape[p->vaxis];
    w.innerV = span(ci, p->vaxis + 1, r);
  }
  if (p->taxis >= 0) {
    w.tLen = (size_t)ci->shape[p->taxis];
    w.tStride = span(ci, p->taxis + 1, r);
    if (p->vaxis > p->taxis) /* the index space divides the vectors' axis */
      w.tStride /= w.d;
  }
  if (p->saxis >= 0) {
    w.sLen = (size_t)ci->shape[p->saxis];
    w.sStride = span(ci, p->saxis + 1, r);
  }
  return w;
}

/* Element i's vector v and position e in it. */
static void vecOf(const Walk *w, size_t i, size_t *v, size_t *e) {
  if (w->d == 1) {
    *v = i;
    *e = 0;
    return;
  }
  size_t r = i % w->innerV, a = i / w->innerV % w->A, o = i / (w->innerV * w->A);
  *v = (o * (w->A / w->d) + a / w->d) * w->innerV + r;
  *e = a % w->d;
}

static size_t tableOf(const Walk *w, size_t v) {
  return v / w->tStride % w->tLen / w->group;
}

static size_t chanOf(const Walk *w, size_t i) { return i / w->sStride % w->sLen; }

static float roundTo(float x, ElemKind e) {
  return e == ELEM_F16    ? weightsHalfToFloat(weightsFloatToHalf(x))
         : e == ELEM_BF16 ? weightsBF16ToFloat(weightsFloatToBF16(x))
                          : x;
}

/* ---- Clustering ---------------------------------------------------------- */

/* Quantizes table t's m entries in place to the dequantized values. */
static void quantize(Palette *p, size_t t, size_t m) {
  float *c = p->table + t * m;
  uint8_t *q = p->q + t * m;
  float lo = 0, hi = 0, amax = 0;
  for (size_t j = 0; j < m; ++j) {
    lo = c[j] < lo ? c[j] : lo;
    hi = c[j] > hi ? c[j] : hi;
    amax = fabsf(c[j]) > amax ? fabsf(c[j]) : amax;
  }
  bool u8 = p->ttype == CLUSTERC_TABLE_UINT8;
  float scale = u8 ? (hi - lo) / 255.0f : amax / 127.0f;
  if (!(scale > 0) || !isfinite(scale))
    scale = 1.0f;
  int zp = 0;
  if (u8) {
    zp = (int)lrintf(-lo / scale);
    zp = zp < 0 ? 0 : zp > 255 ? 255 : zp;
    p->qzp[t] = (uint8_t)zp;
  }
  p->qscale[t] = scale;
  int qlo = u8 ? 0 : -128, qhi = u8 ? 255 : 127;
  for (size_t j = 0; j < m; ++j) {
    long v = lrintf(c[j] / scale) + zp;
    v = v < qlo ? qlo : v > qhi ? qhi : v;
    q[j] = u8 ? (uint8_t)v : (uint8_t)(int8_t)v;
    int code = u8 ? (int)q[j] : (int)(int8_t)q[j];
    c[j] = scale * (float)(code - zp); /* as the decode computes it */
  }
}

clusterrt_status paletteCluster(Palette *p, const float *w, const ConstInfo *ci,
                                unsigned kReq, size_t kRoom,
                                const ClustercClusterWeightsOptions *o,
                                uint64_t seed, PaletteTableFn fn, void *user) {
  size_t n = ci->elements, d = p->dim, nv = n / d;
  Walk wk = walkOf(p, ci);
  size_t T = (wk.tLen + wk.group - 1) / wk.group;
  if (kRoom < kReq)
    kRoom = kReq;
  clusterrt_status st = CLUSTERRT_ERR_NOMEM;
  float *x = malloc(sizeof(float) * n);          /* normalized, by vector */
  float *xt = malloc(sizeof(float) * n);         /* grouped by table */
  size_t *start = calloc(T + 1, sizeof *start);  /* table t's vectors */
  size_t *vid = malloc(sizeof(size_t) * nv);     /* their vector numbers */
  size_t *ks = malloc(sizeof(size_t) * T);
  float *tab = malloc(sizeof(float) * T * kRoom * d);
  uint32_t *asg = malloc(sizeof(uint32_t) * nv);
  p->nIdx = nv;
  p->idx = malloc(sizeof(uint32_t) * (nv ? nv : 1));
  if (p->saxis >= 0)
    p->cscale = calloc(wk.sLen, sizeof(float));
  if (!x || !xt || !start || !vid || !ks || !tab || !asg || !p->idx ||
      (p->saxis >= 0 && !p->cscale))
    goto done;
  if (p->cscale) {
    for (size_t i = 0; i < n; ++i) {
      float a = fabsf(w[i]);
      size_t ch = chanOf(&wk, i);
      p->cscale[ch] = a > p->cscale[ch] ? a : p->cscale[ch];
    }
    for (size_t ch = 0; ch < wk.sLen; ++ch)
      if (!(p->cscale[ch] > 0))
        p->cscale[ch] = 1.0f;
  }
  for (size_t i = 0; i < n; ++i) {
    size_t v, e;
    vecOf(&wk, i, &v, &e);
    x[v * d + e] = p->cscale ? w[i] / p->cscale[chanOf(&wk, i)] : w[i];
  }
  for (size_t v = 0; v < nv; ++v)
    ++start[tableOf(&wk, v) + 1];
  for (size_t t = 0; t < T; ++t)
    start[t + 1] += start[t];
  {
    size_t *fill = ks; /* borrowed as the fill positions */
    memcpy(fill, start, T * sizeof *fill);
    for (size_t v = 0; v < nv; ++v) {
      size_t at = fill[tableOf(&wk, v)]++;
      vid[at] = v;
      memcpy(xt + at * d, x + v * d, d * sizeof(float));
    }
  }
  clusterrt_cluster_options co = weightsClusterOptions(o, kReq, seed);
  size_t kMax = 1;
  for (size_t t = 0; t < T; ++t) {
    size_t m = start[t + 1] - start[t];
    uint64_t s = weightsSplitMix64(seed ^ (uint64_t)t);
    st = d == 1 ? fn(user, xt + start[t], m, t, s, tab + t * kRoom, &ks[t])
                : clusterrt_kmeans_vec_f32(xt + start[t] * d, m, d, kReq, s,
                                           co.max_iter, co.init_only,
                                           tab + t * kRoom * d, &ks[t]);
    if (st != CLUSTERRT_OK)
      goto done;
    kMax = ks[t] > kMax ? ks[t] : kMax;
  }
  /* Each table padded to kMax by repeating its last entry (ties go to the
   * lowest index, so padding is never chosen). */
  size_t m = kMax * d;
  p->table = malloc(sizeof(float) * T * m);
  if (p->ttype != CLUSTERC_TABLE_FLOAT) {
    p->q = malloc(T * m);
    p->qscale = malloc(sizeof(float) * T);
    p->qzp = calloc(T, 1);
  }
  st = CLUSTERRT_ERR_NOMEM;
  if (!p->table || (p->ttype != CLUSTERC_TABLE_FLOAT && (!p->q || !p->qscale || !p->qzp)))
    goto done;
  for (size_t t = 0; t < T; ++t) {
    for (size_t j = 0; j < kMax; ++j)
      for (size_t e = 0; e < d; ++e)
        p->table[(t * kMax + j) * d + e] =
            tab[t * kRoom * d + (j < ks[t] ? j : ks[t] - 1) * d + e];
    if (p->ttype == CLUSTERC_TABLE_FLOAT)
      for (size_t j = 0; j < m; ++j)
        p->table[t * m + j] = roundTo(p->table[t * m + j], ci->elem);
    else
      quantize(p, t, m);
  }
  p->tables = T;
  p->k = kMax;
  for (size_t t = 0; t < T; ++t) {
    size_t mt = start[t + 1] - start[t];
    if ((st = clusterrt_assign_vec_f32(xt + start[t] * d, mt, d, p->table + t * m,
                                       kMax, asg + start[t])) != CLUSTERRT_OK)
      goto done;
  }
  for (size_t at = 0; at < nv; ++at)
    p->idx[vid[at]] = asg[at];
  st = CLUSTERRT_OK;
done:
  free(x), free(xt), free(start), free(vid), free(ks), free(tab), free(asg);
  return st;
}

void paletteDecode(const Palette *p, const ConstInfo *ci, float *out) {
  Walk wk = walkOf(p, ci);
  size_t d = p->dim;
  for (size_t i = 0; i < ci->elements; ++i) {
    size_t v, e;
    vecOf(&wk, i, &v, &e);
    float x = p->table[(tableOf(&wk, v) * p->k + p->idx[v]) * d + e];
    if (p->cscale)
      x = x * p->cscale[chanOf(&wk, i)];
    out[i] = roundTo(x, ci->elem);
  }
}

size_t paletteTableBytes(const Palette *p, const ConstInfo *ci) {
  size_t entries = p->tables * p->k * p->dim;
  size_t b = p->ttype == CLUSTERC_TABLE_FLOAT
                 ? entries * ci->elemBytes
                 : entries + p->tables * (4 + (p->ttype == CLUSTERC_TABLE_UINT8));
  if (p->cscale)
    b += 4 * (size_t)ci->shape[p->saxis];
  return b;
}

void paletteFree(Palette *p) {
  free(p->table), free(p->q), free(p->qscale), free(p->qzp);
  free(p->cscale), free(p->idx);
  memset(p, 0, sizeof *p);
}

/* ---- IR ------------------------------------------------------------------ */

MlirValue irPackedIndex(IrBuilder *bb, MlirValue idx, MlirValue flat,
                        unsigned bits, size_t idxBytes) {
  /* bit = flat * bits; the index is bits [bit, bit + bits) of the
   * little-endian byte stream: bytes byte = bit >> 3 and, for odd widths,
   * the one or two after it (the positions clamped to the buffer: the bits
   * read from a clamped byte are masked off), shifted right by bit & 7 and
   * masked. */
  MlirContext ctx = bb->ctx;
  MlirType i32 = mlirIntegerTypeGet(ctx, 32), indexT = mlirIndexTypeGet(ctx);
  unsigned nbytes = (bits == 1 || bits == 2 || bits == 4 || bits == 8) ? 1
                    : bits <= 9                                         ? 2
                                                                        : 3;
  MlirValue bit = irBinary(bb, "arith.muli", flat, irConstIndex(bb, bits));
  MlirValue byte = irBinary(bb, "arith.shrui", bit, irConstIndex(bb, 3));
  MlirValue sh = irBinary(bb, "arith.andi", bit, irConstIndex(bb, 7));
  MlirValue last = irConstIndex(bb, (int64_t)idxBytes - 1);
  MlirValue word = (MlirValue){NULL};
  for (unsigned q = 0; q < nbytes; ++q) {
    MlirValue at = q == 0 ? byte
                          : irBinary(bb, "arith.minui",
                                     irBinary(bb, "arith.addi", byte,
                                              irConstIndex(bb, q)),
                                     last);
    MlirValue ops[2] = {idx, at};
    MlirValue v8 = irCreate1(bb, "tensor.extract", 2, ops,
                             mlirIntegerTypeGet(ctx, 8), 0, NULL);
    MlirValue v32 = irCast(bb, "arith.extui", v8, i32);
    if (q > 0)
      v32 = irBinary(bb, "arith.shli", v32, irConstInt(bb, i32, 8 * q));
    word = q == 0 ? v32 : irBinary(bb, "arith.ori", word, v32);
  }
  MlirValue sh32 = irCast(bb, "arith.index_castui", sh, i32);
  MlirValue m = irBinary(bb, "arith.andi", irBinary(bb, "arith.shrui", word, sh32),
                         irConstInt(bb, i32, (1 << bits) - 1));
  return irCast(bb, "arith.index_castui", m, indexT);
}

static MlirValue extract(IrBuilder *bb, MlirValue t, intptr_t n, const MlirValue *at,
                         MlirType et) {
  MlirValue ops[4] = {t};
  memcpy(ops + 1, at, sizeof *at * (size_t)n);
  return irCreate1(bb, "tensor.extract", n + 1, ops, et, 0, NULL);
}

MlirValue paletteBuildDecode(IrBuilder *b, const ConstInfo *ci, const Palette *p,
                             clusterrt_index_format fmt, size_t idxBytes,
                             const MlirValue *parts) {
  MlirContext ctx = b->ctx;
  MlirType et = mlirShapedTypeGetElementType(ci->type), f32 = mlirF32TypeGet(ctx);
  MlirType indexT = mlirIndexTypeGet(ctx), i8 = mlirIntegerTypeGet(ctx, 8);
  MlirType i32 = mlirIntegerTypeGet(ctx, 32);
  MlirLocation loc = b->loc;
  MlirBlock body = mlirBlockCreate(1, &et, &loc);
  IrBuilder bb = {ctx, {NULL}, body, b->loc};
  MlirValue ids[IR_MAX_RANK];
  for (intptr_t a = 0; a < ci->rank; ++a) {
    MlirNamedAttribute dim = irNamed(ctx, "dim",
                                     mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), a));
    ids[a] = irCreate1(&bb, "linalg.index", 0, NULL, indexT, 1, &dim);
  }
  /* The vector's flat position in the index space. */
  MlirValue flat = ci->rank == 0 ? irConstIndex(&bb, 0) : (MlirValue){NULL};
  MlirValue dv = irConstIndex(&bb, (int64_t)p->dim);
  for (intptr_t a = 0; a < ci->rank; ++a) {
    bool vec = a == p->vaxis;
    MlirValue ia = vec ? irBinary(&bb, "arith.divui", ids[a], dv) : ids[a];
    int64_t ext = vec ? ci->shape[a] / (int64_t)p->dim : ci->shape[a];
    flat = a == 0 ? ia
                  : irBinary(&bb, "arith.addi",
                             irBinary(&bb, "arith.muli", flat, irConstIndex(&bb, ext)),
                             ia);
  }
  MlirValue ix;
  if (fmt == CLUSTERRT_IDX_U16) {
    MlirValue v = extract(&bb, parts[1], 1, &flat, mlirIntegerTypeGet(ctx, 16));
    ix = irCast(&bb, "arith.index_castui", v, indexT);
  } else {
    ix = irPackedIndex(&bb, parts[1], flat, clusterrt_format_bits(fmt), idxBytes);
  }
  MlirValue at[3], t = (MlirValue){NULL};
  intptr_t na = 0;
  if (p->taxis >= 0) {
    t = ids[p->taxis];
    if (p->group > 1)
      t = irBinary(&bb, "arith.divui", t, irConstIndex(&bb, (int64_t)p->group));
    at[na++] = t;
  }
  at[na++] = ix;
  if (p->dim > 1)
    at[na++] = irBinary(&bb, "arith.remui", ids[p->vaxis], dv);
  size_t next = 2;
  MlirValue x;
  bool wide = false; /* x is f32 (else the weight's type) */
  if (p->ttype == CLUSTERC_TABLE_FLOAT) {
    x = extract(&bb, parts[0], na, at, et);
  } else {
    MlirValue t0 = p->taxis >= 0 ? t : irConstIndex(&bb, 0);
    MlirValue q = irCast(&bb, p->ttype == CLUSTERC_TABLE_INT8 ? "arith.extsi" : "arith.extui",
                         extract(&bb, parts[0], na, at, i8), i32);
    MlirValue scale = extract(&bb, parts[next++], 1, &t0, f32);
    if (p->ttype == CLUSTERC_TABLE_UINT8) {
      MlirValue zp = irCast(&bb, "arith.extui", extract(&bb, parts[next++], 1, &t0, i8), i32);
      q = irBinary(&bb, "arith.subi", q, zp);
    }
    x = irBinary(&bb, "arith.mulf", scale, irCast(&bb, "arith.sitofp", q, f32));
    wide = true;
  }
  if (p->cscale) {
    if (!wide && !mlirTypeIsAF32(et))
      x = irCast(&bb, "arith.extf", x, f32);
    wide = true;
    x = irBinary(&bb, "arith.mulf", x, extract(&bb, parts[next++], 1, &ids[p->saxis], f32));
  }
  if (wide && !mlirTypeIsAF32(et))
    x = irCast(&bb, "arith.truncf", x, et);
  irCreate(&bb, "linalg.yield", 1, &x, 0, NULL, 0, NULL);

  MlirValue empty = irCreate1(b, "tensor.empty", 0, NULL, ci->type, 0, NULL);
  MlirAttribute id = mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, ci->rank));
  return irGeneric(b, 0, NULL, empty, &id, irParallelIterators(ctx, ci->rank), body);
}
