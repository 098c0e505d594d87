/*
 * Gradient rules of the tensor ops the differentiated IR keeps: reshapes
 * swap (expand_shape <-> collapse_shape), extract_slice and insert_slice
 * (static or dynamic offsets, sizes, strides: the backward slice reuses
 * the forward values) swap into zeros, pad (static or dynamic) becomes the
 * slice of its interior, cast casts back.
 * tensor.empty and constants are never active and need no rule.
 */
#include "autodiff-rules.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

/* expand <-> collapse with the same reassociation. */
static bool reshapeBack(Ad *ad, MlirOperation op, MlirValue g, bool fromExpand) {
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirType st = mlirValueGetType(src);
  MlirNamedAttribute attrs[2];
  int nAttrs = 0;
  attrs[nAttrs++] = irNamed(ad->ctx, "reassociation", adAttr(op, "reassociation"));
  const char *inverse = fromExpand ? "tensor.collapse_shape" : "tensor.expand_shape";
  if (!fromExpand) {
    intptr_t rank = mlirShapedTypeGetRank(st);
    int64_t shape[IR_MAX_RANK]; /* rank checked by the driver */
    for (intptr_t i = 0; i < rank; ++i)
      shape[i] = mlirShapedTypeGetDimSize(st, i);
    attrs[nAttrs++] = irNamed(ad->ctx, "static_output_shape",
                              mlirDenseI64ArrayGet(ad->ctx, rank, shape));
  }
  return adAccumulate(ad, src, irCreate1(&ad->b, inverse, 1, &g, st, nAttrs, attrs));
}

static bool ruleExpandShape(Ad *ad, MlirOperation op, MlirValue g) {
  return reshapeBack(ad, op, g, true);
}

static bool ruleCollapseShape(Ad *ad, MlirOperation op, MlirValue g) {
  return reshapeBack(ad, op, g, false);
}

static MlirAttribute i64Array(MlirContext ctx, intptr_t n, const int64_t *v) {
  return mlirDenseI64ArrayGet(ctx, n, v);
}

/* The dynamic offsets, sizes and strides of a slice op (after its source,
 * and its destination for insert_slice), and how many of each. */
typedef struct SliceDyn {
  MlirValue v[3 * IR_MAX_RANK];
  int32_t n[3];
  intptr_t total;
} SliceDyn;

static void sliceDyn(MlirOperation op, bool insert, SliceDyn *d) {
  MlirAttribute seg = adAttr(op, "operandSegmentSizes");
  intptr_t first = insert ? 2 : 1;
  d->total = 0;
  for (int k = 0; k < 3; ++k) {
    d->n[k] = mlirDenseI32ArrayGetElement(seg, first + k);
    d->total += d->n[k];
  }
  for (intptr_t i = 0; i < d->total; ++i) /* ranks checked by the driver */
    d->v[i] = mlirOperationGetOperand(op, first + i);
}

/* The offset/size/stride attributes of a slice op (from op), with the
 * operandSegmentSizes of an extract_slice (insert false) or insert_slice
 * taking the dynamic values of d. */
static void sliceAttrs(Ad *ad, MlirOperation op, bool insert, const SliceDyn *d,
                       MlirNamedAttribute *a) {
  int32_t seg[5] = {1, 1, 0, 0, 0};
  int at = insert ? 2 : 1;
  for (int k = 0; k < 3; ++k)
    seg[at + k] = d->n[k];
  a[0] = irNamed(ad->ctx, "static_offsets", adAttr(op, "static_offsets"));
  a[1] = irNamed(ad->ctx, "static_sizes", adAttr(op, "static_sizes"));
  a[2] = irNamed(ad->ctx, "static_strides", adAttr(op, "static_strides"));
  a[3] = irNamed(ad->ctx, "operandSegmentSizes",
                 mlirDenseI32ArrayGet(ad->ctx, insert ? 5 : 4, seg));
}

/* A slice op on `src` (and `dest` for insert_slice) with d's dynamic
 * values. */
static MlirValue sliceOp(Ad *ad, MlirOperation like, bool insert, const SliceDyn *d,
                         MlirValue src, MlirValue dest, MlirType type) {
  MlirNamedAttribute a[4];
  sliceAttrs(ad, like, insert, d, a);
  MlirValue ops[3 * IR_MAX_RANK + 2];
  intptr_t n = 0;
  ops[n++] = src;
  if (insert)
    ops[n++] = dest;
  for (intptr_t i = 0; i < d->total; ++i)
    ops[n++] = d->v[i];
  return irCreate1(&ad->b, insert ? "tensor.insert_slice" : "tensor.extract_slice", n, ops,
                   type, 4, a);
}

static bool ruleExtractSlice(Ad *ad, MlirOperation op, MlirValue g) {
  MlirValue src = mlirOperationGetOperand(op, 0);
  SliceDyn d;
  sliceDyn(op, false, &d);
  /* insert_slice overwrites its window: add what the accumulator holds
   * there first. */
  MlirValue old = vmGet(&ad->adj, src);
  MlirValue dest = mlirValueIsNull(old) ? adZeros(ad, mlirValueGetType(src)) : old;
  if (!mlirValueIsNull(old))
    g = adAddTensors(ad, g, sliceOp(ad, op, false, &d, old, old, mlirValueGetType(g)));
  MlirValue r = sliceOp(ad, op, true, &d, g, dest, mlirValueGetType(src));
  if (!vmPut(&ad->adj, src, r))
    return adFail(ad, ad->b.loc, "out of memory");
  return true;
}

static bool ruleInsertSlice(Ad *ad, MlirOperation op, MlirValue g) {
  MlirValue src = mlirOperationGetOperand(op, 0), dest = mlirOperationGetOperand(op, 1);
  SliceDyn d;
  sliceDyn(op, true, &d);
  if (vmHas(&ad->active, src) &&
      !adAccumulate(ad, src, sliceOp(ad, op, false, &d, g, g, mlirValueGetType(src))))
    return false;
  if (vmHas(&ad->active, dest)) {
    /* dest's adjoint: g with the overwritten window zeroed. */
    MlirValue r = sliceOp(ad, op, true, &d, adZeros(ad, mlirValueGetType(src)), g,
                          mlirValueGetType(dest));
    if (!adAccumulate(ad, dest, r))
      return false;
  }
  return true;
}

/* The padding value a tensor.pad yields (its region's tensor.yield). */
static MlirValue padValue(MlirOperation op) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  MlirOperation y = mlirBlockIsNull(body) ? (MlirOperation){NULL} : mlirBlockGetTerminator(body);
  return mlirOperationIsNull(y) || mlirOperationGetNumOperands(y) != 1
             ? (MlirValue){NULL} : mlirOperationGetOperand(y, 0);
}

/* adj(src) += g[low : low + size(src)]: the slice of the interior. Static
 * and dynamic padding alike: the dynamic low values (tensor.pad's operands
 * after the source, low before high) become the slice's dynamic offsets,
 * and a dynamic dimension of the source a tensor.dim size. */
static bool rulePad(Ad *ad, MlirOperation op, MlirValue g) {
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirValue pv = padValue(op);
  if (!mlirValueIsNull(pv) && vmHas(&ad->active, pv))
    return adFail(ad, mlirOperationGetLocation(op),
                  "cannot differentiate tensor.pad with a trained padding value");
  MlirType st = mlirValueGetType(src);
  intptr_t rank = mlirShapedTypeGetRank(st);
  MlirAttribute low = adAttr(op, "static_low");
  int64_t offs[IR_MAX_RANK], sizes[IR_MAX_RANK], strides[IR_MAX_RANK];
  MlirValue dyn[2 * IR_MAX_RANK + 1];
  intptr_t nOff = 0, nSize = 0, nextLow = 1;
  dyn[0] = g;
  for (intptr_t i = 0; i < rank; ++i) { /* rank checked by the driver */
    offs[i] = mlirDenseI64ArrayGetElement(low, i);
    if (mlirShapedTypeIsDynamicSize(offs[i]))
      dyn[1 + nOff++] = mlirOperationGetOperand(op, nextLow++);
    strides[i] = 1;
  }
  for (intptr_t i = 0; i < rank; ++i) {
    sizes[i] = mlirShapedTypeGetDimSize(st, i);
    if (mlirShapedTypeIsDynamicSize(sizes[i])) {
      MlirValue ops[2] = {src, irConstIndex(&ad->b, i)};
      dyn[1 + nOff + nSize++] =
          irCreate1(&ad->b, "tensor.dim", 2, ops, mlirIndexTypeGet(ad->ctx), 0, NULL);
    }
  }
  int32_t seg[4] = {1, (int32_t)nOff, (int32_t)nSize, 0};
  MlirNamedAttribute a[4] = {
      irNamed(ad->ctx, "static_offsets", i64Array(ad->ctx, rank, offs)),
      irNamed(ad->ctx, "static_sizes", i64Array(ad->ctx, rank, sizes)),
      irNamed(ad->ctx, "static_strides", i64Array(ad->ctx, rank, strides)),
      irNamed(ad->ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(ad->ctx, 4, seg))};
  return adAccumulate(ad, src, irCreate1(&ad->b, "tensor.extract_slice", 1 + nOff + nSize,
                                         dyn, st, 4, a));
}

static bool ruleCast(Ad *ad, MlirOperation op, MlirValue g) {
  MlirValue src = mlirOperationGetOperand(op, 0);
  return adAccumulate(ad, src, irCast(&ad->b, "tensor.cast", g, mlirValueGetType(src)));
}

const AdRule adTensorRules[] = {
    {"tensor.expand_shape", ruleExpandShape},
    {"tensor.collapse_shape", ruleCollapseShape},
    {"tensor.extract_slice", ruleExtractSlice},
    {"tensor.insert_slice", ruleInsertSlice},
    {"tensor.pad", rulePad},
    {"tensor.cast", ruleCast},
    {NULL, NULL},
};
