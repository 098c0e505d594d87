/*
 * Writing trained values back into a model (clustercSetTrainedValues, see
 * clusterc/train.h): each float constant cluster-train trained, found by the
 * name cluster-train gives it (weightsLayerName: the layer name, or the weight's
 * index), gets the trained values, converted to its element type.
 *
 * The constants and names come from the passes' weight inspection
 * (passes/weights.h), so they are the ones cluster-train saw; the function
 * is chosen by cluster-train's rule (findFunction below).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/ir.h"
#include "../passes/weights.h"
#include "clusterc/train.h"
#include "mlir-c/BuiltinAttributes.h"

int clustercSetTrainedValues(MlirOperation module, const char *function, size_t n,
                             const char *const *names, const float *const *values,
                             char *err, size_t errSize) {
  MlirOperation fn = weightsModelFunction(module, function, err, errSize);
  if (mlirOperationIsNull(fn))
    return -1;
  WeightsList l;
  int rc = weightsCollect(fn, &l) ? 0 : -1;
  if (rc)
    snprintf(err, errSize, "out of memory");
  char **layer = calloc(l.n + 1, sizeof *layer);
  const ConstInfo **ptrs = malloc(sizeof *ptrs * (l.n + 1));
  int *index = malloc(sizeof *index * (l.n + 1));
  for (size_t i = 0; !rc && i < l.n; ++i) {
    weightsClassify(&l.items[i]);
    if (ptrs)
      ptrs[i] = &l.items[i];
  }
  if (!rc && (!ptrs || !index || !weightsNumber(fn, ptrs, l.n, index))) {
    snprintf(err, errSize, "out of memory");
    rc = -1;
  }
  free(ptrs);
  for (size_t i = 0; !rc && i < l.n; ++i) {
    if (!layer || !(layer[i] = weightsLayerName(&l.items[i], index[i]))) {
      snprintf(err, errSize, "out of memory");
      rc = -1;
    }
  }
  bool *used = calloc(l.n + 1, sizeof *used);
  for (size_t k = 0; !rc && k < n; ++k) {
    size_t i = 0;
    while (i < l.n && (used[i] || strcmp(layer[i], names[k])))
      ++i;
    if (i == l.n) {
      snprintf(err, errSize, "no constant named '%s' in the model", names[k]);
      rc = -1;
      break;
    }
    used[i] = true;
    ConstInfo *ci = &l.items[i];
    if (ci->loads || (ci->elem != ELEM_F32 && ci->elem != ELEM_F16 && ci->elem != ELEM_BF16)) {
      snprintf(err, errSize, "'%s' is not a float constant", names[k]);
      rc = -1;
      break;
    }
    MlirAttribute v;
    if (ci->elem == ELEM_F32) {
      v = mlirDenseElementsAttrFloatGet(ci->type, (intptr_t)ci->elements, values[k]);
    } else {
      uint16_t *h = malloc(sizeof *h * (ci->elements ? ci->elements : 1));
      if (!h) {
        snprintf(err, errSize, "out of memory");
        rc = -1;
        break;
      }
      for (uint64_t e = 0; e < ci->elements; ++e)
        h[e] = ci->elem == ELEM_F16 ? weightsFloatToHalf(values[k][e])
                                    : weightsFloatToBF16(values[k][e]);
      v = mlirDenseElementsAttrRawBufferGet(ci->type, 2 * ci->elements, h);
      free(h);
    }
    mlirOperationSetAttributeByName(ci->op, irStr(weightsValueAttrName(ci->op)), v);
  }
  for (size_t i = 0; i < l.n; ++i) {
    if (layer)
      free(layer[i]);
    weightsRelease(&l.items[i]);
  }
  free(layer);
  free(index);
  free(used);
  free(l.items);
  return rc;
}

