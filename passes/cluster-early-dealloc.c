/*
 * cluster-early-dealloc: each memref.dealloc of a buffer moved up to just
 * after the buffer's last use, so that it is freed as soon as nothing
 * reads it.
 *
 * Why: MLIR's ownership-based buffer deallocation (buffer-deallocation-
 * pipeline) puts every dealloc of a block at the block's end, before its
 * terminator. A training step is one block: every activation, gradient and
 * padded copy the step allocates then lives until the step returns.
 * ResNet-18's batch-64 step held 1.10 GB of buffers at its end where
 * 0.56 GB are live at any one time (docs/PERFORMANCE.md "Peak memory of a
 * training run (issue 15)").
 *
 *   %a = memref.alloc() : memref<64xf32>          %a = memref.alloc() : ...
 *   linalg.generic ins(%x) outs(%a)                linalg.generic ins(%x) outs(%a)
 *   linalg.generic ins(%a) outs(%b)          ==>   linalg.generic ins(%a) outs(%b)
 *   ... (ops that do not use %a) ...               memref.dealloc %a
 *   memref.dealloc %a                              ...
 *   return
 *
 * A dealloc moves when its operand is a memref.alloc of the same block and
 * every use of the buffer is understood: uses through views (subview,
 * collapse_shape, expand_shape, cast, reinterpret_cast, view, transpose,
 * memory_space_cast) count as uses of the buffer; a use nested in a
 * region (a loop body) counts at the op of the block that holds it. The
 * dealloc then goes after the last op of the block that uses the buffer or
 * one of its views. It stays where it is when a use lets the buffer
 * escape where this cannot follow it: a terminator (yield, return, branch)
 * takes it or a view of it, an op that is not a view returns a memref
 * made from it, or an op turns it into a pointer
 * (extract_aligned_pointer_as_index, extract_strided_metadata, casts to
 * LLVM types).
 *
 * Assumption, as the ownership-based deallocation's: a function that is
 * called with a buffer (libclusterrt's GEMM) does not keep it after it
 * returns. Nothing is computed differently: ops and their order are
 * unchanged, only frees happen earlier.
 *
 * Option `min-bytes=N` (default 0): deallocs of buffers of fewer bytes (of
 * static shape) stay at the block's end.
 */
#include "clusterc/passes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Func.h"

static bool opIn(MlirOperation op, const char *const *names) {
  for (; *names; ++names)
    if (irOpIs(op, *names))
      return true;
  return false;
}

static bool opHasPrefix(MlirOperation op, const char *prefix) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  size_t n = strlen(prefix);
  return s.length >= n && !memcmp(s.data, prefix, n);
}

/* Ops whose memref results alias their (first) memref operand. */
static const char *const viewOps[] = {
    "memref.subview",        "memref.collapse_shape", "memref.expand_shape",
    "memref.cast",           "memref.reinterpret_cast", "memref.view",
    "memref.transpose",      "memref.memory_space_cast", NULL};

/* Ops that make a pointer (or a memref not followed here) of a buffer. */
static const char *const escapeOps[] = {
    "memref.extract_aligned_pointer_as_index", "memref.extract_strided_metadata",
    "builtin.unrealized_conversion_cast", NULL};

static bool isMemRef(MlirType t) {
  return mlirTypeIsAMemRef(t) || mlirTypeIsAUnrankedMemRef(t);
}

/* A growable array; `ok` false once an allocation failed. */
typedef struct Ops {
  MlirOperation *v;
  size_t n, cap;
  bool ok;
} Ops;

static void opsPush(Ops *a, MlirOperation op) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 16;
    MlirOperation *p = realloc(a->v, sizeof *p * cap);
    if (!p) {
      a->ok = false;
      return;
    }
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = op;
}

static bool opsHas(const Ops *a, MlirOperation op) {
  for (size_t i = 0; i < a->n; ++i)
    if (mlirOperationEqual(a->v[i], op))
      return true;
  return false;
}

typedef struct Values {
  MlirValue *v;
  size_t n, cap;
} Values;

static bool valuesPush(Values *a, MlirValue x) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 8;
    MlirValue *p = realloc(a->v, sizeof *p * cap);
    if (!p)
      return false;
    a->v = p;
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return true;
}

/* Bytes of a memref of static shape; INT64_MAX when not static. */
static int64_t bytesOf(MlirType t) {
  if (!mlirTypeIsAMemRef(t) || !mlirShapedTypeHasStaticShape(t))
    return INT64_MAX;
  MlirType e = mlirShapedTypeGetElementType(t);
  int64_t bits = mlirTypeIsAInteger(e) ? (int64_t)mlirIntegerTypeGetWidth(e)
                 : mlirTypeIsAFloat(e) ? (int64_t)mlirFloatTypeGetWidth(e)
                                       : 64;
  int64_t n = 1;
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i) {
    int64_t d = mlirShapedTypeGetDimSize(t, i);
    if (d > 0 && n > INT64_MAX / d)
      return INT64_MAX;
    n *= d;
  }
  return n > INT64_MAX / 8 ? INT64_MAX : (n * bits + 7) / 8;
}

/* The op of block b that is or holds op; null if none. */
static MlirOperation ancestorIn(MlirBlock b, MlirOperation op) {
  while (!mlirOperationIsNull(op) && !mlirBlockEqual(mlirOperationGetBlock(op), b))
    op = mlirOperationGetParentOperation(op);
  return op;
}

typedef enum { MOVED, KEPT, NO_MEMORY } Outcome;

/* Moves dealloc (of alloc's buffer, both in block b) after the last op of b
 * that uses the buffer, when every use is understood. */
static Outcome moveEarly(MlirBlock b, MlirOperation alloc, MlirOperation dealloc) {
  Values work = {NULL, 0, 0};
  Ops anchors = {NULL, 0, 0, true};
  Outcome out = KEPT;
  bool known = valuesPush(&work, mlirOperationGetResult(alloc, 0));
  if (!known)
    out = NO_MEMORY;
  for (size_t w = 0; known && w < work.n; ++w) {
    for (MlirOpOperand u = mlirValueGetFirstUse(work.v[w]); known && !mlirOpOperandIsNull(u);
         u = mlirOpOperandGetNextUse(u)) {
      MlirOperation user = mlirOpOperandGetOwner(u);
      if (mlirOperationEqual(user, dealloc))
        continue;
      bool view = opIn(user, viewOps);
      /* The last op of its block: a terminator (yield, return, branch). */
      if (mlirOperationIsNull(mlirOperationGetNextInBlock(user)) || opIn(user, escapeOps) ||
          opHasPrefix(user, "llvm.")) {
        known = false;
        break;
      }
      for (intptr_t r = 0; r < mlirOperationGetNumResults(user); ++r) {
        MlirValue res = mlirOperationGetResult(user, r);
        if (!isMemRef(mlirValueGetType(res)))
          continue;
        if (!view) {
          known = false; /* a memref made from the buffer by an op not followed */
          break;
        }
        if (!valuesPush(&work, res)) {
          known = false;
          out = NO_MEMORY;
        }
      }
      MlirOperation at = ancestorIn(b, user);
      if (mlirOperationIsNull(at)) {
        known = false; /* a use in another block */
        break;
      }
      if (!opsHas(&anchors, at))
        opsPush(&anchors, at);
      if (!anchors.ok) {
        known = false;
        out = NO_MEMORY;
      }
    }
  }
  if (known) {
    /* The anchors are distinct ops between the alloc and the dealloc: the
     * walk stops at the last one found (a temporary's is a few ops on). */
    MlirOperation last = alloc, op = mlirOperationGetNextInBlock(alloc);
    size_t found = 0;
    for (; found < anchors.n && !mlirOperationIsNull(op) && !mlirOperationEqual(op, dealloc);
         op = mlirOperationGetNextInBlock(op))
      if (opsHas(&anchors, op)) {
        last = op;
        ++found;
      }
    /* Anchors not all before the dealloc (a use after the free) cannot be
     * in valid input: the dealloc is then left alone. */
    if (found == anchors.n && !mlirOperationIsNull(op) &&
        !mlirOperationEqual(mlirOperationGetNextInBlock(last), dealloc)) {
      mlirOperationMoveAfter(dealloc, last);
      out = MOVED;
    }
  }
  free(work.v);
  free(anchors.v);
  return out;
}

static MlirWalkResult collectDeallocs(MlirOperation op, void *user) {
  if (irOpIs(op, "memref.dealloc"))
    opsPush(user, op);
  return MlirWalkResultAdvance;
}

/* False after a diagnostic (out of memory). */
static bool earlyDealloc(MlirOperation module, const ClustercClusterEarlyDeallocOptions *o) {
  Ops deallocs = {NULL, 0, 0, true};
  mlirOperationWalk(module, collectDeallocs, &deallocs, MlirWalkPostOrder);
  bool ok = deallocs.ok;
  for (size_t i = 0; ok && i < deallocs.n; ++i) {
    MlirOperation d = deallocs.v[i];
    if (mlirOperationGetNumOperands(d) != 1)
      continue;
    MlirValue m = mlirOperationGetOperand(d, 0);
    if (!mlirValueIsAOpResult(m))
      continue;
    MlirOperation alloc = mlirOpResultGetOwner(m);
    MlirBlock b = mlirOperationGetBlock(d);
    if (!irOpIs(alloc, "memref.alloc") || !mlirBlockEqual(mlirOperationGetBlock(alloc), b) ||
        bytesOf(mlirValueGetType(m)) < o->minBytes)
      continue;
    ok = moveEarly(b, alloc, d) != NO_MEMORY;
  }
  free(deallocs.v);
  if (!ok)
    mlirEmitError(mlirOperationGetLocation(module), "cluster-early-dealloc: out of memory");
  return ok;
}

/* ---- The pass ------------------------------------------------------------- */

void clustercClusterEarlyDeallocOptionsInit(ClustercClusterEarlyDeallocOptions *o) {
  o->minBytes = 0;
}

void clustercClusterEarlyDeallocOptionsFree(ClustercClusterEarlyDeallocOptions *o) {
  (void)o;
}

/* "min-bytes=N". */
int clustercClusterEarlyDeallocOptionsParse(ClustercClusterEarlyDeallocOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t errSize) {
  return irParseCountOption("cluster-early-dealloc", "min-bytes", text, len, &o->minBytes,
                            err, errSize);
}

static bool earlyDeallocRun(MlirOperation op, const void *options) {
  return earlyDealloc(op, options);
}

static IrPodPassKind earlyDeallocKind = {
    "ClusterEarlyDealloc", "cluster-early-dealloc",
    "Move each memref.dealloc to just after the last use of its buffer (the "
    "ownership-based deallocation puts them at the block's end)",
    sizeof(ClustercClusterEarlyDeallocOptions), earlyDeallocRun, {NULL}};

MlirPass clustercCreateClusterEarlyDeallocPass(const ClustercClusterEarlyDeallocOptions *o) {
  /* It creates no op: any loaded dialect will do as the dependency. */
  return irCreatePodPass(&earlyDeallocKind, o, mlirGetDialectHandle__func__());
}
