/* IR-building helpers on the MLIR C API; see ir.h. */
#include "ir.h"

#include "../support/checked.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MlirStringRef irStr(const char *s) { return mlirStringRefCreateFromCString(s); }

MlirIdentifier irId(MlirContext ctx, const char *s) {
  return mlirIdentifierGet(ctx, irStr(s));
}

MlirNamedAttribute irNamed(MlirContext ctx, const char *name, MlirAttribute a) {
  return mlirNamedAttributeGet(irId(ctx, name), a);
}

MlirOperation irInsert(IrBuilder *b, MlirOperation op) {
  if (!mlirOperationIsNull(b->before))
    mlirBlockInsertOwnedOperationBefore(mlirOperationGetBlock(b->before),
                                        b->before, op);
  else
    mlirBlockAppendOwnedOperation(b->block, op);
  return op;
}

MlirOperation irCreate(IrBuilder *b, const char *name, intptr_t nOperands,
                       const MlirValue *operands, intptr_t nResults,
                       const MlirType *results, intptr_t nAttrs,
                       const MlirNamedAttribute *attrs) {
  MlirOperationState st = mlirOperationStateGet(irStr(name), b->loc);
  if (nOperands)
    mlirOperationStateAddOperands(&st, nOperands, operands);
  if (nResults)
    mlirOperationStateAddResults(&st, nResults, results);
  if (nAttrs)
    mlirOperationStateAddAttributes(&st, nAttrs, attrs);
  return irInsert(b, mlirOperationCreate(&st));
}

MlirValue irCreate1(IrBuilder *b, const char *name, intptr_t nOperands,
                    const MlirValue *operands, MlirType result,
                    intptr_t nAttrs, const MlirNamedAttribute *attrs) {
  return mlirOperationGetResult(
      irCreate(b, name, nOperands, operands, 1, &result, nAttrs, attrs), 0);
}

MlirValue irConstInt(IrBuilder *b, MlirType t, int64_t v) {
  MlirNamedAttribute a = irNamed(b->ctx, "value", mlirIntegerAttrGet(t, v));
  return irCreate1(b, "arith.constant", 0, NULL, t, 1, &a);
}

MlirValue irConstIndex(IrBuilder *b, int64_t v) {
  return irConstInt(b, mlirIndexTypeGet(b->ctx), v);
}

MlirValue irBinary(IrBuilder *b, const char *name, MlirValue l, MlirValue r) {
  MlirValue ops[2] = {l, r};
  return irCreate1(b, name, 2, ops, mlirValueGetType(l), 0, NULL);
}

MlirValue irCast(IrBuilder *b, const char *name, MlirValue v, MlirType to) {
  return irCreate1(b, name, 1, &v, to, 0, NULL);
}

MlirValue irFlatDyn(IrBuilder *b, MlirValue v) {
  MlirType t = mlirValueGetType(v), et = mlirShapedTypeGetElementType(t);
  intptr_t rank = mlirShapedTypeGetRank(t);
  int64_t dyn = mlirShapedTypeGetDynamicSize();
  if (rank != 1) {
    uint64_t n = 1;
    bool ok = true;
    MlirAttribute dims[IR_MAX_RANK];
    for (intptr_t i = 0; i < rank; ++i) {
      ok = ok && clustercMulCount(&n, mlirShapedTypeGetDimSize(t, i));
      dims[i] = mlirIntegerAttrGet(mlirIntegerTypeGet(b->ctx, 64), i);
    }
    /* An overflowing count (callers check sizes first) never wraps. */
    int64_t n1 = ok ? (int64_t)n : dyn;
    MlirAttribute group = mlirArrayAttrGet(b->ctx, rank, dims);
    MlirNamedAttribute a =
        irNamed(b->ctx, "reassociation", mlirArrayAttrGet(b->ctx, 1, &group));
    v = irCreate1(b, "tensor.collapse_shape", 1, &v,
                  mlirRankedTensorTypeGet(1, &n1, et, mlirAttributeGetNull()),
                  1, &a);
  }
  return irCast(b, "tensor.cast", v,
                mlirRankedTensorTypeGet(1, &dyn, et, mlirAttributeGetNull()));
}

MlirValue irUnflat(IrBuilder *b, MlirValue v, MlirType like) {
  MlirType et = mlirShapedTypeGetElementType(mlirValueGetType(v));
  intptr_t rank = mlirShapedTypeGetRank(like);
  int64_t shape[IR_MAX_RANK], n = 1;
  MlirAttribute dims[IR_MAX_RANK];
  for (intptr_t i = 0; i < rank; ++i) {
    shape[i] = mlirShapedTypeGetDimSize(like, i);
    n *= shape[i];
    dims[i] = mlirIntegerAttrGet(mlirIntegerTypeGet(b->ctx, 64), i);
  }
  v = irCast(b, "tensor.cast", v, mlirRankedTensorTypeGet(1, &n, et, mlirAttributeGetNull()));
  if (rank == 1)
    return v;
  MlirAttribute group = mlirArrayAttrGet(b->ctx, rank, dims);
  MlirNamedAttribute a[2] = {
      irNamed(b->ctx, "reassociation", mlirArrayAttrGet(b->ctx, 1, &group)),
      irNamed(b->ctx, "static_output_shape", mlirDenseI64ArrayGet(b->ctx, rank, shape))};
  return irCreate1(b, "tensor.expand_shape", 1, &v,
                   mlirRankedTensorTypeGet(rank, shape, et, mlirAttributeGetNull()), 2, a);
}

void irEraseIfDead(MlirOperation op) {
  if (mlirOperationIsNull(op))
    return;
  for (intptr_t i = 0; i < mlirOperationGetNumResults(op); ++i)
    if (!mlirOpOperandIsNull(
            mlirValueGetFirstUse(mlirOperationGetResult(op, i))))
      return;
  intptr_t n = mlirOperationGetNumOperands(op);
  MlirValue e = n ? mlirOperationGetOperand(op, n - 1) : (MlirValue){NULL};
  mlirOperationDestroy(op);
  if (mlirValueIsNull(e) || !mlirValueIsAOpResult(e))
    return;
  MlirOperation eo = mlirOpResultGetOwner(e);
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(eo));
  if (mlirStringRefEqual(name, irStr("tensor.empty")) &&
      mlirOpOperandIsNull(mlirValueGetFirstUse(e)))
    mlirOperationDestroy(eo);
}

MlirAttribute irParseAttr(MlirContext ctx, const char *text) {
  return mlirAttributeParseGet(ctx, irStr(text));
}

typedef struct StrBuf {
  char *buf;
  size_t size, len;
} StrBuf;

static void strbufAppend(MlirStringRef s, void *user) {
  StrBuf *sb = user;
  for (size_t i = 0; i < s.length && sb->len + 1 < sb->size; ++i)
    sb->buf[sb->len++] = s.data[i];
  sb->buf[sb->len] = 0;
}

const char *irTypeName(MlirType t, char *buf, size_t size) {
  StrBuf sb = {buf, size, 0};
  if (size)
    buf[0] = 0;
  mlirTypePrint(t, strbufAppend, &sb);
  return buf;
}

const char *irAttrText(MlirAttribute a, char *buf, size_t size) {
  StrBuf sb = {buf, size, 0};
  if (size)
    buf[0] = 0;
  mlirAttributePrint(a, strbufAppend, &sb);
  return buf;
}

MlirValue irGeneric(IrBuilder *b, intptr_t nIns, const MlirValue *ins, MlirValue out,
                    const MlirAttribute *maps, MlirAttribute iters, MlirBlock body) {
  MlirRegion region = mlirRegionCreate();
  mlirRegionAppendOwnedBlock(region, body);
  int32_t seg[2] = {(int32_t)nIns, 1};
  MlirNamedAttribute attrs[3] = {
      irNamed(b->ctx, "indexing_maps", mlirArrayAttrGet(b->ctx, nIns + 1, maps)),
      irNamed(b->ctx, "iterator_types", iters),
      irNamed(b->ctx, "operandSegmentSizes", mlirDenseI32ArrayGet(b->ctx, 2, seg))};
  MlirOperationState st = mlirOperationStateGet(irStr("linalg.generic"), b->loc);
  mlirOperationStateAddOperands(&st, nIns, ins);
  mlirOperationStateAddOperands(&st, 1, &out);
  MlirType t = mlirValueGetType(out);
  mlirOperationStateAddResults(&st, 1, &t);
  mlirOperationStateAddAttributes(&st, 3, attrs);
  mlirOperationStateAddOwnedRegions(&st, 1, &region);
  return mlirOperationGetResult(irInsert(b, mlirOperationCreate(&st)), 0);
}

MlirAttribute irParallelIterators(MlirContext ctx, intptr_t rank) {
  static const char par[] = "#linalg.iterator_type<parallel>";
  size_t len = 3 + (size_t)rank * (sizeof par + 1);
  char *s = malloc(len);
  if (!s)
    return (MlirAttribute){NULL};
  size_t at = 0;
  s[at++] = '[';
  for (intptr_t i = 0; i < rank; ++i)
    at += (size_t)snprintf(s + at, len - at, "%s%s", i ? "," : "", par);
  s[at++] = ']';
  s[at] = 0;
  MlirAttribute a = irParseAttr(ctx, s);
  free(s);
  return a;
}

/* ---- Passes with plain-struct options ------------------------------------ */

typedef struct PodPass {
  const IrPodPassKind *kind;
  _Alignas(max_align_t) unsigned char options[];
} PodPass;

static PodPass *podNew(const IrPodPassKind *k, const void *options) {
  PodPass *p = malloc(sizeof *p + k->optionsSize);
  if (p) {
    p->kind = k;
    memcpy(p->options, options, k->optionsSize);
  }
  return p;
}

static void podConstruct(void *user) { (void)user; }
static void podDestruct(void *user) { free(user); }

static void *podClone(void *user) {
  const PodPass *p = user;
  return podNew(p->kind, p->options);
}

static void podRun(MlirOperation op, MlirExternalPass pass, void *user) {
  const PodPass *p = user;
  if (!p->kind->run(op, p->options))
    mlirExternalPassSignalFailure(pass);
}

MlirPass irCreatePodPass(IrPodPassKind *k, const void *options, MlirDialectHandle dep) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static MlirTypeIDAllocator allocator;
  pthread_mutex_lock(&lock);
  if (!allocator.ptr)
    allocator = mlirTypeIDAllocatorCreate();
  if (mlirTypeIDIsNull(k->typeId))
    k->typeId = mlirTypeIDAllocatorAllocateTypeID(allocator);
  pthread_mutex_unlock(&lock);
  PodPass *p = podNew(k, options);
  if (!p)
    return (MlirPass){NULL};
  MlirExternalPassCallbacks cb = {podConstruct, podDestruct, NULL, podClone, podRun};
  return mlirCreateExternalPass(k->typeId, irStr(k->name), irStr(k->argument),
                                irStr(k->description), irStr("builtin.module"), 1, &dep,
                                cb, p);
}

bool irOpIs(MlirOperation op, const char *name) {
  MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(op));
  return s.length == strlen(name) && !memcmp(s.data, name, s.length);
}

bool irNextWord(const char *text, size_t len, size_t *at, size_t *start, size_t *n) {
  size_t i = *at;
  while (i < len && text[i] == ' ')
    ++i;
  *start = i;
  while (i < len && text[i] != ' ')
    ++i;
  *at = i;
  *n = i - *start;
  return *n > 0;
}

int irParseCountOption(const char *pass, const char *key, const char *text, size_t len,
                       int64_t *value, char *err, size_t errSize) {
  size_t kl = strlen(key);
  for (size_t at = 0, start, n; irNextWord(text, len, &at, &start, &n);) {
    char buf[64];
    long long v = -1;
    char *end = buf;
    bool ok = n < sizeof buf && n > kl + 1;
    if (ok) {
      memcpy(buf, text + start, n);
      buf[n] = 0;
      ok = !strncmp(buf, key, kl) && buf[kl] == '=';
    }
    if (ok)
      v = strtoll(buf + kl + 1, &end, 10);
    if (!ok || *end || end == buf + kl + 1 || v < 0) {
      snprintf(err, errSize, "%s: unknown option '%.*s' (expected %s=N, N >= 0)", pass,
               (int)n, text + start, key);
      return -1;
    }
    *value = v;
  }
  return 0;
}
