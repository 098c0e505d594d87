/*
 * The importer's building blocks (see import.c for the overview): the
 * value table, diagnostics at the current node, MLIR text (types,
 * locations, literals, constants as inline dense or dense_resource),
 * linalg.generic with broadcasting maps, reshapes as collapse/expand_shape,
 * and the arithmetic used when folding constants.
 */
#include "import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ---------------------------------------------------------- */

static uint64_t hashStr(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; ++s)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

Val *imLookup(Ctx *c, const char *name) {
  if (!c->nSlots)
    return NULL;
  for (size_t i = hashStr(name) & (c->nSlots - 1);; i = (i + 1) & (c->nSlots - 1)) {
    if (!c->names[i])
      return NULL;
    if (!strcmp(c->names[i], name))
      return c->slots[i];
  }
}

bool imBind(Ctx *c, const char *name, Val *v) {
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

Val *imNewVal(Ctx *c, const char *name, int32_t dtype, const Shape *s) {
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
  if (name && *name && !imBind(c, name, v))
    return NULL;
  return v;
}

int64_t imNumel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; ++i)
    n *= s->d[i];
  return n;
}

bool imIsFloat(int32_t dt) {
  return dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
         dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE || dt == ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
}

/* Whether an op on constants is computed at import time: its output is
 * small and no input is a float tensor of more than CONST_INLINE elements,
 * so weights (say an embedding table indexed by constant positions) stay
 * named resources with their consumers, and what folds is the integer
 * shape arithmetic and small float constants. */
bool imFoldable(Val **ins, int n, const Shape *os) {
  if (imNumel(os) > FOLD_MAX)
    return false;
  for (int i = 0; i < n; ++i)
    if (ins[i] && (!ins[i]->data || (imIsFloat(ins[i]->dtype) && imNumel(&ins[i]->s) > CONST_INLINE)))
      return false;
  return true;
}

/* ---- diagnostics ----------------------------------------------------- */

const char *imNodeName(const Ctx *c) {
  return c->node->name && *c->node->name ? c->node->name : c->nodeName;
}

ClustercOnnxStatus imFail(Ctx *c, ClustercOnnxStatus st, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (c->node)
    return onnxFail(c->e, st, "node '%s' (%s): %s", imNodeName(c),
                    c->node->op_type ? c->node->op_type : "", msg);
  return onnxFail(c->e, st, "%s", msg);
}

/* ---- text helpers ---------------------------------------------------- */

const char *imTyDims(Ctx *c, const Shape *s, int32_t dt) {
  char *b = c->tybuf[c->tyNext++ & 15];
  int n = snprintf(b, 320, "tensor<");
  for (int i = 0; i < s->rank; ++i)
    n += snprintf(b + n, (size_t)(320 - n), "%lldx", (long long)s->d[i]);
  snprintf(b + n, (size_t)(320 - n), "%s>", onnxMlirType(dt));
  return b;
}

const char *imTy(Ctx *c, const Val *v) { return imTyDims(c, &v->s, v->dtype); }

void imPutLoc(Buf *b, const char *name) {
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
void imEndOp(Ctx *c) {
  imPutLoc(&c->body, c->node ? imNodeName(c) : "");
  bufPuts(&c->body, "\n");
}

int imNewSsa(Ctx *c) { return c->nextSsa++; }

void imPutHex(Buf *b, const void *data, size_t n) {
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
void imScalarLit(char *out, size_t n, const void *data, int32_t dt) {
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

void imFloatLit(char *out, size_t n, float f) { imScalarLit(out, n, &f, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT); }

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
ClustercOnnxStatus imMaterialize(Ctx *c, Val *v) {
  if (v->ssa >= 0)
    return CLUSTERC_ONNX_OK;
  if (!v->data)
    return imFail(c, CLUSTERC_ONNX_INVALID, "value '%s' is used before it is defined", v->name);
  if (!onnxMlirType(v->dtype) || v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "constant '%s' has an unsupported type", v->name);
  v->ssa = imNewSsa(c);
  int64_t n = imNumel(&v->s);
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
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    }
    v->key = dup;
    c->resources[c->nRes++] = v;
    bufPrintf(&c->body, "    %%v%d = arith.constant dense_resource<%s> : %s", v->ssa, key, imTy(c, v));
  } else {
    bufPrintf(&c->body, "    %%v%d = arith.constant dense<\"0x", v->ssa);
    imPutHex(&c->body, v->data, bytes);
    bufPrintf(&c->body, "\"> : %s", imTy(c, v));
  }
  imPutLoc(&c->body, v->name);
  bufPuts(&c->body, "\n");
  return CLUSTERC_ONNX_OK;
}

/* ---- node access ----------------------------------------------------- */

const Onnx__AttributeProto *imAttr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; ++i)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
      return n->attribute[i];
  return NULL;
}

int64_t imAttrI(const Onnx__NodeProto *n, const char *name, int64_t dflt) {
  const Onnx__AttributeProto *a = imAttr(n, name);
  return a && a->has_i ? a->i : dflt;
}

float imAttrF(const Onnx__NodeProto *n, const char *name, float dflt) {
  const Onnx__AttributeProto *a = imAttr(n, name);
  return a && a->has_f ? a->f : dflt;
}

/* Copies an ints attribute; returns its length, -1 when absent. */
int imAttrInts(const Onnx__NodeProto *n, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = imAttr(n, name);
  if (!a)
    return -1;
  int k = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
  for (int i = 0; i < k; ++i)
    out[i] = a->ints[i];
  return k;
}

bool imHasInput(const Onnx__NodeProto *n, size_t i) { return i < n->n_input && n->input[i][0]; }

ClustercOnnxStatus imInput(Ctx *c, size_t i, Val **out) {
  const Onnx__NodeProto *n = c->node;
  *out = NULL;
  if (!imHasInput(n, i))
    return imFail(c, CLUSTERC_ONNX_INVALID, "input %zu is missing", i);
  Val *v = imLookup(c, n->input[i]);
  if (!v)
    return imFail(c, CLUSTERC_ONNX_INVALID, "input '%s' is not defined", n->input[i]);
  *out = v;
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus imOutput(Ctx *c, size_t i, int32_t dt, const Shape *s, Val **out) {
  if (i >= c->node->n_output || !c->node->output[i][0])
    return imFail(c, CLUSTERC_ONNX_INVALID, "output %zu is missing", i);
  for (int k = 0; k < s->rank; ++k)
    if (s->d[k] < 0)
      return imFail(c, CLUSTERC_ONNX_INVALID, "negative dimension");
  *out = imNewVal(c, c->node->output[i], dt, s);
  return *out ? CLUSTERC_ONNX_OK : imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
}

/* Only the first `used` outputs may be consumed. */
ClustercOnnxStatus imOnlyOutputs(Ctx *c, size_t used) {
  for (size_t i = used; i < c->node->n_output; ++i)
    if (c->node->output[i][0])
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "output %zu ('%s') is not supported", i,
                  c->node->output[i]);
  return CLUSTERC_ONNX_OK;
}

/* Constant int64 contents of an input (axes, shapes, pads). */
ClustercOnnxStatus imConstInts(Ctx *c, Val *v, int64_t *out, int max, int *count) {
  if (!v->data)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' must be a constant", v->name);
  int64_t n = imNumel(&v->s);
  if (n > max)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' has too many elements", v->name);
  for (int64_t i = 0; i < n; ++i) {
    if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
      memcpy(&out[i], (const char *)v->data + 8 * i, 8);
    else if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
      int32_t x;
      memcpy(&x, (const char *)v->data + 4 * i, 4);
      out[i] = x;
    } else
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "input '%s' must hold integers", v->name);
  }
  *count = (int)n;
  return CLUSTERC_ONNX_OK;
}

/* A float scalar constant's value. */
bool imConstScalarF(const Val *v, double *out) {
  if (!v->data || imNumel(&v->s) != 1)
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

int imNormAxis(int64_t a, int rank) { return (int)(a < 0 ? a + rank : a); }

/* ---- emission helpers ------------------------------------------------ */

ClustercOnnxStatus imUse(Ctx *c, Val *v) { return v->ssa >= 0 ? CLUSTERC_ONNX_OK : imMaterialize(c, v); }



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

ClustercOnnxStatus imEmptyInit(Ctx *c, const Shape *s, int32_t dt, const char *fill, int *ssa) {
  int e = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = tensor.empty() : %s", e, imTyDims(c, s, dt));
  imEndOp(c);
  if (!fill) {
    *ssa = e;
    return CLUSTERC_ONNX_OK;
  }
  int k = imNewSsa(c), f = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = arith.constant %s", k, fill);
  imEndOp(c);
  bufPrintf(&c->body, "    %%v%d = linalg.fill ins(%%v%d : %s) outs(%%v%d : %s) -> %s", f, k,
            onnxMlirType(dt), e, imTyDims(c, s, dt), imTyDims(c, s, dt));
  imEndOp(c);
  *ssa = f;
  return CLUSTERC_ONNX_OK;
}

/*
 * %r = linalg.generic over `loops` loops (iters: 'p'/'r' per loop) with the
 * inputs ins, writing a tensor of shape os (output map omap) initialised by
 * init (-1: tensor.empty). body uses %a<i> for input i and %o for the
 * output and ends with linalg.yield.
 */
ClustercOnnxStatus imGeneric(Ctx *c, GIn *ins, int nIn, int loops, const char *iters,
                                  const Shape *os, int32_t odt, const int *omap, int init,
                                  const char *body, int *res) {
  ClustercOnnxStatus st;
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined && (st = imUse(c, ins[i].v)))
      return st;
  if (init < 0 && (st = imEmptyInit(c, os, odt, NULL, &init)))
    return st;
  Buf *b = &c->body;
  int r = imNewSsa(c);
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
      bufPrintf(b, "%s%s", k++ ? ", " : "", imTy(c, ins[i].v));
  bufPrintf(b, ") outs(%%v%d : %s) {\n    ^bb0(", init, imTyDims(c, os, odt));
  for (int i = 0; i < nIn; ++i)
    if (!ins[i].inlined)
      bufPrintf(b, "%%a%d: %s, ", i, onnxMlirType(ins[i].v->dtype));
  bufPrintf(b, "%%o: %s):\n", onnxMlirType(odt));
  for (int i = 0; i < nIn; ++i)
    if (ins[i].inlined) {
      char lit[64];
      imScalarLit(lit, sizeof lit, ins[i].v->data, ins[i].v->dtype);
      bufPrintf(b, "      %%a%d = arith.constant %s\n", i, lit);
    }
  bufPuts(b, body);
  bufPrintf(b, "    } -> %s", imTyDims(c, os, odt));
  imEndOp(c);
  *res = r;
  return CLUSTERC_ONNX_OK;
}

void imIdentityMap(int *map, int rank) {
  for (int i = 0; i < rank; ++i)
    map[i] = i;
}

/* Numpy broadcasting of a and b into out. */
bool imBroadcast(const Shape *a0, const Shape *b0, Shape *out) {
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
void imBroadcastMap(const Shape *in, const Shape *os, int *map) {
  int off = os->rank - in->rank;
  for (int i = 0; i < in->rank; ++i)
    map[i] = (in->d[i] == 1 && os->d[i + off] != 1) ? -1 : i + off;
}

void imSetIn(GIn *g, Val *v, const Shape *os) {
  g->v = v;
  g->inlined = v->data && imNumel(&v->s) == 1 && v->s.rank <= os->rank;
  imBroadcastMap(&v->s, os, g->map);
}

/* A broadcasting elementwise op over inputs ins; body as in imGeneric(). */
ClustercOnnxStatus imEltwise(Ctx *c, Val **ins, int n, int32_t odt, const char *body, Val **out) {
  Shape os = ins[0]->s;
  for (int i = 1; i < n; ++i)
    if (!imBroadcast(&os, &ins[i]->s, &os))
      return imFail(c, CLUSTERC_ONNX_INVALID, "shapes of '%s' and '%s' do not broadcast", ins[0]->name,
                  ins[i]->name);
  GIn g[8];
  for (int i = 0; i < n; ++i)
    imSetIn(&g[i], ins[i], &os);
  /* An all-constant op still needs one run-time operand. */
  bool any = false;
  for (int i = 0; i < n; ++i)
    any |= !g[i].inlined;
  if (!any)
    g[0].inlined = false, imBroadcastMap(&ins[0]->s, &os, g[0].map);
  int omap[MAX_RANK];
  imIdentityMap(omap, os.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  ClustercOnnxStatus st = imOutput(c, 0, odt, &os, out);
  if (st)
    return st;
  return imGeneric(c, g, n, os.rank, iters, &os, odt, omap, -1, body, &(*out)->ssa);
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
int imReshapeSsa(Ctx *c, int ssa, const Shape *from, const Shape *to, int32_t dt) {
  if (from->rank == to->rank && !memcmp(from->d, to->d, (size_t)from->rank * sizeof(int64_t)))
    return ssa;
  int start[MAX_RANK];
  if (from->rank > to->rank && groups(from, to, start)) {
    int r = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = tensor.collapse_shape %%v%d ", r, ssa);
    putReassoc(&c->body, from, to, start);
    bufPrintf(&c->body, " : %s into %s", imTyDims(c, from, dt), imTyDims(c, to, dt));
    imEndOp(c);
    return r;
  }
  if (from->rank < to->rank && groups(to, from, start)) {
    int r = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = tensor.expand_shape %%v%d ", r, ssa);
    putReassoc(&c->body, to, from, start);
    bufPuts(&c->body, " output_shape [");
    for (int i = 0; i < to->rank; ++i)
      bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)to->d[i]);
    bufPrintf(&c->body, "] : %s into %s", imTyDims(c, from, dt), imTyDims(c, to, dt));
    imEndOp(c);
    return r;
  }
  Shape flat = {1, {imNumel(from)}};
  return imReshapeSsa(c, imReshapeSsa(c, ssa, from, &flat, dt), &flat, to, dt);
}

/* Output 0 as a reshape of v (folded when v is a small constant). */
ClustercOnnxStatus imReshapeTo(Ctx *c, Val *v, const Shape *to) {
  if (imNumel(to) != imNumel(&v->s))
    return imFail(c, CLUSTERC_ONNX_INVALID, "cannot reshape %lld elements to %lld",
                (long long)imNumel(&v->s), (long long)imNumel(to));
  Val *out;
  ClustercOnnxStatus st = imOutput(c, 0, v->dtype, to, &out);
  if (st)
    return st;
  if (imFoldable(&v, 1, to)) {
    out->data = v->data; /* v outlives the import */
    return CLUSTERC_ONNX_OK;
  }
  if ((st = imUse(c, v)))
    return st;
  out->ssa = imReshapeSsa(c, v->ssa, &v->s, to, v->dtype);
  return CLUSTERC_ONNX_OK;
}

ClustercOnnxStatus imFillConst(Ctx *c, const Shape *s, int32_t dt, float f, int *ssa) {
  char lit[64];
  imFloatLit(lit, sizeof lit, f);
  return imEmptyInit(c, s, dt, lit, ssa);
}

/* tensor.pad with a constant. */
int imPad(Ctx *c, int ssa, const Shape *in, const int64_t *lo, const int64_t *hi, float value,
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
  imFloatLit(lit, sizeof lit, value);
  int k = imNewSsa(c), r = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = arith.constant %s", k, lit);
  imEndOp(c);
  bufPrintf(&c->body, "    %%v%d = tensor.pad %%v%d low[", r, ssa);
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)lo[i]);
  bufPuts(&c->body, "] high[");
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)hi[i]);
  bufPuts(&c->body, "] {\n    ^bb0(");
  for (int i = 0; i < in->rank; ++i)
    bufPrintf(&c->body, "%s%%i%d: index", i ? ", " : "", i);
  bufPrintf(&c->body, "):\n      tensor.yield %%v%d : f32\n    } : %s to %s", k, imTyDims(c, in, 1),
            imTyDims(c, out, 1));
  imEndOp(c);
  return r;
}

/* ---- folding --------------------------------------------------------- */

/* Output i becomes a constant holding `data` (owned by the new Val). */
ClustercOnnxStatus imConstOut(Ctx *c, size_t i, int32_t dt, const Shape *s, void *data) {
  Val *out;
  ClustercOnnxStatus st = imOutput(c, i, dt, s, &out);
  if (st) {
    free(data);
    return st;
  }
  out->data = out->owned = data;
  return CLUSTERC_ONNX_OK;
}



/* Linear index into a broadcast operand from an output index. */
int64_t imBcastIndex(const Shape *in, const Shape *os, int64_t lin) {
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

double imLoadD(const Val *v, int64_t i) {
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

int64_t imLoadI(const Val *v, int64_t i) {
  if (v->dtype == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
    int64_t x;
    memcpy(&x, (const char *)v->data + 8 * i, 8);
    return x;
  }
  return (int64_t)imLoadD(v, i);
}

void imStoreAs(void *data, int32_t dt, int64_t i, double d, int64_t iv, bool useInt) {
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
