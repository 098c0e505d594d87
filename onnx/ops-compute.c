/*
 * ONNX ops that compute: elementwise arithmetic and activations (one
 * broadcasting linalg.generic each), Gemm and MatMul (linalg.matmul /
 * batch_matmul; a transB=1 weight through a transposing linalg.generic,
 * torch-mlir's FC form), Conv (linalg.conv_2d_nchw_fchw, depthwise as
 * linalg.depthwise_conv_2d_nchw_chw, other groups as a generic), pooling
 * (linalg.pooling_nchw_max/sum), reductions, Softmax, BatchNormalization
 * and LayerNormalization (generics).
 */
#include "import.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef ClustercOnnxStatus (*OpFn)(Ctx *c, const char *arg);

static ClustercOnnxStatus opBinary(Ctx *c, const char *op) {
  Val *in[2];
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &in[0])) || (st = imInput(c, 1, &in[1])))
    return st;
  int32_t dt = in[0]->dtype;
  Shape os;
  if (!imBroadcast(&in[0]->s, &in[1]->s, &os))
    return imFail(c, CLUSTERC_ONNX_INVALID, "shapes do not broadcast");
  if (imFoldable(in, 2, &os) && (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
                               dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)) {
    int64_t n = imNumel(&os);
    void *data = malloc((size_t)(n ? n : 1) * 8);
    if (!data)
      return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
    bool isInt = dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    for (int64_t i = 0; i < n; ++i) {
      int64_t ia = imBcastIndex(&in[0]->s, &os, i), ib = imBcastIndex(&in[1]->s, &os, i);
      float a = (float)imLoadD(in[0], ia), b = (float)imLoadD(in[1], ib), r = 0;
      int64_t x = imLoadI(in[0], ia), y = imLoadI(in[1], ib), ri = 0;
      switch (op[0]) {
      case 'A': r = a + b, ri = x + y; break;
      case 'S': r = a - b, ri = x - y; break;
      case 'M': r = a * b, ri = x * y; break;
      case 'D': r = a / b, ri = y ? x / y : 0; break;
      default: r = powf(a, b), ri = (int64_t)r; break;
      }
      imStoreAs(data, dt, i, r, ri, isInt);
    }
    return imConstOut(c, 0, dt, &os, data);
  }
  const char *et = onnxMlirType(dt);
  char body[512];
  bool fl = imIsFloat(dt);
  if (!et)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "unsupported element type");
  if (op[0] == 'P') {
    double ex = 0;
    bool k = imConstScalarF(in[1], &ex);
    if (!fl)
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "integer Pow");
    if (k && (ex == 2.0 || ex == 0.5)) {
      /* x*x is what torch computes for pow(x, 2); keeps the result exact. */
      if (ex == 2.0)
        snprintf(body, sizeof body, "      %%r = arith.mulf %%a0, %%a0 : %s\n      linalg.yield %%r : %s\n", et, et);
      else
        snprintf(body, sizeof body, "      %%r = math.sqrt %%a0 : %s\n      linalg.yield %%r : %s\n", et, et);
      if (os.rank != in[0]->s.rank || memcmp(os.d, in[0]->s.d, sizeof(int64_t) * (size_t)os.rank))
        return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Pow broadcasting its base");
      Val *out;
      return imEltwise(c, in, 1, dt, body, &out);
    }
    if (in[1]->dtype != dt)
      return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Pow with an exponent of another type");
    snprintf(body, sizeof body, "      %%r = math.powf %%a0, %%a1 : %s\n      linalg.yield %%r : %s\n", et, et);
  } else {
    if (in[1]->dtype != dt)
      return imFail(c, CLUSTERC_ONNX_INVALID, "operands of different types");
    const char *name = op[0] == 'A' ? "add" : op[0] == 'S' ? "sub" : op[0] == 'M' ? "mul" : fl ? "div" : "divs";
    snprintf(body, sizeof body, "      %%r = arith.%s%s %%a0, %%a1 : %s\n      linalg.yield %%r : %s\n",
             name, fl ? "f" : "i", et, et);
  }
  Val *out;
  return imEltwise(c, in, 2, dt, body, &out);
}

static ClustercOnnxStatus opUnary(Ctx *c, const char *op) {
  Val *x;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  if (!imIsFloat(x->dtype))
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-float input");
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
  return imEltwise(c, &x, 1, x->dtype, body, &out);
}

static ClustercOnnxStatus opClip(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *lo = NULL, *hi = NULL;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st || (imHasInput(c->node, 1) && (st = imInput(c, 1, &lo))) ||
      (imHasInput(c->node, 2) && (st = imInput(c, 2, &hi))))
    return st;
  double l = -INFINITY, h = INFINITY;
  if ((lo && !imConstScalarF(lo, &l)) || (hi && !imConstScalarF(hi, &h)) || x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Clip needs constant scalar bounds and a f32 input");
  char ll[64], hl[64], body[512];
  imFloatLit(ll, sizeof ll, (float)l);
  imFloatLit(hl, sizeof hl, (float)h);
  snprintf(body, sizeof body,
           "      %%lo = arith.constant %s\n      %%hi = arith.constant %s\n"
           "      %%m = arith.maximumf %%a0, %%lo : f32\n      %%r = arith.minimumf %%m, %%hi : f32\n"
           "      linalg.yield %%r : f32\n", ll, hl);
  Val *out;
  return imEltwise(c, &x, 1, x->dtype, body, &out);
}

/* Axes of Squeeze/Unsqueeze: the attribute before opset 13, input 1 after. */

/* A 2-D permutation copy as a linalg.generic: torch-mlir's form of an FC
 * weight's transpose, or linalg.transpose with options->namedTranspose. */

static ClustercOnnxStatus transpose2d(Ctx *c, Val *w, int *res, Shape *os) {
  ClustercOnnxStatus st = imUse(c, w);
  if (st)
    return st;
  *os = (Shape){2, {w->s.d[1], w->s.d[0]}};
  if (c->o->namedTranspose) {
    int e;
    if ((st = imEmptyInit(c, os, w->dtype, NULL, &e)))
      return st;
    *res = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.transpose ins(%%v%d : %s) outs(%%v%d : %s) permutation = [1, 0]",
              *res, w->ssa, imTy(c, w), e, imTyDims(c, os, w->dtype));
    imEndOp(c);
    return CLUSTERC_ONNX_OK;
  }
  GIn g = {w, {1, 0}, false};
  int omap[2] = {0, 1};
  char body[128];
  snprintf(body, sizeof body, "      linalg.yield %%a0 : %s\n", onnxMlirType(w->dtype));
  return imGeneric(c, &g, 1, 2, "pp", os, w->dtype, omap, -1, body, res);
}

static ClustercOnnxStatus opGemm(Ctx *c, const char *unused) {
  (void)unused;
  Val *a, *b, *cc = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &a)) || (st = imInput(c, 1, &b)) || (imHasInput(c->node, 2) && (st = imInput(c, 2, &cc))))
    return st;
  if (a->s.rank != 2 || b->s.rank != 2 || a->dtype != 1 || b->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "Gemm needs 2-D f32 operands");
  float alpha = imAttrF(c->node, "alpha", 1), beta = imAttrF(c->node, "beta", 1);
  int ta = (int)imAttrI(c->node, "transA", 0), tb = (int)imAttrI(c->node, "transB", 0);
  int as, bs;
  Shape ash = a->s, bsh = b->s;
  if (ta) {
    if ((st = transpose2d(c, a, &as, &ash)))
      return st;
  } else if ((st = imUse(c, a)))
    return st;
  else
    as = a->ssa;
  if (tb) {
    if ((st = transpose2d(c, b, &bs, &bsh)))
      return st;
  } else if ((st = imUse(c, b)))
    return st;
  else
    bs = b->ssa;
  if (ash.d[1] != bsh.d[0])
    return imFail(c, CLUSTERC_ONNX_INVALID, "inner dimensions %lld and %lld differ", (long long)ash.d[1],
                (long long)bsh.d[0]);
  Shape os = {2, {ash.d[0], bsh.d[1]}};
  int init, mm;
  if ((st = imFillConst(c, &os, 1, 0.0f, &init)))
    return st;
  mm = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm, as, bs,
            imTyDims(c, &ash, 1), imTyDims(c, &bsh, 1), init, imTyDims(c, &os, 1), imTyDims(c, &os, 1));
  imEndOp(c);
  if ((st = imOutput(c, 0, 1, &os, &out)))
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
  imFloatLit(al, sizeof al, alpha);
  imFloatLit(bl, sizeof bl, beta);
  if (cc) {
    Shape chk;
    if (!imBroadcast(&os, &cc->s, &chk) || chk.d[0] != os.d[0] || chk.d[1] != os.d[1])
      return imFail(c, CLUSTERC_ONNX_INVALID, "C does not broadcast to the result");
    imSetIn(&g[1], cc, &os);
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
  return imGeneric(c, g, n, 2, "pp", &os, 1, omap, -1, body, &out->ssa);
}

static ClustercOnnxStatus opMatMul(Ctx *c, const char *unused) {
  (void)unused;
  Val *a, *b, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &a)) || (st = imInput(c, 1, &b)))
    return st;
  if (a->s.rank < 2 || b->s.rank < 2 || a->dtype != 1 || b->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "MatMul needs f32 operands of rank >= 2");
  int ra = a->s.rank, rb = b->s.rank;
  int64_t M = a->s.d[ra - 2], K = a->s.d[ra - 1], N = b->s.d[rb - 1];
  if (b->s.d[rb - 2] != K)
    return imFail(c, CLUSTERC_ONNX_INVALID, "inner dimensions %lld and %lld differ", (long long)K,
                (long long)b->s.d[rb - 2]);
  Shape ba = {ra - 2, {0}}, bb = {rb - 2, {0}}, bo;
  memcpy(ba.d, a->s.d, sizeof(int64_t) * (size_t)(ra - 2));
  memcpy(bb.d, b->s.d, sizeof(int64_t) * (size_t)(rb - 2));
  if (!imBroadcast(&ba, &bb, &bo))
    return imFail(c, CLUSTERC_ONNX_INVALID, "batch dimensions do not broadcast");
  Shape os = bo;
  os.d[os.rank++] = M;
  os.d[os.rank++] = N;
  if ((st = imOutput(c, 0, 1, &os, &out)) || (st = imUse(c, a)) || (st = imUse(c, b)))
    return st;
  int64_t batch = imNumel(&bo);
  if (rb == 2) {
    /* [..., M, K] x [K, N]: one linalg.matmul on [batch*M, K]. */
    Shape a2 = {2, {batch * M, K}}, o2 = {2, {batch * M, N}};
    int as = imReshapeSsa(c, a->ssa, &a->s, &a2, 1), init;
    if ((st = imFillConst(c, &o2, 1, 0.0f, &init)))
      return st;
    int mm = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm, as,
              b->ssa, imTyDims(c, &a2, 1), imTy(c, b), init, imTyDims(c, &o2, 1), imTyDims(c, &o2, 1));
    imEndOp(c);
    out->ssa = imReshapeSsa(c, mm, &o2, &os, 1);
    return CLUSTERC_ONNX_OK;
  }
  bool sameBatch = ba.rank == bo.rank && bb.rank == bo.rank && !memcmp(ba.d, bo.d, sizeof(int64_t) * (size_t)bo.rank) &&
                   !memcmp(bb.d, bo.d, sizeof(int64_t) * (size_t)bo.rank);
  if (sameBatch) {
    Shape a3 = {3, {batch, M, K}}, b3 = {3, {batch, K, N}}, o3 = {3, {batch, M, N}};
    int as = imReshapeSsa(c, a->ssa, &a->s, &a3, 1), bs = imReshapeSsa(c, b->ssa, &b->s, &b3, 1), init;
    if ((st = imFillConst(c, &o3, 1, 0.0f, &init)))
      return st;
    int mm = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.batch_matmul ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", mm,
              as, bs, imTyDims(c, &a3, 1), imTyDims(c, &b3, 1), init, imTyDims(c, &o3, 1), imTyDims(c, &o3, 1));
    imEndOp(c);
    out->ssa = imReshapeSsa(c, mm, &o3, &os, 1);
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
  imIdentityMap(omap, os.rank);
  char iters[MAX_RANK + 2];
  memset(iters, 'p', sizeof iters);
  iters[L - 1] = 'r';
  if ((st = imFillConst(c, &os, 1, 0.0f, &init)))
    return st;
  return imGeneric(c, g, 2, L, iters, &os, 1, omap, init,
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
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "only 2-D (NCHW) inputs are supported");
  const Onnx__AttributeProto *ap = imAttr(c->node, "auto_pad");
  if (ap && ap->has_s && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "auto_pad other than NOTSET");
  for (int i = 0; i < 2; ++i)
    w->k[i] = kernel[i], w->strides[i] = 1, w->dil[i] = 1, w->pads[i] = w->pads[i + 2] = 0;
  if (imAttrInts(c->node, "pads", w->pads, 4) == 2)
    return imFail(c, CLUSTERC_ONNX_INVALID, "pads");
  imAttrInts(c->node, "strides", w->strides, 2);
  imAttrInts(c->node, "dilations", w->dil, 2);
  *os = *x;
  os->d[1] = outC;
  for (int i = 0; i < 2; ++i) {
    int64_t span = w->dil[i] * (w->k[i] - 1) + 1, in = x->d[2 + i] + w->pads[i] + w->pads[i + 2];
    if (w->strides[i] <= 0 || w->dil[i] <= 0 || in < span)
      return imFail(c, CLUSTERC_ONNX_INVALID, "window larger than its input");
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
  return imPad(c, x->ssa, &x->s, lo, hi, value, ps);
}

static ClustercOnnxStatus biasChannel(Ctx *c, Val *out, int ssa, Val *bias) {
  Val tmp = {.name = out->name, .dtype = 1, .s = out->s, .ssa = ssa};
  GIn g[2] = {{&tmp, {0, 1, 2, 3}, false}, {bias, {1}, false}};
  int omap[4] = {0, 1, 2, 3};
  if (bias->s.rank != 1 || bias->s.d[0] != out->s.d[1])
    return imFail(c, CLUSTERC_ONNX_INVALID, "bias of the wrong shape");
  return imGeneric(c, g, 2, 4, "pppp", &out->s, 1, omap, -1,
                 "      %r = arith.addf %a0, %a1 : f32\n      linalg.yield %r : f32\n", &out->ssa);
}

static ClustercOnnxStatus opConv(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *w, *bias = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imInput(c, 1, &w)) || (imHasInput(c->node, 2) && (st = imInput(c, 2, &bias))))
    return st;
  if (x->s.rank != 4 || w->s.rank != 4 || x->dtype != 1 || w->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "only 2-D f32 convolutions are supported");
  int64_t g = imAttrI(c->node, "group", 1), C = x->s.d[1], M = w->s.d[0];
  if (g <= 0 || C % g || M % g || w->s.d[1] != C / g)
    return imFail(c, CLUSTERC_ONNX_INVALID, "group %lld does not divide channels %lld/%lld", (long long)g,
                (long long)C, (long long)M);
  Window win;
  Shape os, ps;
  if ((st = window(c, &x->s, &w->s.d[2], &win, &os, M, false)))
    return st;
  if ((st = imOutput(c, 0, 1, &os, &out)) || (st = imUse(c, x)) || (st = imUse(c, w)))
    return st;
  int p = padNchw(c, x, &win, 0.0f, &ps), init;
  if ((st = imFillConst(c, &os, 1, 0.0f, &init)))
    return st;
  int r;
  if (g == 1 || (g == C && M == C)) {
    int ws = w->ssa;
    Shape wsh = w->s;
    const char *name = "conv_2d_nchw_fchw";
    if (g != 1) {
      Shape w3 = {3, {M, w->s.d[2], w->s.d[3]}};
      ws = imReshapeSsa(c, w->ssa, &w->s, &w3, 1);
      wsh = w3;
      name = "depthwise_conv_2d_nchw_chw";
    }
    r = imNewSsa(c);
    bufPrintf(&c->body, "    %%v%d = linalg.%s", r, name);
    putWindowAttrs(c, &win);
    bufPrintf(&c->body, " ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", p, ws, imTyDims(c, &ps, 1),
              imTyDims(c, &wsh, 1), init, imTy(c, out), imTy(c, out));
    imEndOp(c);
  } else {
    /* Grouped: loops (n, m, oh, ow, c, kh, kw); input channel
     * (m floordiv M/g) * C/g + c. */
    Buf *b = &c->body;
    r = imNewSsa(c);
    int64_t mg = M / g, cg = C / g;
    bufPrintf(b, "    %%v%d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> "
                 "(d0, (d1 floordiv %lld) * %lld + d4, d2 * %lld + d5 * %lld, d3 * %lld + d6 * %lld)>, "
                 "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>, "
                 "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>], iterator_types = "
                 "[\"parallel\", \"parallel\", \"parallel\", \"parallel\", \"reduction\", \"reduction\", "
                 "\"reduction\"]} ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) {\n",
              r, (long long)mg, (long long)cg, (long long)win.strides[0], (long long)win.dil[0],
              (long long)win.strides[1], (long long)win.dil[1], p, w->ssa, imTyDims(c, &ps, 1), imTy(c, w), init,
              imTy(c, out));
    bufPrintf(b, "    ^bb0(%%a0: f32, %%a1: f32, %%o: f32):\n      %%m = arith.mulf %%a0, %%a1 : f32\n"
                 "      %%r = arith.addf %%o, %%m : f32\n      linalg.yield %%r : f32\n    } -> %s", imTy(c, out));
    imEndOp(c);
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
  if ((st = imInput(c, 0, &x)) || (st = imOnlyOutputs(c, 1)))
    return st;
  if (x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-f32 pooling");
  int64_t k[2];
  if (imAttrInts(c->node, "kernel_shape", k, 2) != 2)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "kernel_shape must have 2 entries");
  bool isMax = kind[0] == 'm';
  bool ceil = imAttrI(c->node, "ceil_mode", 0) != 0;
  Window win;
  Shape os, ps;
  if ((st = window(c, &x->s, k, &win, &os, x->s.d[1], ceil)))
    return st;
  if (!isMax && ceil && (win.pads[2] || win.pads[3]) && imAttrI(c->node, "count_include_pad", 0))
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "ceil_mode with count_include_pad");
  if ((st = imOutput(c, 0, 1, &os, &out)) || (st = imUse(c, x)))
    return st;
  int p = padNchw(c, x, &win, isMax ? -INFINITY : 0.0f, &ps), init, kt;
  if ((st = imFillConst(c, &os, 1, isMax ? -INFINITY : 0.0f, &init)))
    return st;
  Shape ks = {2, {k[0], k[1]}};
  if ((st = imEmptyInit(c, &ks, 1, NULL, &kt)))
    return st;
  int r = imNewSsa(c);
  bufPrintf(&c->body, "    %%v%d = linalg.pooling_nchw_%s", r, isMax ? "max" : "sum");
  putWindowAttrs(c, &win);
  bufPrintf(&c->body, " ins(%%v%d, %%v%d : %s, %s) outs(%%v%d : %s) -> %s", p, kt, imTyDims(c, &ps, 1),
            imTyDims(c, &ks, 1), init, imTy(c, out), imTy(c, out));
  imEndOp(c);
  if (isMax) {
    out->ssa = r;
    return CLUSTERC_ONNX_OK;
  }
  /* Divisors per output position: the window's elements inside the input
   * (and its explicit padding with count_include_pad). */
  bool incl = imAttrI(c->node, "count_include_pad", 0) != 0;
  int64_t oh = os.d[2], ow = os.d[3];
  float *cnt = malloc(sizeof(float) * (size_t)(oh * ow));
  if (!cnt)
    return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
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
  Val *cv = imNewVal(c, "", 1, &(Shape){2, {oh, ow}});
  if (!cv) {
    free(cnt);
    return imFail(c, CLUSTERC_ONNX_NOMEM, "out of memory");
  }
  cv->data = cv->owned = cnt;
  cv->name = imNodeName(c);
  Val tmp = {.name = out->name, .dtype = 1, .s = os, .ssa = r};
  GIn g[2] = {{&tmp, {0, 1, 2, 3}, false}, {cv, {2, 3}, false}};
  if ((st = imMaterialize(c, cv)))
    return st;
  int omap[4] = {0, 1, 2, 3};
  return imGeneric(c, g, 2, 4, "pppp", &os, 1, omap, -1,
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
  ClustercOnnxStatus st = imFillConst(c, rs, 1, isMax ? -INFINITY : 0.0f, &init);
  if (st)
    return st;
  GIn g = {x, {0}, false};
  imIdentityMap(g.map, x->s.rank);
  return imGeneric(c, &g, 1, x->s.rank, iters, rs, 1, omap, init,
                 isMax ? "      %r = arith.maximumf %o, %a0 : f32\n      linalg.yield %r : f32\n"
                       : "      %r = arith.addf %o, %a0 : f32\n      linalg.yield %r : f32\n",
                 res);
}

/* The mean of x over the axes in red (count elements each): a sum, then a
 * division as torch computes it. */

static ClustercOnnxStatus mean(Ctx *c, Val *x, const bool *red, int64_t count, Shape *rs, int *res) {
  ClustercOnnxStatus st = reduce(c, x, red, false, rs, res);
  if (st)
    return st;
  Val tmp = {.name = x->name, .dtype = 1, .s = *rs, .ssa = *res};
  GIn g = {&tmp, {0}, false};
  imIdentityMap(g.map, rs->rank);
  char lit[64], body[256];
  imFloatLit(lit, sizeof lit, (float)count);
  snprintf(body, sizeof body,
           "      %%n = arith.constant %s\n      %%r = arith.divf %%a0, %%n : f32\n      linalg.yield %%r : f32\n", lit);
  int omap[MAX_RANK];
  imIdentityMap(omap, rs->rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  return imGeneric(c, &g, 1, rs->rank, iters, rs, 1, omap, -1, body, res);
}

static ClustercOnnxStatus opReduce(Ctx *c, const char *kind) {
  Val *x, *out;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  if (x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "non-f32 reduction");
  int64_t axes[MAX_RANK];
  int n;
  if ((st = imAxesOf(c, axes, &n)))
    return st;
  bool red[MAX_RANK] = {false};
  int64_t count = 1;
  for (int i = 0; i < x->s.rank; ++i)
    red[i] = n <= 0;
  for (int i = 0; i < n; ++i) {
    int a = imNormAxis(axes[i], x->s.rank);
    if (a < 0 || a >= x->s.rank)
      return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range");
    red[a] = true;
  }
  Shape os = {0, {0}};
  bool keep = imAttrI(c->node, "keepdims", 1) != 0;
  for (int i = 0; i < x->s.rank; ++i) {
    if (red[i])
      count *= x->s.d[i];
    if (!red[i] || keep)
      os.d[os.rank++] = red[i] ? 1 : x->s.d[i];
  }
  if ((st = imOutput(c, 0, 1, &os, &out)))
    return st;
  Shape rs;
  int r;
  if ((st = kind[0] == 'm' ? mean(c, x, red, count, &rs, &r) : reduce(c, x, red, kind[0] == 'x', &rs, &r)))
    return st;
  out->ssa = imReshapeSsa(c, r, &rs, &os, 1);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opGlobalAvgPool(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  if (x->s.rank < 3 || x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "needs an f32 input of rank >= 3");
  bool red[MAX_RANK] = {false};
  Shape os = x->s;
  int64_t count = 1;
  for (int i = 2; i < x->s.rank; ++i)
    red[i] = true, count *= x->s.d[i], os.d[i] = 1;
  if ((st = imOutput(c, 0, 1, &os, &out)))
    return st;
  Shape rs;
  int r;
  if ((st = mean(c, x, red, count, &rs, &r)))
    return st;
  out->ssa = imReshapeSsa(c, r, &rs, &os, 1);
  return CLUSTERC_ONNX_OK;
}

static ClustercOnnxStatus opSoftmax(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *out;
  ClustercOnnxStatus st = imInput(c, 0, &x);
  if (st)
    return st;
  int r = x->s.rank;
  int a = imNormAxis(imAttrI(c->node, "axis", c->opset >= 13 ? -1 : 1), r);
  if (a < 0 || a >= r || x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range or non-f32 input");
  if (c->opset < 13 && a != r - 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "opset-%lld Softmax over more than the last axis", (long long)c->opset);
  if ((st = imOutput(c, 0, 1, &x->s, &out)) || (st = imUse(c, x)))
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
  imIdentityMap(omap, r);
  char iters[MAX_RANK + 1] = "pppppppp";
  Val mv = {.name = out->name, .dtype = 1, .s = rs, .ssa = mx};
  GIn g[2] = {{x, {0}, false}, {&mv, {0}, false}};
  imIdentityMap(g[0].map, r);
  memcpy(g[1].map, rmap, sizeof rmap);
  if ((st = imGeneric(c, g, 2, r, iters, &x->s, 1, omap, -1,
                    "      %d = arith.subf %a0, %a1 : f32\n      %r = math.exp %d : f32\n      linalg.yield %r : f32\n",
                    &e)))
    return st;
  Val ev = {.name = out->name, .dtype = 1, .s = x->s, .ssa = e};
  if ((st = reduce(c, &ev, red, false, &rs, &sum)))
    return st;
  Val sv = {.name = out->name, .dtype = 1, .s = rs, .ssa = sum};
  g[0].v = &ev;
  g[1].v = &sv;
  return imGeneric(c, g, 2, r, iters, &x->s, 1, omap, -1,
                 "      %r = arith.divf %a0, %a1 : f32\n      linalg.yield %r : f32\n", &out->ssa);
}

static ClustercOnnxStatus opBatchNorm(Ctx *c, const char *unused) {
  (void)unused;
  Val *in[5], *out;
  ClustercOnnxStatus st;
  for (int i = 0; i < 5; ++i)
    if ((st = imInput(c, (size_t)i, &in[i])))
      return st;
  if ((st = imOnlyOutputs(c, 1)))
    return st;
  if (imAttrI(c->node, "training_mode", 0))
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "training_mode=1");
  Val *x = in[0];
  if (x->s.rank < 2 || x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_UNSUPPORTED, "needs an f32 input of rank >= 2");
  for (int i = 1; i < 5; ++i)
    if (in[i]->s.rank != 1 || in[i]->s.d[0] != x->s.d[1] || in[i]->dtype != 1)
      return imFail(c, CLUSTERC_ONNX_INVALID, "'%s' is not a [C] f32 tensor", in[i]->name);
  if ((st = imOutput(c, 0, 1, &x->s, &out)))
    return st;
  GIn g[5];
  g[0] = (GIn){x, {0}, false};
  imIdentityMap(g[0].map, x->s.rank);
  for (int i = 1; i < 5; ++i)
    g[i] = (GIn){in[i], {1}, false};
  char eps[64], body[640];
  imFloatLit(eps, sizeof eps, imAttrF(c->node, "epsilon", 1e-5f));
  snprintf(body, sizeof body,
           "      %%eps = arith.constant %s\n      %%v = arith.addf %%a4, %%eps : f32\n"
           "      %%s = math.sqrt %%v : f32\n      %%d = arith.subf %%a0, %%a3 : f32\n"
           "      %%n = arith.divf %%d, %%s : f32\n      %%m = arith.mulf %%n, %%a1 : f32\n"
           "      %%r = arith.addf %%m, %%a2 : f32\n      linalg.yield %%r : f32\n", eps);
  int omap[MAX_RANK];
  imIdentityMap(omap, x->s.rank);
  char iters[MAX_RANK + 1] = "pppppppp";
  return imGeneric(c, g, 5, x->s.rank, iters, &x->s, 1, omap, -1, body, &out->ssa);
}

static ClustercOnnxStatus opLayerNorm(Ctx *c, const char *unused) {
  (void)unused;
  Val *x, *scale, *bias = NULL, *out;
  ClustercOnnxStatus st;
  if ((st = imInput(c, 0, &x)) || (st = imInput(c, 1, &scale)) || (imHasInput(c->node, 2) && (st = imInput(c, 2, &bias))) ||
      (st = imOnlyOutputs(c, 1)))
    return st;
  int r = x->s.rank, a = imNormAxis(imAttrI(c->node, "axis", -1), r);
  if (a < 0 || a >= r || x->dtype != 1)
    return imFail(c, CLUSTERC_ONNX_INVALID, "axis out of range or non-f32 input");
  if ((st = imOutput(c, 0, 1, &x->s, &out)) || (st = imUse(c, x)))
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
  imIdentityMap(omap, r);
  char iters[MAX_RANK + 1] = "pppppppp", rit[MAX_RANK + 1] = {0};
  for (int i = 0; i < r; ++i)
    rit[i] = red[i] ? 'r' : 'p';
  char nl[64], el[64], body[900];
  imFloatLit(nl, sizeof nl, (float)count);
  imFloatLit(el, sizeof el, imAttrF(c->node, "epsilon", 1e-5f));
  /* Sum of squared deviations from the mean. */
  Val sv = {.name = out->name, .dtype = 1, .s = rs, .ssa = sum};
  GIn g[5] = {{x, {0}, false}, {&sv, {0}, false}};
  imIdentityMap(g[0].map, r);
  memcpy(g[1].map, rmap, sizeof rmap);
  int init;
  if ((st = imFillConst(c, &rs, 1, 0.0f, &init)))
    return st;
  snprintf(body, sizeof body,
           "      %%n = arith.constant %s\n      %%mu = arith.divf %%a1, %%n : f32\n"
           "      %%d = arith.subf %%a0, %%mu : f32\n      %%q = arith.mulf %%d, %%d : f32\n"
           "      %%r = arith.addf %%o, %%q : f32\n      linalg.yield %%r : f32\n", nl);
  if ((st = imGeneric(c, g, 2, r, rit, &rs, 1, rmap, init, body, &sq)))
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
    if (!imBroadcast(&ns, &affine[k]->s, &chk) || chk.rank != ns.rank ||
        memcmp(chk.d, ns.d, sizeof(int64_t) * (size_t)ns.rank))
      return imFail(c, CLUSTERC_ONNX_INVALID, "'%s' does not broadcast to the normalized shape", affine[k]->name);
    GIn *gi = &g[n++];
    gi->v = affine[k];
    gi->inlined = false;
    imBroadcastMap(&affine[k]->s, &ns, gi->map);
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
  return imGeneric(c, g, n, r, iters, &x->s, 1, omap, -1, body, &out->ssa);
}

const ImOp imComputeOps[] = {
    {"Add", opBinary, "A"},
    {"Sub", opBinary, "S"},
    {"Mul", opBinary, "M"},
    {"Div", opBinary, "D"},
    {"Pow", opBinary, "P"},
    {"Sqrt", opUnary, "sqrt"},
    {"Erf", opUnary, "erf"},
    {"Tanh", opUnary, "tanh"},
    {"Exp", opUnary, "exp"},
    {"Log", opUnary, "log"},
    {"Abs", opUnary, "absf"},
    {"Neg", opUnary, "neg"},
    {"Relu", opUnary, "relu"},
    {"Sigmoid", opUnary, "sigmoid"},
    {"Reciprocal", opUnary, "reciprocal"},
    {"Clip", opClip, NULL},
    {"Gemm", opGemm, NULL},
    {"MatMul", opMatMul, NULL},
    {"Conv", opConv, NULL},
    {"MaxPool", opPool, "max"},
    {"AveragePool", opPool, "avg"},
    {"GlobalAveragePool", opGlobalAvgPool, NULL},
    {"ReduceMean", opReduce, "mean"},
    {"ReduceSum", opReduce, "sum"},
    {"ReduceMax", opReduce, "xmax"},
    {"Softmax", opSoftmax, NULL},
    {"BatchNormalization", opBatchNorm, NULL},
    {"LayerNormalization", opLayerNorm, NULL},
};
const size_t imNumComputeOps = sizeof imComputeOps / sizeof imComputeOps[0];
