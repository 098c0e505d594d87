/*
 * clusterc: the weight-clustering compiler driver.
 *
 *   clusterc [options] input.mlir [-o out.mlir]
 *
 * Reads an MLIR model, runs cluster-weights, writes the clustered module and
 * optionally a per-layer report. Diagnostics are `file:line:col: error: ...`
 * on stderr; exit 1 on bad input, 2 on bad usage. Output is written to a
 * temporary file beside the target and renamed into place, so an error or an
 * interrupt never leaves a partial file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../passes/capi-ext.h"
#include "clusterc/passes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"
#include "codegen.h"
#include "driver.h"
#include "gradcheck.h"
#include "output.h"
#include "report.h"

static const char usage[] =
    "usage: clusterc [options] <input.mlir|-> [-o <output.mlir|->]\n"
    "\n"
    "Clusters the weights of an MLIR model (tosa, linalg, arith, tensor, func):\n"
    "each selected weight constant becomes a centroid table, a packed index\n"
    "buffer and a decode (linalg.generic) that rebuilds it.\n"
    "\n"
    "Clustering (each flag is also a cluster-weights pass option):\n"
    "  --clusters=K            clusters per weight, 1..65536 (default 16)\n"
    "  --init=M                linear|random|density|kmeans++|kmeans1d (default kmeans++)\n"
    "  --seed=N                seed for random and kmeans++ (default 0)\n"
    "  --min-elements=N        leave smaller weights alone (default 128)\n"
    "  --per-channel           one centroid table per output channel\n"
    "  --channel-axis=N        axis for --per-channel (default: inferred, else 0)\n"
    "  --preserve-sparsity     keep zero as an exact centroid\n"
    "  --layers=SEL:K,...      per-layer cluster counts; K may be 'skip'\n"
    "  --only=SEL,...          cluster only the matching weights\n"
    "                          SEL is a glob on the layer name or #N, #N..M\n"
    "                          (weight index in walk order, negative from the end)\n"
    "  --decode=generic|fold   generic: table + indices + decode (default);\n"
    "                          fold: constants holding c[idx] (no saving)\n"
    "  --pass-options='TEXT'   raw cluster-weights options, e.g. 'clusters=8 seed=3'\n"
    "\n"
    "Output:\n"
    "  -o FILE                 output file (default: stdout; '-' is stdout)\n"
    "  --report                print a per-layer report on stderr\n"
    "  --report=json=FILE      write the report as JSON ('-' for stdout)\n"
    "  --emit=KIND             what to write (default mlir; see below)\n"
    "  --help, --version\n";

/* ---- Options ------------------------------------------------------------- */

typedef struct Args {
  const char *input, *output, *reportJson, *emit;
  bool report;
  char *passOptions; /* accumulated cluster-weights option text */
  CgOptions cg;      /* code generation (codegen.h) */
} Args;

static int appendOption(Args *a, const char *text) {
  size_t old = a->passOptions ? strlen(a->passOptions) : 0;
  char *s = realloc(a->passOptions, old + strlen(text) + 2);
  if (!s)
    return -1;
  if (old)
    s[old++] = ' ';
  strcpy(s + old, text);
  a->passOptions = s;
  return 0;
}

/* Flags that are pass options, with whether they take a value. */
static const struct {
  const char *name;
  bool value;
} passFlags[] = {{"clusters", true},      {"init", true},
                 {"seed", true},          {"min-elements", true},
                 {"per-channel", false},  {"channel-axis", true},
                 {"preserve-sparsity", false}, {"layers", true},
                 {"only", true},          {"decode", true}};

static int usageError(const char *fmt, const char *arg) {
  fprintf(stderr, "clusterc: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(run 'clusterc --help' for usage)\n");
  return EXIT_USAGE;
}

/* Returns -1 when parsing went fine, else the exit code. */
static int parseArgs(int argc, char **argv, Args *a) {
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(usage, stdout);
      fputs(cgUsage, stdout);
      return 0;
    }
    if (!strcmp(arg, "--version")) {
      printf("clusterc %s (MLIR 19, libclusterrt ISA %s)\n", CLUSTERC_VERSION,
             clusterrt_isa_name(clusterrt_get_isa()));
      return 0;
    }
    if (!strcmp(arg, "-o")) {
      if (++i == argc)
        return usageError("%s needs a file name", "-o");
      a->output = argv[i];
      continue;
    }
    if (!strncmp(arg, "-o", 2) && arg[2]) {
      a->output = arg + 2;
      continue;
    }
    if (!strcmp(arg, "--report")) {
      a->report = true;
      continue;
    }
    if (!strncmp(arg, "--report=", 9)) {
      if (strncmp(arg + 9, "json=", 5) || !arg[14])
        return usageError("bad '%s' (expected --report or --report=json=FILE)", arg);
      a->reportJson = arg + 14;
      continue;
    }
    char cgErr[256];
    int cg = cgParseArg(&a->cg, arg, cgErr, sizeof cgErr);
    if (cg < 0)
      return usageError("%s", cgErr);
    if (cg > 0)
      continue;
    if (!strncmp(arg, "--emit=", 7)) {
      a->emit = arg + 7;
      if (strcmp(a->emit, "mlir"))
        return usageError("unsupported --emit value '%s' (supported: mlir, "
                          "llvm-dialect, llvm, bc, asm, obj)", a->emit);
      continue;
    }
    if (!strncmp(arg, "--pass-options=", 15)) {
      if (appendOption(a, arg + 15))
        return usageError("%s", "out of memory");
      continue;
    }
    if (!strncmp(arg, "--", 2) && arg[2]) {
      const char *name = arg + 2, *eq = strchr(name, '=');
      size_t nl = eq ? (size_t)(eq - name) : strlen(name);
      size_t f = 0, nf = sizeof passFlags / sizeof passFlags[0];
      while (f < nf && !(strlen(passFlags[f].name) == nl &&
                         !strncmp(passFlags[f].name, name, nl)))
        ++f;
      if (f == nf)
        return usageError("unknown option '%s'", arg);
      if (passFlags[f].value && !eq)
        return usageError("option '%s' needs a value (--name=value)", arg);
      if (appendOption(a, name))
        return usageError("%s", "out of memory");
      continue;
    }
    if (a->input)
      return usageError("more than one input file ('%s')", arg);
    a->input = arg;
  }
  if (a->cg.printPipeline) {
    puts(a->cg.pipeline ? a->cg.pipeline : cgDefaultPipeline());
    return 0;
  }
  if (!a->input)
    return usageError("%s", "no input file");
  char cgErr[512];
  if (cgNeedsTarget(&a->cg) && cgCheckTarget(&a->cg, cgErr, sizeof cgErr))
    return usageError("%s", cgErr);
  return -1;
}

/* ---- Main ---------------------------------------------------------------- */

static void onSignal(int sig) {
  outputAbandonFromSignal();
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "gradcheck"))
    return gradcheckMain(argc - 1, argv + 1);
  Args a = {0};
  a.output = "-";
  cgOptionsInit(&a.cg);
  int rc = parseArgs(argc, argv, &a);
  if (rc >= 0) {
    free(a.passOptions);
    return rc;
  }
  ClustercClusterWeightsOptions opts;
  clustercClusterWeightsOptionsInit(&opts);
  char err[512];
  if (a.passOptions &&
      clustercClusterWeightsOptionsParse(&opts, a.passOptions,
                                         strlen(a.passOptions), err, sizeof err)) {
    fprintf(stderr, "clusterc: error: %s\n", err);
    clustercClusterWeightsOptionsFree(&opts);
    free(a.passOptions);
    return EXIT_USAGE;
  }
  free(a.passOptions);
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);

  const char *displayName = driverDisplayName(a.input);
  DiagState ds = {displayName, 0};
  MlirContext ctx = driverCreateContext(&ds);

  Report report;
  reportInit(&report);
  opts.report = reportAdd;
  opts.report_user = &report;

  rc = EXIT_BAD_INPUT;
  /* Open the output first: a bad path fails before the expensive work. */
  Output out;
  if (outputOpen(&out, a.output)) {
    fprintf(stderr, "%s: error: cannot write output: %s\n", a.output,
            strerror(errno));
    goto done;
  }
  MlirModule module = driverLoadModule(ctx, a.input, &ds);
  if (mlirModuleIsNull(module)) {
    outputAbandon(&out);
    goto done;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  mlirPassManagerEnableVerifier(pm, true);
  mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&opts));
  MlirLogicalResult ok = mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(ok)) {
    if (!ds.errors)
      fprintf(stderr, "%s: error: clustering failed\n", displayName);
    mlirModuleDestroy(module);
    outputAbandon(&out);
    goto done;
  }
  if (a.cg.emit != CG_EMIT_MLIR || a.cg.header) {
    if (cgRun(module, &a.cg, &out, displayName)) {
      mlirModuleDestroy(module);
      outputAbandon(&out);
      goto done;
    }
  } else {
    mlirOperationPrint(mlirModuleGetOperation(module), outputWrite, &out);
    outputWrite(mlirStringRefCreateFromCString("\n"), &out);
  }
  mlirModuleDestroy(module);
  if (outputCommit(&out)) {
    fprintf(stderr, "%s: error: cannot write output: %s\n", a.output,
            strerror(errno));
    goto done;
  }
  rc = 0;
  if (a.report)
    reportPrintTable(&report, &opts, stderr);
  if (a.reportJson && reportWriteJson(&report, &opts, a.reportJson)) {
    fprintf(stderr, "%s: error: cannot write report: %s\n", a.reportJson,
            strerror(errno));
    rc = EXIT_BAD_INPUT;
  }
done:
  reportFree(&report);
  mlirContextDestroy(ctx);
  clustercClusterWeightsOptionsFree(&opts);
  return rc;
}
