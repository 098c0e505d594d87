/*
 * The model function and its weight constants, as cluster-train and the
 * train library's write-back both find them (weights.h): which function of
 * a module is "the model", and the float constants it holds, in walk order.
 */
#include "weights.h"

#include <stdio.h>
#include <stdlib.h>

#include "ir.h"
#include "mlir-c/BuiltinAttributes.h"

static bool isFuncOp(MlirOperation op) {
  return mlirStringRefEqual(mlirIdentifierStr(mlirOperationGetName(op)),
                            irStr("func.func"));
}

MlirOperation weightsModelFunction(MlirOperation module, const char *want,
                                   char *err, size_t errSize) {
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  MlirOperation only = {NULL}, fwd = {NULL};
  int publics = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (!isFuncOp(op))
      continue;
    MlirStringRef n =
        mlirStringAttrGetValue(mlirOperationGetAttributeByName(op, irStr("sym_name")));
    if (want && mlirStringRefEqual(n, irStr(want)))
      return op;
    bool hasBody = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0)).ptr != NULL;
    MlirAttribute vis = mlirOperationGetAttributeByName(op, irStr("sym_visibility"));
    bool isPublic = mlirAttributeIsNull(vis) ||
                    mlirStringRefEqual(mlirStringAttrGetValue(vis), irStr("public"));
    if (hasBody && mlirStringRefEqual(n, irStr("forward")))
      fwd = op;
    if (hasBody && isPublic) {
      only = op;
      ++publics;
    }
  }
  if (want) {
    snprintf(err, errSize, "cluster-train: no function '%s' in the module", want);
    return (MlirOperation){NULL};
  }
  if (!mlirOperationIsNull(fwd))
    return fwd;
  if (publics == 1)
    return only;
  snprintf(err, errSize, "cluster-train: cannot tell which function is the model (%d "
           "public functions, none named 'forward'); use function=NAME", publics);
  return (MlirOperation){NULL};
}

static MlirWalkResult collect(MlirOperation op, void *user) {
  WeightsList *l = user;
  ConstInfo ci;
  if (!weightsInspect(op, &ci))
    return MlirWalkResultAdvance;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    ConstInfo *g = realloc(l->items, cap * sizeof *g);
    if (!g) {
      weightsRelease(&ci);
      l->oom = true;
      return MlirWalkResultInterrupt;
    }
    l->items = g;
    l->cap = cap;
  }
  l->items[l->n++] = ci;
  return MlirWalkResultAdvance;
}

bool weightsCollect(MlirOperation root, WeightsList *l) {
  *l = (WeightsList){0};
  mlirOperationWalk(root, collect, l, MlirWalkPreOrder);
  return !l->oom;
}
