/*
 * cluster-order-loops: the loop order of linalg.generic ops, for code that is lowered to plain loops
 * (convert-linalg-to-loops) and left to LLVM's loop vectorizer.
 *
 * A generic's loops nest in the order of its iteration dimensions. Named ops
 * generalize with the reduction innermost (matmul: i, j, k), which walks
 * the right-hand matrix down a column and leaves LLVM nothing to vectorize
 * without reassociating the sum. This rewrite permutes the dimensions (the
 * indexing maps, iterator types and linalg.index ops together, so the op
 * computes the same values) to put innermost the dimension along which the
 * operands are contiguous:
 *
 *   score(d) = sum over operands of  w * (+1 if d indexes its last dimension,
 *              -1 if d indexes another dimension, 0 if absent)
 *   w = 2 for the output, 1 for inputs; a reduction dimension loses 0.5 and
 *   is only a candidate when reassociation is allowed; a dimension of fewer
 *   than 8 iterations is not a candidate while another is.
 * A small input (a weight next to a convolution's loop nest) read with the
 * candidate dimension in another position may get a transposed copy that
 * puts it last, when that wins: tosa's convolutions keep the filter as
 * [F, KH, KW, C], and the copy lets the output channels run innermost.
 *
 * The other dimensions keep their order, parallel ones before reductions:
 * matmul becomes (i, k, j), its weight gradient (k, i, j), its input
 * gradient (i, k, j) with a j-reduction innermost. When the innermost
 * dimension is a reduction, the generic's arith.addf gets fastmath
 * `reassoc` so LLVM may vectorize the sum; the result then depends on the
 * vector width, not only on the inputs.
 *
 * The pass: `cluster-order-loops` (reassociation allowed, the default) or
 * `cluster-order-loops{reassociate=false}` (a reduction is never made
 * innermost: sums keep their order). libclusterc-codegen runs it before the
 * lowering pipeline, for the JIT and object code alike
 * (ClustercCodegenOptions.loopOrder).
 */
#include "clusterc/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Dialect/Linalg.h"

enum { MAX_DIMS = 16, MAX_OPERANDS = 64 };

static bool isReduction(MlirAttribute it) {
  char buf[64] = {0};
  irAttrText(it, buf, sizeof buf);
  return strstr(buf, "reduction") != NULL;
}

/* Which result of `map` uses dimension d: the result index if it is the
 * bare dimension, -2 if d appears inside a compound expression, -1 if d is
 * absent. */
static intptr_t dimUse(MlirAffineMap map, intptr_t d) {
  intptr_t n = mlirAffineMapGetNumResults(map);
  for (intptr_t r = 0; r < n; ++r) {
    MlirAffineExpr e = mlirAffineMapGetResult(map, r);
    if (mlirAffineExprIsADim(e) && mlirAffineDimExprGetPosition(e) == d)
      return r;
    if (!mlirAffineExprIsADim(e) && mlirAffineExprIsFunctionOfDim(e, d))
      return -2;
  }
  return -1;
}

/* Static loop sizes: from each operand dimension indexed by a bare
 * dimension. 0 where unknown. */
static void loopSizes(MlirOperation op, MlirAttribute maps, intptr_t nOps,
                      intptr_t nDims, int64_t *size) {
  for (intptr_t d = 0; d < nDims; ++d)
    size[d] = 0;
  for (intptr_t o = 0; o < nOps; ++o) {
    MlirType t = mlirValueGetType(mlirOperationGetOperand(op, o));
    if (!mlirTypeIsARankedTensor(t) && !mlirTypeIsAMemRef(t))
      continue;
    MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, o));
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(m); ++r) {
      MlirAffineExpr e = mlirAffineMapGetResult(m, r);
      if (mlirAffineExprIsADim(e) && !mlirShapedTypeIsDynamicDim(t, r))
        size[mlirAffineDimExprGetPosition(e)] = mlirShapedTypeGetDimSize(t, r);
    }
  }
}

typedef struct Walk {
  bool reassoc;
} Walk;

static void setReassoc(MlirBlock body) {
  MlirOperation yield = mlirBlockGetTerminator(body);
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(yield); ++i) {
    MlirValue v = mlirOperationGetOperand(yield, i);
    if (!mlirValueIsAOpResult(v))
      continue;
    MlirOperation def = mlirOpResultGetOwner(v);
    if (irOpIs(def, "arith.addf"))
      mlirOperationSetAttributeByName(
          def, irStr("fastmath"),
          irParseAttr(mlirOperationGetContext(def), "#arith.fastmath<reassoc>"));
  }
}

/* Whether input o may be given a transposed copy that puts dimension d
 * last: a tensor whose map is a projected permutation using d but not
 * last, small next to the loop nest (the copy is cheap). */
static bool canTranspose(MlirOperation op, MlirAttribute maps, intptr_t o, intptr_t d,
                         int64_t iterations) {
  MlirType t = mlirValueGetType(mlirOperationGetOperand(op, o));
  if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t))
    return false;
  MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, o));
  intptr_t use = dimUse(m, d), last = mlirAffineMapGetNumResults(m) - 1;
  if (use < 0 || use == last || !mlirAffineMapIsProjectedPermutation(m))
    return false;
  int64_t n = 1;
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i)
    n *= mlirShapedTypeGetDimSize(t, i);
  return n * 8 <= iterations;
}

/* The score of d as the innermost dimension (see the top of the file);
 * with `transposed`, the inputs that canTranspose count as contiguous, and
 * the candidate must need at least one of them. */
static double score(MlirOperation op, MlirAttribute maps, intptr_t nOps, intptr_t d,
                    bool reduction, bool transposed, int64_t iterations) {
  double sc = reduction ? -0.5 : 0;
  bool any = false;
  for (intptr_t o = 0; o < nOps; ++o) {
    MlirType t = mlirValueGetType(mlirOperationGetOperand(op, o));
    if (!mlirTypeIsARankedTensor(t) && !mlirTypeIsAMemRef(t))
      continue;
    MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, o));
    intptr_t use = dimUse(m, d), last = mlirAffineMapGetNumResults(m) - 1;
    double w = o == nOps - 1 ? 2 : 1;
    if (transposed && o < nOps - 1 && canTranspose(op, maps, o, d, iterations)) {
      sc += w;
      any = true;
      continue;
    }
    sc += use == -1 ? 0 : use == last ? w : -w;
  }
  /* A copy costs a little: prefer not to make one for nothing. */
  return transposed ? (any ? sc - 0.25 : -1e9) : sc;
}

/* Gives each input that canTranspose a transposed copy with d last:
 *   %e = tensor.empty ; %t = linalg.generic (copy) ins(%x) outs(%e)
 * and reads it through the map with d's result moved last. */
static void transposeInputs(MlirOperation op, intptr_t d, int64_t iterations) {
  MlirContext ctx = mlirOperationGetContext(op);
  MlirAttribute maps = mlirOperationGetAttributeByName(op, irStr("indexing_maps"));
  intptr_t nOps = mlirArrayAttrGetNumElements(maps);
  MlirAttribute newMaps[MAX_OPERANDS];
  IrBuilder b = {ctx, op, {NULL}, mlirOperationGetLocation(op)};
  for (intptr_t o = 0; o < nOps; ++o) {
    newMaps[o] = mlirArrayAttrGetElement(maps, o);
    if (o == nOps - 1 || !canTranspose(op, maps, o, d, iterations))
      continue;
    MlirValue x = mlirOperationGetOperand(op, o);
    MlirType t = mlirValueGetType(x);
    MlirAffineMap m = mlirAffineMapAttrGetValue(newMaps[o]);
    intptr_t rank = mlirShapedTypeGetRank(t), use = dimUse(m, d);
    if (rank > MAX_DIMS)
      continue;
    /* perm[i]: the source dimension at position i of the copy. */
    intptr_t perm[MAX_DIMS], k = 0;
    for (intptr_t i = 0; i < rank; ++i)
      if (i != use)
        perm[k++] = i;
    perm[k] = use;
    int64_t shape[MAX_DIMS];
    MlirAffineExpr srcEx[MAX_DIMS], opEx[MAX_DIMS];
    for (intptr_t i = 0; i < rank; ++i) {
      shape[i] = mlirShapedTypeGetDimSize(t, perm[i]);
      srcEx[perm[i]] = mlirAffineDimExprGet(ctx, i); /* source dim perm[i] is loop i */
      opEx[i] = mlirAffineMapGetResult(m, perm[i]);
    }
    MlirType et = mlirShapedTypeGetElementType(t);
    MlirType tt = mlirRankedTensorTypeGet(rank, shape, et, mlirAttributeGetNull());
    MlirValue e = irCreate1(&b, "tensor.empty", 0, NULL, tt, 0, NULL);
    MlirLocation locs[2] = {b.loc, b.loc};
    MlirType bt[2] = {et, et};
    MlirBlock body = mlirBlockCreate(2, bt, locs);
    IrBuilder bb = {ctx, {NULL}, body, b.loc};
    MlirValue in = mlirBlockGetArgument(body, 0);
    irCreate(&bb, "linalg.yield", 1, &in, 0, NULL, 0, NULL);
    MlirAttribute cmaps[2] = {
        mlirAffineMapAttrGet(mlirAffineMapGet(ctx, rank, 0, rank, srcEx)),
        mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, rank))};
    MlirAttribute par[MAX_DIMS];
    for (intptr_t i = 0; i < rank; ++i)
      par[i] = irParseAttr(ctx, "#linalg.iterator_type<parallel>");
    MlirValue copy = irGeneric(&b, 1, &x, e, cmaps, mlirArrayAttrGet(ctx, rank, par), body);
    mlirOperationSetOperand(op, o, copy);
    newMaps[o] = mlirAffineMapAttrGet(
        mlirAffineMapGet(ctx, mlirAffineMapGetNumDims(m), 0, rank, opEx));
  }
  mlirOperationSetAttributeByName(op, irStr("indexing_maps"),
                                  mlirArrayAttrGet(ctx, nOps, newMaps));
}

static void reorder(MlirOperation op, bool reassoc) {
  MlirContext ctx = mlirOperationGetContext(op);
  MlirAttribute maps = mlirOperationGetAttributeByName(op, irStr("indexing_maps"));
  MlirAttribute iters = mlirOperationGetAttributeByName(op, irStr("iterator_types"));
  MlirAttribute seg = mlirOperationGetAttributeByName(op, irStr("operandSegmentSizes"));
  if (mlirAttributeIsNull(maps) || mlirAttributeIsNull(iters) || mlirAttributeIsNull(seg))
    return;
  intptr_t nDims = mlirArrayAttrGetNumElements(iters);
  intptr_t nIn = mlirDenseI32ArrayGetElement(seg, 0);
  intptr_t nOps = mlirArrayAttrGetNumElements(maps);
  if (nDims < 2 || nDims > MAX_DIMS || nOps > MAX_OPERANDS || nOps != nIn + 1)
    return; /* one output: the training graphs' form */
  bool red[MAX_DIMS];
  for (intptr_t d = 0; d < nDims; ++d)
    red[d] = isReduction(mlirArrayAttrGetElement(iters, d));
  int64_t size[MAX_DIMS];
  loopSizes(op, maps, nOps, nDims, size);

  intptr_t best = -1;
  double bestScore = -1e9;
  int64_t iterations = 1;
  for (intptr_t d = 0; d < nDims; ++d)
    iterations *= size[d] > 0 ? size[d] : 1;
  bool transposeBest = false;
  for (int pass = 0; pass < 2 && best < 0; ++pass)
    for (intptr_t d = 0; d < nDims; ++d) {
      if (red[d] && !reassoc)
        continue;
      if (pass == 0 && size[d] > 0 && size[d] < 8)
        continue;
      for (int tr = 0; tr < 2; ++tr) {
        double sc = score(op, maps, nOps, d, red[d], tr == 1, iterations);
        if (sc > bestScore + 1e-9 || (sc > bestScore - 1e-9 && d > best && !tr)) {
          bestScore = sc;
          best = d;
          transposeBest = tr == 1;
        }
      }
    }
  if (best < 0)
    return;
  if (transposeBest) {
    transposeInputs(op, best, iterations);
    maps = mlirOperationGetAttributeByName(op, irStr("indexing_maps"));
  }
  /* New order: parallel dims, then reductions, then `best`. */
  intptr_t order[MAX_DIMS], n = 0; /* order[newPos] = oldDim */
  for (int r = 0; r < 2; ++r)
    for (intptr_t d = 0; d < nDims; ++d)
      if (d != best && red[d] == (r == 1))
        order[n++] = d;
  order[n++] = best;
  bool same = true;
  for (intptr_t i = 0; i < nDims; ++i)
    same &= order[i] == i;
  if (same) {
    if (red[best])
      setReassoc(mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)));
    return;
  }
  intptr_t newPos[MAX_DIMS];
  for (intptr_t i = 0; i < nDims; ++i)
    newPos[order[i]] = i;
  /* P: old dim i -> new dim newPos[i]; each map result is composed with it. */
  MlirAffineExpr pe[MAX_DIMS];
  for (intptr_t i = 0; i < nDims; ++i)
    pe[i] = mlirAffineDimExprGet(ctx, newPos[i]);
  MlirAffineMap P = mlirAffineMapGet(ctx, nDims, 0, nDims, pe);
  MlirAttribute newMaps[MAX_OPERANDS];
  for (intptr_t o = 0; o < nOps; ++o) {
    MlirAffineMap m = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, o));
    intptr_t nr = mlirAffineMapGetNumResults(m);
    MlirAffineExpr ex[MAX_DIMS * 2];
    if (nr > MAX_DIMS * 2)
      return;
    for (intptr_t r = 0; r < nr; ++r)
      ex[r] = mlirAffineExprCompose(mlirAffineMapGetResult(m, r), P);
    newMaps[o] = mlirAffineMapAttrGet(mlirAffineMapGet(ctx, nDims, 0, nr, ex));
  }
  MlirAttribute newIters[MAX_DIMS];
  for (intptr_t i = 0; i < nDims; ++i)
    newIters[i] = mlirArrayAttrGetElement(iters, order[i]);
  mlirOperationSetAttributeByName(op, irStr("indexing_maps"),
                                  mlirArrayAttrGet(ctx, nOps, newMaps));
  mlirOperationSetAttributeByName(op, irStr("iterator_types"),
                                  mlirArrayAttrGet(ctx, nDims, newIters));
  /* linalg.index ops name dimensions too. */
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  for (MlirOperation b = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(b);
       b = mlirOperationGetNextInBlock(b)) {
    if (!irOpIs(b, "linalg.index"))
      continue;
    int64_t d = mlirIntegerAttrGetValueInt(mlirOperationGetAttributeByName(b, irStr("dim")));
    if (d >= 0 && d < nDims)
      mlirOperationSetAttributeByName(
          b, irStr("dim"), mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), newPos[d]));
  }
  if (red[best])
    setReassoc(body);
}

static MlirWalkResult visit(MlirOperation op, void *user) {
  Walk *w = user;
  if (irOpIs(op, "linalg.generic"))
    reorder(op, w->reassoc);
  return MlirWalkResultAdvance;
}

static void orderLoops(MlirOperation root, bool allowReassociation) {
  Walk w = {allowReassociation};
  mlirOperationWalk(root, visit, &w, MlirWalkPostOrder);
}

/* ---- The pass ------------------------------------------------------------- */

void clustercClusterOrderLoopsOptionsInit(ClustercClusterOrderLoopsOptions *o) {
  o->reassociate = true;
}

void clustercClusterOrderLoopsOptionsFree(ClustercClusterOrderLoopsOptions *o) {
  (void)o;
}

/* "reassociate", "reassociate=true|false|1|0", separated by spaces. */
int clustercClusterOrderLoopsOptionsParse(ClustercClusterOrderLoopsOptions *o,
                                          const char *text, size_t len, char *err,
                                          size_t errSize) {
  for (size_t at = 0, start, n; irNextWord(text, len, &at, &start, &n);) {
    const char *t = text + start;
    static const struct {
      const char *text;
      bool value;
    } forms[] = {{"reassociate", true},        {"reassociate=true", true},
                 {"reassociate=1", true},      {"reassociate=false", false},
                 {"reassociate=0", false}};
    size_t f = 0;
    while (f < sizeof forms / sizeof forms[0] &&
           !(strlen(forms[f].text) == n && !memcmp(forms[f].text, t, n)))
      ++f;
    if (f == sizeof forms / sizeof forms[0]) {
      snprintf(err, errSize, "cluster-order-loops: unknown option '%.*s' "
               "(expected reassociate=true|false)", (int)n, t);
      return -1;
    }
    o->reassociate = forms[f].value;
  }
  return 0;
}

static bool olRun(MlirOperation op, const void *options) {
  orderLoops(op, ((const ClustercClusterOrderLoopsOptions *)options)->reassociate);
  return true;
}

static IrPodPassKind olKind = {
    "ClusterOrderLoops", "cluster-order-loops",
    "Permute linalg.generic loops so the contiguous dimension is innermost (for LLVM's "
    "loop vectorizer)",
    sizeof(ClustercClusterOrderLoopsOptions), olRun, {NULL}};

MlirPass clustercCreateClusterOrderLoopsPass(const ClustercClusterOrderLoopsOptions *o) {
  return irCreatePodPass(&olKind, o, mlirGetDialectHandle__linalg__());
}
