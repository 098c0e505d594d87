/* Overflow-checked element counts: the product of a shape's dimensions,
 * used wherever a shape is multiplied (passes, codegen, train, the ONNX
 * importer). Absurd shapes (tensor<4294967296x4294967296xf32>) wrapped to
 * small counts: a 2^64-element weight was reported as an empty tensor. */
#ifndef CLUSTERC_CHECKED_H
#define CLUSTERC_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

/* *n *= d; false (and *n unchanged) when d < 0 or the product exceeds
 * INT64_MAX. */
static inline bool clustercMulCount(uint64_t *n, int64_t d) {
  if (d < 0 || (d && *n > (uint64_t)INT64_MAX / (uint64_t)d))
    return false;
  *n *= (uint64_t)d;
  return true;
}

#endif
