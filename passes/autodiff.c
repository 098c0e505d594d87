/*
 * Reverse-mode differentiation of linalg-on-tensors function bodies.
 *
 * Activity. A value is active when it is a parameter or computed from an
 * active value. Only active values get adjoints; ops whose results have no
 * adjoint are skipped, so unsupported ops off the loss path are harmless.
 *
 * Adjoints. adj(v) is a tensor of v's type holding dLoss/dv. A second
 * contribution is added to the first (every backward linalg.generic
 * accumulates into its `outs`, so most sums cost nothing extra).
 *
 * linalg.generic, the one rule that covers matmul, convolutions, pooling,
 * broadcasts, transposes, reductions and elementwise math. For a forward op
 *     r_j[O_j(d)] = y_j(x_1[M_1(d)], ..., x_n[M_n(d)], b_j)     for all d
 * the adjoint of input x_i is one generic over the same iteration space d:
 *     adj(x_i)[M_i(d)] += sum_j adj(r_j)[O_j(d)] * dy_j/da_i (d)
 * Its output map is M_i; dimensions outside M_i are reductions, and when
 * M_i is not a projected permutation (convolution inputs: oh + kh) every
 * dimension is, since iterations then collide on outputs. The body
 * recomputes the forward body on scalars and runs scalar reverse mode on it
 * (rules in scalarRule). In a reduction (some iterator "reduction") each
 * yield must be `combine(b_j, g)` with combine in {addf, maximumf,
 * minimumf}; the backward body sees the final result R_j in place of the
 * running accumulator b_j, so max/min route the gradient to the elements
 * equal to the extremum (all of them, on ties), and the init gets adj(r_j)
 * (addf) or adj(r_j) where init == R_j (max/min). In a parallel generic an
 * init whose block argument is used is differentiated like an input.
 *
 * tensor ops: expand/collapse_shape swap, extract_slice <-> insert_slice
 * into zeros, pad -> extract_slice of the interior, cast -> cast back.
 */
#include "autodiff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "valuemap.h"

typedef struct Ad {
  MlirContext ctx;
  IrBuilder b;     /* where backward ops go: before `stop` */
  ValueMap adj;    /* value -> adjoint */
  ValueMap active; /* active values (mapped to themselves) */
  AdError *err;
  bool failed;
} Ad;

static bool fail(Ad *ad, MlirLocation loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(Ad *ad, MlirLocation loc, const char *fmt, ...) {
  if (ad->failed)
    return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ad->err->message, sizeof ad->err->message, fmt, ap);
  va_end(ap);
  ad->err->loc = loc;
  ad->failed = true;
  return false;
}

static bool nameIs(MlirOperation op, const char *name) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  return s.length == strlen(name) && !memcmp(s.data, name, s.length);
}

static void opNameBuf(MlirOperation op, char *buf, size_t size) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  snprintf(buf, size, "%.*s", (int)s.length, s.data);
}

static bool isFloat(MlirType t) {
  return mlirTypeIsAF32(t) || mlirTypeIsAF16(t) || mlirTypeIsABF16(t) ||
         mlirTypeIsAF64(t);
}

static MlirAttribute attr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, irStr(name));
}

/* ---- Tensor helpers ------------------------------------------------------ */

static MlirAttribute identityMap(MlirContext ctx, intptr_t rank) {
  return mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, rank));
}

static MlirAttribute iterators(MlirContext ctx, const bool *reduction, intptr_t n) {
  char buf[64 * 40];
  size_t at = 0;
  buf[at++] = '[';
  for (intptr_t i = 0; i < n && at + 48 < sizeof buf; ++i)
    at += (size_t)snprintf(buf + at, sizeof buf - at, "%s#linalg.iterator_type<%s>",
                           i ? "," : "", reduction[i] ? "reduction" : "parallel");
  buf[at++] = ']';
  buf[at] = 0;
  return irParseAttr(ctx, buf);
}

/* Creates a linalg.generic; `body` is an unattached block built by the
 * caller with nIns + nOuts arguments. */
static MlirValue makeGeneric(Ad *ad, intptr_t nIns, const MlirValue *ins,
                             MlirValue out, const MlirAttribute *maps,
                             MlirAttribute iters, MlirBlock body) {
  return irGeneric(&ad->b, nIns, ins, out, maps, iters, body);
}

static MlirBlock newBlock(Ad *ad, intptr_t n, const MlirType *types) {
  MlirLocation locs[64];
  for (intptr_t i = 0; i < n && i < 64; ++i)
    locs[i] = ad->b.loc;
  return mlirBlockCreate(n, types, locs);
}

static MlirValue scalarConst(IrBuilder *b, MlirType t, double v) {
  MlirNamedAttribute a = irNamed(b->ctx, "value", mlirFloatAttrDoubleGet(b->ctx, t, v));
  return irCreate1(b, "arith.constant", 0, NULL, t, 1, &a);
}

/* A zero tensor of type t: tensor.empty filled by a generic. */
static MlirValue zeros(Ad *ad, MlirType t) {
  MlirValue e = irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL);
  MlirType et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  MlirBlock body = newBlock(ad, 1, &et);
  IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
  MlirValue z = scalarConst(&bb, et, 0.0);
  irCreate(&bb, "linalg.yield", 1, &z, 0, NULL, 0, NULL);
  bool red[16] = {0};
  MlirAttribute map = identityMap(ad->ctx, rank);
  return makeGeneric(ad, 0, NULL, e, &map, iterators(ad->ctx, red, rank), body);
}

/* Elementwise a + b (same tensor type). */
static MlirValue addTensors(Ad *ad, MlirValue a, MlirValue b) {
  MlirType t = mlirValueGetType(a), et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  MlirType types[3] = {et, et, et};
  MlirBlock body = newBlock(ad, 3, types);
  IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
  MlirValue s = irBinary(&bb, "arith.addf", mlirBlockGetArgument(body, 0),
                         mlirBlockGetArgument(body, 1));
  irCreate(&bb, "linalg.yield", 1, &s, 0, NULL, 0, NULL);
  MlirValue ins[2] = {a, b};
  MlirAttribute m = identityMap(ad->ctx, rank), maps[3] = {m, m, m};
  bool red[16] = {0};
  MlirValue e = irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL);
  return makeGeneric(ad, 2, ins, e, maps, iterators(ad->ctx, red, rank), body);
}

/* adj(v) += g. */
static bool accumulate(Ad *ad, MlirValue v, MlirValue g) {
  MlirValue old = vmGet(&ad->adj, v);
  MlirValue sum = mlirValueIsNull(old) ? g : addTensors(ad, old, g);
  if (!vmPut(&ad->adj, v, sum))
    return fail(ad, ad->b.loc, "out of memory");
  return true;
}

/* The accumulator a backward generic writes into for v. */
static MlirValue accumulatorFor(Ad *ad, MlirValue v) {
  MlirValue old = vmGet(&ad->adj, v);
  return mlirValueIsNull(old) ? zeros(ad, mlirValueGetType(v)) : old;
}

/* ---- Scalar reverse mode inside a generic body ------------------------ */

/* sadj(v) += g, within the body builder. */
static void sAccum(IrBuilder *bb, ValueMap *sadj, MlirValue v, MlirValue g, bool *oom) {
  if (!isFloat(mlirValueGetType(v)))
    return;
  MlirValue old = vmGet(sadj, v);
  if (!mlirValueIsNull(old))
    g = irBinary(bb, "arith.addf", old, g);
  if (!vmPut(sadj, v, g))
    *oom = true;
}

static MlirValue cmpf(IrBuilder *bb, int predicate, MlirValue a, MlirValue b) {
  MlirValue ops[2] = {a, b};
  MlirNamedAttribute p = irNamed(bb->ctx, "predicate",
                                 mlirIntegerAttrGet(mlirIntegerTypeGet(bb->ctx, 64), predicate));
  return irCreate1(bb, "arith.cmpf", 2, ops, mlirIntegerTypeGet(bb->ctx, 1), 1, &p);
}

static MlirValue selectf(IrBuilder *bb, MlirValue c, MlirValue a, MlirValue b) {
  MlirValue ops[3] = {c, a, b};
  return irCreate1(bb, "arith.select", 3, ops, mlirValueGetType(a), 0, NULL);
}

enum { CMP_OGT = 2, CMP_OGE = 3, CMP_OLT = 4, CMP_OLE = 5 };

/* Propagates the adjoint g of op's (only) result to its operands.
 * Returns false for an op with no rule. */
static bool scalarRule(IrBuilder *bb, MlirOperation op, MlirValue g,
                       ValueMap *sadj, bool *oom) {
  intptr_t n = mlirOperationGetNumOperands(op);
  MlirValue a = n > 0 ? mlirOperationGetOperand(op, 0) : (MlirValue){NULL};
  MlirValue b = n > 1 ? mlirOperationGetOperand(op, 1) : (MlirValue){NULL};
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirType t = mlirValueGetType(r);
  if (nameIs(op, "arith.addf")) {
    sAccum(bb, sadj, a, g, oom);
    sAccum(bb, sadj, b, g, oom);
  } else if (nameIs(op, "arith.subf")) {
    sAccum(bb, sadj, a, g, oom);
    sAccum(bb, sadj, b, irCast(bb, "arith.negf", g, t), oom);
  } else if (nameIs(op, "arith.mulf")) {
    sAccum(bb, sadj, a, irBinary(bb, "arith.mulf", g, b), oom);
    sAccum(bb, sadj, b, irBinary(bb, "arith.mulf", g, a), oom);
  } else if (nameIs(op, "arith.divf")) {
    MlirValue ga = irBinary(bb, "arith.divf", g, b);
    sAccum(bb, sadj, a, ga, oom);
    /* d(a/b)/db = -(a/b)/b */
    sAccum(bb, sadj, b, irCast(bb, "arith.negf", irBinary(bb, "arith.mulf", ga, irBinary(bb, "arith.divf", a, b)), t), oom);
  } else if (nameIs(op, "arith.negf")) {
    sAccum(bb, sadj, a, irCast(bb, "arith.negf", g, t), oom);
  } else if (nameIs(op, "arith.maximumf") || nameIs(op, "arith.maxnumf") ||
             nameIs(op, "arith.minimumf") || nameIs(op, "arith.minnumf")) {
    /* The second operand wins ties: max(R, g) in a reduction body routes
     * the gradient to g wherever g equals the final maximum R. */
    bool isMax = nameIs(op, "arith.maximumf") || nameIs(op, "arith.maxnumf");
    MlirValue bWins = cmpf(bb, isMax ? CMP_OGE : CMP_OLE, b, a);
    MlirValue zero = scalarConst(bb, t, 0.0);
    sAccum(bb, sadj, a, selectf(bb, bWins, zero, g), oom);
    sAccum(bb, sadj, b, selectf(bb, bWins, g, zero), oom);
  } else if (nameIs(op, "arith.select")) {
    MlirValue c = a, x = b, y = mlirOperationGetOperand(op, 2);
    MlirValue zero = scalarConst(bb, t, 0.0);
    sAccum(bb, sadj, x, selectf(bb, c, g, zero), oom);
    sAccum(bb, sadj, y, selectf(bb, c, zero, g), oom);
  } else if (nameIs(op, "math.exp")) {
    sAccum(bb, sadj, a, irBinary(bb, "arith.mulf", g, r), oom);
  } else if (nameIs(op, "math.log")) {
    sAccum(bb, sadj, a, irBinary(bb, "arith.divf", g, a), oom);
  } else if (nameIs(op, "math.tanh")) {
    MlirValue one = scalarConst(bb, t, 1.0);
    MlirValue d = irBinary(bb, "arith.subf", one, irBinary(bb, "arith.mulf", r, r));
    sAccum(bb, sadj, a, irBinary(bb, "arith.mulf", g, d), oom);
  } else if (nameIs(op, "math.sqrt")) {
    MlirValue half = scalarConst(bb, t, 0.5);
    sAccum(bb, sadj, a, irBinary(bb, "arith.divf", irBinary(bb, "arith.mulf", g, half), r), oom);
  } else if (nameIs(op, "math.rsqrt")) {
    MlirValue mhalf = scalarConst(bb, t, -0.5);
    MlirValue r3 = irBinary(bb, "arith.mulf", r, irBinary(bb, "arith.mulf", r, r));
    sAccum(bb, sadj, a, irBinary(bb, "arith.mulf", g, irBinary(bb, "arith.mulf", mhalf, r3)), oom);
  } else if (nameIs(op, "math.absf")) {
    MlirValue zero = scalarConst(bb, t, 0.0);
    MlirValue neg = cmpf(bb, CMP_OLT, a, zero);
    sAccum(bb, sadj, a, selectf(bb, neg, irCast(bb, "arith.negf", g, t), g), oom);
  } else if (nameIs(op, "arith.extf") || nameIs(op, "arith.truncf")) {
    MlirType at = mlirValueGetType(a);
    sAccum(bb, sadj, a, irCast(bb, nameIs(op, "arith.extf") ? "arith.truncf" : "arith.extf", g, at), oom);
  } else {
    return false;
  }
  return true;
}

/* Ops whose float results carry no derivative (constants, conversions from
 * integers, index computations). */
static bool isNonDifferentiable(MlirOperation op) {
  static const char *names[] = {"arith.constant", "arith.sitofp", "arith.uitofp",
                                "arith.cmpf",     "linalg.index", "tensor.extract"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (nameIs(op, names[i]))
      return true;
  return false;
}

/* ---- linalg.generic ------------------------------------------------------ */

typedef enum Combine { COMB_NONE, COMB_ADD, COMB_MAX, COMB_MIN } Combine;

static bool iteratorIsReduction(MlirAttribute it) {
  char buf[64] = {0};
  irAttrText(it, buf, sizeof buf);
  return strstr(buf, "reduction") != NULL;
}

/* Builds the backward generic giving the adjoint of operand `k` (an input,
 * or an init of a parallel generic) of forward generic `op`, accumulated
 * into acc. `subs` stand in for the inits' block arguments. */
static MlirValue backwardOperand(Ad *ad, MlirOperation op, intptr_t nIn,
                                 intptr_t nOut, intptr_t k, const MlirValue *subs,
                                 const MlirValue *dr, MlirValue acc) {
  MlirContext ctx = ad->ctx;
  MlirAttribute maps = attr(op, "indexing_maps");
  MlirAttribute iters = attr(op, "iterator_types");
  intptr_t nDims = mlirArrayAttrGetNumElements(iters);
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));

  /* Backward operands: forward inputs, subs (per init), dr (per result
   * with an adjoint), then the accumulator. */
  MlirValue ins[64];
  MlirAttribute bmaps[65];
  MlirType types[65];
  intptr_t n = 0;
  for (intptr_t i = 0; i < nIn; ++i, ++n) {
    ins[n] = mlirOperationGetOperand(op, i);
    bmaps[n] = mlirArrayAttrGetElement(maps, i);
  }
  for (intptr_t j = 0; j < nOut; ++j, ++n) {
    ins[n] = subs[j];
    bmaps[n] = mlirArrayAttrGetElement(maps, nIn + j);
  }
  intptr_t drAt[32];
  for (intptr_t j = 0; j < nOut; ++j) {
    drAt[j] = -1;
    if (mlirValueIsNull(dr[j]))
      continue;
    drAt[j] = n;
    ins[n] = dr[j];
    bmaps[n++] = mlirArrayAttrGetElement(maps, nIn + j);
  }
  for (intptr_t i = 0; i < n; ++i)
    types[i] = mlirShapedTypeGetElementType(mlirValueGetType(ins[i]));
  MlirAttribute outMap = mlirArrayAttrGetElement(maps, k);
  bmaps[n] = outMap;
  types[n] = mlirShapedTypeGetElementType(mlirValueGetType(acc));

  /* Iterators: a dimension is parallel when distinct values of it write
   * distinct elements of the adjoint, i.e. it is a result of the output
   * map and every result is a distinct dimension or a constant (tosa's
   * lowering indexes unit dimensions with 0). Otherwise the iterations
   * collide and every dimension is a reduction. */
  MlirAffineMap am = mlirAffineMapAttrGetValue(outMap);
  bool red[64], seen[64] = {0}, simple = true;
  for (intptr_t r = 0; r < mlirAffineMapGetNumResults(am); ++r) {
    MlirAffineExpr e = mlirAffineMapGetResult(am, r);
    if (mlirAffineExprIsADim(e)) {
      intptr_t d = mlirAffineDimExprGetPosition(e);
      simple &= !seen[d];
      seen[d] = true;
    } else if (!mlirAffineExprIsAConstant(e)) {
      simple = false;
    }
  }
  for (intptr_t d = 0; d < nDims; ++d)
    red[d] = !(simple && seen[d]);

  MlirBlock body = newBlock(ad, n + 1, types);
  IrBuilder bb = {ctx, {NULL}, body, ad->b.loc};
  ValueMap map, sadj;
  vmInit(&map);
  vmInit(&sadj);
  bool oom = false;
  for (intptr_t i = 0; i < nIn + nOut; ++i)
    oom |= !vmPut(&map, mlirBlockGetArgument(fwd, i), mlirBlockGetArgument(body, i));

  /* Recompute the forward body. */
  MlirOperation ops[512];
  intptr_t nOps = 0;
  MlirOperation yield = mlirBlockGetTerminator(fwd);
  for (MlirOperation o = mlirBlockGetFirstOperation(fwd); !mlirOperationEqual(o, yield);
       o = mlirOperationGetNextInBlock(o)) {
    if (nOps == 512) {
      fail(ad, mlirOperationGetLocation(op), "generic body too large to differentiate");
      goto out;
    }
    MlirOperation c = mlirOperationClone(o);
    for (intptr_t i = 0; i < mlirOperationGetNumOperands(c); ++i) {
      MlirValue m = vmGet(&map, mlirOperationGetOperand(c, i));
      if (!mlirValueIsNull(m))
        mlirOperationSetOperand(c, i, m);
    }
    irInsert(&bb, c);
    for (intptr_t i = 0; i < mlirOperationGetNumResults(o); ++i)
      oom |= !vmPut(&map, mlirOperationGetResult(o, i), mlirOperationGetResult(c, i));
    ops[nOps++] = c;
  }
  /* Seed: the yields. */
  for (intptr_t j = 0; j < nOut; ++j) {
    if (drAt[j] < 0)
      continue;
    MlirValue y = mlirOperationGetOperand(yield, j);
    MlirValue ym = vmGet(&map, y);
    if (mlirValueIsNull(ym))
      ym = y; /* yields a captured value or a block argument already mapped */
    sAccum(&bb, &sadj, ym, mlirBlockGetArgument(body, drAt[j]), &oom);
  }
  for (intptr_t i = nOps - 1; i >= 0 && !ad->failed; --i) {
    MlirOperation c = ops[i];
    if (mlirOperationGetNumResults(c) != 1)
      continue;
    MlirValue g = vmGet(&sadj, mlirOperationGetResult(c, 0));
    if (mlirValueIsNull(g) || isNonDifferentiable(c))
      continue;
    if (!scalarRule(&bb, c, g, &sadj, &oom)) {
      char name[64];
      opNameBuf(c, name, sizeof name);
      fail(ad, mlirOperationGetLocation(c),
           "cannot differentiate '%s' in the body of a linalg.generic", name);
    }
  }
  MlirValue da = vmGet(&sadj, mlirBlockGetArgument(body, k));
  MlirValue res = mlirBlockGetArgument(body, n);
  if (!mlirValueIsNull(da))
    res = irBinary(&bb, "arith.addf", res, da);
  irCreate(&bb, "linalg.yield", 1, &res, 0, NULL, 0, NULL);
out:
  vmFree(&map);
  vmFree(&sadj);
  if (oom)
    fail(ad, ad->b.loc, "out of memory");
  if (ad->failed) {
    mlirBlockDestroy(body);
    return (MlirValue){NULL};
  }
  return makeGeneric(ad, n, ins, acc, bmaps, iterators(ctx, red, nDims), body);
}

static bool blockArgUsed(MlirBlock b, intptr_t i) {
  return !mlirOpOperandIsNull(mlirValueGetFirstUse(mlirBlockGetArgument(b, i)));
}

static bool ruleGeneric(Ad *ad, MlirOperation op) {
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirAttribute seg = attr(op, "operandSegmentSizes");
  intptr_t nIn = mlirDenseI32ArrayGetElement(seg, 0);
  intptr_t nOut = mlirDenseI32ArrayGetElement(seg, 1);
  if (nIn + 2 * nOut > 63 || nOut > 31)
    return fail(ad, loc, "linalg.generic with too many operands to differentiate");
  MlirAttribute iters = attr(op, "iterator_types");
  bool reduction = false;
  for (intptr_t d = 0; d < mlirArrayAttrGetNumElements(iters); ++d)
    reduction |= iteratorIsReduction(mlirArrayAttrGetElement(iters, d));
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  MlirOperation yield = mlirBlockGetTerminator(fwd);

  MlirValue dr[32], subs[32];
  Combine comb[32];
  for (intptr_t j = 0; j < nOut; ++j) {
    dr[j] = vmGet(&ad->adj, mlirOperationGetResult(op, j));
    subs[j] = reduction ? mlirOperationGetResult(op, j)
                        : mlirOperationGetOperand(op, nIn + j);
    comb[j] = COMB_NONE;
    if (!reduction)
      continue;
    /* yield_j = combine(b_j, g), b_j used nowhere else. */
    MlirValue y = mlirOperationGetOperand(yield, j);
    MlirValue bj = mlirBlockGetArgument(fwd, nIn + j);
    MlirOperation def = mlirValueIsAOpResult(y) ? mlirOpResultGetOwner(y) : (MlirOperation){NULL};
    if (!mlirOperationIsNull(def) && mlirOperationGetNumOperands(def) == 2 &&
        (mlirValueEqual(mlirOperationGetOperand(def, 0), bj) ||
         mlirValueEqual(mlirOperationGetOperand(def, 1), bj))) {
      if (nameIs(def, "arith.addf"))
        comb[j] = COMB_ADD;
      else if (nameIs(def, "arith.maximumf") || nameIs(def, "arith.maxnumf"))
        comb[j] = COMB_MAX;
      else if (nameIs(def, "arith.minimumf") || nameIs(def, "arith.minnumf"))
        comb[j] = COMB_MIN;
    }
    int uses = 0;
    for (MlirOpOperand u = mlirValueGetFirstUse(bj); !mlirOpOperandIsNull(u);
         u = mlirOpOperandGetNextUse(u))
      ++uses;
    if (comb[j] == COMB_NONE || uses != 1)
      return fail(ad, loc, "cannot differentiate a linalg.generic reduction whose "
                  "body is not 'accumulator (addf|maximumf|minimumf) value'");
  }

  /* Inputs, and inits of a parallel generic whose block argument is used. */
  for (intptr_t k = 0; k < nIn + nOut && !ad->failed; ++k) {
    MlirValue x = mlirOperationGetOperand(op, k);
    if (!vmHas(&ad->active, x))
      continue;
    if (k >= nIn && reduction) {
      intptr_t j = k - nIn;
      if (mlirValueIsNull(dr[j]))
        continue;
      MlirValue g = dr[j];
      if (comb[j] != COMB_ADD) {
        /* adj(init) = dr where init == R (the init was the extremum). */
        MlirType t = mlirValueGetType(x), et = mlirShapedTypeGetElementType(t);
        intptr_t rank = mlirShapedTypeGetRank(t);
        MlirType types[4] = {et, et, et, et};
        MlirBlock body = newBlock(ad, 4, types);
        IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
        MlirValue eq = cmpf(&bb, 1 /* oeq */, mlirBlockGetArgument(body, 0),
                            mlirBlockGetArgument(body, 1));
        MlirValue v = selectf(&bb, eq, mlirBlockGetArgument(body, 2), scalarConst(&bb, et, 0.0));
        irCreate(&bb, "linalg.yield", 1, &v, 0, NULL, 0, NULL);
        MlirValue ins[3] = {x, mlirOperationGetResult(op, j), dr[j]};
        MlirAttribute m = identityMap(ad->ctx, rank), ms[4] = {m, m, m, m};
        bool red[16] = {0};
        g = makeGeneric(ad, 3, ins, irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL),
                        ms, iterators(ad->ctx, red, rank), body);
      }
      if (!accumulate(ad, x, g))
        return false;
      continue;
    }
    if (k >= nIn && !blockArgUsed(fwd, k))
      continue;
    MlirValue acc = accumulatorFor(ad, x);
    MlirValue g = backwardOperand(ad, op, nIn, nOut, k, subs, dr, acc);
    if (ad->failed)
      return false;
    if (!vmPut(&ad->adj, x, g))
      return fail(ad, loc, "out of memory");
  }
  return !ad->failed;
}

/* ---- tensor ops ------------------------------------------------------------ */

static bool ruleReshape(Ad *ad, MlirOperation op, MlirValue g) {
  /* expand <-> collapse with the same reassociation. */
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirType st = mlirValueGetType(src);
  MlirNamedAttribute attrs[2];
  int nAttrs = 0;
  attrs[nAttrs++] = irNamed(ad->ctx, "reassociation", attr(op, "reassociation"));
  const char *inverse = nameIs(op, "tensor.expand_shape") ? "tensor.collapse_shape"
                                                          : "tensor.expand_shape";
  if (!nameIs(op, "tensor.expand_shape")) {
    intptr_t rank = mlirShapedTypeGetRank(st);
    int64_t shape[16];
    for (intptr_t i = 0; i < rank && i < 16; ++i)
      shape[i] = mlirShapedTypeGetDimSize(st, i);
    attrs[nAttrs++] = irNamed(ad->ctx, "static_output_shape",
                              mlirDenseI64ArrayGet(ad->ctx, rank, shape));
  }
  return accumulate(ad, src, irCreate1(&ad->b, inverse, 1, &g, st, nAttrs, attrs));
}

static MlirAttribute i64Array(MlirContext ctx, intptr_t n, const int64_t *v) {
  return mlirDenseI64ArrayGet(ctx, n, v);
}

/* The static offset/size/stride attributes of a slice op, with the
 * operandSegmentSizes of an extract_slice (1 operand) or insert_slice (2). */
static void sliceAttrs(Ad *ad, MlirOperation op, bool insert, MlirNamedAttribute *a) {
  static const int32_t extractSeg[4] = {1, 0, 0, 0}, insertSeg[5] = {1, 1, 0, 0, 0};
  a[0] = irNamed(ad->ctx, "static_offsets", attr(op, "static_offsets"));
  a[1] = irNamed(ad->ctx, "static_sizes", attr(op, "static_sizes"));
  a[2] = irNamed(ad->ctx, "static_strides", attr(op, "static_strides"));
  a[3] = irNamed(ad->ctx, "operandSegmentSizes",
                 insert ? mlirDenseI32ArrayGet(ad->ctx, 5, insertSeg)
                        : mlirDenseI32ArrayGet(ad->ctx, 4, extractSeg));
}

static bool ruleExtractSlice(Ad *ad, MlirOperation op, MlirValue g) {
  if (mlirOperationGetNumOperands(op) != 1)
    return fail(ad, mlirOperationGetLocation(op),
                "cannot differentiate tensor.extract_slice with dynamic offsets");
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirNamedAttribute ins[4], ext[4];
  sliceAttrs(ad, op, true, ins);
  sliceAttrs(ad, op, false, ext);
  /* insert_slice overwrites its window: add what the accumulator holds
   * there first. */
  MlirValue old = vmGet(&ad->adj, src);
  MlirValue dest = mlirValueIsNull(old) ? zeros(ad, mlirValueGetType(src)) : old;
  if (!mlirValueIsNull(old))
    g = addTensors(ad, g, irCreate1(&ad->b, "tensor.extract_slice", 1, &old,
                                    mlirValueGetType(g), 4, ext));
  MlirValue ops[2] = {g, dest};
  MlirValue r = irCreate1(&ad->b, "tensor.insert_slice", 2, ops,
                          mlirValueGetType(src), 4, ins);
  if (!vmPut(&ad->adj, src, r))
    return fail(ad, ad->b.loc, "out of memory");
  return true;
}

static bool ruleInsertSlice(Ad *ad, MlirOperation op, MlirValue g) {
  if (mlirOperationGetNumOperands(op) != 2)
    return fail(ad, mlirOperationGetLocation(op),
                "cannot differentiate tensor.insert_slice with dynamic offsets");
  MlirValue src = mlirOperationGetOperand(op, 0), dest = mlirOperationGetOperand(op, 1);
  MlirNamedAttribute ins[4], ext[4];
  sliceAttrs(ad, op, true, ins);
  sliceAttrs(ad, op, false, ext);
  if (vmHas(&ad->active, src) &&
      !accumulate(ad, src, irCreate1(&ad->b, "tensor.extract_slice", 1, &g,
                                     mlirValueGetType(src), 4, ext)))
    return false;
  if (vmHas(&ad->active, dest)) {
    /* dest's adjoint: g with the overwritten window zeroed. */
    MlirValue ops[2] = {zeros(ad, mlirValueGetType(src)), g};
    if (!accumulate(ad, dest, irCreate1(&ad->b, "tensor.insert_slice", 2, ops,
                                        mlirValueGetType(dest), 4, ins)))
      return false;
  }
  return true;
}

static bool rulePad(Ad *ad, MlirOperation op, MlirValue g) {
  if (mlirOperationGetNumOperands(op) != 1)
    return fail(ad, mlirOperationGetLocation(op),
                "cannot differentiate tensor.pad with dynamic padding");
  MlirValue src = mlirOperationGetOperand(op, 0);
  MlirType st = mlirValueGetType(src);
  intptr_t rank = mlirShapedTypeGetRank(st);
  MlirAttribute low = attr(op, "static_low");
  int64_t offs[16], sizes[16], strides[16];
  for (intptr_t i = 0; i < rank && i < 16; ++i) {
    offs[i] = mlirDenseI64ArrayGetElement(low, i);
    sizes[i] = mlirShapedTypeGetDimSize(st, i);
    strides[i] = 1;
  }
  int32_t seg[4] = {1, 0, 0, 0};
  MlirNamedAttribute a[4] = {
      irNamed(ad->ctx, "static_offsets", i64Array(ad->ctx, rank, offs)),
      irNamed(ad->ctx, "static_sizes", i64Array(ad->ctx, rank, sizes)),
      irNamed(ad->ctx, "static_strides", i64Array(ad->ctx, rank, strides)),
      irNamed(ad->ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(ad->ctx, 4, seg))};
  return accumulate(ad, src, irCreate1(&ad->b, "tensor.extract_slice", 1, &g, st, 4, a));
}

/* ---- Driver ---------------------------------------------------------------- */

static bool anyActiveOperand(Ad *ad, MlirOperation op) {
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i)
    if (vmHas(&ad->active, mlirOperationGetOperand(op, i)))
      return true;
  return false;
}

typedef struct CaptureCheck {
  Ad *ad;
  MlirOperation root;
  bool found;
} CaptureCheck;

/* Finds ops nested in a region that use an active value from outside. */
static MlirWalkResult findActiveCapture(MlirOperation op, void *user) {
  CaptureCheck *cc = user;
  if (mlirOperationEqual(op, cc->root))
    return MlirWalkResultAdvance;
  if (anyActiveOperand(cc->ad, op)) {
    cc->found = true;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

bool adReverse(MlirBlock block, MlirOperation stop, MlirValue seed,
               MlirValue seedAdjoint, const MlirValue *params, size_t numParams,
               MlirValue *grads, AdError *err) {
  Ad ad = {0};
  ad.ctx = mlirOperationGetContext(stop);
  ad.b = (IrBuilder){ad.ctx, stop, {NULL}, mlirOperationGetLocation(stop)};
  ad.err = err;
  err->message[0] = 0;
  err->loc = (MlirLocation){NULL};
  vmInit(&ad.adj);
  vmInit(&ad.active);
  size_t nOps = 0, cap = 256;
  MlirOperation *ops = malloc(cap * sizeof *ops);
  if (!ops)
    return fail(&ad, ad.b.loc, "out of memory");
  for (size_t i = 0; i < numParams; ++i)
    if (!vmPut(&ad.active, params[i], params[i]))
      fail(&ad, ad.b.loc, "out of memory");

  /* Forward sweep: activity. */
  for (MlirOperation op = mlirBlockGetFirstOperation(block);
       !ad.failed && !mlirOperationEqual(op, stop); op = mlirOperationGetNextInBlock(op)) {
    if (nOps == cap) {
      MlirOperation *g = realloc(ops, 2 * cap * sizeof *g);
      if (!g) {
        fail(&ad, ad.b.loc, "out of memory");
        break;
      }
      ops = g;
      cap *= 2;
    }
    ops[nOps++] = op;
    bool act = anyActiveOperand(&ad, op);
    if (mlirOperationGetNumRegions(op) > 0 && !nameIs(op, "linalg.generic")) {
      CaptureCheck cc = {&ad, op, false};
      mlirOperationWalk(op, findActiveCapture, &cc, MlirWalkPreOrder);
      act |= cc.found;
    } else if (nameIs(op, "linalg.generic")) {
      CaptureCheck cc = {&ad, op, false};
      mlirOperationWalk(op, findActiveCapture, &cc, MlirWalkPreOrder);
      if (cc.found) {
        fail(&ad, mlirOperationGetLocation(op),
             "cannot differentiate a linalg.generic whose body reads a trained "
             "tensor directly (tensor.extract)");
        break;
      }
    }
    if (act)
      for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
        if (!vmPut(&ad.active, mlirOperationGetResult(op, i), mlirOperationGetResult(op, i)))
          fail(&ad, ad.b.loc, "out of memory");
  }
  if (!ad.failed && !vmPut(&ad.adj, seed, seedAdjoint))
    fail(&ad, ad.b.loc, "out of memory");

  /* Reverse sweep. */
  for (size_t i = nOps; i-- > 0 && !ad.failed;) {
    MlirOperation op = ops[i];
    MlirValue g = {NULL};
    bool any = false;
    for (intptr_t r = 0; r < mlirOperationGetNumResults(op); ++r) {
      MlirValue a = vmGet(&ad.adj, mlirOperationGetResult(op, r));
      any |= !mlirValueIsNull(a);
      if (r == 0)
        g = a;
    }
    if (!any || !anyActiveOperand(&ad, op))
      continue;
    ad.b.loc = mlirOperationGetLocation(op);
    if (nameIs(op, "linalg.generic"))
      ruleGeneric(&ad, op);
    else if (nameIs(op, "tensor.expand_shape") || nameIs(op, "tensor.collapse_shape"))
      ruleReshape(&ad, op, g);
    else if (nameIs(op, "tensor.extract_slice"))
      ruleExtractSlice(&ad, op, g);
    else if (nameIs(op, "tensor.insert_slice"))
      ruleInsertSlice(&ad, op, g);
    else if (nameIs(op, "tensor.pad"))
      rulePad(&ad, op, g);
    else if (nameIs(op, "tensor.cast")) {
      MlirValue src = mlirOperationGetOperand(op, 0);
      accumulate(&ad, src, irCast(&ad.b, "tensor.cast", g, mlirValueGetType(src)));
    } else {
      char name[64];
      opNameBuf(op, name, sizeof name);
      fail(&ad, mlirOperationGetLocation(op), "cannot differentiate '%s': no "
           "gradient rule for this op", name);
    }
  }
  ad.b.loc = mlirOperationGetLocation(stop);
  for (size_t i = 0; i < numParams && !ad.failed; ++i) {
    MlirValue a = vmGet(&ad.adj, params[i]);
    grads[i] = mlirValueIsNull(a) ? zeros(&ad, mlirValueGetType(params[i])) : a;
  }
  free(ops);
  vmFree(&ad.adj);
  vmFree(&ad.active);
  return !ad.failed;
}
