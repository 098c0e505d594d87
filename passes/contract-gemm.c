/*
 * cluster-contract-gemm: contractions become calls of libclusterrt's GEMM
 * (clusterrt_mlir_sgemm / _acc in runtime/memref-abi.c, rt_contract_f32 in
 * runtime/gemm.c) instead of loop nests.
 *
 * A contraction is a linalg.generic (named ops are generalized first, see
 * libclusterc-codegen) with two f32 inputs and one f32 output, all of static
 * shape, whose body is `out + a * b` (either order of each operation) and
 * whose indexing maps are linear in the loop dimensions: every result a sum
 * of dimensions times non-negative constants, no constant term. That
 * covers matmul, batch_matmul, the matmul_transpose_* and every transposed
 * or broadcast form the autodiff rules emit, and convolutions (forward,
 * weight gradient: `oh * s + kh * d` windows), for which the runtime packs
 * the windows directly (implicit im2col). The op's loops are handed over as
 * a descriptor: per loop its size, its element stride in each (flattened,
 * row-major) operand, and whether it is a reduction:
 *
 *   %a1 = tensor.collapse_shape %a ... to tensor<?xf32> (likewise %b)
 *   %d  = arith.constant dense<[rank, size, sa, sb, sc, red, ...]> : tensor<?xi64>
 *   %c  = tensor.empty() (1-D, cast to tensor<?xf32>)
 *   func.call @clusterrt_mlir_sgemm(%a1, %b1, %d, %c)         // init a zero fill
 *   func.call @clusterrt_mlir_sgemm_acc(%a1, %b1, %i1, %d, %c) // otherwise
 *   %r  = %c expanded back to the output's shape
 *
 * Skipped (left to the loops): other element types, dynamic shapes, a
 * parallel loop the output does not use or uses non-injectively, fewer
 * than min-macs multiply-adds (the call and packing cost more than tiny
 * loops save). Results equal the loops' up to summation order.
 */
#include "clusterc/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/Dialect/Linalg.h"
#include "rtcall.h"

static const RtFn kSgemm = {"clusterrt_mlir_sgemm", 4, "fflf", "rrrw"};
static const RtFn kSgemmAcc = {"clusterrt_mlir_sgemm_acc", 5, "ffflf", "rrrrw"};

enum { MAX_LOOPS = 16 };

static MlirOperation defOp(MlirValue v) {
  return mlirValueIsAOpResult(v) ? mlirOpResultGetOwner(v) : (MlirOperation){NULL};
}

static bool staticF32(MlirValue v) {
  MlirType t = mlirValueGetType(v);
  return mlirTypeIsARankedTensor(t) && mlirShapedTypeHasStaticShape(t) &&
         mlirShapedTypeGetRank(t) >= 1 && mlirShapedTypeGetRank(t) <= IR_MAX_RANK &&
         mlirTypeIsAF32(mlirShapedTypeGetElementType(t));
}

/* Adds c * e's coefficients to coef[]; false if e is not a non-negative
 * linear combination of dimensions. */
static bool linear(MlirAffineExpr e, int64_t c, intptr_t nDims, int64_t *coef) {
  if (mlirAffineExprIsADim(e)) {
    intptr_t d = mlirAffineDimExprGetPosition(e);
    if (d < 0 || d >= nDims) return false;
    coef[d] += c;
    return true;
  }
  if (mlirAffineExprIsAAdd(e))
    return linear(mlirAffineBinaryOpExprGetLHS(e), c, nDims, coef) &&
           linear(mlirAffineBinaryOpExprGetRHS(e), c, nDims, coef);
  if (mlirAffineExprIsAMul(e)) {
    MlirAffineExpr l = mlirAffineBinaryOpExprGetLHS(e), r = mlirAffineBinaryOpExprGetRHS(e);
    if (mlirAffineExprIsAConstant(l)) {
      MlirAffineExpr t = l;
      l = r, r = t;
    }
    if (!mlirAffineExprIsAConstant(r)) return false;
    int64_t k = mlirAffineConstantExprGetValue(r);
    return k >= 0 && k < (1 << 20) && linear(l, c * k, nDims, coef);
  }
  return false;
}

static bool isReduction(MlirAttribute it);

/* Row-major element strides of static shaped type t. */
static void rowMajor(MlirType t, int64_t *dimStride) {
  int64_t row = 1;
  for (intptr_t r = mlirShapedTypeGetRank(t); r-- > 0;) {
    dimStride[r] = row;
    row *= mlirShapedTypeGetDimSize(t, r);
  }
}

/* Per loop, the element stride in an operand of rank `rank` whose
 * dimensions are dimStride[] apart, read through map m. */
static bool strides(intptr_t rank, const int64_t *dimStride, MlirAffineMap m, intptr_t nDims,
                    int64_t *s) {
  if (mlirAffineMapGetNumResults(m) != rank || mlirAffineMapGetNumSymbols(m) != 0)
    return false;
  for (intptr_t d = 0; d < nDims; ++d) s[d] = 0;
  for (intptr_t r = 0; r < rank; ++r) {
    int64_t coef[MAX_LOOPS] = {0};
    if (!linear(mlirAffineMapGetResult(m, r), 1, nDims, coef)) return false;
    for (intptr_t d = 0; d < nDims; ++d) s[d] += coef[d] * dimStride[r];
  }
  return true;
}

/* If v is a transpose of a static f32 tensor (linalg.transpose, or the
 * generic it generalizes to: one input read through a permutation, the
 * identity into the output, a body that yields the input), returns the
 * source and sets dimStride[r] to the source's row-major stride of the
 * dimension that v's dimension r reads, so the contraction reads the
 * source in place (torch-mlir puts every fully-connected weight behind
 * such a transpose; as its own op it was a strided copy per call). Else a
 * null value. */
static MlirValue transposed(MlirValue v, int64_t *dimStride) {
  MlirOperation t = defOp(v);
  if (mlirOperationIsNull(t) || mlirOperationGetNumOperands(t) != 2 ||
      mlirOperationGetNumResults(t) != 1)
    return (MlirValue){NULL};
  MlirValue src = mlirOperationGetOperand(t, 0);
  if (!staticF32(src)) return (MlirValue){NULL};
  intptr_t rank = mlirShapedTypeGetRank(mlirValueGetType(src));
  int64_t perm[IR_MAX_RANK], srcStride[IR_MAX_RANK];
  if (irOpIs(t, "linalg.transpose")) {
    MlirAttribute p = mlirOperationGetAttributeByName(t, irStr("permutation"));
    if (mlirAttributeIsNull(p) || !mlirAttributeIsADenseI64Array(p) ||
        mlirDenseArrayGetNumElements(p) != rank)
      return (MlirValue){NULL};
    for (intptr_t r = 0; r < rank; ++r) perm[r] = mlirDenseI64ArrayGetElement(p, r);
  } else if (irOpIs(t, "linalg.generic")) {
    /* out[d] = in[map(d)], map a permutation: result r of the input map
     * is d_{q(r)}; v's dimension q(r) reads source dimension r. */
    MlirAttribute maps = mlirOperationGetAttributeByName(t, irStr("indexing_maps"));
    if (mlirAttributeIsNull(maps) || mlirArrayAttrGetNumElements(maps) != 2) return (MlirValue){NULL};
    MlirAffineMap in = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, 0));
    MlirAffineMap out = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, 1));
    MlirAttribute iters = mlirOperationGetAttributeByName(t, irStr("iterator_types"));
    if (!mlirAffineMapIsPermutation(in) || !mlirAffineMapIsIdentity(out) ||
        mlirAffineMapGetNumResults(in) != rank || mlirAttributeIsNull(iters))
      return (MlirValue){NULL};
    for (intptr_t d = 0; d < mlirArrayAttrGetNumElements(iters); ++d)
      if (isReduction(mlirArrayAttrGetElement(iters, d))) return (MlirValue){NULL};
    for (intptr_t r = 0; r < rank; ++r) perm[r] = -1;
    for (intptr_t r = 0; r < rank; ++r)
      perm[mlirAffineDimExprGetPosition(mlirAffineMapGetResult(in, r))] = r;
    MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(t, 0));
    MlirOperation y = mlirBlockGetFirstOperation(body);
    if (mlirOperationIsNull(y) || !irOpIs(y, "linalg.yield") ||
        mlirOperationGetNumOperands(y) != 1)
      return (MlirValue){NULL};
    MlirValue x = mlirOperationGetOperand(y, 0);
    if (!mlirValueIsABlockArgument(x) || !mlirBlockEqual(mlirBlockArgumentGetOwner(x), body) ||
        mlirBlockArgumentGetArgNumber(x) != 0)
      return (MlirValue){NULL};
  } else {
    return (MlirValue){NULL};
  }
  rowMajor(mlirValueGetType(src), srcStride);
  for (intptr_t r = 0; r < rank; ++r) {
    if (perm[r] < 0 || perm[r] >= rank) return (MlirValue){NULL};
    dimStride[r] = srcStride[perm[r]];
  }
  return src;
}

/* Whether the body is yield(out + x * y), in any operand order, with x
 * and y two distinct input arguments (other inputs unused: the autodiff
 * rules hand every operand of the forward op to a gradient's generic);
 * *ia, *ib get their input numbers. */
static bool mulAddBody(MlirOperation op, int *ia, int *ib) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  intptr_t nArgs = mlirBlockGetNumArguments(body);
  if (nArgs < 3) return false;
  MlirValue o = mlirBlockGetArgument(body, nArgs - 1);
  MlirOperation mul = mlirBlockGetFirstOperation(body);
  if (mlirOperationIsNull(mul) || !irOpIs(mul, "arith.mulf")) return false;
  MlirOperation add = mlirOperationGetNextInBlock(mul);
  if (mlirOperationIsNull(add) || !irOpIs(add, "arith.addf")) return false;
  MlirOperation yield = mlirOperationGetNextInBlock(add);
  if (mlirOperationIsNull(yield) || !irOpIs(yield, "linalg.yield") ||
      mlirOperationGetNumOperands(yield) != 1 ||
      !mlirValueEqual(mlirOperationGetOperand(yield, 0), mlirOperationGetResult(add, 0)))
    return false;
  MlirValue m[2] = {mlirOperationGetOperand(mul, 0), mlirOperationGetOperand(mul, 1)};
  int idx[2];
  for (int i = 0; i < 2; ++i) {
    if (!mlirValueIsABlockArgument(m[i]) ||
        !mlirBlockEqual(mlirBlockArgumentGetOwner(m[i]), body))
      return false;
    idx[i] = (int)mlirBlockArgumentGetArgNumber(m[i]);
    if (idx[i] >= nArgs - 1) return false;
  }
  if (idx[0] == idx[1]) return false;
  MlirValue a0 = mlirOperationGetOperand(add, 0), a1 = mlirOperationGetOperand(add, 1);
  MlirValue p = mlirOperationGetResult(mul, 0);
  if (!((mlirValueEqual(a0, o) && mlirValueEqual(a1, p)) ||
        (mlirValueEqual(a0, p) && mlirValueEqual(a1, o))))
    return false;
  *ia = idx[0], *ib = idx[1];
  return true;
}

/* Whether v is a fill with (either signed) zero: linalg.fill, or the
 * generic it generalizes to. */
static bool zeroFill(MlirValue v) {
  MlirOperation f = defOp(v);
  if (mlirOperationIsNull(f)) return false;
  MlirValue x;
  if (irOpIs(f, "linalg.fill")) {
    x = mlirOperationGetOperand(f, 0);
  } else if (irOpIs(f, "linalg.generic") && mlirOperationGetNumOperands(f) <= 2) {
    /* A generalized fill: yields its scalar input, or a value from outside. */
    MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(f, 0));
    MlirOperation y = mlirBlockGetFirstOperation(body);
    if (!irOpIs(y, "linalg.yield") || mlirOperationGetNumOperands(y) != 1) return false;
    x = mlirOperationGetOperand(y, 0);
    if (mlirValueIsABlockArgument(x)) {
      if (mlirOperationGetNumOperands(f) != 2 || mlirBlockArgumentGetArgNumber(x) != 0)
        return false;
      x = mlirOperationGetOperand(f, 0);
    }
  } else {
    return false;
  }
  MlirOperation c = defOp(x);
  if (mlirOperationIsNull(c) || !irOpIs(c, "arith.constant")) return false;
  MlirAttribute a = mlirOperationGetAttributeByName(c, irStr("value"));
  return mlirAttributeIsAFloat(a) && mlirFloatAttrGetValueDouble(a) == 0.0;
}

static bool isReduction(MlirAttribute it) {
  char buf[64] = {0};
  irAttrText(it, buf, sizeof buf);
  return strstr(buf, "reduction") != NULL;
}

/* Whether the parallel loops index the output injectively: sorted by
 * stride, each stride exceeds the reach of the smaller ones. */
static bool injective(intptr_t n, const int64_t *size, const int64_t *sc,
                      const bool *red) {
  bool used[MAX_LOOPS] = {false};
  int64_t reach = 0;
  for (;;) {
    intptr_t best = -1;
    for (intptr_t d = 0; d < n; ++d)
      if (!red[d] && !used[d] && size[d] > 1 && (best < 0 || sc[d] < sc[best]))
        best = d;
    if (best < 0) return true;
    if (sc[best] <= reach) return false;
    reach += (size[best] - 1) * sc[best];
    used[best] = true;
  }
}

typedef struct Walk {
  int64_t minMacs;
  MlirOperation module;
  MlirOperation ops[4096];
  size_t n;
} Walk;

static MlirWalkResult collect(MlirOperation op, void *user) {
  Walk *w = user;
  if (irOpIs(op, "linalg.generic") && w->n < sizeof w->ops / sizeof *w->ops)
    w->ops[w->n++] = op;
  return MlirWalkResultAdvance;
}

/* Rewrites op if it is a contraction the runtime takes. */
static void rewrite(Walk *w, MlirOperation op) {
  int ia, ib;
  intptr_t nOps = mlirOperationGetNumOperands(op);
  if (nOps < 3 || mlirOperationGetNumResults(op) != 1 || !mulAddBody(op, &ia, &ib))
    return;
  int which[3] = {ia, ib, (int)nOps - 1}; /* A, B, the output */
  MlirValue v[3];
  for (int i = 0; i < 3; ++i)
    if (!staticF32(v[i] = mlirOperationGetOperand(op, which[i]))) return;
  MlirAttribute maps = mlirOperationGetAttributeByName(op, irStr("indexing_maps"));
  MlirAttribute iters = mlirOperationGetAttributeByName(op, irStr("iterator_types"));
  if (mlirAttributeIsNull(maps) || mlirAttributeIsNull(iters)) return;
  intptr_t nDims = mlirArrayAttrGetNumElements(iters);
  if (nDims < 1 || nDims > MAX_LOOPS) return;
  int64_t s[3][MAX_LOOPS], size[MAX_LOOPS] = {0};
  bool red[MAX_LOOPS];
  for (intptr_t d = 0; d < nDims; ++d)
    red[d] = isReduction(mlirArrayAttrGetElement(iters, d));
  MlirValue src[3] = {{NULL}, {NULL}, {NULL}}; /* the inputs' transposed sources */
  for (int i = 0; i < 3; ++i) {
    MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, which[i]));
    int64_t dimStride[IR_MAX_RANK];
    if (i < 2) src[i] = transposed(v[i], dimStride);
    if (mlirValueIsNull(src[i])) rowMajor(mlirValueGetType(v[i]), dimStride);
    if (mlirAffineMapGetNumDims(m) != nDims ||
        !strides(mlirShapedTypeGetRank(mlirValueGetType(v[i])), dimStride, m, nDims, s[i]))
      return;
  }
  /* Loop sizes: from the operand dimensions indexed by a bare loop. */
  for (intptr_t i = 0; i < nOps; ++i) {
    MlirType t = mlirValueGetType(mlirOperationGetOperand(op, i));
    MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t) ||
        mlirAffineMapGetNumResults(m) != mlirShapedTypeGetRank(t))
      continue;
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(m); ++r) {
      MlirAffineExpr e = mlirAffineMapGetResult(m, r);
      if (mlirAffineExprIsADim(e))
        size[mlirAffineDimExprGetPosition(e)] = mlirShapedTypeGetDimSize(t, r);
    }
  }
  int64_t macs = 1;
  for (intptr_t d = 0; d < nDims; ++d) {
    if (size[d] <= 0) return; /* only inside a window sum, or empty */
    if (!red[d] && size[d] > 1 && s[2][d] == 0) return;
    macs = macs > INT64_MAX / size[d] ? INT64_MAX : macs * size[d];
  }
  if (macs < w->minMacs || !injective(nDims, size, s[2], red)) return;

  MlirContext ctx = mlirOperationGetContext(op);
  IrBuilder b = {ctx, op, {NULL}, mlirOperationGetLocation(op)};
  int64_t desc[1 + 5 * MAX_LOOPS], nd = 1 + 5 * (int64_t)nDims;
  desc[0] = nDims;
  for (intptr_t d = 0; d < nDims; ++d) {
    int64_t *l = desc + 1 + 5 * d;
    l[0] = size[d], l[1] = s[0][d], l[2] = s[1][d], l[3] = s[2][d], l[4] = red[d];
  }
  MlirType i64 = mlirIntegerTypeGet(ctx, 64);
  MlirType dt = mlirRankedTensorTypeGet(1, &nd, i64, mlirAttributeGetNull());
  MlirNamedAttribute val = irNamed(ctx, "value", mlirDenseElementsAttrInt64Get(dt, nd, desc));
  MlirValue dv = irCreate1(&b, "arith.constant", 0, NULL, dt, 1, &val);
  int64_t dyn = mlirShapedTypeGetDynamicSize();
  dv = irCast(&b, "tensor.cast", dv, mlirRankedTensorTypeGet(1, &dyn, i64, mlirAttributeGetNull()));
  MlirType outT = mlirValueGetType(v[2]);
  MlirValue out = irFlatDyn(&b, irCreate1(&b, "tensor.empty", 0, NULL, outT, 0, NULL));
  bool zero = zeroFill(v[2]);
  const RtFn *fn = zero ? &kSgemm : &kSgemmAcc;
  rtDeclare(w->module, fn);
  MlirOperation feed[2] = {{NULL}, {NULL}}; /* transposes read in place */
  for (int i = 0; i < 2; ++i)
    if (!mlirValueIsNull(src[i])) {
      feed[i] = defOp(v[i]);
      v[i] = src[i];
    }
  MlirValue args[5] = {irFlatDyn(&b, v[0]), irFlatDyn(&b, v[1])};
  int na = 2;
  if (!zero) args[na++] = irFlatDyn(&b, v[2]);
  args[na++] = dv;
  args[na++] = out;
  MlirValue r = irUnflat(&b, rtCall(&b, fn, args), outT);
  mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), r);
  mlirOperationDestroy(op);
  /* The zero fill and the transposes, if nothing else reads them, and
   * their tensor.empty. */
  if (zero) irEraseIfDead(defOp(v[2]));
  for (int i = 0; i < 2; ++i)
    if (!mlirOperationIsNull(feed[i]) &&
        (i == 0 || !mlirOperationEqual(feed[0], feed[1])))
      irEraseIfDead(feed[i]);
}

static void contractGemm(MlirOperation module, int64_t minMacs) {
  Walk *w = calloc(1, sizeof *w);
  if (!w) return;
  w->minMacs = minMacs;
  w->module = module;
  mlirOperationWalk(module, collect, w, MlirWalkPostOrder);
  for (size_t i = 0; i < w->n; ++i)
    rewrite(w, w->ops[i]);
  free(w);
}

/* ---- The pass ------------------------------------------------------------- */

void clustercClusterContractGemmOptionsInit(ClustercClusterContractGemmOptions *o) {
  o->minMacs = 4096;
}

void clustercClusterContractGemmOptionsFree(ClustercClusterContractGemmOptions *o) {
  (void)o;
}

/* "min-macs=N". */
int clustercClusterContractGemmOptionsParse(ClustercClusterContractGemmOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t errSize) {
  return irParseCountOption("cluster-contract-gemm", "min-macs", text, len, &o->minMacs, err,
                            errSize);
}

static bool cgRun(MlirOperation op, const void *options) {
  contractGemm(op, ((const ClustercClusterContractGemmOptions *)options)->minMacs);
  return true;
}

static IrPodPassKind cgKind = {
    "ClusterContractGemm", "cluster-contract-gemm",
    "Rewrite f32 linalg contractions (matmuls, convolutions) into libclusterrt GEMM calls",
    sizeof(ClustercClusterContractGemmOptions), cgRun, {NULL}};

MlirPass clustercCreateClusterContractGemmPass(const ClustercClusterContractGemmOptions *o) {
  return irCreatePodPass(&cgKind, o, mlirGetDialectHandle__linalg__());
}
