/*
 * clusterc train: fine-tunes a model on a data set and writes it in the
 * cluster-weights form (centroids, packed indices, decode).
 *
 *   clusterc train model.mlir [options] [-o out.mlir]
 *
 * A thin shell around libclusterc-train (clusterc/train.h, train/): with
 * the flags parsed (commands.c), this file opens the files (output first: a bad path fails
 * before hours of training), loads the data and the model, runs
 * clustercTrain and writes its result and report.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "clusterc/train.h"
#include "driver.h"
#include "output.h"
#include "report.h"

static const char *dataPath(const char *dir, const char *base, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s.gz", dir, base);
  if (access(buf, R_OK) == 0)
    return buf;
  snprintf(buf, size, "%s/%s", dir, base);
  return buf;
}

static bool isDirectory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Loads a data set: `images` is one path per model input, comma-separated
 * (split in place: the data set borrows the names). 0, or -1 after a
 * message. */
static int loadData(ClustercDataset *d, char *images, const char *labels) {
  char *rest = strchr(images, ',');
  if (rest)
    *rest++ = 0;
  if (clustercDatasetLoad(d, images, labels, driverPrintMessage, NULL))
    return -1;
  while (rest) {
    char *path = rest;
    if ((rest = strchr(rest, ',')))
      *rest++ = 0;
    if (clustercDatasetAddInput(d, path, driverPrintMessage, NULL))
      return -1;
  }
  return 0;
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

/* clusterc train: the flags are parsed (commands.c). */
int trainRun(void *args, char **argv) {
  (void)argv;
  TrainArgs a = *(TrainArgs *)args;
  if (!a.input)
    return flagsUsageError(&clustercCommands[1], "no model");
  int rc;
  a.t.clusterOptions = a.clusterText;
  a.t.trainOptions = a.trainText;
  a.t.onMessage = driverPrintMessage;
  a.t.stop = &interrupted;
  a.t.inLoop = &inLoop;
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  /* Options: the cluster-train pass gets both texts; check them now. */
  ClustercStatus st = clustercTrainOptionsCheck(&a.t);
  if (st)
    return st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;

  const char *name = driverDisplayName(a.input);
  char p1[4096], p2[4096], p3[4096], p4[4096];
  /* The image lists are split in place (the data sets borrow the names). */
  char *tri = strdup(a.trainImages ? a.trainImages : dataPath(a.dataDir, "train-images-idx3-ubyte", p1, sizeof p1));
  char *tei = strdup(a.testImages ? a.testImages : dataPath(a.dataDir, "t10k-images-idx3-ubyte", p3, sizeof p3));
  /* A folder of PNGs has its labels in its class folders. */
  const char *trl = a.trainLabels ? a.trainLabels
                  : tri && isDirectory(tri) ? NULL
                  : dataPath(a.dataDir, "train-labels-idx1-ubyte", p2, sizeof p2);
  const char *tel = a.testLabels ? a.testLabels
                  : tei && isDirectory(tei) ? NULL
                  : dataPath(a.dataDir, "t10k-labels-idx1-ubyte", p4, sizeof p4);
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
  if (!tri || !tei) {
    fprintf(stderr, "clusterc train: error: out of memory\n");
    goto done;
  }
  if (loadData(&train, tri, trl) || loadData(&test, tei, tel))
    goto done;
  /* Every input's chain shares the first's sample count. */
  for (ClustercDataset *d = &train; d; d = d->next)
    if (a.limitTrain && a.limitTrain < d->n)
      d->n = a.limitTrain;
  for (ClustercDataset *d = &test; d; d = d->next)
    if (a.limitTest && a.limitTest < d->n)
      d->n = a.limitTest;

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
  free(tri);
  free(tei);
  if (log)
    fclose(log);
  return rc;
}
