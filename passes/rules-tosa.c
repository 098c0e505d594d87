/*
 * Gradient rules of tosa ops. cluster-train lowers tosa before it
 * differentiates (tosa-to-linalg-named, tosa-to-linalg, tosa-to-arith,
 * tosa-to-tensor; see prepare() in cluster-train.c), so every tosa op the
 * tests cover (conv2d, depthwise_conv2d, fully_connected, matmul, the
 * elementwise ops, pooling, reductions, reshape, transpose) reaches the
 * differentiation as linalg and tensor ops and takes their rules. This
 * table is for a tosa op that the lowering leaves in place, or one better
 * differentiated before lowering: an entry here is found by the op's name
 * like any other rule (autodiff-rules.h). It is empty today.
 */
#include "autodiff-rules.h"

const AdRule adTosaRules[] = {
    {NULL, NULL},
};
