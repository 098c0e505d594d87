/*
 * Reverse-mode differentiation of a function body in linalg on tensors.
 *
 * The body must be in the form the cluster-train pass prepares: every
 * computation a linalg.generic (named ops generalized, tosa lowered), plus
 * tensor.{empty, expand_shape, collapse_shape, extract_slice, insert_slice,
 * pad, cast} and constants. The rules are tables, one per dialect (see
 * autodiff-rules.h).
 */
#ifndef CLUSTERC_PASSES_AUTODIFF_H
#define CLUSTERC_PASSES_AUTODIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "mlir-c/IR.h"

typedef struct AdError {
  char message[512];
  MlirLocation loc; /* null when there is no better place than the function */
} AdError;

/*
 * Differentiates the ops of `block` that come before `stop` (the backward
 * ops are inserted before `stop` too). `seed` is a value computed in the
 * block and `seedAdjoint` its adjoint (dLoss/dseed). On success grads[i]
 * holds dLoss/dparams[i] (a zero tensor when the loss does not depend on
 * it). On failure returns false and fills *err; the block may hold
 * unfinished backward ops then, and the caller discards it.
 */
bool adReverse(MlirBlock block, MlirOperation stop, MlirValue seed,
               MlirValue seedAdjoint, const MlirValue *params, size_t numParams,
               MlirValue *grads, AdError *err);

#endif
