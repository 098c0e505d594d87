/* A hash map from MLIR values to values (open addressing on the pointer),
 * used by the autodiff for adjoints, activity and body cloning. */
#ifndef CLUSTERC_PASSES_VALUEMAP_H
#define CLUSTERC_PASSES_VALUEMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "mlir-c/IR.h"

typedef struct ValueMap {
  const void **keys;
  MlirValue *vals;
  size_t cap, count;
} ValueMap;

void vmInit(ValueMap *m);
void vmFree(ValueMap *m);
/* False when out of memory. */
bool vmPut(ValueMap *m, MlirValue k, MlirValue v);
/* The value for k, or a null value. */
MlirValue vmGet(const ValueMap *m, MlirValue k);
bool vmHas(const ValueMap *m, MlirValue k);

#endif
