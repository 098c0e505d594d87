/*
 * Inside the autodiff: the state of one differentiation, the gradient rule
 * tables, and the helpers rules build backward IR with. Only autodiff.c and
 * the rules files include this.
 *
 * A gradient rule is one table entry, an op name and a function, in the
 * table of the op's dialect, each in its own file:
 *
 *   rules-linalg.c  linalg.generic (named ops are generalized first, so it
 *                   covers matmul, convolutions, pooling, ...)
 *   rules-tensor.c  tensor.expand_shape, collapse_shape, extract_slice,
 *                   insert_slice, pad, cast
 *   rules-tosa.c    tosa ops that reach the differentiation (none today:
 *                   cluster-train lowers tosa to linalg first)
 *   rules-scalar.c  the ops of a linalg.generic body (arith, math), used by
 *                   the linalg.generic rule
 *
 * Adding a rule is one entry and its function in one of these files; the
 * driver (autodiff.c) finds it by the op's name. An op without an entry is
 * an error at its location naming it.
 */
#ifndef CLUSTERC_PASSES_AUTODIFF_RULES_H
#define CLUSTERC_PASSES_AUTODIFF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "autodiff.h"
#include "ir.h"
#include "mlir-c/IR.h"
#include "valuemap.h"

/* One differentiation (adReverse). */
typedef struct Ad {
  MlirContext ctx;
  IrBuilder b;     /* where backward ops go: before `stop`, at the op's loc */
  ValueMap adj;    /* value -> adjoint */
  ValueMap active; /* active values (mapped to themselves) */
  AdError *err;
  bool failed;
} Ad;

/* ---- Tensor rules: linalg, tensor, tosa ------------------------------------
 *
 * A rule gets an active op (one with an active operand) some of whose
 * results have adjoints; g is the adjoint of result 0 (null when only other
 * results have one). It adds the contributions to the operands' adjoints
 * (adAccumulate, or vmPut on ad->adj) and returns true, or returns adFail
 * (...). Only active operands need an adjoint (vmHas(&ad->active, v)). */
typedef bool (*AdRuleFn)(Ad *ad, MlirOperation op, MlirValue g);
typedef struct AdRule {
  const char *name; /* the full op name, "tensor.pad" */
  AdRuleFn fn;
} AdRule;

/* Each ends with {NULL, NULL}. */
extern const AdRule adLinalgRules[];
extern const AdRule adTensorRules[];
extern const AdRule adTosaRules[];

/* ---- Scalar rules: the body of a linalg.generic ----------------------------
 *
 * The linalg.generic rule recomputes the forward body in the backward body
 * and walks it in reverse: a scalar rule gets a body op whose (one) result
 * has the adjoint g, and adds each operand's share with adScalarAccum,
 * building ops with s->b. Ops whose results carry no derivative (constants,
 * casts from integers, index computations) have an entry that does
 * nothing. */
typedef struct AdScalar {
  IrBuilder *b;   /* appends to the backward body */
  ValueMap *adj;  /* scalar value -> adjoint */
  bool *oom;      /* set when a map insertion fails */
} AdScalar;
typedef void (*AdScalarRuleFn)(AdScalar *s, MlirOperation op, MlirValue g);
typedef struct AdScalarRule {
  const char *name;
  AdScalarRuleFn fn;
} AdScalarRule;

extern const AdScalarRule adScalarRules[]; /* ends with {NULL, NULL} */

/* The rule for op, or NULL. */
AdRuleFn adFindRule(MlirOperation op);
AdScalarRuleFn adFindScalarRule(MlirOperation op);

/* ---- Helpers (autodiff.c) --------------------------------------------------- */

/* Records the first error (message and location); returns false. */
bool adFail(Ad *ad, MlirLocation loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool adNameIs(MlirOperation op, const char *name);
/* The op's name into buf (cut to size). */
void adOpName(MlirOperation op, char *buf, size_t size);
MlirAttribute adAttr(MlirOperation op, const char *name);
/* Limits of the rules' fixed-size arrays. The driver checks tensor ranks
 * (IR_MAX_RANK, ir.h) of every op before its rule runs (adCheckLimits);
 * the linalg.generic rule checks its own:
 *   AD_MAX_LOOPS     loops of a linalg.generic
 *   AD_MAX_OPERANDS  inputs of a backward linalg.generic: the forward
 *                    inputs, inits and result adjoints (nIn + 2 nOut)
 *   AD_MAX_RESULTS   results of a linalg.generic
 *   AD_MAX_BODY_OPS  ops in its body */
enum { AD_MAX_LOOPS = 64, AD_MAX_OPERANDS = 63, AD_MAX_RESULTS = 31,
       AD_MAX_BODY_OPS = 512 };
/* False after adFail when an operand or result of op is a tensor of rank
 * above IR_MAX_RANK. */
bool adCheckLimits(Ad *ad, MlirOperation op);

MlirAttribute adIdentityMap(MlirContext ctx, intptr_t rank);
/* The iterator_types attribute of n loops (reduction[i]: a reduction). */
MlirAttribute adIterators(MlirContext ctx, const bool *reduction, intptr_t n);
/* A linalg.generic writing into out; `body` is an unattached block with
 * nIns + 1 arguments ending in linalg.yield. Returns its result. */
MlirValue adGeneric(Ad *ad, intptr_t nIns, const MlirValue *ins, MlirValue out,
                    const MlirAttribute *maps, MlirAttribute iters, MlirBlock body);
/* An unattached block with n arguments (n <= AD_MAX_OPERANDS + 1). */
MlirBlock adNewBlock(Ad *ad, intptr_t n, const MlirType *types);
MlirValue adScalarConst(IrBuilder *b, MlirType t, double v);
/* A zero tensor of type t. */
MlirValue adZeros(Ad *ad, MlirType t);
/* Elementwise a + b (same tensor type). */
MlirValue adAddTensors(Ad *ad, MlirValue a, MlirValue b);
/* adj(v) += g; false (after adFail) when out of memory. */
bool adAccumulate(Ad *ad, MlirValue v, MlirValue g);
/* What a backward generic accumulates into for v: its adjoint so far, or
 * zeros. */
MlirValue adAccumulatorFor(Ad *ad, MlirValue v);

/* sadj(v) += g in the backward body (float values only). */
void adScalarAccum(AdScalar *s, MlirValue v, MlirValue g);
enum { AD_CMP_OEQ = 1, AD_CMP_OGT = 2, AD_CMP_OGE = 3, AD_CMP_OLT = 4, AD_CMP_OLE = 5 };
MlirValue adCmpf(IrBuilder *b, int predicate, MlirValue x, MlirValue y);
MlirValue adSelectf(IrBuilder *b, MlirValue c, MlirValue x, MlirValue y);

#endif
