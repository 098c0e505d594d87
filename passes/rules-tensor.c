/*
 * Gradient rules of the tensor ops the differentiated IR keeps: reshapes
 * swap (expand_shape <-> collapse_shape), extract_slice and insert_slice
 * swap into zeros, pad (static or dynamic) becomes the slice of its
 * interior, cast casts back.
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

/* The static offset/size/stride attributes of a slice op, with the
 * operandSegmentSizes of an extract_slice (1 operand) or insert_slice (2). */
static void sliceAttrs(Ad *ad, MlirOperation op, bool insert, MlirNamedAttribute *a) {
  static const int32_t extractSeg[4] = {1, 0, 0, 0}, insertSeg[5] = {1, 1, 0, 0, 0};
  a[0] = irNamed(ad->ctx, "static_offsets", adAttr(op, "static_offsets"));
  a[1] = irNamed(ad->ctx, "static_sizes", adAttr(op, "static_sizes"));
  a[2] = irNamed(ad->ctx, "static_strides", adAttr(op, "static_strides"));
  a[3] = irNamed(ad->ctx, "operandSegmentSizes",
                 insert ? mlirDenseI32ArrayGet(ad->ctx, 5, insertSeg)
                        : mlirDenseI32ArrayGet(ad->ctx, 4, extractSeg));
}

static bool ruleExtractSlice(Ad *ad, MlirOperation op, MlirValue g) {
  if (mlirOperationGetNumOperands(op) != 1)
    return adFail(ad, mlirOperationGetLocation(op),
                "cannot differentiate tensor.extract_slice with dynamic offsets");
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirNamedAttribute ins[4], ext[4];
  sliceAttrs(ad, op, true, ins);
  sliceAttrs(ad, op, false, ext);
  /* insert_slice overwrites its window: add what the accumulator holds
   * there first. */
  MlirValue old = vmGet(&ad->adj, src);
  MlirValue dest = mlirValueIsNull(old) ? adZeros(ad, mlirValueGetType(src)) : old;
  if (!mlirValueIsNull(old))
    g = adAddTensors(ad, g, irCreate1(&ad->b, "tensor.extract_slice", 1, &old,
                                    mlirValueGetType(g), 4, ext));
  MlirValue ops[2] = {g, dest};
  MlirValue r = irCreate1(&ad->b, "tensor.insert_slice", 2, ops,
                          mlirValueGetType(src), 4, ins);
  if (!vmPut(&ad->adj, src, r))
    return adFail(ad, ad->b.loc, "out of memory");
  return true;
}

static bool ruleInsertSlice(Ad *ad, MlirOperation op, MlirValue g) {
  if (mlirOperationGetNumOperands(op) != 2)
    return adFail(ad, mlirOperationGetLocation(op),
                "cannot differentiate tensor.insert_slice with dynamic offsets");
  MlirValue src = mlirOperationGetOperand(op, 0), dest = mlirOperationGetOperand(op, 1);
  MlirNamedAttribute ins[4], ext[4];
  sliceAttrs(ad, op, true, ins);
  sliceAttrs(ad, op, false, ext);
  if (vmHas(&ad->active, src) &&
      !adAccumulate(ad, src, irCreate1(&ad->b, "tensor.extract_slice", 1, &g,
                                     mlirValueGetType(src), 4, ext)))
    return false;
  if (vmHas(&ad->active, dest)) {
    /* dest's adjoint: g with the overwritten window zeroed. */
    MlirValue ops[2] = {adZeros(ad, mlirValueGetType(src)), g};
    if (!adAccumulate(ad, dest, irCreate1(&ad->b, "tensor.insert_slice", 2, ops,
                                        mlirValueGetType(dest), 4, ins)))
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
