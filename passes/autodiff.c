/*
 * Reverse-mode differentiation of linalg-on-tensors function bodies: the
 * driver. The gradient rules are tables, one per dialect, in their own
 * files (autodiff-rules.h lists them); this file walks the ops and finds
 * each op's rule by its name.
 *
 * Activity. A value is active when it is a parameter or computed from an
 * active value. Only active values get adjoints; ops whose results have no
 * adjoint are skipped, so unsupported ops off the loss path are harmless.
 *
 * Adjoints. adj(v) is a tensor of v's type holding dLoss/dv. A second
 * contribution is added to the first (every backward linalg.generic
 * accumulates into its `outs`, so most sums cost nothing extra).
 *
 * The reverse sweep visits the active ops last to first; an op some of
 * whose results have adjoints gets its rule (adFindRule), and an op with
 * no rule is an error at its location that names it.
 */
#include "autodiff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff-rules.h"
#include "mlir-c/AffineMap.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

/* ---- Helpers (autodiff-rules.h) ---------------------------------------------- */

bool adFail(Ad *ad, MlirLocation loc, const char *fmt, ...) {
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

bool adNameIs(MlirOperation op, const char *name) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  return s.length == strlen(name) && !memcmp(s.data, name, s.length);
}

void adOpName(MlirOperation op, char *buf, size_t size) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  snprintf(buf, size, "%.*s", (int)s.length, s.data);
}

static bool isFloat(MlirType t) {
  return mlirTypeIsAF32(t) || mlirTypeIsAF16(t) || mlirTypeIsABF16(t) ||
         mlirTypeIsAF64(t);
}

MlirAttribute adAttr(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, irStr(name));
}

/* ---- Tensor helpers ------------------------------------------------------ */

MlirAttribute adIdentityMap(MlirContext ctx, intptr_t rank) {
  return mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, rank));
}

MlirAttribute adIterators(MlirContext ctx, const bool *reduction, intptr_t n) {
  char buf[AD_MAX_LOOPS * 40]; /* 33 characters a loop */
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
MlirValue adGeneric(Ad *ad, intptr_t nIns, const MlirValue *ins,
                             MlirValue out, const MlirAttribute *maps,
                             MlirAttribute iters, MlirBlock body) {
  return irGeneric(&ad->b, nIns, ins, out, maps, iters, body);
}

MlirBlock adNewBlock(Ad *ad, intptr_t n, const MlirType *types) {
  MlirLocation locs[AD_MAX_OPERANDS + 1];
  for (intptr_t i = 0; i < n; ++i)
    locs[i] = ad->b.loc;
  return mlirBlockCreate(n, types, locs);
}

MlirValue adScalarConst(IrBuilder *b, MlirType t, double v) {
  MlirNamedAttribute a = irNamed(b->ctx, "value", mlirFloatAttrDoubleGet(b->ctx, t, v));
  return irCreate1(b, "arith.constant", 0, NULL, t, 1, &a);
}

/* A zero tensor of type t: tensor.empty filled by a generic. */
MlirValue adZeros(Ad *ad, MlirType t) {
  MlirValue e = irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL);
  MlirType et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  MlirBlock body = adNewBlock(ad, 1, &et);
  IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
  MlirValue z = adScalarConst(&bb, et, 0.0);
  irCreate(&bb, "linalg.yield", 1, &z, 0, NULL, 0, NULL);
  bool red[IR_MAX_RANK] = {0};
  MlirAttribute map = adIdentityMap(ad->ctx, rank);
  return adGeneric(ad, 0, NULL, e, &map, adIterators(ad->ctx, red, rank), body);
}

/* Elementwise a + b (same tensor type). */
MlirValue adAddTensors(Ad *ad, MlirValue a, MlirValue b) {
  MlirType t = mlirValueGetType(a), et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  MlirType types[3] = {et, et, et};
  MlirBlock body = adNewBlock(ad, 3, types);
  IrBuilder bb = {ad->ctx, {NULL}, body, ad->b.loc};
  MlirValue s = irBinary(&bb, "arith.addf", mlirBlockGetArgument(body, 0),
                         mlirBlockGetArgument(body, 1));
  irCreate(&bb, "linalg.yield", 1, &s, 0, NULL, 0, NULL);
  MlirValue ins[2] = {a, b};
  MlirAttribute m = adIdentityMap(ad->ctx, rank), maps[3] = {m, m, m};
  bool red[IR_MAX_RANK] = {0};
  MlirValue e = irCreate1(&ad->b, "tensor.empty", 0, NULL, t, 0, NULL);
  return adGeneric(ad, 2, ins, e, maps, adIterators(ad->ctx, red, rank), body);
}

/* adj(v) += g. */
bool adAccumulate(Ad *ad, MlirValue v, MlirValue g) {
  MlirValue old = vmGet(&ad->adj, v);
  MlirValue sum = mlirValueIsNull(old) ? g : adAddTensors(ad, old, g);
  if (!vmPut(&ad->adj, v, sum))
    return adFail(ad, ad->b.loc, "out of memory");
  return true;
}

/* The accumulator a backward generic writes into for v. */
MlirValue adAccumulatorFor(Ad *ad, MlirValue v) {
  MlirValue old = vmGet(&ad->adj, v);
  return mlirValueIsNull(old) ? adZeros(ad, mlirValueGetType(v)) : old;
}

/* ---- Scalar reverse mode inside a generic body ------------------------ */

void adScalarAccum(AdScalar *s, MlirValue v, MlirValue g) {
  if (!isFloat(mlirValueGetType(v)))
    return;
  MlirValue old = vmGet(s->adj, v);
  if (!mlirValueIsNull(old))
    g = irBinary(s->b, "arith.addf", old, g);
  if (!vmPut(s->adj, v, g))
    *s->oom = true;
}

MlirValue adCmpf(IrBuilder *bb, int predicate, MlirValue a, MlirValue b) {
  MlirValue ops[2] = {a, b};
  MlirNamedAttribute p = irNamed(bb->ctx, "predicate",
                                 mlirIntegerAttrGet(mlirIntegerTypeGet(bb->ctx, 64), predicate));
  return irCreate1(bb, "arith.cmpf", 2, ops, mlirIntegerTypeGet(bb->ctx, 1), 1, &p);
}

MlirValue adSelectf(IrBuilder *bb, MlirValue c, MlirValue a, MlirValue b) {
  MlirValue ops[3] = {c, a, b};
  return irCreate1(bb, "arith.select", 3, ops, mlirValueGetType(a), 0, NULL);
}

/* The rank of t if it is a ranked tensor, else 0. */
static intptr_t tensorRank(MlirType t) {
  return mlirTypeIsARankedTensor(t) ? mlirShapedTypeGetRank(t) : 0;
}

bool adCheckLimits(Ad *ad, MlirOperation op) {
  intptr_t nOps = mlirOperationGetNumOperands(op);
  for (intptr_t i = 0; i < nOps + mlirOperationGetNumResults(op); ++i) {
    MlirValue v = i < nOps ? mlirOperationGetOperand(op, i)
                           : mlirOperationGetResult(op, i - nOps);
    intptr_t rank = tensorRank(mlirValueGetType(v));
    if (rank > IR_MAX_RANK) {
      char name[64];
      adOpName(op, name, sizeof name);
      return adFail(ad, mlirOperationGetLocation(op), "cannot differentiate "
                    "'%s': it has a tensor of rank %d, above the limit of %d",
                    name, (int)rank, IR_MAX_RANK);
    }
  }
  return true;
}

/* ---- Rule lookup -------------------------------------------------------------- */

/* The rule tables by dialect: an op's table is its name's prefix. */
static const struct {
  const char *dialect; /* with the dot: "tensor." */
  const AdRule *rules;
} kDialects[] = {
    {"linalg.", adLinalgRules},
    {"tensor.", adTensorRules},
    {"tosa.", adTosaRules},
};

AdRuleFn adFindRule(MlirOperation op) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  for (size_t d = 0; d < sizeof kDialects / sizeof kDialects[0]; ++d) {
    size_t n = strlen(kDialects[d].dialect);
    if (s.length < n || memcmp(s.data, kDialects[d].dialect, n))
      continue;
    for (const AdRule *r = kDialects[d].rules; r->name; ++r)
      if (adNameIs(op, r->name))
        return r->fn;
  }
  return NULL;
}

AdScalarRuleFn adFindScalarRule(MlirOperation op) {
  for (const AdScalarRule *r = adScalarRules; r->name; ++r)
    if (adNameIs(op, r->name))
      return r->fn;
  return NULL;
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

/* Whether every use of an active value inside generic op is the tensor of
 * a tensor.extract directly in its body. */
static bool extractsOnly(Ad *ad, MlirOperation op) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  for (MlirOperation o = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(o);
       o = mlirOperationGetNextInBlock(o)) {
    if (mlirOperationGetNumRegions(o) > 0) {
      CaptureCheck cc = {ad, o, false};
      mlirOperationWalk(o, findActiveCapture, &cc, MlirWalkPreOrder);
      if (cc.found || anyActiveOperand(ad, o))
        return false;
      continue;
    }
    for (intptr_t i = 0; i < mlirOperationGetNumOperands(o); ++i)
      if (vmHas(&ad->active, mlirOperationGetOperand(o, i)) &&
          !(i == 0 && adNameIs(o, "tensor.extract")))
        return false;
  }
  return true;
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
    return adFail(&ad, ad.b.loc, "out of memory");
  for (size_t i = 0; i < numParams; ++i) {
    intptr_t rank = tensorRank(mlirValueGetType(params[i]));
    if (rank > IR_MAX_RANK) /* its zero gradient is built like any tensor */
      adFail(&ad, ad.b.loc, "cannot differentiate with respect to a tensor of "
             "rank %d, above the limit of %d", (int)rank, IR_MAX_RANK);
    if (!vmPut(&ad.active, params[i], params[i]))
      adFail(&ad, ad.b.loc, "out of memory");
  }

  /* Forward sweep: activity. */
  for (MlirOperation op = mlirBlockGetFirstOperation(block);
       !ad.failed && !mlirOperationEqual(op, stop); op = mlirOperationGetNextInBlock(op)) {
    if (nOps == cap) {
      MlirOperation *g = realloc(ops, 2 * cap * sizeof *g);
      if (!g) {
        adFail(&ad, ad.b.loc, "out of memory");
        break;
      }
      ops = g;
      cap *= 2;
    }
    ops[nOps++] = op;
    bool act = anyActiveOperand(&ad, op);
    if (mlirOperationGetNumRegions(op) > 0 && !adNameIs(op, "linalg.generic")) {
      CaptureCheck cc = {&ad, op, false};
      mlirOperationWalk(op, findActiveCapture, &cc, MlirWalkPreOrder);
      act |= cc.found;
    } else if (adNameIs(op, "linalg.generic")) {
      /* A trained tensor read in the body: by a tensor.extract directly in
       * it (its gradient is a scatter-add, rules-linalg.c), else an error. */
      CaptureCheck cc = {&ad, op, false};
      mlirOperationWalk(op, findActiveCapture, &cc, MlirWalkPreOrder);
      if (cc.found && !extractsOnly(&ad, op)) {
        adFail(&ad, mlirOperationGetLocation(op),
             "cannot differentiate a linalg.generic whose body uses a trained "
             "tensor other than by tensor.extract in its body");
        break;
      }
      act |= cc.found;
    }
    if (act)
      for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
        if (!vmPut(&ad.active, mlirOperationGetResult(op, i), mlirOperationGetResult(op, i)))
          adFail(&ad, ad.b.loc, "out of memory");
  }
  if (!ad.failed && !vmPut(&ad.adj, seed, seedAdjoint))
    adFail(&ad, ad.b.loc, "out of memory");

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
    /* Active ops have active results (an op reading a trained tensor in
     * its body may have no active operand). */
    if (!any || !vmHas(&ad.active, mlirOperationGetResult(op, 0)))
      continue;
    ad.b.loc = mlirOperationGetLocation(op);
    AdRuleFn rule = adFindRule(op);
    if (!adCheckLimits(&ad, op))
      break;
    if (rule) {
      rule(&ad, op, g);
    } else {
      char name[64];
      adOpName(op, name, sizeof name);
      adFail(&ad, mlirOperationGetLocation(op), "cannot differentiate '%s': no "
             "gradient rule for this op", name);
    }
  }
  ad.b.loc = mlirOperationGetLocation(stop);
  for (size_t i = 0; i < numParams && !ad.failed; ++i) {
    MlirValue a = vmGet(&ad.adj, params[i]);
    grads[i] = mlirValueIsNull(a) ? adZeros(&ad, mlirValueGetType(params[i])) : a;
  }
  free(ops);
  vmFree(&ad.adj);
  vmFree(&ad.active);
  return !ad.failed;
}
