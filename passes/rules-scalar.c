/*
 * Gradient rules of the scalar ops in a linalg.generic body (arith, math):
 * given the adjoint g of the op's result r, each adds its operands' shares
 * (see autodiff-rules.h). The linalg.generic rule (rules-linalg.c) runs
 * them over the recomputed forward body, last op first.
 */
#include "autodiff-rules.h"

static MlirValue operand(MlirOperation op, intptr_t i) {
  return i < mlirOperationGetNumOperands(op) ? mlirOperationGetOperand(op, i)
                                             : (MlirValue){NULL};
}

static MlirType resultType(MlirOperation op) {
  return mlirValueGetType(mlirOperationGetResult(op, 0));
}

/* d(a + b) = g, g */
static void dAddf(AdScalar *s, MlirOperation op, MlirValue g) {
  adScalarAccum(s, operand(op, 0), g);
  adScalarAccum(s, operand(op, 1), g);
}

/* d(a - b) = g, -g */
static void dSubf(AdScalar *s, MlirOperation op, MlirValue g) {
  adScalarAccum(s, operand(op, 0), g);
  adScalarAccum(s, operand(op, 1), irCast(s->b, "arith.negf", g, resultType(op)));
}

/* d(a b) = g b, g a */
static void dMulf(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue a = operand(op, 0), b = operand(op, 1);
  adScalarAccum(s, a, irBinary(s->b, "arith.mulf", g, b));
  adScalarAccum(s, b, irBinary(s->b, "arith.mulf", g, a));
}

/* d(a / b) = g / b, -(g / b) (a / b) / b */
static void dDivf(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue a = operand(op, 0), b = operand(op, 1);
  MlirValue ga = irBinary(s->b, "arith.divf", g, b);
  adScalarAccum(s, a, ga);
  adScalarAccum(s, b, irCast(s->b, "arith.negf", irBinary(s->b, "arith.mulf", ga, irBinary(s->b, "arith.divf", a, b)), resultType(op)));
}

static void dNegf(AdScalar *s, MlirOperation op, MlirValue g) {
  adScalarAccum(s, operand(op, 0), irCast(s->b, "arith.negf", g, resultType(op)));
}

/* max/min: the second operand wins ties, so max(R, g) in a reduction body
 * routes the gradient to g wherever g equals the final maximum R. */
static void extremum(AdScalar *s, MlirOperation op, MlirValue g, bool isMax) {
  MlirValue a = operand(op, 0), b = operand(op, 1);
  MlirValue bWins = adCmpf(s->b, isMax ? AD_CMP_OGE : AD_CMP_OLE, b, a);
  MlirValue zero = adScalarConst(s->b, resultType(op), 0.0);
  adScalarAccum(s, a, adSelectf(s->b, bWins, zero, g));
  adScalarAccum(s, b, adSelectf(s->b, bWins, g, zero));
}

static void dMax(AdScalar *s, MlirOperation op, MlirValue g) { extremum(s, op, g, true); }
static void dMin(AdScalar *s, MlirOperation op, MlirValue g) { extremum(s, op, g, false); }

/* dSelect(c, x, y): g goes to the chosen one. */
static void dSelect(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue c = operand(op, 0), x = operand(op, 1), y = operand(op, 2);
  MlirValue zero = adScalarConst(s->b, resultType(op), 0.0);
  adScalarAccum(s, x, adSelectf(s->b, c, g, zero));
  adScalarAccum(s, y, adSelectf(s->b, c, zero, g));
}

/* d exp(a) = g exp(a), reusing the result. */
static void dExp(AdScalar *s, MlirOperation op, MlirValue g) {
  adScalarAccum(s, operand(op, 0), irBinary(s->b, "arith.mulf", g, mlirOperationGetResult(op, 0)));
}

static void dLog(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue a = operand(op, 0);
  adScalarAccum(s, a, irBinary(s->b, "arith.divf", g, a));
}

/* d tanh(a) = g (1 - r^2) */
static void dTanh(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirValue one = adScalarConst(s->b, resultType(op), 1.0);
  MlirValue d = irBinary(s->b, "arith.subf", one, irBinary(s->b, "arith.mulf", r, r));
  adScalarAccum(s, operand(op, 0), irBinary(s->b, "arith.mulf", g, d));
}

/* d sqrt(a) = g 0.5 / r */
static void dSqrt(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirValue half = adScalarConst(s->b, resultType(op), 0.5);
  adScalarAccum(s, operand(op, 0), irBinary(s->b, "arith.divf", irBinary(s->b, "arith.mulf", g, half), r));
}

/* d dRsqrt(a) = g (-0.5 r^3) */
static void dRsqrt(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirValue mhalf = adScalarConst(s->b, resultType(op), -0.5);
  MlirValue r3 = irBinary(s->b, "arith.mulf", r, irBinary(s->b, "arith.mulf", r, r));
  adScalarAccum(s, operand(op, 0), irBinary(s->b, "arith.mulf", g, irBinary(s->b, "arith.mulf", mhalf, r3)));
}

/* d |a| = g sign(a) (+g at 0) */
static void dAbsf(AdScalar *s, MlirOperation op, MlirValue g) {
  MlirValue a = operand(op, 0);
  MlirValue zero = adScalarConst(s->b, resultType(op), 0.0);
  MlirValue neg = adCmpf(s->b, AD_CMP_OLT, a, zero);
  adScalarAccum(s, a, adSelectf(s->b, neg, irCast(s->b, "arith.negf", g, resultType(op)), g));
}

/* Precision casts: g cast back to the operand's type. */
static void castBack(AdScalar *s, MlirOperation op, MlirValue g, const char *inverse) {
  MlirValue a = operand(op, 0);
  adScalarAccum(s, a, irCast(s->b, inverse, g, mlirValueGetType(a)));
}

static void dExtf(AdScalar *s, MlirOperation op, MlirValue g) { castBack(s, op, g, "arith.truncf"); }
static void dTruncf(AdScalar *s, MlirOperation op, MlirValue g) { castBack(s, op, g, "arith.extf"); }

/* Results that carry no derivative. */
static void dNone(AdScalar *s, MlirOperation op, MlirValue g) {
  (void)s, (void)op, (void)g;
}

const AdScalarRule adScalarRules[] = {
    {"arith.addf", dAddf},
    {"arith.subf", dSubf},
    {"arith.mulf", dMulf},
    {"arith.divf", dDivf},
    {"arith.negf", dNegf},
    {"arith.maximumf", dMax},
    {"arith.maxnumf", dMax},
    {"arith.minimumf", dMin},
    {"arith.minnumf", dMin},
    {"arith.select", dSelect},
    {"arith.extf", dExtf},
    {"arith.truncf", dTruncf},
    {"math.exp", dExp},
    {"math.log", dLog},
    {"math.tanh", dTanh},
    {"math.sqrt", dSqrt},
    {"math.rsqrt", dRsqrt},
    {"math.absf", dAbsf},
    /* No derivative: constants, conversions from integers, comparisons,
     * index computations and reads of captured tensors. */
    {"arith.constant", dNone},
    {"arith.sitofp", dNone},
    {"arith.uitofp", dNone},
    {"arith.cmpf", dNone},
    {"linalg.index", dNone},
    {"tensor.extract", dNone},
    {NULL, NULL},
};
