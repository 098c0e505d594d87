/*
 * clusterc train: fine-tunes a model on a data set and writes it in the
 * cluster-weights form (centroids, packed indices, decode).
 *
 *   clusterc train model.mlir [options] [-o out.mlir]
 *
 * A thin shell around libclusterc-train (clusterc/train.h, train/): this
 * file parses the flags, opens the files (output first: a bad path fails
 * before hours of training), loads the data and the model, runs
 * clustercTrain and writes its result and report.
 */
#define _POSIX_C_SOURCE 200809L
#include "train-main.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "clusterc/train.h"
#include "driver.h"
#include "output.h"
#include "report.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

typedef struct TrainArgs {
  ClustercTrainOptions t;
  const char *input, *output, *dataDir, *reportJson, *logPath;
  const char *trainImages, *trainLabels, *testImages, *testLabels;
  char *clusterText; /* cluster-weights options */
  char *trainText;   /* cluster-train-only options (mode, loss, reduce, function) */
  size_t limitTrain, limitTest;
  bool report, haveClusterOpts;
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
      a->t.epochs = (int)n;
    } else if (prefixed(arg, "--batch-size=", &v)) {
      if (!parseCount(v, 1, &n) || n > 1 << 20)
        return usageError("bad --batch-size '%s'", v);
      a->t.batch = (int)n;
    } else if (prefixed(arg, "--threads=", &v)) {
      if (!parseCount(v, 1, &n) || n > 256)
        return usageError("bad --threads '%s' (1 to 256)", v);
      a->t.threads = (int)n;
    } else if (prefixed(arg, "--optimizer=", &v)) {
      if (!strcmp(v, "adam"))
        a->t.optimizer = CLUSTERC_OPTIMIZER_ADAM;
      else if (!strcmp(v, "sgd"))
        a->t.optimizer = CLUSTERC_OPTIMIZER_SGD;
      else if (!strcmp(v, "momentum"))
        a->t.optimizer = CLUSTERC_OPTIMIZER_MOMENTUM;
      else
        return usageError("unknown optimizer '%s' (adam, sgd or momentum)", v);
    } else if (prefixed(arg, "--lr=", &v)) {
      if (!parseDouble(v, &a->t.lr) || a->t.lr <= 0)
        return usageError("bad --lr '%s' (a positive number)", v);
    } else if (prefixed(arg, "--momentum=", &v)) {
      if (!parseDouble(v, &a->t.momentum) || a->t.momentum < 0 || a->t.momentum >= 1)
        return usageError("bad --momentum '%s' (0 <= m < 1)", v);
    } else if (prefixed(arg, "--weight-decay=", &v)) {
      if (!parseDouble(v, &a->t.weightDecay) || a->t.weightDecay < 0)
        return usageError("bad --weight-decay '%s'", v);
    } else if (prefixed(arg, "--schedule=", &v)) {
      if (!strcmp(v, "constant"))
        a->t.schedule = CLUSTERC_SCHEDULE_CONSTANT;
      else if (!strcmp(v, "cosine"))
        a->t.schedule = CLUSTERC_SCHEDULE_COSINE;
      else if (!strncmp(v, "step:", 5)) {
        char *end;
        long e = strtol(v + 5, &end, 10);
        if (e < 1 || *end != ':' || !parseDouble(end + 1, &a->t.gamma) || a->t.gamma <= 0)
          return usageError("bad --schedule '%s' (step:EPOCHS:GAMMA)", v);
        a->t.schedule = CLUSTERC_SCHEDULE_STEP;
        a->t.stepEvery = (int)e;
      } else
        return usageError("unknown schedule '%s' (constant, cosine, step:E:G)", v);
    } else if (prefixed(arg, "--seed=", &v)) {
      char *end;
      errno = 0;
      a->t.seed = strtoull(v, &end, 10);
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
      a->t.quiet = true;
    } else if (!strcmp(arg, "--eval-initial")) {
      a->t.evalInitial = true;
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


static const char *dataPath(const char *dir, const char *base, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s.gz", dir, base);
  if (access(buf, R_OK) == 0)
    return buf;
  snprintf(buf, size, "%s/%s", dir, base);
  return buf;
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

static void freeArgs(TrainArgs *a) {
  free(a->clusterText);
  free(a->trainText);
}

int trainMain(int argc, char **argv) {
  TrainArgs a = {.dataDir = DEFAULT_DATA};
  clustercTrainOptionsInit(&a.t);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  a.t.threads = cores > 0 ? (int)cores : 1;
  int rc = parseArgs(argc, argv, &a);
  if (rc >= 0) {
    freeArgs(&a);
    return rc;
  }
  a.t.clusterOptions = a.clusterText;
  a.t.trainOptions = a.trainText;
  a.t.onMessage = driverPrintMessage;
  a.t.stop = &interrupted;
  a.t.inLoop = &inLoop;
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  /* Options: the cluster-train pass gets both texts; check them now. */
  ClustercStatus st = clustercTrainOptionsCheck(&a.t);
  if (st) {
    freeArgs(&a);
    return st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;
  }

  const char *name = driverDisplayName(a.input);
  char p1[4096], p2[4096], p3[4096], p4[4096];
  const char *tri = a.trainImages ? a.trainImages : dataPath(a.dataDir, "train-images-idx3-ubyte", p1, sizeof p1);
  const char *trl = a.trainLabels ? a.trainLabels : dataPath(a.dataDir, "train-labels-idx1-ubyte", p2, sizeof p2);
  const char *tei = a.testImages ? a.testImages : dataPath(a.dataDir, "t10k-images-idx3-ubyte", p3, sizeof p3);
  const char *tel = a.testLabels ? a.testLabels : dataPath(a.dataDir, "t10k-labels-idx1-ubyte", p4, sizeof p4);
  ClustercDataset train = {0}, test = {0};
  DiagState ds = {name, 0};
  MlirContext ctx = driverCreateContext(&ds);
  MlirModule model = {NULL};
  FILE *log = NULL;
  Output out;
  bool outOpen = false;
  Report report;
  reportInit(&report);
  rc = EXIT_BAD_INPUT;
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
  a.t.userData = log; /* LOG messages go there */
  if (clustercDatasetLoad(&train, tri, trl, driverPrintMessage, NULL) ||
      clustercDatasetLoad(&test, tei, tel, driverPrintMessage, NULL))
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
  a.t.progress = !a.t.quiet && isatty(STDERR_FILENO);
  a.t.writeBack = a.output || a.report || a.reportJson;
  a.t.report = reportAdd;
  a.t.reportUserData = &report;
  st = clustercTrain(model, &a.t, &train, &test, name);
  if (st == CLUSTERC_INTERRUPTED) {
    fprintf(stderr, "\nclusterc train: interrupted; no output written\n");
    rc = 130;
    goto done;
  }
  if (st) {
    rc = st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;
    goto done;
  }
  rc = 0;
  if (outOpen) {
    driverPrintModule(model, outputWrite, &out);
    outOpen = false;
    if (outputCommit(&out)) {
      fprintf(stderr, "%s: error: cannot write output: %s\n", a.output, strerror(errno));
      rc = EXIT_BAD_INPUT;
    }
  }
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  char err[512];
  const char *tt = a.trainText ? a.trainText : "";
  clustercClusterTrainOptionsParse(&to, tt, strlen(tt), err, sizeof err);
  bool clustered = to.mode != CLUSTERC_TRAIN_FLOAT;
  clustercClusterTrainOptionsFree(&to);
  if (!rc && clustered && (a.report || a.reportJson)) {
    /* The report's header shows the options cluster-weights ran with. */
    ClustercClusterWeightsOptions co;
    clustercClusterWeightsOptionsInit(&co);
    char *text = a.clusterText ? strdup(a.clusterText) : NULL;
    if (driverAppendOption(&text, "init=kmeans1d") == 0)
      clustercClusterWeightsOptionsParse(&co, text, strlen(text), err, sizeof err);
    free(text);
    if (a.report)
      reportPrintTable(&report, &co, stderr);
    if (a.reportJson && reportWriteJson(&report, &co, a.reportJson)) {
      fprintf(stderr, "%s: error: cannot write report: %s\n", a.reportJson, strerror(errno));
      rc = EXIT_BAD_INPUT;
    }
    clustercClusterWeightsOptionsFree(&co);
  }
done:
  if (outOpen)
    outputAbandon(&out);
  reportFree(&report);
  if (!mlirModuleIsNull(model))
    mlirModuleDestroy(model);
  mlirContextDestroy(ctx);
  clustercDatasetFree(&train);
  clustercDatasetFree(&test);
  if (log)
    fclose(log);
  freeArgs(&a);
  return rc;
}
