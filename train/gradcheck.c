/*
 * clustercGradcheck (clusterc/train.h; the driver's `clusterc gradcheck`):
 * checks the gradients cluster-train generates.
 *
 * The model gets random inputs (N(0,1)) and labels, and its training step
 * runs on the JIT.
 *  - float and centroids-only: each gradient (of the parameters, and of
 *    the centroids with fixed indices) is compared with central finite
 *    differences of the loss, (L(p + eps) - L(p - eps)) / 2eps, at up to
 *    N elements per tensor (all of them when the tensor is that small).
 *  - ste: the loss is piecewise constant in W and in c through the
 *    re-assignment, so finite differences do not apply; instead
 *      idx    == argmin_k |W - c_k| (libclusterrt's generic kernel),
 *      dW     == the float model's gradient at W = c[idx] (the STE
 *                identity: dL/dW is dL/dWc, unchanged),
 *      dc_k   == sum (or mean) of dW over {i : idx_i = k},
 *    the last two within the tolerance.
 * Error measure: |a - b| / max(|a|, |b|, floor), floor = 1e-3 times the
 * largest gradient magnitude of the tensor (rounding noise of tiny
 * gradients is not an error), and for finite differences at least the
 * noise of an f32 difference quotient over the tolerance. CLUSTERC_OK when
 * every check passes. The table goes out as RESULT messages.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codegen/internal.h"
#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "clusterc/train.h"
#include "mlir-c/Pass.h"
#include "trainsig.h"

typedef struct GcArgs {
  double eps, tol;
  int samples;
  uint64_t *rng;
  ClustercMessageFn fn;
  void *user;
} GcArgs;

#define SAY(ga, ...) clustercMessagef((ga)->fn, (ga)->user, CLUSTERC_MESSAGE_RESULT, __VA_ARGS__)
#define ERR(ga, ...) clustercMessagef((ga)->fn, (ga)->user, CLUSTERC_MESSAGE_ERROR, __VA_ARGS__)

static uint64_t rngNext(const GcArgs *ga) { return tsRandom(ga->rng); }
static double rngUnit(const GcArgs *ga) { return (double)(rngNext(ga) >> 11) * 0x1.0p-53; }
static float rngNormal(const GcArgs *ga) {
  double u = rngUnit(ga), v = rngUnit(ga);
  return (float)(sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v));
}

/* A compiled training module: its JIT, signature and functions. */
typedef struct Model {
  ClustercJit *jit;
  TrainSig sig;
  TsInit init; /* the starting values of the trainable arguments */
  const ClustercJitFunc *step, *eval;
} Model;

static void modelFree(Model *m) {
  clustercJitDestroy(m->jit);
  tsFree(&m->sig);
  tsInitFree(&m->init);
}

/* Runs cluster-train with `options` on a copy of `model` and compiles it. */
static bool modelLoad(const GcArgs *ga, Model *m, MlirModule model, const char *options,
                      const char *name) {
  memset(m, 0, sizeof *m);
  MlirModule module = mlirModuleFromOperation(mlirOperationClone(mlirModuleGetOperation(model)));
  ClustercClusterTrainOptions o;
  clustercClusterTrainOptionsInit(&o);
  char err[512];
  bool ok = !clustercClusterTrainOptionsParse(&o, options, strlen(options), err, sizeof err);
  if (!ok)
    ERR(ga, "clusterc: error: %s\n", err);
  if (ok) {
    MlirPassManager pm = mlirPassManagerCreate(mlirModuleGetContext(module));
    mlirPassManagerAddOwnedPass(pm, clustercCreateClusterTrainPass(&o));
    ClustercErrorCount diags;
    clustercCountErrorsBegin(&diags, mlirModuleGetContext(module));
    ok = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)));
    clustercCountErrorsEnd(&diags);
    mlirPassManagerDestroy(pm);
    if (!ok && !diags.errors)
      ERR(ga, "%s: error: cluster-train failed\n", name);
  }
  clustercClusterTrainOptionsFree(&o);
  ok = ok && tsRead(module, &m->sig, ga->fn, ga->user);
  ok = ok && tsTakeInit(module, &m->sig, &m->init, ga->fn, ga->user);
  ok = ok && !clustercJitCreate(module, NULL, name, ga->fn, ga->user, &m->jit);
  ok = ok && (m->step = clustercJitLookup(m->jit, m->sig.step.name)) != NULL;
  ok = ok && (m->eval = clustercJitLookup(m->jit, m->sig.eval.name)) != NULL;
  mlirModuleDestroy(module);
  if (ok && (m->step->nArgs != m->sig.step.nArgs ||
             m->step->nResults != m->sig.step.nResults)) {
    ERR(ga, "clusterc: error: internal: step signature mismatch\n");
    ok = false;
  }
  if (!ok)
    modelFree(m);
  return ok;
}

/* Step arguments: random inputs and labels, then init's values. */
static bool fillArgs(const GcArgs *ga, const Model *m, TsBuffers *args) {
  if (!tsAlloc(args, m->step, true))
    return false;
  const TsFunc *s = &m->sig.step;
  int li = tsFind(s->args, s->nArgs, TS_LABELS, NULL);
  for (int i = 0; i < s->nArgs; ++i) {
    const ClustercJitTensor *t = &m->step->args[i];
    if ((s->args[i].kind == TS_INPUT || s->args[i].kind == TS_LABELS) && t->elem == CLUSTERC_JIT_F32)
      for (size_t e = 0; e < t->count; ++e)
        ((float *)args->data[i])[e] = rngNormal(ga);
  }
  if (li >= 0 && m->step->args[li].elem == CLUSTERC_JIT_I32) {
    const ClustercJitTensor *logits = &m->eval->results[0];
    int64_t classes = logits->rank == 2 ? logits->shape[1] : 1;
    for (size_t e = 0; e < m->step->args[li].count; ++e)
      ((int32_t *)args->data[li])[e] = (int32_t)(rngNext(ga) % (uint64_t)classes);
  }
  /* init's values are the trainable arguments, in order. */
  for (int r = 0; r < m->init.n && li + 1 + r < s->nArgs; ++r)
    if (!tsInitCopy(&m->init, r, args->data[li + 1 + r], m->step->args[li + 1 + r].bytes)) {
      tsRelease(args);
      return false;
    }
  return true;
}

/* The loss of one step (NaN when the call could not run: a failed check). */
static float lossOf(const Model *m, TsBuffers *args, TsBuffers *res) {
  if (clustercJitCall(m->step, args->data, res->data))
    return NAN;
  return *(const float *)res->data[0];
}

/* Running comparison of one tensor's gradient with a reference. */
typedef struct Cmp {
  double maxErr;
  size_t checked, bad;
} Cmp;

/* NaN-safe: a NaN or infinite gradient, reference or difference is an
 * infinite error, never a pass (fmax drops NaN, and `s > 0` was false for it, so a
 * NaN gradient used to compare as error 0). */
static double relErr(double a, double b, double floor) {
  double d = fabs(a - b), s = fmax(fmax(fabs(a), fabs(b)), floor);
  if (!isfinite(a) || !isfinite(b) || !isfinite(d))
    return INFINITY;
  return s > 0 ? d / s : 0;
}

static double maxAbs(const float *g, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i)
    m = fmax(m, fabs(g[i]));
  return m;
}

static void report(const GcArgs *ga, const char *what, const char *name, const Cmp *c,
                   size_t n, double tol) {
  SAY(ga, "  %-15s %-24s %6zu of %-8zu max err %.2e  %s\n", what, name, c->checked,
         n, c->maxErr, c->maxErr <= tol ? "ok" : "FAIL");
}

/* The indices of the `want` largest |g| (the gradients that matter most). */
static void largest(const float *g, size_t n, size_t want, size_t *out) {
  size_t have = 0;
  if (!want)
    return;
  for (size_t i = 0; i < n; ++i) {
    size_t at = have < want ? have++ : want;
    if (at == want) {
      if (fabsf(g[i]) <= fabsf(g[out[want - 1]]))
        continue;
      at = want - 1;
    }
    while (at > 0 && fabsf(g[out[at - 1]]) < fabsf(g[i])) {
      out[at] = out[at - 1];
      at--;
    }
    out[at] = i;
  }
}

/* Finite differences on argument argIdx against result resIdx: the
 * largest gradients and as many random elements. The loss is f32, so a
 * difference quotient carries noise of about 32 ulp(loss) / eps; a check
 * passes when |fd - g| <= tol max(|fd|, |g|) + noise. */
static bool checkFd(const GcArgs *ga, const Model *m, TsBuffers *args, TsBuffers *res,
                    TsBuffers *scratch, int argIdx, int resIdx, float loss) {
  const ClustercJitTensor *t = &m->step->args[argIdx];
  float *p = args->data[argIdx];
  const float *g = res->data[resIdx];
  double noise = 32 * FLT_EPSILON * fmax(1.0, fabs(loss)) / ga->eps;
  double floor = fmax(1e-3 * maxAbs(g, t->count), noise / ga->tol);
  Cmp c = {0};
  size_t n = t->count, want = (size_t)ga->samples < n ? (size_t)ga->samples : n;
  size_t *pick = malloc(sizeof *pick * (want ? want : 1));
  if (!pick)
    return false;
  if (want == n)
    for (size_t i = 0; i < n; ++i)
      pick[i] = i;
  else {
    largest(g, n, want / 2, pick);
    for (size_t s = want / 2; s < want; ++s)
      pick[s] = (size_t)(rngNext(ga) % n);
  }
  /* preserve-sparsity: a zero slot's centroid is fixed, its gradient 0. */
  const TsSlot *slot = &m->sig.step.args[argIdx];
  bool sparse = slot->kind == TS_CENTROIDS && slot->layout.sparse;
  for (size_t s = 0; s < want; ++s) {
    size_t i = pick[s];
    if (sparse && p[i] == 0.0f) {
      c.maxErr = fmax(c.maxErr, g[i] == 0.0f ? 0.0 : INFINITY);
      c.checked++;
      continue;
    }
    float keep = p[i];
    p[i] = keep + (float)ga->eps;
    double up = lossOf(m, args, scratch);
    p[i] = keep - (float)ga->eps;
    double down = lossOf(m, args, scratch);
    p[i] = keep;
    double fd = (up - down) / (2 * ga->eps);
    c.maxErr = fmax(c.maxErr, relErr(fd, g[i], floor));
    c.checked++;
  }
  free(pick);
  report(ga, m->sig.step.results[resIdx].kind == TS_GRAD_PARAM ? "param" : "centroids",
         m->sig.step.results[resIdx].name, &c, n, ga->tol);
  return c.maxErr <= ga->tol;
}

static bool runFd(const GcArgs *ga, const Model *m) {
  TsBuffers args, res, scratch;
  if (!fillArgs(ga, m, &args))
    return false;
  if (!tsAlloc(&res, m->step, false) || !tsAlloc(&scratch, m->step, false)) {
    tsRelease(&args);
    return false;
  }
  float loss = lossOf(m, &args, &res);
  SAY(ga, "gradcheck: loss %.6g, eps %g, tolerance %g\n", loss, ga->eps, ga->tol);
  bool ok = isfinite(loss);
  const TsFunc *s = &m->sig.step;
  for (int r = 0; r < s->nResults; ++r) {
    TsKind ak = s->results[r].kind == TS_GRAD_PARAM       ? TS_PARAM
              : s->results[r].kind == TS_GRAD_CENTROIDS ? TS_CENTROIDS : TS_UNKNOWN;
    if (ak == TS_UNKNOWN)
      continue;
    int a = tsFind(s->args, s->nArgs, ak, s->results[r].name);
    if (a < 0)
      continue;
    ok &= checkFd(ga, m, &args, &res, &scratch, a, r, loss);
  }
  tsRelease(&args);
  tsRelease(&res);
  tsRelease(&scratch);
  return ok;
}

/* STE: compare with the float model at the decoded weights. */
static bool runSte(const GcArgs *ga, const Model *ste, const Model *flt,
                   clusterrt_reduce reduce) {
  TsBuffers args, res, fargs, fres;
  if (!fillArgs(ga, ste, &args))
    return false;
  if (!tsAlloc(&res, ste->step, false) || !fillArgs(ga, flt, &fargs) ||
      !tsAlloc(&fres, flt->step, false))
    return false;
  float loss = lossOf(ste, &args, &res);
  const TsFunc *s = &ste->sig.step, *f = &flt->sig.step;
  /* The float model sees the same inputs and labels, W = c[idx] for the
   * clustered weights and the same other parameters. */
  for (int i = 0; i < f->nArgs; ++i) {
    const char *name = f->args[i].name;
    int j = -1;
    if (f->args[i].kind == TS_INPUT || f->args[i].kind == TS_LABELS)
      j = i;
    else if ((j = tsFind(s->args, s->nArgs, TS_PARAM, name)) < 0 &&
             (j = tsFind(s->args, s->nArgs, TS_WEIGHT, name)) >= 0) {
      int ci = tsFind(s->args, s->nArgs, TS_CENTROIDS, name);
      int ii = tsFind(s->results, s->nResults, TS_INDICES, name);
      const ClustercJitTensor *it = &ste->step->results[ii];
      clusterrt_status st = clusterrt_decode_f32(
          res.data[ii], it->elem == CLUSTERC_JIT_I16 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8,
          it->count, args.data[ci], ste->step->args[ci].count, fargs.data[i]);
      if (st != CLUSTERRT_OK)
        return false;
      continue;
    }
    if (j >= 0)
      memcpy(fargs.data[i], args.data[j], flt->step->args[i].bytes);
  }
  float floss = lossOf(flt, &fargs, &fres);
  SAY(ga, "gradcheck: STE loss %.6g, float loss at c[idx] %.6g, tolerance %g\n", loss,
         floss, ga->tol);
  bool ok = isfinite(loss) && relErr(loss, floss, 1e-6) <= ga->tol;
  for (int r = 0; r < s->nResults; ++r) {
    if (s->results[r].kind != TS_GRAD_WEIGHT)
      continue;
    const char *name = s->results[r].name;
    int wi = tsFind(s->args, s->nArgs, TS_WEIGHT, name);
    int ci = tsFind(s->args, s->nArgs, TS_CENTROIDS, name);
    int ii = tsFind(s->results, s->nResults, TS_INDICES, name);
    int dci = tsFind(s->results, s->nResults, TS_GRAD_CENTROIDS, name);
    int fr = tsFind(f->results, f->nResults, TS_GRAD_PARAM, name);
    if (wi < 0 || ci < 0 || ii < 0 || dci < 0 || fr < 0) {
      SAY(ga, "  %s: missing results\n", name);
      ok = false;
      continue;
    }
    const ClustercJitTensor *wt = &ste->step->args[wi], *it = &ste->step->results[ii];
    size_t n = wt->count, k = ste->step->args[ci].count;
    clusterrt_index_format fmt = it->elem == CLUSTERC_JIT_I16 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8;
    /* idx == argmin */
    void *want = malloc(it->bytes ? it->bytes : 1);
    size_t badIdx = 0;
    const TsLayout *lay = &s->args[ci].layout;
    if (!want || tsAssign(lay, args.data[wi], n, args.data[ci], want))
      return false;
    badIdx = memcmp(want, res.data[ii], it->bytes) != 0;
    free(want);
    SAY(ga, "  %-15s %-24s %s\n", "indices", name, badIdx ? "FAIL (differ from argmin)" : "ok (argmin)");
    ok &= !badIdx;
    /* dW == float dW at c[idx]; preserve-sparsity: 0 exactly where W is 0 */
    const float *dw = res.data[r], *fdw = fres.data[fr], *wv = args.data[wi];
    double floor = 1e-3 * maxAbs(fdw, n);
    Cmp c = {0};
    for (size_t i = 0; i < n; ++i)
      c.maxErr = fmax(c.maxErr, lay->sparse && wv[i] == 0.0f
                                    ? (dw[i] == 0.0f ? 0.0 : INFINITY)
                                    : relErr(dw[i], fdw[i], floor));
    c.checked = n;
    report(ga, lay->sparse ? "weight (STE, 0s)" : "weight (STE)", name, &c, n, ga->tol);
    ok &= c.maxErr <= ga->tol;
    /* dc == per-cluster sum (or mean) of dW, in double on the host */
    double *sum = calloc(k, sizeof *sum);
    size_t *cnt = calloc(k, sizeof *cnt);
    if (!sum || !cnt)
      return false;
    for (size_t i = 0; i < n; ++i) {
      size_t j = fmt == CLUSTERRT_IDX_U16 ? ((const uint16_t *)res.data[ii])[i]
                                          : ((const uint8_t *)res.data[ii])[i];
      sum[j] += dw[i];
      cnt[j]++;
    }
    const float *dc = res.data[dci];
    double dcMax = 0;
    for (size_t j = 0; j < k; ++j) {
      if (reduce == CLUSTERRT_REDUCE_AVG)
        sum[j] = cnt[j] ? sum[j] / (double)cnt[j] : 0;
      dcMax = fmax(dcMax, fabs(sum[j]));
    }
    Cmp cc = {0};
    for (size_t j = 0; j < k; ++j)
      cc.maxErr = fmax(cc.maxErr, relErr(dc[j], sum[j], 1e-3 * dcMax));
    cc.checked = k;
    report(ga, reduce == CLUSTERRT_REDUCE_AVG ? "centroids (avg)" : "centroids (sum)",
           name, &cc, k, ga->tol);
    ok &= cc.maxErr <= ga->tol;
    free(sum);
    free(cnt);
  }
  /* The other parameters: same gradients as the float model's. */
  for (int r = 0; r < s->nResults; ++r) {
    if (s->results[r].kind != TS_GRAD_PARAM)
      continue;
    int fr = tsFind(f->results, f->nResults, TS_GRAD_PARAM, s->results[r].name);
    if (fr < 0)
      continue;
    const float *a = res.data[r], *b = fres.data[fr];
    size_t n = ste->step->results[r].count;
    Cmp c = {0};
    double floor = 1e-3 * maxAbs(b, n);
    for (size_t i = 0; i < n; ++i)
      c.maxErr = fmax(c.maxErr, relErr(a[i], b[i], floor));
    c.checked = n;
    report(ga, "param", s->results[r].name, &c, n, ga->tol);
    ok &= c.maxErr <= ga->tol;
  }
  tsRelease(&args);
  tsRelease(&res);
  tsRelease(&fargs);
  tsRelease(&fres);
  return ok;
}

void clustercGradcheckOptionsInit(ClustercGradcheckOptions *o) {
  memset(o, 0, sizeof *o);
  o->eps = 1e-2;
  o->tol = 2e-2;
  o->samples = 16;
  o->dataSeed = 1;
}

/* text + " " + more, malloc'd; NULL when out of memory. */
static char *appendOption(const char *text, const char *more) {
  size_t a = strlen(text), b = strlen(more);
  char *t = malloc(a + b + 2);
  if (t)
    snprintf(t, a + b + 2, "%s%s%s", text, a ? " " : "", more);
  return t;
}

ClustercStatus clustercGradcheck(MlirModule model, const ClustercGradcheckOptions *o,
                                 const char *name) {
  uint64_t rng = o->dataSeed;
  GcArgs ga = {o->eps, o->tol, o->samples, &rng, o->onMessage, o->userData};
  /* Without a mode, float (the last mode= wins, so it goes first). */
  char *text = appendOption("mode=float", o->options ? o->options : "");
  if (!text) {
    ERR(&ga, "clusterc gradcheck: error: out of memory\n");
    return CLUSTERC_ERROR;
  }
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  char err[512];
  if (clustercClusterTrainOptionsParse(&to, text, strlen(text), err, sizeof err)) {
    ERR(&ga, "clusterc gradcheck: error: %s\n", err);
    clustercClusterTrainOptionsFree(&to);
    free(text);
    return CLUSTERC_USAGE;
  }
  ClustercTrainMode mode = to.mode;
  clusterrt_reduce reduce = to.reduce;
  clustercClusterTrainOptionsFree(&to);
  bool ok = false;
  Model m, f;
  if (!modelLoad(&ga, &m, model, text, name)) {
    free(text);
    return CLUSTERC_ERROR;
  }
  if (mode != CLUSTERC_TRAIN_STE) {
    ok = runFd(&ga, &m);
  } else {
    /* The float twin: same options, mode=float (the last mode wins). */
    char *ftext = appendOption(text, "mode=float");
    if (ftext && modelLoad(&ga, &f, model, ftext, name)) {
      ok = runSte(&ga, &m, &f, reduce);
      modelFree(&f);
    }
    free(ftext);
  }
  modelFree(&m);
  free(text);
  SAY(&ga, "gradcheck: %s\n", ok ? "all gradients match" : "FAILED");
  return ok ? CLUSTERC_OK : CLUSTERC_ERROR;
}
