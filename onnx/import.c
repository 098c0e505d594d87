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
 *
 * Files: import.c (this: opset and input checks, the walk, the output),
 * emit.c (values and text helpers), ops-compute.c and ops-tensor.c (one
 * function per op, each with its table of op types).
 *
 * Example: Gemm(x, fc.weight[10x20], fc.bias) with transB=1 becomes
 *   %w = arith.constant dense_resource<fc.weight> : tensor<10x20xf32> loc("fc.weight")
 *   %wt = linalg.generic {(d0, d1) -> (d1, d0), (d0, d1) -> (d0, d1)} ins(%w) ...  // 20x10
 *   %m = linalg.matmul ins(%x, %wt : tensor<1x20xf32>, tensor<20x10xf32>) ... loc("/fc/Gemm")
 *   %y = linalg.generic {...} ins(%m, %b) { arith.addf } ... loc("/fc/Gemm")
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the graph ------------------------------------------------------- */

static const ImOp *findOp(const char *type) {
  for (size_t i = 0; i < imNumComputeOps; ++i)
    if (!strcmp(imComputeOps[i].name, type))
      return &imComputeOps[i];
  for (size_t i = 0; i < imNumTensorOps; ++i)
    if (!strcmp(imTensorOps[i].name, type))
      return &imTensorOps[i];
  return NULL;
}

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

static void putFuncType(Ctx *c, Buf *b, const Val *v) { bufPuts(b, imTy(c, v)); }

/* Streams a resource blob: the 4-byte alignment, then the data in hex. */
static void emitBlob(Buf *b, const Val *v) {
  uint32_t align = (uint32_t)onnxElementSize(v->dtype);
  uint8_t hdr[4] = {(uint8_t)align, 0, 0, 0};
  bufPrintf(b, "      %s: \"0x", v->key);
  imPutHex(b, hdr, 4);
  imPutHex(b, v->data, (size_t)imNumel(&v->s) * onnxElementSize(v->dtype));
  bufPuts(b, "\"");
}

static ClustercOnnxStatus translate(Ctx *c, Buf *head, Val ***outs, size_t *nOuts) {
  const Onnx__GraphProto *g = c->m->proto->graph;
  ClustercOnnxStatus st;
  if ((st = checkOpset(c)))
    return st;
  for (size_t i = 0; i < g->n_initializer; ++i) {
    const Onnx__TensorProto *t = g->initializer[i];
    Val *v = imNewVal(c, t->name ? t->name : "", 0, NULL);
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
    if (imLookup(c, vi->name)) /* an initializer listed as an input (IR < 4) */
      continue;
    int32_t dt = 0;
    Shape s;
    if ((st = valueInfoShape(c, vi, &dt, &s)))
      return st;
    Val *v = imNewVal(c, vi->name, dt, &s);
    if (!v)
      return onnxFail(c->e, CLUSTERC_ONNX_NOMEM, "out of memory");
    v->ssa = imNewSsa(c);
    bufPrintf(head, "%s%%v%d: %s", nArgs++ ? ", " : "", v->ssa, imTy(c, v));
    imPutLoc(head, vi->name);
  }
  for (size_t i = 0; i < g->n_node; ++i) {
    c->node = g->node[i];
    const Onnx__NodeProto *n = c->node;
    /* Unnamed nodes are called by their op and position. */
    snprintf(c->nodeName, sizeof c->nodeName, "%s_%zu", n->op_type ? n->op_type : "node", i);
    const char *dom = n->domain;
    const ImOp *op = NULL;
    if (!dom || !*dom || !strcmp(dom, "ai.onnx"))
      op = findOp(n->op_type);
    if (!op)
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "unsupported op '%s%s%s'", dom && *dom ? dom : "",
                  dom && *dom ? "." : "", n->op_type);
    if ((st = op->fn(c, op->arg)))
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
    Val *v = imLookup(c, g->output[i]->name);
    if (!v)
      return onnxFail(c->e, CLUSTERC_ONNX_INVALID, "graph output '%s' is not defined", g->output[i]->name);
    if ((st = imUse(c, v)))
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
