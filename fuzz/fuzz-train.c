/*
 * Fuzzer of cluster-train (and cluster-weights) on generated models.
 *
 * The bytes drive a small grammar: an input of rank 2 ([B, F]) or 4
 * ([B, H, W, C]), then a chain of layers from the ops cluster-train
 * differentiates (tosa conv2d, depthwise_conv2d, pools, fully_connected,
 * matmul, elementwise ops, transpose, reshape, reduce_sum, a softmax;
 * linalg matmul, conv_2d_nhwc_hwcf, depthwise and pooling ops, generic
 * bodies, transpose, broadcast, expand_shape), with degenerate sizes (1s
 * everywhere, kernels as large as the image, one class), shared and splat
 * weights, and now and then a NaN weight or an op it cannot differentiate
 * (tensor.concat), which must give a diagnostic. The model ends in logits
 * [B, classes]. Options (clusters, init, mode, loss, reduce) come from the
 * bytes too.
 *
 * Every generated model parses and verifies (a model that does not is a
 * bug of this generator: it traps). Then cluster-train and, on a fresh
 * copy, cluster-weights run; each must either fail with an error
 * diagnostic or leave a module that verifies and prints to text that
 * parses again (fzRunPassAndCheck).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "fuzz-mlir.h"
#include "fuzz-util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fzMlirInit();
  return 0;
}

/* ---- Text building ------------------------------------------------------- */

typedef struct Gen {
  FzIn in;
  char *s;
  size_t n, cap;
  int next;        /* SSA counter */
  int weights;     /* constants made */
  int B;
  int rank;        /* 2 or 4 */
  int64_t d[4];    /* current shape */
  char cur[32];    /* current SSA value */
  char shared[32]; /* a square [F, F] weight to reuse, or "" */
  int64_t sharedF;
} Gen;

static void emit(Gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(Gen *g, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(g->s + g->n, g->cap - g->n, fmt, ap);
    va_end(ap);
    if (k >= 0 && g->n + (size_t)k < g->cap) {
      g->n += (size_t)k;
      return;
    }
    g->cap = (g->cap + (size_t)(k > 0 ? k : 0) + 1) * 2;
    g->s = realloc(g->s, g->cap);
    if (!g->s)
      abort();
  }
}

static const char *ty(char *buf, int rank, const int64_t *d) {
  int at = sprintf(buf, "tensor<");
  for (int i = 0; i < rank; ++i)
    at += sprintf(buf + at, "%lldx", (long long)d[i]);
  sprintf(buf + at, "f32>");
  return buf;
}

static void fresh(Gen *g, char *name) { sprintf(name, "%%v%d", g->next++); }

/* A weight constant of the given shape: dense values (sometimes all
 * equal, sometimes with a NaN), as tosa.const or arith.constant. */
static void constant(Gen *g, char *name, int rank, const int64_t *d, int tosa) {
  char t[96];
  ty(t, rank, d);
  fresh(g, name);
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= d[i];
  uint8_t c = fz_u8(&g->in);
  int splat = c % 16 == 15, nan = c % 61 == 1; /* (0, as when the bytes run out: dense values) */
  char val[64];
  if (splat || n == 0) {
    snprintf(val, sizeof val, "dense<%s>", nan ? "0x7FC00000" : "0.25");
  }
  if (tosa)
    emit(g, "    %s = \"tosa.const\"() <{value = ", name);
  else
    emit(g, "    %s = arith.constant ", name);
  if (splat || n == 0) {
    emit(g, "%s", val);
  } else {
    /* Nested brackets, one level per dimension (a flat list only fits
     * rank 1): before element i open one list per trailing block of dims
     * that starts at i, after it close one per block that ends there. */
    emit(g, "dense<");
    for (int64_t i = 0; i < n; ++i) {
      int opens = 0, closes = 0;
      int64_t block = 1;
      for (int dim = rank - 1; dim >= 0; --dim) {
        block *= d[dim];
        opens += i % block == 0;
        closes += (i + 1) % block == 0;
      }
      emit(g, "%s", i ? ", " : "");
      for (int o = 0; o < opens; ++o)
        emit(g, "[");
      int64_t r = (int64_t)(fz_rand(&g->in) % 2001) - 1000;
      if (nan && i == n / 2)
        emit(g, "0x7FC00000");
      else
        emit(g, "%.3f", (double)r / 1000.0);
      for (int c2 = 0; c2 < closes; ++c2)
        emit(g, "]");
    }
    emit(g, ">");
  }
  emit(g, " : %s", t);
  if (tosa)
    emit(g, "}> : () -> %s", t);
  emit(g, " loc(\"w%d\")\n", g->weights++);
}

static void tensorEmpty(Gen *g, char *name, int rank, const int64_t *d, const char *fill) {
  char t[96], e[32];
  ty(t, rank, d);
  fresh(g, e);
  emit(g, "    %s = tensor.empty() : %s\n", e, t);
  if (!fill) {
    strcpy(name, e);
    return;
  }
  fresh(g, name);
  emit(g, "    %s = linalg.fill ins(%s : f32) outs(%s : %s) -> %s\n", name, fill, e, t, t);
}

static int pick(Gen *g, int lo, int hi) { return lo + (int)(fz_u8(&g->in) % (hi - lo + 1)); }

static void setCur(Gen *g, const char *v, int rank, const int64_t *d) {
  strcpy(g->cur, v);
  g->rank = rank;
  memcpy(g->d, d, sizeof(int64_t) * (size_t)rank);
}

/* ---- Layers on [B, H, W, C] ------------------------------------------------ */

/* Output size of a window op, or 0 if it does not fit or divide. */
static int64_t outSize(int64_t in, int64_t pad, int64_t k, int64_t dil, int64_t s) {
  int64_t span = (k - 1) * dil + 1, len = in + pad - span;
  if (len < 0 || len % s)
    return 0;
  return len / s + 1;
}

static void tosaConv(Gen *g, int depthwise) {
  int64_t C = g->d[3], KH = pick(g, 1, 3), KW = pick(g, 1, 3), s = pick(g, 1, 2),
          dil = pick(g, 1, 2), p = pick(g, 0, 1), M = depthwise ? pick(g, 1, 2) : 0,
          O = depthwise ? C * M : pick(g, 1, 4);
  int64_t OH = outSize(g->d[1], 2 * p, KH, dil, s), OW = outSize(g->d[2], 2 * p, KW, dil, s);
  if (!OH || !OW)
    return;
  char w[32], b[32], y[32], ti[96], tw[96], tb[96], to[96];
  int64_t wd[4] = {O, KH, KW, C}, dd[4] = {KH, KW, C, M}, bd[1] = {O},
          od[4] = {g->B, OH, OW, O};
  constant(g, w, 4, depthwise ? dd : wd, 1);
  constant(g, b, 1, bd, 1);
  fresh(g, y);
  emit(g, "    %s = tosa.%s %s, %s, %s {dilation = array<i64: %lld, %lld>, pad = array<i64: "
       "%lld, %lld, %lld, %lld>, stride = array<i64: %lld, %lld>} : (%s, %s, %s) -> %s\n",
       y, depthwise ? "depthwise_conv2d" : "conv2d", g->cur, w, b, (long long)dil,
       (long long)dil, (long long)p, (long long)p, (long long)p, (long long)p, (long long)s,
       (long long)s, ty(ti, 4, g->d), ty(tw, 4, depthwise ? dd : wd), ty(tb, 1, bd),
       ty(to, 4, od));
  setCur(g, y, 4, od);
}

static void tosaPool(Gen *g) {
  int64_t k = pick(g, 1, 2), s = pick(g, 1, 2);
  int avg = fz_u8(&g->in) & 1;
  int64_t OH = outSize(g->d[1], 0, k, 1, s), OW = outSize(g->d[2], 0, k, 1, s);
  if (!OH || !OW)
    return;
  char y[32], ti[96], to[96];
  int64_t od[4] = {g->B, OH, OW, g->d[3]};
  fresh(g, y);
  emit(g, "    %s = tosa.%s %s {%skernel = array<i64: %lld, %lld>, pad = array<i64: 0, 0, 0, "
       "0>, stride = array<i64: %lld, %lld>} : (%s) -> %s\n", y,
       avg ? "avg_pool2d" : "max_pool2d", g->cur, avg ? "acc_type = f32, " : "", (long long)k,
       (long long)k, (long long)s, (long long)s, ty(ti, 4, g->d), ty(to, 4, od));
  setCur(g, y, 4, od);
}

static void tosaUnary(Gen *g) {
  static const char *ops[] = {"sigmoid", "tanh", "clamp", "exp", "abs", "negate"};
  const char *op = ops[fz_u8(&g->in) % 6];
  char y[32], t[96];
  ty(t, g->rank, g->d);
  fresh(g, y);
  if (!strcmp(op, "clamp"))
    emit(g, "    %s = tosa.clamp %s {max_fp = 6.0 : f32, max_int = 6 : i64, min_fp = 0.0 : "
         "f32, min_int = 0 : i64} : (%s) -> %s\n", y, g->cur, t, t);
  else
    emit(g, "    %s = tosa.%s %s : (%s) -> %s\n", y, op, g->cur, t, t);
  setCur(g, y, g->rank, g->d);
}

/* tosa.add / mul / sub with a broadcast constant (a bias or a scale). */
static void tosaBinary(Gen *g) {
  static const char *ops[] = {"add", "mul", "sub"};
  const char *op = ops[fz_u8(&g->in) % 3];
  int64_t bd[4];
  for (int i = 0; i < g->rank; ++i)
    bd[i] = (fz_u8(&g->in) & 1) || i == g->rank - 1 ? g->d[i] : 1;
  bd[0] = 1;
  char c[32], y[32], t[96], tc[96];
  constant(g, c, g->rank, bd, 1);
  fresh(g, y);
  emit(g, "    %s = tosa.%s %s, %s%s : (%s, %s) -> %s\n", y, op, g->cur, c,
       !strcmp(op, "mul") ? " {shift = 0 : i8}" : "", ty(t, g->rank, g->d),
       ty(tc, g->rank, bd), t);
  setCur(g, y, g->rank, g->d);
}

static void tosaTranspose(Gen *g) {
  char p[32], y[32], ti[96], to[96];
  int64_t od[4] = {g->d[0], g->d[2], g->d[1], g->d[3]};
  fresh(g, p);
  emit(g, "    %s = \"tosa.const\"() <{value = dense<[0, 2, 1, 3]> : tensor<4xi32>}> : () -> "
       "tensor<4xi32>\n", p);
  fresh(g, y);
  emit(g, "    %s = tosa.transpose %s, %s : (%s, tensor<4xi32>) -> %s\n", y, g->cur, p,
       ty(ti, 4, g->d), ty(to, 4, od));
  setCur(g, y, 4, od);
}

static void tosaReduce(Gen *g) {
  int axis = pick(g, 1, 3);
  int64_t od[4];
  memcpy(od, g->d, sizeof od);
  od[axis] = 1;
  char y[32], ti[96], to[96];
  fresh(g, y);
  emit(g, "    %s = tosa.reduce_sum %s {axis = %d : i32} : (%s) -> %s\n", y, g->cur, axis,
       ty(ti, 4, g->d), ty(to, 4, od));
  setCur(g, y, 4, od);
}

static void linalgConv(Gen *g, int depthwise) {
  int64_t C = g->d[3], KH = pick(g, 1, 3), KW = pick(g, 1, 3), s = pick(g, 1, 2),
          F = depthwise ? C : pick(g, 1, 4);
  int64_t OH = outSize(g->d[1], 0, KH, 1, s), OW = outSize(g->d[2], 0, KW, 1, s);
  if (!OH || !OW)
    return;
  char w[32], z[32], y[32], ti[96], tw[96], to[96];
  int64_t wd[4] = {KH, KW, C, F}, od[4] = {g->B, OH, OW, F};
  constant(g, w, depthwise ? 3 : 4, wd, 0);
  tensorEmpty(g, z, 4, od, "%zero");
  fresh(g, y);
  emit(g, "    %s = linalg.%s {dilations = dense<1> : tensor<2xi64>, strides = dense<%lld> : "
       "tensor<2xi64>} ins(%s, %s : %s, %s) outs(%s : %s) -> %s\n", y,
       depthwise ? "depthwise_conv_2d_nhwc_hwc" : "conv_2d_nhwc_hwcf", (long long)s, g->cur,
       w, ty(ti, 4, g->d), ty(tw, depthwise ? 3 : 4, wd), z, ty(to, 4, od), to);
  setCur(g, y, 4, od);
}

static void linalgPool(Gen *g) {
  int64_t k = pick(g, 1, 2), s = pick(g, 1, 2);
  int64_t OH = outSize(g->d[1], 0, k, 1, s), OW = outSize(g->d[2], 0, k, 1, s);
  if (!OH || !OW)
    return;
  int sum = fz_u8(&g->in) & 1;
  char kw[32], z[32], y[32], ti[96], to[96];
  int64_t kd[2] = {k, k}, od[4] = {g->B, OH, OW, g->d[3]};
  tensorEmpty(g, kw, 2, kd, NULL);
  tensorEmpty(g, z, 4, od, sum ? "%zero" : "%ninf");
  fresh(g, y);
  emit(g, "    %s = linalg.pooling_nhwc_%s {dilations = dense<1> : tensor<2xi64>, strides = "
       "dense<%lld> : tensor<2xi64>} ins(%s, %s : %s, tensor<%lldx%lldxf32>) outs(%s : %s) -> "
       "%s\n", y, sum ? "sum" : "max", (long long)s, g->cur, kw, ty(ti, 4, g->d),
       (long long)k, (long long)k, z, ty(to, 4, od), to);
  setCur(g, y, 4, od);
}

/* tensor.concat along the channels: cluster-train cannot differentiate it. */
static void concat(Gen *g) {
  int64_t od[4];
  memcpy(od, g->d, sizeof od);
  od[g->rank - 1] *= 2;
  char y[32], ti[96], to[96];
  fresh(g, y);
  ty(ti, g->rank, g->d);
  emit(g, "    %s = tensor.concat dim(%d) %s, %s : (%s, %s) -> %s\n", y, g->rank - 1, g->cur,
       g->cur, ti, ti, ty(to, g->rank, od));
  setCur(g, y, g->rank, od);
}

static void flatten(Gen *g) {
  int64_t od[2] = {g->B, g->d[1] * g->d[2] * g->d[3]};
  char y[32], ti[96], to[96];
  fresh(g, y);
  if (fz_u8(&g->in) & 1)
    emit(g, "    %s = tosa.reshape %s {new_shape = array<i64: %lld, %lld>} : (%s) -> %s\n", y,
         g->cur, (long long)od[0], (long long)od[1], ty(ti, 4, g->d), ty(to, 2, od));
  else
    emit(g, "    %s = tensor.collapse_shape %s [[0], [1, 2, 3]] : %s into %s\n", y, g->cur,
         ty(ti, 4, g->d), ty(to, 2, od));
  setCur(g, y, 2, od);
}

/* ---- Layers on [B, F] ----------------------------------------------------------- */

static void fullyConnected(Gen *g, int64_t O) {
  int64_t F = g->d[1];
  char w[32], b[32], y[32], ti[96], tw[96], tb[96], to[96];
  int64_t wd[2] = {O, F}, bd[1] = {O}, od[2] = {g->B, O};
  constant(g, w, 2, wd, 1);
  constant(g, b, 1, bd, 1);
  fresh(g, y);
  emit(g, "    %s = tosa.fully_connected %s, %s, %s : (%s, %s, %s) -> %s\n", y, g->cur, w, b,
       ty(ti, 2, g->d), ty(tw, 2, wd), ty(tb, 1, bd), ty(to, 2, od));
  setCur(g, y, 2, od);
}

/* linalg.matmul with a [F, O] weight: plain, through linalg.transpose of
 * [O, F], through expand_shape of [F * O], or shared with an earlier
 * layer; then a bias (generic or broadcast + add) and an activation. */
static void linalgDense(Gen *g, int64_t O) {
  int64_t F = g->d[1];
  char w[32], z[32], m[32], ti[96], tw[96], to[96];
  int64_t wd[2] = {F, O}, od[2] = {g->B, O};
  int form = fz_u8(&g->in) % 4;
  if (form == 3 && g->shared[0] && g->sharedF == F && O == F) {
    strcpy(w, g->shared);
  } else if (form == 1) {
    char wt[32], e[32], tt[96];
    int64_t td[2] = {O, F};
    constant(g, wt, 2, td, 0);
    tensorEmpty(g, e, 2, wd, NULL);
    fresh(g, w);
    emit(g, "    %s = linalg.transpose ins(%s : %s) outs(%s : %s) permutation = [1, 0]\n", w, wt,
         ty(tt, 2, td), e, ty(tw, 2, wd));
  } else if (form == 2) {
    char flat[32], tf[96];
    int64_t fd[1] = {F * O};
    constant(g, flat, 1, fd, 0);
    fresh(g, w);
    emit(g, "    %s = tensor.expand_shape %s [[0, 1]] output_shape [%lld, %lld] : %s into %s\n",
         w, flat, (long long)F, (long long)O, ty(tf, 1, fd), ty(tw, 2, wd));
  } else {
    constant(g, w, 2, wd, 0);
    if (F == O && !g->shared[0]) {
      strcpy(g->shared, w);
      g->sharedF = F;
    }
  }
  tensorEmpty(g, z, 2, od, "%zero");
  fresh(g, m);
  emit(g, "    %s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s\n", m, g->cur, w,
       ty(ti, 2, g->d), ty(tw, 2, wd), z, ty(to, 2, od), to);
  setCur(g, m, 2, od);
  uint8_t act = fz_u8(&g->in);
  char b[32], e[32], y[32];
  int64_t bd[1] = {O};
  constant(g, b, 1, bd, 0);
  tensorEmpty(g, e, 2, od, NULL);
  fresh(g, y);
  const char *body = act % 3 == 0   ? "%r = arith.maximumf %s, %zero : f32"
                     : act % 3 == 1 ? "%r = math.tanh %s : f32"
                                    : "%r = arith.mulf %s, %s : f32";
  /* ("%s" in these bodies is the SSA name of the sum, not a format) */
  char tbias[96];
  if (act & 4) {
    char bb[32];
    fresh(g, bb);
    emit(g, "    %s = linalg.broadcast ins(%s : tensor<%lldxf32>) outs(%s : %s) dimensions = "
         "[0]\n", bb, b, (long long)O, e, to);
    strcpy(b, bb);
    strcpy(tbias, to);
  } else {
    ty(tbias, 1, bd);
  }
  emit(g, "    %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, "
       "affine_map<(i, j) -> (%s)>, affine_map<(i, j) -> (i, j)>], iterator_types = "
       "[\"parallel\", \"parallel\"]} ins(%s, %s : %s, %s) outs(%s : %s) {\n", y,
       act & 4 ? "i, j" : "j", m, b, to, tbias, e, to);
  emit(g, "    ^bb0(%%a: f32, %%c: f32, %%o: f32):\n      %%s = arith.addf %%a, %%c : f32\n");
  emit(g, "      %s\n      linalg.yield %%r : f32\n    } -> %s\n", body, to);
  setCur(g, y, 2, od);
}

/* tosa.matmul needs rank 3: [1, B, F] x [1, F, O]. */
static void tosaMatmul(Gen *g, int64_t O) {
  int64_t F = g->d[1];
  char r[32], w[32], m[32], y[32], t2[96], t3[96], tw[96], tm[96], to[96];
  int64_t d3[3] = {1, g->B, F}, wd[3] = {1, F, O}, md[3] = {1, g->B, O}, od[2] = {g->B, O};
  fresh(g, r);
  emit(g, "    %s = tosa.reshape %s {new_shape = array<i64: 1, %d, %lld>} : (%s) -> %s\n", r,
       g->cur, g->B, (long long)F, ty(t2, 2, g->d), ty(t3, 3, d3));
  constant(g, w, 3, wd, 1);
  fresh(g, m);
  emit(g, "    %s = tosa.matmul %s, %s : (%s, %s) -> %s\n", m, r, w, t3, ty(tw, 3, wd),
       ty(tm, 3, md));
  fresh(g, y);
  emit(g, "    %s = tosa.reshape %s {new_shape = array<i64: %d, %lld>} : (%s) -> %s\n", y, m,
       g->B, (long long)O, tm, ty(to, 2, od));
  setCur(g, y, 2, od);
}

static void softmax(Gen *g) {
  char mx[32], zs[32], ex[32], sm[32], rc[32], y[32], t[96], t1[96];
  int64_t d1[2] = {g->B, 1};
  ty(t, 2, g->d);
  ty(t1, 2, d1);
  fresh(g, mx);
  emit(g, "    %s = tosa.reduce_max %s {axis = 1 : i32} : (%s) -> %s\n", mx, g->cur, t, t1);
  fresh(g, zs);
  emit(g, "    %s = tosa.sub %s, %s : (%s, %s) -> %s\n", zs, g->cur, mx, t, t1, t);
  fresh(g, ex);
  emit(g, "    %s = tosa.exp %s : (%s) -> %s\n", ex, zs, t, t);
  fresh(g, sm);
  emit(g, "    %s = tosa.reduce_sum %s {axis = 1 : i32} : (%s) -> %s\n", sm, ex, t, t1);
  fresh(g, rc);
  emit(g, "    %s = tosa.reciprocal %s : (%s) -> %s\n", rc, sm, t1, t1);
  fresh(g, y);
  emit(g, "    %s = tosa.mul %s, %s {shift = 0 : i8} : (%s, %s) -> %s\n", y, ex, rc, t, t1, t);
  setCur(g, y, 2, g->d);
}

static void toImage(Gen *g) {
  int64_t od[4] = {g->B, g->d[1], 1, 1};
  char y[32], ti[96], to[96];
  fresh(g, y);
  emit(g, "    %s = tosa.reshape %s {new_shape = array<i64: %d, %lld, 1, 1>} : (%s) -> %s\n", y,
       g->cur, g->B, (long long)g->d[1], ty(ti, 2, g->d), ty(to, 4, od));
  setCur(g, y, 4, od);
}

/* ---- The model --------------------------------------------------------------------- */

static void generate(Gen *g, int *classes) {
  g->B = pick(g, 1, 3);
  int64_t in[4];
  char tin[96];
  if (fz_u8(&g->in) & 1) {
    in[0] = g->B, in[1] = pick(g, 1, 7), in[2] = pick(g, 1, 7), in[3] = pick(g, 1, 3);
    g->rank = 4;
  } else {
    in[0] = g->B, in[1] = pick(g, 1, 12);
    g->rank = 2;
  }
  memcpy(g->d, in, sizeof in);
  ty(tin, g->rank, in);
  *classes = pick(g, 1, 5);
  emit(g, "module {\n  func.func @forward(%%x: %s) -> tensor<%dx%dxf32> {\n", tin, g->B,
       *classes);
  emit(g, "    %%zero = arith.constant 0.0 : f32\n    %%ninf = arith.constant -3.4e38 : f32\n");
  strcpy(g->cur, "%x");
  int layers = pick(g, 0, 6);
  for (int l = 0; l < layers; ++l) {
    uint8_t op = fz_u8(&g->in);
    int64_t O = pick(g, 1, 6);
    if (op % 97 == 96) {
      concat(g);
      continue;
    }
    if (g->rank == 4) {
      switch (op % 11) {
      case 0: tosaConv(g, 0); break;
      case 1: tosaConv(g, 1); break;
      case 2: tosaPool(g); break;
      case 3: tosaUnary(g); break;
      case 4: tosaBinary(g); break;
      case 5: tosaTranspose(g); break;
      case 6: tosaReduce(g); break;
      case 7: linalgConv(g, 0); break;
      case 8: linalgConv(g, 1); break;
      case 9: linalgPool(g); break;
      default: flatten(g); break;
      }
    } else {
      switch (op % 7) {
      case 0: fullyConnected(g, O); break;
      case 1: linalgDense(g, O); break;
      case 2: tosaMatmul(g, O); break;
      case 3: tosaUnary(g); break;
      case 4: tosaBinary(g); break;
      case 5: softmax(g); break;
      default: toImage(g); break;
      }
    }
  }
  if (g->rank == 4)
    flatten(g);
  if (fz_u8(&g->in) & 1)
    fullyConnected(g, *classes);
  else
    linalgDense(g, *classes);
  char to[96];
  emit(g, "    return %s : %s\n  }\n}\n", g->cur, ty(to, 2, g->d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Gen g = {0};
  g.in = fz_in(data, size);
  g.cap = 4096;
  g.s = malloc(g.cap);
  g.s[0] = 0;
  int classes;
  generate(&g, &classes);

  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  static const unsigned ks[] = {1, 2, 3, 4, 16, 300};
  to.cluster.clusters = ks[fz_u8(&g.in) % 6];
  to.cluster.init = (clusterrt_init)(fz_u8(&g.in) % 5);
  to.cluster.min_elements = fz_u8(&g.in) % 3;
  to.cluster.preserve_sparsity = fz_u8(&g.in) % 4 == 0;
  to.mode = (ClustercTrainMode)(fz_u8(&g.in) % 3);
  to.loss = (ClustercLoss)(fz_u8(&g.in) % 2);
  to.reduce = (clusterrt_reduce)(fz_u8(&g.in) % 2);
  ClustercClusterWeightsOptions wo;
  clustercClusterWeightsOptionsInit(&wo);
  wo.clusters = to.cluster.clusters;
  wo.min_elements = to.cluster.min_elements;
  wo.per_channel = fz_u8(&g.in) % 3 == 0;
  wo.decode = (ClustercDecode)(fz_u8(&g.in) % 3);
  wo.threads = 1 + fz_u8(&g.in) % 2;

  if (getenv("FUZZ_VERBOSE"))
    fputs(g.s, stderr);
  for (int pass = 0; pass < 2; ++pass) {
    FzMlir m;
    fzMlirOpen(&m);
    MlirModule mod = fzParse(&m, g.s, g.n, "generated.mlir");
    if (mlirModuleIsNull(mod)) {
      fprintf(stderr, "%s", g.s);
      fprintf(stderr, "fuzz-train: the generated model does not parse (a generator bug)\n");
      __builtin_trap();
    }
    if (pass == 0)
      fzRunPassAndCheck(&m, mod, clustercCreateClusterTrainPass(&to), "cluster-train");
    else
      fzRunPassAndCheck(&m, mod, clustercCreateClusterWeightsPass(&wo), "cluster-weights");
    mlirModuleDestroy(mod);
    fzMlirClose(&m);
  }
  clustercClusterTrainOptionsFree(&to);
  clustercClusterWeightsOptionsFree(&wo);
  free(g.s);
  return 0;
}
