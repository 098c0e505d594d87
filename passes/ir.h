/*
 * Small helpers for building IR through the MLIR C API, shared by the
 * passes. Each returns the created op (inserted before `before` when that is
 * not null) or its single result.
 */
#ifndef CLUSTERC_PASSES_IR_H
#define CLUSTERC_PASSES_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

/* The largest tensor rank the passes build IR for. Arrays indexed by a
 * tensor dimension are sized by it, and a tensor of larger rank gets a
 * diagnostic at its op's location before any such array is filled.
 * (loop-order.c has its own MAX_DIMS.) */
enum { IR_MAX_RANK = 16 };

/* A builder: where new ops go. Either before an op or at a block's end. */
typedef struct IrBuilder {
  MlirContext ctx;
  MlirOperation before; /* insert before this op, if not null */
  MlirBlock block;      /* else append to this block */
  MlirLocation loc;
} IrBuilder;

MlirStringRef irStr(const char *s);
MlirIdentifier irId(MlirContext ctx, const char *s);
MlirNamedAttribute irNamed(MlirContext ctx, const char *name, MlirAttribute a);
MlirOperation irInsert(IrBuilder *b, MlirOperation op);

/* Creates op `name` with the given operands, result types and attributes. */
MlirOperation irCreate(IrBuilder *b, const char *name, intptr_t nOperands,
                       const MlirValue *operands, intptr_t nResults,
                       const MlirType *results, intptr_t nAttrs,
                       const MlirNamedAttribute *attrs);
MlirValue irCreate1(IrBuilder *b, const char *name, intptr_t nOperands,
                    const MlirValue *operands, MlirType result,
                    intptr_t nAttrs, const MlirNamedAttribute *attrs);

MlirValue irConstIndex(IrBuilder *b, int64_t v);
MlirValue irConstInt(IrBuilder *b, MlirType t, int64_t v);
MlirValue irBinary(IrBuilder *b, const char *name, MlirValue l, MlirValue r);
MlirValue irCast(IrBuilder *b, const char *name, MlirValue v, MlirType to);

/* v (a ranked tensor of static shape, rank <= IR_MAX_RANK) as a 1-D
 * tensor of dynamic size, the form the runtime calls take (rtcall.h):
 * tensor.collapse_shape to tensor<NxT> unless v is 1-D already, then
 * tensor.cast to tensor<?xT>. */
MlirValue irFlatDyn(IrBuilder *b, MlirValue v);

/* The inverse: v, a 1-D tensor (of dynamic or static size), back to the
 * static shape of `like` (tensor.cast to tensor<NxT>, then
 * tensor.expand_shape unless `like` is 1-D), keeping v's element type. */
MlirValue irUnflat(IrBuilder *b, MlirValue v, MlirType like);

/* Erases op (may be null) if none of its results is used any more, then
 * the tensor.empty its last operand came from (the init of a
 * destination-style op, as a fill's) if that is unused too: what a
 * rewrite left behind would otherwise still run. */
void irEraseIfDead(MlirOperation op);

/* Creates a linalg.generic with one output `out` (its result has out's
 * type): nIns inputs, nIns + 1 indexing maps, the iterator_types attribute
 * `iters`; `body` is an unattached block with nIns + 1 arguments, ending in
 * linalg.yield, which the op takes. Returns the result. */
MlirValue irGeneric(IrBuilder *b, intptr_t nIns, const MlirValue *ins, MlirValue out,
                    const MlirAttribute *maps, MlirAttribute iters, MlirBlock body);

/* [#linalg.iterator_type<parallel>, ...] for rank loops (null when out
 * of memory). */
MlirAttribute irParallelIterators(MlirContext ctx, intptr_t rank);

/* Parses an attribute from text (only where no typed getter exists). */
MlirAttribute irParseAttr(MlirContext ctx, const char *text);

/* Prints an attribute into buf (cut to size); returns buf. */
const char *irAttrText(MlirAttribute a, char *buf, size_t size);

/* Prints a type (f32, i8, tensor<4xf32>, !quant.uniform<...>) into buf, cut
 * to size and NUL-terminated (size > 0); returns buf. */
const char *irTypeName(MlirType t, char *buf, size_t size);

/* A kind of external pass on builtin.module whose options are a plain
 * struct, copied by value (cluster-order-loops, cluster-contract-gemm):
 * one static IrPodPassKind per pass, its TypeID made on first use. */
typedef struct IrPodPassKind {
  const char *name, *argument, *description;
  size_t optionsSize;
  /* false: the pass failed (after a diagnostic at the op's location). */
  bool (*run)(MlirOperation module, const void *options);
  MlirTypeID typeId; /* zero until the first irCreatePodPass */
} IrPodPassKind;

/* The pass of kind k with a copy of options; it loads dep's dialect.
 * A null pass when out of memory. */
MlirPass irCreatePodPass(IrPodPassKind *k, const void *options, MlirDialectHandle dep);

/* Whether op's name is `name` ("scf.for"). */
bool irOpIs(MlirOperation op, const char *name);

/* The next space-separated word of text[0, len) from *at: true with its
 * start and length (and *at past it), false at the end. */
bool irNextWord(const char *text, size_t len, size_t *at, size_t *start, size_t *n);

/* Option text of a pass that takes one `key=N` (N >= 0, decimal), as
 * `min-ops=4`: *value gets N (the last one given); -1 with "<pass>: unknown
 * option '<word>' (expected <key>=N, N >= 0)" in err otherwise. */
int irParseCountOption(const char *pass, const char *key, const char *text, size_t len,
                       int64_t *value, char *err, size_t errSize);

#endif
