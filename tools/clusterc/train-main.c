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
#include <malloc.h>
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

/* Records each path of a comma-separated list as an input outputs must not
 * replace. */
static void addInputs(const char *list) {
  char path[4096];
  while (list && *list) {
    size_t n = strcspn(list, ",");
    if (n < sizeof path) {
      memcpy(path, list, n);
      path[n] = 0;
      outputAddInput(path);
    }
    list += n + (list[n] == ',');
  }
}

/* SIGINT/SIGTERM: during the training loop, finish the step and stop
 * cleanly (no output); at any other time (and for the other signals)
 * remove the temporaries and die of the signal, as clusterc does. */
static volatile sig_atomic_t interrupted, inLoop;
static bool onSignal(int sig) {
  if (!inLoop || (sig != SIGINT && sig != SIGTERM))
    return false;
  interrupted = 1;
  return true;
}

/* A training loop frees and reallocates the same large buffers every
 * step. glibc serves blocks above its mmap threshold with fresh mmaps and
 * trims the heap top, so every step page-faults its activations and
 * gradients back in (half of a CNN step on this project's VMs). Keep freed
 * memory in the process instead, as PyTorch's caching allocator does: no
 * mmap'd blocks, no trimming, a 256 MiB top pad (the settings
 * bench/train-step.py gives torch too). Environment settings (MALLOC_*_) win:
 * they are read at the first allocation, before this runs, so only
 * override values the user did not set. */
static void keepFreedMemory(void) {
  if (!getenv("MALLOC_MMAP_MAX_"))
    mallopt(M_MMAP_MAX, 0);
  if (!getenv("MALLOC_TRIM_THRESHOLD_"))
    mallopt(M_TRIM_THRESHOLD, INT32_MAX);
  if (!getenv("MALLOC_TOP_PAD_"))
    mallopt(M_TOP_PAD, 256 << 20);
}

/* clusterc train: the flags are parsed (commands.c). */
int trainRun(void *args, char **argv) {
  (void)argv;
  keepFreedMemory();
  TrainArgs a = *(TrainArgs *)args;
  if (!a.input)
    return flagsUsageError(&clustercCommands[1], "no model");
  int rc;
  a.t.clusterOptions = a.clusterText;
  a.t.trainOptions = a.trainText;
  a.t.onMessage = driverPrintMessage;
  a.t.stop = &interrupted;
  a.t.inLoop = &inLoop;
  outputCatchSignals(onSignal);
  /* Options: the cluster-train pass gets both texts; check them now. */
  ClustercStatus st = clustercTrainOptionsCheck(&a.t);
  if (st)
    return st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;

  const char *name = driverDisplayName(a.input);
  char p1[4096], p2[4096], p3[4096], p4[4096];
  /* The image lists are split in place (the data sets borrow the names). */
  char *tri = strdup(a.trainImages ? a.trainImages : driverDataPath(a.dataDir, "train-images-idx3-ubyte", p1, sizeof p1));
  char *tei = strdup(a.testImages ? a.testImages : driverDataPath(a.dataDir, "t10k-images-idx3-ubyte", p3, sizeof p3));
  /* A folder of PNGs has its labels in its class folders. */
  const char *trl = a.trainLabels ? a.trainLabels
                  : tri && driverIsDirectory(tri) ? NULL
                  : driverDataPath(a.dataDir, "train-labels-idx1-ubyte", p2, sizeof p2);
  const char *tel = a.testLabels ? a.testLabels
                  : tei && driverIsDirectory(tei) ? NULL
                  : driverDataPath(a.dataDir, "t10k-labels-idx1-ubyte", p4, sizeof p4);
  ClustercDataset train = {0}, test = {0};
  DiagState ds = {name, 0};
  MlirContext ctx = driverCreateContext(&ds);
  MlirModule model = {NULL};
  Output *out = NULL, *log = NULL, *rout = NULL;
  Report report;
  reportInit(&report);
  /* Open the outputs first: a bad path, or an output on an input or on
   * another output, fails before hours of training. */
  const Command *cmd = &clustercCommands[1];
  const char *inputs[] = {a.input, tri, trl, tei, tel};
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; ++i)
    addInputs(inputs[i]);
  if ((a.output && (rc = driverOpenOutput(cmd, &out, a.output, "output"))) ||
      (a.logPath && (rc = driverOpenOutput(cmd, &log, a.logPath, "log"))) ||
      (a.reportJson && (rc = driverOpenOutput(cmd, &rout, a.reportJson, "report"))))
    goto done;
  rc = EXIT_BAD_INPUT;
  a.t.userData = log ? outputFile(log) : NULL; /* LOG messages go there */
  if (!tri || !tei) {
    fprintf(stderr, "clusterc train: error: out of memory\n");
    goto done;
  }
  if (driverLoadData(&train, tri, trl) || driverLoadData(&test, tei, tel))
    goto done;
  for (const ClustercDataset *d = &train, *e = &test; d && e; d = d->next, e = e->next)
    if (e->sampleSize != d->sampleSize) {
      fprintf(stderr, "%s: error: test samples have %zu values, training samples %zu\n",
              e->name ? e->name : tei, e->sampleSize, d->sampleSize);
      goto done;
    }
  /* Every input's chain shares the first's sample count; the samples left
   * out are not kept. */
  if (a.limitTrain)
    clustercDatasetTruncate(&train, a.limitTrain);
  if (a.limitTest)
    clustercDatasetTruncate(&test, a.limitTest);

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
  if (out)
    driverPrintModule(model, outputWrite, out);
  ClustercClusterTrainOptions to;
  clustercClusterTrainOptionsInit(&to);
  char err[512];
  const char *tt = a.trainText ? a.trainText : "";
  clustercClusterTrainOptionsParse(&to, tt, strlen(tt), err, sizeof err);
  bool clustered = to.mode != CLUSTERC_TRAIN_FLOAT;
  clustercClusterTrainOptionsFree(&to);
  ClustercClusterWeightsOptions co;
  clustercClusterWeightsOptionsInit(&co);
  if (clustered && (a.report || rout)) {
    /* The report's header shows the options cluster-weights ran with. */
    char *text = a.clusterText ? strdup(a.clusterText) : NULL;
    if (driverAppendOption(&text, "init=kmeans1d") == 0)
      clustercClusterWeightsOptionsParse(&co, text, strlen(text), err, sizeof err);
    free(text);
  }
  if (rout)
    reportWriteJson(&report, &co, rout);
  /* The model, the log and the report: all of them, or none. */
  rc = driverCommitOutputs();
  if (!rc && clustered && a.report)
    reportPrintTable(&report, &co, stderr);
  clustercClusterWeightsOptionsFree(&co);
done:
  outputAbandonAll();
  reportFree(&report);
  if (!mlirModuleIsNull(model))
    mlirModuleDestroy(model);
  mlirContextDestroy(ctx);
  clustercDatasetFree(&train);
  clustercDatasetFree(&test);
  free(tri);
  free(tei);
  return rc;
}
