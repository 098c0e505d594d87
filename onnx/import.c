/*
 * ONNX -> MLIR (linalg on tensors), as text.
 *
 * The graph is walked once in node order (ONNX requires a topological
 * order). Every ONNX value gets a Val: its element type, its static shape
 * and, once used at run time, an SSA number. Values known at import time
 * (initializers, Constant nodes, Shape outputs and what small data-movement
 * ops compute from them) also carry their data, so the Shape/Gather/
 * Unsqueeze/Concat chains that torch exports for reshape targets fold away
 * and only the constants a run-time op uses are written: initializers (but
 * scalars) and other constants of more than CONST_INLINE elements as
 * dense_resource blobs named after them, the rest inline.
 *
 * Nothing reaches the caller's callback until the whole graph has been
 * translated: the function body is built in memory, the resource blobs are
 * streamed from the model's bytes at the end.
 *
 * Ops become named linalg ops that exist in MLIR 19 and 22 alike (conv,
 * depthwise conv, matmul, batch_matmul, pooling, fill, transpose) or
 * linalg.generic; broadcasting inputs get constant-0 indexing results
 * (affine_map<(d0, d1) -> (0, d1)>), as torch-mlir emits them.
 */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- values ---------------------------------------------------------- */

static uint64_t hashStr(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; ++s)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static Val *lookup(Ctx *c, const char *name) {
  if (!c->nSlots)
    return NULL;
  for (size_t i = hashStr(name) & (c->nSlots - 1);; i = (i + 1) & (c->nSlots - 1)) {
    if (!c->names[i])
      return NULL;
    if (!strcmp(c->names[i], name))
      return c->slots[i];
  }
}

static bool bind(Ctx *c, const char *name, Val *v) {
  if ((c->nUsed + 1) * 2 > c->nSlots) {
    size_t n = c->nSlots ? c->nSlots * 2 : 256;
    const char **names = calloc(n, sizeof *names);
    Val **slots = calloc(n, sizeof *slots);
    if (!names || !slots) {
      free(names);
      free(slots);
      return false;
    }
    for (size_t i = 0; i < c->nSlots; ++i)
      if (c->names[i]) {
        size_t j = hashStr(c->names[i]) & (n - 1);
        while (names[j])
          j = (j + 1) & (n - 1);
        names[j] = c->names[i];
        slots[j] = c->slots[i];
      }
    free(c->names);
    free(c->slots);
    c->names = names;
    c->slots = slots;
    c->nSlots = n;
  }
  size_t i = hashStr(name) & (c->nSlots - 1);
  while (c->names[i] && strcmp(c->names[i], name))
    i = (i + 1) & (c->nSlots - 1);
  if (!c->names[i])
    ++c->nUsed;
  c->names[i] = name;
  c->slots[i] = v;
  return true;
}

static Val *newVal(Ctx *c, const char *name, int32_t dtype, const Shape *s) {
  if (c->nAll == c->capAll) {
    size_t n = c->capAll ? c->capAll * 2 : 256;
    Val **p = realloc(c->all, n * sizeof *p);
    if (!p)
      return NULL;
    c->all = p;
    c->capAll = n;
  }
  Val *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->name = name;
  v->dtype = dtype;
  if (s)
    v->s = *s;
  v->ssa = -1;
  c->all[c->nAll++] = v;
  if (name && *name && !bind(c, name, v))
    return NULL;
  return v;
}

static int64_t numel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; ++i)
    n *= s->d[i];
  return n;
}

static bool isFloat(int32_t dt) {
  return dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
         dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE || dt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
}

/* Whether an op on constants is computed at import time: its output is
 * small and no input is a float tensor of more than CONST_INLINE elements,
 * so weights (say an embedding table indexed by constant positions) stay
 * named resources with their consumers, and what folds is the integer
 * shape arithmetic and small float constants. */
static bool foldable(Val **ins, int n, const Shape *os) {
  if (numel(os) > FOLD_MAX)
    return false;
  for (int i = 0; i < n; ++i)
    if (ins[i] && (!ins[i]->data || (isFloat(ins[i]->dtype) && numel(&ins[i]->s) > CONST_INLINE)))
      return false;
  return true;
}

/* ---- diagnostics ----------------------------------------------------- */

static const char *nodeName(const Ctx *c) {
  return c->node->name && *c->node->name ? c->node->name : c->nodeName;
}

static ClustercOnnxStatus fail(Ctx *c, ClustercOnnxStatus st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ClustercOnnxStatus fail(Ctx *c, ClustercOnnxStatus st, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->node)
    return onnxFail(c->e, st, "node '%s' (%s): %s", nodeName(c),
                    c->node->op_type ? c->node->op_type : "", msg);
  return onnxFail(c->e, st, "%s", msg);
}

/* ---- text helpers ---------------------------------------------------- */

static const char *tyDims(Ctx *c, const Shape *s, int32_t dt) {
  char *b = c->tybuf[c->tyNext++ & 15];
  int n = snprintf(b, 320, "tensor<");
  for (int i = 0; i < s->rank; ++i)
    n += snprintf(b + n, (size_t)(320 - n), "%lldx", (long long)s->d[i]);
  snprintf(b + n, (size_t)(320 - n), "%s>", onnxMlirType(dt));
  return b;
}

static const char *ty(Ctx *c, const Val *v) { return tyDims(c, &v->s, v->dtype); }

static void putLoc(Buf *b, const char *name) {
  bufPuts(b, " loc(\"");
  for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p; ++p) {
    if (*p == '"' || *p == '\\')
      bufPrintf(b, "\\%c", *p);
    else if (*p < 32 || *p > 126)
      bufPrintf(b, "\\%02X", *p);
    else
      bufAppend(b, p, 1);
  }
  bufPuts(b, "\")");
}

/* Ends an op's line with the current node's location. */
static void endOp(Ctx *c) {
  putLoc(&c->body, c->node ? nodeName(c) : "");
  bufPuts(&c->body, "\n");
}

static int newSsa(Ctx *c) { return c->nextSsa++; }

static void putHex(Buf *b, const void *data, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  const uint8_t *p = data;
  char chunk[1024];
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    chunk[k++] = hex[p[i] >> 4];
    chunk[k++] = hex[p[i] & 15];
    if (k == sizeof chunk) {
      bufAppend(b, chunk, k);
      k = 0;
    }
  }
  bufAppend(b, chunk, k);
}

/* A scalar literal for arith.constant: "0x3F800000 : f32", "3 : i64". */
static void scalarLit(char *out, size_t n, const void *data, int32_t dt) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
    uint32_t u;
    memcpy(&u, data, 4);
    snprintf(out, n, "0x%08X : f32", u);
    break;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
    uint64_t u;
    memcpy(&u, data, 8);
    snprintf(out, n, "0x%016llX : f64", (unsigned long long)u);
    break;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
  case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: {
    uint16_t u;
    memcpy(&u, data, 2);
    snprintf(out, n, "0x%04X : %s", u, onnxMlirType(dt));
    break;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
    int64_t v;
    memcpy(&v, data, 8);
    snprintf(out, n, "%lld : i64", (long long)v);
    break;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
    int32_t v;
    memcpy(&v, data, 4);
    snprintf(out, n, "%d : i32", v);
    break;
  }
  default:
    snprintf(out, n, "%d : %s", *(const uint8_t *)data, onnxMlirType(dt));
  }
}

static void floatLit(char *out, size_t n, float f) { scalarLit(out, n, &f, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT); }

void clustercOnnxResourceKey(const char *name, char *key, size_t keySize) {
  if (!keySize)
    return;
  size_t k = 0;
  if (!name || !*name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '_'))
    if (k + 1 < keySize)
      key[k++] = '_';
  for (const char *p = name ? name : ""; *p && k + 1 < keySize; ++p) {
    char ch = *p;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '$';
    key[k++] = ok ? ch : '_';
  }
  key[k] = 0;
}

/* A constant as an SSA value: initializers (and large Constant nodes) as
 * dense_resource named after them, the rest inline. */
static ClustercOnnxStatus materialize(Ctx *c, Val *v) {
  if (v->ssa >= 0)
    return CLUSTERC_ONNX_OK;
  if (!v->data)
    return fail(c, CLUSTERC_ONNX_INVALID, "value '%s' is used before it is defined", v->name);
  if (!onnxMlirType(v->dtype) || v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "constant '%s' has an unsupported type", v->name);
  v->ssa = newSsa(c);
  int64_t n = numel(&v->s);
  size_t bytes = (size_t)n * onnxElementSize(v->dtype);
  if ((v->init && n > 1) || n > CONST_INLINE) {
    char base[256], key[300];
    clustercOnnxResourceKey(v->name, base, sizeof base);
    snprintf(key, sizeof key, "%s", base);
    for (int k = 1;; ++k) {
      bool clash = false;
      for (size_t i = 0; i < c->nRes && !clash; ++i)
        clash = !strcmp(c->resources[i]->key, key);
      if (!clash)
        break;
      snprintf(key, sizeof key, "%s_%d", base, k);
    }
    char *dup = strdup(key);
    if (!dup || (c->nRes == c->capRes && !(c->capRes = c->capRes ? 2 * c->capRes : 64,
                                           c->resources = realloc(c->resources, c->capRes * sizeof(Val *))))) {
      free(dup);
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    }
    v->key = dup;
    c->resources[c->nRes++] = v;
    bufPrintf(&c->body, "    %%v%d = arith.constant dense_resource<%s> : %s", v->ssa, key, ty(c, v));
  } else {
    bufPrintf(&c->body, "    %%v%d = arith.constant dense<\"0x", v->ssa);
    putHex(&c->body, v->data, bytes);
    bufPrintf(&c->body, "\"> : %s", ty(c, v));
  }
  putLoc(&c->body, v->name);
  bufPuts(&c->body, "\n");
  return CLUSTERC_ONNX_OK;
}

/* ---- node access ----------------------------------------------------- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; ++i)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
      return n->attribute[i];
  return NULL;
}

static int64_t attrI(const Onnx__NodeProto *n, const char *name, int64_t dflt) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_i ? a->i : dflt;
}

static float attrF(const Onnx__NodeProto *n, const char *name, float dflt) {
  const Onnx__AttributeProto *a = attr(n, name);
  return a && a->has_f ? a->f : dflt;
}

/* Copies an ints attribute; returns its length, -1 when absent. */
static int attrInts(const Onnx__NodeProto *n, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = attr(n, name);
  if (!a)
    return -1;
  int k = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
  for (int i = 0; i < k; ++i)
    out[i] = a->ints[i];
  return k;
}

static bool hasInput(const Onnx__NodeProto *n, size_t i) { return i < n->n_input && n->input[i][0]; }

static ClustercOnnxStatus input(Ctx *c, size_t i, Val **out) {
  const Onnx__NodeProto *n = c->node;
  *out = NULL;
  if (!hasInput(n, i))
    return fail(c, CLUSTERC_ONNX_INVALID, "input %zu is missing", i);
  Val *v = lookup(c, n->input[i]);
  if (!v)
    return fail(c, CLUSTERC_ONNX_INVALID, "input '%s' is not defined", n->input[i]);
  *out = v;
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus output(Ctx *c, size_t i, int32_t dt, const Shape *s, Val **out) {
  if (i >= c->node->n_output || !c->node->output[i][0])
    return fail(c, CLUSTERC_ONNX_INVALID, "output %zu is missing", i);
  for (int k = 0; k < s->rank; ++k)
    if (s->d[k] < 0)
      return fail(c, CLUSTERC_ONNX_INVALID, "negative dimension");
  *out = newVal(c, c->node->output[i], dt, s);
  return *out ? CLUSTERC_ONNX_OK : fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
}

/* Only the first `used` outputs may be consumed. */
static ClustercOnnxStatus onlyOutputs(Ctx *c, size_t used) {
  for (size_t i = used; i < c->node->n_output; ++i)
    if (c->node->output[i][0])
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "output %zu ('%s') is not supported", i,
                  c->node->output[i]);
  return CLUSTERC_ONNX_OK;
}

/* Constant int64 contents of an input (axes, shapes, pads). */
static ClustercOnnxStatus constInts(Ctx *c, Val *v, int64_t *out, int max, int *count) {
  if (!v->data)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' must be a constant", v->name);
  int64_t n = numel(&v->s);
  if (n > max)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' has too many elements", v->name);
  for (int64_t i = 0; i < n; ++i) {
    if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
      memcpy(&out[i], (const char *)v->data + 8 * i, 8);
    else if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      int32_t x;
      memcpy(&x, (const char *)v->data + 4 * i, 4);
      out[i] = x;
    } else
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' must hold integers", v->name);
  }
  *count = (int)n;
  return CLUSTERC_ONNX_OK;
}

/* A float scalar constant's value. */
static bool constScalarF(const Val *v, double *out) {
  if (!v->data || numel(&v->s) != 1)
    return false;
  switch (v->dtype) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
    float f;
    memcpy(&f, v->data, 4);
    *out = f;
    return true;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    memcpy(out, v->data, 8);
    return true;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: {
    int64_t i;
    memcpy(&i, v->data, 8);
    *out = (double)i;
    return true;
  }
  default:
    return false;
  }
}

static int normAxis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }

/* ---- emission helpers ------------------------------------------------ */

static ClustercOnnxStatus use(Ctx *c, Val *v) { return v->ssa >= 0 ? CLUSTERC_ONNX_OK : materialize(c, v); }

/* A linalg.generic input: loop index per operand dim (-1: constant 0). A
 * scalar constant (inline != NULL) becomes an arith.constant in the body. */
typedef struct GIn {
  Val *v;
  int map[MAX_RANK];
  bool inlined;
} GIn;

static void putMap(Buf *b, int loops, int rank, const int *map) {
  bufPuts(b, "affine_map<(");
  for (int i = 0; i < loops; ++i)
    bufPrintf(b, "%sd%d", i ? ", " : "", i);
  bufPuts(b, ") -> (");
  for (int i = 0; i < rank; ++i) {
    if (map[i] < 0)
      bufPrintf(b, "%s0", i ? ", " : "");
    else
      bufPrintf(b, "%sd%d", i ? ", " : "", map[i]);
  }
  bufPuts(b, ")>");
}

static ClustercOnnxStatus emptyInit(Ctx *c, const Shape *s, int32_t dt, const char *fill, int *ssa) {
  int e = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = tensor.empty() : %s", e, tyDims(c, s, dt));
  endOp(c);
  if (!fill) {
    *ssa = e;
    return CLUSTERC_ONNX_OK;
  }
  int k = newSsa(c), f = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = arith.constant %s", k, fill);
  endOp(c);
  bufPrintf(&c->body, "    %%v%d = linalg.fill ins(%%v%d : %s) outs(%%v%d : %s) -> %s", f, k,
            onnxMlirType(dt), e, tyDims(c, s, dt), tyDims(c, s, dt));
  endOp(c);
  *ssa = f;
  return CLUSTERC_ONNX_OK;
}

/*
 * %r = linalg.generic over `loops` loops (iters: 'p'/'r' per loop) with the
 * inputs ins, writing a tensor of shape os (output map omap) initialised by
 * init (-1: tensor.empty). body uses %a<i> for input i and %o for the
 * output and ends with linalg.yield.
 */
static ClustercOnnxStatus generic(Ctx *c, GIn *ins, int nIn, int loops, const char *iters,
                                  const Shape *os, int32_t odt, const int *omap, int init,
                                  const char *body, int *res) {
  ClustercOnnxStatus st;
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined && (st = use(c, ins[i].v)))
      return st;
  if (init < 0 && (st = emptyInit(c, os, odt, NULL, &init)))
    return st;
  Buf *b = &c->body;
  int r = newSsa(c);
  bufPrintf(b, "    %%v%d = linalg.generic {indexing_maps = [", r);
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined) {
      putMap(b, loops, ins[i].v->s.rank, ins[i].map);
      bufPuts(b, ", ");
    }
  putMap(b, loops, os->rank, omap);
  bufPuts(b, "], iterator_types = [");
  for (int i = 0; i < loops; ++i)
    bufPrintf(b, "%s\"%s\"", i ? ", " : "", iters[i] == 'r' ? "reduction" : "parallel");
  bufPuts(b, "]} ins(");
  int k = 0;
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined)
      bufPrintf(b, "%s%%v%d", k++ ? ", " : "", ins[i].v->ssa);
  bufPuts(b, k ? " : " : "");
  k = 0;
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined)
      bufPrintf(b, "%s%s", k++ ? ", " : "", ty(c, ins[i].v));
  bufPrintf(b, ") outs(%%v%d : %s) {\n    ^bb0(", init, tyDims(c, os, odt));
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined)
      bufPrintf(b, "%%a%d: %s, ", i, onnxMlirType(ins[i].v->dtype));
  bufPrintf(b, "%%o: %s):\n", onnxMlirType(odt));
  for (int i = 0; i < nIn; ++i)
    if (ins[i].inlined) {
      char lit[64];
      scalarLit(lit, sizeof lit, ins[i].v->data, ins[i].v->dtype);
      bufPrintf(b, "      %%a%d = arith.constant %s\n", i, lit);
    }
  bufPuts(b, body);
  bufPrintf(b, "    } -> %s", tyDims(c, os, odt));
  endOp(c);
  *res = r;
  return CLUSTERC_ONNX_OK;
}

static void identityMap(int *map, int rank) {
  for (int i = 0; i < rank; ++i)
    map[i] = i;
}

/* Numpy broadcasting of a and b into out. */
static bool broadcast(const Shape *a0, const Shape *b0, Shape *out) {
  Shape as = *a0, bs = *b0; /* out may alias an input */
  const Shape *a = &as, *b = &bs;
  int r = a->rank > b->rank ? a->rank : b->rank;
  out->rank = r;
  for (int i = 0; i < r; ++i) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return false;
    out->d[i] = da == 1 ? db : da;
  }
  return true;
}

/* The input map of an operand broadcast to rank/dims os. */
static void broadcastMap(const Shape *in, const Shape *os, int *map) {
  int off = os->rank - in->rank;
  for (int i = 0; i < in->rank; ++i)
    map[i] = (in->d[i] == 1 && os->d[i + off] != 1) ? -1 : i + off;
}

static void setIn(GIn *g, Val *v, const Shape *os) {
  g->v = v;
  g->inlined = v->data && numel(&v->s) == 1 && v->s.rank <= os->rank;
  broadcastMap(&v->s, os, g->map);
}

/* A broadcasting elementwise op over inputs ins; body as in generic(). */
static ClustercOnnxStatus eltwise(Ctx *c, Val **ins, int n, int32_t odt, const char *body, Val **out) {
  Shape os = ins[0]->s;
  for (int i = 1; i < n; ++i)
    if (!broadcast(&os, &ins[i]->s, &os))
      return fail(c, CLUSTERC_ONNX_INVALID, "shapes of '%s' and '%s' do not broadcast", ins[0]->name,
                  ins[i]->name);
  GIn g[8];
  for (int i = 0; i < n; ++i)
    setIn(&g[i], ins[i], &os);
  /* An all-constant op still needs one run-time operand. */
  bool any = false;
  for (int i = 0; i < n; ++i)
    any |= !g[i].inlined;
  if (!any)
    g[0].inlined = false, broadcastMap(&ins[0]->s, &os, g[0].map);
  int omap[MAX_RANK];
  identityMap(omap, os.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  ClustercOnnxStatus st = output(c, 0, odt, &os, out);
  if (st)
    return st;
  return generic(c, g, n, os.rank, iters, &os, odt, omap, -1, body, &(*out)->ssa);
}

/* Reassociation of `big` into `small` (products of consecutive groups);
 * start[i] = first dim of big in group i. */
static bool groups(const Shape *big, const Shape *small, int *start) {
  int j = 0;
  for (int i = 0; i < small->rank; ++i) {
    start[i] = j;
    if (j >= big->rank)
      return false;
    int64_t p = big->d[j++];
    while (p < small->d[i] && j < big->rank)
      p *= big->d[j++];
    if (p != small->d[i])
      return false;
  }
  for (; j < big->rank; ++j) /* trailing 1s join the last group */
    if (big->d[j] != 1)
      return false;
  return true;
}

static void putReassoc(Buf *b, const Shape *big, const Shape *small, const int *start) {
  bufPuts(b, "[");
  for (int i = 0; i < small->rank; ++i) {
    int end = i + 1 < small->rank ? start[i + 1] : big->rank;
    bufPuts(b, i ? ", [" : "[");
    for (int k = start[i]; k < end; ++k)
      bufPrintf(b, "%s%d", k > start[i] ? ", " : "", k);
    bufPuts(b, "]");
  }
  bufPuts(b, "]");
}

/* tensor.collapse_shape / expand_shape from shape `from` to `to` (same
 * element count); through a 1-D tensor when no single step does it. */
static int reshapeSsa(Ctx *c, int ssa, const Shape *from, const Shape *to, int32_t dt) {
  if (from->rank == to->rank && !memcmp(from->d, to->d, (size_t)from->rank * sizeof(int64_t)))
    return ssa;
  int start[MAX_RANK];
  if (from->rank > to->rank && groups(from, to, start)) {
    int r = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = tensor.collapse_shape %%v%d ", r, ssa);
    putReassoc(&c->body, from, to, start);
    bufPrintf(&c->body, " : %s into %s", tyDims(c, from, dt), tyDims(c, to, dt));
    endOp(c);
    return r;
  }
  if (from->rank < to->rank && groups(to, from, start)) {
    int r = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = tensor.expand_shape %%v%d ", r, ssa);
    putReassoc(&c->body, to, from, start);
    bufPuts(&c->body, " output_shape [");
    for (int i = 0; i < to->rank; ++i)
      bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)to->d[i]);
    bufPrintf(&c->body, "] : %s into %s", tyDims(c, from, dt), tyDims(c, to, dt));
    endOp(c);
    return r;
  }
  Shape flat = {1, {numel(from)}};
  return reshapeSsa(c, reshapeSsa(c, ssa, from, &flat, dt), &flat, to, dt);
}

/* Output 0 as a reshape of v (folded when v is a small constant). */
static ClustercOnnxStatus reshapeTo(Ctx *c, Val *v, const Shape *to) {
  if (numel(to) != numel(&v->s))
    return fail(c, CLUSTERC_ONNX_INVALID, "cannot reshape %lld elements to %lld",
                (long long)numel(&v->s), (long long)numel(to));
  Val *out;
  ClustercOnnxStatus st = output(c, 0, v->dtype, to, &out);
  if (st)
    return st;
  if (foldable(&v, 1, to)) {
    out->data = v->data; /* v outlives the import */
    return CLUSTERC_ONNX_OK;
  }
  if ((st = use(c, v)))
    return st;
  out->ssa = reshapeSsa(c, v->ssa, &v->s, to, v->dtype);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus fillConst(Ctx *c, const Shape *s, int32_t dt, float f, int *ssa) {
  char lit[64];
  floatLit(lit, sizeof lit, f);
  return emptyInit(c, s, dt, lit, ssa);
}

/* tensor.pad with a constant. */
static int pad(Ctx *c, int ssa, const Shape *in, const int64_t *lo, const int64_t *hi, float value,
               Shape *out) {
  *out = *in;
  bool any = false;
  for (int i = 0; i < in->rank; ++i) {
    out->d[i] += lo[i] + hi[i];
    any |= lo[i] || hi[i];
  }
  if (!any)
    return ssa;
  char lit[64];
  floatLit(lit, sizeof lit, value);
  int k = newSsa(c), r = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = arith.constant %s", k, lit);
  endOp(c);
  bufPrintf(&c->body, "    %%v%d = tensor.pad %%v%d low[", r, ssa);
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)lo[i]);
  bufPuts(&c->body, "] high[");
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)hi[i]);
  bufPuts(&c->body, "] {\n    ^bb0(");
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%%i%d: index", i ? ", " : "", i);
  bufPrintf(&c->body, "):\n      tensor.yield %%v%d : f32\n    } : %s to %s", k, tyDims(c, in, 1),
            tyDims(c, out, 1));
  endOp(c);
  return r;
}

/* ---- folding --------------------------------------------------------- */

/* Output i becomes a constant holding `data` (owned by the new Val). */
static ClustercOnnxStatus constOut(Ctx *c, size_t i, int32_t dt, const Shape *s, void *data) {
  Val *out;
  ClustercOnnxStatus st = output(c, i, dt, s, &out);
  if (st) {
    free(data);
    return st;
  }
  out->data = out->owned = data;
  return CLUSTERC_ONNX_OK;
}



/* Linear index into a broadcast operand from an output index. */
static int64_t bcastIndex(const Shape *in, const Shape *os, int64_t lin) {
  int64_t idx = 0, stride = 1;
  for (int i = os->rank - 1; i >= 0; --i) {
    int64_t coord = lin % os->d[i];
    lin /= os->d[i];
    int k = i - (os->rank - in->rank);
    if (k >= 0) {
      if (in->d[k] != 1)
        idx += coord * stride;
      stride *= in->d[k];
    }
  }
  return idx;
}

static double loadD(const Val *v, int64_t i) {
  if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    float f;
    memcpy(&f, (const char *)v->data + 4 * i, 4);
    return f;
  }
  if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    int32_t x;
    memcpy(&x, (const char *)v->data + 4 * i, 4);
    return x;
  }
  if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE) {
    double d;
    memcpy(&d, (const char *)v->data + 8 * i, 8);
    return d;
  }
  int64_t x;
  memcpy(&x, (const char *)v->data + 8 * i, 8);
  return (double)x;
}

static int64_t loadI(const Val *v, int64_t i) {
  if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
    int64_t x;
    memcpy(&x, (const char *)v->data + 8 * i, 8);
    return x;
  }
  return (int64_t)loadD(v, i);
}

static void storeAs(void *data, int32_t dt, int64_t i, double d, int64_t iv, bool useInt) {
  switch (dt) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: {
    float f = (float)d;
    memcpy((char *)data + 4 * i, &f, 4);
    break;
  }
  case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    memcpy((char *)data + 8 * i, &d, 8);
    break;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: {
    int32_t x = useInt ? (int32_t)iv : (int32_t)d;
    memcpy((char *)data + 4 * i, &x, 4);
    break;
  }
  default: {
    int64_t x = useInt ? iv : (int64_t)d;
    memcpy((char *)data + 8 * i, &x, 8);
  }
  }
}

/* ---- ops ------------------------------------------------------------- */

typedef ClustercOnnxStatus (*OpFn)(Ctx *c, const char *arg);

static ClustercOnnxStatus opBinary(Ctx *c, const char *op) {
  Val *in[2];
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &in[0])) || (st = input(c, 1, &in[1])))
    return st;
  int32_t dt = in[0]->dtype;
  Shape os;
  if (!broadcast(&in[0]->s, &in[1]->s, &os))
    return fail(c, CLUSTERC_ONNX_INVALID, "shapes do not broadcast");
  if (foldable(in, 2, &os) && (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
                               dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)) {
    int64_t n = numel(&os);
    void *data = malloc((size_t)(n ? n : 1) * 8);
    if (!data)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    bool isInt = dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    for (int64_t i = 0; i < n; ++i) {
      int64_t ia = bcastIndex(&in[0]->s, &os, i), ib = bcastIndex(&in[1]->s, &os, i);
      float a = (float)loadD(in[0], ia), b = (float)loadD(in[1], ib), r = 0;
      int64_t x = loadI(in[0], ia), y = loadI(in[1], ib), ri = 0;
      switch (op[0]) {
      case 'A': r = a + b, ri = x + y; break;
      case 'S': r = a - b, ri = x - y; break;
      case 'M': r = a * b, ri = x * y; break;
      case 'D': r = a / b, ri = y ? x / y : 0; break;
      default: r = powf(a, b), ri = (int64_t)r; break;
      }
      storeAs(data, dt, i, r, ri, isInt);
    }
    return constOut(c, 0, dt, &os, data);
  }
  const char *et = onnxMlirType(dt);
  char body[512];
  bool fl = isFloat(dt);
  if (!et)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "unsupported element type");
  if (op[0] == 'P') {
    double ex = 0;
    bool k = constScalarF(in[1], &ex);
    if (!fl)
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "integer Pow");
    if (k && (ex == 2.0 || ex == 0.5)) {
      /* x*x is what torch computes for pow(x, 2); keeps the result exact. */
      if (ex == 2.0)
        snprintf(body, sizeof body, "      %%r = arith.mulf %%a0, %%a0 : %s\n      linalg.yield %%r : %s\n", et, et);
      else
        snprintf(body, sizeof body, "      %%r = math.sqrt %%a0 : %s\n      linalg.yield %%r : %s\n", et, et);
      if (os.rank != in[0]->s.rank || memcmp(os.d, in[0]->s.d, sizeof(int64_t) * (size_t)os.rank))
        return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Pow broadcasting its base");
      Val *out;
      return eltwise(c, in, 1, dt, body, &out);
    }
    if (in[1]->dtype != dt)
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Pow with an exponent of another type");
    snprintf(body, sizeof body, "      %%r = math.powf %%a0, %%a1 : %s\n      linalg.yield %%r : %s\n", et, et);
  } else {
    if (in[1]->dtype != dt)
      return fail(c, CLUSTERC_ONNX_INVALID, "operands of different types");
    const char *name = op[0] == 'A' ? "add" : op[0] == 'S' ? "sub" : op[0] == 'M' ? "mul" : fl ? "div" : "divs";
    snprintf(body, sizeof body, "      %%r = arith.%s%s %%a0, %%a1 : %s\n      linalg.yield %%r : %s\n",
             name, fl ? "f" : "i", et, et);
  }
  Val *out;
  return eltwise(c, in, 2, dt, body, &out);
}

static ClustercOnnxStatus opUnary(Ctx *c, const char *op) {
  Val *x;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  if (!isFloat(x->dtype))
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-float input");
  const char *et = onnxMlirType(x->dtype);
  char body[512];
  if (!strcmp(op, "relu"))
    snprintf(body, sizeof body,
             "      %%z = arith.constant 0.0 : %s\n      %%r = arith.maximumf %%a0, %%z : %s\n"
             "      linalg.yield %%r : %s\n", et, et, et);
  else if (!strcmp(op, "neg"))
    snprintf(body, sizeof body, "      %%r = arith.negf %%a0 : %s\n      linalg.yield %%r : %s\n", et, et);
  else if (!strcmp(op, "sigmoid"))
    snprintf(body, sizeof body,
             "      %%one = arith.constant 1.0 : %s\n      %%n = arith.negf %%a0 : %s\n"
             "      %%e = math.exp %%n : %s\n      %%d = arith.addf %%one, %%e : %s\n"
             "      %%r = arith.divf %%one, %%d : %s\n      linalg.yield %%r : %s\n", et, et, et, et, et, et);
  else if (!strcmp(op, "reciprocal"))
    snprintf(body, sizeof body,
             "      %%one = arith.constant 1.0 : %s\n      %%r = arith.divf %%one, %%a0 : %s\n"
             "      linalg.yield %%r : %s\n", et, et, et);
  else
    snprintf(body, sizeof body, "      %%r = math.%s %%a0 : %s\n      linalg.yield %%r : %s\n", op, et, et);
  Val *out;
  return eltwise(c, &x, 1, x->dtype, body, &out);
}

static ClustercOnnxStatus opClip(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *lo = NULL, *hi = NULL;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st || (hasInput(c->node, 1) && (st = input(c, 1, &lo))) ||
      (hasInput(c->node, 2) && (st = input(c, 2, &hi))))
    return st;
  double l = -INFINITY, h = INFINITY;
  if ((lo && !constScalarF(lo, &l)) || (hi && !constScalarF(hi, &h)) || x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Clip needs constant scalar bounds and a f32 input");
  char ll[64], hl[64], body[512];
  floatLit(ll, sizeof ll, (float)l);
  floatLit(hl, sizeof hl, (float)h);
  snprintf(body, sizeof body,
           "      %%lo = arith.constant %s\n      %%hi = arith.constant %s\n"
           "      %%m = arith.maximumf %%a0, %%lo : f32\n      %%r = arith.minimumf %%m, %%hi : f32\n"
           "      linalg.yield %%r : f32\n", ll, hl);
  Val *out;
  return eltwise(c, &x, 1, x->dtype, body, &out);
}

static ClustercOnnxStatus opIdentity(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st || (st = onlyOutputs(c, 1)))
    return st;
  return bind(c, c->node->output[0], x) ? CLUSTERC_ONNX_OK : fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
}

static ClustercOnnxStatus tensorVal(Ctx *c, const Onnx__TensorProto *t, Val *out) {
  Shape s = {(int)t->n_dims, {0}};
  if (t->n_dims > MAX_RANK)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "rank %zu", t->n_dims);
  for (size_t i = 0; i < t->n_dims; ++i)
    s.d[i] = t->dims[i];
  out->dtype = t->data_type;
  out->s = s;
  size_t size;
  ClustercOnnxStatus st = onnxTensorData(c->e, c->m, t, out->name, &out->data, &size, &out->owned);
  if (st && c->node) {
    char copy[512];
    snprintf(copy, sizeof copy, "%s", c->e->msg ? c->e->msg : "");
    return fail(c, st, "%s", strstr(copy, "error: ") ? strstr(copy, "error: ") + 7 : copy);
  }
  return st;
}

static ClustercOnnxStatus opConstant(Ctx *c, const char *unused) {
  (void)unused;
  const Onnx__AttributeProto *a;
  Shape s = {0, {0}};
  Val *out;
  ClustercOnnxStatus st;
  if ((a = attr(c->node, "value")) && a->t) {
    if ((st = output(c, 0, 1, &s, &out)))
      return st;
    return tensorVal(c, a->t, out);
  }
  if ((a = attr(c->node, "value_float")) || (a = attr(c->node, "value_floats"))) {
    bool one = a->has_f;
    size_t n = one ? 1 : a->n_floats;
    s.rank = one ? 0 : 1;
    s.d[0] = (int64_t)n;
    float *d = malloc(4 * (n ? n : 1));
    if (!d)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    memcpy(d, one ? &a->f : a->floats, 4 * n);
    return constOut(c, 0, 1, &s, d);
  }
  if ((a = attr(c->node, "value_int")) || (a = attr(c->node, "value_ints"))) {
    bool one = a->has_i;
    size_t n = one ? 1 : a->n_ints;
    s.rank = one ? 0 : 1;
    s.d[0] = (int64_t)n;
    int64_t *d = malloc(8 * (n ? n : 1));
    if (!d)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    memcpy(d, one ? &a->i : a->ints, 8 * n);
    return constOut(c, 0, 7, &s, d);
  }
  return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Constant without a value, value_float(s) or value_int(s)");
}

static ClustercOnnxStatus opShape(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int64_t b = attrI(c->node, "start", 0), e = attrI(c->node, "end", r);
  b = b < 0 ? b + r : b;
  e = e < 0 ? e + r : e;
  b = b < 0 ? 0 : b > r ? r : b;
  e = e < b ? b : e > r ? r : e;
  Shape s = {1, {e - b}};
  int64_t *d = malloc(8 * (size_t)(e - b + 1));
  if (!d)
    return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  for (int64_t i = b; i < e; ++i)
    d[i - b] = x->s.d[i];
  return constOut(c, 0, 7, &s, d);
}

static ClustercOnnxStatus opCast(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  int32_t to = (int32_t)attrI(c->node, "to", 0);
  if (to == x->dtype)
    return opIdentity(c, NULL);
  bool known = to == 1 || to == 7 || to == 6 || to == 11;
  if (known && foldable(&x, 1, &x->s) && (x->dtype == 1 || x->dtype == 7 || x->dtype == 6 || x->dtype == 11)) {
    int64_t n = numel(&x->s);
    void *d = malloc(8 * (size_t)(n ? n : 1));
    if (!d)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    bool fromInt = x->dtype == 7 || x->dtype == 6;
    for (int64_t i = 0; i < n; ++i)
      storeAs(d, to, i, loadD(x, i), loadI(x, i), fromInt);
    return constOut(c, 0, to, &x->s, d);
  }
  const char *from = onnxMlirType(x->dtype), *tt = onnxMlirType(to);
  if (!from || !tt || to == 9 || x->dtype == 9)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Cast from type %d to %d", (int)x->dtype, (int)to);
  const char *op;
  bool ff = isFloat(x->dtype), tf = isFloat(to);
  size_t fs = onnxElementSize(x->dtype), ts = onnxElementSize(to);
  if (ff && tf)
    op = ts > fs ? "extf" : "truncf";
  else if (ff)
    op = "fptosi";
  else if (tf)
    op = "sitofp";
  else
    op = ts > fs ? "extsi" : "trunci";
  char body[256];
  snprintf(body, sizeof body, "      %%r = arith.%s %%a0 : %s to %s\n      linalg.yield %%r : %s\n", op, from, tt, tt);
  Val *out;
  return eltwise(c, &x, 1, to, body, &out);
}

static ClustercOnnxStatus opReshape(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *sv;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = input(c, 1, &sv)))
    return st;
  int64_t t[MAX_RANK];
  int n;
  if ((st = constInts(c, sv, t, MAX_RANK, &n)))
    return st;
  Shape to = {n, {0}};
  int infer = -1;
  int64_t known = 1;
  bool allowzero = attrI(c->node, "allowzero", 0) != 0;
  for (int i = 0; i < n; ++i) {
    if (t[i] == 0 && !allowzero) {
      if (i >= x->s.rank)
        return fail(c, CLUSTERC_ONNX_INVALID, "shape entry 0 beyond the input's rank");
      t[i] = x->s.d[i];
    }
    if (t[i] == -1) {
      if (infer >= 0)
        return fail(c, CLUSTERC_ONNX_INVALID, "two -1 entries in the shape");
      infer = i;
      continue;
    }
    if (t[i] < 0)
      return fail(c, CLUSTERC_ONNX_INVALID, "invalid shape entry %lld", (long long)t[i]);
    to.d[i] = t[i];
    known *= t[i];
  }
  if (infer >= 0)
    to.d[infer] = known ? numel(&x->s) / known : 0;
  return reshapeTo(c, x, &to);
}

static ClustercOnnxStatus opFlatten(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  int a = normAxis(attrI(c->node, "axis", 1), x->s.rank);
  if (a < 0 || a > x->s.rank)
    return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  Shape to = {2, {1, 1}};
  for (int i = 0; i < x->s.rank; ++i)
    to.d[i < a ? 0 : 1] *= x->s.d[i];
  return reshapeTo(c, x, &to);
}

/* Axes of Squeeze/Unsqueeze: the attribute before opset 13, input 1 after. */
static ClustercOnnxStatus axesOf(Ctx *c, int64_t *axes, int *n) {
  *n = attrInts(c->node, "axes", axes, MAX_RANK);
  if (*n >= 0 || !hasInput(c->node, 1))
    return CLUSTERC_ONNX_OK;
  Val *a;
  ClustercOnnxStatus st = input(c, 1, &a);
  return st ? st : constInts(c, a, axes, MAX_RANK, n);
}

static ClustercOnnxStatus opUnsqueeze(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  int64_t axes[MAX_RANK];
  int n;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = axesOf(c, axes, &n)))
    return st;
  if (n < 0)
    return fail(c, CLUSTERC_ONNX_INVALID, "no axes");
  int r = x->s.rank + n;
  if (r > MAX_RANK)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "rank %d", r);
  bool ins[MAX_RANK] = {false};
  for (int i = 0; i < n; ++i) {
    int a = normAxis(axes[i], r);
    if (a < 0 || a >= r || ins[a])
      return fail(c, CLUSTERC_ONNX_INVALID, "invalid axis %lld", (long long)axes[i]);
    ins[a] = true;
  }
  Shape to = {r, {0}};
  for (int i = 0, k = 0; i < r; ++i)
    to.d[i] = ins[i] ? 1 : x->s.d[k++];
  return reshapeTo(c, x, &to);
}

static ClustercOnnxStatus opSqueeze(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  int64_t axes[MAX_RANK];
  int n;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = axesOf(c, axes, &n)))
    return st;
  bool drop[MAX_RANK] = {false};
  for (int i = 0; i < x->s.rank; ++i)
    drop[i] = n < 0 && x->s.d[i] == 1;
  for (int i = 0; i < n; ++i) {
    int a = normAxis(axes[i], x->s.rank);
    if (a < 0 || a >= x->s.rank || x->s.d[a] != 1)
      return fail(c, CLUSTERC_ONNX_INVALID, "cannot squeeze axis %lld", (long long)axes[i]);
    drop[a] = true;
  }
  Shape to = {0, {0}};
  for (int i = 0; i < x->s.rank; ++i)
    if (!drop[i])
      to.d[to.rank++] = x->s.d[i];
  return reshapeTo(c, x, &to);
}

static ClustercOnnxStatus opTranspose(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int64_t perm[MAX_RANK];
  int n = attrInts(c->node, "perm", perm, MAX_RANK);
  if (n < 0)
    for (n = 0; n < r; ++n)
      perm[n] = r - 1 - n;
  if (n != r)
    return fail(c, CLUSTERC_ONNX_INVALID, "perm has %d entries for rank %d", n, r);
  Shape os = {r, {0}};
  for (int i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= r)
      return fail(c, CLUSTERC_ONNX_INVALID, "invalid perm");
    os.d[i] = x->s.d[perm[i]];
  }
  if ((st = output(c, 0, x->dtype, &os, &out)) || (st = use(c, x)))
    return st;
  int e;
  if ((st = emptyInit(c, &os, x->dtype, NULL, &e)))
    return st;
  out->ssa = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.transpose ins(%%v%d : %s) outs(%%v%d : %s) permutation = [", out->ssa,
            x->ssa, ty(c, x), e, ty(c, out));
  for (int i = 0; i < r; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)perm[i]);
  bufPuts(&c->body, "]");
  endOp(c);
  return CLUSTERC_ONNX_OK;
}

/* A 2-D permutation copy as a linalg.generic: torch-mlir's form of an FC
 * weight's transpose, or linalg.transpose with options->namedTranspose. */
static ClustercOnnxStatus transpose2d(Ctx *c, Val *w, int *res, Shape *os) {
  ClustercOnnxStatus st = use(c, w);
  if (st)
    return st;
  *os = (Shape){2, {w->s.d[1], w->s.d[0]}};
  if (c->o->namedTranspose) {
    int e;
    if ((st = emptyInit(c, os, w->dtype, NULL, &e)))
      return st;
    *res = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.transpose ins(%%v%d : %s) outs(%%v%d : %s) permutation = [1, 0]",
              *res, w->ssa, ty(c, w), e, tyDims(c, os, w->dtype));
    endOp(c);
    return CLUSTERC_ONNX_OK;
  }
  GIn g = {w, {1, 0}, false};
  int omap[2] = {0, 1};
  char body[128];
  snprintf(body, sizeof body, "      linalg.yield %%a0 : %s\n", onnxMlirType(w->dtype));
  return generic(c, &g, 1, 2, "pp", os, w->dtype, omap, -1, body, res);
}

static ClustercOnnxStatus opGemm(Ctx *c, const char *unused) {
  (void)unused;
  Val *a, *b, *cc = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &a)) || (st = input(c, 1, &b)) || (hasInput(c->node, 2) && (st = input(c, 2, &cc))))
    return st;
  if (a->s.rank != 2 || b->s.rank != 2 || a->dtype != 1 || b->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Gemm needs 2-D f32 operands");
  float alpha = attrF(c->node, "alpha", 1), beta = attrF(c->node, "beta", 1);
  int ta = (int)attrI(c->node, "transA", 0), tb = (int)attrI(c->node, "transB", 0);
  int as, bs;
  Shape ash = a->s, bsh = b->s;
  if (ta) {
    if ((st = transpose2d(c, a, &as, &ash)))
      return st;
  } else if ((st = use(c, a)))
    return st;
  else
    as = a->ssa;
  if (tb) {
    if ((st = transpose2d(c, b, &bs, &bsh)))
      return st;
  } else if ((st = use(c, b)))
    return st;
  else
    bs = b->ssa;
  if (ash.d[1] != bsh.d[0])
    return fail(c, CLUSTERC_ONNX_INVALID, "inner dimensions %lld and %lld differ", (long long)ash.d[1],
                (long long)bsh.d[0]);
  Shape os = {2, {ash.d[0], bsh.d[1]}};
  int init, mm;
  if ((st = fillConst(c, &os, 1, 0.0f, &init)))
    return st;
  mm = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm, as, bs,
            tyDims(c, &ash, 1), tyDims(c, &bsh, 1), init, tyDims(c, &os, 1), tyDims(c, &os, 1));
  endOp(c);
  if ((st = output(c, 0, 1, &os, &out)))
    return st;
  if (!cc && alpha == 1.0f) {
    out->ssa = mm;
    return CLUSTERC_ONNX_OK;
  }
  Val tmp = {.name = out->name, .dtype = 1, .s = os, .ssa = mm};
  GIn g[2];
  g[0] = (GIn){&tmp, {0, 1}, false};
  int n = 1;
  char al[64], bl[64], body[512];
  floatLit(al, sizeof al, alpha);
  floatLit(bl, sizeof bl, beta);
  if (cc) {
    Shape chk;
    if (!broadcast(&os, &cc->s, &chk) || chk.d[0] != os.d[0] || chk.d[1] != os.d[1])
      return fail(c, CLUSTERC_ONNX_INVALID, "C does not broadcast to the result");
    setIn(&g[1], cc, &os);
    n = 2;
    if (alpha == 1.0f && beta == 1.0f)
      snprintf(body, sizeof body, "      %%r = arith.addf %%a0, %%a1 : f32\n      linalg.yield %%r : f32\n");
    else
      snprintf(body, sizeof body,
               "      %%al = arith.constant %s\n      %%be = arith.constant %s\n"
               "      %%x = arith.mulf %%a0, %%al : f32\n      %%y = arith.mulf %%a1, %%be : f32\n"
               "      %%r = arith.addf %%x, %%y : f32\n      linalg.yield %%r : f32\n", al, bl);
  } else
    snprintf(body, sizeof body,
             "      %%al = arith.constant %s\n      %%r = arith.mulf %%a0, %%al : f32\n      linalg.yield %%r : f32\n", al);
  int omap[2] = {0, 1};
  return generic(c, g, n, 2, "pp", &os, 1, omap, -1, body, &out->ssa);
}

static ClustercOnnxStatus opMatMul(Ctx *c, const char *unused) {
  (void)unused;
  Val *a, *b, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &a)) || (st = input(c, 1, &b)))
    return st;
  if (a->s.rank < 2 || b->s.rank < 2 || a->dtype != 1 || b->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "MatMul needs f32 operands of rank >= 2");
  int ra = a->s.rank, rb = b->s.rank;
  int64_t M = a->s.d[ra - 2], K = a->s.d[ra - 1], N = b->s.d[rb - 1];
  if (b->s.d[rb - 2] != K)
    return fail(c, CLUSTERC_ONNX_INVALID, "inner dimensions %lld and %lld differ", (long long)K,
                (long long)b->s.d[rb - 2]);
  Shape ba = {ra - 2, {0}}, bb = {rb - 2, {0}}, bo;
  memcpy(ba.d, a->s.d, sizeof(int64_t) * (size_t)(ra - 2));
  memcpy(bb.d, b->s.d, sizeof(int64_t) * (size_t)(rb - 2));
  if (!broadcast(&ba, &bb, &bo))
    return fail(c, CLUSTERC_ONNX_INVALID, "batch dimensions do not broadcast");
  Shape os = bo;
  os.d[os.rank++] = M;
  os.d[os.rank++] = N;
  if ((st = output(c, 0, 1, &os, &out)) || (st = use(c, a)) || (st = use(c, b)))
    return st;
  int64_t batch = numel(&bo);
  if (rb == 2) {
    /* [..., M, K] x [K, N]: one linalg.matmul on [batch*M, K]. */
    Shape a2 = {2, {batch * M, K}}, o2 = {2, {batch * M, N}};
    int as = reshapeSsa(c, a->ssa, &a->s, &a2, 1), init;
    if ((st = fillConst(c, &o2, 1, 0.0f, &init)))
      return st;
    int mm = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm, as,
              b->ssa, tyDims(c, &a2, 1), ty(c, b), init, tyDims(c, &o2, 1), tyDims(c, &o2, 1));
    endOp(c);
    out->ssa = reshapeSsa(c, mm, &o2, &os, 1);
    return CLUSTERC_ONNX_OK;
  }
  bool sameBatch = ba.rank == bo.rank && bb.rank == bo.rank && !memcmp(ba.d, bo.d, sizeof(int64_t) * (size_t)bo.rank) &&
                   !memcmp(bb.d, bo.d, sizeof(int64_t) * (size_t)bo.rank);
  if (sameBatch) {
    Shape a3 = {3, {batch, M, K}}, b3 = {3, {batch, K, N}}, o3 = {3, {batch, M, N}};
    int as = reshapeSsa(c, a->ssa, &a->s, &a3, 1), bs = reshapeSsa(c, b->ssa, &b->s, &b3, 1), init;
    if ((st = fillConst(c, &o3, 1, 0.0f, &init)))
      return st;
    int mm = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.batch_matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm,
              as, bs, tyDims(c, &a3, 1), tyDims(c, &b3, 1), init, tyDims(c, &o3, 1), tyDims(c, &o3, 1));
    endOp(c);
    out->ssa = reshapeSsa(c, mm, &o3, &os, 1);
    return CLUSTERC_ONNX_OK;
  }
  /* Broadcast batches: a generic contraction over (batch..., m, n, k). */
  int L = os.rank + 1, init;
  GIn g[2] = {{a, {0}, false}, {b, {0}, false}};
  for (int i = 0; i < ra - 2; ++i)
    g[0].map[i] = (a->s.d[i] == 1 && bo.d[i + bo.rank - (ra - 2)] != 1) ? -1 : i + bo.rank - (ra - 2);
  for (int i = 0; i < rb - 2; ++i)
    g[1].map[i] = (b->s.d[i] == 1 && bo.d[i + bo.rank - (rb - 2)] != 1) ? -1 : i + bo.rank - (rb - 2);
  g[0].map[ra - 2] = bo.rank, g[0].map[ra - 1] = bo.rank + 2;
  g[1].map[rb - 2] = bo.rank + 2, g[1].map[rb - 1] = bo.rank + 1;
  int omap[MAX_RANK];
  identityMap(omap, os.rank);
  char iters[MAX_RANK + 2];
  memset(iters, 'p', sizeof iters);
  iters[L - 1] = 'r';
  if ((st = fillConst(c, &os, 1, 0.0f, &init)))
    return st;
  return generic(c, g, 2, L, iters, &os, 1, omap, init,
                 "      %m = arith.mulf %a0, %a1 : f32\n      %r = arith.addf %o, %m : f32\n"
                 "      linalg.yield %r : f32\n", &out->ssa);
}

static void putI64Vec(Buf *b, const char *name, const int64_t *v, int n) {
  bufPrintf(b, "%s = dense<[", name);
  for (int i = 0; i < n; ++i)
    bufPrintf(b, "%s%lld", i ? ", " : "", (long long)v[i]);
  bufPrintf(b, "]> : tensor<%dxi64>", n);
}

/* Spatial attributes of Conv and the pools (2-D only). */
typedef struct Window {
  int64_t k[2], pads[4], strides[2], dil[2];
} Window;

static ClustercOnnxStatus window(Ctx *c, const Shape *x, const int64_t *kernel, Window *w, Shape *os,
                                 int64_t outC, bool ceil) {
  if (x->rank != 4)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "only 2-D (NCHW) inputs are supported");
  const Onnx__AttributeProto *ap = attr(c->node, "auto_pad");
  if (ap && ap->has_s && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "auto_pad other than NOTSET");
  for (int i = 0; i < 2; ++i)
    w->k[i] = kernel[i], w->strides[i] = 1, w->dil[i] = 1, w->pads[i] = w->pads[i + 2] = 0;
  if (attrInts(c->node, "pads", w->pads, 4) == 2)
    return fail(c, CLUSTERC_ONNX_INVALID, "pads");
  attrInts(c->node, "strides", w->strides, 2);
  attrInts(c->node, "dilations", w->dil, 2);
  *os = *x;
  os->d[1] = outC;
  for (int i = 0; i < 2; ++i) {
    int64_t span = w->dil[i] * (w->k[i] - 1) + 1, in = x->d[2 + i] + w->pads[i] + w->pads[i + 2];
    if (w->strides[i] <= 0 || w->dil[i] <= 0 || in < span)
      return fail(c, CLUSTERC_ONNX_INVALID, "window larger than its input");
    int64_t o = (in - span) / w->strides[i] + 1;
    if (ceil && (in - span) % w->strides[i]) {
      ++o;
      /* The extra window must start inside the input or left padding. */
      if ((o - 1) * w->strides[i] >= x->d[2 + i] + w->pads[i])
        --o;
      else
        w->pads[i + 2] += (o - 1) * w->strides[i] + span - in;
    }
    os->d[2 + i] = o;
  }
  return CLUSTERC_ONNX_OK;
}

static void putWindowAttrs(Ctx *c, const Window *w) {
  bufPuts(&c->body, " {");
  putI64Vec(&c->body, "dilations", w->dil, 2);
  bufPuts(&c->body, ", ");
  putI64Vec(&c->body, "strides", w->strides, 2);
  bufPuts(&c->body, "}");
}

static int padNchw(Ctx *c, Val *x, const Window *w, float value, Shape *ps) {
  int64_t lo[4] = {0, 0, w->pads[0], w->pads[1]}, hi[4] = {0, 0, w->pads[2], w->pads[3]};
  return pad(c, x->ssa, &x->s, lo, hi, value, ps);
}

static ClustercOnnxStatus biasChannel(Ctx *c, Val *out, int ssa, Val *bias) {
  Val tmp = {.name = out->name, .dtype = 1, .s = out->s, .ssa = ssa};
  GIn g[2] = {{&tmp, {0, 1, 2, 3}, false}, {bias, {1}, false}};
  int omap[4] = {0, 1, 2, 3};
  if (bias->s.rank != 1 || bias->s.d[0] != out->s.d[1])
    return fail(c, CLUSTERC_ONNX_INVALID, "bias of the wrong shape");
  return generic(c, g, 2, 4, "pppp", &out->s, 1, omap, -1,
                 "      %r = arith.addf %a0, %a1 : f32\n      linalg.yield %r : f32\n", &out->ssa);
}

static ClustercOnnxStatus opConv(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *w, *bias = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = input(c, 1, &w)) || (hasInput(c->node, 2) && (st = input(c, 2, &bias))))
    return st;
  if (x->s.rank != 4 || w->s.rank != 4 || x->dtype != 1 || w->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "only 2-D f32 convolutions are supported");
  int64_t g = attrI(c->node, "group", 1), C = x->s.d[1], M = w->s.d[0];
  if (g <= 0 || C % g || M % g || w->s.d[1] != C / g)
    return fail(c, CLUSTERC_ONNX_INVALID, "group %lld does not divide channels %lld/%lld", (long long)g,
                (long long)C, (long long)M);
  Window win;
  Shape os, ps;
  if ((st = window(c, &x->s, &w->s.d[2], &win, &os, M, false)))
    return st;
  if ((st = output(c, 0, 1, &os, &out)) || (st = use(c, x)) || (st = use(c, w)))
    return st;
  int p = padNchw(c, x, &win, 0.0f, &ps), init;
  if ((st = fillConst(c, &os, 1, 0.0f, &init)))
    return st;
  int r;
  if (g == 1 || (g == C && M == C)) {
    int ws = w->ssa;
    Shape wsh = w->s;
    const char *name = "conv_2d_nchw_fchw";
    if (g != 1) {
      Shape w3 = {3, {M, w->s.d[2], w->s.d[3]}};
      ws = reshapeSsa(c, w->ssa, &w->s, &w3, 1);
      wsh = w3;
      name = "depthwise_conv_2d_nchw_chw";
    }
    r = newSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.%s", r, name);
    putWindowAttrs(c, &win);
    bufPrintf(&c->body, " ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", p, ws, tyDims(c, &ps, 1),
              tyDims(c, &wsh, 1), init, ty(c, out), ty(c, out));
    endOp(c);
  } else {
    /* Grouped: loops (n, m, oh, ow, c, kh, kw); input channel
     * (m floordiv M/g) * C/g + c. */
    Buf *b = &c->body;
    r = newSsa(c);
    int64_t mg = M / g, cg = C / g;
    bufPrintf(b, "    %%v%d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> "
                 "(d0, (d1 floordiv %lld) * %lld + d4, d2 * %lld + d5 * %lld, d3 * %lld + d6 * %lld)>, "
                 "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, "
                 "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>], iterator_types = "
                 "[\"parallel\", \"parallel\", \"parallel\", \"parallel\", \"reduction\", \"reduction\", "
                 "\"reduction\"]} ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) {\n",
              r, (long long)mg, (long long)cg, (long long)win.strides[0], (long long)win.dil[0],
              (long long)win.strides[1], (long long)win.dil[1], p, w->ssa, tyDims(c, &ps, 1), ty(c, w), init,
              ty(c, out));
    bufPrintf(b, "    ^bb0(%%a0: f32, %%a1: f32, %%o: f32):\n      %%m = arith.mulf %%a0, %%a1 : f32\n"
                 "      %%r = arith.addf %%o, %%m : f32\n      linalg.yield %%r : f32\n    } -> %s", ty(c, out));
    endOp(c);
  }
  if (!bias) {
    out->ssa = r;
    return CLUSTERC_ONNX_OK;
  }
  return biasChannel(c, out, r, bias);
}

static ClustercOnnxStatus opPool(Ctx *c, const char *kind) {
  Val *x, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = onlyOutputs(c, 1)))
    return st;
  if (x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-f32 pooling");
  int64_t k[2];
  if (attrInts(c->node, "kernel_shape", k, 2) != 2)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "kernel_shape must have 2 entries");
  bool isMax = kind[0] == 'm';
  bool ceil = attrI(c->node, "ceil_mode", 0) != 0;
  Window win;
  Shape os, ps;
  if ((st = window(c, &x->s, k, &win, &os, x->s.d[1], ceil)))
    return st;
  if (!isMax && ceil && (win.pads[2] || win.pads[3]) && attrI(c->node, "count_include_pad", 0))
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "ceil_mode with count_include_pad");
  if ((st = output(c, 0, 1, &os, &out)) || (st = use(c, x)))
    return st;
  int p = padNchw(c, x, &win, isMax ? -INFINITY : 0.0f, &ps), init, kt;
  if ((st = fillConst(c, &os, 1, isMax ? -INFINITY : 0.0f, &init)))
    return st;
  Shape ks = {2, {k[0], k[1]}};
  if ((st = emptyInit(c, &ks, 1, NULL, &kt)))
    return st;
  int r = newSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.pooling_nchw_%s", r, isMax ? "max" : "sum");
  putWindowAttrs(c, &win);
  bufPrintf(&c->body, " ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", p, kt, tyDims(c, &ps, 1),
            tyDims(c, &ks, 1), init, ty(c, out), ty(c, out));
  endOp(c);
  if (isMax) {
    out->ssa = r;
    return CLUSTERC_ONNX_OK;
  }
  /* Divisors per output position: the window's elements inside the input
   * (and its explicit padding with count_include_pad). */
  bool incl = attrI(c->node, "count_include_pad", 0) != 0;
  int64_t oh = os.d[2], ow = os.d[3];
  float *cnt = malloc(sizeof(float) * (size_t)(oh * ow));
  if (!cnt)
    return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      int64_t n = 0;
      for (int64_t a = 0; a < k[0]; ++a)
        for (int64_t b = 0; b < k[1]; ++b) {
          int64_t y = i * win.strides[0] + a * win.dil[0] - win.pads[0];
          int64_t z = j * win.strides[1] + b * win.dil[1] - win.pads[1];
          bool inside = y >= 0 && y < x->s.d[2] && z >= 0 && z < x->s.d[3];
          bool inPad = y >= -win.pads[0] && y < x->s.d[2] + win.pads[2] && z >= -win.pads[1] &&
                       z < x->s.d[3] + win.pads[3];
          n += incl ? inPad : inside;
        }
      cnt[i * ow + j] = (float)(n ? n : 1);
    }
  Val *cv = newVal(c, "", 1, &(Shape){2, {oh, ow}});
  if (!cv) {
    free(cnt);
    return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  cv->data = cv->owned = cnt;
  cv->name = nodeName(c);
  Val tmp = {.name = out->name, .dtype = 1, .s = os, .ssa = r};
  GIn g[2] = {{&tmp, {0, 1, 2, 3}, false}, {cv, {2, 3}, false}};
  if ((st = materialize(c, cv)))
    return st;
  int omap[4] = {0, 1, 2, 3};
  return generic(c, g, 2, 4, "pppp", &os, 1, omap, -1,
                 "      %r = arith.divf %a0, %a1 : f32\n      linalg.yield %r : f32\n", &out->ssa);
}

/* Sum (or max) of x over the axes in `red`, into a tensor without them. */
static ClustercOnnxStatus reduce(Ctx *c, Val *x, const bool *red, bool isMax, Shape *rs, int *res) {
  int omap[MAX_RANK];
  char iters[MAX_RANK + 1] = {0};
  rs->rank = 0;
  for (int i = 0; i < x->s.rank; ++i) {
    iters[i] = red[i] ? 'r' : 'p';
    if (!red[i]) {
      omap[rs->rank] = i;
      rs->d[rs->rank++] = x->s.d[i];
    }
  }
  int init;
  ClustercOnnxStatus st = fillConst(c, rs, 1, isMax ? -INFINITY : 0.0f, &init);
  if (st)
    return st;
  GIn g = {x, {0}, false};
  identityMap(g.map, x->s.rank);
  return generic(c, &g, 1, x->s.rank, iters, rs, 1, omap, init,
                 isMax ? "      %r = arith.maximumf %o, %a0 : f32\n      linalg.yield %r : f32\n"
                       : "      %r = arith.addf %o, %a0 : f32\n      linalg.yield %r : f32\n",
                 res);
}

static ClustercOnnxStatus opReduce(Ctx *c, const char *kind) {
  Val *x, *out;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  if (x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-f32 reduction");
  int64_t axes[MAX_RANK];
  int n;
  if ((st = axesOf(c, axes, &n)))
    return st;
  bool red[MAX_RANK] = {false};
  int64_t count = 1;
  for (int i = 0; i < x->s.rank; ++i)
    red[i] = n <= 0;
  for (int i = 0; i < n; ++i) {
    int a = normAxis(axes[i], x->s.rank);
    if (a < 0 || a >= x->s.rank)
      return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
    red[a] = true;
  }
  Shape os = {0, {0}};
  bool keep = attrI(c->node, "keepdims", 1) != 0;
  for (int i = 0; i < x->s.rank; ++i) {
    if (red[i])
      count *= x->s.d[i];
    if (!red[i] || keep)
      os.d[os.rank++] = red[i] ? 1 : x->s.d[i];
  }
  if ((st = output(c, 0, 1, &os, &out)))
    return st;
  Shape rs;
  int r;
  if ((st = reduce(c, x, red, kind[0] == 'x', &rs, &r)))
    return st;
  if (kind[0] == 'm') {
    Val tmp = {.name = out->name, .dtype = 1, .s = rs, .ssa = r};
    GIn g = {&tmp, {0}, false};
    identityMap(g.map, rs.rank);
    char lit[64], body[256];
    floatLit(lit, sizeof lit, (float)count);
    snprintf(body, sizeof body,
             "      %%n = arith.constant %s\n      %%r = arith.divf %%a0, %%n : f32\n      linalg.yield %%r : f32\n", lit);
    int omap[MAX_RANK];
    identityMap(omap, rs.rank);
    char iters[MAX_RANK + 1] = "pppppppp";
    if ((st = generic(c, &g, 1, rs.rank, iters, &rs, 1, omap, -1, body, &r)))
      return st;
  }
  out->ssa = reshapeSsa(c, r, &rs, &os, 1);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opGlobalAvgPool(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  if (x->s.rank < 3 || x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "needs an f32 input of rank >= 3");
  bool red[MAX_RANK] = {false};
  Shape os = x->s;
  int64_t count = 1;
  for (int i = 2; i < x->s.rank; ++i)
    red[i] = true, count *= x->s.d[i], os.d[i] = 1;
  if ((st = output(c, 0, 1, &os, &out)))
    return st;
  Shape rs;
  int r;
  if ((st = reduce(c, x, red, false, &rs, &r)))
    return st;
  Val tmp = {.name = out->name, .dtype = 1, .s = rs, .ssa = r};
  GIn g = {&tmp, {0, 1}, false};
  char lit[64], body[256];
  floatLit(lit, sizeof lit, (float)count);
  snprintf(body, sizeof body,
           "      %%n = arith.constant %s\n      %%r = arith.divf %%a0, %%n : f32\n      linalg.yield %%r : f32\n", lit);
  int omap[2] = {0, 1};
  if ((st = generic(c, &g, 1, 2, "pp", &rs, 1, omap, -1, body, &r)))
    return st;
  out->ssa = reshapeSsa(c, r, &rs, &os, 1);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opSoftmax(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = input(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int a = normAxis(attrI(c->node, "axis", c->opset >= 13 ? -1 : 1), r);
  if (a < 0 || a >= r || x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range or non-f32 input");
  if (c->opset < 13 && a != r - 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "opset-%lld Softmax over more than the last axis", (long long)c->opset);
  if ((st = output(c, 0, 1, &x->s, &out)) || (st = use(c, x)))
    return st;
  bool red[MAX_RANK] = {false};
  red[a] = true;
  Shape rs;
  int mx, e, sum;
  if ((st = reduce(c, x, red, true, &rs, &mx)))
    return st;
  int rmap[MAX_RANK], omap[MAX_RANK];
  for (int i = 0, k = 0; i < r; ++i)
    if (i != a)
      rmap[k++] = i;
  identityMap(omap, r);
  char iters[MAX_RANK + 1] = "pppppppp";
  Val mv = {.name = out->name, .dtype = 1, .s = rs, .ssa = mx};
  GIn g[2] = {{x, {0}, false}, {&mv, {0}, false}};
  identityMap(g[0].map, r);
  memcpy(g[1].map, rmap, sizeof rmap);
  if ((st = generic(c, g, 2, r, iters, &x->s, 1, omap, -1,
                    "      %d = arith.subf %a0, %a1 : f32\n      %r = math.exp %d : f32\n      linalg.yield %r : f32\n",
                    &e)))
    return st;
  Val ev = {.name = out->name, .dtype = 1, .s = x->s, .ssa = e};
  if ((st = reduce(c, &ev, red, false, &rs, &sum)))
    return st;
  Val sv = {.name = out->name, .dtype = 1, .s = rs, .ssa = sum};
  g[0].v = &ev;
  g[1].v = &sv;
  return generic(c, g, 2, r, iters, &x->s, 1, omap, -1,
                 "      %r = arith.divf %a0, %a1 : f32\n      linalg.yield %r : f32\n", &out->ssa);
}

static ClustercOnnxStatus opBatchNorm(Ctx *c, const char *unused) {
  (void)unused;
  Val *in[5], *out;
  ClustercOnnxStatus st;
  for (int i = 0; i < 5; ++i)
    if ((st = input(c, (size_t)i, &in[i])))
      return st;
  if ((st = onlyOutputs(c, 1)))
    return st;
  if (attrI(c->node, "training_mode", 0))
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "training_mode=1");
  Val *x = in[0];
  if (x->s.rank < 2 || x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "needs an f32 input of rank >= 2");
  for (int i = 1; i < 5; ++i)
    if (in[i]->s.rank != 1 || in[i]->s.d[0] != x->s.d[1] || in[i]->dtype != 1)
      return fail(c, CLUSTERC_ONNX_INVALID, "'%s' is not a [C] f32 tensor", in[i]->name);
  if ((st = output(c, 0, 1, &x->s, &out)))
    return st;
  GIn g[5];
  g[0] = (GIn){x, {0}, false};
  identityMap(g[0].map, x->s.rank);
  for (int i = 1; i < 5; ++i)
    g[i] = (GIn){in[i], {1}, false};
  char eps[64], body[640];
  floatLit(eps, sizeof eps, attrF(c->node, "epsilon", 1e-5f));
  snprintf(body, sizeof body,
           "      %%eps = arith.constant %s\n      %%v = arith.addf %%a4, %%eps : f32\n"
           "      %%s = math.sqrt %%v : f32\n      %%d = arith.subf %%a0, %%a3 : f32\n"
           "      %%n = arith.divf %%d, %%s : f32\n      %%m = arith.mulf %%n, %%a1 : f32\n"
           "      %%r = arith.addf %%m, %%a2 : f32\n      linalg.yield %%r : f32\n", eps);
  int omap[MAX_RANK];
  identityMap(omap, x->s.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  return generic(c, g, 5, x->s.rank, iters, &x->s, 1, omap, -1, body, &out->ssa);
}

static ClustercOnnxStatus opLayerNorm(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *scale, *bias = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = input(c, 1, &scale)) || (hasInput(c->node, 2) && (st = input(c, 2, &bias))) ||
      (st = onlyOutputs(c, 1)))
    return st;
  int r = x->s.rank, a = normAxis(attrI(c->node, "axis", -1), r);
  if (a < 0 || a >= r || x->dtype != 1)
    return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range or non-f32 input");
  if ((st = output(c, 0, 1, &x->s, &out)) || (st = use(c, x)))
    return st;
  bool red[MAX_RANK] = {false};
  int64_t count = 1;
  for (int i = a; i < r; ++i)
    red[i] = true, count *= x->s.d[i];
  Shape rs;
  int sum, sq;
  if ((st = reduce(c, x, red, false, &rs, &sum)))
    return st;
  int rmap[MAX_RANK], omap[MAX_RANK];
  for (int i = 0; i < a; ++i)
    rmap[i] = i;
  identityMap(omap, r);
  char iters[MAX_RANK + 1] = "pppppppp", rit[MAX_RANK + 1] = {0};
  for (int i = 0; i < r; ++i)
    rit[i] = red[i] ? 'r' : 'p';
  char nl[64], el[64], body[900];
  floatLit(nl, sizeof nl, (float)count);
  floatLit(el, sizeof el, attrF(c->node, "epsilon", 1e-5f));
  /* Sum of squared deviations from the mean. */
  Val sv = {.name = out->name, .dtype = 1, .s = rs, .ssa = sum};
  GIn g[5] = {{x, {0}, false}, {&sv, {0}, false}};
  identityMap(g[0].map, r);
  memcpy(g[1].map, rmap, sizeof rmap);
  int init;
  if ((st = fillConst(c, &rs, 1, 0.0f, &init)))
    return st;
  snprintf(body, sizeof body,
           "      %%n = arith.constant %s\n      %%mu = arith.divf %%a1, %%n : f32\n"
           "      %%d = arith.subf %%a0, %%mu : f32\n      %%q = arith.mulf %%d, %%d : f32\n"
           "      %%r = arith.addf %%o, %%q : f32\n      linalg.yield %%r : f32\n", nl);
  if ((st = generic(c, g, 2, r, rit, &rs, 1, rmap, init, body, &sq)))
    return st;
  Val qv = {.name = out->name, .dtype = 1, .s = rs, .ssa = sq};
  g[2] = (GIn){&qv, {0}, false};
  memcpy(g[2].map, rmap, sizeof rmap);
  Shape ns = {r - a, {0}};
  memcpy(ns.d, &x->s.d[a], sizeof(int64_t) * (size_t)(r - a));
  Val *affine[2] = {scale, bias};
  int n = 3;
  for (int k = 0; k < 2; ++k) {
    if (!affine[k])
      continue;
    Shape chk;
    if (!broadcast(&ns, &affine[k]->s, &chk) || chk.rank != ns.rank ||
        memcmp(chk.d, ns.d, sizeof(int64_t) * (size_t)ns.rank))
      return fail(c, CLUSTERC_ONNX_INVALID, "'%s' does not broadcast to the normalized shape", affine[k]->name);
    GIn *gi = &g[n++];
    gi->v = affine[k];
    gi->inlined = false;
    broadcastMap(&affine[k]->s, &ns, gi->map);
    for (int i = 0; i < affine[k]->s.rank; ++i)
      if (gi->map[i] >= 0)
        gi->map[i] += a;
  }
  snprintf(body, sizeof body,
           "      %%n = arith.constant %s\n      %%eps = arith.constant %s\n"
           "      %%mu = arith.divf %%a1, %%n : f32\n      %%var = arith.divf %%a2, %%n : f32\n"
           "      %%ve = arith.addf %%var, %%eps : f32\n      %%sd = math.sqrt %%ve : f32\n"
           "      %%d = arith.subf %%a0, %%mu : f32\n      %%y = arith.divf %%d, %%sd : f32\n"
           "      %%r = arith.mulf %%y, %%a3 : f32\n%s",
           nl, el, bias ? "      %rb = arith.addf %r, %a4 : f32\n      linalg.yield %rb : f32\n"
                        : "      linalg.yield %r : f32\n");
  return generic(c, g, n, r, iters, &x->s, 1, omap, -1, body, &out->ssa);
}

static ClustercOnnxStatus opGather(Ctx *c, const char *unused) {
  (void)unused;
  Val *d, *ix, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &d)) || (st = input(c, 1, &ix)))
    return st;
  int r = d->s.rank, q = ix->s.rank, a = normAxis(attrI(c->node, "axis", 0), r);
  if (a < 0 || a >= r || r - 1 + q > MAX_RANK)
    return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  if (ix->dtype != 7 && ix->dtype != 6)
    return fail(c, CLUSTERC_ONNX_INVALID, "indices must be int32 or int64");
  Shape os = {0, {0}};
  for (int i = 0; i < a; ++i)
    os.d[os.rank++] = d->s.d[i];
  for (int i = 0; i < q; ++i)
    os.d[os.rank++] = ix->s.d[i];
  for (int i = a + 1; i < r; ++i)
    os.d[os.rank++] = d->s.d[i];
  int64_t dim = d->s.d[a];
  if (foldable((Val *[]){d, ix}, 2, &os)) {
    size_t es = onnxElementSize(d->dtype);
    int64_t n = numel(&os), inner = 1, nIdx = numel(&ix->s);
    for (int i = a + 1; i < r; ++i)
      inner *= d->s.d[i];
    char *data = malloc(es * (size_t)(n ? n : 1));
    if (!data)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    int64_t outer = nIdx ? n / (nIdx * inner) : 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < nIdx; ++k) {
        int64_t idx = loadI(ix, k);
        idx = idx < 0 ? idx + dim : idx;
        if (idx < 0 || idx >= dim) {
          free(data);
          return fail(c, CLUSTERC_ONNX_INVALID, "index %lld out of range", (long long)idx);
        }
        memcpy(data + es * (size_t)((o * nIdx + k) * inner), (const char *)d->data + es * (size_t)((o * dim + idx) * inner),
               es * (size_t)inner);
      }
    return constOut(c, 0, d->dtype, &os, data);
  }
  if ((st = output(c, 0, d->dtype, &os, &out)) || (st = use(c, d)) || (st = use(c, ix)))
    return st;
  /* An embedding lookup: loops over the output, the index read from ix at
   * the output's dims a..a+q-1, the value extracted from d. */
  GIn g = {ix, {0}, false};
  for (int i = 0; i < q; ++i)
    g.map[i] = a + i;
  Buf body = {0};
  const char *it = onnxMlirType(ix->dtype), *et = onnxMlirType(d->dtype);
  bufPrintf(&body, "      %%z = arith.constant 0 : %s\n      %%dim = arith.constant %lld : %s\n"
                   "      %%neg = arith.cmpi slt, %%a0, %%z : %s\n      %%w = arith.addi %%a0, %%dim : %s\n"
                   "      %%s = arith.select %%neg, %%w, %%a0 : %s\n      %%i = arith.index_cast %%s : %s to index\n",
            it, (long long)dim, it, it, it, it, it);
  for (int i = 0; i < os.rank; ++i)
    bufPrintf(&body, "      %%d%d = linalg.index %d : index\n", i, i);
  bufPrintf(&body, "      %%x = tensor.extract %%v%d[", d->ssa);
  for (int i = 0; i < r; ++i) {
    if (i < a)
      bufPrintf(&body, "%s%%d%d", i ? ", " : "", i);
    else if (i == a)
      bufPrintf(&body, "%s%%i", i ? ", " : "");
    else
      bufPrintf(&body, ", %%d%d", i - 1 + q);
  }
  bufPrintf(&body, "] : %s\n      linalg.yield %%x : %s\n", ty(c, d), et);
  if (body.failed) {
    bufFree(&body);
    return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  int omap[MAX_RANK];
  identityMap(omap, os.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  st = generic(c, &g, 1, os.rank, iters, &os, d->dtype, omap, -1, body.data, &out->ssa);
  bufFree(&body);
  return st;
}

static ClustercOnnxStatus opSlice(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *sv, *ev, *av = NULL, *tv = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = input(c, 0, &x)) || (st = input(c, 1, &sv)) || (st = input(c, 2, &ev)) ||
      (hasInput(c->node, 3) && (st = input(c, 3, &av))) || (hasInput(c->node, 4) && (st = input(c, 4, &tv))))
    return st;
  int64_t starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
  int ns, ne, na, nt;
  if ((st = constInts(c, sv, starts, MAX_RANK, &ns)) || (st = constInts(c, ev, ends, MAX_RANK, &ne)))
    return st;
  if (av && (st = constInts(c, av, axes, MAX_RANK, &na)))
    return st;
  if (tv && (st = constInts(c, tv, steps, MAX_RANK, &nt)))
    return st;
  if (!av)
    for (na = 0; na < ns; ++na)
      axes[na] = na;
  if (!tv)
    for (nt = 0; nt < ns; ++nt)
      steps[nt] = 1;
  if (ne != ns || na != ns || nt != ns)
    return fail(c, CLUSTERC_ONNX_INVALID, "starts, ends, axes and steps differ in length");
  int r = x->s.rank;
  int64_t off[MAX_RANK], size[MAX_RANK], stride[MAX_RANK];
  for (int i = 0; i < r; ++i)
    off[i] = 0, size[i] = x->s.d[i], stride[i] = 1;
  for (int i = 0; i < ns; ++i) {
    int a = normAxis(axes[i], r);
    if (a < 0 || a >= r || steps[i] <= 0)
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "axis out of range or a step that is not positive");
    int64_t dim = x->s.d[a], b = starts[i], e = ends[i];
    b = b < 0 ? b + dim : b;
    e = e < 0 ? e + dim : e;
    b = b < 0 ? 0 : b > dim ? dim : b;
    e = e < 0 ? 0 : e > dim ? dim : e;
    off[a] = b;
    stride[a] = steps[i];
    size[a] = e > b ? (e - b + steps[i] - 1) / steps[i] : 0;
  }
  Shape os = {r, {0}};
  memcpy(os.d, size, sizeof(int64_t) * (size_t)r);
  if (foldable(&x, 1, &os)) {
    size_t es = onnxElementSize(x->dtype);
    int64_t n = numel(&os);
    char *data = malloc(es * (size_t)(n ? n : 1));
    if (!data)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; ++i) {
      int64_t lin = i, src = 0, mul = 1;
      for (int k = r - 1; k >= 0; --k) {
        int64_t coord = lin % os.d[k];
        lin /= os.d[k];
        src += (off[k] + coord * stride[k]) * mul;
        mul *= x->s.d[k];
      }
      memcpy(data + es * (size_t)i, (const char *)x->data + es * (size_t)src, es);
    }
    return constOut(c, 0, x->dtype, &os, data);
  }
  if ((st = output(c, 0, x->dtype, &os, &out)) || (st = use(c, x)))
    return st;
  out->ssa = newSsa(c);
  Buf *b = &c->body;
  bufPrintf(b, "    %%v%d = tensor.extract_slice %%v%d[", out->ssa, x->ssa);
  for (int i = 0; i < r; ++i)
    bufPrintf(b, "%s%lld", i ? ", " : "", (long long)off[i]);
  bufPuts(b, "] [");
  for (int i = 0; i < r; ++i)
    bufPrintf(b, "%s%lld", i ? ", " : "", (long long)size[i]);
  bufPuts(b, "] [");
  for (int i = 0; i < r; ++i)
    bufPrintf(b, "%s%lld", i ? ", " : "", (long long)stride[i]);
  bufPrintf(b, "] : %s to %s", ty(c, x), ty(c, out));
  endOp(c);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opConcat(Ctx *c, const char *unused) {
  (void)unused;
  size_t n = c->node->n_input;
  if (!n || n > 64)
    return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Concat of %zu inputs", n);
  Val *in[64];
  ClustercOnnxStatus st;
  for (size_t i = 0; i < n; ++i)
    if ((st = input(c, i, &in[i])))
      return st;
  int r = in[0]->s.rank, a = normAxis(attrI(c->node, "axis", 0), r);
  if (a < 0 || a >= r)
    return fail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  Shape os = in[0]->s;
  os.d[a] = 0;
  for (size_t i = 0; i < n; ++i) {
    if (in[i]->s.rank != r || in[i]->dtype != in[0]->dtype)
      return fail(c, CLUSTERC_ONNX_INVALID, "inputs differ in rank or type");
    for (int k = 0; k < r; ++k)
      if (k != a && in[i]->s.d[k] != os.d[k])
        return fail(c, CLUSTERC_ONNX_INVALID, "inputs differ in dimension %d", k);
    os.d[a] += in[i]->s.d[a];
  }
  size_t es = onnxElementSize(in[0]->dtype);
  if (foldable(in, (int)n, &os)) {
    int64_t outer = 1, total = numel(&os);
    for (int k = 0; k < a; ++k)
      outer *= os.d[k];
    char *data = malloc(es * (size_t)(total ? total : 1)), *p = data;
    if (!data)
      return fail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < n; ++i) {
        int64_t chunk = outer ? numel(&in[i]->s) / outer : 0;
        memcpy(p, (const char *)in[i]->data + es * (size_t)(o * chunk), es * (size_t)chunk);
        p += es * (size_t)chunk;
      }
    return constOut(c, 0, in[0]->dtype, &os, data);
  }
  Val *out;
  int cur;
  if ((st = output(c, 0, in[0]->dtype, &os, &out)) || (st = emptyInit(c, &os, in[0]->dtype, NULL, &cur)))
    return st;
  int64_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    if ((st = use(c, in[i])))
      return st;
    int r2 = newSsa(c);
    Buf *b = &c->body;
    bufPrintf(b, "    %%v%d = tensor.insert_slice %%v%d into %%v%d[", r2, in[i]->ssa, cur);
    for (int k = 0; k < r; ++k)
      bufPrintf(b, "%s%lld", k ? ", " : "", (long long)(k == a ? at : 0));
    bufPuts(b, "] [");
    for (int k = 0; k < r; ++k)
      bufPrintf(b, "%s%lld", k ? ", " : "", (long long)in[i]->s.d[k]);
    bufPuts(b, "] [");
    for (int k = 0; k < r; ++k)
      bufPrintf(b, "%s1", k ? ", " : "");
    bufPrintf(b, "] : %s into %s", ty(c, in[i]), ty(c, out));
    endOp(c);
    cur = r2;
    at += in[i]->s.d[a];
  }
  out->ssa = cur;
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opDropout(Ctx *c, const char *unused) {
  (void)unused;
  if (hasInput(c->node, 2)) {
    Val *t;
    ClustercOnnxStatus st = input(c, 2, &t);
    if (st)
      return st;
    if (!t->data || numel(&t->s) != 1 || *(const uint8_t *)t->data)
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "Dropout in training mode");
  }
  return opIdentity(c, NULL);
}

static const struct {
  const char *name;
  OpFn fn;
  const char *arg;
} ops[] = {
    {"Add", opBinary, "A"},       {"Sub", opBinary, "S"},         {"Mul", opBinary, "M"},
    {"Div", opBinary, "D"},       {"Pow", opBinary, "P"},         {"Sqrt", opUnary, "sqrt"},
    {"Erf", opUnary, "erf"},      {"Tanh", opUnary, "tanh"},      {"Exp", opUnary, "exp"},
    {"Log", opUnary, "log"},      {"Abs", opUnary, "absf"},       {"Neg", opUnary, "neg"},
    {"Relu", opUnary, "relu"},    {"Sigmoid", opUnary, "sigmoid"}, {"Reciprocal", opUnary, "reciprocal"},
    {"Clip", opClip, NULL},       {"Identity", opIdentity, NULL}, {"Dropout", opDropout, NULL},
    {"Constant", opConstant, NULL}, {"Shape", opShape, NULL},     {"Cast", opCast, NULL},
    {"Reshape", opReshape, NULL}, {"Flatten", opFlatten, NULL},   {"Unsqueeze", opUnsqueeze, NULL},
    {"Squeeze", opSqueeze, NULL}, {"Transpose", opTranspose, NULL}, {"Gemm", opGemm, NULL},
    {"MatMul", opMatMul, NULL},   {"Conv", opConv, NULL},         {"MaxPool", opPool, "max"},
    {"AveragePool", opPool, "avg"}, {"GlobalAveragePool", opGlobalAvgPool, NULL},
    {"ReduceMean", opReduce, "mean"}, {"ReduceSum", opReduce, "sum"}, {"ReduceMax", opReduce, "xmax"},
    {"Softmax", opSoftmax, NULL}, {"BatchNormalization", opBatchNorm, NULL},
    {"LayerNormalization", opLayerNorm, NULL}, {"Gather", opGather, NULL},
    {"Slice", opSlice, NULL},     {"Concat", opConcat, NULL},
};

/* ---- the graph ------------------------------------------------------- */

static ClustercOnnxStatus checkOpset(Ctx *c) {
  const Onnx__ModelProto *mp = c->m->proto;
  c->opset = -1;
  for (size_t i = 0; i < mp->n_opset_import; ++i) {
    const char *d = mp->opset_import[i]->domain;
    if (!d || !*d || !strcmp(d, "ai.onnx"))
      c->opset = mp->opset_import[i]->version;
  }
  if (c->opset < 0)
    return onnxFail(c->e, CLUSTERC_ONNX_INVALID, "the model imports no default-domain opset");
  if (c->opset > CLUSTERC_ONNX_MAX_OPSET)
    return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED,
                    "opset %lld is newer than the newest supported, %d (supported: %d to %d)",
                    (long long)c->opset, CLUSTERC_ONNX_MAX_OPSET, CLUSTERC_ONNX_MIN_OPSET, CLUSTERC_ONNX_MAX_OPSET);
  if (c->opset < CLUSTERC_ONNX_MIN_OPSET)
    return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED, "opset %lld is older than the oldest supported, %d",
                    (long long)c->opset, CLUSTERC_ONNX_MIN_OPSET);
  return CLUSTERC_ONNX_OK;
}

/* The first node reading `name`, for diagnostics about graph inputs. */
static const char *firstUser(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_node; ++i)
    for (size_t k = 0; k < g->node[i]->n_input; ++k)
      if (!strcmp(g->node[i]->input[k], name))
        return g->node[i]->name ? g->node[i]->name : "";
  return NULL;
}

static ClustercOnnxStatus valueInfoShape(Ctx *c, const Onnx__ValueInfoProto *vi, int32_t *dt, Shape *s) {
  const Onnx__GraphProto *g = c->m->proto->graph;
  const Onnx__TypeProto *t = vi->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type->has_elem_type)
    return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' is not a tensor", vi->name);
  *dt = t->tensor_type->elem_type;
  if (!onnxMlirType(*dt))
    return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' has unsupported element type %d", vi->name, (int)*dt);
  const Onnx__TensorShapeProto *sh = t->tensor_type->shape;
  const char *user = firstUser(g, vi->name);
  if (!sh)
    return onnxFail(c->e, CLUSTERC_ONNX_DYNAMIC, "input '%s'%s%s%s has no shape; clusterc needs static shapes",
                    vi->name, user ? " (read by node '" : "", user ? user : "", user ? "')" : "");
  if (sh->n_dim > MAX_RANK)
    return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' has rank %zu", vi->name, sh->n_dim);
  s->rank = (int)sh->n_dim;
  for (size_t i = 0; i < sh->n_dim; ++i) {
    const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
    if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || d->dim_value < 0)
      return onnxFail(c->e, CLUSTERC_ONNX_DYNAMIC,
                      "input '%s'%s%s%s: dimension %zu is dynamic%s%s%s; clusterc needs static shapes "
                      "(export with fixed sizes, no dynamic_axes)",
                      vi->name, user ? " (read by node '" : "", user ? user : "", user ? "')" : "", i,
                      d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? " ('" : "",
                      d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? d->dim_param : "",
                      d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? "')" : "");
    s->d[i] = d->dim_value;
  }
  return CLUSTERC_ONNX_OK;
}

static void putFuncType(Ctx *c, Buf *b, const Val *v) { bufPuts(b, ty(c, v)); }

/* Streams a resource blob: the 4-byte alignment, then the data in hex. */
static void emitBlob(Buf *b, const Val *v) {
  uint32_t align = (uint32_t)onnxElementSize(v->dtype);
  uint8_t hdr[4] = {(uint8_t)align, 0, 0, 0};
  bufPrintf(b, "      %s: \"0x", v->key);
  putHex(b, hdr, 4);
  putHex(b, v->data, (size_t)numel(&v->s) * onnxElementSize(v->dtype));
  bufPuts(b, "\"");
}

static ClustercOnnxStatus translate(Ctx *c, Buf *head, Val ***outs, size_t *nOuts) {
  const Onnx__GraphProto *g = c->m->proto->graph;
  ClustercOnnxStatus st;
  if ((st = checkOpset(c)))
    return st;
  for (size_t i = 0; i < g->n_initializer; ++i) {
    const Onnx__TensorProto *t = g->initializer[i];
    Val *v = newVal(c, t->name ? t->name : "", 0, NULL);
    if (!v)
      return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
    v->init = t;
    char what[512];
    snprintf(what, sizeof what, "initializer '%s'", t->name ? t->name : "");
    if (t->n_dims > MAX_RANK)
      return onnxFail(c->e, CLUSTERC_ONNX_UNSUPPORTED, "%s has rank %zu", what, t->n_dims);
    v->dtype = t->data_type;
    v->s.rank = (int)t->n_dims;
    for (size_t k = 0; k < t->n_dims; ++k)
      v->s.d[k] = t->dims[k];
    size_t size;
    if ((st = onnxTensorData(c->e, c->m, t, what, &v->data, &size, &v->owned)))
      return st;
  }
  const char *fn = c->o->funcName ? c->o->funcName : "forward";
  bufPrintf(head, "module {\n  func.func @%s(", fn);
  int nArgs = 0;
  for (size_t i = 0; i < g->n_input; ++i) {
    const Onnx__ValueInfoProto *vi = g->input[i];
    if (lookup(c, vi->name)) /* an initializer listed as an input (IR < 4) */
      continue;
    int32_t dt = 0;
    Shape s;
    if ((st = valueInfoShape(c, vi, &dt, &s)))
      return st;
    Val *v = newVal(c, vi->name, dt, &s);
    if (!v)
      return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
    v->ssa = newSsa(c);
    bufPrintf(head, "%s%%v%d: %s", nArgs++ ? ", " : "", v->ssa, ty(c, v));
    putLoc(head, vi->name);
  }
  for (size_t i = 0; i < g->n_node; ++i) {
    c->node = g->node[i];
    const Onnx__NodeProto *n = c->node;
    /* Unnamed nodes are called by their op and position. */
    snprintf(c->nodeName, sizeof c->nodeName, "%s_%zu", n->op_type ? n->op_type : "node", i);
    const char *dom = n->domain;
    size_t k = 0;
    if (!dom || !*dom || !strcmp(dom, "ai.onnx"))
      while (k < sizeof ops / sizeof ops[0] && strcmp(ops[k].name, n->op_type))
        ++k;
    else
      k = sizeof ops / sizeof ops[0];
    if (k == sizeof ops / sizeof ops[0])
      return fail(c, CLUSTERC_ONNX_UNSUPPORTED, "unsupported op '%s%s%s'", dom && *dom ? dom : "",
                  dom && *dom ? "." : "", n->op_type);
    if ((st = ops[k].fn(c, ops[k].arg)))
      return st;
    if (c->body.failed)
      return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  c->node = NULL;
  *outs = calloc(g->n_output ? g->n_output : 1, sizeof(Val *));
  if (!*outs)
    return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
  *nOuts = g->n_output;
  for (size_t i = 0; i < g->n_output; ++i) {
    Val *v = lookup(c, g->output[i]->name);
    if (!v)
      return onnxFail(c->e, CLUSTERC_ONNX_INVALID, "graph output '%s' is not defined", g->output[i]->name);
    if ((st = use(c, v)))
      return st;
    (*outs)[i] = v;
  }
  bufPuts(head, ") -> (");
  for (size_t i = 0; i < *nOuts; ++i) {
    bufPuts(head, i ? ", " : "");
    putFuncType(c, head, (*outs)[i]);
  }
  bufPuts(head, ") {\n");
  bufPuts(&c->body, "    return ");
  for (size_t i = 0; i < *nOuts; ++i)
    bufPrintf(&c->body, "%s%%v%d", i ? ", " : "", (*outs)[i]->ssa);
  bufPuts(&c->body, " : ");
  for (size_t i = 0; i < *nOuts; ++i) {
    bufPuts(&c->body, i ? ", " : "");
    putFuncType(c, &c->body, (*outs)[i]);
  }
  bufPuts(&c->body, "\n  }\n}\n");
  if (head->failed || c->body.failed)
    return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
  return CLUSTERC_ONNX_OK;
}

void clustercOnnxOptionsInit(ClustercOnnxOptions *o) {
  memset(o, 0, sizeof *o);
  o->funcName = "forward";
}

static void emitBuf(MlirStringCallback out, void *user, Buf *b) {
  if (b->len)
    out((MlirStringRef){b->data, b->len}, user);
  b->len = 0;
}

ClustercOnnxStatus clustercOnnxImport(const char *path, const ClustercOnnxOptions *options, MlirStringCallback out,
                                      void *user, char *err, size_t errSize) {
  OnnxErr e = {path, err, errSize};
  if (err && errSize)
    err[0] = 0;
  ClustercOnnxOptions dflt;
  clustercOnnxOptionsInit(&dflt);
  OnnxModel m;
  ClustercOnnxStatus st = onnxModelLoad(&e, path, &m);
  if (st)
    return st;
  Ctx c = {.e = &e, .m = &m, .o = options ? options : &dflt};
  Buf head = {0};
  Val **outs = NULL;
  size_t nOuts = 0;
  st = translate(&c, &head, &outs, &nOuts);
  if (!st) {
    emitBuf(out, user, &head);
    emitBuf(out, user, &c.body);
    if (c.nRes) {
      Buf b = {0};
      bufPuts(&b, "\n{-#\n  dialect_resources: {\n    builtin: {\n");
      for (size_t i = 0; i < c.nRes && !b.failed; ++i) {
        emitBlob(&b, c.resources[i]);
        bufPuts(&b, i + 1 < c.nRes ? ",\n" : "\n");
        emitBuf(out, user, &b);
      }
      bufPuts(&b, "    }\n  }\n#-}\n");
      emitBuf(out, user, &b);
      bufFree(&b);
    }
  }
  bufFree(&head);
  bufFree(&c.body);
  free(outs);
  for (size_t i = 0; i < c.nAll; ++i) {
    free(c.all[i]->owned);
    free((char *)c.all[i]->key);
    free(c.all[i]);
  }
  free(c.all);
  free(c.names);
  free(c.slots);
  free(c.resources);
  onnxModelFree(&m);
  return st;
}
