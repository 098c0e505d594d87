/*
 * The training session of libclusterc-train (clustercTrain, see
 * clusterc/train.h): fine-tunes a model on a data set and, with writeBack,
 * leaves it in the cluster-weights form (centroids, packed indices, decode).
 *
 * How. cluster-train generates the model's training step, evaluation and
 * initial values (passes/cluster-train.c); the JIT compiles the step and
 * the evaluation (codegen/jit.c), and the initial values, the init
 * function's constants, are copied into the state on the host (tsTakeInit):
 * the compiled code does not depend on them, so one JIT cache entry
 * serves every seed, init and weight values of the same shapes. Each optimizer step feeds `batch` samples as batch / B
 * calls of the step function (B = the model's static batch). Call j adds its
 * gradients to lane j mod L (L = min(calls, 8), each lane's calls in order,
 * one thread per lane at a time) and the lanes' sums are added in lane
 * order, so the result does not depend on the thread count. A thread runs
 * a lane in its own buffers (one set of step results and one of sums),
 * adds it to the step's total when the lanes before it are in, and takes
 * the next lane: memory grows with the threads (1 + 2T sets of gradients),
 * not with the lanes or the calls. It then averages and applies SGD,
 * momentum or Adam with libclusterrt's kernels to every
 * trained tensor: the weights W and centroids c of the clustered layers
 * (mode ste), only c (mode centroids-only, the indices fixed at their
 * initial assignment), or every parameter (mode float). After each epoch the
 * test set is evaluated with the model's own forward pass on the current
 * weights (for a clustered layer: c[argmin |W - c|]).
 *
 * Output. The trained values replace the model's constants (a clustered
 * weight becomes c[idx], at most K distinct values; write-back.c), then
 * cluster-weights clusters the same weights with the same K and the exact
 * 1-D k-means, which reproduces c[idx] exactly: the written model computes
 * what was evaluated. mode=float leaves the trained float model.
 *
 * Nothing here prints or exits: messages go through the options'
 * ClustercMessageFn, failures (out of memory included) return a status.
 */
#define _POSIX_C_SOURCE 200809L
#include "clusterc/train.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../codegen/internal.h"
#include "../passes/weights.h"
#include "clusterc/codegen.h"
#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "mlir-c/Pass.h"
#include "trainsig.h"
#include "transform.h"

#define MSG(o, kind, ...) clustercMessagef((o)->onMessage, (o)->userData, kind, __VA_ARGS__)
#define ERR(o, ...) MSG(o, CLUSTERC_MESSAGE_ERROR, __VA_ARGS__)

typedef ClustercTrainOptions TrainArgs;

void clustercTrainOptionsInit(ClustercTrainOptions *o) {
  memset(o, 0, sizeof *o);
  o->epochs = 1;
  o->threads = 1;
  o->optimizer = CLUSTERC_OPTIMIZER_ADAM;
  o->lr = 1e-3;
  o->momentum = 0.9;
  o->beta1 = 0.9;
  o->beta2 = 0.999;
  o->adamEps = 1e-8;
  o->contractions = CLUSTERC_CONTRACTIONS_GEMM;
}

/* ---- Small helpers -------------------------------------------------------- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void shuffle(uint64_t *rng, size_t *perm, size_t n) {
  for (size_t i = n; i > 1; --i) {
    size_t j = (size_t)(tsRandom(rng) % i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

/* ---- The compiled model ----------------------------------------------------- */

typedef struct Trained {
  int arg;       /* step argument */
  int grad;      /* step result with its gradient, or -1 (fixed) */
  float *m, *v;  /* optimizer state */
} Trained;

typedef struct Session {
  const TrainArgs *a;
  ClustercJit *jit;
  TrainSig sig;
  const ClustercJitFunc *step, *eval;
  TsInit init;       /* the starting values of the trainable arguments */
  int nInputs;       /* the model's inputs: step arguments 0 .. nInputs-1 */
  int labelsArg, lossRes;
  int B, classes, micro, lanes;
  int slots;         /* threads that can run lanes at once: min(threads, lanes) */
  bool mse;
  size_t outSize;    /* logits (or outputs) per sample */
  XfPlan *plans[2];  /* per input: training, test samples to the model's */
  float **scratch;   /* per slot (and one for evaluation): a sample as read */
  void **state;      /* the trainable values, by step argument (NULL elsewhere) */
  Trained *trained;
  int nTrained;
  /* per slot: step arguments (inputs, labels; the rest point into state),
   * the results of the last call, and the sums of its current lane */
  void ***args, ***res, ***acc;
  /* the step's results for lane 0, then (gradients) the sum of all lanes */
  void **sum;
  int *summed, nSummed; /* the results lanes add up: the loss, the gradients */
  float *laneLoss;      /* per lane: its loss sum */
  const ClustercDataset *data; /* the batch being run */
  const size_t *perm;
  /* runSteps: the next lane to take, the lanes added to sum so far */
  pthread_mutex_t mu;
  pthread_cond_t turn;
  bool syncInit;
  int nextLane, folded;
  uint64_t adamStep;
  bool oom;                 /* an allocation failed */
  volatile int callFailed;  /* a JIT call could not run (out of memory) */
} Session;

static void sessionFree(Session *s) {
  tsInitFree(&s->init);
  if (!s->step) {
    clustercJitDestroy(s->jit);
    tsFree(&s->sig);
    return;
  }
  if (s->args)
    for (int j = 0; j < s->slots; ++j) {
      if (s->args[j]) {
        for (int k = 0; k < s->nInputs; ++k)
          free(s->args[j][k]);
        free(s->args[j][s->labelsArg]);
        free(s->args[j]);
      }
      void ***sets[2] = {s->res, s->acc};
      for (int k = 0; k < 2; ++k)
        if (sets[k] && sets[k][j]) {
          for (int r = 0; r < s->step->nResults; ++r)
            free(sets[k][j][r]);
          free(sets[k][j]);
        }
    }
  free(s->args);
  free(s->res);
  free(s->acc);
  for (int r = 0; s->sum && r < s->step->nResults; ++r)
    free(s->sum[r]);
  free(s->sum);
  free(s->summed);
  free(s->laneLoss);
  if (s->syncInit) {
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->turn);
  }
  for (int j = 0; s->scratch && j <= s->slots; ++j)
    free(s->scratch[j]);
  free(s->scratch);
  free(s->plans[0]);
  free(s->plans[1]);
  if (s->state)
    for (int i = 0; i < s->step->nArgs; ++i)
      free(s->state[i]);
  free(s->state);
  for (int i = 0; i < s->nTrained; ++i) {
    free(s->trained[i].m);
    free(s->trained[i].v);
  }
  free(s->trained);
  clustercJitDestroy(s->jit);
  tsFree(&s->sig);
}

/* calloc that marks the session out of memory instead of failing alone. */
static void *zalloc(Session *s, size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    s->oom = true;
  return p;
}

static TsKind gradKindOf(TsKind k) {
  return k == TS_WEIGHT ? TS_GRAD_WEIGHT : k == TS_CENTROIDS ? TS_GRAD_CENTROIDS
       : k == TS_PARAM ? TS_GRAD_PARAM : TS_UNKNOWN;
}

static char *fmtShape(const ClustercJitTensor *t, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < t->rank && at + 24 < size; ++i)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "x" : "", (long long)t->shape[i]);
  return buf;
}

/* Plans, for each of the model's inputs, the way from the samples of the
 * data set (train or test: its chain of inputs) to it; false after a
 * diagnostic. */
static bool planInputs(Session *s, const ClustercDataset *d, XfPlan *plans, const char *name) {
  const ClustercDataset *di = d;
  for (int k = 0; k < s->nInputs; ++k, di = di ? di->next : NULL) {
    const ClustercJitTensor *in = &s->step->args[k];
    char err[512], b1[64];
    if (!di) {
      ERR(s->a, "%s: error: the model has %d inputs; the data set gives %d (one file "
          "each, --train-images=A,B,...)\n", name, s->nInputs, k);
      return false;
    }
    if (in->rank < 1 || in->shape[0] != s->B) {
      ERR(s->a, "%s: error: the model's input %d is %s; clusterc train needs the batch "
          "first, %d in every input\n", name, k, fmtShape(in, b1, sizeof b1), s->B);
      return false;
    }
    if (xfPlan(&plans[k], &s->a->transform, di, in->shape + 1, in->rank - 1, err, sizeof err)) {
      ERR(s->a, "%s: error: input %d (%s): %s\n", name, k, fmtShape(in, b1, sizeof b1), err);
      return false;
    }
  }
  if (di) {
    ERR(s->a, "%s: error: the data set gives more inputs than the model's %d\n",
        di->name ? di->name : name, s->nInputs);
    return false;
  }
  return true;
}

/* Checks the labels of d against the model's output; false after a
 * diagnostic. */
static bool checkLabels(const Session *s, const ClustercDataset *d, const char *name) {
  const char *where = d->labelsName ? d->labelsName : name;
  if (!d->y && !d->targets) {
    ERR(s->a, "%s: error: the data set has no labels\n", d->name ? d->name : name);
    return false;
  }
  if (d->targets) {
    if (!s->mse) {
      ERR(s->a, "%s: error: float labels are regression targets: train with "
          "--loss=mse (class labels are integers)\n", where);
      return false;
    }
    if (d->targetSize != s->outSize) {
      ERR(s->a, "%s: error: %zu target values per sample; the model's output has %zu\n",
          where, d->targetSize, s->outSize);
      return false;
    }
    return true;
  }
  if (!s->classes) {
    ERR(s->a, "%s: error: class labels need an output [batch, classes]; the model's has "
        "%zu values per sample (regression: float labels and --loss=mse)\n", where,
        s->outSize);
    return false;
  }
  for (size_t i = 0; i < d->n; ++i)
    if (d->y[i] >= s->classes) {
      ERR(s->a, "%s: error: label %d of sample %zu is not a class of the model "
          "(%d classes, from its output [%d, %d])\n", where, d->y[i], i, s->classes,
          s->B, s->classes);
      return false;
    }
  return true;
}

/* Compiles the training functions of `module` (consumed) and sets up the
 * state; false after a diagnostic. */
static bool sessionInit(Session *s, const TrainArgs *a, MlirModule module,
                        const ClustercDataset *train, const ClustercDataset *test,
                        const char *name) {
  memset(s, 0, sizeof *s);
  s->a = a;
  bool ok = tsRead(module, &s->sig, a->onMessage, a->userData) &&
            tsTakeInit(module, &s->sig, &s->init, a->onMessage, a->userData);
  ClustercCodegenOptions cg;
  clustercCodegenOptionsInit(&cg);
  cg.jitCacheDir = a->jitCacheDir;
  cg.noJitCache = a->noJitCache;
  cg.noOutline = a->noOutline;
  cg.contractions = a->contractions;
  ok = ok && !clustercJitCreate(module, &cg, name, a->onMessage, a->userData, &s->jit);
  mlirModuleDestroy(module);
  ok = ok && (s->step = clustercJitLookup(s->jit, s->sig.step.name)) != NULL;
  ok = ok && (s->eval = clustercJitLookup(s->jit, s->sig.eval.name)) != NULL;
  if (!ok)
    return false;
  const TsFunc *st = &s->sig.step;
  while (s->nInputs < st->nArgs && st->args[s->nInputs].kind == TS_INPUT)
    s->nInputs++;
  s->labelsArg = tsFind(st->args, st->nArgs, TS_LABELS, NULL);
  s->lossRes = tsFind(st->results, st->nResults, TS_LOSS, NULL);
  if (s->nInputs < 1 || s->labelsArg != s->nInputs || s->lossRes < 0) {
    ERR(a, "%s: error: internal: the training step's arguments are not inputs, labels, "
        "parameters\n", name);
    return false;
  }
  const ClustercJitTensor *logits = &s->eval->results[0];
  char b1[64];
  s->B = (int)s->step->args[0].shape[0];
  s->mse = s->step->args[s->labelsArg].elem == CLUSTERC_JIT_F32;
  s->classes = logits->rank == 2 ? (int)logits->shape[1] : 0;
  if (s->step->args[0].rank < 1 || s->B < 1 || logits->rank < 1 || logits->shape[0] != s->B) {
    ERR(a, "%s: error: the model's output is %s; clusterc train needs the batch (%d) "
        "first\n", name, fmtShape(logits, b1, sizeof b1), s->B);
    return false;
  }
  s->outSize = logits->count / (size_t)s->B;
  s->plans[0] = zalloc(s, (size_t)s->nInputs, sizeof(XfPlan));
  s->plans[1] = zalloc(s, (size_t)s->nInputs, sizeof(XfPlan));
  if (s->oom)
    goto oom;
  if (!planInputs(s, train, s->plans[0], name) || !planInputs(s, test, s->plans[1], name) ||
      !checkLabels(s, train, name) || !checkLabels(s, test, name))
    return false;
  int batch = a->batch ? a->batch : s->B;
  if (batch % s->B) {
    ERR(a, "clusterc train: error: --batch-size=%d is not a multiple of the "
        "model's batch %d (each step runs the model batch-size/%d times)\n", batch, s->B,
        s->B);
    return false;
  }
  s->micro = batch / s->B;

  /* Trainable state from the init function's values (tsTakeInit): step
   * arguments after labels. */
  s->state = zalloc(s, (size_t)s->step->nArgs, sizeof *s->state);
  for (int r = 0; !s->oom && r < s->init.n; ++r) {
    int arg = s->labelsArg + 1 + r;
    if (arg < s->step->nArgs)
      s->state[arg] = zalloc(s, 1, s->step->args[arg].bytes);
    if (!s->oom && (arg >= s->step->nArgs ||
                    !tsInitCopy(&s->init, r, s->state[arg], s->step->args[arg].bytes))) {
      ERR(a, "clusterc train: error: internal: init and step disagree\n");
      return false;
    }
  }
  tsInitFree(&s->init);
  if (s->oom)
    goto oom;
  s->trained = zalloc(s, (size_t)st->nArgs, sizeof *s->trained);
  for (int i = 0; !s->oom && i < st->nArgs; ++i) {
    TsKind gk = gradKindOf(st->args[i].kind);
    if (gk == TS_UNKNOWN)
      continue;
    Trained *t = &s->trained[s->nTrained++];
    t->arg = i;
    t->grad = tsFind(st->results, st->nResults, gk, st->args[i].name);
    size_t n = s->step->args[i].count;
    t->m = zalloc(s, n, sizeof(float));
    if (a->optimizer == CLUSTERC_OPTIMIZER_ADAM)
      t->v = zalloc(s, n, sizeof(float));
  }
  if (s->oom)
    goto oom;
  s->lanes = s->micro < 8 ? s->micro : 8;
  s->slots = a->threads < s->lanes ? a->threads : s->lanes;
  if (s->slots < 1)
    s->slots = 1;
  size_t maxIn = 1;
  for (const ClustercDataset *d = train; d; d = d->next)
    maxIn = d->sampleSize > maxIn ? d->sampleSize : maxIn;
  for (const ClustercDataset *d = test; d; d = d->next)
    maxIn = d->sampleSize > maxIn ? d->sampleSize : maxIn;
  s->scratch = zalloc(s, (size_t)s->slots + 1, sizeof *s->scratch);
  for (int j = 0; !s->oom && j <= s->slots; ++j)
    s->scratch[j] = zalloc(s, maxIn, sizeof(float));
  s->args = zalloc(s, (size_t)s->slots, sizeof *s->args);
  s->res = zalloc(s, (size_t)s->slots, sizeof *s->res);
  s->acc = zalloc(s, (size_t)s->slots, sizeof *s->acc);
  s->sum = zalloc(s, (size_t)s->step->nResults, sizeof *s->sum);
  for (int r = 0; !s->oom && r < s->step->nResults; ++r)
    s->sum[r] = zalloc(s, 1, s->step->results[r].bytes);
  s->laneLoss = zalloc(s, (size_t)s->lanes, sizeof *s->laneLoss);
  s->summed = zalloc(s, (size_t)s->nTrained + 1, sizeof *s->summed);
  if (!s->oom) {
    s->summed[s->nSummed++] = s->lossRes;
    for (int i = 0; i < s->nTrained; ++i)
      if (s->trained[i].grad >= 0 &&
          s->step->results[s->trained[i].grad].elem == CLUSTERC_JIT_F32)
        s->summed[s->nSummed++] = s->trained[i].grad;
  }
  for (int j = 0; !s->oom && j < s->slots; ++j) {
    if (!(s->args[j] = zalloc(s, (size_t)st->nArgs, sizeof **s->args)))
      break;
    for (int i = 0; i < st->nArgs; ++i)
      s->args[j][i] = (i < s->nInputs || i == s->labelsArg)
                          ? zalloc(s, 1, s->step->args[i].bytes) : s->state[i];
    s->res[j] = zalloc(s, (size_t)s->step->nResults, sizeof **s->res);
    s->acc[j] = zalloc(s, (size_t)s->step->nResults, sizeof **s->acc);
    /* res: a lane's second and later calls; acc: lanes after the first */
    for (int r = 0; !s->oom && r < s->step->nResults; ++r) {
      size_t bytes = s->step->results[r].bytes;
      s->res[j][r] = s->micro > s->lanes ? zalloc(s, 1, bytes) : NULL;
      s->acc[j][r] = s->lanes > 1 ? zalloc(s, 1, bytes) : NULL;
    }
  }
  if (!s->oom && !pthread_mutex_init(&s->mu, NULL)) {
    if (!pthread_cond_init(&s->turn, NULL)) {
      s->syncInit = true;
      return true;
    }
    pthread_mutex_destroy(&s->mu);
  }
oom:
  ERR(a, "clusterc train: error: out of memory\n");
  return false;
}

/* Fills the inputs (inputs[k] for the model's input k) and the labels (y,
 * NULL: none) of one call from samples perm[0 .. count) of d, the rest of
 * the batch zero. `scratch` holds one sample as read. */
static void fillBatch(const Session *s, const ClustercDataset *d, const XfPlan *plans,
                      const size_t *perm, size_t count, void *const *inputs, void *y,
                      float *scratch) {
  const ClustercDataset *di = d;
  for (int k = 0; k < s->nInputs; ++k, di = di->next) {
    const XfPlan *p = &plans[k];
    float *xf = inputs[k];
    for (int b = 0; b < s->B; ++b) {
      float *out = xf + (size_t)b * p->outSize;
      if ((size_t)b >= count) {
        memset(out, 0, p->outSize * sizeof(float));
      } else if (p->identity) {
        clustercDatasetSample(di, perm[b], out);
      } else {
        clustercDatasetSample(di, perm[b], scratch);
        xfApply(p, scratch, out);
      }
    }
  }
  if (!y)
    return;
  size_t os = s->outSize;
  if (s->mse) {
    float *t = y;
    memset(t, 0, sizeof(float) * (size_t)s->B * os);
    for (int b = 0; b < s->B && (size_t)b < count; ++b) {
      if (d->targets) /* regression */
        memcpy(t + (size_t)b * os, d->targets + perm[b] * os, os * sizeof *t);
      else /* one-hot classes */
        t[(size_t)b * os + (size_t)d->y[perm[b]]] = 1.0f;
    }
  } else {
    int32_t *l = y;
    for (int b = 0; b < s->B; ++b)
      l[b] = (size_t)b < count ? d->y[perm[b]] : 0;
  }
}

/* ---- Threads ------------------------------------------------------------------ */

typedef struct Worker {
  Session *s;
  int slot; /* its buffers */
} Worker;

/* Takes lanes in order until none is left. A lane runs its calls in its
 * slot: each call fills its samples and runs the step; the first writes
 * the lane's sums (lane 0: s->sum), the others add the loss and the
 * gradients to them. When the lanes before it are in s->sum, the lane's
 * gradients are added there. Lanes are taken in order, so the lane a
 * thread waits for is run by a thread that waits only for earlier ones. */
static void *runLanes(void *p) {
  Worker *w = p;
  Session *s = w->s;
  void **args = s->args[w->slot], **res = s->res[w->slot];
  for (;;) {
    pthread_mutex_lock(&s->mu);
    int lane = s->nextLane < s->lanes ? s->nextLane++ : -1;
    pthread_mutex_unlock(&s->mu);
    if (lane < 0)
      break;
    void **acc = lane ? s->acc[w->slot] : s->sum;
    for (int j = lane; j < s->micro; j += s->lanes) {
      fillBatch(s, s->data, s->plans[0], s->perm + (size_t)j * (size_t)s->B, (size_t)s->B,
                args, args[s->labelsArg], s->scratch[w->slot]);
      if (clustercJitCall(s->step, args, j == lane ? acc : res))
        s->callFailed = 1;
      if (j == lane)
        continue;
      for (int k = 0; k < s->nSummed; ++k) {
        int r = s->summed[k];
        float *a = acc[r];
        const float *v = res[r];
        for (size_t e = 0, n = s->step->results[r].count; e < n; ++e)
          a[e] += v[e];
      }
    }
    s->laneLoss[lane] = *(const float *)acc[s->lossRes];
    pthread_mutex_lock(&s->mu);
    while (s->folded != lane)
      pthread_cond_wait(&s->turn, &s->mu);
    pthread_mutex_unlock(&s->mu);
    for (int k = 1; lane && k < s->nSummed; ++k) { /* summed[0] is the loss */
      int r = s->summed[k];
      float *g = s->sum[r];
      const float *gj = acc[r];
      for (size_t e = 0, n = s->step->results[r].count; e < n; ++e)
        g[e] += gj[e];
    }
    pthread_mutex_lock(&s->mu);
    s->folded++;
    pthread_cond_broadcast(&s->turn);
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

/* Runs the step on the micro-batches of samples perm[0 .. micro*B) of d,
 * on up to `threads` threads: the lanes' losses end in s->laneLoss, the
 * sum of their gradients in s->sum. */
static void runSteps(Session *s, const ClustercDataset *d, const size_t *perm, int threads) {
  s->data = d;
  s->perm = perm;
  s->nextLane = s->folded = 0;
  /* Threads beyond the lanes (a batch of one model call, say) go to the
   * runtime's contractions inside each call. */
  int all = threads, prev = clusterrt_get_threads();
  if (threads > s->slots)
    threads = s->slots;
  clusterrt_set_threads(all / threads);
  Worker w[256];
  pthread_t tid[256];
  for (int t = 0; t < threads; ++t)
    w[t] = (Worker){s, t};
  int started = 1;
  for (int t = 1; t < threads; ++t) {
    if (pthread_create(&tid[t], NULL, runLanes, &w[t]))
      break; /* fewer threads: the lanes are shared by those there are */
    started++;
  }
  runLanes(&w[0]);
  for (int t = 1; t < started; ++t)
    pthread_join(tid[t], NULL);
  clusterrt_set_threads(prev);
}

/* ---- Optimizer -------------------------------------------------------------------- */

static double lrAt(const TrainArgs *a, int epoch, size_t step, size_t totalSteps) {
  switch (a->schedule) {
  case CLUSTERC_SCHEDULE_COSINE:
    return a->lr * 0.5 * (1 + cos(3.14159265358979323846 * (double)step / (double)(totalSteps ? totalSteps : 1)));
  case CLUSTERC_SCHEDULE_STEP:
    return a->lr * pow(a->gamma, epoch / a->stepEvery);
  default:
    return a->lr;
  }
}

/* Averages the gradient sums of runSteps and updates every trained
 * tensor. */
static bool update(Session *s, double lr) {
  const TrainArgs *a = s->a;
  s->adamStep++;
  /* The runtime splits large tensors' updates over these threads. */
  int prevThreads = clusterrt_get_threads();
  clusterrt_set_threads(a->threads);
  bool ok = true;
  for (int i = 0; i < s->nTrained && ok; ++i) {
    Trained *t = &s->trained[i];
    if (t->grad < 0)
      continue;
    float *g = s->sum[t->grad];
    size_t n = s->step->results[t->grad].count;
    if (s->micro > 1) {
      float inv = 1.0f / (float)s->micro;
      for (size_t e = 0; e < n; ++e)
        g[e] *= inv;
    }
    float *w = s->state[t->arg];
    clusterrt_status st;
    if (a->optimizer == CLUSTERC_OPTIMIZER_ADAM) {
      if (a->weightDecay > 0)
        for (size_t e = 0; e < n; ++e)
          g[e] += (float)a->weightDecay * w[e];
      st = clusterrt_adam_f32(w, g, t->m, t->v, n, (float)lr, (float)a->beta1,
                              (float)a->beta2, (float)a->adamEps, s->adamStep);
    } else {
      st = clusterrt_sgd_f32(w, g, a->optimizer == CLUSTERC_OPTIMIZER_MOMENTUM ? t->m : NULL, n, (float)lr,
                             a->optimizer == CLUSTERC_OPTIMIZER_MOMENTUM ? (float)a->momentum : 0.0f,
                             (float)a->weightDecay);
    }
    if (st != CLUSTERRT_OK) {
      ERR(a, "clusterc train: error: optimizer step failed: %s\n",
          clusterrt_status_string(st));
      ok = false;
    }
  }
  clusterrt_set_threads(prevThreads);
  return ok;
}

/* ---- Evaluation --------------------------------------------------------------------- */

typedef struct EvalResult {
  double loss, accuracy; /* regression: the mean squared error, accuracy NaN */
  bool ok; /* false: out of memory */
} EvalResult;

/* Evaluates the model on the samples of d (to the model's inputs by
 * plans): class labels give the softmax cross-entropy and the accuracy,
 * float labels the mean squared error. */
static EvalResult evaluate(Session *s, const ClustercDataset *d, const XfPlan *plans) {
  EvalResult r = {0, 0, false};
  size_t n = d->n, correct = 0, os = s->outSize;
  void **args = calloc((size_t)s->eval->nArgs + 1, sizeof *args);
  float *logits = calloc(1, s->eval->results[0].bytes);
  size_t *perm = calloc(n ? n : 1, sizeof *perm);
  bool oom = !args || !logits || !perm;
  /* eval's arguments are the step's without the labels: inputs, then the
   * trained values */
  for (int i = 0, j = 0; !oom && i < s->step->nArgs; ++i) {
    if (i == s->labelsArg)
      continue;
    if (i < s->nInputs)
      oom |= !(args[j] = calloc(1, s->eval->args[j].bytes));
    else
      args[j] = s->state[i];
    j++;
  }
  int prevThreads = clusterrt_get_threads();
  clusterrt_set_threads(s->a->threads); /* one call at a time: all threads inside it */
  if (oom)
    goto done;
  for (size_t i = 0; i < n; ++i)
    perm[i] = i;
  double loss = 0;
  for (size_t at = 0; at < n; at += (size_t)s->B) {
    size_t count = n - at < (size_t)s->B ? n - at : (size_t)s->B;
    fillBatch(s, d, plans, perm + at, count, args, NULL, s->scratch[s->slots]);
    if (clustercJitCall(s->eval, args, (void *const *)&logits))
      goto done;
    for (size_t b = 0; b < count; ++b) {
      const float *z = logits + b * os;
      if (d->targets) {
        const float *t = d->targets + (at + b) * os;
        for (size_t e = 0; e < os; ++e)
          loss += ((double)z[e] - t[e]) * ((double)z[e] - t[e]);
        continue;
      }
      int best = 0;
      double mx = z[0], sum = 0;
      for (int c = 1; c < s->classes; ++c)
        if (z[c] > z[best])
          best = c;
      mx = z[best];
      for (int c = 0; c < s->classes; ++c)
        sum += exp((double)z[c] - mx);
      int32_t y = d->y[at + b];
      correct += best == y;
      loss += log(sum) + mx - (y < s->classes ? z[y] : 0);
    }
  }
  if (d->targets)
    r = (EvalResult){n ? loss / ((double)n * (double)os) : 0, NAN, true};
  else
    r = (EvalResult){n ? loss / (double)n : 0, n ? (double)correct / (double)n : 0, true};
done:
  clusterrt_set_threads(prevThreads);
  if (!r.ok)
    ERR(s->a, "clusterc train: error: out of memory\n");
  for (int k = 0; args && k < s->nInputs; ++k)
    free(args[k]);
  free(perm);
  free(args);
  free(logits);
  return r;
}

/* "test accuracy A% (loss L)" or, for regression, "test mse L". */
static const char *evalText(const EvalResult *e, char *buf, size_t size) {
  if (isnan(e->accuracy))
    snprintf(buf, size, "test mse %.6g", e->loss);
  else
    snprintf(buf, size, "test accuracy %.2f%% (loss %.4f)", 100 * e->accuracy, e->loss);
  return buf;
}

/* The JSON fields of an evaluation (accuracy null for regression). */
static const char *evalJson(const EvalResult *e, char *buf, size_t size) {
  if (isnan(e->accuracy))
    snprintf(buf, size, "\"test_accuracy\": null, \"test_loss\": %.6f", e->loss);
  else
    snprintf(buf, size, "\"test_accuracy\": %.6f, \"test_loss\": %.6f", e->accuracy, e->loss);
  return buf;
}

/* ---- Progress ------------------------------------------------------------------------ */

static void progress(const TrainArgs *a, int epoch, int epochs, size_t done, size_t total,
                     double loss, double t0) {
  if (!a->progress)
    return;
  int width = 30, filled = total ? (int)((double)done / (double)total * width) : width;
  char bar[64];
  for (int i = 0; i < width; ++i)
    bar[i] = i < filled ? '#' : '.';
  bar[width] = 0;
  double el = now() - t0;
  double eta = done ? el / (double)done * (double)(total - done) : 0;
  MSG(a, CLUSTERC_MESSAGE_PROGRESS, "\repoch %d/%d [%s] %3.0f%% loss %.4f  %.1fs (eta %.0fs)  ",
      epoch, epochs, bar, total ? 100.0 * (double)done / (double)total : 100.0, loss, el, eta);
}

/* ---- Write-back ------------------------------------------------------------------------ */

/* The values each trained constant ends with: c[idx] for clustered
 * weights (idx = argmin for ste, the fixed indices for centroids-only), the
 * trained values for the rest. False when out of memory or a kernel fails
 * (what was allocated is in *namesOut / *valsOut for the caller to free). */
static bool finalValues(Session *s, char ***namesOut, float ***valsOut, size_t *nOut) {
  const TsFunc *st = &s->sig.step;
  char **names = calloc((size_t)st->nArgs + 1, sizeof *names);
  float **vals = calloc((size_t)st->nArgs + 1, sizeof *vals);
  size_t n = 0;
  *namesOut = names;
  *valsOut = vals;
  *nOut = 0;
  if (!names || !vals)
    return false;
  for (int i = 0; i < st->nArgs; ++i) {
    TsKind k = st->args[i].kind;
    if (k != TS_WEIGHT && k != TS_INDICES && k != TS_PARAM)
      continue;
    const char *name = st->args[i].name;
    size_t count = s->step->args[i].count;
    float *v = calloc(count ? count : 1, sizeof *v);
    names[n] = strdup(name);
    vals[n++] = v;
    *nOut = n;
    if (!v || !names[n - 1])
      return false;
    if (k == TS_PARAM) {
      memcpy(v, s->state[i], count * sizeof *v);
    } else {
      int ci = tsFind(st->args, st->nArgs, TS_CENTROIDS, name);
      size_t kc = s->step->args[ci].count;
      clusterrt_index_format fmt = kc > 256 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8;
      void *idx = s->state[i];
      void *tmp = NULL;
      if (k == TS_WEIGHT) {
        if (!(tmp = calloc(count ? count : 1, fmt == CLUSTERRT_IDX_U16 ? 2 : 1)) ||
            tsAssign(&st->args[ci].layout, s->state[i], count, s->state[ci], tmp)) {
          free(tmp);
          return false;
        }
        idx = tmp;
      }
      clusterrt_status r = clusterrt_decode_f32(idx, fmt, count, s->state[ci], kc, v);
      free(tmp);
      if (r != CLUSTERRT_OK)
        return false;
    }
  }
  return true;
}

/* Joins two option texts with a space; NULL when out of memory. */
static char *joinOptions(const char *x, const char *y) {
  x = x ? x : "";
  y = y ? y : "";
  size_t lx = strlen(x), ly = strlen(y);
  char *t = malloc(lx + ly + 2);
  if (t)
    snprintf(t, lx + ly + 2, "%s%s%s", x, lx && ly ? " " : "", y);
  return t;
}

static int parseAll(const TrainArgs *a, ClustercClusterTrainOptions *to, char *err,
                    size_t errSize);

/* Frozen weights were not trained and keep their float values: appends
 * `layers=SEL:skip` for each freeze selector (the last match wins), so the
 * clustering of the output leaves them as training did. 0, or -1 when out
 * of memory. */
static int skipFrozen(ClustercClusterWeightsOptions *co, const ClustercClusterTrainOptions *to) {
  if (!to->num_freeze)
    return 0;
  ClustercSelector *l = realloc(co->layers, sizeof *l * (co->num_layers + to->num_freeze));
  if (!l)
    return -1;
  co->layers = l;
  for (size_t i = 0; i < to->num_freeze; ++i) {
    ClustercSelector sel = to->freeze[i];
    sel.k = 0;
    if (sel.glob && !(sel.glob = strdup(sel.glob)))
      return -1;
    l[co->num_layers++] = sel;
  }
  return 0;
}

/* Writes the trained values into `module`, then runs cluster-weights
 * (unless float) with the same selection and K. */
static ClustercStatus writeBack(Session *s, const TrainArgs *a, MlirModule module,
                                bool clustered, const char *name) {
  char **names;
  float **vals;
  size_t n;
  bool ok = finalValues(s, &names, &vals, &n);
  ClustercClusterTrainOptions to;
  char err[512];
  ok = !parseAll(a, &to, err, sizeof err) && ok; /* checked before: out of memory */
  int rc = ok ? clustercSetTrainedValues(mlirModuleGetOperation(module), to.function, n,
                                         (const char *const *)names,
                                         (const float *const *)vals, err, sizeof err)
              : 0;
  for (size_t i = 0; i < n; ++i) {
    free(names ? names[i] : NULL);
    free(vals ? vals[i] : NULL);
  }
  free(names);
  free(vals);
  if (!ok || rc || !clustered) {
    if (!ok)
      ERR(a, "clusterc train: error: computing the final weights failed\n");
    else if (rc)
      ERR(a, "%s: error: %s\n", name, err);
    clustercClusterTrainOptionsFree(&to);
    return ok && !rc ? CLUSTERC_OK : CLUSTERC_ERROR;
  }
  ClustercClusterWeightsOptions co;
  clustercClusterWeightsOptionsInit(&co);
  /* The same selection and K; the exact 1-D k-means finds the <= K
   * distinct values of c[idx] again. */
  char *text = joinOptions(a->clusterOptions, "init=kmeans1d");
  if (!text || clustercClusterWeightsOptionsParse(&co, text, strlen(text), err, sizeof err)) {
    ERR(a, "clusterc train: error: %s\n", text ? err : "out of memory");
    free(text);
    clustercClusterWeightsOptionsFree(&co);
    clustercClusterTrainOptionsFree(&to);
    return CLUSTERC_USAGE;
  }
  free(text);
  if (skipFrozen(&co, &to)) {
    ERR(a, "clusterc train: error: out of memory\n");
    clustercClusterTrainOptionsFree(&to);
    clustercClusterWeightsOptionsFree(&co);
    return CLUSTERC_ERROR;
  }
  clustercClusterTrainOptionsFree(&to);
  co.report = a->report;
  co.report_user = a->reportUserData;
  ClustercStatus status = CLUSTERC_OK;
  MlirPassManager pm = mlirPassManagerCreate(mlirModuleGetContext(module));
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&co));
  if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    ERR(a, "%s: error: clustering the trained model failed\n", name);
    status = CLUSTERC_ERROR;
  }
  mlirPassManagerDestroy(pm);
  clustercClusterWeightsOptionsFree(&co);
  return status;
}

/* ---- The session ------------------------------------------------------------------------ */

/* Parses both option texts into *to (initialized here; free it): 0, or -1
 * with the reason in err. */
static int parseAll(const TrainArgs *a, ClustercClusterTrainOptions *to, char *err,
                    size_t errSize) {
  clustercClusterTrainOptionsInit(to);
  char *text = joinOptions(a->clusterOptions, a->trainOptions);
  if (!text) {
    snprintf(err, errSize, "out of memory");
    return -1;
  }
  int rc = clustercClusterTrainOptionsParse(to, text, strlen(text), err, errSize);
  free(text);
  return rc;
}

/* The data transform's preconditions: 0, or -1 with the reason in err. */
static int transformCheck(const ClustercDataTransform *t, char *err, size_t size) {
  const char *why = NULL;
  if (t->pad < 0)
    why = "the padding is negative";
  else if (t->inputH < 0 || t->inputW < 0 || (!t->inputH != !t->inputW))
    why = "the input size needs a positive height and width";
  else if (t->resize != CLUSTERC_RESIZE_BILINEAR && t->resize != CLUSTERC_RESIZE_NEAREST)
    why = "unknown resize method";
  else if (t->numNormalize < 0 || t->numNormalize > CLUSTERC_MAX_NORMALIZE)
    why = "the number of normalisation pairs is out of range";
  for (int i = 0; !why && i < t->numNormalize; ++i)
    if (!(t->std[i] > 0) || !isfinite(t->mean[i]) || !isfinite(t->std[i]))
      why = "a normalisation std is not positive, or a value is not finite";
  if (why)
    snprintf(err, size, "data transform: %s", why);
  return why ? -1 : 0;
}

ClustercStatus clustercTrainOptionsCheck(const ClustercTrainOptions *a) {
  ClustercClusterTrainOptions to;
  char err[512];
  ClustercStatus rc = CLUSTERC_OK;
  if (parseAll(a, &to, err, sizeof err)) {
    ERR(a, "clusterc train: error: %s\n", err);
    rc = CLUSTERC_USAGE;
  } else if (transformCheck(&a->transform, err, sizeof err)) {
    ERR(a, "clusterc train: error: %s\n", err);
    rc = CLUSTERC_USAGE;
  }
  clustercClusterTrainOptionsFree(&to);
  return rc;
}

static bool stopRequested(const TrainArgs *a) { return a->stop && *a->stop; }

static void setInLoop(const TrainArgs *a, int v) {
  if (a->inLoop)
    *a->inLoop = v;
}

/* The loop: epochs of optimizer steps, an evaluation after each. */
static ClustercStatus runEpochs(Session *s, const TrainArgs *a, const ClustercDataset *train,
                                const ClustercDataset *test, const char *modeName,
                                EvalResult *er, double *trainStart) {
  uint64_t rng = a->seed * 0x2545f4914f6cdd1dull + 1;
  size_t *perm = calloc(train->n ? train->n : 1, sizeof *perm);
  if (!perm) {
    ERR(a, "clusterc train: error: out of memory\n");
    return CLUSTERC_ERROR;
  }
  for (size_t i = 0; i < train->n; ++i)
    perm[i] = i;
  size_t perStep = (size_t)s->B * (size_t)s->micro;
  size_t stepsPerEpoch = train->n / perStep; /* the last partial batch is dropped */
  if (a->epochs > 0 && stepsPerEpoch == 0) {
    ERR(a, "clusterc train: error: %zu training samples are fewer than one batch (%zu)\n",
        train->n, perStep);
    free(perm);
    return CLUSTERC_ERROR;
  }
  ClustercStatus rc = CLUSTERC_ERROR;
  setInLoop(a, 1);
  size_t globalStep = 0, total = stepsPerEpoch * (size_t)a->epochs;
  *trainStart = now();
  if (a->evalInitial && a->epochs > 0) {
    double t0 = now();
    EvalResult e0 = evaluate(s, test, s->plans[1]);
    char et[96], ej[96];
    if (!e0.ok)
      goto done;
    if (!a->quiet)
      MSG(a, CLUSTERC_MESSAGE_INFO, "epoch 0 (before training): %s\n",
          evalText(&e0, et, sizeof et));
    MSG(a, CLUSTERC_MESSAGE_LOG, "{\"epoch\": 0, %s, \"seconds\": %.3f}\n",
        evalJson(&e0, ej, sizeof ej), now() - t0);
  }
  for (int e = 0; e < a->epochs && !stopRequested(a); ++e) {
    shuffle(&rng, perm, train->n);
    double t0 = now(), lossSum = 0, lastDraw = 0;
    size_t st;
    for (st = 0; st < stepsPerEpoch && !stopRequested(a); ++st, ++globalStep) {
      runSteps(s, train, perm + st * perStep, a->threads);
      if (s->callFailed) {
        ERR(a, "\nclusterc train: error: out of memory\n");
        goto done;
      }
      for (int j = 0; j < s->lanes; ++j)
        lossSum += s->laneLoss[j];
      if (!isfinite(lossSum)) {
        ERR(a, "\nclusterc train: error: the loss is not finite at epoch %d, step "
            "%zu; lower the learning rate\n", e + 1, st + 1);
        goto done;
      }
      if (!update(s, lrAt(a, e, globalStep, total)))
        goto done;
      if (a->progress && (now() - lastDraw > 0.1 || st + 1 == stepsPerEpoch)) {
        progress(a, e + 1, a->epochs, st + 1, stepsPerEpoch,
                 lossSum / (double)((st + 1) * (size_t)s->micro), t0);
        lastDraw = now();
      }
    }
    if (stopRequested(a))
      break;
    double trainSec = now() - t0;
    *er = evaluate(s, test, s->plans[1]);
    char et[96], ej[96];
    if (!er->ok)
      goto done;
    double meanLoss = lossSum / (double)(stepsPerEpoch * (size_t)s->micro);
    if (a->progress)
      MSG(a, CLUSTERC_MESSAGE_PROGRESS, "\n");
    if (!a->quiet)
      MSG(a, CLUSTERC_MESSAGE_INFO, "epoch %d/%d: loss %.4f, %s, "
          "%.1fs (%.2f ms/step)\n", e + 1, a->epochs, meanLoss, evalText(er, et, sizeof et),
          trainSec, 1e3 * trainSec / (double)stepsPerEpoch);
    MSG(a, CLUSTERC_MESSAGE_LOG, "{\"epoch\": %d, \"train_loss\": %.6f, %s, "
        "\"seconds\": %.3f, \"ms_per_step\": %.4f}\n", e + 1,
        meanLoss, evalJson(er, ej, sizeof ej), trainSec, 1e3 * trainSec / (double)stepsPerEpoch);
  }
  (void)modeName;
  rc = stopRequested(a) ? CLUSTERC_INTERRUPTED : CLUSTERC_OK;
done:
  setInLoop(a, 0);
  free(perm);
  return rc;
}

/* The training module of `model`: a copy with the functions cluster-train
 * generates for the options of a (checked); null after a diagnostic, with
 * *mode the training mode. */
static MlirModule trainingModule(MlirModule model, const TrainArgs *a, const char *name,
                                 ClustercTrainMode *mode) {
  ClustercClusterTrainOptions po;
  char err[512];
  if (parseAll(a, &po, err, sizeof err)) { /* checked before: out of memory */
    ERR(a, "clusterc train: error: %s\n", err);
    clustercClusterTrainOptionsFree(&po);
    return (MlirModule){NULL};
  }
  *mode = po.mode;
  MlirContext ctx = mlirModuleGetContext(model);
  MlirModule tm = mlirModuleFromOperation(mlirOperationClone(mlirModuleGetOperation(model)));
  /* f16/bf16 models train on f32 master copies (passes/widen.c); the
   * write-back rounds to each constant's own type. */
  const char *why = NULL;
  int widened = weightsWidenToF32(mlirModuleGetOperation(tm), &why);
  if (widened < 0) {
    ERR(a, "%s: error: cannot widen the model's f16/bf16 values to f32 for training: %s\n",
        name, why);
    clustercClusterTrainOptionsFree(&po);
    mlirModuleDestroy(tm);
    return (MlirModule){NULL};
  }
  if (widened && !a->quiet)
    MSG(a, CLUSTERC_MESSAGE_INFO, "%s: f16/bf16 values trained as f32 master copies; "
        "written back rounded to their own types\n", name);
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterTrainPass(&po));
  ClustercErrorCount diags;
  clustercCountErrorsBegin(&diags, ctx);
  bool ok = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(tm)));
  clustercCountErrorsEnd(&diags);
  mlirPassManagerDestroy(pm);
  clustercClusterTrainOptionsFree(&po);
  if (!ok) {
    /* cluster-train says why in diagnostics; this only when it did not. */
    if (!diags.errors)
      ERR(a, "%s: error: generating the training step failed\n", name);
    mlirModuleDestroy(tm);
    return (MlirModule){NULL};
  }
  return tm;
}

ClustercStatus clustercTrain(MlirModule model, const ClustercTrainOptions *a,
                             const ClustercDataset *train, const ClustercDataset *test,
                             const char *name) {
  ClustercStatus rc = clustercTrainOptionsCheck(a);
  if (rc)
    return rc;
  ClustercTrainMode mode;
  MlirModule tm = trainingModule(model, a, name, &mode);
  if (mlirModuleIsNull(tm))
    return CLUSTERC_ERROR;
  Session s = {0};
  double tc = now();
  rc = CLUSTERC_ERROR;
  if (!sessionInit(&s, a, tm, train, test, name))
    goto done;
  const char *modeName = mode == CLUSTERC_TRAIN_STE ? "ste"
                       : mode == CLUSTERC_TRAIN_CENTROIDS_ONLY ? "centroids-only" : "float";
  int threads = a->threads < s.lanes ? a->threads : s.lanes;
  static const char *const cacheNames[] = {"off", "miss", "hit", "corrupt entry replaced"};
  const ClustercJitStats *js = clustercJitGetStats(s.jit);
  if (!a->quiet)
    MSG(a, CLUSTERC_MESSAGE_INFO, "clusterc train: %s, mode %s, %zu training and %zu test "
        "samples, batch %d (%d x %d), %d thread%s, %d frozen parameter%s, compiled in "
        "%.1fs (JIT cache: %s)\n", name, modeName, train->n, test->n, s.B * s.micro, s.micro,
        s.B, threads, threads == 1 ? "" : "s", s.sig.nFrozen, s.sig.nFrozen == 1 ? "" : "s",
        now() - tc, cacheNames[js->cache]);
  EvalResult er = {0, 0, true};
  char et[96], ej[96];
  double trainStart = now();
  rc = runEpochs(&s, a, train, test, modeName, &er, &trainStart);
  if (rc)
    goto done;
  if (a->epochs == 0 && !(er = evaluate(&s, test, s.plans[1])).ok) {
    rc = CLUSTERC_ERROR;
    goto done;
  }
  if (!a->quiet)
    MSG(a, CLUSTERC_MESSAGE_INFO, "final: %s on %zu samples; %.1fs training\n",
        evalText(&er, et, sizeof et), test->n, now() - trainStart);
  MSG(a, CLUSTERC_MESSAGE_LOG, "{\"final\": true, \"mode\": \"%s\", \"epochs\": %d, "
      "%s, \"test_samples\": %zu, "
      "\"seconds\": %.3f}\n", modeName, a->epochs, evalJson(&er, ej, sizeof ej), test->n,
      now() - trainStart);
  if (a->writeBack)
    rc = writeBack(&s, a, model, mode != CLUSTERC_TRAIN_FLOAT, name);
done:
  sessionFree(&s);
  return rc;
}

/* ---- Sensitivities ------------------------------------------------------------------------ */

void clustercSensitivityFree(ClustercSensitivity *s, size_t count) {
  for (size_t i = 0; s && i < count; ++i) {
    free(s[i].name);
    free((float *)s[i].values);
  }
  free(s);
}

ClustercStatus clustercTrainSensitivity(MlirModule model, const ClustercTrainOptions *o,
                                        const ClustercDataset *data, int batches,
                                        const char *name, ClustercSensitivity **out,
                                        size_t *count) {
  *out = NULL;
  *count = 0;
  /* The float step, one call (the model's batch) per gradient. */
  TrainArgs a = *o;
  a.batch = 0;
  a.optimizer = CLUSTERC_OPTIMIZER_SGD;
  a.clusterOptions = NULL;
  char *text = joinOptions(o->trainOptions, "mode=float");
  if (!text) {
    ERR(o, "clusterc: error: out of memory\n");
    return CLUSTERC_ERROR;
  }
  a.trainOptions = text;
  ClustercStatus rc = clustercTrainOptionsCheck(&a);
  ClustercTrainMode mode;
  MlirModule tm = rc ? (MlirModule){NULL} : trainingModule(model, &a, name, &mode);
  Session s = {0};
  if (rc || mlirModuleIsNull(tm)) {
    free(text);
    return rc ? rc : CLUSTERC_ERROR;
  }
  rc = CLUSTERC_ERROR;
  size_t *perm = NULL;
  ClustercSensitivity *sv = NULL;
  size_t nsv = 0;
  if (!sessionInit(&s, &a, tm, data, data, name))
    goto done;
  size_t B = (size_t)s.B, calls = data->n / B;
  if (batches > 0 && (size_t)batches < calls)
    calls = (size_t)batches;
  if (!calls) {
    ERR(o, "%s: error: %zu samples are fewer than one batch of the model (%zu)\n",
        data->name ? data->name : name, data->n, B);
    goto done;
  }
  if (!(perm = calloc(calls * B, sizeof *perm)) ||
      !(sv = calloc((size_t)s.nTrained + 1, sizeof *sv))) {
    ERR(o, "clusterc: error: out of memory\n");
    goto done;
  }
  for (size_t i = 0; i < calls * B; ++i)
    perm[i] = i;
  double t0 = now();
  /* The squared gradients add up in each parameter's (zeroed) m. */
  for (size_t c = 0; c < calls; ++c) {
    runSteps(&s, data, perm + c * B, 1);
    if (s.callFailed) {
      ERR(o, "clusterc: error: out of memory\n");
      goto done;
    }
    for (int i = 0; i < s.nTrained; ++i) {
      const Trained *t = &s.trained[i];
      if (t->grad < 0)
        continue;
      const float *g = s.sum[t->grad];
      for (size_t e = 0, n = s.step->results[t->grad].count; e < n; ++e)
        t->m[e] += g[e] * g[e];
    }
  }
  for (int i = 0; i < s.nTrained; ++i) {
    Trained *t = &s.trained[i];
    if (t->grad < 0)
      continue;
    size_t n = s.step->args[t->arg].count;
    for (size_t e = 0; e < n; ++e)
      t->m[e] /= (float)calls;
    ClustercSensitivity *d = &sv[nsv++];
    d->name = strdup(s.sig.step.args[t->arg].name);
    d->index = -1;
    d->values = t->m;
    d->count = n;
    t->m = NULL; /* the caller's now */
    if (!d->name) {
      ERR(o, "clusterc: error: out of memory\n");
      goto done;
    }
  }
  if (!o->quiet)
    MSG(o, CLUSTERC_MESSAGE_INFO, "%s: sensitivities of %zu parameters from %zu batches "
        "of %zu samples (%s) in %.1fs\n", name, nsv, calls, B,
        data->name ? data->name : "data", now() - t0);
  *out = sv;
  *count = nsv;
  sv = NULL;
  rc = CLUSTERC_OK;
done:
  (void)mode;
  clustercSensitivityFree(sv, nsv);
  free(perm);
  sessionFree(&s);
  free(text);
  return rc;
}
