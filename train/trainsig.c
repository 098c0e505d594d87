/* Reading cluster-train's function signatures (see trainsig.h). */
#define _POSIX_C_SOURCE 200809L
#include "trainsig.h"

#include "clusterc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codegen/internal.h"
#include "mlir-c/BuiltinAttributes.h"

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
