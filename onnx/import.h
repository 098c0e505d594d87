/*
 * The ONNX importer's internals, shared by import.c (the graph walk and the
 * output), emit.c (values, constants, MLIR text helpers, folding) and the
 * op translations (ops-compute.c, ops-tensor.c). Not installed.
 */
#ifndef CLUSTERC_ONNX_IMPORT_H
#define CLUSTERC_ONNX_IMPORT_H

#include "internal.h"

enum { MAX_RANK = 8, FOLD_MAX = 4096, CONST_INLINE = 16 };

typedef struct Shape {
  int rank;
  int64_t d[MAX_RANK];
} Shape;

typedef struct Val {
  const char *name;
  int32_t dtype;
  Shape s;
  int ssa; /* -1 until defined at run time */
  const Onnx__TensorProto *init; /* an initializer: a resource blob */
  const void *data;              /* contents known at import time */
  void *owned;
  const char *key; /* resource key once materialized */
} Val;

typedef struct Ctx {
  OnnxErr *e;
  OnnxModel *m;
  const ClustercOnnxOptions *o;
  Val **all; /* every Val, for freeing */
  size_t nAll, capAll;
  const char **names; /* hash table: name -> Val */
  Val **slots;
  size_t nSlots, nUsed;
  Val **resources;
  size_t nRes, capRes;
  Buf body;
  int nextSsa;
  const Onnx__NodeProto *node;
  int64_t opset;
  char tybuf[16][320];
  int tyNext;
  char nodeName[64]; /* for nodes without a name */
} Ctx;

/* A linalg.generic input: loop index per operand dim (-1: constant 0). A
 * scalar constant (inline != NULL) becomes an arith.constant in the body. */
typedef struct GIn {
  Val *v;
  int map[MAX_RANK];
  bool inlined;
} GIn;

typedef ClustercOnnxStatus (*ImOpFn)(Ctx *c, const char *arg);
typedef struct ImOp {
  const char *name; /* the ONNX op_type */
  ImOpFn fn;
  const char *arg; /* handed to fn */
} ImOp;
extern const ImOp imComputeOps[], imTensorOps[];
extern const size_t imNumComputeOps, imNumTensorOps;

Val *imLookup(Ctx *c, const char *name);
bool imBind(Ctx *c, const char *name, Val *v);
Val *imNewVal(Ctx *c, const char *name, int32_t dtype, const Shape *s);
int64_t imNumel(const Shape *s);
bool imIsFloat(int32_t dt);
bool imFoldable(Val **ins, int n, const Shape *os);
const char *imNodeName(const Ctx *c);
ClustercOnnxStatus imFail(Ctx *c, ClustercOnnxStatus st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *imTyDims(Ctx *c, const Shape *s, int32_t dt);
const char *imTy(Ctx *c, const Val *v);
void imPutLoc(Buf *b, const char *name);
void imEndOp(Ctx *c);
int imNewSsa(Ctx *c);
void imPutHex(Buf *b, const void *data, size_t n);
void imScalarLit(char *out, size_t n, const void *data, int32_t dt);
void imFloatLit(char *out, size_t n, float f);
ClustercOnnxStatus imMaterialize(Ctx *c, Val *v);
const Onnx__AttributeProto *imAttr(const Onnx__NodeProto *n, const char *name);
int64_t imAttrI(const Onnx__NodeProto *n, const char *name, int64_t dflt);
float imAttrF(const Onnx__NodeProto *n, const char *name, float dflt);
int imAttrInts(const Onnx__NodeProto *n, const char *name, int64_t *out, int max);
bool imHasInput(const Onnx__NodeProto *n, size_t i);
ClustercOnnxStatus imInput(Ctx *c, size_t i, Val **out);
ClustercOnnxStatus imOutput(Ctx *c, size_t i, int32_t dt, const Shape *s, Val **out);
ClustercOnnxStatus imOnlyOutputs(Ctx *c, size_t used);
ClustercOnnxStatus imConstInts(Ctx *c, Val *v, int64_t *out, int max, int *count);
bool imConstScalarF(const Val *v, double *out);
int imNormAxis(int64_t a, int rank);
ClustercOnnxStatus imUse(Ctx *c, Val *v);
ClustercOnnxStatus imEmptyInit(Ctx *c, const Shape *s, int32_t dt, const char *fill, int *ssa);
ClustercOnnxStatus imGeneric(Ctx *c, GIn *ins, int nIn, int loops, const char *iters,
                                  const Shape *os, int32_t odt, const int *omap, int init,
                                  const char *body, int *res);
void imIdentityMap(int *map, int rank);
bool imBroadcast(const Shape *a0, const Shape *b0, Shape *out);
void imBroadcastMap(const Shape *in, const Shape *os, int *map);
void imSetIn(GIn *g, Val *v, const Shape *os);
ClustercOnnxStatus imEltwise(Ctx *c, Val **ins, int n, int32_t odt, const char *body, Val **out);
int imReshapeSsa(Ctx *c, int ssa, const Shape *from, const Shape *to, int32_t dt);
ClustercOnnxStatus imReshapeTo(Ctx *c, Val *v, const Shape *to);
ClustercOnnxStatus imFillConst(Ctx *c, const Shape *s, int32_t dt, float f, int *ssa);
int imPad(Ctx *c, int ssa, const Shape *in, const int64_t *lo, const int64_t *hi, float value,
               Shape *out);
ClustercOnnxStatus imConstOut(Ctx *c, size_t i, int32_t dt, const Shape *s, void *data);
int64_t imBcastIndex(const Shape *in, const Shape *os, int64_t lin);
double imLoadD(const Val *v, int64_t i);
int64_t imLoadI(const Val *v, int64_t i);
void imStoreAs(void *data, int32_t dt, int64_t i, double d, int64_t iv, bool useInt);
/* Axes of Squeeze/Unsqueeze/Reduce*: the attribute, else input 1 (ops-tensor.c). */
ClustercOnnxStatus imAxesOf(Ctx *c, int64_t *axes, int *n);

#endif
