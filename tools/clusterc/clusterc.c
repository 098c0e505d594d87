/*
 * clusterc: the weight-clustering compiler driver.
 *
 *   clusterc [options] input.mlir [-o out.mlir]
 *
 * Reads an MLIR model, runs cluster-weights, writes the clustered module and
 * optionally a per-layer report. Diagnostics are `file:line:col: error: ...`
 * on stderr; exit 1 on bad input, 2 on bad usage. The outputs are one
 * transaction (support/output.h): written to temporaries and renamed into
 * place together, so an error or an interrupt never leaves a partial file
 * nor some outputs without the others.
 */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with sigaltstack */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../passes/capi-ext.h"
#include "clusterc/passes.h"
#include "clusterc/train.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"
#include "commands.h"
#include "driver.h"
#include "onnx-io.h"
#include "output.h"
#include "report.h"

/* The checks that need every flag: run before any work (the outputs'
 * paths are checked as they are opened, support/output.h). */
/* Returns -1 when the flags go together, else the exit status. */
static int checkArgs(const ClusterArgs *a) {
  const Command *cmd = &clustercCommands[0];
  if (a->cg.printPipeline) {
    puts(a->cg.o.pipeline ? a->cg.o.pipeline : clustercCodegenDefaultPipeline());
    return 0;
  }
  if (!a->input)
    return flagsUsageError(cmd, "no input file");
  if (a->exportOnnx && !onnxIsInput(a->input))
    return flagsUsageError(cmd, "--export-onnx needs an ONNX input, not '%s'", a->input);
  if (a->exportOnnx && a->train)
    return flagsUsageError(cmd, "--export-onnx writes the clustered model; it does not "
                           "combine with --emit=train-mlir");
  if ((a->sensitivityLabels || a->sensitivity) && a->train)
    return flagsUsageError(cmd, "--sensitivity applies to clustering, not to "
                           "--emit=train-mlir");
  if (a->sensitivityLabels && !a->sensitivity)
    return flagsUsageError(cmd, "--sensitivity-labels goes with --sensitivity");
  const ClustercDataTransform *t = &a->sensitivityTransform;
  if ((t->inputH || t->pad || t->numNormalize || t->resize) && !a->sensitivity)
    return flagsUsageError(cmd, "--input-size, --resize, --pad and --normalize transform "
                           "--sensitivity's samples; they go with --sensitivity");
  if (a->palettes && !a->exportOnnx)
    return flagsUsageError(cmd, "--palettes goes with --export-onnx");
  if (a->train && (a->report || a->reportJson))
    return flagsUsageError(cmd, "--report applies to clustering, not to --emit=train-mlir");
  if (a->train && (a->cg.o.emit != CLUSTERC_EMIT_MLIR || a->cg.header))
    return flagsUsageError(cmd, "--emit=train-mlir writes MLIR; it does not combine "
                           "with code generation options");
  char cgErr[512];
  if (cgCheckFlags(&a->cg, cgErr, sizeof cgErr))
    return flagsUsageError(cmd, "%s", cgErr);
  return -1;
}

/* --sensitivity=DATA: loads the calibration data (a folder of IDX files as
 * MNIST ships them, a samples file with --sensitivity-labels, or a folder
 * of PNGs) and computes every parameter's sensitivity on `module`. 0, or
 * the exit status after a message. */
static int computeSensitivity(const ClusterArgs *a, MlirModule module, const char *name,
                              ClustercSensitivity **sv, size_t *nsv) {
  char p1[4096], p2[4096];
  const char *images = a->sensitivity, *labels = a->sensitivityLabels;
  if (!labels && driverIsDirectory(images)) {
    const char *idx = driverDataPath(images, "train-images-idx3-ubyte", p1, sizeof p1);
    if (!access(idx, R_OK)) {
      images = idx;
      labels = driverDataPath(a->sensitivity, "train-labels-idx1-ubyte", p2, sizeof p2);
    }
  }
  char *list = strdup(images);
  ClustercDataset data = {0};
  int rc = EXIT_BAD_INPUT;
  if (!list) {
    fprintf(stderr, "clusterc: error: out of memory\n");
  } else if (!driverLoadData(&data, list, labels)) {
    ClustercTrainOptions o;
    clustercTrainOptionsInit(&o);
    o.onMessage = driverPrintMessage;
    o.quiet = true;
    o.transform = a->sensitivityTransform;
    ClustercStatus st = clustercTrainSensitivity(module, &o, &data, a->sensitivityBatches,
                                                 name, sv, nsv);
    rc = st == CLUSTERC_OK ? 0 : st == CLUSTERC_USAGE ? EXIT_USAGE : EXIT_BAD_INPUT;
  }
  clustercDatasetFree(&data);
  free(list);
  return rc;
}

/* ---- Main ---------------------------------------------------------------- */

/* Large models: most of clusterc's time on them went to first-touch page
 * faults (the blobs MLIR decodes and prints, libclusterrt's sort buffers),
 * which cost 10-20 us per 4 KiB page on VMs. glibc backs its large
 * allocations with transparent huge pages when GLIBC_TUNABLES says
 * glibc.malloc.hugetlb=1 (a tunable read only at process start; THP in
 * the kernel's default "madvise" mode), so for inputs of 64 MiB or more the
 * driver runs itself again with it, unless GLIBC_TUNABLES is set already.
 * If the exec fails, it carries on as it is. */
static void useHugePages(const char *input, char **argv) {
  struct stat st;
  if (getenv("GLIBC_TUNABLES") || !strcmp(input, "-") || stat(input, &st) ||
      !S_ISREG(st.st_mode) || st.st_size < (64 << 20))
    return;
  if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1))
    return;
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__SANITIZE_ADDRESS__)
#define CLUSTERC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLUSTERC_ASAN 1
#endif
#endif
#ifdef CLUSTERC_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* A crash (MLIR 19's parser has a few, see docs/RELIABILITY.md) must not
 * leave a temporary output file behind either: the handler removes them
 * and the process dies of the signal as it would have. It runs on its own
 * stack, so a stack overflow is covered. Under AddressSanitizer, whose
 * handlers report the crash, ASan's death callback does the removal. */
#ifndef CLUSTERC_ASAN
static void onCrash(int sig) {
  outputAbandonFromSignal();
  signal(sig, SIG_DFL);
  raise(sig);
}
#endif

/* The signal stack of the calling thread (sigaltstack is per thread). */
static void useSignalStack(void) {
#ifndef CLUSTERC_ASAN
  static _Thread_local char altStack[1 << 16];
  stack_t ss = {.ss_sp = altStack, .ss_size = sizeof altStack};
  sigaltstack(&ss, NULL);
#endif
}

static void removeOutputsOnCrash(void) {
#ifdef CLUSTERC_ASAN
  __sanitizer_set_death_callback(outputAbandonFromSignal);
#else
  useSignalStack();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onCrash;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
    sigaction(sigs[i], &sa, NULL);
#endif
}

static int clustercMain(int argc, char **argv) {
  return flagsMain(clustercCommands, clustercNumCommands, argc, argv);
}

typedef struct MainArgs {
  int argc;
  char **argv;
  int rc;
} MainArgs;

static void *mainThread(void *user) {
  MainArgs *m = user;
  useSignalStack();
  m->rc = clustercMain(m->argc, m->argv);
  return NULL;
}

/* MLIR's parser, verifier and printer recurse once per nesting level of
 * the input, so a deeply nested file (100,000 brackets) overflowed the
 * 8 MiB main stack. clusterc runs on a thread with a 1 GiB stack (address
 * space; pages are used only as deep as the input goes), which turns such
 * inputs into a diagnostic or a result. */
int main(int argc, char **argv) {
  removeOutputsOnCrash();
  pthread_attr_t attr;
  pthread_t t;
  MainArgs m = {argc, argv, EXIT_BAD_INPUT};
  if (!pthread_attr_init(&attr) && !pthread_attr_setstacksize(&attr, (size_t)1 << 30) &&
      !pthread_create(&t, &attr, mainThread, &m)) {
    pthread_join(t, NULL);
    return m.rc;
  }
  return clustercMain(argc, argv);
}

/* clusterc [options] model.mlir: the flags are parsed (commands.c). */
int clusterRun(void *args, char **argv) {
  ClusterArgs a = *(ClusterArgs *)args;
  /* With --export-onnx alone, the ONNX file is the output. */
  bool writeMain = a.output || !a.exportOnnx;
  if (!a.output)
    a.output = writeMain ? "-" : "/dev/null";
  int rc = checkArgs(&a);
  if (rc >= 0)
    return rc;
  useHugePages(a.input, argv);
  ClustercClusterTrainOptions topts;
  clustercClusterTrainOptionsInit(&topts);
  ClustercClusterWeightsOptions opts;
  clustercClusterWeightsOptionsInit(&opts);
  char err[512];
  const char *otext = a.passOptions ? a.passOptions : "";
  if (a.train ? clustercClusterTrainOptionsParse(&topts, otext, strlen(otext), err,
                                                  sizeof err)
              : clustercClusterWeightsOptionsParse(&opts, otext, strlen(otext), err,
                                                   sizeof err) ||
                    clustercClusterWeightsOptionsCheck(&opts, err, sizeof err)) {
    fprintf(stderr, "clusterc: error: %s\n", err);
    clustercClusterWeightsOptionsFree(&opts);
    clustercClusterTrainOptionsFree(&topts);
    return EXIT_USAGE;
  }
  outputCatchSignals(NULL);

  const char *displayName = driverDisplayName(a.input);
  DiagState ds = {displayName, 0};
  MlirContext ctx = driverCreateContext(&ds);

  Report report;
  reportInit(&report);
  opts.report = reportAdd;
  opts.report_user = &report;

  /* Open every output first: a bad path, or two outputs (or an output and
   * the input) on one file, fail before the expensive work. */
  const Command *cmd = &clustercCommands[0];
  Output *out, *rout = NULL, *hout = NULL, *xout = NULL;
  ClustercSensitivity *sens = NULL;
  size_t numSens = 0;
  OnnxExport *x = NULL;
  outputAddInput(a.input);
  if ((rc = driverOpenOutput(cmd, &out, a.output, "output")) ||
      (a.reportJson && (rc = driverOpenOutput(cmd, &rout, a.reportJson, "report"))) ||
      (a.cg.header && (rc = driverOpenOutput(cmd, &hout, a.cg.header, "header"))) ||
      (a.exportOnnx && (rc = driverOpenOutput(cmd, &xout, a.exportOnnx, "ONNX export"))))
    goto done;
  rc = EXIT_BAD_INPUT;
  if (a.exportOnnx) {
    if (!(x = onnxExportCreate(reportAdd, &report))) {
      fprintf(stderr, "%s: error: out of memory\n", a.exportOnnx);
      goto done;
    }
    opts.report = onnxExportCollect;
    opts.report_user = x;
  }
  double t0 = now();
  MlirModule module = driverLoadModule(ctx, a.input, &ds);
  if (mlirModuleIsNull(module))
    goto done;
  if (a.sensitivity &&
      (rc = computeSensitivity(&a, module, displayName, &sens, &numSens))) {
    mlirModuleDestroy(module);
    goto done;
  }
  rc = EXIT_BAD_INPUT;
  opts.sensitivity = sens;
  opts.num_sensitivity = numSens;
  double t1 = now();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerEnableVerifier(pm, true);
  mlirPassManagerAddOwnedPass(pm, a.train ? clustercCreateClusterTrainPass(&topts)
                                          : clustercCreateClusterWeightsPass(&opts));
  MlirLogicalResult ok = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  double t2 = now();
  if (mlirLogicalResultIsFailure(ok)) {
    if (!ds.errors)
      fprintf(stderr, "%s: error: %s failed\n", displayName,
              a.train ? "generating the training step" : "clustering");
    mlirModuleDestroy(module);
    goto done;
  }
  if (x && onnxExportWrite(x, a.input, a.exportOnnx, a.palettes, xout)) {
    mlirModuleDestroy(module);
    goto done;
  }
  if (a.cg.o.emit != CLUSTERC_EMIT_MLIR || hout) {
    if (cgRun(module, &a.cg, out, hout, displayName)) {
      mlirModuleDestroy(module);
      goto done;
    }
  } else if (writeMain) {
    driverPrintModule(module, outputWrite, out);
  }
  mlirModuleDestroy(module);
  if (rout)
    reportWriteJson(&report, &opts, rout);
  /* Every output, or none. */
  if ((rc = driverCommitOutputs()))
    goto done;
  size_t weights = 0, own = 0, clustered = 0;
  for (size_t i = 0; i < report.count; ++i) {
    weights += report.rows[i].index >= 0;
    own += !strcmp(report.rows[i].reason, CLUSTERC_ALREADY_CLUSTERED);
    clustered += report.rows[i].clustered != 0;
  }
  if (!a.train && own && !clustered)
    fprintf(stderr, "%s: note: already clustered by clusterc (%zu weight%s); left as "
            "it is\n", displayName, own, own == 1 ? "" : "s");
  else if (!a.train && !weights)
    fprintf(stderr, "%s: warning: no weights to cluster (clusterc clusters the "
            "weight constants of conv, matmul and fully-connected ops: tosa.const, "
            "arith.constant or ml_program.global; weights passed as function "
            "arguments cannot be clustered)\n", displayName);
  if (a.timings)
    fprintf(stderr, "clusterc: timings: parse %.3f s, %s %.3f s, write %.3f s\n",
            t1 - t0, a.train ? "cluster-train" : "cluster-weights", t2 - t1,
            now() - t2);
  if (a.report)
    reportPrintTable(&report, &opts, stderr);
done:
  outputAbandonAll(); /* nothing left open after a commit */
  onnxExportFree(x, rc == 0);
  reportFree(&report);
  mlirContextDestroy(ctx);
  clustercSensitivityFree(sens, numSens);
  clustercClusterWeightsOptionsFree(&opts);
  clustercClusterTrainOptionsFree(&topts);
  return rc;
}
