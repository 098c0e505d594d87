/*
 * The driver's flag table: every clusterc command, its flag sets and each
 * flag as one row (the syntax and policy are flags.c's, see flags.h).
 * The rows of kind FLAG_PASSES are the options of cluster-weights and
 * cluster-train themselves (passes/options.c: name, metavar, help), so
 * every pass option is a flag, forwarded to the pass's option text and
 * checked by the pass's own parser.
 *
 * Adding a flag: a row here, and the field (commands.h) or handler that
 * uses its value.
 */
#define _POSIX_C_SOURCE 200809L
#include "commands.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "clusterc/runtime.h"
#include "driver.h"

#define CA(f) FLAG_FIELD(ClusterArgs, f)
#define TA(f) FLAG_FIELD(TrainArgs, f)
#define GA(f) FLAG_FIELD(GradcheckArgs, f)

/* ---- Handlers of values that are more than a field ----------------------------- */

/* --pass-options='TEXT': appended to the option text at r's field. */
static int onPassText(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  if (driverAppendOption(flagField(cx, r), v.text))
    return flagsUsageError(cx->cmd, "out of memory"), -1;
  return 0;
}

/* --report (a table on stderr) and --report=json=FILE. */
static int onReport(FlagCtx *cx, bool *table, const char **json, const char *v) {
  if (!v) {
    *table = true;
    return 0;
  }
  if (strncmp(v, "json=", 5) || !v[5])
    return flagsUsageError(cx->cmd, "bad '--report=%s' (expected --report or "
                           "--report=json=FILE)", v), -1;
  *json = v + 5;
  return 0;
}

static int onClusterReport(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  ClusterArgs *a = cx->args;
  return onReport(cx, &a->report, &a->reportJson, v.text);
}

static int onTrainReport(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  TrainArgs *a = cx->args;
  return onReport(cx, &a->report, &a->reportJson, v.text);
}

/* In ClustercEmit's order, then the driver's own. */
static const char *const kEmitNames[] = {"mlir", "llvm-dialect", "llvm", "bc", "asm",
                                         "obj",  "train-mlir",   NULL};

/* In ClustercContractions' order. */
static const char *const kContractionNames[] = {"loops", "gemm", NULL};

static int onEmit(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  ClusterArgs *a = cx->args;
  if (!strcmp(v.text, "train-mlir"))
    a->train = true;
  else
    a->cg.o.emit = (ClustercEmit)v.i;
  return 0;
}

static int onOptLevel(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  const char *l = v.text ? v.text : "";
  if (l[0] < '0' || l[0] > '3' || l[1])
    return flagsUsageError(cx->cmd, "bad optimisation level '-O%s' (expected "
                           "-O0..-O3)", l), -1;
  ((ClusterArgs *)cx->args)->cg.o.optLevel = l[0] - '0';
  return 0;
}

static int onVersion(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)cx, (void)r, (void)v;
  printf("clusterc %s (MLIR 19, libclusterrt ISA %s)\n", CLUSTERC_VERSION,
         clusterrt_isa_name(clusterrt_get_isa()));
  return FLAG_EXIT;
}

/* train --schedule=constant|cosine|step:E:G */
static int onSchedule(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  ClustercTrainOptions *t = &((TrainArgs *)cx->args)->t;
  if (!strcmp(v.text, "constant")) {
    t->schedule = CLUSTERC_SCHEDULE_CONSTANT;
  } else if (!strcmp(v.text, "cosine")) {
    t->schedule = CLUSTERC_SCHEDULE_COSINE;
  } else if (!strncmp(v.text, "step:", 5)) {
    char *end, *gend;
    long e = strtol(v.text + 5, &end, 10);
    double g = *end == ':' ? strtod(end + 1, &gend) : 0;
    if (e < 1 || *end != ':' || !end[1] || *gend || !(g > 0) || g > 1e300)
      return flagsUsageError(cx->cmd, "bad --schedule '%s' (step:EPOCHS:GAMMA)",
                             v.text), -1;
    t->schedule = CLUSTERC_SCHEDULE_STEP;
    t->stepEvery = (int)e;
    t->gamma = g;
  } else {
    return flagsUsageError(cx->cmd, "unknown --schedule '%s' (expected constant, "
                           "cosine or step:E:G)", v.text), -1;
  }
  return 0;
}

/* The ClustercDataTransform a data-transform row's offset names (train's
 * samples, or clusterc's --sensitivity samples). */
static ClustercDataTransform *transformOf(FlagCtx *cx, const FlagRow *r) {
  return (ClustercDataTransform *)(void *)((char *)cx->args + r->offset);
}

/* --input-size=HxW */
static int onInputSize(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  ClustercDataTransform *t = transformOf(cx, r);
  char *x, *end;
  long h = strtol(v.text, &x, 10), w = (*x == 'x' || *x == 'X') ? strtol(x + 1, &end, 10) : 0;
  if (h < 1 || h > 65536 || (*x != 'x' && *x != 'X') || w < 1 || w > 65536 || *end)
    return flagsUsageError(cx->cmd, "bad --input-size '%s' (HxW, e.g. 32x32)", v.text), -1;
  t->inputH = (int)h;
  t->inputW = (int)w;
  return 0;
}

/* --normalize=MEAN,STD[,MEAN,STD...]: one pair, or one per channel. */
static int onNormalize(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  ClustercDataTransform *t = transformOf(cx, r);
  double vals[2 * CLUSTERC_MAX_NORMALIZE];
  int n = 0;
  const char *p = v.text;
  for (;;) {
    char *end;
    double d = strtod(p, &end);
    if (end == p || n == 2 * CLUSTERC_MAX_NORMALIZE || !isfinite(d))
      break;
    vals[n++] = d;
    if (*end != ',') {
      p = end;
      break;
    }
    p = end + 1;
  }
  bool ok = !*p && n >= 2 && n % 2 == 0;
  for (int i = 1; ok && i < n; i += 2)
    ok = vals[i] > 0;
  if (!ok)
    return flagsUsageError(cx->cmd, "bad --normalize '%s' (MEAN,STD pairs, one for every "
                           "channel or one per channel, up to %d; STD > 0)", v.text,
                           CLUSTERC_MAX_NORMALIZE), -1;
  t->numNormalize = n / 2;
  for (int i = 0; i < n / 2; ++i) {
    t->mean[i] = (float)vals[2 * i];
    t->std[i] = (float)vals[2 * i + 1];
  }
  return 0;
}

static const char *const kResizeNames[] = {"bilinear", "nearest", NULL};

/* The data-transform flags of a command whose arguments hold a
 * ClustercDataTransform at field F (A: its CA/TA macro). */
#define TRANSFORM_ROWS(A, F)                                                         \
  {.name = "input-size", .kind = FLAG_STRING, .metavar = "HxW", .handler = onInputSize, \
   A(F), .help = "resize the samples (after --pad) to HxW, the model's input size"},  \
  {.name = "resize", .kind = FLAG_CHOICE, .choices = kResizeNames,                   \
   .metavar = "bilinear|nearest", A(F.resize),                                       \
   .help = "(default bilinear: half-pixel centres, as PyTorch's align_corners=False)"}, \
  {.name = "pad", .kind = FLAG_INT, .lo = 0, .hi = 4096, .metavar = "N", A(F.pad),    \
   .help = "add N zero pixels on every side of the samples"},                        \
  {.name = "normalize", .kind = FLAG_STRING, .metavar = "MEAN,STD[,...]",           \
   .handler = onNormalize, A(F),                                                     \
   .help = "(x - MEAN) / STD on [0, 1] pixels: one pair, or one per channel"}

/* train --seed=N: shuffling, and the clustering's seed too. */
static int onTrainSeed(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r;
  TrainArgs *a = cx->args;
  a->t.seed = (uint64_t)v.i;
  char item[32];
  snprintf(item, sizeof item, "seed=%lld", (long long)v.i);
  if (driverAppendOption(&a->clusterText, item))
    return flagsUsageError(cx->cmd, "out of memory"), -1;
  return 0;
}

/* ---- clusterc ------------------------------------------------------------------ */

#define HELP_ROWS                                                                  \
  {.name = "help", .shortName = 'h', .kind = FLAG_NONE, .handler = flagsHelp,       \
   .help = "print this help and exit"},                                            \
  {.name = "list-options", .kind = FLAG_NONE, .handler = flagsList,                 \
   .help = "print the option names, one per line (for shell completion)"}

static const FlagRow kClusterClustering[] = {
    {.kind = FLAG_PASSES, .table = &optClusterWeights, CA(passOptions)},
    {.name = "pass-options", .kind = FLAG_STRING, .metavar = "'TEXT'", CA(passOptions),
     .handler = onPassText, .emptyOk = true,
     .help = "raw cluster-weights options, e.g. 'clusters=8 seed=3'"},
};

static const FlagRow kClusterSensitivity[] = {
    {.name = "sensitivity", .kind = FLAG_PATH, .metavar = "DATA", CA(sensitivity),
     .help = "weight each element in the exact k-means by its sensitivity, the "
             "mean squared gradient dL/dW over calibration batches of DATA "
             "(computed with the float training step on the JIT): a folder "
             "with train-{images-idx3,labels-idx1}-ubyte[.gz], an IDX or .npy "
             "file of samples (with --sensitivity-labels), or a folder of "
             "PNGs DIR/<class>/*.png"},
    {.name = "sensitivity-labels", .kind = FLAG_PATH, .metavar = "F",
     CA(sensitivityLabels), .help = "the labels of --sensitivity's samples file"},
    {.name = "sensitivity-batches", .kind = FLAG_INT, .lo = 1, .hi = INT32_MAX,
     .metavar = "N", CA(sensitivityBatches),
     .help = "calibration batches of the model's batch size (default 16)"},
    TRANSFORM_ROWS(CA, sensitivityTransform),
};

static const FlagRow kClusterOutput[] = {
    {.shortName = 'o', .kind = FLAG_PATH, .metavar = "FILE", CA(output),
     .help = "output file (default: stdout; '-' is stdout)"},
    {.name = "report", .kind = FLAG_OPTIONAL, .synopsis = "--report[=json=FILE]",
     .handler = onClusterReport,
     .help = "print a per-layer report on stderr; with json=FILE, write it as "
             "JSON to FILE ('-' for stdout)"},
    {.name = "emit", .kind = FLAG_CHOICE, .choices = kEmitNames, .metavar = "KIND",
     .handler = onEmit,
     .help = "what to write: mlir (default), llvm-dialect, llvm (IR text), bc, "
             "asm or obj (see Code generation), or train-mlir (see Training graph)"},
    {.name = "timings", .kind = FLAG_NONE, CA(timings),
     .help = "seconds spent parsing, in the pass and writing (on stderr)"},
    {.name = "export-onnx", .kind = FLAG_PATH, .metavar = "FILE.onnx", CA(exportOnnx),
     .help = "with an ONNX input: also write the model as ONNX with each "
             "clustered initializer replaced by its decoded values c[idx] (no "
             "MLIR is written then unless -o is given)"},
    {.name = "palettes", .kind = FLAG_PATH, .metavar = "DIR", CA(palettes),
     .help = "with --export-onnx: per weight KEY.centroids.npy and "
             "KEY.indices.npy, and palettes.json mapping initializers to them"},
};

static const FlagRow kClusterTraining[] = {
    {.kind = FLAG_PASSES, .table = &optClusterTrain, CA(passOptions)},
};

static const FlagRow kClusterCodegen[] = {
    {.name = "target", .kind = FLAG_STRING, .metavar = "TRIPLE", CA(cg.o.triple),
     .help = "x86_64-linux-gnu or aarch64-linux-gnu (default: host)"},
    {.name = "mcpu", .kind = FLAG_STRING, .metavar = "CPU", CA(cg.o.cpu),
     .help = "target CPU (default generic; 'native': this host's)"},
    {.name = "mattr", .kind = FLAG_STRING, .metavar = "+F,-G", CA(cg.o.features),
     .help = "target features"},
    {.shortName = 'O', .attached = true, .kind = FLAG_OPTIONAL,
     .synopsis = "-O0 .. -O3", .handler = onOptLevel,
     .help = "LLVM optimisation level (default -O2)"},
    {.name = "contractions", .kind = FLAG_CHOICE, .choices = kContractionNames,
     .metavar = "gemm|loops", CA(cg.o.contractions),
     .help = "matmuls and convolutions as libclusterrt GEMM calls or loop nests "
             "(default)"},
    {.name = "no-outline", .kind = FLAG_NONE, CA(cg.o.noOutline),
     .help = "keep each function's loop nests in it instead of one function "
             "per nest (slower to compile; the same values)"},
    {.name = "pipeline", .kind = FLAG_STRING, .metavar = "'TEXT'", CA(cg.o.pipeline),
     .help = "replace the lowering pipeline (pass-pipeline syntax)"},
    {.name = "print-pipeline", .kind = FLAG_NONE, CA(cg.printPipeline),
     .help = "print the lowering pipeline and exit"},
    {.name = "emit-header", .kind = FLAG_PATH, .metavar = "FILE", CA(cg.header),
     .help = "write a C header declaring the entry points"},
};

static const FlagRow kClusterHelp[] = {
    HELP_ROWS,
    {.name = "version", .kind = FLAG_NONE, .handler = onVersion,
     .help = "print the version and the runtime's ISA and exit"},
};

#define SET(title, intro, rows) {title, intro, rows, sizeof rows / sizeof rows[0]}

static const FlagSet kClusterSets[] = {
    SET("Clustering (each flag is also a cluster-weights pass option):", NULL,
        kClusterClustering),
    SET("Sensitivity (calibration data, as clusterc train reads it):", NULL,
        kClusterSensitivity),
    SET("Output:", NULL, kClusterOutput),
    SET("Training graph (each flag is also a cluster-train pass option):",
        "--emit=train-mlir writes the module plus <fn>_train_step, _train_eval "
        "and _train_init, generated by the cluster-train pass; the clustering "
        "options above select and cluster the weights.",
        kClusterTraining),
    SET("Code generation:", NULL, kClusterCodegen),
    SET("Help:", NULL, kClusterHelp),
};

static void clusterInit(void *args) {
  ClusterArgs *a = args;
  a->output = NULL; /* "-", or nothing with --export-onnx alone */
  a->sensitivityBatches = 16;
  cgFlagsInit(&a->cg);
}

static void clusterFree(void *args) { free(((ClusterArgs *)args)->passOptions); }

/* ---- clusterc import ----------------------------------------------------------- */

#define IA(f) FLAG_FIELD(ImportArgs, f)

static const FlagRow kImportOutput[] = {
    {.shortName = 'o', .kind = FLAG_PATH, .metavar = "FILE", IA(output),
     .help = "output file (default: stdout; '-' is stdout)"},
    {.name = "func", .kind = FLAG_STRING, .metavar = "NAME", IA(funcName),
     .help = "name of the model function (default forward)"},
    {.name = "named-transpose", .kind = FLAG_NONE, IA(namedTranspose),
     .help = "transpose Gemm weights with linalg.transpose, not torch-mlir's "
             "permutation linalg.generic"},
};

static void importInit(void *args) { ((ImportArgs *)args)->output = "-"; }

static void importFree(void *args) { (void)args; }

/* ---- clusterc train ------------------------------------------------------------ */

/* In ClustercResize's order. */

static const FlagRow kTrainData[] = {
    {.name = "data", .kind = FLAG_PATH, .metavar = "DIR", TA(dataDir),
     .help = "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (default "
             DEFAULT_DATA ")"},
    {.name = "train-images", .kind = FLAG_PATH, .metavar = "F[,F...]", TA(trainImages),
     .help = "the training images, instead of --data's: an IDX or .npy file (one per "
             "model input, comma-separated), or a folder DIR/<class>/*.png"},
    {.name = "train-labels", .kind = FLAG_PATH, .metavar = "F", TA(trainLabels),
     .help = "the training labels, instead of --data's: integers are classes, floats "
             "regression targets (--loss=mse)"},
    {.name = "test-images", .kind = FLAG_PATH, .metavar = "F", TA(testImages),
     .help = "the test images, instead of --data's (as --train-images)"},
    {.name = "test-labels", .kind = FLAG_PATH, .metavar = "F", TA(testLabels),
     .help = "the test labels, instead of --data's"},
    {.name = "limit-train", .kind = FLAG_INT, .lo = 1, .hi = INT64_MAX, .metavar = "N",
     TA(limitTrain), .help = "use the first N training samples only"},
    {.name = "limit-test", .kind = FLAG_INT, .lo = 1, .hi = INT64_MAX, .metavar = "N",
     TA(limitTest), .help = "use the first N test samples only"},
    TRANSFORM_ROWS(TA, t.transform),
};

/* In ClustercOptimizer's order. */
static const char *const kOptimizerNames[] = {"sgd", "momentum", "adam", NULL};
static const char *const kTrainClusterOptions[] = {
    "clusters",      "init",       "min-elements", "layers",       "only",
    "allow-empty-selection",       "lloyd-iterations",             "per-channel",
    "group-size",    "channel-axis", "preserve-sparsity",          NULL};

static const FlagRow kTrainTraining[] = {
    {.name = "epochs", .kind = FLAG_INT, .lo = 0, .hi = 100000, .metavar = "N",
     TA(t.epochs), .help = "(default 1; 0 evaluates only)"},
    {.name = "batch-size", .kind = FLAG_INT, .lo = 1, .hi = 1 << 20, .metavar = "N",
     TA(t.batch), .help = "a multiple of the model's batch (default: it)"},
    {.name = "contractions", .kind = FLAG_CHOICE, .choices = kContractionNames,
     .metavar = "gemm|loops", TA(t.contractions),
     .help = "matmuls and convolutions of the compiled step as libclusterrt "
             "GEMM calls (default) or loop nests"},
    {.name = "optimizer", .kind = FLAG_CHOICE, .choices = kOptimizerNames,
     .metavar = "adam|sgd|momentum", TA(t.optimizer), .help = "(default adam)"},
    {.name = "lr", .kind = FLAG_DOUBLE, .dlo = 0, .dhi = INFINITY, .openLo = true,
     .metavar = "X", TA(t.lr), .help = "learning rate (default 1e-3)"},
    {.name = "momentum", .kind = FLAG_DOUBLE, .dlo = 0, .dhi = 1, .openHi = true,
     .metavar = "X", TA(t.momentum), .help = "for momentum (default 0.9)"},
    {.name = "weight-decay", .kind = FLAG_DOUBLE, .dlo = 0, .dhi = INFINITY,
     .metavar = "X", TA(t.weightDecay), .help = "(default 0)"},
    {.name = "schedule", .kind = FLAG_STRING, .metavar = "constant|cosine|step:E:G",
     .handler = onSchedule, .help = "step: lr *= G every E epochs (default constant)"},
    {.name = "seed", .kind = FLAG_INT, .lo = 0, .hi = INT64_MAX, .metavar = "N",
     .handler = onTrainSeed,
     .help = "shuffling and centroid initialisation (default 0)"},
    {.name = "threads", .kind = FLAG_INT, .lo = 1, .hi = 256, .metavar = "N",
     TA(t.threads), .help = "(default: the number of cores)"},
    {.kind = FLAG_PASSES, .table = &optClusterTrain, TA(trainText)},
};

static const FlagRow kTrainClustering[] = {
    {.kind = FLAG_PASSES, .table = &optClusterWeights, .only = kTrainClusterOptions,
     TA(clusterText)},
    {.name = "pass-options", .kind = FLAG_STRING, .metavar = "'TEXT'", TA(clusterText),
     .handler = onPassText, .emptyOk = true,
     .help = "raw cluster-weights options, e.g. 'clusters=8 init=linear'"},
};

static const FlagRow kTrainOutput[] = {
    {.shortName = 'o', .kind = FLAG_PATH, .metavar = "FILE", TA(output),
     .help = "the fine-tuned model (default: none)"},
    {.name = "report", .kind = FLAG_OPTIONAL, .synopsis = "--report[=json=FILE]",
     .handler = onTrainReport,
     .help = "the clustering report of the output, on stderr or as JSON"},
    {.name = "log", .kind = FLAG_PATH, .metavar = "FILE", TA(logPath),
     .help = "per-epoch figures as JSON lines"},
    {.name = "eval-initial", .kind = FLAG_NONE, TA(t.evalInitial),
     .help = "also evaluate before training (epoch 0: the clustered model "
             "before fine-tuning)"},
    {.name = "quiet", .kind = FLAG_NONE, TA(t.quiet), .help = "no progress"},
    {.name = "cache-dir", .kind = FLAG_PATH, .metavar = "DIR", TA(t.jitCacheDir),
     .help = "the JIT's cache of compiled steps (default "
             "$XDG_CACHE_HOME/clusterc/jit or ~/.cache/clusterc/jit)"},
    {.name = "no-cache", .kind = FLAG_NONE, TA(t.noJitCache),
     .help = "compile the step without the JIT's cache"},
    {.name = "no-outline", .kind = FLAG_NONE, TA(t.noOutline),
     .help = "keep the step's loop nests in one function (slower to "
             "compile; the same values)"},
};

static const FlagRow kHelpOnly[] = {HELP_ROWS};

static const FlagSet kImportSets[] = {
    SET("Output:", NULL, kImportOutput),
    SET("Help:", NULL, kHelpOnly),
};

static const FlagSet kTrainSets[] = {
    SET("Data (IDX files as MNIST ships them, .npy, gzip or plain; folders of PNGs):", NULL,
        kTrainData),
    SET("Training:", NULL, kTrainTraining),
    SET("Clustering (as clusterc's):", NULL, kTrainClustering),
    SET("Output:", NULL, kTrainOutput),
    SET("Help:", NULL, kHelpOnly),
};

static void trainInit(void *args) {
  TrainArgs *a = args;
  a->dataDir = DEFAULT_DATA;
  clustercTrainOptionsInit(&a->t);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  a->t.threads = cores > 0 ? (int)cores : 1;
}

static void trainFree(void *args) {
  TrainArgs *a = args;
  free(a->clusterText);
  free(a->trainText);
}

/* ---- clusterc gradcheck -------------------------------------------------------- */

static const FlagRow kGradcheckChecks[] = {
    {.name = "eps", .kind = FLAG_DOUBLE, .dlo = 0, .dhi = INFINITY, .openLo = true,
     .metavar = "E", GA(go.eps), .help = "finite-difference step (default 1e-2)"},
    {.name = "tol", .kind = FLAG_DOUBLE, .dlo = 0, .dhi = INFINITY, .openLo = true,
     .metavar = "T", GA(go.tol), .help = "largest relative error accepted (default 2e-2)"},
    {.name = "samples", .kind = FLAG_INT, .lo = 1, .hi = INT32_MAX, .metavar = "N",
     GA(go.samples), .help = "elements checked per tensor (default 16)"},
    {.name = "data-seed", .kind = FLAG_INT, .lo = 0, .hi = INT64_MAX, .metavar = "N",
     GA(go.dataSeed), .help = "seed of the random inputs (default 1)"},
};

static const FlagRow kGradcheckTraining[] = {
    /* Before the pass's rows: gradcheck's default mode is float. */
    {.name = "mode", .kind = FLAG_PASS, .passValue = true,
     .metavar = "float|ste|centroids-only", GA(options),
     .help = "(default float) finite differences for float and centroids-only, "
             "the STE identities for ste"},
    {.kind = FLAG_PASSES, .table = &optClusterTrain, GA(options)},
};

static const FlagRow kGradcheckClustering[] = {
    {.kind = FLAG_PASSES, .table = &optClusterWeights, GA(options)},
};

static const FlagSet kGradcheckSets[] = {
    SET("Checks:", NULL, kGradcheckChecks),
    SET("Training step (as clusterc --emit=train-mlir's):", NULL, kGradcheckTraining),
    SET("Clustering (as clusterc's):", NULL, kGradcheckClustering),
    SET("Help:", NULL, kHelpOnly),
};

static void gradcheckInit(void *args) {
  clustercGradcheckOptionsInit(&((GradcheckArgs *)args)->go);
}

static void gradcheckFree(void *args) { free(((GradcheckArgs *)args)->options); }

/* ---- The commands -------------------------------------------------------------- */

#define SETS(s) s, sizeof s / sizeof s[0]

const Command clustercCommands[] = {
    {NULL, "[options] <input.mlir|input.onnx|-> [-o <output>] [--export-onnx=<out.onnx>]",
     "cluster the weights of a model",
     "Clusters the weights of an MLIR model (tosa, linalg, arith, tensor, func), "
     "or of an ONNX model (read by name or content, translated as clusterc import does): "
     "each selected weight constant becomes a centroid table, a packed index "
     "buffer and a decode (linalg.generic) that rebuilds it. A flag's value "
     "follows it as --name=value or --name value.",
     "input file", offsetof(ClusterArgs, input), SETS(kClusterSets),
     sizeof(ClusterArgs), clusterInit, clusterRun, clusterFree},
    {"train", "model.mlir [options] [-o out.mlir]",
     "fine-tune a model with clustering-aware training and write it clustered",
     "Fine-tunes a model on a data set with clustering-aware training and "
     "writes it clustered (centroids, packed indices, decode). The model is a "
     "function [B, ...] -> logits [B, classes] with static shapes (B is its "
     "batch); its constants are the initial weights.",
     "model", offsetof(TrainArgs, input), SETS(kTrainSets), sizeof(TrainArgs),
     trainInit, trainRun, trainFree},
    {"gradcheck", "[options] model.mlir",
     "check the gradients of the training step cluster-train generates",
     "Checks the training step cluster-train generates for the model, on "
     "random inputs, on the JIT: finite differences (float, centroids-only), "
     "or the STE identities (ste). Exit 0 when every check passes.",
     "input file", offsetof(GradcheckArgs, input), SETS(kGradcheckSets),
     sizeof(GradcheckArgs), gradcheckInit, gradcheckRun, gradcheckFree},
    {"import", "model.onnx [options] [-o out.mlir]",
     "translate an ONNX model to MLIR (linalg on tensors)",
     "Translates an ONNX model (opsets 11-17, static shapes) to MLIR in the "
     "linalg-on-tensors form: one func.func, initializers as dense_resource "
     "constants named after them. clusterc reads .onnx files directly too; "
     "this writes the MLIR it clusters.",
     "model", offsetof(ImportArgs, input), SETS(kImportSets), sizeof(ImportArgs),
     importInit, importRun, importFree},
};
const size_t clustercNumCommands = sizeof clustercCommands / sizeof clustercCommands[0];
