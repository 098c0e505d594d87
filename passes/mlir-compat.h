/*
 * The few places where the MLIR C API of LLVM 19 and of LLVM 22 differ,
 * behind one name each. CLUSTERC_MLIR_MAJOR comes from CMake (the major
 * version of the LLVM/MLIR found); everything else in clusterc compiles
 * unchanged against both.
 */
#ifndef CLUSTERC_MLIR_COMPAT_H
#define CLUSTERC_MLIR_COMPAT_H

#ifndef CLUSTERC_MLIR_MAJOR
#error "CLUSTERC_MLIR_MAJOR must be defined (CMakeLists.txt sets it)"
#endif

#include "mlir-c/Conversion.h"

/* 22 renamed the creators of these two conversions (TosaToLinalg and
 * TosaToLinalgNamed kept their names). */
#if CLUSTERC_MLIR_MAJOR >= 22
#define clustercCreateTosaToArithPass mlirCreateConversionTosaToArithPass
#define clustercCreateTosaToTensorPass mlirCreateConversionTosaToTensorPass
#else
#define clustercCreateTosaToArithPass mlirCreateConversionTosaToArith
#define clustercCreateTosaToTensorPass mlirCreateConversionTosaToTensor
#endif

/* 22's mlirExecutionEngineCreate takes `enablePIC` last (the JIT needs no
 * position-independent code). Expands where mlir-c/ExecutionEngine.h is
 * included. */
#if CLUSTERC_MLIR_MAJOR >= 22
#define clustercExecutionEngineCreate(module, optLevel, nPaths, paths, dump) \
  mlirExecutionEngineCreate(module, optLevel, nPaths, paths, dump, false)
#else
#define clustercExecutionEngineCreate(module, optLevel, nPaths, paths, dump) \
  mlirExecutionEngineCreate(module, optLevel, nPaths, paths, dump)
#endif

/* 22's buffer-results-to-out-params leaves public functions alone unless
 * told (compiled entry points then kept returning a memref, and a C caller
 * read zeros); 19 has no such option and rejects it. */
#if CLUSTERC_MLIR_MAJOR >= 22
#define CLUSTERC_BUFFER_RESULTS_TO_OUT_PARAMS \
  "buffer-results-to-out-params{modify-public-functions}"
#else
#define CLUSTERC_BUFFER_RESULTS_TO_OUT_PARAMS "buffer-results-to-out-params"
#endif

/* TOSA 1.0 (MLIR 22) names a constant's payload `values`; 0.x `value`. */
#if CLUSTERC_MLIR_MAJOR >= 22
#define CLUSTERC_TOSA_CONST_ATTR "values"
#else
#define CLUSTERC_TOSA_CONST_ATTR "value"
#endif

#endif
