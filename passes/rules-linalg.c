/*
 * The gradient rule of linalg.generic: the one rule that covers matmul,
 * convolutions, pooling, broadcasts, transposes, reductions and elementwise
 * math (named linalg ops are generalized before differentiation).
 *
 * For a forward op
 *     r_j[O_j(d)] = y_j(x_1[M_1(d)], ..., x_n[M_n(d)], b_j)     for all d
 * the adjoint of input x_i is one generic over the same iteration space d:
 *     adj(x_i)[M_i(d)] += sum_j adj(r_j)[O_j(d)] * dy_j/da_i (d)
 * Its output map is M_i; dimensions outside M_i are reductions, and when
 * M_i is not a projected permutation (convolution inputs: oh + kh) every
 * dimension is, since iterations then collide on outputs. The body
 * recomputes the forward body on scalars and runs scalar reverse mode on it
 * (the rules of rules-scalar.c). In a reduction (some iterator "reduction")
 * each yield must be `combine(b_j, g)` with combine in {addf, maximumf,
 * minimumf}; the backward body sees the final result R_j in place of the
 * running accumulator b_j, so max/min route the gradient to the elements
 * equal to the extremum (all of them, on ties), and the init gets adj(r_j)
 * (addf) or adj(r_j) where init == R_j (max/min). In a parallel generic an
 * init whose block argument is used is differentiated like an input. A
 * tensor.extract of a trained tensor in the body is a scatter-add (below).
 */
#include <string.h>

#include "autodiff-rules.h"
#include "mlir-c/AffineExpr.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

typedef enum Combine { COMB_NONE, COMB_ADD, COMB_MAX, COMB_MIN } Combine;

/* How a reduction body may combine its accumulator with a value. */
static const struct {
  const char *name;
  Combine comb;
} kCombiners[] = {
    {"arith.addf", COMB_ADD},     {"arith.maximumf", COMB_MAX},
    {"arith.maxnumf", COMB_MAX},  {"arith.minimumf", COMB_MIN},
    {"arith.minnumf", COMB_MIN},
};

static Combine combinerOf(MlirOperation op) {
  for (size_t i = 0; i < sizeof kCombiners / sizeof kCombiners[0]; ++i)
    if (adNameIs(op, kCombiners[i].name))
      return kCombiners[i].comb;
  return COMB_NONE;
}

static bool iteratorIsReduction(MlirAttribute it) {
  char buf[64] = {0};
  irAttrText(it, buf, sizeof buf);
  return strstr(buf, "reduction") != NULL;
}

/* Recomputes the forward body of generic `op` with bb (its block
 * arguments already mapped in *map; with ivs, linalg.index d is ivs[d]),
 * seeds the adjoint of yield j with seeds[j] (null: none), and runs scalar
 * reverse mode over it: *sadj holds the adjoints. False after adFail. */
static bool replayBody(Ad *ad, MlirOperation op, IrBuilder *bb, ValueMap *map,
                       ValueMap *sadj, const MlirValue *seeds, intptr_t nOut,
                       const MlirValue *ivs, bool *oom) {
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  AdScalar s = {bb, sadj, oom};
  MlirOperation ops[AD_MAX_BODY_OPS];
  intptr_t nOps = 0;
  MlirOperation yield = mlirBlockGetTerminator(fwd);
  for (MlirOperation o = mlirBlockGetFirstOperation(fwd); !mlirOperationEqual(o, yield);
       o = mlirOperationGetNextInBlock(o)) {
    if (ivs && adNameIs(o, "linalg.index")) {
      int64_t d = mlirIntegerAttrGetValueInt(adAttr(o, "dim"));
      *oom |= !vmPut(map, mlirOperationGetResult(o, 0), ivs[d]);
      continue;
    }
    if (nOps == AD_MAX_BODY_OPS)
      return adFail(ad, mlirOperationGetLocation(op), "generic body too large to differentiate");
    MlirOperation c = mlirOperationClone(o);
    for (intptr_t i = 0; i < mlirOperationGetNumOperands(c); ++i) {
      MlirValue m = vmGet(map, mlirOperationGetOperand(c, i));
      if (!mlirValueIsNull(m))
        mlirOperationSetOperand(c, i, m);
    }
    irInsert(bb, c);
    for (intptr_t i = 0; i < mlirOperationGetNumResults(o); ++i)
      *oom |= !vmPut(map, mlirOperationGetResult(o, i), mlirOperationGetResult(c, i));
    ops[nOps++] = c;
  }
  /* Seed: the yields. */
  for (intptr_t j = 0; j < nOut; ++j) {
    if (mlirValueIsNull(seeds[j]))
      continue;
    MlirValue y = mlirOperationGetOperand(yield, j);
    MlirValue ym = vmGet(map, y);
    if (mlirValueIsNull(ym))
      ym = y; /* yields a captured value or a block argument already mapped */
    adScalarAccum(&s, ym, seeds[j]);
  }
  for (intptr_t i = nOps - 1; i >= 0 && !ad->failed; --i) {
    MlirOperation c = ops[i];
    if (mlirOperationGetNumResults(c) != 1)
      continue;
    MlirValue g = vmGet(sadj, mlirOperationGetResult(c, 0));
    if (mlirValueIsNull(g))
      continue;
    AdScalarRuleFn rule = adFindScalarRule(c);
    if (rule) {
      rule(&s, c, g);
    } else {
      char name[64];
      adOpName(c, name, sizeof name);
      adFail(ad, mlirOperationGetLocation(c),
           "cannot differentiate '%s' in the body of a linalg.generic", name);
    }
  }
  return !ad->failed;
}

/* Builds the backward generic giving the adjoint of operand `k` (an input,
 * or an init of a parallel generic) of forward generic `op`, accumulated
 * into acc. `subs` stand in for the inits' block arguments. */
static MlirValue backwardOperand(Ad *ad, MlirOperation op, intptr_t nIn,
                                 intptr_t nOut, intptr_t k, const MlirValue *subs,
                                 const MlirValue *dr, MlirValue acc) {
  MlirContext ctx = ad->ctx;
  MlirAttribute maps = adAttr(op, "indexing_maps");
  MlirAttribute iters = adAttr(op, "iterator_types");
  intptr_t nDims = mlirArrayAttrGetNumElements(iters);
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));

  /* Backward operands: forward inputs, subs (per init), dr (per result
   * with an adjoint), then the accumulator. */
  MlirValue ins[AD_MAX_OPERANDS];
  MlirAttribute bmaps[AD_MAX_OPERANDS + 1];
  MlirType types[AD_MAX_OPERANDS + 1];
  intptr_t n = 0;
  for (intptr_t i = 0; i < nIn; ++i, ++n) {
    ins[n] = mlirOperationGetOperand(op, i);
    bmaps[n] = mlirArrayAttrGetElement(maps, i);
  }
  for (intptr_t j = 0; j < nOut; ++j, ++n) {
    ins[n] = subs[j];
    bmaps[n] = mlirArrayAttrGetElement(maps, nIn + j);
  }
  intptr_t drAt[AD_MAX_RESULTS];
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
  bool red[AD_MAX_LOOPS], seen[AD_MAX_LOOPS] = {0}, simple = true;
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

  MlirBlock body = adNewBlock(ad, n + 1, types);
  IrBuilder bb = {ctx, {NULL}, body, ad->b.loc};
  ValueMap map, sadj;
  vmInit(&map);
  vmInit(&sadj);
  bool oom = false;
  for (intptr_t i = 0; i < nIn + nOut; ++i)
    oom |= !vmPut(&map, mlirBlockGetArgument(fwd, i), mlirBlockGetArgument(body, i));
  MlirValue seeds[AD_MAX_RESULTS];
  for (intptr_t j = 0; j < nOut; ++j)
    seeds[j] = drAt[j] < 0 ? (MlirValue){NULL} : mlirBlockGetArgument(body, drAt[j]);
  if (!replayBody(ad, op, &bb, &map, &sadj, seeds, nOut, NULL, &oom))
    goto out;
  MlirValue da = vmGet(&sadj, mlirBlockGetArgument(body, k));
  MlirValue res = mlirBlockGetArgument(body, n);
  if (!mlirValueIsNull(da))
    res = irBinary(&bb, "arith.addf", res, da);
  irCreate(&bb, "linalg.yield", 1, &res, 0, NULL, 0, NULL);
out:
  vmFree(&map);
  vmFree(&sadj);
  if (oom)
    adFail(ad, ad->b.loc, "out of memory");
  if (ad->failed) {
    mlirBlockDestroy(body);
    return (MlirValue){NULL};
  }
  return adGeneric(ad, n, ins, acc, bmaps, adIterators(ctx, red, nDims), body);
}

/* ---- tensor.extract of a trained tensor in the body: a scatter-add -------
 *
 * A body that reads an active tensor T at computed indices (adaptive
 * pooling as torch-mlir lowers it, gathers) gives T's adjoint as a
 * scatter-add: for every iteration d, adj(T)[idx(d)] += the adjoint of the
 * extracted scalar. No linalg map expresses idx(d), so the backward op is
 * a nest of scf.for loops over the iteration space carrying adj(T): the
 * body is recomputed (linalg.index d = the loop's iv, block arguments read
 * from their operands at their maps, reductions' accumulators as their
 * final results, as in backwardOperand), reverse mode runs on it, and each
 * extract of T adds its adjoint with tensor.extract / tensor.insert. */

/* The index value of affine expression e at the ivs; null for a form
 * that is not handled (symbols). */
static MlirValue affineValue(IrBuilder *b, MlirAffineExpr e, const MlirValue *ivs) {
  if (mlirAffineExprIsADim(e))
    return ivs[mlirAffineDimExprGetPosition(e)];
  if (mlirAffineExprIsAConstant(e))
    return irConstIndex(b, mlirAffineConstantExprGetValue(e));
  static const struct {
    bool (*is)(MlirAffineExpr);
    const char *op;
  } kBin[] = {{mlirAffineExprIsAAdd, "arith.addi"}, {mlirAffineExprIsAMul, "arith.muli"},
              {mlirAffineExprIsAMod, "arith.remsi"},
              {mlirAffineExprIsAFloorDiv, "arith.floordivsi"},
              {mlirAffineExprIsACeilDiv, "arith.ceildivsi"}};
  for (size_t i = 0; i < sizeof kBin / sizeof kBin[0]; ++i) {
    if (!kBin[i].is(e))
      continue;
    MlirValue l = affineValue(b, mlirAffineBinaryOpExprGetLHS(e), ivs);
    MlirValue r = affineValue(b, mlirAffineBinaryOpExprGetRHS(e), ivs);
    return mlirValueIsNull(l) || mlirValueIsNull(r) ? (MlirValue){NULL}
                                                    : irBinary(b, kBin[i].op, l, r);
  }
  return (MlirValue){NULL};
}

/* tensor.extract t[map(ivs)]; null when the map has an unhandled form. */
static MlirValue extractAt(IrBuilder *b, MlirValue t, MlirAttribute map, const MlirValue *ivs) {
  MlirAffineMap am = mlirAffineMapAttrGetValue(map);
  intptr_t n = mlirAffineMapGetNumResults(am);
  MlirValue ops[IR_MAX_RANK + 1];
  ops[0] = t;
  for (intptr_t r = 0; r < n; ++r)
    if (mlirValueIsNull(ops[r + 1] = affineValue(b, mlirAffineMapGetResult(am, r), ivs)))
      return (MlirValue){NULL};
  return irCreate1(b, "tensor.extract", n + 1, ops,
                   mlirShapedTypeGetElementType(mlirValueGetType(t)), 0, NULL);
}

/* The trip count of each loop of generic op: the static size of an operand
 * dimension its map reads as exactly that loop. False after adFail. */
static bool loopRanges(Ad *ad, MlirOperation op, intptr_t nDims, int64_t *range) {
  MlirAttribute maps = adAttr(op, "indexing_maps");
  for (intptr_t d = 0; d < nDims; ++d)
    range[d] = -1;
  for (intptr_t i = 0; i < mlirArrayAttrGetNumElements(maps); ++i) {
    MlirAffineMap am = mlirAffineMapAttrGetValue(mlirArrayAttrGetElement(maps, i));
    MlirType t = mlirValueGetType(mlirOperationGetOperand(op, i));
    for (intptr_t r = 0; r < mlirAffineMapGetNumResults(am); ++r) {
      MlirAffineExpr e = mlirAffineMapGetResult(am, r);
      if (mlirAffineExprIsADim(e) && !mlirShapedTypeIsDynamicDim(t, r))
        range[mlirAffineDimExprGetPosition(e)] = mlirShapedTypeGetDimSize(t, r);
    }
  }
  for (intptr_t d = 0; d < nDims; ++d)
    if (range[d] < 0)
      return adFail(ad, mlirOperationGetLocation(op), "cannot differentiate the "
                    "tensor.extract of a trained tensor in this linalg.generic: loop %d "
                    "has no static size", (int)d);
  return true;
}

/* An scf.for from 0 to ub by 1 carrying one value from init, its body the
 * (unattached, terminated) block `body` with arguments (iv, carried). */
static MlirOperation forLoop(Ad *ad, MlirValue ub, MlirValue init, MlirBlock body,
                             MlirValue c0, MlirValue c1) {
  MlirOperationState st = mlirOperationStateGet(irStr("scf.for"), ad->b.loc);
  MlirValue ops[4] = {c0, ub, c1, init};
  MlirType rt = mlirValueGetType(init);
  mlirOperationStateAddOperands(&st, 4, ops);
  mlirOperationStateAddResults(&st, 1, &rt);
  MlirRegion r = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(r, body);
  mlirOperationStateAddOwnedRegions(&st, 1, &r);
  return mlirOperationCreate(&st);
}

/* adj(T) += the scatter-add of the adjoints of the body's extracts of T. */
static bool scatterExtracts(Ad *ad, MlirOperation op, intptr_t nIn, intptr_t nOut,
                            const MlirValue *subs, const MlirValue *dr, MlirValue T) {
  MlirContext ctx = ad->ctx;
  MlirAttribute maps = adAttr(op, "indexing_maps");
  intptr_t nDims = mlirArrayAttrGetNumElements(adAttr(op, "iterator_types"));
  int64_t range[AD_MAX_LOOPS];
  if (nDims < 1 || !loopRanges(ad, op, nDims, range))
    return nDims < 1 ? adFail(ad, mlirOperationGetLocation(op), "cannot differentiate "
                              "a linalg.generic without loops reading a trained tensor")
                     : false;
  MlirType tt = mlirValueGetType(T), indexT = mlirIndexTypeGet(ctx);
  MlirValue c0 = irConstIndex(&ad->b, 0), c1 = irConstIndex(&ad->b, 1), ub[AD_MAX_LOOPS];
  MlirBlock blocks[AD_MAX_LOOPS];
  MlirValue ivs[AD_MAX_LOOPS];
  MlirType argTypes[2] = {indexT, tt};
  for (intptr_t d = 0; d < nDims; ++d) {
    ub[d] = irConstIndex(&ad->b, range[d]);
    blocks[d] = adNewBlock(ad, 2, argTypes);
    ivs[d] = mlirBlockGetArgument(blocks[d], 0);
  }
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  IrBuilder ib = {ctx, {NULL}, blocks[nDims - 1], ad->b.loc};
  ValueMap map, sadj;
  vmInit(&map);
  vmInit(&sadj);
  bool oom = false, ok = true;
  MlirValue seeds[AD_MAX_RESULTS];
  for (intptr_t i = 0; ok && i < nIn + nOut; ++i) {
    MlirValue src = i < nIn ? mlirOperationGetOperand(op, i) : subs[i - nIn];
    MlirAttribute m = mlirArrayAttrGetElement(maps, i);
    MlirValue v = extractAt(&ib, src, m, ivs);
    if (!(ok = !mlirValueIsNull(v)))
      break;
    oom |= !vmPut(&map, mlirBlockGetArgument(fwd, i), v);
    if (i < nIn)
      continue;
    intptr_t j = i - nIn; /* the seed: adj(r_j) at O_j(d) */
    seeds[j] = mlirValueIsNull(dr[j]) ? dr[j] : extractAt(&ib, dr[j], m, ivs);
  }
  if (!ok)
    adFail(ad, mlirOperationGetLocation(op), "cannot differentiate the tensor.extract of "
           "a trained tensor in this linalg.generic: an indexing map has symbols");
  else if (replayBody(ad, op, &ib, &map, &sadj, seeds, nOut, ivs, &oom)) {
    MlirValue acc = mlirBlockGetArgument(blocks[nDims - 1], 1);
    for (MlirOperation o = mlirBlockGetFirstOperation(fwd); !mlirOperationIsNull(o);
         o = mlirOperationGetNextInBlock(o)) {
      if (!adNameIs(o, "tensor.extract") || !mlirValueEqual(mlirOperationGetOperand(o, 0), T))
        continue;
      MlirValue cl = vmGet(&map, mlirOperationGetResult(o, 0));
      MlirValue g = mlirValueIsNull(cl) ? cl : vmGet(&sadj, cl);
      if (mlirValueIsNull(g))
        continue;
      MlirOperation co = mlirOpResultGetOwner(cl);
      intptr_t n = mlirOperationGetNumOperands(co);
      MlirValue ops[IR_MAX_RANK + 2];
      ops[0] = acc;
      for (intptr_t r = 1; r < n; ++r)
        ops[r] = mlirOperationGetOperand(co, r);
      MlirValue old = irCreate1(&ib, "tensor.extract", n, ops, mlirValueGetType(g), 0, NULL);
      MlirValue ins[IR_MAX_RANK + 3];
      ins[0] = irBinary(&ib, "arith.addf", old, g);
      ins[1] = acc;
      for (intptr_t r = 1; r < n; ++r)
        ins[r + 1] = ops[r];
      acc = irCreate1(&ib, "tensor.insert", n + 1, ins, tt, 0, NULL);
    }
    irCreate(&ib, "scf.yield", 1, &acc, 0, NULL, 0, NULL);
  }
  vmFree(&map);
  vmFree(&sadj);
  if (oom)
    adFail(ad, ad->b.loc, "out of memory");
  if (ad->failed) {
    for (intptr_t d = 0; d < nDims; ++d)
      mlirBlockDestroy(blocks[d]);
    return false;
  }
  /* Inner loops into their parents, each parent yielding its child's
   * result; the outermost starts from the adjoint so far. */
  for (intptr_t d = nDims - 1; d > 0; --d) {
    MlirOperation loop = forLoop(ad, ub[d], mlirBlockGetArgument(blocks[d - 1], 1), blocks[d],
                                 c0, c1);
    mlirBlockAppendOwnedOperation(blocks[d - 1], loop);
    IrBuilder pb = {ctx, {NULL}, blocks[d - 1], ad->b.loc};
    MlirValue r = mlirOperationGetResult(loop, 0);
    irCreate(&pb, "scf.yield", 1, &r, 0, NULL, 0, NULL);
  }
  MlirOperation outer = forLoop(ad, ub[0], adAccumulatorFor(ad, T), blocks[0], c0, c1);
  irInsert(&ad->b, outer);
  if (!vmPut(&ad->adj, T, mlirOperationGetResult(outer, 0)))
    return adFail(ad, ad->b.loc, "out of memory");
  return true;
}

/* The distinct active tensors the body of op reads with tensor.extract (at
 * most AD_MAX_OPERANDS). */
static intptr_t activeExtracts(Ad *ad, MlirOperation op, MlirValue *out) {
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  intptr_t n = 0;
  for (MlirOperation o = mlirBlockGetFirstOperation(fwd); !mlirOperationIsNull(o);
       o = mlirOperationGetNextInBlock(o)) {
    if (!adNameIs(o, "tensor.extract"))
      continue;
    MlirValue t = mlirOperationGetOperand(o, 0);
    bool seen = !vmHas(&ad->active, t);
    for (intptr_t i = 0; i < n && !seen; ++i)
      seen = mlirValueEqual(out[i], t);
    if (!seen && n < AD_MAX_OPERANDS)
      out[n++] = t;
  }
  return n;
}

static bool blockArgUsed(MlirBlock b, intptr_t i) {
  return !mlirOpOperandIsNull(mlirValueGetFirstUse(mlirBlockGetArgument(b, i)));
}

static bool ruleGeneric(Ad *ad, MlirOperation op, MlirValue g0) {
  (void)g0; /* every result's adjoint is read below */
  MlirLocation loc = mlirOperationGetLocation(op);
  MlirAttribute seg = adAttr(op, "operandSegmentSizes");
  intptr_t nIn = mlirDenseI32ArrayGetElement(seg, 0);
  intptr_t nOut = mlirDenseI32ArrayGetElement(seg, 1);
  if (nIn + 2 * nOut > AD_MAX_OPERANDS || nOut > AD_MAX_RESULTS)
    return adFail(ad, loc, "linalg.generic with too many operands to differentiate");
  MlirAttribute iters = adAttr(op, "iterator_types");
  if (mlirArrayAttrGetNumElements(iters) > AD_MAX_LOOPS)
    return adFail(ad, loc, "cannot differentiate a linalg.generic with %d loops: "
                  "the limit is %d", (int)mlirArrayAttrGetNumElements(iters),
                  AD_MAX_LOOPS);
  bool reduction = false;
  for (intptr_t d = 0; d < mlirArrayAttrGetNumElements(iters); ++d)
    reduction |= iteratorIsReduction(mlirArrayAttrGetElement(iters, d));
  MlirBlock fwd = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  MlirOperation yield = mlirBlockGetTerminator(fwd);

  MlirValue dr[AD_MAX_RESULTS], subs[AD_MAX_RESULTS];
  Combine comb[AD_MAX_RESULTS];
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
      comb[j] = combinerOf(def);
    }
    int uses = 0;
    for (MlirOpOperand u = mlirValueGetFirstUse(bj); !mlirOpOperandIsNull(u);
         u = mlirOpOperandGetNextUse(u))
      ++uses;
    if (comb[j] == COMB_NONE || uses != 1)
      return adFail(ad, loc, "cannot differentiate a linalg.generic reduction whose "
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
        MlirBlock body = adNewBlock(ad, 4, types);
        IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
        MlirValue eq = adCmpf(&bb, AD_CMP_OEQ, mlirBlockGetArgument(body, 0),
                            mlirBlockGetArgument(body, 1));
        MlirValue v = adSelectf(&bb, eq, mlirBlockGetArgument(body, 2), adScalarConst(&bb, et, 0.0));
        irCreate(&bb, "linalg.yield", 1, &v, 0, NULL, 0, NULL);
        MlirValue ins[3] = {x, mlirOperationGetResult(op, j), dr[j]};
        MlirAttribute m = adIdentityMap(ad->ctx, rank), ms[4] = {m, m, m, m};
        bool red[IR_MAX_RANK] = {0};
        g = adGeneric(ad, 3, ins, irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL),
                        ms, adIterators(ad->ctx, red, rank), body);
      }
      if (!adAccumulate(ad, x, g))
        return false;
      continue;
    }
    if (k >= nIn && !blockArgUsed(fwd, k))
      continue;
    MlirValue acc = adAccumulatorFor(ad, x);
    MlirValue g = backwardOperand(ad, op, nIn, nOut, k, subs, dr, acc);
    if (ad->failed)
      return false;
    if (!vmPut(&ad->adj, x, g))
      return adFail(ad, loc, "out of memory");
  }
  MlirValue captured[AD_MAX_OPERANDS];
  intptr_t nCaptured = ad->failed ? 0 : activeExtracts(ad, op, captured);
  for (intptr_t i = 0; i < nCaptured && !ad->failed; ++i)
    scatterExtracts(ad, op, nIn, nOut, subs, dr, captured[i]);
  return !ad->failed;
}

const AdRule adLinalgRules[] = {
    {"linalg.generic", ruleGeneric},
    {NULL, NULL},
};
