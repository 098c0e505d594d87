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
 * vectorized decode instead (f32 weights with one table; see below).
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
 *  - Indices use the narrowest format: packed 1/2/4 bits in i8 bytes (LSB
 *    first, see clusterc/runtime.h), else i8 or i16 in the weight's shape
 *    (read unsigned).
 */
#include "clusterc/passes.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capi-ext.h"
#include "ir.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/Tensor.h"
#include "weights.h"

typedef struct CwPass {
  ClustercClusterWeightsOptions o;
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

typedef struct Clustered {
  float *table;      /* tables * k floats */
  size_t k, tables;
  size_t outer, inner; /* per-channel layout (tables = channels) */
  clusterrt_index_format fmt;
  void *idx;
  size_t idxBytes;
} Clustered;

static void clusteredFree(Clustered *cl) {
  free(cl->table);
  free(cl->idx);
}

/* Clusters w (n values) with kReq clusters, per tensor (axis < 0) or per
 * slice along axis. */
static clusterrt_status clusterWeights(const float *w, const ConstInfo *ci,
                                       int axis, unsigned kReq,
                                       const ClustercClusterWeightsOptions *o,
                                       uint64_t seed, Clustered *cl) {
  memset(cl, 0, sizeof *cl);
  size_t n = ci->elements, chans = 1, outer = 1, inner = n;
  if (axis >= 0) {
    chans = (size_t)ci->shape[axis];
    outer = 1;
    for (int i = 0; i < axis; ++i)
      outer *= (size_t)ci->shape[i];
    inner = n / (outer * chans);
  }
  clusterrt_cluster_options co = {.k = kReq, .init = o->init, .seed = seed,
                                  .max_iter = 0,
                                  .preserve_sparsity = o->preserve_sparsity};
  float *tab = malloc(sizeof(float) * chans * kReq);
  size_t *ks = malloc(sizeof(size_t) * chans);
  float *slice = axis >= 0 ? malloc(sizeof(float) * (n / chans ? n / chans : 1)) : NULL;
  clusterrt_status st = CLUSTERRT_ERR_NOMEM;
  if (!tab || !ks || (axis >= 0 && !slice))
    goto done;
  size_t kMax = 1;
  for (size_t ch = 0; ch < chans; ++ch) {
    const float *src = w;
    size_t m = n;
    if (axis >= 0) {
      m = 0;
      for (size_t a = 0; a < outer; ++a)
        memcpy(slice + a * inner, w + (a * chans + ch) * inner,
               inner * sizeof(float));
      m = outer * inner;
      src = slice;
    }
    co.seed = weightsSplitMix64(seed ^ (uint64_t)ch);
    st = clusterrt_cluster_f32(src, m, &co, tab + ch * kReq, &ks[ch],
                               CLUSTERRT_IDX_U16, NULL);
    if (st != CLUSTERRT_OK)
      goto done;
    ks[ch] = roundTable(tab + ch * kReq, ks[ch], ci->elem);
    if (ks[ch] > kMax)
      kMax = ks[ch];
  }
  /* One table per channel, each padded to kMax by repeating its last entry:
   * ties go to the lowest index, so padding is never chosen. */
  cl->table = malloc(sizeof(float) * chans * kMax);
  if (!cl->table) {
    st = CLUSTERRT_ERR_NOMEM;
    goto done;
  }
  for (size_t ch = 0; ch < chans; ++ch)
    for (size_t j = 0; j < kMax; ++j)
      cl->table[ch * kMax + j] =
          tab[ch * kReq + (j < ks[ch] ? j : ks[ch] - 1)];
  cl->k = kMax;
  cl->tables = chans;
  cl->outer = outer;
  cl->inner = inner;
  cl->fmt = clusterrt_narrowest_format(kMax);
  cl->idxBytes = clusterrt_index_bytes(cl->fmt, n);
  cl->idx = calloc(cl->idxBytes ? cl->idxBytes : 1, 1);
  if (!cl->idx) {
    st = CLUSTERRT_ERR_NOMEM;
    goto done;
  }
  st = axis >= 0 ? clusterrt_assign_per_channel_f32(w, outer, chans, inner,
                                                    cl->table, kMax, cl->fmt,
                                                    cl->idx)
                 : clusterrt_assign_f32(w, n, cl->table, kMax, cl->fmt, cl->idx);
done:
  free(tab);
  free(ks);
  free(slice);
  if (st != CLUSTERRT_OK)
    clusteredFree(cl);
  return st;
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

static MlirAttribute iteratorTypes(MlirContext ctx, intptr_t rank) {
  static const char par[] = "#linalg.iterator_type<parallel>";
  size_t len = 3 + (size_t)rank * (sizeof par + 1);
  char *s = malloc(len);
  if (!s)
    return (MlirAttribute){NULL};
  size_t at = 0;
  s[at++] = '[';
  for (intptr_t i = 0; i < rank; ++i)
    at += (size_t)snprintf(s + at, len - at, "%s%s", i ? "," : "", par);
  s[at++] = ']';
  s[at] = 0;
  MlirAttribute a = irParseAttr(ctx, s);
  free(s);
  return a;
}

/* Builds the decode: a linalg.generic over the weight's shape that reads
 * the index (from `ins` when stored in the weight's shape, else from the
 * packed byte buffer by flat position) and extracts the centroid. */
static MlirValue buildDecode(IrBuilder *b, const ConstInfo *ci,
                             const Clustered *cl, int axis, MlirValue table,
                             MlirValue idx) {
  MlirContext ctx = b->ctx;
  MlirType et = elemType(ctx, ci->elem), indexT = mlirIndexTypeGet(ctx);
  MlirType i32 = mlirIntegerTypeGet(ctx, 32);
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
    /* flat = ((i0 * d1 + i1) * d2 + i2) ...; byte = flat >> s; shift =
     * (flat & (per - 1)) * bits; ix = (bytes[byte] >> shift) & mask. */
    unsigned bits = clusterrt_format_bits(cl->fmt), per = 8 / bits;
    unsigned log2per = per == 8 ? 3 : per == 4 ? 2 : 1;
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
    MlirValue byte = irBinary(&bb, "arith.shrui", flat, irConstIndex(&bb, log2per));
    MlirValue sub = irBinary(&bb, "arith.andi", flat, irConstIndex(&bb, per - 1));
    MlirValue sh = irBinary(&bb, "arith.muli", sub, irConstIndex(&bb, bits));
    MlirValue ops[2] = {idx, byte};
    MlirValue v8 = irCreate1(&bb, "tensor.extract", 2, ops,
                             mlirIntegerTypeGet(ctx, 8), 0, NULL);
    MlirValue v32 = irCast(&bb, "arith.extui", v8, i32);
    MlirValue sh32 = irCast(&bb, "arith.index_castui", sh, i32);
    MlirValue m = irBinary(&bb, "arith.andi", irBinary(&bb, "arith.shrui", v32, sh32),
                           irConstInt(&bb, i32, (1 << bits) - 1));
    ix = irCast(&bb, "arith.index_castui", m, indexT);
  }
  MlirValue ext[3] = {table, ix, ix};
  intptr_t nExt = 2;
  if (axis >= 0) {
    MlirNamedAttribute dim = irNamed(ctx, "dim",
                                     mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), axis));
    ext[1] = irCreate1(&bb, "linalg.index", 0, NULL, indexT, 1, &dim);
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
      irNamed(ctx, "iterator_types", iteratorTypes(ctx, ci->rank)),
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

static bool checkRuntimeDialects(MlirContext ctx, MlirLocation loc) {
  static const char *const ops[] = {"func.func", "memref.global",
                                    "bufferization.to_tensor"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i)
    if (!mlirContextIsRegisteredOperation(ctx, irStr(ops[i]))) {
      emitErrorf(loc, "cluster-weights: decode=runtime needs the func, memref "
                 "and bufferization dialects loaded ('%s' is not)", ops[i]);
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
  if (!checkRuntimeDialects(ctx, loc) || !declareDecode(module, symtab, i16, loc) ||
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
    return true;
  }
  MlirValue w = makeConst(&b, ci->op, v);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(ci->op, 0), w);
  mlirOperationDestroy(ci->op);
  return true;
}

/* A private immutable ml_program.global holding v, next to `like`; its
 * name is made unique in the symbol table. Returns the name attribute. */
static MlirAttribute makeGlobal(IrBuilder *b, MlirSymbolTable symtab,
                                MlirOperation like, const char *suffix,
                                MlirAttribute v) {
  MlirStringRef base = weightsGlobalName(like);
  char name[256];
  snprintf(name, sizeof name, "%.*s%s", (int)base.length, base.data, suffix);
  MlirNamedAttribute attrs[4] = {
      irNamed(b->ctx, "sym_name", mlirStringAttrGet(b->ctx, irStr(name))),
      irNamed(b->ctx, "sym_visibility", mlirStringAttrGet(b->ctx, irStr("private"))),
      irNamed(b->ctx, "type", mlirTypeAttrGet(mlirAttributeGetType(v))),
      irNamed(b->ctx, "value", v)};
  MlirOperation g = irCreate(b, "ml_program.global", 0, NULL, 0, NULL, 4, attrs);
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

/* Replaces the constant by table + indices + decode; a global by two
 * globals, and each of its loads by two loads + decode. With `runtime`,
 * f32 weights with one table get the load-time decode of rewriteRuntime. */
static int rewrite(const ConstInfo *ci, const Clustered *cl, int axis,
                   const char *name, MlirOperation module,
                   MlirSymbolTable symtab, bool runtime) {
  MlirContext ctx = mlirOperationGetContext(ci->op);
  IrBuilder b = {ctx, ci->op, {NULL}, mlirOperationGetLocation(ci->op)};
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
  if (ci->loads) {
    MlirSymbolTable st = top ? symtab : mlirSymbolTableCreate(scope);
    if (mlirSymbolTableIsNull(st))
      return RW_OOM;
    MlirAttribute gt = makeGlobal(&b, st, ci->op, "_centroids", tv);
    MlirAttribute gi = makeGlobal(&b, st, ci->op, "_idx", iv);
    int rc = RW_OK;
    for (size_t i = 0; i < ci->numLoads && rc == RW_OK; ++i) {
      MlirOperation load = ci->loads[i];
      IrBuilder lb = {ctx, load, {NULL}, mlirOperationGetLocation(load)};
      MlirValue table = loadGlobal(&lb, gt, tt), idx = loadGlobal(&lb, gi, it);
      MlirValue w = buildDecode(&lb, ci, cl, axis, table, idx);
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
  MlirValue table = makeConst(&b, ci->op, tv);
  MlirValue idx = makeConst(&b, ci->op, iv);
  MlirValue w = buildDecode(&b, ci, cl, axis, table, idx);
  if (mlirValueIsNull(w))
    return RW_OOM;
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(ci->op, 0), w);
  mlirOperationDestroy(ci->op);
  return RW_OK;
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
  JOB_OOM
} JobState;

typedef struct Job {
  const ConstInfo *ci;
  bool work;             /* handed to jobRun (set by jobPrepare, then fixed) */
  JobState state;        /* read after the job is done (see Pool) */
  int index;             /* weight index in walk order, -1 if not a weight */
  char *name;            /* owned */
  char consumer[128];
  ClustercLayerReport r; /* points into name, consumer and ci */
  unsigned k;
  int axis;
  const char *why;
  const void *raw;       /* the constant's bytes, borrowed from the attribute */
  size_t rawSize;
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
      .index = ci->role == ROLE_WEIGHT ? index : -1, .name = j->name,
      .consumer = j->consumer, .role = roles[ci->role],
      .dtype = weightsElemName(ci->elem), .form = weightsFormName(ci->form),
      .shape = ci->shape, .rank = ci->rank, .reason = "",
      .init = clusterrt_init_name(o->init), .elements = ci->elements,
      .bytes_before = ci->form == FORM_SPLAT ? ci->elemBytes
                                             : ci->elements * ci->elemBytes};
  j->r.bytes_after = j->r.bytes_before;
  bool isFloat = weightsIsFloat(ci->elem);
  const char *why = "";
  ClustercLayerReport *r = &j->r;
  if (ci->role == ROLE_BIAS)
    r->reason = "bias";
  else if (ci->role == ROLE_OTHER)
    r->reason = "not a weight of a compute op";
  else if (ci->role == ROLE_ZERO_POINT)
    r->reason = "zero point";
  else if (ci->elem == ELEM_INT)
    r->reason = "integer weights are left as they are";
  else if (ci->elem == ELEM_QUANT)
    r->reason = "quantized weights are left as they are";
  else if (!isFloat)
    r->reason = "unsupported element type (f32, f16, bf16 are clustered)";
  else if (!(j->k = weightsSelectK(o, j->name, index, count, &why)))
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
  if (o->per_channel) {
    j->axis = o->channel_axis >= 0 ? o->channel_axis
              : ci->channelAxis >= 0 ? ci->channelAxis : 0;
    if (j->axis >= ci->rank) {
      j->state = JOB_AXIS_ERR;
      return true;
    }
  }
  j->state = weightsRawData(ci, &j->raw, &j->rawSize, &j->why) ? JOB_WORK
                                                                : JOB_READ_ERR;
  j->work = j->state == JOB_WORK;
  return true;
}

/* Step 2: sets j->state to JOB_OK or an error state. */
static void jobRun(const CwPass *p, Job *j) {
  const ClustercClusterWeightsOptions *o = &p->o;
  const ConstInfo *ci = j->ci;
  size_t n = ci->elements;
  /* f32 data is used in place when it is aligned (it is for dense and
   * dense_resource attributes); anything else is converted to a copy. */
  float *copy = NULL;
  const float *w;
  if (ci->elem == ELEM_F32 && (uintptr_t)j->raw % _Alignof(float) == 0) {
    w = j->raw;
  } else if (!(w = copy = weightsConvertF32(ci, j->raw, j->rawSize))) {
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
  j->st = clusterWeights(w, ci, j->axis, j->k, o,
                         weightsSeed(o->seed, j->index),
                         &j->cl);
  if (j->st != CLUSTERRT_OK) {
    j->state = j->st == CLUSTERRT_ERR_NOMEM ? JOB_OOM : JOB_CLUSTER_ERR;
    goto out;
  }
  /* The reconstruction, with the runtime's own decode: whole for fold
   * (it is the output) and per channel, else in blocks (a multiple of 8
   * elements, so packed indices start on a byte). */
  const Clustered *cl = &j->cl;
  bool whole = o->decode == CLUSTERC_DECODE_FOLD || j->axis >= 0;
  enum { BLOCK = 1 << 14 };
  size_t blk = whole ? n : (n < BLOCK ? n : BLOCK);
  float *dec = malloc(sizeof(float) * (blk ? blk : 1));
  if (!dec) {
    j->state = JOB_OOM;
    goto out;
  }
  double sig = 0, err = 0;
  unsigned bits = clusterrt_format_bits(cl->fmt);
  for (size_t at = 0; at < n; at += blk) {
    size_t m = n - at < blk ? n - at : blk;
    clusterrt_status st =
        j->axis >= 0 ? clusterrt_decode_per_channel_f32(cl->idx, cl->fmt, cl->outer,
                                                        cl->tables, cl->inner,
                                                        cl->table, cl->k, dec)
                     : clusterrt_decode_f32((const char *)cl->idx + at * bits / 8,
                                            cl->fmt, m, cl->table, cl->k, dec);
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
    bool listed = ci->role == ROLE_WEIGHT || ci->role == ROLE_BIAS ||
                  (ci->role == ROLE_OTHER && isFloat && ci->elements >= o->min_elements);
    if (o->report && listed)
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
  int rw = o->decode == CLUSTERC_DECODE_FOLD
               ? (rewriteFolded(ci, j->folded, j->name) ? RW_OK : RW_OOM)
               : rewrite(ci, cl, j->axis, j->name, module, symtab,
                         o->decode == CLUSTERC_DECODE_RUNTIME);
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
  r->bits = clusterrt_format_bits(cl->fmt);
  r->bytes_after = o->decode == CLUSTERC_DECODE_FOLD
                       ? r->bytes_before
                       : cl->tables * cl->k * ci->elemBytes + cl->idxBytes;
  r->mse = j->err / (double)ci->elements;
  r->sqnr_db = sqnrDb(j->sig, j->err);
  if (o->report)
    o->report(r, o->report_user);
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
  int index = 0;
  size_t prepared = 0;
  for (; ok && prepared < c->count; ++prepared) {
    const ConstInfo *ci = &c->items[prepared];
    ok = jobPrepare(p, &jobs[prepared], ci, ci->role == ROLE_WEIGHT ? index++ : -1,
                    count);
    if (ok && jobs[prepared].work)
      sized[pl.numOrder++] = (SizedJob){ci->elements, prepared};
  }
  if (!ok) {
    mlirEmitError(mlirOperationGetLocation(module), "cluster-weights: out of memory");
  } else {
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
  for (size_t i = 0; i < prepared; ++i)
    jobFree(&jobs[i]);
  free(jobs);
  free(order);
  free(sized);
  free(done);
  return ok;
}

static void cwRun(MlirOperation module, MlirExternalPass pass, void *user) {
  const CwPass *p = user;
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
