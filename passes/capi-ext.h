/*
 * The few MLIR entry points clusterc needs that MLIR 19's C API lacks,
 * implemented in capi-ext.cpp on the C++ API. Keep this list short: each
 * entry names the upstream C API gap it fills.
 */
#ifndef CLUSTERC_CAPI_EXT_H
#define CLUSTERC_CAPI_EXT_H

#include <stdbool.h>
#include <stddef.h>

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The raw bytes of a dense_resource elements attribute. False when the
 * resource has no blob (for example `__elided__`). Gap: 19 only has typed
 * per-element readers, and none for f16/bf16. */
bool clustercResourceGetData(MlirAttribute attr, const void **data,
                             size_t *size);

/* attr, a dense or dense_resource elements attribute, with the shaped
 * type `type` of as many elements of the same type: the same data (a
 * resource keeps its blob). Null for another attribute or a mismatch. Gap:
 * mlirDenseElementsAttrReshapeGet has no dense_resource counterpart. */
MlirAttribute clustercElementsAttrReshape(MlirAttribute attr, MlirType type);

/* Parses a module, with `filename` as the buffer name in locations, so
 * diagnostics name the user's file. Gap: mlirModuleCreateParse has no name. */
MlirModule clustercParseSourceString(MlirContext ctx, MlirStringRef source,
                                     MlirStringRef filename);

/* The first NameLoc name inside loc (through fused and call-site locations).
 * Gap: 19 has no location accessors. */
bool clustercLocationGetName(MlirLocation loc, MlirStringRef *name);

/* The first file:line:col inside loc. */
bool clustercLocationGetFileLineCol(MlirLocation loc, MlirStringRef *file,
                                    unsigned *line, unsigned *col);

/* The nearest symbol table op at or above op (a builtin.module, say), or
 * null. Gap: 19 has no way to ask for the SymbolTable trait. */
MlirOperation clustercNearestSymbolTable(MlirOperation op);

/* The op `name` refers to when used from `from` (nested symbol tables
 * resolved as MLIR does), or null. Gap: 19 only has lookups in one given
 * table. */
MlirOperation clustercLookupSymbolFrom(MlirOperation from, MlirStringRef name);

/* Emits a warning diagnostic at loc. Gap: 19 has mlirEmitError only. */
void clustercEmitWarning(MlirLocation loc, const char *message);

#ifdef __cplusplus
}
#endif

#endif
