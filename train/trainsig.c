/* Reading cluster-train's function signatures (see trainsig.h). */
#define _POSIX_C_SOURCE 200809L
#include "trainsig.h"

#include "clusterc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codegen/internal.h"
#include "../passes/capi-ext.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Transforms.h"

static const char *kindNames[] = {
    "input", "labels", "weight", "indices", "centroids", "param", "loss",
    "grad_weight", "grad_centroids", "grad_param", "logits"};

static TsKind kindOf(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof kindNames / sizeof kindNames[0]; ++i)
    if (strlen(kindNames[i]) == n && !memcmp(kindNames[i], s, n))
      return (TsKind)i;
  return TS_UNKNOWN;
}

static MlirAttribute attrOf(MlirOperation op, const char *name) {
  return mlirOperationGetAttributeByName(op, mlirStringRefCreateFromCString(name));
}

static bool readSlots(MlirAttribute arr, TsSlot **out, int *n) {
  *n = (int)mlirArrayAttrGetNumElements(arr);
  *out = calloc((size_t)(*n ? *n : 1), sizeof **out);
  if (!*out)
    return false;
  for (int i = 0; i < *n; ++i) {
    MlirStringRef s = mlirStringAttrGetValue(mlirArrayAttrGetElement(arr, i));
    const char *colon = memchr(s.data, ':', s.length);
    size_t kl = colon ? (size_t)(colon - s.data) : s.length;
    (*out)[i].kind = kindOf(s.data, kl);
    (*out)[i].name = colon ? strndup(colon + 1, s.length - kl - 1) : strdup("");
    if (!(*out)[i].name)
      return false;
  }
  return true;
}

static void freeFunc(TsFunc *f) {
  for (int i = 0; i < f->nArgs; ++i)
    free(f->args[i].name);
  for (int i = 0; i < f->nResults; ++i)
    free(f->results[i].name);
  free(f->args);
  free(f->results);
  free(f->name);
  memset(f, 0, sizeof *f);
}

void tsFree(TrainSig *sig) {
  freeFunc(&sig->step);
  freeFunc(&sig->eval);
  freeFunc(&sig->init);
}

static bool endsWith(MlirStringRef s, const char *suffix) {
  size_t n = strlen(suffix);
  return s.length >= n && !memcmp(s.data + s.length - n, suffix, n);
}

bool tsRead(MlirModule module, TrainSig *sig, ClustercMessageFn fn, void *user) {
  memset(sig, 0, sizeof *sig);
  MlirBlock body = mlirModuleGetBody(module);
  bool oom = false;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute sym = attrOf(op, "sym_name");
    if (mlirAttributeIsNull(sym) || !mlirAttributeIsAString(sym))
      continue;
    MlirStringRef n = mlirStringAttrGetValue(sym);
    TsFunc *f = endsWith(n, "_train_step") ? &sig->step
              : endsWith(n, "_train_eval") ? &sig->eval
              : endsWith(n, "_train_init") ? &sig->init : NULL;
    if (!f || f->name)
      continue;
    f->name = strndup(n.data, n.length);
    oom |= !f->name;
    MlirAttribute a = attrOf(op, "clusterc.arguments"), r = attrOf(op, "clusterc.results");
    if (!mlirAttributeIsNull(a))
      oom |= !readSlots(a, &f->args, &f->nArgs);
    if (!mlirAttributeIsNull(r))
      oom |= !readSlots(r, &f->results, &f->nResults);
    /* One layout per centroids argument, in order (cluster-train.c). */
    MlirAttribute lay = attrOf(op, "clusterc.layouts");
    if (f == &sig->step && !mlirAttributeIsNull(lay) && mlirAttributeIsAArray(lay))
      for (int i = 0, j = 0; i < f->nArgs && j < mlirArrayAttrGetNumElements(lay); ++i) {
        if (f->args[i].kind != TS_CENTROIDS)
          continue;
        MlirAttribute l = mlirArrayAttrGetElement(lay, j++);
        if (!mlirAttributeIsADenseI64Array(l) || mlirDenseArrayGetNumElements(l) != 7)
          continue;
        int64_t v[7];
        for (int e = 0; e < 7; ++e)
          v[e] = mlirDenseI64ArrayGetElement(l, e);
        f->args[i].layout = (TsLayout){(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3],
                                       (size_t)v[4], (size_t)v[5], (int)v[6]};
      }
    MlirAttribute fz = attrOf(op, "clusterc.frozen");
    if (f == &sig->step && !mlirAttributeIsNull(fz) && mlirAttributeIsAArray(fz))
      sig->nFrozen = (int)mlirArrayAttrGetNumElements(fz);
  }
  if (oom || !sig->step.name || !sig->eval.name || !sig->init.name) {
    clustercMessagef(fn, user, CLUSTERC_MESSAGE_ERROR, "clusterc: error: %s\n",
                     oom ? "out of memory"
                         : "the module has no complete training functions (cluster-train "
                           "generates <model>_train_step, _train_eval and _train_init)");
    tsFree(sig);
    return false;
  }
  return true;
}

static bool nameIs(MlirOperation op, const char *name) {
  MlirAttribute sym = attrOf(op, "sym_name");
  if (mlirAttributeIsNull(sym) || !mlirAttributeIsAString(sym))
    return false;
  MlirStringRef n = mlirStringAttrGetValue(sym);
  return n.length == strlen(name) && !memcmp(n.data, name, n.length);
}

bool tsTakeInit(MlirModule module, const TrainSig *sig, TsInit *init, ClustercMessageFn fn,
                void *user) {
  memset(init, 0, sizeof *init);
  MlirBlock body = mlirModuleGetBody(module);
  MlirOperation initOp = {NULL};
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    if (nameIs(op, sig->init.name))
      initOp = op;
  const char *why = NULL;
  MlirBlock entry = mlirOperationIsNull(initOp)
                        ? (MlirBlock){NULL}
                        : mlirRegionGetFirstBlock(mlirOperationGetRegion(initOp, 0));
  MlirOperation ret = mlirBlockIsNull(entry) ? (MlirOperation){NULL} : mlirBlockGetTerminator(entry);
  if (mlirOperationIsNull(ret)) {
    why = "internal: the init function has no body";
    goto fail;
  }
  init->n = (int)mlirOperationGetNumOperands(ret);
  init->values = calloc((size_t)(init->n ? init->n : 1), sizeof *init->values);
  if (!init->values) {
    why = "out of memory";
    goto fail;
  }
  for (int r = 0; r < init->n; ++r) {
    MlirValue v = mlirOperationGetOperand(ret, r);
    MlirAttribute a = mlirValueIsAOpResult(v)
                          ? attrOf(mlirOpResultGetOwner(v), "value")
                          : mlirAttributeGetNull();
    if (mlirAttributeIsNull(a) || !mlirAttributeIsAElements(a)) {
      why = "internal: the init function returns something other than constants";
      goto fail;
    }
    init->values[r] = a;
  }
  mlirOperationDestroy(initOp);
  /* Everything but the step and the evaluation becomes private, and
   * symbol-dce drops what they do not reach: the model function, the
   * globals only it loads. */
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    if (!mlirAttributeIsNull(attrOf(op, "sym_name")) && !nameIs(op, sig->step.name) &&
        !nameIs(op, sig->eval.name))
      mlirOperationSetAttributeByName(
          op, mlirStringRefCreateFromCString("sym_visibility"),
          mlirStringAttrGet(mlirModuleGetContext(module),
                            mlirStringRefCreateFromCString("private")));
  MlirPassManager pm = mlirPassManagerCreate(mlirModuleGetContext(module));
  mlirPassManagerAddOwnedPass(pm, mlirCreateTransformsSymbolDCE());
  bool ok = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)));
  mlirPassManagerDestroy(pm);
  if (!ok) {
    why = "internal: removing the model function failed";
    goto fail;
  }
  return true;
fail:
  clustercMessagef(fn, user, CLUSTERC_MESSAGE_ERROR, "clusterc: error: %s\n", why);
  tsInitFree(init);
  return false;
}

bool tsInitCopy(const TsInit *init, int r, void *buf, size_t bytes) {
  if (r < 0 || r >= init->n)
    return false;
  MlirAttribute v = init->values[r];
  MlirType t = mlirAttributeGetType(v);
  if (!mlirTypeIsAShaped(t) || !mlirShapedTypeHasStaticShape(t))
    return false;
  MlirType et = mlirShapedTypeGetElementType(t);
  unsigned bits = mlirTypeIsAInteger(et) ? mlirIntegerTypeGetWidth(et)
                : mlirTypeIsAFloat(et)   ? mlirFloatTypeGetWidth(et)
                                         : 0;
  if (!bits || bits % 8)
    return false;
  size_t eb = bits / 8, count = 1;
  for (intptr_t i = 0; i < mlirShapedTypeGetRank(t); ++i)
    count *= (size_t)mlirShapedTypeGetDimSize(t, i);
  if (count * eb != bytes)
    return false;
  const void *data;
  size_t size;
  if (mlirAttributeIsADenseElements(v)) {
    data = mlirDenseElementsAttrGetRawData(v);
    if (mlirDenseElementsAttrIsSplat(v)) {
      for (size_t i = 0; i < count; ++i)
        memcpy((char *)buf + i * eb, data, eb);
      return true;
    }
    size = bytes;
  } else if (!clustercResourceGetData(v, &data, &size)) {
    return false;
  }
  if (size != bytes)
    return false;
  memcpy(buf, data, bytes);
  return true;
}

void tsInitFree(TsInit *init) {
  free(init->values);
  memset(init, 0, sizeof *init);
}

int tsAssign(const TsLayout *l, const float *w, size_t n, const float *c, void *idx) {
  clusterrt_index_format f = l->tables * l->k > 256 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8;
  if (l->outer * l->chans * l->inner != n)
    return CLUSTERRT_ERR_ARG;
  return clusterrt_assign_grouped_f32(w, l->outer, l->chans, l->inner, l->group, c, l->k,
                                      l->sparse, f, idx);
}

int tsFind(const TsSlot *slots, int n, TsKind kind, const char *name) {
  for (int i = 0; i < n; ++i)
    if (slots[i].kind == kind && (!name || !strcmp(slots[i].name, name)))
      return i;
  return -1;
}

bool tsAlloc(TsBuffers *b, const ClustercJitFunc *f, bool args) {
  b->n = args ? f->nArgs : f->nResults;
  b->data = calloc((size_t)(b->n ? b->n : 1), sizeof *b->data);
  if (!b->data)
    return false;
  const ClustercJitTensor *t = args ? f->args : f->results;
  for (int i = 0; i < b->n; ++i)
    if (!(b->data[i] = calloc(1, t[i].bytes ? t[i].bytes : 1))) {
      tsRelease(b);
      return false;
    }
  return true;
}

void tsRelease(TsBuffers *b) {
  for (int i = 0; b->data && i < b->n; ++i)
    free(b->data[i]);
  free(b->data);
  b->data = NULL;
  b->n = 0;
}
