/*
 * Calls from generated code into libclusterrt's MLIR entry points
 * (runtime/memref-abi.c), in destination-passing style on tensors: the
 * callee is declared `llvm.emit_c_interface` with each tensor argument
 * marked `bufferization.access` read or write, the output operand is a
 * tensor.empty written in place, and that operand holds the result after
 * the call. One-shot bufferization then neither copies the inputs nor the
 * output buffer, and passes (strided) memref descriptors to the callee.
 * Shared by cluster-train (assign, accumulate) and cluster-weights'
 * decode=fused (the LUT matrix product).
 */
#ifndef CLUSTERC_PASSES_RTCALL_H
#define CLUSTERC_PASSES_RTCALL_H

#include "ir.h"

typedef struct RtFn {
  const char *name;
  int nArgs;
  const char *args;   /* per argument: f (tensor<?xf32>), b (tensor<?xi8>),
                       * h (tensor<?xi16>),
                       * l (tensor<?xi64>), F (tensor<?x?x?xf32>), i (i32) */
  const char *access; /* per argument: r, w (ignored for i) */
} RtFn;

/* Declares fn in `module` unless a symbol of that name exists. */
void rtDeclare(MlirOperation module, const RtFn *fn);
/* func.call fn(args...) -> i32 (the status, unused); returns the argument
 * marked 'w', which holds the result afterwards. */
MlirValue rtCall(IrBuilder *b, const RtFn *fn, const MlirValue *args);

#endif
