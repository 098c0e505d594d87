/*
 * --cluster-train: generate the clustering-aware training step of a model.
 *
 * From a forward function @f(inputs...) -> logits whose weights are
 * constants, the pass adds
 *
 *   @f_train_step(inputs..., labels, W_1..W_m, c_1..c_m, p_1..p_r)
 *       -> (loss, dW_1..dW_m, dc_1..dc_m, dp_1..dp_r, idx_1..idx_m)
 *   @f_train_init() -> (W_1..W_m, c_1..c_m, p_1..p_r)
 *
 * and keeps @f. W_j are the clustered weights (selected exactly as
 * cluster-weights selects them), c_j their centroids, p the other trainable
 * parameters (biases and unclustered float weights). The step:
 *
 *   forward   idx_j = assign(W_j, c_j)            libclusterrt argmin, per step
 *             Wc_j  = c_j[idx_j]                  a linalg.generic gather
 *             z     = the model on Wc_j, p        lowered to linalg
 *             loss  = softmax cross-entropy(z, labels) | mean squared error
 *   backward  reverse mode over the model (autodiff.c), seeded with dz
 *             dW_j  = dWc_j                       straight-through estimator
 *             dc_j  = gather_accumulate(dWc_j, idx_j)   libclusterrt, SUM|AVG
 *
 * mode=centroids-only (the method before STE): idx_j are arguments in place
 * of W_j, fixed; no dW, no idx results. mode=float: no clustering, every
 * weight is a p (a baseline from the same tool). The optimizer is the
 * host's (libclusterrt's clusterrt_adam_f32 / sgd), so one step function
 * serves every optimizer.
 *
 * How: the forward function is cloned into a scratch module, its trainable
 * constants become arguments, tosa is lowered to linalg and named linalg
 * ops are generalized (so the autodiff sees linalg.generic and a few tensor
 * ops only), the loss and backward are appended, and the finished function
 * is cloned back. The labels are i32 class indices (tensor<B x i32>) for
 * softmax-ce, a tensor of the logits' type for mse. Shapes must be static.
 * @f_train_step carries `clusterc.arguments` / `clusterc.results`: one
 * "kind:name" string per argument and result, kinds input, labels, weight,
 * centroids, param, loss, grad_weight, grad_centroids, grad_param, indices.
 */
#include "clusterc/passes.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "ir.h"
#include "mlir-compat.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Conversion.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Math.h"
#include "mlir-c/Dialect/SCF.h"
#include "mlir-c/Dialect/Tensor.h"
#include "options.h"
#include "palette.h"
#include "rtcall.h"
#include "weights.h"
#include "../support/checked.h"

/* ---- Small IR helpers ------------------------------------------------------- */

/* The element count, or -1 when it overflows int64. */
static int64_t numElements(MlirType t) {
  uint64_t n = 1;
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i)
    if (!clustercMulCount(&n, mlirShapedTypeGetDimSize(t, i)))
      return -1;
  return (int64_t)n;
}

static MlirType tensorType(intptr_t rank, const int64_t *shape, MlirType elem) {
  return mlirRankedTensorTypeGet(rank, shape, elem, mlirAttributeGetNull());
}

static MlirType tensor1(int64_t n, MlirType elem) { return tensorType(1, &n, elem); }

static MlirType dyn1(MlirType elem) {
  int64_t d = mlirShapedTypeGetDynamicSize();
  return tensorType(1, &d, elem);
}

static MlirAttribute identity(MlirContext ctx, intptr_t rank) {
  return mlirAffineMapAttrGet(mlirAffineMapMultiDimIdentityGet(ctx, rank));
}

static MlirAttribute iteratorsAttr(MlirContext ctx, const char *kinds) {
  /* kinds: a string of 'p' and 'r'. */
  char buf[1024];
  size_t at = 0, n = strlen(kinds);
  buf[at++] = '[';
  for (size_t i = 0; i < n; ++i)
    at += (size_t)snprintf(buf + at, sizeof buf - at, "%s#linalg.iterator_type<%s>",
                           i ? "," : "", kinds[i] == 'r' ? "reduction" : "parallel");
  buf[at++] = ']';
  buf[at] = 0;
  return irParseAttr(ctx, buf);
}

/* `rank` loops of one kind ('p' or 'r') into buf[IR_MAX_RANK + 1]; the
 * ranks were checked (checkSignature, selectTrainables). */
static const char *allLoops(char *buf, char kind, intptr_t rank) {
  memset(buf, kind, (size_t)rank);
  buf[rank] = 0;
  return buf;
}

/* A map (d0..d{nDims-1}) -> (d{dims[0]}, ...). */
static MlirAttribute projMap(MlirContext ctx, intptr_t nDims, intptr_t nRes,
                             const intptr_t *dims) {
  MlirAffineExpr e[8];
  for (intptr_t i = 0; i < nRes; ++i)
    e[i] = mlirAffineDimExprGet(ctx, dims[i]);
  return mlirAffineMapAttrGet(mlirAffineMapGet(ctx, nDims, 0, nRes, e));
}

static MlirValue generic(IrBuilder *b, intptr_t nIns, const MlirValue *ins,
                         MlirValue out, const MlirAttribute *maps,
                         const char *iters, MlirBlock body) {
  return irGeneric(b, nIns, ins, out, maps, iteratorsAttr(b->ctx, iters), body);
}

static MlirBlock block(IrBuilder *b, intptr_t n, const MlirType *types) {
  MlirLocation locs[8];
  for (intptr_t i = 0; i < n; ++i)
    locs[i] = b->loc;
  return mlirBlockCreate(n, types, locs);
}

static MlirValue fconst(IrBuilder *b, MlirType t, double v) {
  MlirNamedAttribute a = irNamed(b->ctx, "value", mlirFloatAttrDoubleGet(b->ctx, t, v));
  return irCreate1(b, "arith.constant", 0, NULL, t, 1, &a);
}

static MlirValue empty(IrBuilder *b, MlirType t) {
  return irCreate1(b, "tensor.empty", 0, NULL, t, 0, NULL);
}

/* A tensor of type t filled with v. */
static MlirValue filled(IrBuilder *b, MlirType t, double v) {
  MlirType et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  MlirBlock body = block(b, 1, &et);
  IrBuilder bb = {b->ctx, {NULL}, body, b->loc};
  MlirValue c = fconst(&bb, et, v);
  irCreate(&bb, "linalg.yield", 1, &c, 0, NULL, 0, NULL);
  MlirAttribute m = identity(b->ctx, rank);
  char it[IR_MAX_RANK + 1];
  return generic(b, 0, NULL, empty(b, t), &m, allLoops(it, 'p', rank), body);
}

/* ---- Runtime calls (rtcall.h) ------------------------------------------------- */

static const RtFn kAssignI8 = {"clusterrt_mlir_assign_i8", 3, "ffb", "rrw"};
static const RtFn kAssignI16 = {"clusterrt_mlir_assign_i16", 3, "ffh", "rrw"};
static const RtFn kAccumI8 = {"clusterrt_mlir_accumulate_i8", 4, "fbif", "rrrw"};
static const RtFn kAccumI16 = {"clusterrt_mlir_accumulate_i16", 4, "fhif", "rrrw"};
/* (W, c, idx, outer, channels, inner, group, sparse): grouped tables with
 * global indices, zeros kept on their table's zero slot. */
static const RtFn kAssignGroupedI8 = {"clusterrt_mlir_assign_grouped_i8", 8, "ffbiiiii",
                                      "rrw"};
static const RtFn kAssignGroupedI16 = {"clusterrt_mlir_assign_grouped_i16", 8, "ffhiiiii",
                                       "rrw"};

/* ---- The pass -------------------------------------------------------------------- */

typedef struct CtPass {
  ClustercClusterTrainOptions o;
} CtPass;

typedef enum Kind { K_NONE, K_CLUSTERED, K_PARAM } Kind;

typedef struct Trainable {
  ConstInfo ci;
  Kind kind;
  char *name;
  unsigned kReq;
  size_t k;        /* centroids per table after the initial clustering */
  float *c;        /* initial centroids (tables * k) */
  /* Tables (per-channel=, group-size=): table t serves channels
   * [t * group, (t + 1) * group) of the layout [outer][chans][inner]; the
   * indices are global (t * k + slot), so gather and accumulate see one
   * table of tables * k centroids. Per tensor: one table. */
  size_t tables, outer, chans, inner, group;
  bool sparse;     /* preserve-sparsity: zeros keep a fixed zero slot */
  int index;       /* weight index in walk order, or -1 */
  bool wide;       /* u16 indices */
  bool frozen;     /* kept constant: freeze= or a batch-norm statistic */
} Trainable;

typedef struct Work {
  const CtPass *p;
  MlirContext ctx;
  Trainable *t;
  size_t n;
  size_t nClustered, nParams;
  char err[512];
  MlirLocation errLoc;
  bool reported; /* the diagnostics are out already */
} Work;

static bool failf(Work *w, MlirLocation loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool failf(Work *w, MlirLocation loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->err, sizeof w->err, fmt, ap);
  va_end(ap);
  w->errLoc = loc;
  return false;
}

static MlirStringRef symName(MlirOperation op) {
  return mlirStringAttrGetValue(mlirOperationGetAttributeByName(op, irStr("sym_name")));
}

/* The function to train (weightsModelFunction), or a diagnostic. */
static MlirOperation findFunction(MlirOperation module, const char *want, Work *w) {
  char err[256];
  MlirOperation fn = weightsModelFunction(module, want, err, sizeof err);
  if (mlirOperationIsNull(fn))
    failf(w, mlirOperationGetLocation(module), "%s", err);
  return fn;
}

/* idx = the assignment of w to t's tables (global indices, u8 or u16). */
static clusterrt_status trainableAssign(const Trainable *t, const float *w, void *idx) {
  return clusterrt_assign_grouped_f32(w, t->outer, t->chans, t->inner, t->group, t->c,
                                      t->k, t->sparse,
                                      t->wide ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8, idx);
}

/* The step needs the grouped assign (tables or zero slots). */
static bool grouped(const Trainable *t) { return t->tables > 1 || t->sparse; }

/* Decides what is trained, on the original function, and computes the
 * initial centroids. */
static bool selectTrainables(Work *w, MlirOperation fn) {
  const ClustercClusterTrainOptions *o = &w->p->o;
  WeightsList l;
  if (!weightsCollect(fn, &l))
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
  for (size_t i = 0; i < l.n; ++i)
    weightsClassify(&l.items[i]);
  int count = 0;
  for (size_t i = 0; i < l.n; ++i)
    count += l.items[i].role == ROLE_WEIGHT;
  w->t = calloc(l.n ? l.n : 1, sizeof *w->t);
  if (!w->t) {
    for (size_t i = 0; i < l.n; ++i)
      weightsRelease(&l.items[i]);
    free(l.items);
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
  }
  /* w owns every ConstInfo from here (freeWork releases them), so each
   * early return below leaks nothing. */
  w->n = l.n;
  for (size_t i = 0; i < l.n; ++i)
    w->t[i].ci = l.items[i];
  free(l.items);
  l.items = NULL;
  const ConstInfo **ptrs = malloc(sizeof *ptrs * (w->n ? w->n : 1));
  int *index = malloc(sizeof *index * (w->n ? w->n : 1));
  for (size_t i = 0; ptrs && i < w->n; ++i)
    ptrs[i] = &w->t[i].ci;
  bool numbered = ptrs && index && weightsNumber(fn, ptrs, w->n, index);
  for (size_t i = 0; numbered && i < w->n; ++i)
    w->t[i].index = index[i];
  free(ptrs);
  free(index);
  if (!numbered)
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
  bool ok = true;
  for (size_t i = 0; i < w->n; ++i) {
    Trainable *t = &w->t[i];
    if (t->ci.role != ROLE_WEIGHT && t->ci.role != ROLE_BIAS)
      continue;
    if (!weightsIsFloat(t->ci.elem))
      continue;
    if (!(t->name = weightsLayerName(&t->ci, t->index)))
      return failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
    MlirLocation loc = mlirOperationGetLocation(t->ci.op);
    /* Frozen parameters stay constants of the step (no argument, no
     * gradient), whatever their element type. */
    if (weightsSelectorsMatch(o->freeze, o->num_freeze, t->name, t->index, count) ||
        (!o->train_bn_stats && t->ci.role == ROLE_BIAS && weightsIsBatchNormStat(&t->ci))) {
      t->frozen = true;
      continue;
    }
    if (t->ci.elem != ELEM_F32) {
      ok = failf(w, loc, "cluster-train: '%s' is %s; training supports f32 "
                 "parameters", t->name, weightsElemName(t->ci.elem));
      break;
    }
    if (t->ci.tooLarge) {
      ok = failf(w, loc, "cluster-train: '%s' has too many elements (the count "
                 "overflows 64 bits)", t->name);
      break;
    }
    if (t->ci.rank > IR_MAX_RANK) {
      ok = failf(w, loc, "cluster-train: '%s' has rank %d; training supports "
                 "tensors of rank up to %d", t->name, (int)t->ci.rank, IR_MAX_RANK);
      break;
    }
    const char *why = "";
    unsigned k = 0;
    if (o->mode != CLUSTERC_TRAIN_FLOAT && t->ci.role == ROLE_WEIGHT &&
        t->ci.form != FORM_SPLAT && t->ci.elements >= o->cluster.min_elements)
      k = weightsSelectK(&o->cluster, &t->ci, t->name, t->index, count, &why);
    t->kind = k ? K_CLUSTERED : K_PARAM;
    t->kReq = k;
    if (!k) {
      w->nParams++;
      continue;
    }
    w->nClustered++;
    const char *rwhy;
    float *vals = weightsReadF32(&t->ci, &rwhy);
    if (!vals) {
      ok = failf(w, loc, "cluster-train: cannot read weight '%s': %s", t->name, rwhy);
      break;
    }
    for (uint64_t e = 0; e < t->ci.elements; ++e)
      if (!isfinite(vals[e])) {
        free(vals);
        return failf(w, loc, "cluster-train: weight '%s' has a non-finite value "
                     "at element %llu", t->name, (unsigned long long)e);
      }
    size_t group;
    int axis = weightsGroupAxis(&o->cluster, &t->ci, &group);
    if (axis >= t->ci.rank) {
      free(vals);
      ok = failf(w, loc, "cluster-train: channel-axis %d is out of range for weight "
                 "'%s' of rank %d", axis, t->name, (int)t->ci.rank);
      break;
    }
    clusterrt_status st;
    uint64_t seed = weightsSeed(o->cluster.seed, t->index);
    if (axis >= 0) { /* cluster-weights' own tables */
      WeightsTables wt;
      st = weightsClusterTables(vals, &t->ci, axis, group, k, &o->cluster, seed, &wt);
      t->c = wt.table;
      t->k = wt.k;
      t->tables = wt.tables;
      t->outer = wt.outer;
      t->chans = wt.chans;
      t->inner = wt.inner;
      t->group = wt.group;
    } else {
      t->c = malloc(sizeof(float) * k);
      clusterrt_cluster_options co = weightsClusterOptions(&o->cluster, k, seed);
      st = t->c ? clusterrt_cluster_f32(vals, t->ci.elements, &co, t->c, &t->k,
                                        CLUSTERRT_IDX_U16, NULL)
                : CLUSTERRT_ERR_NOMEM;
      t->tables = t->outer = t->chans = t->group = 1;
      t->inner = t->ci.elements;
    }
    t->sparse = o->cluster.preserve_sparsity;
    size_t total = t->tables * t->k;
    t->wide = total > 256;
    if (st == CLUSTERRT_OK && total > 65536) {
      free(vals);
      ok = failf(w, loc, "cluster-train: '%s' has %zu tables of %zu centroids; training "
                 "holds at most 65536 centroids per weight (use a larger group-size or "
                 "fewer clusters)", t->name, t->tables, t->k);
      break;
    }
    if (st == CLUSTERRT_OK && grouped(t) && t->ci.elements > INT32_MAX) {
      free(vals);
      ok = failf(w, loc, "cluster-train: '%s' has more than 2^31 elements; grouped and "
                 "preserve-sparsity training take i32 sizes", t->name);
      break;
    }
    /* The initial assignment must exist: with preserve-sparsity a table
     * needs a zero slot for its zeros and a non-zero one for the rest. */
    void *idx = st == CLUSTERRT_OK ? malloc(t->ci.elements * (t->wide ? 2 : 1) + 1) : NULL;
    if (st == CLUSTERRT_OK)
      st = idx ? trainableAssign(t, vals, idx) : CLUSTERRT_ERR_NOMEM;
    free(idx);
    free(vals);
    if (st != CLUSTERRT_OK) {
      ok = failf(w, loc, "cluster-train: clustering '%s' failed: %s", t->name,
                 clusterrt_status_string(st));
      break;
    }
  }
  free(l.items);
  if (ok && o->mode != CLUSTERC_TRAIN_FLOAT && (o->cluster.num_only || o->cluster.num_layers)) {
    /* Selectors that match no weight (names[i]: weight index i). */
    const char **names = calloc(count ? (size_t)count : 1, sizeof *names);
    if (!names)
      return failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
    for (size_t i = 0; i < w->n; ++i)
      if (w->t[i].index >= 0)
        names[w->t[i].index] = w->t[i].name ? w->t[i].name : "";
    w->reported = !weightsCheckSelectors("cluster-train", &o->cluster, names, count, count,
                                         mlirOperationGetLocation(fn));
    ok = !w->reported;
    free(names);
  }
  return ok;
}

static void freeWork(Work *w) {
  for (size_t i = 0; i < w->n; ++i) {
    weightsRelease(&w->t[i].ci);
    free(w->t[i].name);
    free(w->t[i].c);
  }
  free(w->t);
}

static MlirType funcType(MlirOperation fn) {
  return mlirTypeAttrGetValue(mlirOperationGetAttributeByName(fn, irStr("function_type")));
}

static void setFuncType(MlirOperation fn, MlirBlock entry, MlirOperation ret) {
  MlirContext ctx = mlirOperationGetContext(fn);
  intptr_t na = mlirBlockGetNumArguments(entry), nr = mlirOperationGetNumOperands(ret);
  MlirType *ts = malloc(sizeof(MlirType) * (size_t)(na + nr + 1));
  if (!ts)
    return;
  for (intptr_t i = 0; i < na; ++i)
    ts[i] = mlirValueGetType(mlirBlockGetArgument(entry, i));
  for (intptr_t i = 0; i < nr; ++i)
    ts[na + i] = mlirValueGetType(mlirOperationGetOperand(ret, i));
  mlirOperationSetAttributeByName(fn, irStr("function_type"),
                                  mlirTypeAttrGet(mlirFunctionTypeGet(ctx, na, ts, nr, ts + na)));
  mlirOperationRemoveAttributeByName(fn, irStr("arg_attrs"));
  mlirOperationRemoveAttributeByName(fn, irStr("res_attrs"));
  free(ts);
}

static MlirType indexTensorType(MlirContext ctx, const Trainable *t) {
  return tensorType(t->ci.rank, t->ci.shape, mlirIntegerTypeGet(ctx, t->wide ? 16 : 8));
}

/* Wc = c[idx]: a gather generic over the weight's shape. */
static MlirValue buildGather(IrBuilder *b, MlirValue c, MlirValue idx, MlirType wt) {
  MlirContext ctx = b->ctx;
  MlirType et = mlirF32TypeGet(ctx);
  MlirType it = mlirShapedTypeGetElementType(mlirValueGetType(idx));
  intptr_t rank = mlirShapedTypeGetRank(wt);
  MlirType types[2] = {it, et};
  MlirBlock body = block(b, 2, types);
  IrBuilder bb = {ctx, {NULL}, body, b->loc};
  MlirValue ix = irCast(&bb, "arith.index_castui", mlirBlockGetArgument(body, 0),
                        mlirIndexTypeGet(ctx));
  MlirValue ops[2] = {c, ix};
  MlirValue v = irCreate1(&bb, "tensor.extract", 2, ops, et, 0, NULL);
  irCreate(&bb, "linalg.yield", 1, &v, 0, NULL, 0, NULL);
  MlirAttribute m = identity(ctx, rank), maps[2] = {m, m};
  char iters[IR_MAX_RANK + 1];
  return generic(b, 1, &idx, empty(b, wt), maps, allLoops(iters, 'p', rank), body);
}

/* select(x == 0, 0, g), elementwise over g's shape (x has it too): the
 * gradient of what preserve-sparsity keeps at zero. */
static MlirValue maskZeros(IrBuilder *b, MlirValue x, MlirValue g) {
  MlirContext ctx = b->ctx;
  MlirType gt = mlirValueGetType(g), f32 = mlirF32TypeGet(ctx);
  intptr_t rank = mlirShapedTypeGetRank(gt);
  MlirType ts[3] = {f32, f32, f32};
  MlirBlock body = block(b, 3, ts);
  IrBuilder bb = {ctx, {NULL}, body, b->loc};
  MlirValue zero = fconst(&bb, f32, 0.0);
  MlirValue cmp[2] = {mlirBlockGetArgument(body, 0), zero};
  MlirNamedAttribute oeq =
      irNamed(ctx, "predicate", mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), 1));
  MlirValue isZero = irCreate1(&bb, "arith.cmpf", 2, cmp, mlirIntegerTypeGet(ctx, 1), 1, &oeq);
  MlirValue sel[3] = {isZero, zero, mlirBlockGetArgument(body, 1)};
  MlirValue v = irCreate1(&bb, "arith.select", 3, sel, f32, 0, NULL);
  irCreate(&bb, "linalg.yield", 1, &v, 0, NULL, 0, NULL);
  MlirValue ins[2] = {x, g};
  MlirAttribute m = identity(ctx, rank), maps[3] = {m, m, m};
  char iters[IR_MAX_RANK + 1];
  return generic(b, 2, ins, empty(b, gt), maps, allLoops(iters, 'p', rank), body);
}

/* The centroid gradient with t's zero slots (preserve-sparsity: centroids
 * exactly 0, which get no gradient and so stay 0) cleared; dc unchanged
 * without preserve-sparsity. The mask is read from the centroids c at each
 * step, as the assign finds the zero slots, not from their initial values:
 * the step's code does not depend on the initial clustering (the JIT
 * cache serves every seed and init). */
static MlirValue maskZeroSlots(IrBuilder *b, const Trainable *t, MlirValue c, MlirValue dc) {
  return t->sparse ? maskZeros(b, c, dc) : dc;
}

/* Turns the trainable constants of the scratch copy into arguments, with
 * assign + gather for the clustered ones. Appends argument kinds to
 * argNames. Returns false on error. */
static bool parameterize(Work *w, MlirOperation fn, MlirOperation scratch,
                         MlirAttribute *argNames, intptr_t *nArgNames) {
  MlirContext ctx = w->ctx;
  const ClustercClusterTrainOptions *o = &w->p->o;
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0));
  WeightsList l;
  if (!weightsCollect(fn, &l) || l.n != w->n) {
    for (size_t i = 0; i < l.n; ++i)
      weightsRelease(&l.items[i]);
    free(l.items);
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: internal error "
                 "matching constants");
  }
  MlirType outT = mlirFunctionTypeGetResult(funcType(fn), 0);
  MlirLocation loc = mlirOperationGetLocation(fn);
  /* labels */
  MlirType labelsT = outT;
  if (o->loss == CLUSTERC_LOSS_SOFTMAX_CE) {
    int64_t bsz = mlirShapedTypeGetDimSize(outT, 0);
    labelsT = tensor1(bsz, mlirIntegerTypeGet(ctx, 32));
  }
  mlirBlockAddArgument(entry, labelsT, loc);
  argNames[(*nArgNames)++] = mlirStringAttrGet(ctx, irStr("labels:labels"));

  IrBuilder b = {ctx, mlirBlockGetFirstOperation(entry), {NULL}, loc};
  bool ste = o->mode == CLUSTERC_TRAIN_STE;
  MlirValue *wArg = calloc(w->n + 1, sizeof *wArg);
  if (!wArg)
    return failf(w, loc, "cluster-train: out of memory");
  char nameBuf[512];
  /* W (or idx), then c, then p: three passes keep the argument order. */
  for (int pass = 0; pass < 3; ++pass)
    for (size_t i = 0; i < w->n; ++i) {
      Trainable *t = &w->t[i];
      if ((pass < 2) != (t->kind == K_CLUSTERED) || t->kind == K_NONE)
        continue;
      MlirType ty;
      const char *kind;
      if (pass == 0) {
        ty = ste ? t->ci.type : indexTensorType(ctx, t);
        kind = ste ? "weight" : "indices";
      } else if (pass == 1) {
        ty = tensor1((int64_t)(t->tables * t->k), mlirF32TypeGet(ctx));
        kind = "centroids";
      } else {
        ty = t->ci.type;
        kind = "param";
      }
      MlirValue a = mlirBlockAddArgument(entry, ty, mlirOperationGetLocation(l.items[i].op));
      if (pass == 0)
        wArg[i] = a;
      snprintf(nameBuf, sizeof nameBuf, "%s:%s", kind, t->name);
      argNames[(*nArgNames)++] = mlirStringAttrGet(ctx, irStr(nameBuf));
      MlirValue repl = a;
      /* New ops go right before the constant they replace: it dominates
       * every use, and stays in place until it is destroyed below. */
      b.before = l.items[i].op;
      if (pass == 1) {
        /* idx = assign(W, c) (or the idx argument), Wc = c[idx]. */
        MlirValue idx = wArg[i];
        if (ste) {
          MlirType it = indexTensorType(ctx, t);
          MlirValue args[3] = {
              irFlatDyn(&b, wArg[i]),
              irCast(&b, "tensor.cast", a, dyn1(mlirF32TypeGet(ctx))),
              irFlatDyn(&b, empty(&b, it))};
          MlirValue out;
          if (grouped(t)) {
            MlirType i32 = mlirIntegerTypeGet(ctx, 32);
            size_t dims[5] = {t->outer, t->chans, t->inner, t->group, t->sparse};
            MlirValue gargs[8] = {args[0], args[1], args[2]};
            for (int d = 0; d < 5; ++d)
              gargs[3 + d] = irConstInt(&b, i32, (int64_t)dims[d]);
            out = rtCall(&b, t->wide ? &kAssignGroupedI16 : &kAssignGroupedI8, gargs);
          } else {
            out = rtCall(&b, t->wide ? &kAssignI16 : &kAssignI8, args);
          }
          idx = irUnflat(&b, out, it);
        }
        repl = buildGather(&b, a, idx, t->ci.type);
        MlirOperation g = mlirOpResultGetOwner(repl);
        mlirOperationSetAttributeByName(
            g, irStr("clusterc.decoded"),
            mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), (int64_t)i));
        if (ste)
          mlirOperationSetAttributeByName(
              mlirOpResultGetOwner(idx), irStr("clusterc.indices"),
              mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), (int64_t)i));
      }
      if (pass >= 1) {
        mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(l.items[i].op, 0), repl);
        mlirOperationDestroy(l.items[i].op);
      }
    }
  (void)scratch;
  free(wArg);
  for (size_t i = 0; i < l.n; ++i)
    weightsRelease(&l.items[i]);
  free(l.items);
  return true;
}

static MlirOperation findTagged(MlirOperation root, const char *attrName, int64_t value);

typedef struct FindTag {
  const char *name;
  int64_t value;
  MlirOperation found;
} FindTag;

static MlirWalkResult findTag(MlirOperation op, void *user) {
  FindTag *f = user;
  MlirAttribute a = mlirOperationGetAttributeByName(op, irStr(f->name));
  if (!mlirAttributeIsNull(a) && mlirIntegerAttrGetValueInt(a) == f->value) {
    f->found = op;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

static MlirOperation findTagged(MlirOperation root, const char *attrName, int64_t value) {
  FindTag f = {attrName, value, {NULL}};
  mlirOperationWalk(root, findTag, &f, MlirWalkPreOrder);
  return f.found;
}

/* A loss: from the logits z and the labels, the loss (a scalar tensor) and
 * its gradient dz, the seed of the backward pass. */
typedef bool (*LossFn)(Work *w, IrBuilder *b, MlirValue z, MlirValue labels,
                       MlirValue *loss, MlirValue *dz);

/* Mean squared error against labels t of z's type:
 *   loss = mean (z - t)^2, dz = 2 (z - t) / N. */
static bool lossMse(Work *w, IrBuilder *b, MlirValue z, MlirValue labels,
                    MlirValue *loss, MlirValue *dz) {
  MlirContext ctx = w->ctx;
  MlirType zt = mlirValueGetType(z), f32 = mlirF32TypeGet(ctx);
  MlirType scalarT = tensorType(0, NULL, f32);
  intptr_t rank = mlirShapedTypeGetRank(zt);
  double n = (double)numElements(zt);
  char par[IR_MAX_RANK + 1], red[IR_MAX_RANK + 1];
  allLoops(par, 'p', rank);
  allLoops(red, 'r', rank);
  MlirType ts[3] = {f32, f32, f32};
  /* loss */
  MlirBlock lb = block(b, 3, ts);
  IrBuilder lbb = {ctx, {NULL}, lb, b->loc};
  MlirValue d = irBinary(&lbb, "arith.subf", mlirBlockGetArgument(lb, 0), mlirBlockGetArgument(lb, 1));
  MlirValue sq = irBinary(&lbb, "arith.mulf", irBinary(&lbb, "arith.mulf", d, d), fconst(&lbb, f32, 1.0 / n));
  MlirValue acc = irBinary(&lbb, "arith.addf", mlirBlockGetArgument(lb, 2), sq);
  irCreate(&lbb, "linalg.yield", 1, &acc, 0, NULL, 0, NULL);
  MlirValue ins[2] = {z, labels};
  MlirAttribute m = identity(ctx, rank), scalarMap = mlirAffineMapAttrGet(mlirAffineMapGet(ctx, rank, 0, 0, NULL));
  MlirAttribute maps[3] = {m, m, scalarMap};
  *loss = generic(b, 2, ins, filled(b, scalarT, 0.0), maps, red, lb);
  /* dz */
  MlirBlock gb = block(b, 3, ts);
  IrBuilder gbb = {ctx, {NULL}, gb, b->loc};
  MlirValue d2 = irBinary(&gbb, "arith.subf", mlirBlockGetArgument(gb, 0), mlirBlockGetArgument(gb, 1));
  MlirValue g = irBinary(&gbb, "arith.mulf", d2, fconst(&gbb, f32, 2.0 / n));
  irCreate(&gbb, "linalg.yield", 1, &g, 0, NULL, 0, NULL);
  MlirAttribute gmaps[3] = {m, m, m};
  *dz = generic(b, 2, ins, empty(b, zt), gmaps, par, gb);
  return true;
}

/* Softmax cross-entropy over z [B, C] with i32 labels [B]:
 *   loss = mean_b (logsumexp(z_b) - z_b[label_b])
 *   dz   = (softmax(z) - onehot(labels)) / B */
static bool lossSoftmaxCe(Work *w, IrBuilder *b, MlirValue z, MlirValue labels,
                          MlirValue *loss, MlirValue *dz) {
  MlirContext ctx = w->ctx;
  MlirType zt = mlirValueGetType(z), f32 = mlirF32TypeGet(ctx);
  MlirType scalarT = tensorType(0, NULL, f32);
  if (mlirShapedTypeGetRank(zt) != 2)
    return failf(w, b->loc, "cluster-train: softmax-ce needs logits of rank 2 "
                 "[batch, classes]; use loss=mse for other outputs");
  int64_t B = mlirShapedTypeGetDimSize(zt, 0);
  MlirType rowT = tensor1(B, f32), i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType indexT = mlirIndexTypeGet(ctx);
  intptr_t bc[2] = {0, 1}, bOnly[1] = {0};
  MlirAttribute mBC = projMap(ctx, 2, 2, bc), mB = projMap(ctx, 2, 1, bOnly);
  /* m = max_c z */
  MlirType t2[2] = {f32, f32};
  MlirBlock mb = block(b, 2, t2);
  IrBuilder mbb = {ctx, {NULL}, mb, b->loc};
  MlirValue mx = irBinary(&mbb, "arith.maximumf", mlirBlockGetArgument(mb, 1), mlirBlockGetArgument(mb, 0));
  irCreate(&mbb, "linalg.yield", 1, &mx, 0, NULL, 0, NULL);
  MlirAttribute mmaps[2] = {mBC, mB};
  MlirValue m = generic(b, 1, &z, filled(b, rowT, -INFINITY), mmaps, "pr", mb);
  /* s = sum_c exp(z - m); picked = sum_c z * onehot */
  MlirType t4[4] = {f32, f32, i32, f32};
  MlirBlock sb = block(b, 4, t4);
  IrBuilder sbb = {ctx, {NULL}, sb, b->loc};
  MlirValue e = irCast(&sbb, "math.exp", irBinary(&sbb, "arith.subf", mlirBlockGetArgument(sb, 0), mlirBlockGetArgument(sb, 1)), f32);
  MlirValue s = irBinary(&sbb, "arith.addf", mlirBlockGetArgument(sb, 3), e);
  irCreate(&sbb, "linalg.yield", 1, &s, 0, NULL, 0, NULL);
  MlirValue sins[3] = {z, m, labels};
  MlirAttribute smaps[4] = {mBC, mB, mB, mB};
  MlirValue sum = generic(b, 3, sins, filled(b, rowT, 0.0), smaps, "pr", sb);
  /* onehot(b, c) = (labels[b] == c), via linalg.index 1 */
  MlirBlock pb = block(b, 4, t4);
  IrBuilder pbb = {ctx, {NULL}, pb, b->loc};
  MlirNamedAttribute dim1 = irNamed(ctx, "dim", mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), 1));
  MlirValue ci = irCreate1(&pbb, "linalg.index", 0, NULL, indexT, 1, &dim1);
  MlirValue li = irCast(&pbb, "arith.index_cast", mlirBlockGetArgument(pb, 2), indexT);
  MlirValue cmpOps[2] = {li, ci};
  MlirNamedAttribute eqp = irNamed(ctx, "predicate", mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), 0));
  MlirValue eq = irCreate1(&pbb, "arith.cmpi", 2, cmpOps, mlirIntegerTypeGet(ctx, 1), 1, &eqp);
  MlirValue selOps[3] = {eq, mlirBlockGetArgument(pb, 0), fconst(&pbb, f32, 0.0)};
  MlirValue pick = irCreate1(&pbb, "arith.select", 3, selOps, f32, 0, NULL);
  MlirValue pacc = irBinary(&pbb, "arith.addf", mlirBlockGetArgument(pb, 3), pick);
  irCreate(&pbb, "linalg.yield", 1, &pacc, 0, NULL, 0, NULL);
  MlirValue picked = generic(b, 3, sins, filled(b, rowT, 0.0), smaps, "pr", pb);
  /* lse = log(s) + m ; loss = sum_b (lse - picked) / B */
  MlirType t3[3] = {f32, f32, f32};
  MlirBlock lb = block(b, 3, t3);
  IrBuilder lbb = {ctx, {NULL}, lb, b->loc};
  MlirValue lse = irBinary(&lbb, "arith.addf", irCast(&lbb, "math.log", mlirBlockGetArgument(lb, 0), f32), mlirBlockGetArgument(lb, 1));
  irCreate(&lbb, "linalg.yield", 1, &lse, 0, NULL, 0, NULL);
  MlirValue lins[2] = {sum, m};
  MlirAttribute i1 = identity(ctx, 1), lmaps[3] = {i1, i1, i1};
  MlirValue lseT = generic(b, 2, lins, empty(b, rowT), lmaps, "p", lb);
  MlirBlock tb = block(b, 3, t3);
  IrBuilder tbb = {ctx, {NULL}, tb, b->loc};
  MlirValue diff = irBinary(&tbb, "arith.subf", mlirBlockGetArgument(tb, 0), mlirBlockGetArgument(tb, 1));
  MlirValue scaled = irBinary(&tbb, "arith.mulf", diff, fconst(&tbb, f32, 1.0 / (double)B));
  MlirValue tacc = irBinary(&tbb, "arith.addf", mlirBlockGetArgument(tb, 2), scaled);
  irCreate(&tbb, "linalg.yield", 1, &tacc, 0, NULL, 0, NULL);
  MlirValue tins[2] = {lseT, picked};
  MlirAttribute toScalar = mlirAffineMapAttrGet(mlirAffineMapGet(ctx, 1, 0, 0, NULL));
  MlirAttribute tmaps[3] = {i1, i1, toScalar};
  *loss = generic(b, 2, tins, filled(b, scalarT, 0.0), tmaps, "r", tb);
  /* dz = (exp(z - lse) - onehot) / B */
  MlirType t4g[4] = {f32, f32, i32, f32};
  MlirBlock gb = block(b, 4, t4g);
  IrBuilder gbb = {ctx, {NULL}, gb, b->loc};
  MlirValue sm = irCast(&gbb, "math.exp", irBinary(&gbb, "arith.subf", mlirBlockGetArgument(gb, 0), mlirBlockGetArgument(gb, 1)), f32);
  MlirValue gci = irCreate1(&gbb, "linalg.index", 0, NULL, indexT, 1, &dim1);
  MlirValue gli = irCast(&gbb, "arith.index_cast", mlirBlockGetArgument(gb, 2), indexT);
  MlirValue gcmp[2] = {gli, gci};
  MlirValue geq = irCreate1(&gbb, "arith.cmpi", 2, gcmp, mlirIntegerTypeGet(ctx, 1), 1, &eqp);
  MlirValue gsel[3] = {geq, fconst(&gbb, f32, 1.0), fconst(&gbb, f32, 0.0)};
  MlirValue oh = irCreate1(&gbb, "arith.select", 3, gsel, f32, 0, NULL);
  MlirValue gd = irBinary(&gbb, "arith.mulf", irBinary(&gbb, "arith.subf", sm, oh), fconst(&gbb, f32, 1.0 / (double)B));
  irCreate(&gbb, "linalg.yield", 1, &gd, 0, NULL, 0, NULL);
  MlirValue gins[3] = {z, lseT, labels};
  MlirAttribute gmaps[4] = {mBC, mB, mB, mBC};
  *dz = generic(b, 3, gins, empty(b, zt), gmaps, "pp", gb);
  return true;
}

/* The losses by ClustercLoss, the position of the `loss` option's choice
 * (options.c). */
static const LossFn kLosses[] = {
    [CLUSTERC_LOSS_SOFTMAX_CE] = lossSoftmaxCe,
    [CLUSTERC_LOSS_MSE] = lossMse,
};

/* Lowers the scratch module to what the autodiff understands. */
static bool prepare(Work *w, MlirModule scratch) {
  MlirPassManager pm = mlirPassManagerCreate(w->ctx);
  MlirOpPassManager fpm = mlirPassManagerGetNestedUnder(pm, irStr("func.func"));
  mlirOpPassManagerAddOwnedPass(fpm, mlirCreateConversionTosaToLinalgNamed());
  mlirOpPassManagerAddOwnedPass(fpm, mlirCreateConversionTosaToLinalg());
  mlirOpPassManagerAddOwnedPass(fpm, clustercCreateTosaToArithPass());
  mlirOpPassManagerAddOwnedPass(fpm, clustercCreateTosaToTensorPass());
  mlirOpPassManagerAddOwnedPass(fpm, mlirCreateLinalgConvertElementwiseToLinalgPass());
  mlirOpPassManagerAddOwnedPass(fpm, mlirCreateLinalgLinalgGeneralizeNamedOpsPass());
  MlirLogicalResult r = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(scratch));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(r))
    return failf(w, mlirOperationGetLocation(mlirModuleGetOperation(scratch)),
                 "cluster-train: lowering the model to linalg failed");
  return true;
}

/* The training step, built in the scratch module. */
static bool buildStep(Work *w, MlirOperation module, MlirModule scratch,
                      MlirOperation *stepOut, MlirOperation *evalOut) {
  MlirContext ctx = w->ctx;
  const ClustercClusterTrainOptions *o = &w->p->o;
  MlirOperation sm = mlirModuleGetOperation(scratch);
  MlirBlock sbody = mlirModuleGetBody(scratch);
  MlirOperation fn = mlirBlockGetFirstOperation(sbody);
  while (!mlirOperationIsNull(fn) && !irOpIs(fn, "func.func"))
    fn = mlirOperationGetNextInBlock(fn);
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0));
  MlirType ft = funcType(fn);
  if (mlirFunctionTypeGetNumResults(ft) != 1)
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: the model must "
                 "return one tensor (its logits); it returns %d values",
                 (int)mlirFunctionTypeGetNumResults(ft));
  intptr_t nIn = mlirFunctionTypeGetNumInputs(ft);
  size_t cap = 4 + 4 * (w->n + (size_t)nIn);
  MlirAttribute *argNames = calloc(cap, sizeof *argNames);
  MlirAttribute *resNames = calloc(cap, sizeof *resNames);
  MlirValue *params = calloc(w->n + 1, sizeof *params);
  MlirValue *grads = calloc(w->n + 1, sizeof *grads);
  MlirValue *rets = calloc(cap, sizeof *rets);
  MlirAttribute *layouts = calloc(w->n + 1, sizeof *layouts);
  intptr_t nLayouts = 0;
  bool ok = argNames && resNames && params && grads && rets && layouts;
  if (!ok) {
    failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
    goto out;
  }
  intptr_t nArgNames = 0, nRes = 0;
  char buf[512];
  for (intptr_t i = 0; i < nIn; ++i) {
    snprintf(buf, sizeof buf, "input:arg%d", (int)i);
    argNames[nArgNames++] = mlirStringAttrGet(ctx, irStr(buf));
  }
  rtDeclare(sm, &kAssignI8);
  rtDeclare(sm, &kAssignI16);
  rtDeclare(sm, &kAccumI8);
  rtDeclare(sm, &kAccumI16);
  rtDeclare(sm, &kAssignGroupedI8);
  rtDeclare(sm, &kAssignGroupedI16);
  if (!(ok = parameterize(w, fn, sm, argNames, &nArgNames)))
    goto out;
  /* The new arguments: keep the function verifying for the passes. */
  setFuncType(fn, entry, mlirBlockGetTerminator(entry));
  if (!(ok = prepare(w, scratch)))
    goto out;

  /* The evaluation function: the parameterized model as it stands now
   * (assign + gather + forward), without the labels. */
  {
    MlirOperation ev = mlirOperationClone(fn);
    mlirBlockInsertOwnedOperationAfter(sbody, fn, ev);
    MlirBlock eentry = mlirRegionGetFirstBlock(mlirOperationGetRegion(ev, 0));
    mlirBlockEraseArgument(eentry, (unsigned)nIn);
    setFuncType(ev, eentry, mlirBlockGetTerminator(eentry));
    MlirStringRef base = symName(fn);
    snprintf(buf, sizeof buf, "%.*s_train_eval", (int)base.length, base.data);
    mlirOperationSetAttributeByName(ev, irStr("sym_name"), mlirStringAttrGet(ctx, irStr(buf)));
    mlirOperationRemoveAttributeByName(ev, irStr("sym_visibility"));
    mlirOperationSetAttributeByName(ev, irStr("llvm.emit_c_interface"), mlirUnitAttrGet(ctx));
    MlirAttribute *evArgs = malloc(sizeof *evArgs * (size_t)(nArgNames ? nArgNames : 1));
    if (!evArgs) {
      ok = failf(w, mlirOperationGetLocation(fn), "cluster-train: out of memory");
      goto out;
    }
    intptr_t ne = 0;
    for (intptr_t i = 0; i < nArgNames; ++i)
      if (i != nIn)
        evArgs[ne++] = argNames[i];
    mlirOperationSetAttributeByName(ev, irStr("clusterc.arguments"),
                                    mlirArrayAttrGet(ctx, ne, evArgs));
    free(evArgs);
    MlirAttribute logits = mlirStringAttrGet(ctx, irStr("logits:logits"));
    mlirOperationSetAttributeByName(ev, irStr("clusterc.results"),
                                    mlirArrayAttrGet(ctx, 1, &logits));
    *evalOut = ev;
  }

  MlirOperation ret = mlirBlockGetTerminator(entry);
  MlirValue z = mlirOperationGetOperand(ret, 0);
  MlirValue labels = mlirBlockGetArgument(entry, nIn);
  IrBuilder b = {ctx, ret, {NULL}, mlirOperationGetLocation(ret)};
  MlirValue loss, dz;
  if (!(ok = kLosses[o->loss](w, &b, z, labels, &loss, &dz)))
    goto out;

  /* AD parameters: Wc of each clustered weight, then the params. */
  size_t np = 0;
  intptr_t argAt = nIn + 1 + (intptr_t)w->nClustered * 2;
  for (size_t i = 0; i < w->n; ++i)
    if (w->t[i].kind == K_CLUSTERED)
      params[np++] = mlirOperationGetResult(findTagged(fn, "clusterc.decoded", (int64_t)i), 0);
  for (size_t i = 0; i < w->n; ++i)
    if (w->t[i].kind == K_PARAM)
      params[np++] = mlirBlockGetArgument(entry, argAt++);
  AdError aerr;
  if (!adReverse(entry, ret, z, dz, params, np, grads, &aerr)) {
    ok = failf(w, mlirLocationIsNull(aerr.loc) ? mlirOperationGetLocation(fn) : aerr.loc,
               "cluster-train: %s", aerr.message);
    goto out;
  }
  /* preserve-sparsity: zero weights get no gradient (so they stay 0, and
   * add nothing to their zero slot's centroid). */
  if (o->mode == CLUSTERC_TRAIN_STE)
    for (size_t i = 0, j = 0; i < w->n; ++i)
      if (w->t[i].kind == K_CLUSTERED) {
        if (w->t[i].sparse)
          grads[j] = maskZeros(&b, mlirBlockGetArgument(entry, nIn + 1 + (intptr_t)j), grads[j]);
        ++j;
      }
  /* Results. */
  rets[nRes] = loss;
  resNames[nRes++] = mlirStringAttrGet(ctx, irStr("loss:loss"));
  size_t gi = 0;
  bool ste = o->mode == CLUSTERC_TRAIN_STE;
  if (ste)
    for (size_t i = 0; i < w->n; ++i)
      if (w->t[i].kind == K_CLUSTERED) {
        rets[nRes] = grads[gi++];
        snprintf(buf, sizeof buf, "grad_weight:%s", w->t[i].name);
        resNames[nRes++] = mlirStringAttrGet(ctx, irStr(buf));
      }
  gi = 0;
  intptr_t idxArg = nIn + 1;
  for (size_t i = 0; i < w->n; ++i) {
    Trainable *t = &w->t[i];
    if (t->kind != K_CLUSTERED)
      continue;
    MlirValue idx = ste ? mlirOperationGetResult(findTagged(fn, "clusterc.indices", (int64_t)i), 0)
                        : mlirBlockGetArgument(entry, idxArg);
    idxArg++;
    MlirType i32 = mlirIntegerTypeGet(ctx, 32);
    MlirValue mode = irConstInt(&b, i32, o->reduce);
    MlirType ct = tensor1((int64_t)(t->tables * t->k), mlirF32TypeGet(ctx));
    MlirValue args[4] = {
        irFlatDyn(&b, grads[gi++]), irFlatDyn(&b, idx), mode,
        irCast(&b, "tensor.cast", empty(&b, ct), dyn1(mlirF32TypeGet(ctx)))};
    MlirValue dc = rtCall(&b, t->wide ? &kAccumI16 : &kAccumI8, args);
    MlirValue c = mlirBlockGetArgument(entry, idxArg - 1 + (intptr_t)w->nClustered);
    rets[nRes] = maskZeroSlots(&b, t, c, irCast(&b, "tensor.cast", dc, ct));
    /* The host's view of the tables (trainsig.c): tables, k, outer,
     * channels, inner, group, sparse. */
    int64_t lay[7] = {(int64_t)t->tables, (int64_t)t->k, (int64_t)t->outer,
                      (int64_t)t->chans, (int64_t)t->inner, (int64_t)t->group, t->sparse};
    layouts[nLayouts++] = mlirDenseI64ArrayGet(ctx, 7, lay);
    snprintf(buf, sizeof buf, "grad_centroids:%s", t->name);
    resNames[nRes++] = mlirStringAttrGet(ctx, irStr(buf));
  }
  for (size_t i = 0; i < w->n; ++i)
    if (w->t[i].kind == K_PARAM) {
      rets[nRes] = grads[gi++];
      snprintf(buf, sizeof buf, "grad_param:%s", w->t[i].name);
      resNames[nRes++] = mlirStringAttrGet(ctx, irStr(buf));
    }
  if (ste)
    for (size_t i = 0; i < w->n; ++i)
      if (w->t[i].kind == K_CLUSTERED) {
        rets[nRes] = mlirOperationGetResult(findTagged(fn, "clusterc.indices", (int64_t)i), 0);
        snprintf(buf, sizeof buf, "indices:%s", w->t[i].name);
        resNames[nRes++] = mlirStringAttrGet(ctx, irStr(buf));
      }
  MlirOperation newRet = irCreate(&b, "func.return", nRes, rets, 0, NULL, 0, NULL);
  mlirOperationDestroy(ret);
  setFuncType(fn, entry, newRet);
  MlirStringRef base = symName(fn);
  snprintf(buf, sizeof buf, "%.*s_train_step", (int)base.length, base.data);
  mlirOperationSetAttributeByName(fn, irStr("sym_name"), mlirStringAttrGet(ctx, irStr(buf)));
  mlirOperationRemoveAttributeByName(fn, irStr("sym_visibility"));
  mlirOperationSetAttributeByName(fn, irStr("llvm.emit_c_interface"), mlirUnitAttrGet(ctx));
  mlirOperationSetAttributeByName(fn, irStr("clusterc.arguments"),
                                  mlirArrayAttrGet(ctx, nArgNames, argNames));
  mlirOperationSetAttributeByName(fn, irStr("clusterc.results"),
                                  mlirArrayAttrGet(ctx, nRes, resNames));
  mlirOperationSetAttributeByName(fn, irStr("clusterc.layouts"),
                                  mlirArrayAttrGet(ctx, nLayouts, layouts));
  /* The frozen parameters, by name, for the host's messages (reuses
   * argNames: its entries are attached above). */
  intptr_t nFrozen = 0;
  for (size_t i = 0; i < w->n; ++i)
    if (w->t[i].frozen && nFrozen < (intptr_t)cap)
      argNames[nFrozen++] = mlirStringAttrGet(ctx, irStr(w->t[i].name));
  if (nFrozen)
    mlirOperationSetAttributeByName(fn, irStr("clusterc.frozen"),
                                    mlirArrayAttrGet(ctx, nFrozen, argNames));
  (void)module;
  *stepOut = fn;
out:
  free(argNames);
  free(resNames);
  free(params);
  free(grads);
  free(rets);
  free(layouts);
  return ok;
}

/* @f_train_init() -> (W or idx..., c..., p...): the starting values. */
static bool buildInit(Work *w, MlirOperation module, MlirOperation fn) {
  MlirContext ctx = w->ctx;
  bool ste = w->p->o.mode == CLUSTERC_TRAIN_STE;
  MlirLocation loc = mlirOperationGetLocation(fn);
  MlirBlock body = mlirBlockCreate(0, NULL, NULL);
  IrBuilder b = {ctx, {NULL}, body, loc};
  MlirValue *rets = calloc(3 * w->n + 1, sizeof *rets);
  if (!rets) {
    mlirBlockDestroy(body);
    return failf(w, loc, "cluster-train: out of memory");
  }
  intptr_t n = 0;
  bool ok = true;
  for (int pass = 0; pass < 3 && ok; ++pass)
    for (size_t i = 0; i < w->n && ok; ++i) {
      Trainable *t = &w->t[i];
      if ((pass < 2) != (t->kind == K_CLUSTERED) || t->kind == K_NONE)
        continue;
      MlirAttribute v;
      if (pass == 1) {
        size_t total = t->tables * t->k;
        v = mlirDenseElementsAttrFloatGet(tensor1((int64_t)total, mlirF32TypeGet(ctx)),
                                          (intptr_t)total, t->c);
      } else if (pass == 0 && !ste) {
        /* centroids-only: the fixed assignment to the initial centroids. */
        const char *why;
        float *vals = weightsReadF32(&t->ci, &why);
        size_t bytes = t->ci.elements * (t->wide ? 2 : 1);
        void *idx = malloc(bytes ? bytes : 1);
        ok = vals && idx && trainableAssign(t, vals, idx) == CLUSTERRT_OK;
        if (ok)
          v = mlirDenseElementsAttrRawBufferGet(indexTensorType(ctx, t), bytes, idx);
        free(vals);
        free(idx);
        if (!ok)
          failf(w, loc, "cluster-train: assigning '%s' failed", t->name);
      } else {
        v = t->ci.value;
      }
      if (!ok)
        break;
      MlirNamedAttribute a = irNamed(ctx, "value", v);
      rets[n++] = irCreate1(&b, "arith.constant", 0, NULL, mlirAttributeGetType(v), 1, &a);
    }
  if (!ok) {
    free(rets);
    mlirBlockDestroy(body);
    return false;
  }
  MlirOperation ret = irCreate(&b, "func.return", n, rets, 0, NULL, 0, NULL);
  MlirType *rt = malloc(sizeof(MlirType) * (size_t)(n + 1));
  for (intptr_t i = 0; rt && i < n; ++i)
    rt[i] = mlirValueGetType(rets[i]);
  MlirStringRef base = symName(fn);
  char name[300];
  snprintf(name, sizeof name, "%.*s_train_init", (int)base.length, base.data);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  MlirNamedAttribute attrs[3] = {
      irNamed(ctx, "sym_name", mlirStringAttrGet(ctx, irStr(name))),
      irNamed(ctx, "function_type", mlirTypeAttrGet(mlirFunctionTypeGet(ctx, 0, NULL, n, rt))),
      irNamed(ctx, "llvm.emit_c_interface", mlirUnitAttrGet(ctx))};
  MlirOperationState s = mlirOperationStateGet(irStr("func.func"), loc);
  mlirOperationStateAddAttributes(&s, 3, attrs);
  mlirOperationStateAddOwnedRegions(&s, 1, &region);
  MlirBlock mbody = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  mlirBlockInsertOwnedOperationAfter(mbody, fn, mlirOperationCreate(&s));
  (void)ret;
  free(rt);
  free(rets);
  return true;
}

typedef struct CallFind {
  const char *callee;
  bool found;
} CallFind;

static MlirWalkResult findCall(MlirOperation op, void *user) {
  CallFind *cf = user;
  if (!irOpIs(op, "func.call"))
    return MlirWalkResultAdvance;
  MlirAttribute c = mlirOperationGetAttributeByName(op, irStr("callee"));
  if (mlirStringRefEqual(mlirSymbolRefAttrGetRootReference(c), irStr(cf->callee))) {
    cf->found = true;
    return MlirWalkResultInterrupt;
  }
  return MlirWalkResultAdvance;
}

/* Whether fn calls `callee`. */
static bool calls(MlirOperation fn, const char *callee) {
  CallFind cf = {callee, false};
  mlirOperationWalk(fn, findCall, &cf, MlirWalkPreOrder);
  return cf.found;
}

/* The training functions take and return statically shaped tensors. */
static bool checkSignature(Work *w, MlirOperation fn) {
  MlirType ft = funcType(fn);
  intptr_t na = mlirFunctionTypeGetNumInputs(ft), nr = mlirFunctionTypeGetNumResults(ft);
  if (!mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0)).ptr)
    return failf(w, mlirOperationGetLocation(fn), "cluster-train: the model has no body");
  for (intptr_t i = 0; i < na + nr; ++i) {
    MlirType t = i < na ? mlirFunctionTypeGetInput(ft, i) : mlirFunctionTypeGetResult(ft, i - na);
    const char *what = i < na ? "argument" : "result";
    int pos = (int)(i < na ? i : i - na);
    if (!mlirTypeIsARankedTensor(t) || !mlirShapedTypeHasStaticShape(t) ||
        !mlirTypeIsAF32(mlirShapedTypeGetElementType(t))) {
      char buf[128];
      bool half = mlirTypeIsARankedTensor(t) &&
                  (mlirTypeIsAF16(mlirShapedTypeGetElementType(t)) ||
                   mlirTypeIsABF16(mlirShapedTypeGetElementType(t)));
      return failf(w, mlirOperationGetLocation(fn), "cluster-train: the model's %s %d "
                   "has type %s; training needs statically shaped f32 tensors%s",
                   what, pos, irTypeName(t, buf, sizeof buf),
                   half ? " (clusterc train trains f16/bf16 models on f32 master copies)" : "");
    }
    if (mlirShapedTypeGetRank(t) > IR_MAX_RANK)
      return failf(w, mlirOperationGetLocation(fn), "cluster-train: the model's %s %d "
                   "has rank %d; training supports tensors of rank up to %d", what,
                   pos, (int)mlirShapedTypeGetRank(t), IR_MAX_RANK);
  }
  return true;
}

static void ctRun(MlirOperation module, MlirExternalPass pass, void *user) {
  Work w = {.p = user, .ctx = mlirOperationGetContext(module)};
  bool ok = false;
  MlirModule scratch = {NULL};
  MlirOperation fn = findFunction(module, w.p->o.function, &w);
  if (mlirOperationIsNull(fn) || !checkSignature(&w, fn))
    goto out;
  if (paletteWanted(&w.p->o.cluster)) {
    failf(&w, mlirOperationGetLocation(module), "cluster-train: table-type, "
          "per-channel-scale and cluster-dim are not trained (yet); train with "
          "float scalar palettes, then cluster the trained model with them");
    goto out;
  }
  {
    MlirSymbolTable st = mlirSymbolTableCreate(module);
    MlirOperation init = mlirSymbolTableLookup(st, irStr(CLUSTERC_DECODE_INIT));
    mlirSymbolTableDestroy(st);
    if (!mlirOperationIsNull(init)) {
      failf(&w, mlirOperationGetLocation(init), "cluster-train: this model decodes its "
            "weights once at load time (decode=runtime) into buffers the model reads; "
            "train its float or decode=generic form");
      goto out;
    }
  }
  if (!selectTrainables(&w, fn))
    goto out;
  scratch = mlirModuleCreateEmpty(mlirOperationGetLocation(fn));
  mlirBlockAppendOwnedOperation(mlirModuleGetBody(scratch), mlirOperationClone(fn));
  MlirOperation step = {NULL}, eval = {NULL};
  if (!buildStep(&w, module, scratch, &step, &eval))
    goto out;
  /* Move the step into the module, after the model, with the callees it
   * uses. */
  static const RtFn *const rtFns[] = {&kAssignI8,        &kAssignI16,       &kAccumI8,
                                      &kAccumI16,        &kAssignGroupedI8, &kAssignGroupedI16};
  for (size_t i = 0; i < sizeof rtFns / sizeof rtFns[0]; ++i)
    if (calls(step, rtFns[i]->name))
      rtDeclare(module, rtFns[i]);
  MlirBlock mbody = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirOperation copy = mlirOperationClone(step);
  mlirBlockInsertOwnedOperationAfter(mbody, fn, copy);
  mlirBlockInsertOwnedOperationAfter(mbody, copy, mlirOperationClone(eval));
  ok = buildInit(&w, module, fn);
out:
  if (!ok) {
    if (!w.reported)
      mlirEmitError(mlirLocationIsNull(w.errLoc) ? mlirOperationGetLocation(module) : w.errLoc,
                    w.err[0] ? w.err : "cluster-train failed");
    mlirExternalPassSignalFailure(pass);
  }
  if (!mlirModuleIsNull(scratch))
    mlirModuleDestroy(scratch);
  freeWork(&w);
}

static void ctConstruct(void *user) { (void)user; }

static void ctDestruct(void *user) {
  CtPass *p = user;
  clustercClusterTrainOptionsFree(&p->o);
  free(p);
}

static void *ctClone(void *user) {
  const CtPass *src = user;
  CtPass *p = malloc(sizeof *p);
  if (p && optClusterTrainCopy(&p->o, &src->o)) {
    free(p);
    p = NULL;
  }
  return p;
}

static MlirTypeIDAllocator allocator;
static MlirTypeID ctTypeId;
static void initTypeId(void) {
  allocator = mlirTypeIDAllocatorCreate();
  ctTypeId = mlirTypeIDAllocatorAllocateTypeID(allocator);
}

MlirPass clustercCreateClusterTrainPass(const ClustercClusterTrainOptions *o) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, initTypeId);
  CtPass *p = malloc(sizeof *p);
  if (!p)
    return (MlirPass){NULL};
  if (optClusterTrainCopy(&p->o, o)) {
    free(p);
    return (MlirPass){NULL};
  }
  /* scf: the scatter-add of a tensor.extract's gradient is a loop nest. */
  MlirDialectHandle deps[6] = {
      mlirGetDialectHandle__arith__(), mlirGetDialectHandle__linalg__(),
      mlirGetDialectHandle__tensor__(), mlirGetDialectHandle__func__(),
      mlirGetDialectHandle__math__(), mlirGetDialectHandle__scf__()};
  MlirExternalPassCallbacks cb = {ctConstruct, ctDestruct, NULL, ctClone, ctRun};
  return mlirCreateExternalPass(
      ctTypeId, irStr("ClusterTrain"), irStr("cluster-train"),
      irStr("Generate the clustering-aware (STE) training step of a model by "
            "reverse-mode differentiation"),
      irStr("builtin.module"), 6, deps, cb, p);
}
