/*
 * libclusterc-train: clustering-aware fine-tuning and gradient checks on the
 * JIT of libclusterc-codegen, callable from C.
 *
 *   ClustercDataset train, test;
 *   clustercDatasetLoad(&train, "train-images.idx3.gz", "train-labels.gz", fn, ud);
 *   ClustercTrainOptions o;
 *   clustercTrainOptionsInit(&o);
 *   o.clusterOptions = "clusters=16";  o.epochs = 3;
 *   clustercTrain(model, &o, &train, &test, "model.mlir");  // model updated
 *
 * How a session works (train/session.c): cluster-train generates the
 * model's training step, evaluation and initial values; the JIT compiles
 * them; each optimizer step runs batch-size / B calls of the step (B = the
 * model's static batch) on up to `threads` threads, sums the gradients in a
 * fixed order and applies SGD, momentum or Adam with libclusterrt's kernels.
 * With writeBack the trained values replace the model's constants and
 * cluster-weights clusters them again (exact 1-D k-means: the written model
 * computes what was evaluated). See docs/TRAINING.md.
 *
 * Every function returns a ClustercStatus (0 = ok) and sends its messages
 * (errors, progress, per-epoch JSON lines, gradcheck's table) through the
 * caller's ClustercMessageFn; nothing prints or exits.
 */
#ifndef CLUSTERC_TRAIN_H
#define CLUSTERC_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/codegen.h"
#include "clusterc/passes.h"
#include "clusterc/status.h"
#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Data sets -------------------------------------------------------------
 *
 * IDX files (MNIST, Fashion-MNIST; gzip or plain, read through zlib),
 * NumPy .npy arrays (C order; u8, i16, i32, i64, f32, f64) and folders of
 * PNG images (DIR/<class>/<name>.png, labels from the class folders; see
 * train/data-png.c). Samples are read as f32 (u8 pixels scaled to [0, 1],
 * kept as u8 in memory: a quarter of the size, and no first touch of a
 * large f32 copy). Integer labels become i32 classes [N]; float labels
 * [N, ...] are regression targets (loss=mse). */
typedef struct ClustercDataset {
  size_t n;          /* samples */
  size_t sampleSize; /* f32 values per sample */
  int rank;          /* of one sample */
  int64_t shape[4];  /* of one sample */
  float *x;          /* n * sampleSize, or NULL when u8 holds the samples */
  uint8_t *u8;       /* u8 samples (IDX images), read as value / 255 */
  int32_t *y;        /* n labels, or NULL */
  const char *labelsName; /* the labels' path as given (borrowed), for messages */
  float *targets;    /* n * targetSize float labels (regression), or NULL */
  size_t targetSize;
  const char *name;  /* the samples' path as given (borrowed), for messages */
  /* The samples of the model's next input (models with several inputs;
   * clustercDatasetAddInput), owned; the labels are the first's. */
  struct ClustercDataset *next;
} ClustercDataset;

/* Loads samples from `images` and labels from `labels` (NULL: none; must
 * be NULL when `images` is a folder of PNG images). On failure sends
 * "file: error: ...\n" and leaves *d empty. */
ClustercStatus clustercDatasetLoad(ClustercDataset *d, const char *images,
                                   const char *labels,
                                   ClustercMessageFn onMessage, void *userData);
/* Appends the samples of the model's next input (an IDX or .npy file with
 * as many samples as d) to d. */
ClustercStatus clustercDatasetAddInput(ClustercDataset *d, const char *images,
                                       ClustercMessageFn onMessage, void *userData);
/* Copies sample i into out[0 .. sampleSize) as f32. */
void clustercDatasetSample(const ClustercDataset *d, size_t i, float *out);
/* Keeps the first n samples (and labels) of d and of the inputs chained to
 * it, and gives the memory of the rest back (--limit-train: the whole
 * training set of Fashion-MNIST is 47 MB as u8). n >= d->n: nothing. */
void clustercDatasetTruncate(ClustercDataset *d, size_t n);
/* Frees what clustercDatasetLoad allocated (the struct is the caller's). */
void clustercDatasetFree(ClustercDataset *d);

/* ---- Training ---------------------------------------------------------------- */

typedef enum ClustercOptimizer {
  CLUSTERC_OPTIMIZER_SGD, CLUSTERC_OPTIMIZER_MOMENTUM, CLUSTERC_OPTIMIZER_ADAM
} ClustercOptimizer;

typedef enum ClustercSchedule {
  CLUSTERC_SCHEDULE_CONSTANT, CLUSTERC_SCHEDULE_COSINE,
  CLUSTERC_SCHEDULE_STEP /* lr *= gamma every stepEvery epochs */
} ClustercSchedule;

typedef enum ClustercResize {
  CLUSTERC_RESIZE_BILINEAR, /* half-pixel centres (PyTorch's align_corners=False) */
  CLUSTERC_RESIZE_NEAREST   /* PyTorch's mode='nearest': floor(dst * in / out) */
} ClustercResize;

/* From a data set's samples to the model's input (train/transform.c), in
 * this order: zero padding, resizing, channels (1 -> C replicated, RGBA ->
 * RGB), normalisation (x - mean) / std per channel, then the model's layout
 * (CHW or HWC, found from its input shape; a flat input takes CHW order).
 * Without any of these the samples go in as they are, when their size
 * matches. */
#define CLUSTERC_MAX_NORMALIZE 16
typedef struct ClustercDataTransform {
  int inputH, inputW;   /* resize to this (0: no resizing) */
  int pad;              /* zero pixels added on every side first */
  ClustercResize resize;
  int numNormalize;     /* 0, 1 (every channel) or one per channel */
  float mean[CLUSTERC_MAX_NORMALIZE], std[CLUSTERC_MAX_NORMALIZE];
} ClustercDataTransform;

typedef struct ClustercTrainOptions {
  /* Option text in pipeline syntax: cluster-weights options (clusters=,
   * init=, layers=, only=, min-elements=, seed=, ...) and the
   * cluster-train-only ones (mode=, loss=, reduce=, function=). NULL: none. */
  const char *clusterOptions;
  const char *trainOptions;
  int epochs;  /* default 1; 0 evaluates only */
  int batch;   /* samples per optimizer step; 0: the model's batch */
  int threads; /* default 1 */
  ClustercOptimizer optimizer; /* default Adam */
  /* How the compiled step computes matmuls and convolutions (default
   * CLUSTERC_CONTRACTIONS_GEMM: libclusterrt's GEMM; see codegen.h). */
  ClustercContractions contractions;
  double lr, momentum, weightDecay, beta1, beta2, adamEps;
  ClustercSchedule schedule;
  int stepEvery;
  double gamma;
  ClustercDataTransform transform; /* applied to every input's samples */
  uint64_t seed;       /* shuffling */
  bool evalInitial;    /* evaluate before training too (epoch 0) */
  bool quiet;          /* no INFO messages */
  bool progress;       /* PROGRESS messages (a redrawn status line) */
  bool writeBack;      /* write the trained values into the model */
  const char *jitCacheDir; /* the JIT's cache (NULL: the default, see codegen.h) */
  bool noJitCache;         /* compile without the JIT's cache */
  bool noOutline;          /* loop nests not outlined (see codegen.h) */
  /* Polled between steps: nonzero stops the loop (CLUSTERC_INTERRUPTED).
   * *inLoop (when not NULL) is 1 while the loop runs, so a signal handler
   * can tell that the session will stop cleanly. */
  const volatile sig_atomic_t *stop;
  volatile sig_atomic_t *inLoop;
  ClustercMessageFn onMessage;
  void *userData;
  /* With writeBack: the rows of the clustering report of the output. */
  ClustercReportFn report;
  void *reportUserData;
} ClustercTrainOptions;

void clustercTrainOptionsInit(ClustercTrainOptions *o);

/* Checks the option texts (and that per-channel and sparsity are not
 * asked for): CLUSTERC_OK or CLUSTERC_USAGE with a message. */
ClustercStatus clustercTrainOptionsCheck(const ClustercTrainOptions *o);

/* Trains `model` (borrowed; a copy gets the generated functions) on
 * `train`, evaluating on `test` after each epoch. With o->writeBack the
 * model's constants are replaced by the trained values and (unless
 * mode=float) clustered again. displayName prefixes messages. */
ClustercStatus clustercTrain(MlirModule model, const ClustercTrainOptions *o,
                             const ClustercDataset *train,
                             const ClustercDataset *test,
                             const char *displayName);

/* Writes trained values back into a model: for each i, the float constant
 * of `function` (NULL: as cluster-train chooses) that cluster-train names
 * names[i] (the "kind:NAME" suffix of clusterc.arguments) gets values[i], f32
 * in the constant's shape (converted to its element type). Returns 0, or -1
 * with a message in err (unknown name, not a float constant). */
int clustercSetTrainedValues(MlirOperation module, const char *function, size_t n,
                             const char *const *names, const float *const *values,
                             char *err, size_t errSize);

/* ---- Sensitivities --------------------------------------------------------------
 *
 * The diagonal Fisher estimate of every trainable float parameter: the mean
 * over `batches` calls of the generated float training step (cluster-train
 * mode=float; o->trainOptions may add loss=, function=, freeze=) of the
 * squared gradient dL/dW, on the first batches x B samples of `data` (B =
 * the model's batch; fewer when data has fewer; o->transform applies). The
 * results are named as the passes name layers (ClustercSensitivity.name,
 * index -1), so o.sensitivity of cluster-weights takes them as they are.
 * Free them with clustercSensitivityFree. */
ClustercStatus clustercTrainSensitivity(MlirModule model, const ClustercTrainOptions *o,
                                        const ClustercDataset *data, int batches,
                                        const char *displayName,
                                        ClustercSensitivity **out, size_t *count);
void clustercSensitivityFree(ClustercSensitivity *s, size_t count);

/* ---- Gradient checks ----------------------------------------------------------- */

typedef struct ClustercGradcheckOptions {
  const char *options; /* cluster-train option text; NULL: mode=float */
  double eps;          /* finite-difference step (default 1e-2) */
  double tol;          /* largest relative error accepted (default 2e-2) */
  int samples;         /* elements checked per tensor (default 16) */
  uint64_t dataSeed;   /* seed of the random inputs (default 1) */
  ClustercMessageFn onMessage; /* the table comes as RESULT messages */
  void *userData;
} ClustercGradcheckOptions;

void clustercGradcheckOptionsInit(ClustercGradcheckOptions *o);

/* Checks the training step cluster-train generates for `model` (borrowed)
 * on random inputs: finite differences (float, centroids-only) or the STE
 * identities (ste). CLUSTERC_OK when every check passes, CLUSTERC_ERROR
 * when one fails or the model cannot be compiled, CLUSTERC_USAGE on bad
 * options. */
ClustercStatus clustercGradcheck(MlirModule model, const ClustercGradcheckOptions *o,
                                 const char *displayName);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_TRAIN_H */
