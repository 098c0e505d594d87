/*
 * cluster-outline-loops: every top-level loop nest of a function moved into
 * a function of its own, so that LLVM compiles many small functions instead
 * of one huge one.
 *
 * Why: a training step lowered to loops is one func.func holding every
 * layer's loop nests, thousands of blocks in a chain. LLVM's costs there are
 * superlinear in the size of one function (dominator-tree updates,
 * SmallPtrSet growth, LazyCallGraph, SelectionDAG combining): ResNet-18's
 * step spent 80 s of CPU in LLVM -O1 (docs/PERFORMANCE.md "JIT compile time
 * and its cache"). Split into one function per nest, the work is close to
 * linear in the module's size.
 *
 * After bufferization and convert-linalg-to-loops, each scf.for or
 * scf.parallel without results directly in a function's entry block (and
 * of at least min-ops ops) becomes a call:
 *
 *   func.func @step(%a: memref<8xf32>, %b: memref<8xf32>) {
 *     %c0 = arith.constant 0 : index   %c8 = arith.constant 8 : index ...
 *     scf.for %i = %c0 to %c8 step %c1 { ... %a[%i] ... %b[%i] ... }
 *   ==>
 *   func.func @step(%a: memref<8xf32>, %b: memref<8xf32>) {
 *     call @step_loop0(%a, %b) : (memref<8xf32>, memref<8xf32>) -> ()
 *   func.func private @step_loop0(%arg0: memref<8xf32>, %arg1: memref<8xf32>)
 *       attributes {passthrough = ["noinline"]} {
 *     %c0 = arith.constant 0 : index ...       (constants cloned, not passed)
 *     scf.for %i = %c0 to %c8 step %c1 { ... %arg0[%i] ... %arg1[%i] ... }
 *     return
 *
 * Every value the nest uses from above becomes an argument (in order of
 * first use, each once), except arith.constant and memref.get_global
 * results, which are cloned into the new function: loop bounds stay
 * constants, so LLVM still knows the trip counts it vectorizes and unrolls
 * by. The nest itself is moved, not copied. Its ops and their order are
 * unchanged, so the computed values are bit for bit the same.
 *
 * The new functions are private with `passthrough = ["noinline"]`:
 * convert-func-to-llvm copies passthrough onto the llvm.func (19 and 22), so
 * LLVM's inliner does not glue them back. Their linkage is left to the
 * caller (libclusterc-codegen gives every private function internal linkage,
 * so the object's exported symbols stay the same). Names are
 * <function>_loop<N>, renamed by the module's symbol table on a clash.
 *
 * Identical nests become one function: an outlined function whose printed
 * text, name aside, is that of one outlined before is erased and its call
 * goes to the earlier one (the same argument types, cloned constants and
 * ops, so the same computation). A training step repeats layer shapes
 * (MobileNetV2's blocks; the evaluation function's forward pass is the
 * training step's), and LLVM's time is proportional to the code it gets:
 * MobileNetV2's float step had 646 outlined functions, 293 distinct.
 *
 * Options: `min-ops=N` (default 1): nests of fewer ops (the loops and every
 * op inside them) stay where they are; `merge=0` keeps identical nests
 * apart (default 1); `optnone-callers=N` (default 0: off; code generation
 * sets 24) marks a function that had N or more nests moved out, and holds
 * no other loop or branch, "noinline" and "optnone": it is then glue
 * (allocations, descriptors, calls) around a lot of work, and LLVM's time
 * on the training step's glue was a third of MobileNetV2's code
 * generation. Small functions (a batch-1 inference of a few layers) keep
 * their glue optimised, where its few microseconds may matter.
 */
#include "clusterc/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Dialect/Func.h"

/* A growable array of values. */
typedef struct Values {
  MlirValue *v;
  intptr_t n, cap;
} Values;

static bool valuesPush(Values *vs, MlirValue v) {
  if (vs->n == vs->cap) {
    intptr_t cap = vs->cap ? 2 * vs->cap : 16;
    MlirValue *p = realloc(vs->v, sizeof *p * (size_t)cap);
    if (!p)
      return false;
    vs->v = p;
    vs->cap = cap;
  }
  vs->v[vs->n++] = v;
  return true;
}

static intptr_t valuesFind(const Values *vs, MlirValue v) {
  for (intptr_t i = 0; i < vs->n; ++i)
    if (mlirValueEqual(vs->v[i], v))
      return i;
  return -1;
}

/* Whether op is `nest` or inside it. */
static bool within(MlirOperation op, MlirOperation nest) {
  for (; !mlirOperationIsNull(op); op = mlirOperationGetParentOperation(op))
    if (mlirOperationEqual(op, nest))
      return true;
  return false;
}

/* Whether v is defined inside nest (a result of an op in it, or an
 * argument of one of its blocks). */
static bool definedWithin(MlirValue v, MlirOperation nest) {
  if (mlirValueIsAOpResult(v))
    return within(mlirOpResultGetOwner(v), nest);
  MlirBlock b = mlirBlockArgumentGetOwner(v);
  return within(mlirBlockGetParentOperation(b), nest);
}

/* Ops that are cloned into the new function rather than passed: no
 * operands, no regions, no side effects, and their value is worth knowing
 * there (constant bounds and shapes; a global's address). */
static bool clonable(MlirValue v) {
  if (!mlirValueIsAOpResult(v))
    return false;
  MlirOperation d = mlirOpResultGetOwner(v);
  return irOpIs(d, "arith.constant") || irOpIs(d, "memref.get_global");
}

/* What one nest captures: `args` (passed), `consts` (cloned); `ops` counts
 * the nest's ops; `ok` goes false when out of memory. */
typedef struct Capture {
  MlirOperation nest;
  Values args, consts;
  intptr_t ops;
  bool ok;
} Capture;

static MlirWalkResult collect(MlirOperation op, void *user) {
  Capture *c = user;
  ++c->ops;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    MlirValue v = mlirOperationGetOperand(op, i);
    if (definedWithin(v, c->nest))
      continue;
    Values *into = clonable(v) ? &c->consts : &c->args;
    if (valuesFind(into, v) < 0 && !valuesPush(into, v)) {
      c->ok = false;
      return MlirWalkResultInterrupt;
    }
  }
  return MlirWalkResultAdvance;
}

/* Operands of the moved nest: captured value i -> `to[i]`. */
typedef struct Remap {
  const Values *from;
  const MlirValue *to;
} Remap;

static MlirWalkResult remap(MlirOperation op, void *user) {
  const Remap *r = user;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); ++i) {
    intptr_t k = valuesFind(r->from, mlirOperationGetOperand(op, i));
    if (k >= 0)
      mlirOperationSetOperand(op, i, r->to[k]);
  }
  return MlirWalkResultAdvance;
}

/* A growable text buffer (the printer's callback appends to it). */
typedef struct Text {
  char *p;
  size_t n, cap;
  bool ok;
} Text;

static void textAppend(MlirStringRef s, void *user) {
  Text *t = user;
  if (!t->ok)
    return;
  if (t->n + s.length > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->n + s.length)
      cap *= 2;
    char *q = realloc(t->p, cap);
    if (!q) {
      t->ok = false;
      return;
    }
    t->p = q;
    t->cap = cap;
  }
  memcpy(t->p + t->n, s.data, s.length);
  t->n += s.length;
}

/* One outlined function kept, by its text without its name. */
typedef struct Kept {
  uint64_t hash; /* 0: empty slot */
  char *text;
  size_t len;
  MlirAttribute name; /* its sym_name (a StringAttr) */
} Kept;

typedef struct Outliner {
  MlirContext ctx;
  MlirSymbolTable symbols;
  int64_t minOps;
  bool dedup;
  int64_t optnoneCallers;
  Kept *kept; /* open addressing, power-of-two size */
  size_t nKept, capKept;
  int64_t merged; /* functions that were duplicates */
} Outliner;

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; ++i)
    h = (h ^ (unsigned char)p[i]) * 1099511628211u;
  return h ? h : 1;
}

static bool keptGrow(Outliner *o) {
  size_t cap = o->capKept ? 2 * o->capKept : 256;
  Kept *t = calloc(cap, sizeof *t);
  if (!t)
    return false;
  for (size_t i = 0; i < o->capKept; ++i) {
    if (!o->kept[i].hash)
      continue;
    size_t j = o->kept[i].hash & (cap - 1);
    while (t[j].hash)
      j = (j + 1) & (cap - 1);
    t[j] = o->kept[i];
  }
  free(o->kept);
  o->kept = t;
  o->capKept = cap;
  return true;
}

/* The function `func` just outlined (called by `call`) if an identical
 * one was outlined before: the call then goes to that one and `func` is
 * erased. Identical means the same printed text once the name is taken
 * out: the same argument types, cloned constants (loop bounds, globals)
 * and ops in the same order, so the two compute the same thing. Training
 * steps repeat layer shapes (MobileNetV2's blocks, the evaluation
 * function's forward pass against the training step's), and LLVM's time
 * is proportional to the code it gets. False when out of memory (the IR
 * is then still valid: `func` is simply kept). */
static bool dedupOutlined(Outliner *o, MlirOperation func, MlirOperation call) {
  MlirAttribute name = mlirOperationGetAttributeByName(func, irStr("sym_name"));
  MlirStringRef ns = mlirStringAttrGetValue(name);
  Text t = {NULL, 0, 0, true};
  /* Local scope: values numbered within func, and no walk of the whole
   * module per function (the default printer numbers from the top-level
   * op and verifies it: quadratic here). */
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsUseLocalScope(flags);
  mlirOpPrintingFlagsAssumeVerified(flags);
  mlirOperationPrintWithFlags(func, flags, textAppend, &t);
  mlirOpPrintingFlagsDestroy(flags);
  if (!t.ok) {
    free(t.p);
    return false;
  }
  /* Take "@name" out of the header: the first '@' is the function's own
   * symbol (func.func private @name(...)). */
  char *at = t.n ? memchr(t.p, '@', t.n) : NULL;
  if (at && (size_t)(t.p + t.n - at) > ns.length && !memcmp(at + 1, ns.data, ns.length)) {
    size_t off = (size_t)(at + 1 - t.p);
    memmove(at + 1, at + 1 + ns.length, t.n - off - ns.length);
    t.n -= ns.length;
  }
  uint64_t h = fnv1a(t.p, t.n);
  if (2 * (o->nKept + 1) > o->capKept && !keptGrow(o)) {
    free(t.p);
    return false;
  }
  size_t j = h & (o->capKept - 1);
  for (; o->kept[j].hash; j = (j + 1) & (o->capKept - 1)) {
    Kept *k = &o->kept[j];
    if (k->hash == h && k->len == t.n && !memcmp(k->text, t.p, t.n)) {
      mlirOperationSetAttributeByName(
          call, irStr("callee"),
          mlirFlatSymbolRefAttrGet(o->ctx, mlirStringAttrGetValue(k->name)));
      mlirSymbolTableErase(o->symbols, func);
      ++o->merged;
      free(t.p);
      return true;
    }
  }
  o->kept[j] = (Kept){h, t.p, t.n, name};
  ++o->nKept;
  return true;
}

/* Moves c->nest into a new private function named after `fn` and calls
 * it; false when out of memory (the IR is then unchanged). */
static bool outline(Outliner *o, MlirStringRef fn, int index, Capture *c) {
  MlirContext ctx = o->ctx;
  MlirOperation nest = c->nest;
  MlirLocation loc = mlirOperationGetLocation(nest);
  intptr_t n = c->args.n, all = n + c->consts.n;
  /* from[i] -> to[i]: the arguments, then the cloned constants. */
  MlirValue *from = malloc(sizeof *from * (size_t)(all + 1));
  MlirValue *to = malloc(sizeof *to * (size_t)(all + 1));
  MlirType *types = malloc(sizeof *types * (size_t)(n + 1));
  MlirLocation *locs = malloc(sizeof *locs * (size_t)(n + 1));
  char *name = malloc(fn.length + 32);
  bool ok = from && to && types && locs && name;
  if (!ok)
    goto done;
  if (n) /* the arrays are NULL while empty, and memcpy's may not be */
    memcpy(from, c->args.v, sizeof *from * (size_t)n);
  if (c->consts.n)
    memcpy(from + n, c->consts.v, sizeof *from * (size_t)c->consts.n);
  for (intptr_t i = 0; i < n; ++i) {
    types[i] = mlirValueGetType(c->args.v[i]);
    locs[i] = loc;
  }
  snprintf(name, fn.length + 32, "%.*s_loop%d", (int)fn.length, fn.data, index);

  /* func.func private @name(captured) attributes {passthrough = ["noinline"]} */
  MlirBlock body = mlirBlockCreate(n, types, locs);
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  MlirAttribute noinline = mlirStringAttrGet(ctx, irStr("noinline"));
  MlirNamedAttribute attrs[4] = {
      irNamed(ctx, "sym_name", mlirStringAttrGet(ctx, irStr(name))),
      irNamed(ctx, "function_type",
              mlirTypeAttrGet(mlirFunctionTypeGet(ctx, n, types, 0, NULL))),
      irNamed(ctx, "sym_visibility", mlirStringAttrGet(ctx, irStr("private"))),
      irNamed(ctx, "passthrough", mlirArrayAttrGet(ctx, 1, &noinline))};
  MlirOperationState st = mlirOperationStateGet(irStr("func.func"), loc);
  mlirOperationStateAddAttributes(&st, 4, attrs);
  mlirOperationStateAddOwnedRegions(&st, 1, &region);
  MlirOperation func = mlirOperationCreate(&st);
  /* Inserted at the module's end; a clashing name gets a suffix. */
  MlirAttribute sym = mlirSymbolTableInsert(o->symbols, func);

  /* The body: the constants, the nest, return. */
  IrBuilder b = {ctx, {NULL}, body, loc};
  for (intptr_t i = 0; i < n; ++i)
    to[i] = mlirBlockGetArgument(body, i);
  for (intptr_t i = 0; i < c->consts.n; ++i) {
    MlirOperation k = mlirOperationClone(mlirOpResultGetOwner(c->consts.v[i]));
    irInsert(&b, k);
    to[n + i] = mlirOperationGetResult(k, mlirOpResultGetResultNumber(c->consts.v[i]));
  }
  /* call @name(captured) before the nest, then the nest moves and its
   * operands are remapped (the call keeps the captured values). */
  MlirNamedAttribute callee =
      irNamed(ctx, "callee", mlirFlatSymbolRefAttrGet(ctx, mlirStringAttrGetValue(sym)));
  IrBuilder cb = {ctx, nest, {NULL}, loc};
  MlirOperation call = irCreate(&cb, "func.call", n, c->args.v, 0, NULL, 1, &callee);
  mlirOperationRemoveFromParent(nest);
  mlirBlockAppendOwnedOperation(body, nest);
  Values fromValues = {from, all, all};
  Remap r = {&fromValues, to};
  mlirOperationWalk(nest, remap, &r, MlirWalkPreOrder);
  irCreate(&b, "func.return", 0, NULL, 0, NULL, 0, NULL);
  if (o->dedup)
    ok = dedupOutlined(o, func, call);

done:
  free(from);
  free(to);
  free(types);
  free(locs);
  free(name);
  return ok;
}

static bool isNest(MlirOperation op) {
  return (irOpIs(op, "scf.for") || irOpIs(op, "scf.parallel")) &&
         mlirOperationGetNumResults(op) == 0;
}

static MlirWalkResult findLoop(MlirOperation op, void *user) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  bool loop = (n.length > 4 && !memcmp(n.data, "scf.", 4) && !irOpIs(op, "scf.yield") &&
               !irOpIs(op, "scf.if")) ||
              (n.length > 7 && !memcmp(n.data, "affine.", 7)) ||
              (n.length > 3 && !memcmp(n.data, "cf.", 3));
  if (!loop)
    return MlirWalkResultAdvance;
  *(bool *)user = true;
  return MlirWalkResultInterrupt;
}

/* optnone-callers: fn, whose nests all moved out, is glue (allocations,
 * descriptors, calls), which LLVM need not optimise: passthrough gets
 * "noinline" and "optnone" (LLVM requires both). A function that still
 * holds a loop (scf loops, affine ops) or cf branch keeps its
 * optimisation; an scf.if does not count. */
static void markGlue(Outliner *o, MlirOperation fn) {
  bool loop = false;
  MlirRegion body = mlirOperationGetRegion(fn, 0);
  for (MlirBlock b = mlirRegionGetFirstBlock(body); !loop && !mlirBlockIsNull(b);
       b = mlirBlockGetNextInRegion(b))
    for (MlirOperation op = mlirBlockGetFirstOperation(b); !loop && !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op))
      mlirOperationWalk(op, findLoop, &loop, MlirWalkPreOrder);
  if (loop)
    return;
  MlirAttribute old = mlirOperationGetAttributeByName(fn, irStr("passthrough"));
  intptr_t n = !mlirAttributeIsNull(old) && mlirAttributeIsAArray(old)
                   ? mlirArrayAttrGetNumElements(old) : 0;
  MlirAttribute *all = malloc(sizeof *all * (size_t)(n + 2));
  if (!all)
    return; /* out of memory: fn is simply optimised */
  intptr_t m = 0;
  bool hasNoinline = false, hasOptnone = false;
  for (intptr_t i = 0; i < n; ++i) {
    MlirAttribute a = mlirArrayAttrGetElement(old, i);
    if (mlirAttributeIsAString(a)) {
      MlirStringRef v = mlirStringAttrGetValue(a);
      hasNoinline |= v.length == 8 && !memcmp(v.data, "noinline", 8);
      hasOptnone |= v.length == 7 && !memcmp(v.data, "optnone", 7);
    }
    all[m++] = a;
  }
  if (!hasNoinline)
    all[m++] = mlirStringAttrGet(o->ctx, irStr("noinline"));
  if (!hasOptnone)
    all[m++] = mlirStringAttrGet(o->ctx, irStr("optnone"));
  mlirOperationSetAttributeByName(fn, irStr("passthrough"), mlirArrayAttrGet(o->ctx, m, all));
  free(all);
}

/* Outlines the nests of one function; false when out of memory. */
static bool outlineFunction(Outliner *o, MlirOperation fn) {
  MlirBlock entry = mlirRegionGetFirstBlock(mlirOperationGetRegion(fn, 0));
  if (mlirBlockIsNull(entry))
    return true;
  MlirStringRef name =
      mlirStringAttrGetValue(mlirOperationGetAttributeByName(fn, irStr("sym_name")));
  int index = 0;
  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(entry), next;
       ok && !mlirOperationIsNull(op); op = next) {
    next = mlirOperationGetNextInBlock(op);
    if (!isNest(op))
      continue;
    Capture c = {op, {NULL, 0, 0}, {NULL, 0, 0}, 0, true};
    mlirOperationWalk(op, collect, &c, MlirWalkPreOrder);
    ok = c.ok;
    if (ok && c.ops >= o->minOps)
      ok = outline(o, name, index++, &c);
    free(c.args.v);
    free(c.consts.v);
  }
  if (ok && o->optnoneCallers > 0 && index >= o->optnoneCallers)
    markGlue(o, fn);
  return ok;
}

/* False after a diagnostic (out of memory). */
static bool outlineLoops(MlirOperation module, const ClustercClusterOutlineLoopsOptions *opts) {
  Outliner o = {mlirOperationGetContext(module), mlirSymbolTableCreate(module), opts->minOps,
                opts->merge, opts->optnoneCallers, NULL, 0, 0, 0};
  /* The functions there are now; the new ones go at the module's end. */
  intptr_t n = 0, cap = 0;
  MlirOperation *fns = NULL;
  MlirBlock top = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(top); ok && !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!irOpIs(op, "func.func"))
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      MlirOperation *p = realloc(fns, sizeof *p * (size_t)cap);
      if (!p) {
        ok = false;
        break;
      }
      fns = p;
    }
    fns[n++] = op;
  }
  for (intptr_t i = 0; ok && i < n; ++i)
    ok = outlineFunction(&o, fns[i]);
  free(fns);
  for (size_t i = 0; i < o.capKept; ++i)
    free(o.kept[i].text);
  free(o.kept);
  mlirSymbolTableDestroy(o.symbols);
  if (!ok)
    mlirEmitError(mlirOperationGetLocation(module),
                  "cluster-outline-loops: out of memory");
  return ok;
}

/* ---- The pass ------------------------------------------------------------- */

void clustercClusterOutlineLoopsOptionsInit(ClustercClusterOutlineLoopsOptions *o) {
  o->minOps = 1;
  o->merge = true;
  o->optnoneCallers = 0;
}

void clustercClusterOutlineLoopsOptionsFree(ClustercClusterOutlineLoopsOptions *o) {
  (void)o;
}

/* "min-ops=N merge=0|1 optnone-callers=N". */
int clustercClusterOutlineLoopsOptionsParse(ClustercClusterOutlineLoopsOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t errSize) {
  for (size_t at = 0, start, n; irNextWord(text, len, &at, &start, &n);) {
    const char *w = text + start;
    if (n == 7 && (!memcmp(w, "merge=0", 7) || !memcmp(w, "merge=1", 7))) {
      o->merge = w[6] == '1';
      continue;
    }
    if (n > 16 && !memcmp(w, "optnone-callers=", 16)) {
      if (irParseCountOption("cluster-outline-loops", "optnone-callers", w, n,
                             &o->optnoneCallers, err, errSize))
        return -1;
      continue;
    }
    if (irParseCountOption("cluster-outline-loops", "min-ops", w, n, &o->minOps, err,
                           errSize)) {
      snprintf(err, errSize,
               "cluster-outline-loops: unknown option '%.*s' (expected min-ops=N, N >= 0, "
               "merge=0|1 or optnone-callers=N)",
               (int)n, w);
      return -1;
    }
  }
  return 0;
}

static bool outlineRun(MlirOperation op, const void *options) {
  return outlineLoops(op, options);
}

static IrPodPassKind outlineKind = {
    "ClusterOutlineLoops", "cluster-outline-loops",
    "Move each top-level loop nest of a function into a private noinline function "
    "(small functions for LLVM)",
    sizeof(ClustercClusterOutlineLoopsOptions), outlineRun, {NULL}};

MlirPass clustercCreateClusterOutlineLoopsPass(const ClustercClusterOutlineLoopsOptions *o) {
  return irCreatePodPass(&outlineKind, o, mlirGetDialectHandle__func__());
}
