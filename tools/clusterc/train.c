/*
 * clusterc train: fine-tunes a model on a data set and writes it in the
 * cluster-weights form (centroids, packed indices, decode).
 *
 *   clusterc train model.mlir [options] [-o out.mlir]
 *
 * How. cluster-train generates the model's training step, evaluation and
 * initial values (passes/cluster-train.c); the JIT compiles them (jit.c).
 * Each optimizer step feeds `batch-size` samples as batch-size / B calls of
 * the step function (B = the model's static batch). Call j adds its
 * gradients to lane j mod L (L = min(calls, 8) fixed buffers, each lane's
 * calls in order, one thread per lane at a time); the host sums the lanes
 * in order, so the result does not depend on the thread count and memory
 * does not grow with the number of calls. It then averages and applies SGD,
 * momentum or Adam with libclusterrt's kernels to every
 * trained tensor: the weights W and centroids c of the clustered layers
 * (mode ste), only c (mode centroids-only, the indices fixed at their
 * initial assignment), or every parameter (mode float). After each epoch the
 * test set is evaluated with the model's own forward pass on the current
 * weights (for a clustered layer: c[argmin |W - c|]).
 *
 * Output. The trained values replace the model's constants (a clustered
 * weight becomes c[idx], at most K distinct values), then cluster-weights
 * clusters the same weights with the same K and the exact 1-D k-means,
 * which reproduces c[idx] exactly: the written model computes what was
 * evaluated. mode=float writes the trained float model.
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "data.h"
#include "driver.h"
#include "jit.h"
#include "mlir-c/Pass.h"
#include "output.h"
#include "report.h"
#include "trainsig.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

typedef enum Optim { OPT_SGD, OPT_MOMENTUM, OPT_ADAM } Optim;
typedef enum Sched { SCHED_CONSTANT, SCHED_COSINE, SCHED_STEP } Sched;

typedef struct TrainArgs {
  const char *input, *output, *dataDir, *reportJson, *logPath;
  const char *trainImages, *trainLabels, *testImages, *testLabels;
  char *clusterText; /* cluster-weights options */
  char *trainText;   /* cluster-train-only options (mode, loss, reduce, function) */
  int epochs, batch, threads;
  Optim optim;
  double lr, momentum, weightDecay, beta1, beta2, adamEps;
  Sched sched;
  int stepEvery;
  double gamma;
  uint64_t seed;
  size_t limitTrain, limitTest;
  bool report, quiet, haveClusterOpts, evalInitial;
} TrainArgs;

static const char trainUsage[] =
    "usage: clusterc train model.mlir [options] [-o out.mlir]\n"
    "\n"
    "Fine-tunes a model on a data set with clustering-aware training and\n"
    "writes it clustered (centroids, packed indices, decode). The model is a\n"
    "function [B, ...] -> logits [B, classes] with static shapes (B is its\n"
    "batch); its constants are the initial weights.\n"
    "\n"
    "Data (IDX files as MNIST ships them, or .npy; gzip or plain):\n"
    "  --data=DIR              {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]\n"
    "                          (default " DEFAULT_DATA ")\n"
    "  --train-images=F --train-labels=F --test-images=F --test-labels=F\n"
    "  --limit-train=N, --limit-test=N   use the first N samples only\n"
    "\n"
    "Training:\n"
    "  --mode=ste|centroids-only|float   (default ste; float: no clustering)\n"
    "  --epochs=N              (default 1; 0 evaluates only)\n"
    "  --batch-size=N          a multiple of the model's batch (default: it)\n"
    "  --optimizer=adam|sgd|momentum     (default adam)\n"
    "  --lr=X                  learning rate (default 1e-3)\n"
    "  --momentum=X            for momentum (default 0.9)\n"
    "  --weight-decay=X        (default 0)\n"
    "  --schedule=constant|cosine|step:E:G   step: lr *= G every E epochs\n"
    "  --reduce=sum|avg        centroid gradient aggregation (default sum)\n"
    "  --loss=softmax-ce|mse   mse: against one-hot labels\n"
    "  --seed=N                shuffling and centroid initialisation (default 0)\n"
    "  --threads=N             (default: the number of cores)\n"
    "\n"
    "Clustering (as clusterc's): --clusters=K --init=M --layers=SEL:K,...\n"
    "  --only=SEL,... --min-elements=N --function=NAME\n"
    "\n"
    "Output:\n"
    "  -o FILE                 the fine-tuned model (default: none)\n"
    "  --report, --report=json=FILE   the clustering report of the output\n"
    "  --log=FILE              per-epoch figures as JSON lines\n"
    "  --eval-initial          also evaluate before training (epoch 0: the\n"
    "                          clustered model before fine-tuning)\n"
    "  --quiet                 no progress\n";

/* ---- Small helpers -------------------------------------------------------- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rngState;
static uint64_t rngNext(void) { return driverRandom(&rngState); }

static void shuffle(size_t *perm, size_t n) {
  for (size_t i = n; i > 1; --i) {
    size_t j = (size_t)(rngNext() % i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

static int usageError(const char *fmt, const char *arg) {
  fprintf(stderr, "clusterc train: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(run 'clusterc train --help' for usage)\n");
  return EXIT_USAGE;
}

static bool parseDouble(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return *s && !*end && !errno && isfinite(*out);
}

static bool parseCount(const char *s, long long min, long long *out) {
  char *end;
  errno = 0;
  *out = strtoll(s, &end, 10);
  return *s && !*end && !errno && *out >= min;
}

static bool prefixed(const char *arg, const char *p, const char **v) {
  size_t n = strlen(p);
  if (strncmp(arg, p, n))
    return false;
  *v = arg + n;
  return true;
}

/* Cluster-weights flags (value or not) and cluster-train-only flags. */
static const char *const clusterKeys[] = {"clusters=", "init=", "min-elements=",
                                          "layers=", "only=", NULL};
static const char *const trainKeys[] = {"mode=", "reduce=", "loss=", "function=", NULL};

static int keyIn(const char *opt, const char *const *keys) {
  for (int i = 0; keys[i]; ++i)
    if (!strncmp(opt, keys[i], strlen(keys[i])))
      return 1;
  return 0;
}

static int parseArgs(int argc, char **argv, TrainArgs *a) {
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i], *v;
    long long n;
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(trainUsage, stdout);
      return 0;
    } else if (!strcmp(arg, "-o")) {
      if (++i == argc)
        return usageError("%s needs a file name", "-o");
      a->output = argv[i];
    } else if (prefixed(arg, "--data=", &v)) {
      a->dataDir = v;
    } else if (prefixed(arg, "--train-images=", &v)) {
      a->trainImages = v;
    } else if (prefixed(arg, "--train-labels=", &v)) {
      a->trainLabels = v;
    } else if (prefixed(arg, "--test-images=", &v)) {
      a->testImages = v;
    } else if (prefixed(arg, "--test-labels=", &v)) {
      a->testLabels = v;
    } else if (prefixed(arg, "--limit-train=", &v)) {
      if (!parseCount(v, 1, &n))
        return usageError("bad --limit-train '%s' (a count of 1 or more)", v);
      a->limitTrain = (size_t)n;
    } else if (prefixed(arg, "--limit-test=", &v)) {
      if (!parseCount(v, 1, &n))
        return usageError("bad --limit-test '%s' (a count of 1 or more)", v);
      a->limitTest = (size_t)n;
    } else if (prefixed(arg, "--epochs=", &v)) {
      if (!parseCount(v, 0, &n) || n > 100000)
        return usageError("bad --epochs '%s' (0 to 100000)", v);
      a->epochs = (int)n;
    } else if (prefixed(arg, "--batch-size=", &v)) {
      if (!parseCount(v, 1, &n) || n > 1 << 20)
        return usageError("bad --batch-size '%s'", v);
      a->batch = (int)n;
    } else if (prefixed(arg, "--threads=", &v)) {
      if (!parseCount(v, 1, &n) || n > 256)
        return usageError("bad --threads '%s' (1 to 256)", v);
      a->threads = (int)n;
    } else if (prefixed(arg, "--optimizer=", &v)) {
      if (!strcmp(v, "adam"))
        a->optim = OPT_ADAM;
      else if (!strcmp(v, "sgd"))
        a->optim = OPT_SGD;
      else if (!strcmp(v, "momentum"))
        a->optim = OPT_MOMENTUM;
      else
        return usageError("unknown optimizer '%s' (adam, sgd or momentum)", v);
    } else if (prefixed(arg, "--lr=", &v)) {
      if (!parseDouble(v, &a->lr) || a->lr <= 0)
        return usageError("bad --lr '%s' (a positive number)", v);
    } else if (prefixed(arg, "--momentum=", &v)) {
      if (!parseDouble(v, &a->momentum) || a->momentum < 0 || a->momentum >= 1)
        return usageError("bad --momentum '%s' (0 <= m < 1)", v);
    } else if (prefixed(arg, "--weight-decay=", &v)) {
      if (!parseDouble(v, &a->weightDecay) || a->weightDecay < 0)
        return usageError("bad --weight-decay '%s'", v);
    } else if (prefixed(arg, "--schedule=", &v)) {
      if (!strcmp(v, "constant"))
        a->sched = SCHED_CONSTANT;
      else if (!strcmp(v, "cosine"))
        a->sched = SCHED_COSINE;
      else if (!strncmp(v, "step:", 5)) {
        char *end;
        long e = strtol(v + 5, &end, 10);
        if (e < 1 || *end != ':' || !parseDouble(end + 1, &a->gamma) || a->gamma <= 0)
          return usageError("bad --schedule '%s' (step:EPOCHS:GAMMA)", v);
        a->sched = SCHED_STEP;
        a->stepEvery = (int)e;
      } else
        return usageError("unknown schedule '%s' (constant, cosine, step:E:G)", v);
    } else if (prefixed(arg, "--seed=", &v)) {
      char *end;
      errno = 0;
      a->seed = strtoull(v, &end, 10);
      if (!*v || *end || errno)
        return usageError("bad --seed '%s'", v);
      if (driverAppendOption(&a->clusterText, arg + 2))
        return usageError("%s", "out of memory");
    } else if (!strcmp(arg, "--report")) {
      a->report = true;
    } else if (prefixed(arg, "--report=json=", &v)) {
      a->reportJson = v;
    } else if (prefixed(arg, "--log=", &v)) {
      a->logPath = v;
    } else if (!strcmp(arg, "--quiet")) {
      a->quiet = true;
    } else if (!strcmp(arg, "--eval-initial")) {
      a->evalInitial = true;
    } else if (!strncmp(arg, "--", 2) && keyIn(arg + 2, clusterKeys)) {
      a->haveClusterOpts = true;
      if (driverAppendOption(&a->clusterText, arg + 2))
        return usageError("%s", "out of memory");
    } else if (!strncmp(arg, "--", 2) && keyIn(arg + 2, trainKeys)) {
      if (driverAppendOption(&a->trainText, arg + 2))
        return usageError("%s", "out of memory");
    } else if (prefixed(arg, "--pass-options=", &v)) {
      a->haveClusterOpts = true;
      if (driverAppendOption(&a->clusterText, v))
        return usageError("%s", "out of memory");
    } else if (!strncmp(arg, "--", 2) || (arg[0] == '-' && arg[1])) {
      return usageError("unknown option '%s'", arg);
    } else if (a->input) {
      return usageError("more than one model ('%s')", arg);
    } else {
      a->input = arg;
    }
  }
  if (!a->input)
    return usageError("%s", "no model");
  return -1;
}

/* ---- The compiled model ----------------------------------------------------- */

typedef struct Trained {
  int arg;       /* step argument */
  int grad;      /* step result with its gradient, or -1 (fixed) */
  float *m, *v;  /* optimizer state */
} Trained;

typedef struct Session {
  const TrainArgs *a;
  Jit *jit;
  TrainSig sig;
  const JitFunc *step, *eval, *init;
  int inputArg, labelsArg, lossRes;
  int B, classes, micro, lanes;
  bool mse;
  void **state;      /* the trainable values, by step argument (NULL elsewhere) */
  Trained *trained;
  int nTrained;
  /* per lane: step arguments (inputs, labels; the rest point into state),
   * the results of the last call, and the gradient sums */
  void ***args, ***res, ***acc;
  const Dataset *data; /* the batch being run */
  const size_t *perm;
  uint64_t adamStep;
} Session;

static void sessionFree(Session *s) {
  if (!s->step) {
    jitDestroy(s->jit);
    tsFree(&s->sig);
    return;
  }
  if (s->args)
    for (int j = 0; j < s->lanes; ++j) {
      if (s->args[j]) {
        free(s->args[j][s->inputArg]);
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
  if (s->state)
    for (int i = 0; i < s->step->nArgs; ++i)
      free(s->state[i]);
  free(s->state);
  for (int i = 0; i < s->nTrained; ++i) {
    free(s->trained[i].m);
    free(s->trained[i].v);
  }
  free(s->trained);
  jitDestroy(s->jit);
  tsFree(&s->sig);
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) {
    fprintf(stderr, "clusterc train: error: out of memory\n");
    exit(EXIT_BAD_INPUT);
  }
  return p;
}

static TsKind gradKindOf(TsKind k) {
  return k == TS_WEIGHT ? TS_GRAD_WEIGHT : k == TS_CENTROIDS ? TS_GRAD_CENTROIDS
       : k == TS_PARAM ? TS_GRAD_PARAM : TS_UNKNOWN;
}

static char *fmtShape(const JitTensor *t, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < t->rank && at + 24 < size; ++i)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "x" : "", (long long)t->shape[i]);
  return buf;
}

/* Compiles the training functions of `module` (consumed) and sets up the
 * state; false after a diagnostic. */
static bool sessionInit(Session *s, const TrainArgs *a, MlirModule module,
                        const Dataset *train, const char *name) {
  memset(s, 0, sizeof *s);
  s->a = a;
  bool ok = tsRead(module, &s->sig);
  ok = ok && (s->jit = jitCreate(module, NULL, 2, name)) != NULL;
  mlirModuleDestroy(module);
  ok = ok && (s->step = jitFunc(s->jit, s->sig.step.name)) != NULL;
  ok = ok && (s->eval = jitFunc(s->jit, s->sig.eval.name)) != NULL;
  ok = ok && (s->init = jitFunc(s->jit, s->sig.init.name)) != NULL;
  if (!ok)
    return false;
  const TsFunc *st = &s->sig.step;
  int inputs = 0;
  for (int i = 0; i < st->nArgs; ++i)
    inputs += st->args[i].kind == TS_INPUT;
  s->inputArg = tsFind(st->args, st->nArgs, TS_INPUT, NULL);
  s->labelsArg = tsFind(st->args, st->nArgs, TS_LABELS, NULL);
  s->lossRes = tsFind(st->results, st->nResults, TS_LOSS, NULL);
  if (inputs != 1 || s->labelsArg < 0 || s->lossRes < 0) {
    fprintf(stderr, "%s: error: clusterc train needs a model with one input; it has %d\n",
            name, inputs);
    return false;
  }
  const JitTensor *in = &s->step->args[s->inputArg], *logits = &s->eval->results[0];
  char b1[64], b2[64];
  s->B = (int)in->shape[0];
  s->classes = logits->rank == 2 ? (int)logits->shape[1] : 0;
  s->mse = s->step->args[s->labelsArg].elem == JIT_F32;
  if (in->rank < 1 || s->B < 1 || in->count / (size_t)s->B != train->sampleSize) {
    fprintf(stderr, "%s: error: the model's input is %s (%zu values per sample); the "
            "data set's samples have %zu values (%s)\n", name, fmtShape(in, b1, sizeof b1),
            s->B ? in->count / (size_t)s->B : 0, train->sampleSize,
            fmtShape(&(JitTensor){.rank = train->rank, .shape = {train->shape[0],
                     train->shape[1], train->shape[2], train->shape[3]}}, b2, sizeof b2));
    return false;
  }
  if (logits->rank != 2 || logits->shape[0] != s->B) {
    fprintf(stderr, "%s: error: the model's output is %s; clusterc train needs logits "
            "[%d, classes]\n", name, fmtShape(logits, b1, sizeof b1), s->B);
    return false;
  }
  int batch = a->batch ? a->batch : s->B;
  if (batch % s->B) {
    fprintf(stderr, "clusterc train: error: --batch-size=%d is not a multiple of the "
            "model's batch %d (each step runs the model batch-size/%d times)\n", batch,
            s->B, s->B);
    return false;
  }
  s->micro = batch / s->B;

  /* Trainable state from the init function: step arguments after labels. */
  s->state = xcalloc((size_t)s->step->nArgs, sizeof *s->state);
  void **initRes = xcalloc((size_t)s->init->nResults, sizeof *initRes);
  for (int r = 0; r < s->init->nResults; ++r) {
    int arg = s->labelsArg + 1 + r;
    if (arg >= s->step->nArgs || s->init->results[r].bytes != s->step->args[arg].bytes) {
      fprintf(stderr, "clusterc train: error: internal: init and step disagree\n");
      free(initRes);
      return false;
    }
    initRes[r] = s->state[arg] = xcalloc(1, s->step->args[arg].bytes);
  }
  jitCall(s->init, NULL, initRes);
  free(initRes);
  s->trained = xcalloc((size_t)st->nArgs, sizeof *s->trained);
  for (int i = 0; i < st->nArgs; ++i) {
    TsKind gk = gradKindOf(st->args[i].kind);
    if (gk == TS_UNKNOWN)
      continue;
    Trained *t = &s->trained[s->nTrained++];
    t->arg = i;
    t->grad = tsFind(st->results, st->nResults, gk, st->args[i].name);
    size_t n = s->step->args[i].count;
    t->m = xcalloc(n, sizeof(float));
    if (a->optim == OPT_ADAM)
      t->v = xcalloc(n, sizeof(float));
  }
  s->lanes = s->micro < 8 ? s->micro : 8;
  s->args = xcalloc((size_t)s->lanes, sizeof *s->args);
  s->res = xcalloc((size_t)s->lanes, sizeof *s->res);
  s->acc = xcalloc((size_t)s->lanes, sizeof *s->acc);
  for (int j = 0; j < s->lanes; ++j) {
    s->args[j] = xcalloc((size_t)st->nArgs, sizeof **s->args);
    for (int i = 0; i < st->nArgs; ++i)
      s->args[j][i] = (i == s->inputArg || i == s->labelsArg)
                          ? xcalloc(1, s->step->args[i].bytes) : s->state[i];
    s->res[j] = xcalloc((size_t)s->step->nResults, sizeof **s->res);
    s->acc[j] = xcalloc((size_t)s->step->nResults, sizeof **s->acc);
    for (int r = 0; r < s->step->nResults; ++r) {
      s->res[j][r] = xcalloc(1, s->step->results[r].bytes);
      s->acc[j][r] = xcalloc(1, s->step->results[r].bytes);
    }
  }
  return true;
}

/* Fills micro-batch inputs and labels from samples perm[0..B). */
static void fillBatch(const Session *s, const Dataset *d, const size_t *perm, size_t count,
                      void *x, void *y) {
  size_t ss = d->sampleSize;
  float *xf = x;
  for (int b = 0; b < s->B; ++b) {
    if ((size_t)b < count)
      dataSample(d, perm[b], xf + (size_t)b * ss);
    else
      memset(xf + (size_t)b * ss, 0, ss * sizeof(float));
  }
  if (!y)
    return;
  if (s->mse) {
    float *t = y;
    memset(t, 0, sizeof(float) * (size_t)s->B * (size_t)s->classes);
    for (int b = 0; b < s->B && (size_t)b < count; ++b)
      t[(size_t)b * (size_t)s->classes + (size_t)d->y[perm[b]]] = 1.0f;
  } else {
    int32_t *l = y;
    for (int b = 0; b < s->B; ++b)
      l[b] = (size_t)b < count ? d->y[perm[b]] : 0;
  }
}

/* ---- Threads ------------------------------------------------------------------ */

typedef struct Worker {
  Session *s;
  int first, stride;
} Worker;

/* Runs the calls of lanes first, first + stride, ...: each call fills its
 * samples, runs the step and adds the gradients and the loss (every f32
 * result but the indices) to its lane's sums. */
static void *runLanes(void *p) {
  Worker *w = p;
  Session *s = w->s;
  for (int lane = w->first; lane < s->lanes; lane += w->stride)
    for (int j = lane; j < s->micro; j += s->lanes) {
      fillBatch(s, s->data, s->perm + (size_t)j * (size_t)s->B, (size_t)s->B,
                s->args[lane][s->inputArg], s->args[lane][s->labelsArg]);
      jitCall(s->step, s->args[lane], s->res[lane]);
      for (int r = 0; r < s->step->nResults; ++r) {
        const JitTensor *t = &s->step->results[r];
        if (t->elem != JIT_F32)
          continue;
        float *a = s->acc[lane][r];
        const float *v = s->res[lane][r];
        if (j == lane)
          memcpy(a, v, t->bytes);
        else
          for (size_t e = 0; e < t->count; ++e)
            a[e] += v[e];
      }
    }
  return NULL;
}

/* Runs the step on the micro-batches of samples perm[0 .. micro*B) of d,
 * on up to `threads` threads; the sums end in s->acc. */
static void runSteps(Session *s, const Dataset *d, const size_t *perm, int threads) {
  s->data = d;
  s->perm = perm;
  if (threads > s->lanes)
    threads = s->lanes;
  Worker w[256];
  pthread_t tid[256];
  for (int t = 0; t < threads; ++t)
    w[t] = (Worker){s, t, threads};
  int started = 1;
  for (int t = 1; t < threads; ++t) {
    if (pthread_create(&tid[t], NULL, runLanes, &w[t]))
      break;
    started++;
  }
  if (started < threads) /* no more threads: the main thread does the rest */
    for (int t = started; t < threads; ++t)
      runLanes(&w[t]);
  runLanes(&w[0]);
  for (int t = 1; t < started; ++t)
    pthread_join(tid[t], NULL);
}

/* ---- Optimizer -------------------------------------------------------------------- */

static double lrAt(const TrainArgs *a, int epoch, size_t step, size_t totalSteps) {
  switch (a->sched) {
  case SCHED_COSINE:
    return a->lr * 0.5 * (1 + cos(3.14159265358979323846 * (double)step / (double)(totalSteps ? totalSteps : 1)));
  case SCHED_STEP:
    return a->lr * pow(a->gamma, epoch / a->stepEvery);
  default:
    return a->lr;
  }
}

/* Averages the lanes' gradient sums (in lane order) into acc[0] and
 * updates every trained tensor. */
static bool update(Session *s, double lr) {
  const TrainArgs *a = s->a;
  s->adamStep++;
  for (int i = 0; i < s->nTrained; ++i) {
    Trained *t = &s->trained[i];
    if (t->grad < 0)
      continue;
    float *g = s->acc[0][t->grad];
    size_t n = s->step->results[t->grad].count;
    for (int j = 1; j < s->lanes; ++j) {
      const float *gj = s->acc[j][t->grad];
      for (size_t e = 0; e < n; ++e)
        g[e] += gj[e];
    }
    if (s->micro > 1) {
      float inv = 1.0f / (float)s->micro;
      for (size_t e = 0; e < n; ++e)
        g[e] *= inv;
    }
    float *w = s->state[t->arg];
    clusterrt_status st;
    if (a->optim == OPT_ADAM) {
      if (a->weightDecay > 0)
        for (size_t e = 0; e < n; ++e)
          g[e] += (float)a->weightDecay * w[e];
      st = clusterrt_adam_f32(w, g, t->m, t->v, n, (float)lr, (float)a->beta1,
                              (float)a->beta2, (float)a->adamEps, s->adamStep);
    } else {
      st = clusterrt_sgd_f32(w, g, a->optim == OPT_MOMENTUM ? t->m : NULL, n, (float)lr,
                             a->optim == OPT_MOMENTUM ? (float)a->momentum : 0.0f,
                             (float)a->weightDecay);
    }
    if (st != CLUSTERRT_OK) {
      fprintf(stderr, "clusterc train: error: optimizer step failed: %s\n",
              clusterrt_status_string(st));
      return false;
    }
  }
  return true;
}

/* ---- Evaluation --------------------------------------------------------------------- */

typedef struct EvalResult {
  double loss, accuracy;
} EvalResult;

static EvalResult evaluate(Session *s, const Dataset *d, size_t limit) {
  const TsFunc *ev = &s->sig.eval;
  void **args = xcalloc((size_t)s->eval->nArgs, sizeof *args);
  /* eval's arguments are the step's without the labels */
  for (int i = 0, j = 0; i < s->step->nArgs; ++i) {
    if (i == s->labelsArg)
      continue;
    args[j++] = i == s->inputArg ? NULL : s->state[i];
  }
  int inEval = tsFind(ev->args, ev->nArgs, TS_INPUT, NULL);
  args[inEval] = xcalloc(1, s->eval->args[inEval].bytes);
  float *logits = xcalloc(1, s->eval->results[0].bytes);
  size_t n = limit && limit < d->n ? limit : d->n, correct = 0;
  size_t *perm = xcalloc(n, sizeof *perm);
  for (size_t i = 0; i < n; ++i)
    perm[i] = i;
  double loss = 0;
  for (size_t at = 0; at < n; at += (size_t)s->B) {
    size_t count = n - at < (size_t)s->B ? n - at : (size_t)s->B;
    fillBatch(s, d, perm + at, count, args[inEval], NULL);
    jitCall(s->eval, args, (void *const *)&logits);
    for (size_t b = 0; b < count; ++b) {
      const float *z = logits + b * (size_t)s->classes;
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
  free(perm);
  free(args[inEval]);
  free(args);
  free(logits);
  return (EvalResult){n ? loss / (double)n : 0, n ? (double)correct / (double)n : 0};
}

/* ---- Progress ------------------------------------------------------------------------ */

static void progress(bool tty, int epoch, int epochs, size_t done, size_t total,
                     double loss, double t0) {
  if (!tty)
    return;
  int width = 30, filled = total ? (int)((double)done / (double)total * width) : width;
  char bar[64];
  for (int i = 0; i < width; ++i)
    bar[i] = i < filled ? '#' : '.';
  bar[width] = 0;
  double el = now() - t0;
  double eta = done ? el / (double)done * (double)(total - done) : 0;
  fprintf(stderr, "\repoch %d/%d [%s] %3.0f%% loss %.4f  %.1fs (eta %.0fs)  ", epoch,
          epochs, bar, total ? 100.0 * (double)done / (double)total : 100.0, loss, el, eta);
  fflush(stderr);
}

/* ---- Output --------------------------------------------------------------------------- */

/* The values each trained constant ends with: c[idx] for clustered
 * weights (idx = argmin for ste, the fixed indices for centroids-only), the
 * trained values for the rest. */
static bool finalValues(Session *s, char ***namesOut, float ***valsOut, size_t *nOut) {
  const TsFunc *st = &s->sig.step;
  char **names = xcalloc((size_t)st->nArgs, sizeof *names);
  float **vals = xcalloc((size_t)st->nArgs, sizeof *vals);
  size_t n = 0;
  for (int i = 0; i < st->nArgs; ++i) {
    TsKind k = st->args[i].kind;
    if (k != TS_WEIGHT && k != TS_INDICES && k != TS_PARAM)
      continue;
    const char *name = st->args[i].name;
    size_t count = s->step->args[i].count;
    float *v = xcalloc(count, sizeof *v);
    if (k == TS_PARAM) {
      memcpy(v, s->state[i], count * sizeof *v);
    } else {
      int ci = tsFind(st->args, st->nArgs, TS_CENTROIDS, name);
      size_t kc = s->step->args[ci].count;
      clusterrt_index_format fmt = kc > 256 ? CLUSTERRT_IDX_U16 : CLUSTERRT_IDX_U8;
      void *idx = s->state[i];
      void *tmp = NULL;
      if (k == TS_WEIGHT) {
        tmp = xcalloc(count, fmt == CLUSTERRT_IDX_U16 ? 2 : 1);
        if (clusterrt_assign_f32(s->state[i], count, s->state[ci], kc, fmt, tmp))
          return false;
        idx = tmp;
      }
      clusterrt_status r = clusterrt_decode_f32(idx, fmt, count, s->state[ci], kc, v);
      free(tmp);
      if (r != CLUSTERRT_OK)
        return false;
    }
    names[n] = strdup(name);
    vals[n++] = v;
  }
  *namesOut = names;
  *valsOut = vals;
  *nOut = n;
  return true;
}

/* Writes the fine-tuned model: trained values into `module`, then
 * cluster-weights (unless float). */
static int writeModel(Session *s, const TrainArgs *a, MlirModule module, bool clustered,
                      const char *name, Output *out) {
  char **names;
  float **vals;
  size_t n;
  if (!finalValues(s, &names, &vals, &n)) {
    fprintf(stderr, "clusterc train: error: computing the final weights failed\n");
    return EXIT_BAD_INPUT;
  }
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  char err[512];
  const char *tt = a->trainText ? a->trainText : "";
  clustercClusterTrainOptionsParse(&to, tt, strlen(tt), err, sizeof err);
  int rc = clustercSetTrainedValues(mlirModuleGetOperation(module), to.function, n,
                                    (const char *const *)names, (const float *const *)vals,
                                    err, sizeof err);
  clustercClusterTrainOptionsFree(&to);
  for (size_t i = 0; i < n; ++i) {
    free(names[i]);
    free(vals[i]);
  }
  free(names);
  free(vals);
  if (rc) {
    fprintf(stderr, "%s: error: %s\n", name, err);
    return EXIT_BAD_INPUT;
  }
  Report report;
  reportInit(&report);
  ClustercClusterWeightsOptions co;
  clustercClusterWeightsOptionsInit(&co);
  /* The same selection and K; the exact 1-D k-means finds the <= K
   * distinct values of c[idx] again. */
  char *text = a->clusterText ? strdup(a->clusterText) : NULL;
  if (clustered && (driverAppendOption(&text, "init=kmeans1d") ||
                    clustercClusterWeightsOptionsParse(&co, text, strlen(text), err, sizeof err))) {
    fprintf(stderr, "clusterc train: error: %s\n", err);
    free(text);
    clustercClusterWeightsOptionsFree(&co);
    return EXIT_USAGE;
  }
  free(text);
  co.report = reportAdd;
  co.report_user = &report;
  rc = 0;
  if (clustered) {
    MlirPassManager pm = mlirPassManagerCreate(mlirModuleGetContext(module));
    mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&co));
    if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
      fprintf(stderr, "%s: error: clustering the trained model failed\n", name);
      rc = EXIT_BAD_INPUT;
    }
    mlirPassManagerDestroy(pm);
  }
  if (!rc && out) {
    driverPrintModule(module, outputWrite, out);
    if (outputCommit(out)) {
      fprintf(stderr, "%s: error: cannot write output: %s\n", a->output, strerror(errno));
      rc = EXIT_BAD_INPUT;
    }
  }
  if (!rc && clustered && a->report)
    reportPrintTable(&report, &co, stderr);
  if (!rc && clustered && a->reportJson && reportWriteJson(&report, &co, a->reportJson)) {
    fprintf(stderr, "%s: error: cannot write report: %s\n", a->reportJson, strerror(errno));
    rc = EXIT_BAD_INPUT;
  }
  reportFree(&report);
  clustercClusterWeightsOptionsFree(&co);
  return rc;
}

/* ---- Main ------------------------------------------------------------------------------- */

static const char *dataPath(const char *dir, const char *base, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s.gz", dir, base);
  if (access(buf, R_OK) == 0)
    return buf;
  snprintf(buf, size, "%s/%s", dir, base);
  return buf;
}

static void logLine(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logLine(FILE *log, const char *fmt, ...) {
  if (!log)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log, fmt, ap);
  va_end(ap);
  fflush(log);
}

/* SIGINT/SIGTERM: during the training loop, finish the step and stop
 * cleanly (no output); at any other time remove the output's temporary
 * and die of the signal, as clusterc does. */
static volatile sig_atomic_t interrupted, inLoop;
static void onSignal(int sig) {
  if (inLoop) {
    interrupted = 1;
    return;
  }
  outputAbandonFromSignal();
  signal(sig, SIG_DFL);
  raise(sig);
}

int trainMain(int argc, char **argv) {
  TrainArgs a = {.dataDir = DEFAULT_DATA, .epochs = 1, .optim = OPT_ADAM, .lr = 1e-3,
                 .momentum = 0.9, .beta1 = 0.9, .beta2 = 0.999, .adamEps = 1e-8};
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  a.threads = cores > 0 ? (int)cores : 1;
  int rc = parseArgs(argc, argv, &a);
  if (rc >= 0) {
    free(a.clusterText);
    free(a.trainText);
    return rc;
  }
  /* Options: the cluster-train pass gets both texts; check them now. */
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  char *allText = NULL;
  if ((a.clusterText && driverAppendOption(&allText, a.clusterText)) ||
      (a.trainText && driverAppendOption(&allText, a.trainText))) {
    fprintf(stderr, "clusterc train: error: out of memory\n");
    return EXIT_BAD_INPUT;
  }
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  char err[512];
  const char *text = allText ? allText : "";
  if (clustercClusterTrainOptionsParse(&to, text, strlen(text), err, sizeof err)) {
    fprintf(stderr, "clusterc train: error: %s\n", err);
    clustercClusterTrainOptionsFree(&to);
    free(allText);
    free(a.clusterText);
    free(a.trainText);
    return EXIT_USAGE;
  }
  bool clustered = to.mode != CLUSTERC_TRAIN_FLOAT;
  bool perChannel = to.cluster.per_channel, sparsity = to.cluster.preserve_sparsity;
  clustercClusterTrainOptionsFree(&to);
  rc = EXIT_BAD_INPUT;
  if (perChannel || sparsity) {
    fprintf(stderr, "clusterc train: error: %s is not supported in training\n",
            perChannel ? "--per-channel" : "--preserve-sparsity");
    free(allText);
    free(a.clusterText);
    free(a.trainText);
    return EXIT_USAGE;
  }

  const char *name = driverDisplayName(a.input);
  char p1[4096], p2[4096], p3[4096], p4[4096];
  const char *tri = a.trainImages ? a.trainImages : dataPath(a.dataDir, "train-images-idx3-ubyte", p1, sizeof p1);
  const char *trl = a.trainLabels ? a.trainLabels : dataPath(a.dataDir, "train-labels-idx1-ubyte", p2, sizeof p2);
  const char *tei = a.testImages ? a.testImages : dataPath(a.dataDir, "t10k-images-idx3-ubyte", p3, sizeof p3);
  const char *tel = a.testLabels ? a.testLabels : dataPath(a.dataDir, "t10k-labels-idx1-ubyte", p4, sizeof p4);
  Dataset train = {0}, test = {0};
  DiagState ds = {name, 0};
  MlirContext ctx = driverCreateContext(&ds);
  MlirModule model = {NULL};
  Session s = {0};
  FILE *log = NULL;
  Output out;
  bool outOpen = false;
  /* Open the output first: a bad path fails before hours of training. */
  if (a.output) {
    if (outputOpen(&out, a.output)) {
      fprintf(stderr, "%s: error: cannot write output: %s\n", a.output, strerror(errno));
      goto done;
    }
    outOpen = true;
  }
  if (a.logPath && !(log = fopen(a.logPath, "w"))) {
    fprintf(stderr, "%s: error: cannot write log: %s\n", a.logPath, strerror(errno));
    goto done;
  }
  if (dataLoad(&train, tri, trl) || dataLoad(&test, tei, tel))
    goto done;
  if (test.sampleSize != train.sampleSize) {
    fprintf(stderr, "%s: error: test samples have %zu values, training samples %zu\n",
            tei, test.sampleSize, train.sampleSize);
    goto done;
  }
  if (a.limitTrain && a.limitTrain < train.n)
    train.n = a.limitTrain;
  if (a.limitTest && a.limitTest < test.n)
    test.n = a.limitTest;

  model = driverLoadModule(ctx, a.input, &ds);
  if (mlirModuleIsNull(model))
    goto done;
  /* The training module: a copy with the generated functions. */
  MlirModule tm = mlirModuleFromOperation(mlirOperationClone(mlirModuleGetOperation(model)));
  ClustercClusterTrainOptions po;
  clustercClusterTrainOptionsInit(&po);
  clustercClusterTrainOptionsParse(&po, text, strlen(text), err, sizeof err);
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterTrainPass(&po));
  bool ok = mlirLogicalResultIsSuccess(mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(tm)));
  mlirPassManagerDestroy(pm);
  clustercClusterTrainOptionsFree(&po);
  if (!ok) {
    if (!ds.errors)
      fprintf(stderr, "%s: error: generating the training step failed\n", name);
    mlirModuleDestroy(tm);
    goto done;
  }
  double tc = now();
  if (!sessionInit(&s, &a, tm, &train, name))
    goto done;
  for (size_t i = 0; i < train.n; ++i)
    if (train.y[i] >= s.classes) {
      fprintf(stderr, "%s: error: label %d of sample %zu is not a class of the model "
              "(%d classes)\n", trl, train.y[i], i, s.classes);
      goto done;
    }
  for (size_t i = 0; i < test.n; ++i)
    if (test.y[i] >= s.classes) {
      fprintf(stderr, "%s: error: label %d of sample %zu is not a class of the model "
              "(%d classes)\n", tel, test.y[i], i, s.classes);
      goto done;
    }
  bool tty = !a.quiet && isatty(STDERR_FILENO);
  const char *modeName = to.mode == CLUSTERC_TRAIN_STE ? "ste"
                       : to.mode == CLUSTERC_TRAIN_CENTROIDS_ONLY ? "centroids-only" : "float";
  if (!a.quiet)
    fprintf(stderr, "clusterc train: %s, mode %s, %zu training and %zu test samples, "
            "batch %d (%d x %d), %d thread%s, compiled in %.1fs\n", name, modeName, train.n,
            test.n, s.B * s.micro, s.micro, s.B, a.threads < s.lanes ? a.threads : s.lanes,
            (a.threads < s.lanes ? a.threads : s.lanes) == 1 ? "" : "s", now() - tc);
  rngState = a.seed * 0x2545f4914f6cdd1dull + 1;
  size_t *perm = xcalloc(train.n, sizeof *perm);
  for (size_t i = 0; i < train.n; ++i)
    perm[i] = i;
  size_t perStep = (size_t)s.B * (size_t)s.micro;
  size_t stepsPerEpoch = train.n / perStep; /* the last partial batch is dropped */
  if (a.epochs > 0 && stepsPerEpoch == 0) {
    fprintf(stderr, "clusterc train: error: %zu training samples are fewer than one "
            "batch (%zu)\n", train.n, perStep);
    free(perm);
    goto done;
  }
  inLoop = 1;
  size_t globalStep = 0, total = stepsPerEpoch * (size_t)a.epochs;
  EvalResult er = {0, 0};
  double trainStart = now();
  if (a.evalInitial && a.epochs > 0) {
    double t0 = now();
    EvalResult e0 = evaluate(&s, &test, 0);
    if (!a.quiet)
      fprintf(stderr, "epoch 0 (before training): test accuracy %.2f%% (loss %.4f)\n",
              100 * e0.accuracy, e0.loss);
    logLine(log, "{\"epoch\": 0, \"test_accuracy\": %.6f, \"test_loss\": %.6f, "
            "\"seconds\": %.3f}\n", e0.accuracy, e0.loss, now() - t0);
  }
  for (int e = 0; e < a.epochs && !interrupted; ++e) {
    shuffle(perm, train.n);
    double t0 = now(), lossSum = 0, lastDraw = 0;
    size_t st;
    for (st = 0; st < stepsPerEpoch && !interrupted; ++st, ++globalStep) {
      runSteps(&s, &train, perm + st * perStep, a.threads);
      for (int j = 0; j < s.lanes; ++j)
        lossSum += *(const float *)s.acc[j][s.lossRes];
      if (!isfinite(lossSum)) {
        fprintf(stderr, "\nclusterc train: error: the loss is not finite at epoch %d, step "
                "%zu; lower the learning rate\n", e + 1, st + 1);
        free(perm);
        goto done;
      }
      if (!update(&s, lrAt(&a, e, globalStep, total))) {
        free(perm);
        goto done;
      }
      if (tty && (now() - lastDraw > 0.1 || st + 1 == stepsPerEpoch)) {
        progress(tty, e + 1, a.epochs, st + 1, stepsPerEpoch,
                 lossSum / (double)((st + 1) * (size_t)s.micro), t0);
        lastDraw = now();
      }
    }
    if (interrupted)
      break;
    double trainSec = now() - t0;
    er = evaluate(&s, &test, 0);
    double meanLoss = lossSum / (double)(stepsPerEpoch * (size_t)s.micro);
    if (tty)
      fputc('\n', stderr);
    if (!a.quiet)
      fprintf(stderr, "epoch %d/%d: loss %.4f, test accuracy %.2f%% (loss %.4f), %.1fs "
              "(%.2f ms/step)\n", e + 1, a.epochs, meanLoss, 100 * er.accuracy, er.loss,
              trainSec, 1e3 * trainSec / (double)stepsPerEpoch);
    logLine(log, "{\"epoch\": %d, \"train_loss\": %.6f, \"test_accuracy\": %.6f, "
            "\"test_loss\": %.6f, \"seconds\": %.3f, \"ms_per_step\": %.4f}\n", e + 1,
            meanLoss, er.accuracy, er.loss, trainSec, 1e3 * trainSec / (double)stepsPerEpoch);
  }
  free(perm);
  inLoop = 0;
  if (interrupted) {
    fprintf(stderr, "\nclusterc train: interrupted; no output written\n");
    rc = 130;
    goto done;
  }
  if (a.epochs == 0)
    er = evaluate(&s, &test, 0);
  if (!a.quiet)
    fprintf(stderr, "final: test accuracy %.2f%% (loss %.4f) on %zu samples; %.1fs training\n",
            100 * er.accuracy, er.loss, test.n, now() - trainStart);
  logLine(log, "{\"final\": true, \"mode\": \"%s\", \"epochs\": %d, \"test_accuracy\": %.6f, "
          "\"test_loss\": %.6f, \"test_samples\": %zu, \"seconds\": %.3f}\n", modeName,
          a.epochs, er.accuracy, er.loss, test.n, now() - trainStart);
  if (a.output || a.report || a.reportJson) {
    rc = writeModel(&s, &a, model, clustered, name, outOpen ? &out : NULL);
    outOpen = false; /* committed, or abandoned below on failure */
    if (rc && a.output)
      outputAbandon(&out);
  } else {
    rc = 0;
  }
done:
  inLoop = 0;
  if (outOpen)
    outputAbandon(&out);
  sessionFree(&s);
  if (!mlirModuleIsNull(model))
    mlirModuleDestroy(model);
  mlirContextDestroy(ctx);
  dataFree(&train);
  dataFree(&test);
  if (log)
    fclose(log);
  free(allText);
  free(a.clusterText);
  free(a.trainText);
  return rc;
}
