/*
 * Finding weights: a tensor constant is a weight when a compute op (conv,
 * depthwise conv, transpose conv, fully connected, matmul, batch matmul, a
 * linalg contraction) consumes it in a weight slot, directly or through
 * layout ops (tosa.transpose, tosa.reshape, linalg.transpose, linalg.broadcast,
 * tensor.expand_shape / collapse_shape, and a linalg.generic that only copies
 * its one input through a permutation or broadcast: weightsIsLayoutGeneric).
 * Embedding tables are weights too: the values of tosa.gather, or a table a
 * gather-like linalg.generic reads with tensor.extract. It is a bias when it is such an
 * op's bias operand or is added elementwise. Everything else is "other".
 *
 * The output-channel axis is known when the constant feeds the compute op
 * directly (table below); through layout ops it is left unknown (-1) and the
 * pass falls back to axis 0.
 */
#include "weights.h"
#include "mlir-compat.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/checked.h"
#include "capi-ext.h"
#include "ir.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

static bool strEq(MlirStringRef s, const char *lit) {
  size_t n = strlen(lit);
  return s.length == n && !memcmp(s.data, lit, n);
}

static bool startsWith(MlirStringRef s, const char *lit) {
  size_t n = strlen(lit);
  return s.length >= n && !memcmp(s.data, lit, n);
}

static MlirStringRef opName(MlirOperation op) {
  return mlirIdentifierStr(mlirOperationGetName(op));
}

char *weightsStrDup(MlirStringRef s) {
  char *r = malloc(s.length + 1);
  if (r) {
    memcpy(r, s.data, s.length);
    r[s.length] = 0;
  }
  return r;
}

/* Number of DPS inputs of a linalg op (operandSegmentSizes[0]), or -1. */
static intptr_t linalgNumInputs(MlirOperation op) {
  MlirAttribute seg =
      mlirOperationGetAttributeByName(op, irStr("operandSegmentSizes"));
  if (mlirAttributeIsNull(seg) || !mlirAttributeIsADenseI32Array(seg) ||
      mlirDenseArrayGetNumElements(seg) < 1)
    return -1;
  return mlirDenseI32ArrayGetElement(seg, 0);
}

static bool genericHasReduction(MlirOperation op) {
  MlirAttribute it =
      mlirOperationGetAttributeByName(op, irStr("iterator_types"));
  if (mlirAttributeIsNull(it))
    return false;
  /* A long iterator list is cut to the buffer; the first reduction of a
   * real model's generic is well inside it. */
  char buf[512];
  return strstr(irAttrText(it, buf, sizeof buf), "reduction") != NULL;
}

/* Role of operand `pos` of `user`; sets *axis for direct weights. */
static WeightRole operandRole(MlirOperation user, unsigned pos, intptr_t rank,
                              int *axis) {
  MlirStringRef n = opName(user);
  char name[128];
  snprintf(name, sizeof name, "%.*s", (int)n.length, n.data);
  *axis = -1;
  if (strEq(n, "tosa.conv2d") || strEq(n, "tosa.conv3d") ||
      strEq(n, "tosa.transpose_conv2d") || strEq(n, "tosa.fully_connected")) {
    if (pos == 1)
      return *axis = 0, ROLE_WEIGHT;
    return pos == 2 ? ROLE_BIAS : ROLE_ZERO_POINT; /* 1.0: input_zp, weight_zp */
  }
  if (strEq(n, "tosa.depthwise_conv2d")) {
    if (pos == 1)
      return *axis = 2, ROLE_WEIGHT; /* [KH, KW, C, M] */
    return pos == 2 ? ROLE_BIAS : ROLE_ZERO_POINT;
  }
  if (strEq(n, "tosa.matmul") && pos > 1)
    return ROLE_ZERO_POINT; /* TOSA 1.0's a_zp, b_zp */
  /* 1.0's input/output zero points of avg_pool2d and negate. */
  if ((strEq(n, "tosa.avg_pool2d") || strEq(n, "tosa.negate")) && pos > 0)
    return ROLE_ZERO_POINT;
  if (strEq(n, "tosa.matmul"))
    return *axis = (pos == 1 ? 2 : 1), ROLE_WEIGHT;
  /* Embedding tables: the values of tosa.gather, or a table read by
   * tensor.extract inside a gather-like linalg.generic (captured from
   * above); per-channel along the embedding dim. */
  if ((strEq(n, "tosa.gather") || strEq(n, "tensor.extract")) && pos == 0) {
    if (strEq(n, "tensor.extract")) {
      MlirOperation parent = mlirOperationGetParentOperation(user);
      if (mlirOperationIsNull(parent) || !strEq(opName(parent), "linalg.generic"))
        return ROLE_OTHER;
      /* A row picked by a computed index, read along the embedding dim
       * (last index a linalg.index). clusterc's own decode reads its
       * codebook with the computed index last: that is no embedding. */
      intptr_t nOps = mlirOperationGetNumOperands(user);
      MlirValue last = mlirOperationGetOperand(user, nOps - 1);
      if (rank < 2 || nOps != rank + 1 || !mlirValueIsAOpResult(last) ||
          !strEq(opName(mlirOpResultGetOwner(last)), "linalg.index"))
        return ROLE_OTHER;
    }
    return *axis = rank >= 1 ? (int)rank - 1 : 0, ROLE_WEIGHT;
  }
  if (strEq(n, "tosa.add") || strEq(n, "arith.addf") || strEq(n, "linalg.add"))
    return ROLE_BIAS;
  if (!startsWith(n, "linalg."))
    return ROLE_OTHER;
  intptr_t nIn = linalgNumInputs(user);
  bool isInput = nIn < 0 || (intptr_t)pos < nIn;
  if (!isInput)
    return ROLE_OTHER;
  if (strEq(n, "linalg.generic"))
    return genericHasReduction(user) ? ROLE_WEIGHT : ROLE_BIAS;
  if (startsWith(n, "linalg.conv_") || startsWith(n, "linalg.depthwise_conv_")) {
    if (pos != 1)
      return ROLE_OTHER;
    /* Filter layouts: *_hwcf -> F last; *_fchw / *_fhwc -> F first;
     * depthwise *_hwc / *_hwcm -> C at rank-1 / rank-2; *_chw -> 0. */
    if (strstr(name, "hwcf"))
      *axis = (int)rank - 1;
    else if (startsWith(n, "linalg.depthwise_conv_"))
      *axis = strstr(name, "_chw") ? 0
              : strstr(name, "hwcm") ? (int)rank - 2 : (int)rank - 1;
    else
      *axis = 0;
    return ROLE_WEIGHT;
  }
  if (startsWith(n, "linalg.matmul") || startsWith(n, "linalg.batch_matmul") ||
      strEq(n, "linalg.matvec") || strEq(n, "linalg.vecmat") ||
      strEq(n, "linalg.batch_matvec") || strEq(n, "linalg.batch_vecmat") ||
      startsWith(n, "linalg.contract")) {
    bool transB = strstr(name, "transpose_b") != NULL;
    if (pos == 1 && rank >= 2)
      *axis = transB ? (int)rank - 2 : (int)rank - 1;
    else if (pos == 0 && rank >= 2)
      *axis = (int)rank - 2;
    return ROLE_WEIGHT;
  }
  return ROLE_OTHER;
}

/* True for a layout-only linalg.generic: one input, one output, all
 * parallel iterators, both indexing maps projected permutations (transpose,
 * broadcast) and a body that only yields the input element (a pure copy).
 * Decided by the maps and body, not by any name: torch-mlir's FC weights
 * reach linalg.matmul through such a transposing generic. */
bool weightsIsLayoutGeneric(MlirOperation op) {
  if (!strEq(opName(op), "linalg.generic") || linalgNumInputs(op) != 1 ||
      mlirOperationGetNumOperands(op) != 2 || mlirOperationGetNumRegions(op) != 1 ||
      genericHasReduction(op))
    return false;
  MlirAttribute maps = mlirOperationGetAttributeByName(op, irStr("indexing_maps"));
  if (mlirAttributeIsNull(maps) || !mlirAttributeIsAArray(maps) ||
      mlirArrayAttrGetNumElements(maps) != 2)
    return false;
  for (intptr_t i = 0; i < 2; ++i) {
    MlirAttribute m = mlirArrayAttrGetElement(maps, i);
    if (!mlirAttributeIsAAffineMap(m) ||
        !mlirAffineMapIsProjectedPermutation(mlirAffineMapAttrGetValue(m)))
      return false;
  }
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  if (mlirBlockIsNull(body) || mlirBlockGetNumArguments(body) != 2)
    return false;
  MlirOperation yield = mlirBlockGetFirstOperation(body);
  return !mlirOperationIsNull(yield) && strEq(opName(yield), "linalg.yield") &&
         mlirOperationGetNumOperands(yield) == 1 &&
         mlirValueEqual(mlirOperationGetOperand(yield, 0), mlirBlockGetArgument(body, 0));
}

static bool isLayoutOp(MlirOperation op, unsigned pos) {
  MlirStringRef n = opName(op);
  if (pos != 0)
    return false;
  return weightsIsLayoutGeneric(op) || strEq(n, "tosa.transpose") || strEq(n, "tosa.reshape") ||
         strEq(n, "linalg.transpose") || strEq(n, "linalg.broadcast") ||
         strEq(n, "tensor.expand_shape") || strEq(n, "tensor.collapse_shape");
}

/* Order of strength: weight > bias > zero point > other (not the enum's
 * order). */
static int roleStrength(WeightRole r) {
  return r == ROLE_WEIGHT ? 3 : r == ROLE_BIAS ? 2 : r == ROLE_ZERO_POINT ? 1 : 0;
}

/* Strongest role among the transitive users of v. */
static WeightRole valueRole(MlirValue v, intptr_t rank, int depth,
                            MlirOperation *consumer, int *axis) {
  WeightRole best = ROLE_OTHER;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u)) {
    MlirOperation user = mlirOpOperandGetOwner(u);
    unsigned pos = mlirOpOperandGetOperandNumber(u);
    MlirOperation c = user;
    int a = -1;
    WeightRole r;
    if (isLayoutOp(user, pos) && depth < 8 && mlirOperationGetNumResults(user) == 1) {
      r = valueRole(mlirOperationGetResult(user, 0), rank, depth + 1, &c, &a);
      a = -1; /* the layout changed: the direct axis no longer applies */
    } else {
      r = operandRole(user, pos, rank, &a);
      if (r == ROLE_WEIGHT && strEq(opName(user), "tensor.extract"))
        c = mlirOperationGetParentOperation(user); /* the gather-like generic */
    }
    if (roleStrength(r) > roleStrength(best) ||
        (r == best && r != ROLE_OTHER && mlirOperationIsNull(*consumer))) {
      best = r;
      *consumer = c;
      *axis = a;
    }
  }
  return best;
}

const char *weightsElemName(ElemKind k) {
  static const char *names[] = {"f32", "f16", "bf16", "f64", "int", "quant", "other"};
  return names[k];
}

const char *weightsFormName(ConstForm f) {
  static const char *names[] = {"dense", "splat", "dense_resource", "unknown"};
  return names[f];
}

const char *weightsValueAttrName(MlirOperation op) {
  return strEq(opName(op), "tosa.const") ? CLUSTERC_TOSA_CONST_ATTR : "value";
}

bool weightsInspect(MlirOperation op, ConstInfo *ci) {
  MlirStringRef n = opName(op);
  memset(ci, 0, sizeof *ci);
  MlirType t;
  MlirAttribute v = mlirOperationGetAttributeByName(op, irStr(weightsValueAttrName(op)));
  if (strEq(n, "arith.constant") || strEq(n, "tosa.const")) {
    if (mlirOperationGetNumResults(op) != 1)
      return false;
    t = mlirValueGetType(mlirOperationGetResult(op, 0));
  } else if (strEq(n, "ml_program.global")) {
    MlirAttribute ta = mlirOperationGetAttributeByName(op, irStr("type"));
    if (mlirAttributeIsNull(ta) || !mlirAttributeIsAType(ta) ||
        !mlirAttributeIsNull(mlirOperationGetAttributeByName(op, irStr("is_mutable"))))
      return false;
    t = mlirTypeAttrGetValue(ta);
  } else {
    return false;
  }
  if (mlirAttributeIsNull(v) || !mlirTypeIsARankedTensor(t) ||
      !mlirShapedTypeHasStaticShape(t))
    return false;
  ci->op = op;
  ci->value = v;
  ci->type = t;
  ci->rank = mlirShapedTypeGetRank(t);
  ci->shape = malloc(sizeof(int64_t) * (size_t)(ci->rank ? ci->rank : 1));
  if (!ci->shape)
    return false;
  ci->elements = 1;
  for (intptr_t i = 0; i < ci->rank; ++i) {
    ci->shape[i] = mlirShapedTypeGetDimSize(t, i);
    if (!ci->tooLarge && !clustercMulCount(&ci->elements, ci->shape[i]))
      ci->tooLarge = true;
  }
  if (ci->tooLarge)
    ci->elements = UINT64_MAX;
  MlirType et = mlirShapedTypeGetElementType(t);
  if (mlirTypeIsAF32(et))
    ci->elem = ELEM_F32, ci->elemBytes = 4;
  else if (mlirTypeIsAF16(et))
    ci->elem = ELEM_F16, ci->elemBytes = 2;
  else if (mlirTypeIsABF16(et))
    ci->elem = ELEM_BF16, ci->elemBytes = 2;
  else if (mlirTypeIsAF64(et))
    ci->elem = ELEM_F64, ci->elemBytes = 8;
  else if (mlirTypeIsAInteger(et))
    ci->elem = ELEM_INT, ci->elemBytes = (mlirIntegerTypeGetWidth(et) + 7) / 8;
  else if (mlirTypeIsAIndex(et))
    ci->elem = ELEM_INT, ci->elemBytes = 8;
  else {
    /* Only the dialect prefix matters: the name is cut to the buffer (a
     * per-axis quantized type lists every scale and runs far past it). */
    char buf[16];
    irTypeName(et, buf, sizeof buf);
    ci->elem = strncmp(buf, "!quant.", 7) == 0 ? ELEM_QUANT : ELEM_OTHER;
  }
  if (mlirAttributeIsADenseResourceElements(v))
    ci->form = FORM_RESOURCE;
  else if (mlirAttributeIsADenseElements(v))
    ci->form = mlirDenseElementsAttrIsSplat(v) ? FORM_SPLAT : FORM_DENSE;
  else
    ci->form = FORM_UNKNOWN;
  ci->channelAxis = -1;
  return true;
}

void weightsClassify(ConstInfo *ci) {
  ci->consumer = (MlirOperation){NULL};
  ci->channelAxis = -1;
  ci->role = ROLE_OTHER;
  if (!ci->loads) {
    ci->role = valueRole(mlirOperationGetResult(ci->op, 0), ci->rank, 0,
                         &ci->consumer, &ci->channelAxis);
    return;
  }
  for (size_t i = 0; i < ci->numLoads; ++i) {
    MlirOperation c = {NULL};
    int axis = -1;
    WeightRole r = valueRole(mlirOperationGetResult(ci->loads[i], 0), ci->rank,
                             0, &c, &axis);
    if (roleStrength(r) > roleStrength(ci->role) ||
        (r == ci->role && mlirOperationIsNull(ci->consumer))) {
      ci->role = r;
      ci->consumer = c;
      ci->channelAxis = axis;
    }
  }
}

void weightsRelease(ConstInfo *ci) {
  free(ci->shape);
  free(ci->loads);
  ci->shape = NULL;
  ci->loads = NULL;
}

bool weightsIsGlobalLoad(MlirOperation op, MlirStringRef *symbol) {
  if (!strEq(opName(op), "ml_program.global_load_const"))
    return false;
  MlirAttribute g = mlirOperationGetAttributeByName(op, irStr("global"));
  if (mlirAttributeIsNull(g) || !mlirAttributeIsAFlatSymbolRef(g))
    return false;
  *symbol = mlirFlatSymbolRefAttrGetValue(g);
  return true;
}

MlirStringRef weightsGlobalName(MlirOperation global) {
  MlirAttribute a = mlirOperationGetAttributeByName(global, irStr("sym_name"));
  return mlirStringAttrGetValue(a);
}

/* ---- f16 / bf16 ---------------------------------------------------------- */

float weightsHalfToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           man = h & 0x3ff, bits;
  if (exp == 0x1f)
    bits = sign | 0x7f800000u | (man << 13);
  else if (exp == 0) {
    float f = ldexpf((float)man, -24);
    return sign ? -f : f;
  } else
    bits = sign | ((exp + 112) << 23) | (man << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t weightsFloatToHalf(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  float a = fabsf(f);
  if (isnan(f))
    return sign | 0x7e00;
  if (a >= 65520.0f) /* rounds to infinity */
    return sign | 0x7c00;
  if (a < 6.103515625e-05f) { /* subnormal half: multiples of 2^-24 */
    float q = nearbyintf(a * 16777216.0f); /* default rounding: to even */
    return sign | (uint16_t)q;
  }
  uint32_t ax;
  memcpy(&ax, &a, 4);
  uint32_t exp = (ax >> 23) - 112, man = ax & 0x7fffff;
  uint32_t h = (exp << 10) | (man >> 13), rest = man & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h; /* may carry into the exponent, which is still correct */
  return sign | (uint16_t)h;
}

float weightsBF16ToFloat(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t weightsFloatToBF16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if (isnan(f))
    return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

bool weightsRawData(const ConstInfo *ci, const void **data, size_t *size,
                    const char **why) {
  *data = NULL;
  *size = 0;
  if (ci->form == FORM_RESOURCE) {
    if (!clustercResourceGetData(ci->value, data, size)) {
      *why = "dense_resource has no blob data (elided or missing)";
      return false;
    }
  } else if (ci->form == FORM_DENSE || ci->form == FORM_SPLAT) {
    *data = mlirDenseElementsAttrGetRawData(ci->value);
    *size = ci->form == FORM_SPLAT ? ci->elemBytes : ci->elements * ci->elemBytes;
  } else {
    *why = "unsupported attribute form";
    return false;
  }
  size_t want = ci->form == FORM_SPLAT ? ci->elemBytes : ci->elements * ci->elemBytes;
  if (*size != want) {
    *why = "blob size does not match the tensor type";
    return false;
  }
  return true;
}

float *weightsConvertF32(const ConstInfo *ci, const void *data, size_t size) {
  float *w = malloc(sizeof(float) * (ci->elements ? ci->elements : 1));
  if (!w)
    return NULL;
  if (ci->elem == ELEM_F32 && ci->form != FORM_SPLAT) {
    memcpy(w, data, size);
    return w;
  }
  for (uint64_t i = 0; i < ci->elements; ++i) {
    uint64_t j = ci->form == FORM_SPLAT ? 0 : i;
    if (ci->elem == ELEM_F32)
      memcpy(&w[i], (const char *)data + 4 * j, 4);
    else {
      uint16_t h;
      memcpy(&h, (const char *)data + 2 * j, 2);
      w[i] = ci->elem == ELEM_F16 ? weightsHalfToFloat(h) : weightsBF16ToFloat(h);
    }
  }
  return w;
}

float *weightsReadF32(const ConstInfo *ci, const char **why) {
  const void *data;
  size_t size;
  if (!weightsRawData(ci, &data, &size, why))
    return NULL;
  float *w = weightsConvertF32(ci, data, size);
  if (!w)
    *why = "out of memory";
  return w;
}

/* ---- Batch-norm statistics ------------------------------------------------
 *
 * Inference-form batch normalisation, y = (x - mean) / sqrt(var + eps) *
 * gamma + beta, reaches clusterc in two shapes: one linalg.generic with the
 * whole formula in its body (clusterc's ONNX importer, torch-mlir's
 * aten.batch_norm), or a chain of elementwise generics with the [C]
 * constants expanded and broadcast in between (torch-mlir's decomposed
 * form). Both are recognised on the scalar data flow, looking through
 * whatever only moves a value: layout ops, a generic's operand and its
 * block argument, linalg.yield and the generic's result, f32 casts, and a
 * product with a scalar constant (torch's `alpha`):
 *
 *   var, eps  a constant reaching an addend of an addf whose sum reaches
 *             sqrt or rsqrt;
 *   mean      a constant reaching the subtrahend of a subf whose difference
 *             reaches a mulf or divf by something computed from sqrt or
 *             rsqrt.
 *
 * gamma and beta match neither: they stay trainable. Searches are bounded
 * in depth (the chain of transparent steps) and in steps. */

#define BN_DEPTH 12

typedef struct BnSearch {
  int steps;  /* left: the walk gives up (no match) when it runs out */
  int target; /* 0: sqrt/rsqrt use; 1: a scaling by a sqrt-derived value */
} BnSearch;

static bool isSqrtOp(MlirOperation op) {
  MlirStringRef n = opName(op);
  return strEq(n, "math.sqrt") || strEq(n, "math.rsqrt");
}

static bool isScalarConst(MlirValue v) {
  return mlirValueIsAOpResult(v) && strEq(opName(mlirOpResultGetOwner(v)), "arith.constant") &&
         !mlirTypeIsARankedTensor(mlirValueGetType(v));
}

/* Whether v was computed from a sqrt or rsqrt, looking back through the
 * transparent steps, products (either factor) and a divisor. */
static bool fromSqrt(MlirValue v, int depth, BnSearch *s) {
  if (depth > BN_DEPTH || --s->steps < 0)
    return false;
  if (mlirValueIsABlockArgument(v)) {
    MlirBlock blk = mlirBlockArgumentGetOwner(v);
    MlirOperation g = mlirBlockGetParentOperation(blk);
    intptr_t pos = mlirBlockArgumentGetArgNumber(v);
    if (mlirOperationIsNull(g) || !strEq(opName(g), "linalg.generic") ||
        pos >= mlirOperationGetNumOperands(g))
      return false;
    return fromSqrt(mlirOperationGetOperand(g, pos), depth + 1, s);
  }
  MlirOperation def = mlirOpResultGetOwner(v);
  MlirStringRef n = opName(def);
  if (isSqrtOp(def))
    return true;
  if (strEq(n, "linalg.generic")) {
    MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(def, 0));
    MlirOperation y = mlirBlockGetTerminator(body);
    intptr_t k = mlirOpResultGetResultNumber(v);
    return !mlirOperationIsNull(y) && k < mlirOperationGetNumOperands(y) &&
           fromSqrt(mlirOperationGetOperand(y, k), depth + 1, s);
  }
  if (strEq(n, "arith.mulf"))
    return fromSqrt(mlirOperationGetOperand(def, 0), depth + 1, s) ||
           fromSqrt(mlirOperationGetOperand(def, 1), depth + 1, s);
  if (strEq(n, "arith.divf"))
    return fromSqrt(mlirOperationGetOperand(def, 1), depth + 1, s);
  if (strEq(n, "arith.truncf") || strEq(n, "arith.extf") || strEq(n, "tensor.expand_shape") ||
      strEq(n, "tensor.collapse_shape") || strEq(n, "tensor.cast") ||
      strEq(n, "linalg.broadcast") || strEq(n, "tosa.reshape"))
    return fromSqrt(mlirOperationGetOperand(def, 0), depth + 1, s);
  return false;
}

static bool bnForward(MlirValue v, int depth, BnSearch *s);

/* A use that is not a transparent step: does it complete the pattern? */
static bool bnUse(MlirOperation user, unsigned pos, int depth, BnSearch *s) {
  MlirStringRef n = opName(user);
  if (s->target == 0)
    return isSqrtOp(user);
  if (strEq(n, "arith.mulf"))
    return fromSqrt(mlirOperationGetOperand(user, 1 - pos), depth + 1, s);
  if (strEq(n, "arith.divf") && pos == 0)
    return fromSqrt(mlirOperationGetOperand(user, 1), depth + 1, s);
  return false;
}

/* Follows v forward through the transparent steps; true when a use
 * completes the pattern of s->target. */
static bool bnForward(MlirValue v, int depth, BnSearch *s) {
  if (depth > BN_DEPTH)
    return false;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u);
       u = mlirOpOperandGetNextUse(u)) {
    if (--s->steps < 0)
      return false;
    MlirOperation user = mlirOpOperandGetOwner(u);
    unsigned pos = mlirOpOperandGetOperandNumber(u);
    MlirStringRef n = opName(user);
    MlirValue next = {NULL};
    if (strEq(n, "linalg.generic")) {
      intptr_t nIn = linalgNumInputs(user);
      MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(user, 0));
      if (nIn >= 0 && (intptr_t)pos < nIn && !mlirBlockIsNull(body) &&
          (intptr_t)pos < mlirBlockGetNumArguments(body))
        next = mlirBlockGetArgument(body, pos);
    } else if (strEq(n, "linalg.yield")) {
      MlirOperation g = mlirOperationGetParentOperation(user);
      if (!mlirOperationIsNull(g) && strEq(opName(g), "linalg.generic") &&
          (intptr_t)pos < mlirOperationGetNumResults(g))
        next = mlirOperationGetResult(g, pos);
    } else if ((pos == 0 && (strEq(n, "arith.truncf") || strEq(n, "arith.extf") ||
                             strEq(n, "tensor.expand_shape") ||
                             strEq(n, "tensor.collapse_shape") || strEq(n, "tensor.cast") ||
                             strEq(n, "linalg.broadcast") || strEq(n, "tosa.reshape"))) ||
               (strEq(n, "arith.mulf") &&
                isScalarConst(mlirOperationGetOperand(user, 1 - pos)))) {
      next = mlirOperationGetResult(user, 0);
    }
    if (!mlirValueIsNull(next)) {
      if (bnForward(next, depth + 1, s))
        return true;
      continue;
    }
    if (s->target >= 0) {
      if (bnUse(user, pos, depth, s))
        return true;
      continue;
    }
    /* The pattern's own steps: an addend on the way to sqrt (var, eps), a
     * subtrahend on the way to the scaling (mean). */
    if (strEq(n, "arith.addf") || (strEq(n, "arith.subf") && pos == 1)) {
      BnSearch inner = {s->steps, strEq(n, "arith.addf") ? 0 : 1};
      bool hit = bnForward(mlirOperationGetResult(user, 0), depth + 1, &inner);
      s->steps = inner.steps;
      if (hit)
        return true;
    }
  }
  return false;
}

bool weightsIsBatchNormStat(const ConstInfo *ci) {
  size_t n = ci->loads ? ci->numLoads : 1;
  for (size_t i = 0; i < n; ++i) {
    MlirOperation op = ci->loads ? ci->loads[i] : ci->op;
    BnSearch s = {4096, -1}; /* -1: not inside a pattern yet */
    if (mlirOperationGetNumResults(op) == 1 && bnForward(mlirOperationGetResult(op, 0), 0, &s))
      return true;
  }
  return false;
}
