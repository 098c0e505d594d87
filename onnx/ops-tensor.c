/*
 * ONNX ops that move data or compute shapes: Identity, Constant, Shape,
 * Cast, Reshape, Flatten, (Un)Squeeze, Transpose, Gather, Slice, Concat,
 * Dropout. On small integer constants they fold at import time (the
 * Shape/Gather/Unsqueeze/Concat chains of reshape targets); otherwise they
 * become tensor.collapse_shape/expand_shape, linalg.transpose,
 * tensor.extract_slice/insert_slice, or a linalg.generic (Gather: an
 * embedding lookup with tensor.extract, the form embedding detection
 * looks for).
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ClustercOnnxStatus opIdentity(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st || (st = imOnlyOutputs(c, 1)))
    return st;
  return imBind(c, c->node->output[0], x) ? CLUSTERC_ONNX_OK : imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
}

static ClustercOnnxStatus tensorVal(Ctx *c, const Onnx__TensorProto *t, Val *out) {
  Shape s = {(int)t->n_dims, {0}};
  if (t->n_dims > MAX_RANK)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "rank %zu", t->n_dims);
  for (size_t i = 0; i < t->n_dims; ++i)
    s.d[i] = t->dims[i];
  out->dtype = t->data_type;
  out->s = s;
  size_t size;
  ClustercOnnxStatus st = onnxTensorData(c->e, c->m, t, out->name, &out->data, &size, &out->owned);
  if (st && c->node) {
    char copy[512];
    snprintf(copy, sizeof copy, "%s", c->e->msg ? c->e->msg : "");
    return imFail(c, st, "%s", strstr(copy, "error: ") ? strstr(copy, "error: ") + 7 : copy);
  }
  return st;
}

/* A Constant's value_float(s)/value_int(s): a scalar (one) or a list. */
static ClustercOnnxStatus listConst(Ctx *c, bool one, const void *vals, size_t count, size_t es, int32_t dt) {
  size_t n = one ? 1 : count;
  Shape s = {one ? 0 : 1, {(int64_t)n}};
  void *d = malloc(es * (n ? n : 1));
  if (!d)
    return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  memcpy(d, vals, es * n);
  return imConstOut(c, 0, dt, &s, d);
}

static ClustercOnnxStatus opConstant(Ctx *c, const char *unused) {
  (void)unused;
  const Onnx__AttributeProto *a;
  Shape s = {0, {0}};
  Val *out;
  ClustercOnnxStatus st;
  if ((a = imAttr(c->node, "value")) && a->t) {
    if ((st = imOutput(c, 0, 1, &s, &out)))
      return st;
    return tensorVal(c, a->t, out);
  }
  if ((a = imAttr(c->node, "value_float")) || (a = imAttr(c->node, "value_floats")))
    return listConst(c, a->has_f, a->has_f ? &a->f : (const void *)a->floats, a->n_floats, 4,
                     ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  if ((a = imAttr(c->node, "value_int")) || (a = imAttr(c->node, "value_ints")))
    return listConst(c, a->has_i, a->has_i ? &a->i : (const void *)a->ints, a->n_ints, 8,
                     ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
  return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Constant without a value, value_float(s) or value_int(s)");
}

static ClustercOnnxStatus opShape(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int64_t b = imAttrI(c->node, "start", 0), e = imAttrI(c->node, "end", r);
  b = b < 0 ? b + r : b;
  e = e < 0 ? e + r : e;
  b = b < 0 ? 0 : b > r ? r : b;
  e = e < b ? b : e > r ? r : e;
  Shape s = {1, {e - b}};
  int64_t *d = malloc(8 * (size_t)(e - b + 1));
  if (!d)
    return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  for (int64_t i = b; i < e; ++i)
    d[i - b] = x->s.d[i];
  return imConstOut(c, 0, 7, &s, d);
}

static ClustercOnnxStatus opCast(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  int32_t to = (int32_t)imAttrI(c->node, "to", 0);
  if (to == x->dtype)
    return opIdentity(c, NULL);
  bool known = to == 1 || to == 7 || to == 6 || to == 11;
  if (known && imFoldable(&x, 1, &x->s) && (x->dtype == 1 || x->dtype == 7 || x->dtype == 6 || x->dtype == 11)) {
    int64_t n = imNumel(&x->s);
    void *d = malloc(8 * (size_t)(n ? n : 1));
    if (!d)
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    bool fromInt = x->dtype == 7 || x->dtype == 6;
    for (int64_t i = 0; i < n; ++i)
      imStoreAs(d, to, i, imLoadD(x, i), imLoadI(x, i), fromInt);
    return imConstOut(c, 0, to, &x->s, d);
  }
  const char *from = onnxMlirType(x->dtype), *tt = onnxMlirType(to);
  if (!from || !tt || to == 9 || x->dtype == 9)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Cast from type %d to %d", (int)x->dtype, (int)to);
  const char *op;
  bool ff = imIsFloat(x->dtype), tf = imIsFloat(to);
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
  return imEltwise(c, &x, 1, to, body, &out);
}

static ClustercOnnxStatus opReshape(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *sv;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imInput(c, 1, &sv)))
    return st;
  int64_t t[MAX_RANK];
  int n;
  if ((st = imConstInts(c, sv, t, MAX_RANK, &n)))
    return st;
  Shape to = {n, {0}};
  int infer = -1;
  int64_t known = 1;
  bool allowzero = imAttrI(c->node, "allowzero", 0) != 0;
  for (int i = 0; i < n; ++i) {
    if (t[i] == 0 && !allowzero) {
      if (i >= x->s.rank)
        return imFail(c, CLUSTERC_ONNX_INVALID, "shape entry 0 beyond the input's rank");
      t[i] = x->s.d[i];
    }
    if (t[i] == -1) {
      if (infer >= 0)
        return imFail(c, CLUSTERC_ONNX_INVALID, "two -1 entries in the shape");
      infer = i;
      continue;
    }
    if (t[i] < 0)
      return imFail(c, CLUSTERC_ONNX_INVALID, "invalid shape entry %lld", (long long)t[i]);
    to.d[i] = t[i];
    known *= t[i];
  }
  if (infer >= 0)
    to.d[infer] = known ? imNumel(&x->s) / known : 0;
  return imReshapeTo(c, x, &to);
}

static ClustercOnnxStatus opFlatten(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  int a = imNormAxis(imAttrI(c->node, "axis", 1), x->s.rank);
  if (a < 0 || a > x->s.rank)
    return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  Shape to = {2, {1, 1}};
  for (int i = 0; i < x->s.rank; ++i)
    to.d[i < a ? 0 : 1] *= x->s.d[i];
  return imReshapeTo(c, x, &to);
}

ClustercOnnxStatus imAxesOf(Ctx *c, int64_t *axes, int *n) {
  *n = imAttrInts(c->node, "axes", axes, MAX_RANK);
  if (*n >= 0 || !imHasInput(c->node, 1))
    return CLUSTERC_ONNX_OK;
  Val *a;
  ClustercOnnxStatus st = imInput(c, 1, &a);
  return st ? st : imConstInts(c, a, axes, MAX_RANK, n);
}

static ClustercOnnxStatus opUnsqueeze(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  int64_t axes[MAX_RANK];
  int n;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imAxesOf(c, axes, &n)))
    return st;
  if (n < 0)
    return imFail(c, CLUSTERC_ONNX_INVALID, "no axes");
  int r = x->s.rank + n;
  if (r > MAX_RANK)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "rank %d", r);
  bool ins[MAX_RANK] = {false};
  for (int i = 0; i < n; ++i) {
    int a = imNormAxis(axes[i], r);
    if (a < 0 || a >= r || ins[a])
      return imFail(c, CLUSTERC_ONNX_INVALID, "invalid axis %lld", (long long)axes[i]);
    ins[a] = true;
  }
  Shape to = {r, {0}};
  for (int i = 0, k = 0; i < r; ++i)
    to.d[i] = ins[i] ? 1 : x->s.d[k++];
  return imReshapeTo(c, x, &to);
}

static ClustercOnnxStatus opSqueeze(Ctx *c, const char *unused) {
  (void)unused;
  Val *x;
  int64_t axes[MAX_RANK];
  int n;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imAxesOf(c, axes, &n)))
    return st;
  bool drop[MAX_RANK] = {false};
  for (int i = 0; i < x->s.rank; ++i)
    drop[i] = n < 0 && x->s.d[i] == 1;
  for (int i = 0; i < n; ++i) {
    int a = imNormAxis(axes[i], x->s.rank);
    if (a < 0 || a >= x->s.rank || x->s.d[a] != 1)
      return imFail(c, CLUSTERC_ONNX_INVALID, "cannot squeeze axis %lld", (long long)axes[i]);
    drop[a] = true;
  }
  Shape to = {0, {0}};
  for (int i = 0; i < x->s.rank; ++i)
    if (!drop[i])
      to.d[to.rank++] = x->s.d[i];
  return imReshapeTo(c, x, &to);
}

static ClustercOnnxStatus opTranspose(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int64_t perm[MAX_RANK];
  int n = imAttrInts(c->node, "perm", perm, MAX_RANK);
  if (n < 0)
    for (n = 0; n < r; ++n)
      perm[n] = r - 1 - n;
  if (n != r)
    return imFail(c, CLUSTERC_ONNX_INVALID, "perm has %d entries for rank %d", n, r);
  Shape os = {r, {0}};
  for (int i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= r)
      return imFail(c, CLUSTERC_ONNX_INVALID, "invalid perm");
    os.d[i] = x->s.d[perm[i]];
  }
  if ((st = imOutput(c, 0, x->dtype, &os, &out)) || (st = imUse(c, x)))
    return st;
  int e;
  if ((st = imEmptyInit(c, &os, x->dtype, NULL, &e)))
    return st;
  out->ssa = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.transpose ins(%%v%d : %s) outs(%%v%d : %s) permutation = [", out->ssa,
            x->ssa, imTy(c, x), e, imTy(c, out));
  for (int i = 0; i < r; ++i)
    bufPrintf(&c->body, "%s%lld", i ? ", " : "", (long long)perm[i]);
  bufPuts(&c->body, "]");
  imEndOp(c);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opGather(Ctx *c, const char *unused) {
  (void)unused;
  Val *d, *ix, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &d)) || (st = imInput(c, 1, &ix)))
    return st;
  int r = d->s.rank, q = ix->s.rank, a = imNormAxis(imAttrI(c->node, "axis", 0), r);
  if (a < 0 || a >= r || r - 1 + q > MAX_RANK)
    return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  if (ix->dtype != 7 && ix->dtype != 6)
    return imFail(c, CLUSTERC_ONNX_INVALID, "indices must be int32 or int64");
  Shape os = {0, {0}};
  for (int i = 0; i < a; ++i)
    os.d[os.rank++] = d->s.d[i];
  for (int i = 0; i < q; ++i)
    os.d[os.rank++] = ix->s.d[i];
  for (int i = a + 1; i < r; ++i)
    os.d[os.rank++] = d->s.d[i];
  int64_t dim = d->s.d[a];
  if (imFoldable((Val *[]){d, ix}, 2, &os)) {
    size_t es = onnxElementSize(d->dtype);
    int64_t n = imNumel(&os), inner = 1, nIdx = imNumel(&ix->s);
    for (int i = a + 1; i < r; ++i)
      inner *= d->s.d[i];
    char *data = malloc(es * (size_t)(n ? n : 1));
    if (!data)
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    int64_t outer = nIdx ? n / (nIdx * inner) : 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < nIdx; ++k) {
        int64_t idx = imLoadI(ix, k);
        idx = idx < 0 ? idx + dim : idx;
        if (idx < 0 || idx >= dim) {
          free(data);
          return imFail(c, CLUSTERC_ONNX_INVALID, "index %lld out of range", (long long)idx);
        }
        memcpy(data + es * (size_t)((o * nIdx + k) * inner), (const char *)d->data + es * (size_t)((o * dim + idx) * inner),
               es * (size_t)inner);
      }
    return imConstOut(c, 0, d->dtype, &os, data);
  }
  if ((st = imOutput(c, 0, d->dtype, &os, &out)) || (st = imUse(c, d)) || (st = imUse(c, ix)))
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
  bufPrintf(&body, "] : %s\n      linalg.yield %%x : %s\n", imTy(c, d), et);
  if (body.failed) {
    bufFree(&body);
    return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  int omap[MAX_RANK];
  imIdentityMap(omap, os.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  st = imGeneric(c, &g, 1, os.rank, iters, &os, d->dtype, omap, -1, body.data, &out->ssa);
  bufFree(&body);
  return st;
}

static ClustercOnnxStatus opSlice(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *sv, *ev, *av = NULL, *tv = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imInput(c, 1, &sv)) || (st = imInput(c, 2, &ev)) ||
      (imHasInput(c->node, 3) && (st = imInput(c, 3, &av))) || (imHasInput(c->node, 4) && (st = imInput(c, 4, &tv))))
    return st;
  int64_t starts[MAX_RANK], ends[MAX_RANK], axes[MAX_RANK], steps[MAX_RANK];
  int ns, ne, na, nt;
  if ((st = imConstInts(c, sv, starts, MAX_RANK, &ns)) || (st = imConstInts(c, ev, ends, MAX_RANK, &ne)))
    return st;
  if (av && (st = imConstInts(c, av, axes, MAX_RANK, &na)))
    return st;
  if (tv && (st = imConstInts(c, tv, steps, MAX_RANK, &nt)))
    return st;
  if (!av)
    for (na = 0; na < ns; ++na)
      axes[na] = na;
  if (!tv)
    for (nt = 0; nt < ns; ++nt)
      steps[nt] = 1;
  if (ne != ns || na != ns || nt != ns)
    return imFail(c, CLUSTERC_ONNX_INVALID, "starts, ends, axes and steps differ in length");
  int r = x->s.rank;
  int64_t off[MAX_RANK], size[MAX_RANK], stride[MAX_RANK];
  for (int i = 0; i < r; ++i)
    off[i] = 0, size[i] = x->s.d[i], stride[i] = 1;
  for (int i = 0; i < ns; ++i) {
    int a = imNormAxis(axes[i], r);
    if (a < 0 || a >= r || steps[i] <= 0)
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "axis out of range or a step that is not positive");
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
  if (imFoldable(&x, 1, &os)) {
    size_t es = onnxElementSize(x->dtype);
    int64_t n = imNumel(&os);
    char *data = malloc(es * (size_t)(n ? n : 1));
    if (!data)
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
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
    return imConstOut(c, 0, x->dtype, &os, data);
  }
  if ((st = imOutput(c, 0, x->dtype, &os, &out)) || (st = imUse(c, x)))
    return st;
  out->ssa = imNewSsa(c);
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
  bufPrintf(b, "] : %s to %s", imTy(c, x), imTy(c, out));
  imEndOp(c);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opConcat(Ctx *c, const char *unused) {
  (void)unused;
  size_t n = c->node->n_input;
  if (!n || n > 64)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Concat of %zu inputs", n);
  Val *in[64];
  ClustercOnnxStatus st;
  for (size_t i = 0; i < n; ++i)
    if ((st = imInput(c, i, &in[i])))
      return st;
  int r = in[0]->s.rank, a = imNormAxis(imAttrI(c->node, "axis", 0), r);
  if (a < 0 || a >= r)
    return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
  Shape os = in[0]->s;
  os.d[a] = 0;
  for (size_t i = 0; i < n; ++i) {
    if (in[i]->s.rank != r || in[i]->dtype != in[0]->dtype)
      return imFail(c, CLUSTERC_ONNX_INVALID, "inputs differ in rank or type");
    for (int k = 0; k < r; ++k)
      if (k != a && in[i]->s.d[k] != os.d[k])
        return imFail(c, CLUSTERC_ONNX_INVALID, "inputs differ in dimension %d", k);
    os.d[a] += in[i]->s.d[a];
  }
  size_t es = onnxElementSize(in[0]->dtype);
  if (imFoldable(in, (int)n, &os)) {
    int64_t outer = 1, total = imNumel(&os);
    for (int k = 0; k < a; ++k)
      outer *= os.d[k];
    char *data = malloc(es * (size_t)(total ? total : 1)), *p = data;
    if (!data)
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < n; ++i) {
        int64_t chunk = outer ? imNumel(&in[i]->s) / outer : 0;
        memcpy(p, (const char *)in[i]->data + es * (size_t)(o * chunk), es * (size_t)chunk);
        p += es * (size_t)chunk;
      }
    return imConstOut(c, 0, in[0]->dtype, &os, data);
  }
  Val *out;
  int cur;
  if ((st = imOutput(c, 0, in[0]->dtype, &os, &out)) || (st = imEmptyInit(c, &os, in[0]->dtype, NULL, &cur)))
    return st;
  int64_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    if ((st = imUse(c, in[i])))
      return st;
    int r2 = imNewSsa(c);
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
    bufPrintf(b, "] : %s into %s", imTy(c, in[i]), imTy(c, out));
    imEndOp(c);
    cur = r2;
    at += in[i]->s.d[a];
  }
  out->ssa = cur;
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opDropout(Ctx *c, const char *unused) {
  (void)unused;
  if (imHasInput(c->node, 2)) {
    Val *t;
    ClustercOnnxStatus st = imInput(c, 2, &t);
    if (st)
      return st;
    if (!t->data || imNumel(&t->s) != 1 || *(const uint8_t *)t->data)
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Dropout in training mode");
  }
  return opIdentity(c, NULL);
}

const ImOp imTensorOps[] = {
    {"Identity", opIdentity, NULL},
    {"Dropout", opDropout, NULL},
    {"Constant", opConstant, NULL},
    {"Shape", opShape, NULL},
    {"Cast", opCast, NULL},
    {"Reshape", opReshape, NULL},
    {"Flatten", opFlatten, NULL},
    {"Unsqueeze", opUnsqueeze, NULL},
    {"Squeeze", opSqueeze, NULL},
    {"Transpose", opTranspose, NULL},
    {"Gather", opGather, NULL},
    {"Slice", opSlice, NULL},
    {"Concat", opConcat, NULL},
};
const size_t imNumTensorOps = sizeof imTensorOps / sizeof imTensorOps[0];
