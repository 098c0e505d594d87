/*
 * decode=fused: a matrix product on a clustered weight becomes a call of
 * libclusterrt's LUT kernels (clusterrt_lut_gemv_f32 / _gemm_f32, through
 * clusterrt_mlir_lut_matmul in runtime/memref-abi.c), so the compiled model
 * keeps only the packed indices and the centroid tables, never a float
 * copy of the weight.
 *
 *   %wt = linalg.transpose ins(%w : tensor<256x784xf32>) .. permutation = [1, 0]
 *   %y  = linalg.matmul ins(%x, %wt) outs(%zero : tensor<1x256xf32>)
 * becomes
 *   %i  = arith.constant dense<..> : tensor<100352xi8>  // N-major, 4-bit
 *   %c  = arith.constant dense<..> : tensor<16xf32>
 *   %x3 = (%x reshaped to tensor<1x1x784xf32>, cast to tensor<?x?x?xf32>)
 *   %o  = tensor.empty() : tensor<1x1x256xf32>       // cast likewise
 *   %s  = func.call @clusterrt_mlir_lut_matmul(%x3, %i', %bits, %c', %k,
 *                                              %group, %o')
 *   %y  = (%o reshaped back to tensor<1x256xf32>)
 *
 * The kernels compute y[b][m][n] = sum_e x[b][m][e] * W_b[n][e] with W
 * stored N-major (a row of K indices per output channel, padded to a
 * byte), so the indices are re-packed here in the order the consumer
 * reads them: the view of the weight the op sees (through at most one
 * linalg.transpose or layout-only linalg.generic) names which axes of the
 * constant are the batch, the output channels (N) and the reduction (K).
 * Per-channel tables fuse when their axis is N (a table per row).
 *
 * Fused: linalg.matmul, matmul_transpose_b, batch_matmul, matvec, vecmat,
 * tosa.fully_connected, tosa.matmul, and convolutions (linalg
 * conv_2d_nhwc_hwcf / _nhwc_fhwc, tosa.conv2d with its padding): 1x1 with
 * stride 1 as a GEMM over the pixels, any other by
 * clusterrt_mlir_lut_conv: the same GEMM on im2col patches, which the
 * runtime gathers from the input while it packs panels (no im2col
 * tensor: it was a strided copy as large as the input times kh*kw, the
 * largest buffer of a fused ResNet), writing the output in its own
 * layout; linalg conv_2d_nchw_fchw (torch-mlir, ONNX) likewise, patches
 * in (c, kh, kw) order, the output NCHW; all f32 with static shapes. Depthwise convolutions are no matrix product: they
 * keep the decode (the report says so). A linalg op's init is added to the product
 * afterwards unless it is a fill with zero; a tosa bias likewise unless it
 * is a zero splat. Any other use keeps the decode, with its reason.
 */
#include "fuse-lut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "rtcall.h"

static const RtFn kLutMatmul = {"clusterrt_mlir_lut_matmul", 7, "FbifiiF", "rrrrrrw"};
static const RtFn kLutConv = {"clusterrt_mlir_lut_conv", 8, "fbifiilf", "rrrrrrrw"};

static bool opStarts(MlirOperation op, const char *prefix) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  return s.length >= strlen(prefix) && !memcmp(s.data, prefix, strlen(prefix));
}

static MlirOperation defOp(MlirValue v) {
  return mlirValueIsAOpResult(v) ? mlirOpResultGetOwner(v) : (MlirOperation){NULL};
}

static MlirType tensorOf(intptr_t rank, const int64_t *shape, MlirType et) {
  return mlirRankedTensorTypeGet(rank, shape, et, mlirAttributeGetNull());
}

/* Whether t is a ranked f32 tensor of static shape (and rank <= max). */
static bool staticF32(MlirType t, intptr_t maxRank) {
  return mlirTypeIsARankedTensor(t) && mlirShapedTypeHasStaticShape(t) &&
         mlirShapedTypeGetRank(t) <= maxRank &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(t));
}

/* ---- What a consumer computes ---------------------------------------------- */

/* The consumer's product, with the weight seen through `view` dims. */
typedef struct Plan {
  MlirOperation consumer;
  int64_t B, M, N, K;
  int dimB, dimN;                 /* axes of the constant, -1: none */
  int nK, dimK[3];                /* the reduction's axes, outer first */
  int64_t sizeK[3];
  /* A k x k convolution, as a GEMM on im2col patches (n, oh, ow) x
   * (kh, kw, c): window, strides and dilations along h and w. */
  bool im2col;
  bool nchw;                      /* conv_2d_nchw_fchw: patches (c, kh, kw) */
  int64_t win[2], str[2], dil[2];
  int64_t pad[4];                 /* top, bottom, left, right (tosa.conv2d) */
  MlirValue x;                    /* the activation */
  MlirValue acc;                  /* added to the product (null: none) */
  bool accIsBias;                 /* acc is [N], broadcast over the rows */
} Plan;

/* The view's axes (vB, vN, and nK axes from vK, of the consumer's
 * operand type; vB -1: none) mapped to the constant's axes through perm
 * (view axis -> constant axis). */
static void setAxes(Plan *p, MlirType view, const int *perm, int vB, int vN,
                    int vK, int nK) {
  p->B = vB >= 0 ? mlirShapedTypeGetDimSize(view, vB) : 1;
  p->N = mlirShapedTypeGetDimSize(view, vN);
  p->dimB = vB >= 0 ? perm[vB] : -1;
  p->dimN = perm[vN];
  p->nK = nK;
  p->K = 1;
  for (int i = 0; i < nK; ++i) {
    p->dimK[i] = perm[vK + i];
    p->sizeK[i] = mlirShapedTypeGetDimSize(view, vK + i);
    p->K *= p->sizeK[i];
  }
}

/* Two int64 values of a dense array or dense elements attribute (null:
 * `def`). False for anything else. */
static bool pair(MlirAttribute a, int64_t def, int64_t *v) {
  if (mlirAttributeIsNull(a)) {
    v[0] = v[1] = def;
    return true;
  }
  if (mlirAttributeIsADenseI64Array(a) && mlirDenseArrayGetNumElements(a) == 2) {
    v[0] = mlirDenseI64ArrayGetElement(a, 0), v[1] = mlirDenseI64ArrayGetElement(a, 1);
    return true;
  }
  if (mlirAttributeIsADenseIntElements(a) && mlirElementsAttrGetNumElements(a) == 2) {
    v[0] = mlirDenseElementsAttrGetInt64Value(a, 0);
    v[1] = mlirDenseElementsAttrGetInt64Value(a, 1);
    return true;
  }
  return false;
}

static bool isZeroFloat(MlirAttribute a) {
  return !mlirAttributeIsNull(a) && mlirAttributeIsAFloat(a) &&
         mlirFloatAttrGetValueDouble(a) == 0.0;
}

/* A linalg.fill of 0.0: the product needs no init. */
static bool zeroFilled(MlirValue v) {
  MlirOperation f = defOp(v);
  if (mlirOperationIsNull(f) || !irOpIs(f, "linalg.fill"))
    return false;
  MlirOperation c = defOp(mlirOperationGetOperand(f, 0));
  return !mlirOperationIsNull(c) && irOpIs(c, "arith.constant") &&
         isZeroFloat(mlirOperationGetAttributeByName(c, irStr("value")));
}

/* A constant splat of zero (a bias that adds nothing). */
static bool zeroSplat(MlirValue v) {
  MlirOperation c = defOp(v);
  if (mlirOperationIsNull(c) || mlirOperationGetNumRegions(c) != 0)
    return false;
  const char *an = irOpIs(c, "tosa.const") ? weightsValueAttrName(c) : "value";
  MlirAttribute a = mlirOperationGetAttributeByName(c, irStr(an));
  return !mlirAttributeIsNull(a) && mlirAttributeIsADenseElements(a) &&
         mlirDenseElementsAttrIsSplat(a) &&
         isZeroFloat(mlirDenseElementsAttrGetSplatValue(a));
}

static MlirAttribute attr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, irStr(name));
}

/* Whether a linalg op's indexing maps are its defaults (`want`): MLIR 22
 * spells them out on matmul and batch_matmul, 19 has none. */
static bool defaultMaps(MlirOperation op, const char *want) {
  MlirAttribute maps = attr(op, "indexing_maps");
  if (mlirAttributeIsNull(maps))
    return true;
  char buf[320];
  return !strcmp(irAttrText(maps, buf, sizeof buf), want);
}

static const char kMatmulMaps[] =
    "[affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, "
    "d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>]";
static const char kBatchMatmulMaps[] =
    "[affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, "
    "d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]";

/* Fills p for `consumer` reading the weight's view (type vt, axes mapped
 * by perm) as operand pos; else a reason in why. */
static bool planConsumer(MlirOperation op, unsigned pos, MlirType vt,
                         const int *perm, Plan *p, const char **why) {
  p->consumer = op;
  p->acc = (MlirValue){NULL};
  p->accIsBias = false;
  intptr_t vr = mlirShapedTypeGetRank(vt);
  intptr_t nOps = mlirOperationGetNumOperands(op);
  bool linalg = false;
  MlirValue x = {NULL};
  int vB = -1, vN = -1, vK = -1, nK = 1;
  p->im2col = p->nchw = false;
  memset(p->pad, 0, sizeof p->pad);
  if (mlirOperationGetNumResults(op) != 1) {
    *why = "not a matrix product";
    return false;
  }
  if (irOpIs(op, "linalg.matmul") && pos == 1 && nOps == 3) {
    if (!defaultMaps(op, kMatmulMaps))
      return *why = "indexing maps other than the default", false;
    x = mlirOperationGetOperand(op, 0), vK = 0, vN = 1, linalg = true;
  } else if (irOpIs(op, "linalg.matmul_transpose_b") && pos == 1 && nOps == 3) {
    x = mlirOperationGetOperand(op, 0), vN = 0, vK = 1, linalg = true;
  } else if (irOpIs(op, "linalg.batch_matmul") && pos == 1 && nOps == 3) {
    if (!defaultMaps(op, kBatchMatmulMaps))
      return *why = "indexing maps other than the default", false;
    x = mlirOperationGetOperand(op, 0), vB = 0, vK = 1, vN = 2, linalg = true;
  } else if (irOpIs(op, "linalg.matvec") && pos == 0 && nOps == 3) {
    x = mlirOperationGetOperand(op, 1), vN = 0, vK = 1, linalg = true;
  } else if (irOpIs(op, "linalg.vecmat") && pos == 1 && nOps == 3) {
    x = mlirOperationGetOperand(op, 0), vK = 0, vN = 1, linalg = true;
  } else if (irOpIs(op, "tosa.fully_connected") && pos == 1) {
    x = mlirOperationGetOperand(op, 0), vN = 0, vK = 1;
    if (nOps > 2 && !zeroSplat(mlirOperationGetOperand(op, 2)))
      p->acc = mlirOperationGetOperand(op, 2), p->accIsBias = true;
  } else if (irOpIs(op, "tosa.matmul") && pos == 1) {
    x = mlirOperationGetOperand(op, 0), vB = 0, vK = 1, vN = 2;
  } else if ((irOpIs(op, "linalg.conv_2d_nhwc_hwcf") ||
              irOpIs(op, "linalg.conv_2d_nhwc_fhwc")) && pos == 1 && nOps == 3) {
    bool hwcf = irOpIs(op, "linalg.conv_2d_nhwc_hwcf");
    if (vr != 4 || !pair(attr(op, "strides"), 1, p->str) ||
        !pair(attr(op, "dilations"), 1, p->dil))
      return *why = "unexpected strides or dilations", false;
    p->win[0] = mlirShapedTypeGetDimSize(vt, hwcf ? 0 : 1);
    p->win[1] = mlirShapedTypeGetDimSize(vt, hwcf ? 1 : 2);
    x = mlirOperationGetOperand(op, 0), linalg = true;
    vK = hwcf ? 0 : 1, nK = 3, vN = hwcf ? 3 : 0;
  } else if (irOpIs(op, "linalg.conv_2d_nchw_fchw") && pos == 1 && nOps == 3) {
    /* (torch-mlir's and ONNX's layout) the filter's (c, kh, kw) is K: the
     * patches are taken in that order and the [n, oh, ow, f] product is
     * permuted back to [n, f, oh, ow]. */
    if (vr != 4 || !pair(attr(op, "strides"), 1, p->str) ||
        !pair(attr(op, "dilations"), 1, p->dil))
      return *why = "unexpected strides or dilations", false;
    p->win[0] = mlirShapedTypeGetDimSize(vt, 2);
    p->win[1] = mlirShapedTypeGetDimSize(vt, 3);
    x = mlirOperationGetOperand(op, 0), linalg = true, p->nchw = true;
    vN = 0, vK = 1, nK = 3;
  } else if (opStarts(op, "linalg.depthwise_conv") ||
             irOpIs(op, "tosa.depthwise_conv2d")) {
    return *why = "depthwise convolution (no reduction over input channels: "
                  "not a matrix product)", false;
  } else if (irOpIs(op, "tosa.conv2d") && pos == 1) {
    if (vr != 4 || !pair(attr(op, "stride"), 1, p->str) ||
        !pair(attr(op, "dilation"), 1, p->dil))
      return *why = "unexpected stride or dilation", false;
    MlirAttribute pa = attr(op, "pad");
    if (mlirAttributeIsNull(pa) || !mlirAttributeIsADenseI64Array(pa) ||
        mlirDenseArrayGetNumElements(pa) != 4)
      return *why = "unexpected padding", false;
    for (int i = 0; i < 4; ++i)
      if ((p->pad[i] = mlirDenseI64ArrayGetElement(pa, i)) < 0)
        return *why = "negative padding", false;
    p->win[0] = mlirShapedTypeGetDimSize(vt, 1);
    p->win[1] = mlirShapedTypeGetDimSize(vt, 2);
    x = mlirOperationGetOperand(op, 0), vN = 0, vK = 1, nK = 3;
    if (nOps > 2 && !zeroSplat(mlirOperationGetOperand(op, 2)))
      p->acc = mlirOperationGetOperand(op, 2), p->accIsBias = true;
  } else {
    return *why = "not a matrix product the LUT kernels compute", false;
  }
  MlirType xt = mlirValueGetType(x), rt = mlirValueGetType(mlirOperationGetResult(op, 0));
  if (!staticF32(vt, 4) || !staticF32(xt, 4) || !staticF32(rt, 4))
    return *why = "not f32 with static shapes", false;
  if (p->accIsBias && !staticF32(mlirValueGetType(p->acc), 1))
    return *why = "bias not a static f32 vector", false;
  if (linalg && !zeroFilled(mlirOperationGetOperand(op, 2)))
    p->acc = mlirOperationGetOperand(op, 2);
  setAxes(p, vt, perm, vB, vN, vK, nK);
  p->x = x;
  /* A convolution other than 1x1 with stride 1 reads im2col patches. */
  if (nK == 3)
    p->im2col = p->nchw || p->win[0] != 1 || p->win[1] != 1 || p->str[0] != 1 ||
                p->str[1] != 1 || p->pad[0] || p->pad[1] || p->pad[2] || p->pad[3];
  int64_t xe = 1, re = 1;
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(xt); ++i)
    xe *= mlirShapedTypeGetDimSize(xt, i);
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(rt); ++i)
    re *= mlirShapedTypeGetDimSize(rt, i);
  p->M = p->N && p->B ? re / (p->N * p->B) : 0;
  if (vB >= 0 && mlirShapedTypeGetDimSize(xt, 0) != p->B)
    return *why = "batch of the weight differs from the input's", false;
  if ((!p->im2col && p->M * p->K * p->B != xe) || p->M * p->N * p->B != re ||
      p->M == 0 || p->N == 0 || p->K == 0)
    return *why = "empty or inconsistent shapes", false;
  return true;
}

/* The permutation a layout op applies (result axis -> input axis), or
 * false: linalg.transpose, or a layout-only generic that permutes (no
 * broadcast). */
static bool layoutPerm(MlirOperation op, intptr_t rank, int *perm) {
  if (irOpIs(op, "linalg.transpose")) {
    MlirAttribute a = attr(op, "permutation");
    if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseI64Array(a) ||
        mlirDenseArrayGetNumElements(a) != rank)
      return false;
    for (intptr_t i = 0; i < rank; ++i)
      perm[i] = (int)mlirDenseI64ArrayGetElement(a, i);
    return true;
  }
  if (!weightsIsLayoutGeneric(op))
    return false;
  MlirAttribute maps = attr(op, "indexing_maps");
  MlirAffineMap in = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, 0));
  MlirAffineMap out = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, 1));
  if (mlirAffineMapGetNumResults(in) != rank || mlirAffineMapGetNumResults(out) != rank)
    return false;
  for (intptr_t j = 0; j < rank; ++j) {
    MlirAffineExpr oj = mlirAffineMapGetResult(out, j);
    perm[j] = -1;
    for (intptr_t i = 0; i < rank; ++i) {
      MlirAffineExpr ii = mlirAffineMapGetResult(in, i);
      if (mlirAffineExprIsADim(oj) && mlirAffineExprIsADim(ii) &&
          mlirAffineDimExprGetPosition(oj) == mlirAffineDimExprGetPosition(ii))
        perm[j] = (int)i;
    }
    if (perm[j] < 0)
      return false;
  }
  return true;
}

/* ---- Building the call ------------------------------------------------------- */

static MlirAttribute reassoc(MlirContext ctx, intptr_t nGroups,
                             const intptr_t *sizes) {
  MlirAttribute groups[IR_MAX_RANK], dims[IR_MAX_RANK];
  intptr_t d = 0;
  for (intptr_t g = 0; g < nGroups; ++g) {
    for (intptr_t i = 0; i < sizes[g]; ++i, ++d)
      dims[i] = mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), d);
    groups[g] = mlirArrayAttrGet(ctx, sizes[g], dims);
  }
  return mlirArrayAttrGet(ctx, nGroups, groups);
}

/* v (static shape) reshaped to `shape`: collapsed to 1-D, then expanded. */
static MlirValue reshape(IrBuilder *b, MlirValue v, intptr_t rank,
                         const int64_t *shape) {
  MlirType t = mlirValueGetType(v), et = mlirShapedTypeGetElementType(t);
  intptr_t r = mlirShapedTypeGetRank(t);
  bool same = r == rank;
  int64_t n = 1;
  for (intptr_t i = 0; i < r; ++i) {
    n *= mlirShapedTypeGetDimSize(t, i);
    same = same && mlirShapedTypeGetDimSize(t, i) == shape[i];
  }
  if (same)
    return v;
  if (r != 1) {
    MlirNamedAttribute a = irNamed(b->ctx, "reassociation", reassoc(b->ctx, 1, &r));
    v = irCreate1(b, "tensor.collapse_shape", 1, &v, tensorOf(1, &n, et), 1, &a);
  }
  if (rank == 1)
    return v;
  MlirNamedAttribute a[2] = {
      irNamed(b->ctx, "reassociation", reassoc(b->ctx, 1, &rank)),
      irNamed(b->ctx, "static_output_shape", mlirDenseI64ArrayGet(b->ctx, rank, shape))};
  return irCreate1(b, "tensor.expand_shape", 1, &v, tensorOf(rank, shape, et), 2, a);
}

static MlirAttribute mapAttr(MlirContext ctx, intptr_t dims, intptr_t nRes,
                             const intptr_t *res) {
  MlirAffineExpr e[IR_MAX_RANK];
  for (intptr_t i = 0; i < nRes; ++i)
    e[i] = mlirAffineDimExprGet(ctx, res[i]);
  return mlirAffineMapAttrGet(mlirAffineMapGet(ctx, dims, 0, nRes, e));
}

/* [#linalg.iterator_type<parallel>, ...] for n loops. */
static MlirAttribute parallelIters(MlirContext ctx, intptr_t n) {
  char its[IR_MAX_RANK * 34 + 4] = "[";
  for (intptr_t i = 0; i < n; ++i)
    strcat(its, i ? ",#linalg.iterator_type<parallel>" : "#linalg.iterator_type<parallel>");
  strcat(its, "]");
  return irParseAttr(ctx, its);
}

/* y + acc elementwise (acc of y's type, or [N] along y's last axis). */
static MlirValue addAcc(IrBuilder *b, MlirValue y, MlirValue acc, bool bias) {
  MlirType t = mlirValueGetType(y), f32 = mlirF32TypeGet(b->ctx);
  intptr_t r = mlirShapedTypeGetRank(t), id[IR_MAX_RANK], last = r - 1;
  for (intptr_t i = 0; i < r; ++i)
    id[i] = i;
  MlirAttribute maps[3] = {mapAttr(b->ctx, r, r, id),
                           bias ? mapAttr(b->ctx, r, 1, &last) : mapAttr(b->ctx, r, r, id),
                           mapAttr(b->ctx, r, r, id)};
  MlirType bt[3] = {f32, f32, f32};
  MlirLocation bl[3] = {b->loc, b->loc, b->loc};
  MlirBlock body = mlirBlockCreate(3, bt, bl);
  IrBuilder bb = {b->ctx, {NULL}, body, b->loc};
  MlirValue s = irBinary(&bb, "arith.addf", mlirBlockGetArgument(body, 0),
                         mlirBlockGetArgument(body, 1));
  irCreate(&bb, "linalg.yield", 1, &s, 0, NULL, 0, NULL);
  MlirValue ins[2] = {y, acc};
  MlirValue out = irCreate1(b, "tensor.empty", 0, NULL, t, 0, NULL);
  return irGeneric(b, 2, ins, out, maps, parallelIters(b->ctx, r), body);
}

/* The aligned index format the LUT kernels read w's indices in. */
static clusterrt_index_format lutFormat(const FuseWeight *w) {
  return clusterrt_format_aligned(w->fmt) ? w->fmt : clusterrt_narrowest_format(w->k);
}

/* Index e of a little-endian bit stream of `bits`-bit indices (the
 * runtime's index formats, include/clusterc/runtime.h). */
static unsigned readIndex(const uint8_t *in, size_t e, unsigned bits) {
  size_t bit = e * bits;
  uint32_t w = 0;
  for (unsigned i = 0; i < (bits + 7 + bit % 8) / 8; ++i)
    w |= (uint32_t)in[bit / 8 + i] << (8 * i);
  return (w >> (bit % 8)) & ((1u << bits) - 1);
}

/* The packed indices re-ordered N-major for the plan (Bw x N rows of
 * rowBytes); NULL when out of memory. */
static uint8_t *repack(const FuseWeight *w, const Plan *p, size_t *size) {
  const ConstInfo *ci = w->ci;
  /* The weight's indices may have any width (a dense bit stream); the LUT
   * kernels take the aligned widths, so an odd one is widened (K = 8: 3
   * bits stored, 4 bits in the kernel's layout). */
  unsigned inBits = clusterrt_format_bits(w->fmt);
  clusterrt_index_format lf = lutFormat(w);
  unsigned bits = clusterrt_format_bits(lf);
  size_t rb = clusterrt_index_bytes(lf, (size_t)p->K);
  size_t bw = p->dimB >= 0 ? (size_t)p->B : 1;
  int64_t stride[IR_MAX_RANK];
  for (intptr_t i = ci->rank - 1, s = 1; i >= 0; s *= ci->shape[i], --i)
    stride[i] = s;
  *size = bw * (size_t)p->N * rb;
  uint8_t *out = calloc(*size ? *size : 1, 1);
  if (!out)
    return NULL;
  const uint8_t *in = w->idx;
  for (size_t b = 0; b < bw; ++b)
    for (int64_t n = 0; n < p->N; ++n) {
      uint8_t *row = out + (b * (size_t)p->N + (size_t)n) * rb;
      for (int64_t k = 0; k < p->K; ++k) {
        int64_t off = n * stride[p->dimN] +
                      (p->dimB >= 0 ? (int64_t)b * stride[p->dimB] : 0);
        for (int i = p->nK - 1, r = (int)k; i >= 0; --i) {
          off += (r % p->sizeK[i]) * stride[p->dimK[i]];
          r /= (int)p->sizeK[i];
        }
        unsigned v = readIndex(in, (size_t)off, inBits);
        if (bits == 16) {
          row[2 * k] = (uint8_t)v, row[2 * k + 1] = (uint8_t)(v >> 8);
        } else {
          row[(size_t)k * bits / 8] |= (uint8_t)(v << ((size_t)k * bits % 8));
        }
      }
    }
  return out;
}

/* The convolution of plan p (im2col) as one clusterrt_mlir_lut_conv call:
 * the runtime gathers the patches while packing (no im2col tensor) and
 * writes the output in its layout; returns that output (p's result type). */
static MlirValue convCall(IrBuilder *b, const Plan *p, const MlirValue *lut) {
  MlirContext ctx = b->ctx;
  MlirType xt = mlirValueGetType(p->x);
  MlirType rt = mlirValueGetType(mlirOperationGetResult(p->consumer, 0));
  int sp = p->nchw ? 2 : 1, ch = p->nchw ? 1 : 3;
  int64_t geo[18] = {p->nchw,
                     mlirShapedTypeGetDimSize(xt, 0),
                     mlirShapedTypeGetDimSize(xt, ch),
                     mlirShapedTypeGetDimSize(xt, sp),
                     mlirShapedTypeGetDimSize(xt, sp + 1),
                     p->N,
                     mlirShapedTypeGetDimSize(rt, sp),
                     mlirShapedTypeGetDimSize(rt, sp + 1),
                     p->win[0], p->win[1], p->str[0], p->str[1], p->dil[0], p->dil[1],
                     p->pad[0], p->pad[1], p->pad[2], p->pad[3]};
  int64_t n18 = 18, dyn = mlirShapedTypeGetDynamicSize();
  MlirType gt = tensorOf(1, &n18, mlirIntegerTypeGet(ctx, 64));
  MlirNamedAttribute val = irNamed(ctx, "value", mlirDenseElementsAttrInt64Get(gt, 18, geo));
  MlirValue gv = irCreate1(b, "arith.constant", 0, NULL, gt, 1, &val);
  MlirValue args[8] = {irFlatDyn(b, p->x), lut[0], lut[1], lut[2], lut[3], lut[4],
                       irCast(b, "tensor.cast", gv,
                              tensorOf(1, &dyn, mlirIntegerTypeGet(ctx, 64))),
                       irFlatDyn(b, irCreate1(b, "tensor.empty", 0, NULL, rt, 0, NULL))};
  int64_t rs[IR_MAX_RANK];
  intptr_t rr = mlirShapedTypeGetRank(rt);
  for (intptr_t i = 0; i < rr; ++i)
    rs[i] = mlirShapedTypeGetDimSize(rt, i);
  int64_t total = 1;
  for (intptr_t i = 0; i < rr; ++i)
    total *= rs[i];
  MlirValue y = irCast(b, "tensor.cast", rtCall(b, &kLutConv, args),
                       tensorOf(1, &total, mlirShapedTypeGetElementType(rt)));
  return reshape(b, y, rr, rs);
}

/* Replaces p's consumer by the LUT call; false when out of memory. */
static bool buildCall(const FuseWeight *w, const Plan *p, MlirOperation anchor,
                      MlirOperation module) {
  MlirOperation op = p->consumer;
  MlirContext ctx = mlirOperationGetContext(op);
  MlirLocation loc = mlirOperationGetLocation(op);
  size_t nb;
  uint8_t *packed = repack(w, p, &nb);
  if (!packed)
    return false;
  IrBuilder ab = {ctx, anchor, {NULL}, mlirOperationGetLocation(anchor)};
  int64_t nbs = (int64_t)nb, nt = (int64_t)(w->tables * w->k);
  MlirType f32 = mlirF32TypeGet(ctx), i32 = mlirIntegerTypeGet(ctx, 32);
  MlirValue idx = w->makeConst(w->user, &ab,
                               tensorOf(1, &nbs, mlirIntegerTypeGet(ctx, 8)),
                               packed, nb, 1, "_lut_idx");
  free(packed);
  MlirValue tab = w->makeConst(w->user, &ab, tensorOf(1, &nt, f32), w->table,
                               (size_t)nt * sizeof(float), 4, "_lut_centroids");
  if (mlirValueIsNull(idx) || mlirValueIsNull(tab))
    return false;
  if (w->storedBytes)
    *w->storedBytes += (uint64_t)nb + (uint64_t)nt * sizeof(float);
  if (w->storedBits)
    *w->storedBits = clusterrt_format_bits(lutFormat(w));

  IrBuilder b = {ctx, op, {NULL}, loc};
  int64_t dyn = mlirShapedTypeGetDynamicSize();
  MlirValue lut[5] = {
      irCast(&b, "tensor.cast", idx, tensorOf(1, &dyn, mlirIntegerTypeGet(ctx, 8))),
      irConstInt(&b, i32, clusterrt_format_bits(lutFormat(w))),
      irCast(&b, "tensor.cast", tab, tensorOf(1, &dyn, f32)),
      irConstInt(&b, i32, (int64_t)w->k),
      irConstInt(&b, i32, w->tables > 1 ? 1 : 0)};
  MlirValue y;
  if (p->im2col) {
    rtDeclare(module, &kLutConv);
    y = convCall(&b, p, lut);
  } else {
    rtDeclare(module, &kLutMatmul);
    int64_t xs[3] = {p->B, p->M, p->K}, ys[3] = {p->B, p->M, p->N}, d3[3] = {dyn, dyn, dyn};
    MlirType dynT = tensorOf(3, d3, f32), yT = tensorOf(3, ys, f32);
    MlirValue x3 = irCast(&b, "tensor.cast", reshape(&b, p->x, 3, xs), dynT);
    MlirValue y3 = irCast(&b, "tensor.cast",
                          irCreate1(&b, "tensor.empty", 0, NULL, yT, 0, NULL), dynT);
    MlirValue args[7] = {x3, lut[0], lut[1], lut[2], lut[3], lut[4], y3};
    y = irCast(&b, "tensor.cast", rtCall(&b, &kLutMatmul, args), yT);
    MlirType rt = mlirValueGetType(mlirOperationGetResult(op, 0));
    int64_t rs[IR_MAX_RANK];
    intptr_t rr = mlirShapedTypeGetRank(rt);
    for (intptr_t i = 0; i < rr; ++i)
      rs[i] = mlirShapedTypeGetDimSize(rt, i);
    y = reshape(&b, y, rr, rs);
  }
  if (!mlirValueIsNull(p->acc))
    y = addAcc(&b, y, p->acc, p->accIsBias);
  MlirValue init = mlirOperationGetNumOperands(op) == 3 && !p->accIsBias
                       ? mlirOperationGetOperand(op, 2)
                       : (MlirValue){NULL};
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), y);
  mlirOperationDestroy(op);
  /* A zero fill nothing reads any more (and its tensor.empty) would still
   * run: drop them. */
  MlirOperation f = mlirValueIsNull(init) ? (MlirOperation){NULL} : defOp(init);
  if (!mlirOperationIsNull(f) && irOpIs(f, "linalg.fill"))
    irEraseIfDead(f);
  return true;
}

/* ---- The uses ------------------------------------------------------------------ */

/* Whether the weight's tables can serve plan p (one table, or one per
 * output channel). */
static bool tablesFit(const FuseWeight *w, const Plan *p) {
  return w->tables == 1 || w->axis == p->dimN;
}

static void setWhy(char *why, size_t size, MlirOperation op, const char *r) {
  if (!*why) {
    MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
    snprintf(why, size, "%.*s: %s", (int)n.length, n.data, r);
  }
}

typedef struct Uses {
  MlirOperation *op;
  unsigned *pos;
  size_t n;
} Uses;

static bool listUses(MlirValue v, Uses *u) {
  size_t n = 0;
  for (MlirOpOperand o = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(o);
       o = mlirOpOperandGetNextUse(o))
    ++n;
  u->n = n;
  u->op = malloc(sizeof *u->op * (n ? n : 1));
  u->pos = malloc(sizeof *u->pos * (n ? n : 1));
  if (!u->op || !u->pos) {
    free(u->op);
    free(u->pos);
    return false;
  }
  n = 0;
  for (MlirOpOperand o = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(o);
       o = mlirOpOperandGetNextUse(o), ++n) {
    u->op[n] = mlirOpOperandGetOwner(o);
    u->pos[n] = mlirOpOperandGetOperandNumber(o);
  }
  return true;
}

/* Fuses the uses of v (the weight seen through perm); returns the uses
 * left, or -1 when out of memory. `layout` is v's defining layout op. */
static int fuseValue(MlirValue v, const int *perm, MlirOperation layout,
                     const FuseWeight *w, MlirOperation anchor,
                     MlirOperation module, char *why, size_t whySize) {
  Uses u;
  if (!listUses(v, &u))
    return -1;
  int left = 0;
  MlirType vt = mlirValueGetType(v);
  intptr_t rank = mlirShapedTypeGetRank(vt);
  for (size_t i = 0; i < u.n; ++i) {
    MlirOperation op = u.op[i];
    const char *r = NULL;
    /* An op that reads the weight twice is gone once one use fused. */
    bool gone = false;
    for (size_t j = 0; j < i; ++j)
      gone = gone || (u.pos[j] == (unsigned)-1 && mlirOperationEqual(u.op[j], op));
    if (gone)
      continue;
    Plan p;
    int inner[IR_MAX_RANK];
    if (mlirOperationIsNull(layout) && u.pos[i] == 0 &&
        mlirOperationGetNumResults(op) == 1 && layoutPerm(op, rank, inner)) {
      /* Through one layout op: fuse its users, drop it when none is left. */
      int composed[IR_MAX_RANK];
      for (intptr_t d = 0; d < rank; ++d)
        composed[d] = perm[inner[d]];
      int l = fuseValue(mlirOperationGetResult(op, 0), composed, op, w, anchor,
                        module, why, whySize);
      if (l < 0) {
        left = -1;
        break;
      }
      if (l == 0) {
        /* The layout op's init (a tensor.empty) goes with it. */
        MlirValue init = mlirOperationGetOperand(op, mlirOperationGetNumOperands(op) - 1);
        mlirOperationDestroy(op);
        MlirOperation eo = defOp(init);
        if (!mlirOperationIsNull(eo) && irOpIs(eo, "tensor.empty") &&
            mlirOpOperandIsNull(mlirValueGetFirstUse(init)))
          mlirOperationDestroy(eo);
      }
      else
        ++left;
      continue;
    }
    if (planConsumer(op, u.pos[i], vt, perm, &p, &r) && !tablesFit(w, &p))
      r = "per-channel tables not along the output channels";
    if (r) {
      setWhy(why, whySize, op, r);
      ++left;
      continue;
    }
    if (!buildCall(w, &p, anchor, module)) {
      left = -1;
      break;
    }
    u.pos[i] = (unsigned)-1; /* marks the op destroyed */
  }
  free(u.op);
  free(u.pos);
  return left;
}

int fuseLutUses(MlirValue value, const FuseWeight *w, MlirOperation module,
                char *why, size_t whySize) {
  int perm[IR_MAX_RANK];
  for (int i = 0; i < IR_MAX_RANK; ++i)
    perm[i] = i;
  if (w->ci->elem != ELEM_F32 || w->ci->rank > 4) {
    if (why && whySize && !*why)
      snprintf(why, whySize, "%s", w->ci->elem != ELEM_F32
                                       ? "weights other than f32"
                                       : "rank above 4");
    int n = 0;
    for (MlirOpOperand o = mlirValueGetFirstUse(value); !mlirOpOperandIsNull(o);
         o = mlirOpOperandGetNextUse(o))
      ++n;
    return n;
  }
  return fuseValue(value, perm, (MlirOperation){NULL}, w, defOp(value), module,
                   why, whySize);
}
