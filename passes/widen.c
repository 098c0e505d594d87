/*
 * f16/bf16 models trained in f32 (weightsWidenToF32, weights.h): every
 * f16 and bf16 type in the module becomes f32 (values, block arguments,
 * function types, type attributes, float and dense attributes; the
 * constants' values, dense_resource blobs included, converted exactly),
 * and the extf/truncf ops between f32 and a half type, which then convert
 * f32 to f32, are removed. The training step computes on these f32 master
 * copies; write-back rounds the trained values to each constant's own type
 * in the original model (train/write-back.c), so the written model keeps
 * its precision. The forward pass during training is thus f32 throughout,
 * not the model's half-precision arithmetic: what torch users get with
 * `model.float()` before training and `.to(torch.bfloat16)` after.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "weights.h"

static bool isHalf(MlirType t) { return mlirTypeIsAF16(t) || mlirTypeIsABF16(t); }

/* t with every f16/bf16 (element) type replaced by f32; *changed set. */
static MlirType widen(MlirContext ctx, MlirType t, bool *changed) {
  MlirType f32 = mlirF32TypeGet(ctx);
  if (isHalf(t)) {
    *changed = true;
    return f32;
  }
  if (mlirTypeIsARankedTensor(t)) {
    MlirType e = mlirShapedTypeGetElementType(t);
    if (!isHalf(e)) return t;
    *changed = true;
    intptr_t r = mlirShapedTypeGetRank(t);
    int64_t shape[IR_MAX_RANK];
    if (r > IR_MAX_RANK) return t;
    for (intptr_t i = 0; i < r; ++i) shape[i] = mlirShapedTypeGetDimSize(t, i);
    return mlirRankedTensorTypeGet(r, shape, f32, mlirRankedTensorTypeGetEncoding(t));
  }
  if (mlirTypeIsAUnrankedTensor(t)) {
    if (!isHalf(mlirShapedTypeGetElementType(t))) return t;
    *changed = true;
    return mlirUnrankedTensorTypeGet(f32);
  }
  if (mlirTypeIsAMemRef(t)) {
    if (!isHalf(mlirShapedTypeGetElementType(t))) return t;
    *changed = true;
    intptr_t r = mlirShapedTypeGetRank(t);
    int64_t shape[IR_MAX_RANK];
    if (r > IR_MAX_RANK) return t;
    for (intptr_t i = 0; i < r; ++i) shape[i] = mlirShapedTypeGetDimSize(t, i);
    return mlirMemRefTypeGet(f32, r, shape, mlirMemRefTypeGetLayout(t),
                             mlirMemRefTypeGetMemorySpace(t));
  }
  if (mlirTypeIsAFunction(t)) {
    intptr_t ni = mlirFunctionTypeGetNumInputs(t), no = mlirFunctionTypeGetNumResults(t);
    MlirType *v = malloc(sizeof *v * (size_t)(ni + no + 1));
    if (!v) return t;
    bool c = false;
    for (intptr_t i = 0; i < ni; ++i) v[i] = widen(ctx, mlirFunctionTypeGetInput(t, i), &c);
    for (intptr_t i = 0; i < no; ++i)
      v[ni + i] = widen(ctx, mlirFunctionTypeGetResult(t, i), &c);
    MlirType w = c ? mlirFunctionTypeGet(ctx, ni, v, no, v + ni) : t;
    free(v);
    *changed |= c;
    return w;
  }
  return t;
}

/* A dense f16/bf16 elements attribute (splat or not) as f32; a null
 * attribute when a is not one, or out of memory. */
static MlirAttribute widenDense(MlirContext ctx, MlirAttribute a) {
  if (!mlirAttributeIsADenseFPElements(a)) return mlirAttributeGetNull();
  MlirType t = mlirAttributeGetType(a), e = mlirShapedTypeGetElementType(t);
  if (!isHalf(e)) return mlirAttributeGetNull();
  bool c = false;
  MlirType wt = widen(ctx, t, &c);
  const uint16_t *raw = mlirDenseElementsAttrGetRawData(a);
  if (mlirDenseElementsAttrIsSplat(a)) {
    uint16_t h;
    memcpy(&h, raw, 2);
    float v = mlirTypeIsAF16(e) ? weightsHalfToFloat(h) : weightsBF16ToFloat(h);
    return mlirDenseElementsAttrFloatSplatGet(wt, v);
  }
  intptr_t n = mlirElementsAttrGetNumElements(a);
  float *v = malloc(sizeof *v * (size_t)(n ? n : 1));
  if (!v) return mlirAttributeGetNull();
  for (intptr_t i = 0; i < n; ++i) {
    uint16_t h;
    memcpy(&h, (const char *)raw + 2 * i, 2);
    v[i] = mlirTypeIsAF16(e) ? weightsHalfToFloat(h) : weightsBF16ToFloat(h);
  }
  MlirAttribute w = mlirDenseElementsAttrFloatGet(wt, n, v);
  free(v);
  return w;
}

typedef struct Widen {
  size_t changed;
  MlirOperation *dead; /* no-op casts left to erase (a model has any number) */
  size_t nDead, capDead;
  bool oom; /* an allocation failed */
} Widen;

/* Appends op to w->dead, doubling the array when full; false when out of
 * memory. */
static bool addDead(Widen *w, MlirOperation op) {
  if (w->nDead == w->capDead) {
    size_t cap = w->capDead ? 2 * w->capDead : 64;
    MlirOperation *d =
        cap > SIZE_MAX / sizeof *d ? NULL : realloc(w->dead, cap * sizeof *d);
    if (!d)
      return false;
    w->dead = d, w->capDead = cap;
  }
  w->dead[w->nDead++] = op;
  return true;
}

static MlirWalkResult widenOp(MlirOperation op, void *user) {
  Widen *w = user;
  MlirContext ctx = mlirOperationGetContext(op);
  bool c = false;
  /* Attributes: float and type attributes, dense f16/bf16 elements. */
  for (intptr_t i = 0; i < mlirOperationGetNumAttributes(op); ++i) {
    MlirNamedAttribute na = mlirOperationGetAttribute(op, i);
    MlirAttribute a = na.attribute, n = mlirAttributeGetNull();
    if (mlirAttributeIsAFloat(a) && isHalf(mlirAttributeGetType(a))) {
      n = mlirFloatAttrDoubleGet(ctx, mlirF32TypeGet(ctx), mlirFloatAttrGetValueDouble(a));
    } else if (mlirAttributeIsAType(a)) {
      bool tc = false;
      MlirType t = widen(ctx, mlirTypeAttrGetValue(a), &tc);
      if (tc) n = mlirTypeAttrGet(t);
    } else if (mlirAttributeIsADenseFPElements(a)) {
      n = widenDense(ctx, a);
      if (mlirAttributeIsNull(n) && isHalf(mlirShapedTypeGetElementType(mlirAttributeGetType(a))))
        w->oom = true;
    }
    if (!mlirAttributeIsNull(n)) {
      mlirOperationSetAttributeByName(op, mlirIdentifierStr(na.name), n);
      c = true;
    }
  }
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i) {
    MlirValue v = mlirOperationGetResult(op, i);
    bool vc = false;
    MlirType t = widen(ctx, mlirValueGetType(v), &vc);
    if (vc) mlirValueSetType(v, t), c = true;
  }
  for (intptr_t r = 0; r < mlirOperationGetNumRegions(op); ++r)
    for (MlirBlock b = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, r));
         !mlirBlockIsNull(b); b = mlirBlockGetNextInRegion(b))
      for (intptr_t i = 0; i < mlirBlockGetNumArguments(b); ++i) {
        MlirValue v = mlirBlockGetArgument(b, i);
        bool vc = false;
        MlirType t = widen(ctx, mlirValueGetType(v), &vc);
        if (vc) mlirBlockArgumentSetType(v, t), c = true;
      }
  w->changed += c;
  /* extf/truncf (and tosa.cast) that now convert a type to itself. */
  if ((irOpIs(op, "arith.extf") || irOpIs(op, "arith.truncf") || irOpIs(op, "tosa.cast")) &&
      mlirOperationGetNumOperands(op) == 1 && mlirOperationGetNumResults(op) == 1 &&
      mlirTypeEqual(mlirValueGetType(mlirOperationGetOperand(op, 0)),
                    mlirValueGetType(mlirOperationGetResult(op, 0)))) {
    if (!addDead(w, op))
      w->oom = true;
  }
  return MlirWalkResultAdvance;
}

int weightsWidenToF32(MlirOperation module, const char **why) {
  /* The constants first: dense_resource blobs are read through the weight
   * inspection (weightsReadF32), which knows their layout. */
  WeightsList l = {0};
  if (!weightsCollect(module, &l)) {
    *why = "out of memory";
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < l.n && !rc; ++i) {
    ConstInfo *ci = &l.items[i];
    if ((ci->elem != ELEM_F16 && ci->elem != ELEM_BF16) || ci->form != FORM_RESOURCE)
      continue; /* dense and splat ones are widened with the other attributes */
    float *v = weightsReadF32(ci, why);
    if (!v) {
      rc = -1;
      break;
    }
    bool c = false;
    MlirType t = widen(mlirOperationGetContext(ci->op), ci->type, &c);
    MlirAttribute a = mlirDenseElementsAttrFloatGet(t, (intptr_t)ci->elements, v);
    free(v);
    const char *name = irOpIs(ci->op, "ml_program.global") ? "value" : weightsValueAttrName(ci->op);
    mlirOperationSetAttributeByName(ci->op, irStr(name), a);
  }
  for (size_t i = 0; i < l.n; ++i) weightsRelease(&l.items[i]);
  free(l.items);
  if (rc) return -1;
  Widen w = {0};
  mlirOperationWalk(module, widenOp, &w, MlirWalkPreOrder);
  for (size_t i = 0; i < w.nDead; ++i) {
    MlirOperation op = w.dead[i];
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), mlirOperationGetOperand(op, 0));
    mlirOperationDestroy(op);
  }
  free(w.dead);
  if (w.oom)
    *why = "out of memory";
  return w.oom ? -1 : (int)(w.changed > 0);
}
