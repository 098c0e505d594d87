/*
 * clusterc passes, for any MLIR C-API client.
 *
 *   ClustercClusterWeightsOptions o;
 *   clustercClusterWeightsOptionsInit(&o);
 *   o.clusters = 8;                          // or:
 *   clustercClusterWeightsOptionsParse(&o, "clusters=8 init=linear", ...);
 *   mlirPassManagerAddOwnedPass(pm, clustercCreateClusterWeightsPass(&o));
 *   clustercClusterWeightsOptionsFree(&o);   // the pass keeps its own copy
 *
 * The option text has the syntax of a pass pipeline's options:
 *   clusters=K              default cluster count (default 16, 1..65536)
 *   init=linear|random|density|kmeans++|kmeans1d   (default kmeans++)
 *   seed=N                  (default 0)
 *   min-elements=N          smaller weights are left alone (default 128)
 *   per-channel[=bool]      one centroid table per slice along channel-axis
 *   group-size=G            one centroid table per G consecutive channels
 *                           along channel-axis (coremltools'
 *                           per_grouped_channel; G = 1 is per-channel)
 *   channel-axis=N          axis of the constant (default: the output
 *                           channels as the consuming op sees them, else 0)
 *   preserve-sparsity[=bool] zero is an exact centroid; zeros stay zero
 *   layers=SEL:K,SEL:K      per-layer cluster counts ("skip" for none)
 *   only=SEL,SEL            cluster only weights matching a selector
 *   op-type=OP,OP           cluster only weights consumed by these ops
 *                           (globs on the op name: linalg.matmul,
 *                           linalg.conv_2d_*, tosa.conv2d)
 *   force[=bool]            with only=: a float constant whose name matches
 *                           one of its globs is clustered even when it is
 *                           not a weight (a bias, an unrecognised use)
 *   decode=generic|fold|runtime|fused
 *                           generic: table + indices + a linalg.generic
 *                           decode (default); fold: a plain constant holding
 *                           c[idx], the clustered weights without the
 *                           storage saving (for evaluating accuracy, and the
 *                           reference of the numerical tests); runtime: f32
 *                           weights with one table are decoded once, by
 *                           libclusterrt's vectorized decode
 *                           (clusterrt_mlir_decode_i8/_i16, see
 *                           runtime/memref-abi.c) called from the function
 *                           CLUSTERC_DECODE_INIT into a global buffer the
 *                           model reads; the generic decode for the others.
 *                           Run that function once before the model (clusterc's
 *                           code generation makes it a global constructor);
 *                           fused: matrix products on an f32 weight (linalg
 *                           matmul, batch_matmul, matvec, vecmat, tosa
 *                           fully_connected and matmul, NHWC convolutions)
 *                           become calls of libclusterrt's LUT kernels
 *                           (clusterrt_mlir_lut_matmul) on N-major packed
 *                           indices, with no float copy of the weight; any
 *                           other use keeps the generic decode and the
 *                           report says why (decode_kept)
 *   bits=N                  index width, 1..16 bits, packed densely (default
 *                           0: the narrowest that holds K, e.g. 3 for K = 8,
 *                           6 for K = 64); K is capped at 2^N
 *   palette=kmeans|uniform|unique
 *                           kmeans: init then Lloyd (default); uniform: K
 *                           values evenly spaced from min to max, no
 *                           k-means; unique: the distinct values, an error
 *                           when there are more than K
 *   table=FILE.npy          centroids from a file instead (f32/f64/f16 .npy,
 *                           shape [K] for every table, or [T, K] for T
 *                           tables of per-channel/grouped clustering); the
 *                           weights are only assigned
 *   lloyd-iterations=N      Lloyd iterations after the init (default -1:
 *                           until no assignment changes, at most 300; 0:
 *                           none, tfmot's behaviour)
 *   size-budget=BYTES       mixed precision: each selected weight gets the
 *                           width b in 1..8 (K = 2^b) that minimises the sum
 *                           of the (sensitivity-weighted) squared errors of
 *                           the exact k-means, under a total of BYTES stored
 *                           bytes (tables + packed indices) for the selected
 *                           weights; an error when 1 bit everywhere exceeds it
 *   bits-budget=B           the same with BYTES = B * selected elements / 8
 *   table-type=float|int8|uint8
 *                           float: tables in the weight's type (default);
 *                           int8: each table as int8 with an f32 scale
 *                           (symmetric), uint8: as uint8 with an f32 scale
 *                           and a uint8 zero point (coremltools' lut_dtype);
 *                           the weights are assigned to the dequantized
 *                           table, decode = scale * (q - zp)
 *   per-channel-scale[=bool] divide each output channel (channel-axis) by
 *                           its max |w| before clustering; the decode
 *                           multiplies by that f32 scale
 *                           (enable_per_channel_scale)
 *   cluster-dim=D           1, 2, 4 or 8: each index names a vector of D
 *                           consecutive weights along the input-channel
 *                           axis (the last axis that is not the output
 *                           channels'; it must divide by D); k-means in D
 *                           dimensions (k-means++ init, Lloyd)
 *   threads=N               cluster weight tensors on N threads (default 0:
 *                           one per online core); the output is the same
 *                           byte for byte for any N
 * A selector SEL is a glob on the layer name (`conv*`, `fc?.weight`) or a
 * weight index: `#3`, a range `#3..5`, negative from the end (`#-3..-1` =
 * the last three weights). Weights are numbered in the execution order of
 * the ops that consume them (not in the order of the constants, which
 * torch-mlir emits last layer first). The layer name is the constant's
 * NameLoc, else its consumer's NameLoc, else `file:line:col` with the
 * file's base name.
 */
#ifndef CLUSTERC_PASSES_H
#define CLUSTERC_PASSES_H

#include <stddef.h>
#include <stdint.h>

#include "clusterc/runtime.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLUSTERC_VERSION "0.1.0"

/* With decode=runtime: the module's initializer, `func.func private
 * @clusterc_decode_weights()`, which fills the decoded-weight buffers. */
#define CLUSTERC_DECODE_INIT "clusterc_decode_weights"

/* The reason of the report rows of clusterc's own output (the centroid
 * tables and folded weights of an earlier run, marked with the attribute
 * `clusterc.palette`): running the pass again leaves them as they are. */
#define CLUSTERC_ALREADY_CLUSTERED "already clustered by clusterc"

/* One row of the report: a weight clustered, or a constant left alone. */
typedef struct ClustercLayerReport {
  int index;               /* weight index in walk order; -1 if not a weight */
  const char *name;        /* layer name (see above) */
  const char *consumer;    /* compute op the constant feeds, or "" */
  const char *role;        /* "weight", "bias", "other" */
  const char *dtype;       /* "f32", "f16", "bf16", "i8", ... */
  const char *form;        /* "dense", "splat", "dense_resource" */
  const int64_t *shape;
  intptr_t rank;
  int clustered;           /* 1 if rewritten */
  const char *reason;      /* why not clustered, or "" */
  unsigned k_requested;
  unsigned k;              /* centroids per table actually used */
  unsigned tables;         /* 1, or the channel count when per-channel */
  const char *init;
  unsigned bits;           /* bits per stored index */
  uint64_t elements;
  uint64_t bytes_before;   /* storage of the original constant */
  uint64_t bytes_after;    /* centroid tables + index buffer */
  double mse;              /* mean squared reconstruction error */
  double sqnr_db;          /* 10 log10(sum w^2 / sum (w - w')^2); inf if exact */
  /* For a clustered weight, borrowed for the duration of the call (NULL
   * otherwise): the tables (tables x k floats, as stored: rounded to f16
   * or bf16 for those weights) and the index buffer in index_format
   * (packed in flat order; per channel: clusterrt_assign_per_channel_f32's
   * layout along channel_axis, -1 for one table). Enough to rebuild
   * c[idx] or to write the palettes elsewhere (clusterc --export-onnx). */
  const float *centroids;
  const void *indices;
  clusterrt_index_format index_format;
  int channel_axis;
  /* decode=fused: why some use of the weight still decodes it ("<op>:
   * <why>"), or "" when every use became a LUT call. */
  const char *decode_kept;
  /* The extended palettes: vector length (cluster-dim, 1 for scalars), the
   * tables' storage ("float", "int8", "uint8") and whether a per-channel
   * scale multiplies the decode. With any of them, centroids is NULL (the
   * tables are not plain floats) and indices are in the vectors' order. */
  unsigned cluster_dim;
  const char *table_type;
  int per_channel_scale;
} ClustercLayerReport;

typedef void (*ClustercReportFn)(const ClustercLayerReport *row, void *user);

typedef struct ClustercSelector {
  char *glob;              /* NULL for an index selector */
  int64_t lo, hi;          /* index range (inclusive), may be negative */
  unsigned k;              /* for `layers`: 0 = skip */
} ClustercSelector;

typedef enum ClustercDecode {
  CLUSTERC_DECODE_GENERIC = 0,
  CLUSTERC_DECODE_FOLD = 1,
  CLUSTERC_DECODE_RUNTIME = 2,
  CLUSTERC_DECODE_FUSED = 3
} ClustercDecode;

/* How a table is made (`palette=`). */
typedef enum ClustercPalette {
  CLUSTERC_PALETTE_KMEANS = 0,  /* init, then Lloyd (lloyd-iterations) */
  CLUSTERC_PALETTE_UNIFORM = 1, /* K values evenly spaced from min to max */
  CLUSTERC_PALETTE_UNIQUE = 2   /* the distinct values; an error past K */
} ClustercPalette;

/* The sensitivity of one weight's elements (e.g. a diagonal Fisher
 * estimate, clustercTrainSensitivity): the weighted exact 1-D k-means
 * minimises sum_i values[i] * (w[i] - c[idx[i]])^2. Matched to a weight by
 * its layer name (see above) and element count; `index` is informative
 * (-1: unknown). */
typedef struct ClustercSensitivity {
  char *name;
  int index;
  const float *values; /* count values, in the weight's flat order */
  uint64_t count;
} ClustercSensitivity;
/* How a table is stored (`table-type=`). */
typedef enum ClustercTableType {
  CLUSTERC_TABLE_FLOAT = 0, /* in the weight's type */
  CLUSTERC_TABLE_INT8 = 1,  /* int8 q, f32 scale per table: scale * q */
  CLUSTERC_TABLE_UINT8 = 2  /* uint8 q, f32 scale and uint8 zero point per
                             * table: scale * (q - zp) */
} ClustercTableType;

typedef struct ClustercClusterWeightsOptions {
  unsigned clusters;
  clusterrt_init init;
  uint64_t seed;
  uint64_t min_elements;
  int per_channel;
  int channel_axis;        /* -1: infer */
  int preserve_sparsity;
  ClustercDecode decode;
  ClustercSelector *layers;
  size_t num_layers;
  ClustercSelector *only;
  size_t num_only;
  ClustercReportFn report; /* optional, called once per constant seen */
  void *report_user;
  unsigned threads;        /* worker threads; 0 = one per online core */
  ClustercSelector *op_types; /* globs on the consumer op's name (op-type=) */
  size_t num_op_types;
  int force;               /* only= also takes float constants that are not
                            * weights (biases, anything else) */
  int allow_empty_selection; /* a selector matching nothing: warning, not error */
  unsigned bits;           /* index width 1..16; 0 = the narrowest for K */
  ClustercPalette palette;
  char *table;             /* owned: a .npy file of centroids, or NULL */
  int lloyd_iterations;    /* -1: until stable (at most 300); 0: init only */
  unsigned group_size;     /* channels per table; 0: per_channel decides */
  uint64_t size_budget;    /* bytes for the clustered weights; 0: none */
  double bits_budget;      /* bits per selected element; 0: none */
  /* Borrowed (not copied by the pass, not freed): per-weight sensitivities
   * for the weighted k-means (palette=kmeans; init= is then the weighted
   * exact k-means); weights without an entry are clustered as usual. Must
   * outlive the pass manager's run. */
  const ClustercSensitivity *sensitivity;
  size_t num_sensitivity;
  ClustercTableType table_type; /* how the tables are stored (table-type=) */
  int per_channel_scale;   /* per-channel-scale: w / max|w| of its channel
                            * is clustered, the decode multiplies back */
  unsigned cluster_dim;    /* 1, 2, 4 or 8 weights per index (cluster-dim=) */
} ClustercClusterWeightsOptions;

void clustercClusterWeightsOptionsInit(ClustercClusterWeightsOptions *o);
/* Parses option text (see above) on top of *o. Returns 0 on success; on
 * error returns -1 and writes a message to err (NUL-terminated). */
int clustercClusterWeightsOptionsParse(ClustercClusterWeightsOptions *o,
                                       const char *text, size_t len,
                                       char *err, size_t err_size);
/* The combinations the pass rejects (e.g. cluster-dim with
 * palette=uniform): 0, or -1 with a message in err. The pass checks them
 * too; a driver calls this to report them as usage errors before any work. */
int clustercClusterWeightsOptionsCheck(const ClustercClusterWeightsOptions *o,
                                       char *err, size_t err_size);
/* Deep copy; returns 0 on success, -1 when out of memory. */
int clustercClusterWeightsOptionsCopy(ClustercClusterWeightsOptions *dst,
                                      const ClustercClusterWeightsOptions *src);
void clustercClusterWeightsOptionsFree(ClustercClusterWeightsOptions *o);

/* A module pass (`cluster-weights`); the pass copies *o. */
MlirPass clustercCreateClusterWeightsPass(const ClustercClusterWeightsOptions *o);

/* Registers the dialects the passes create ops of (arith, linalg, tensor,
 * func, math). */
void clustercRegisterDialects(MlirContext ctx);

/* ---- cluster-train ------------------------------------------------------------
 *
 * Generates @<fn>_train_step and @<fn>_train_init from a forward function
 * (see passes/cluster-train.c). Options: every cluster-weights option that
 * selects and clusters weights (clusters, init, seed, min-elements, layers,
 * only, preserve-sparsity), plus
 *   mode=ste|centroids-only|float   (default ste)
 *   loss=softmax-ce|mse             (default softmax-ce)
 *   reduce=sum|avg                  centroid gradient aggregation (default sum)
 *   function=NAME                   the model (default: forward, or the only
 *                                   public function)
 *   freeze=SEL,...                  parameters left constant (not trained), with
 *                                   the selectors of `only`
 *   train-bn-stats                  train batch-norm running mean, variance and
 *                                   epsilon too (default: frozen) */
typedef enum ClustercTrainMode {
  CLUSTERC_TRAIN_STE = 0,
  CLUSTERC_TRAIN_CENTROIDS_ONLY = 1,
  CLUSTERC_TRAIN_FLOAT = 2
} ClustercTrainMode;

typedef enum ClustercLoss {
  CLUSTERC_LOSS_SOFTMAX_CE = 0,
  CLUSTERC_LOSS_MSE = 1
} ClustercLoss;

typedef struct ClustercClusterTrainOptions {
  ClustercClusterWeightsOptions cluster; /* selection and clustering */
  ClustercTrainMode mode;
  ClustercLoss loss;
  clusterrt_reduce reduce;
  char *function; /* owned; NULL = default */
  ClustercSelector *freeze; /* owned: parameters kept constant */
  size_t num_freeze;
  bool train_bn_stats; /* batch-norm statistics are parameters too */
} ClustercClusterTrainOptions;

void clustercClusterTrainOptionsInit(ClustercClusterTrainOptions *o);
int clustercClusterTrainOptionsParse(ClustercClusterTrainOptions *o,
                                     const char *text, size_t len, char *err,
                                     size_t err_size);
void clustercClusterTrainOptionsFree(ClustercClusterTrainOptions *o);
/* A module pass (`cluster-train`); the pass copies *o. */
MlirPass clustercCreateClusterTrainPass(const ClustercClusterTrainOptions *o);
MlirPass clustercCreateClusterTrainPassFromString(MlirStringRef options,
                                                  MlirStringCallback onError,
                                                  void *userData);

/* ---- cluster-order-loops ---------------------------------------------------
 *
 * Permutes the loops of every linalg.generic so that the innermost is the
 * dimension along which the operands are contiguous (see
 * passes/cluster-order-loops.c), for lowering to loops that LLVM
 * vectorizes. With reassociate a reduction may become innermost and its sum
 * gets fastmath reassoc. Values are unchanged up to that reassociation. */
typedef struct ClustercClusterOrderLoopsOptions {
  bool reassociate; /* default true */
} ClustercClusterOrderLoopsOptions;

void clustercClusterOrderLoopsOptionsInit(ClustercClusterOrderLoopsOptions *o);
int clustercClusterOrderLoopsOptionsParse(ClustercClusterOrderLoopsOptions *o,
                                          const char *text, size_t len, char *err,
                                          size_t err_size);
void clustercClusterOrderLoopsOptionsFree(ClustercClusterOrderLoopsOptions *o);
/* A module pass (`cluster-order-loops`); the pass copies *o. */
MlirPass clustercCreateClusterOrderLoopsPass(const ClustercClusterOrderLoopsOptions *o);
MlirPass clustercCreateClusterOrderLoopsPassFromString(MlirStringRef options,
                                                       MlirStringCallback onError,
                                                       void *userData);

/* ---- cluster-contract-gemm -------------------------------------------------
 *
 * Rewrites every f32 linalg.generic contraction of static shape (body
 * out + a * b, indexing maps linear in the loops: matmuls in any transpose,
 * batched or broadcast, convolutions and their weight gradients) with at
 * least min-macs multiply-adds into a call of libclusterrt's GEMM
 * (clusterrt_mlir_sgemm, passes/contract-gemm.c). Named ops must be
 * generalized first. Values equal the loops' up to summation order. */
typedef struct ClustercClusterContractGemmOptions {
  int64_t minMacs; /* default 4096 */
} ClustercClusterContractGemmOptions;

void clustercClusterContractGemmOptionsInit(ClustercClusterContractGemmOptions *o);
int clustercClusterContractGemmOptionsParse(ClustercClusterContractGemmOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t err_size);
void clustercClusterContractGemmOptionsFree(ClustercClusterContractGemmOptions *o);
/* A module pass (`cluster-contract-gemm`); the pass copies *o. */
MlirPass clustercCreateClusterContractGemmPass(const ClustercClusterContractGemmOptions *o);
MlirPass clustercCreateClusterContractGemmPassFromString(MlirStringRef options,
                                                         MlirStringCallback onError,
                                                         void *userData);

/* ---- cluster-outline-loops -------------------------------------------------
 *
 * Moves every top-level scf.for / scf.parallel nest of each function (after
 * convert-linalg-to-loops) into a private function with
 * passthrough = ["noinline"] and calls it (passes/cluster-outline-loops.c):
 * LLVM then compiles many small functions instead of one huge one. Values
 * the nest uses from above become arguments, constants are cloned in;
 * identical nests share one function. Values are unchanged (the code only
 * moves). */
typedef struct ClustercClusterOutlineLoopsOptions {
  int64_t minOps; /* default 1: smaller nests stay in place */
  bool merge;     /* default true: identical nests share one function */
  int64_t optnoneCallers; /* default 0 (off): a function that called N or
                           * more nests and has no loop or branch (an scf.if
                           * may stay) left gets
                           * passthrough noinline, optnone */
} ClustercClusterOutlineLoopsOptions;

void clustercClusterOutlineLoopsOptionsInit(ClustercClusterOutlineLoopsOptions *o);
int clustercClusterOutlineLoopsOptionsParse(ClustercClusterOutlineLoopsOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t err_size);
void clustercClusterOutlineLoopsOptionsFree(ClustercClusterOutlineLoopsOptions *o);
/* A module pass (`cluster-outline-loops`); the pass copies *o. */
MlirPass clustercCreateClusterOutlineLoopsPass(const ClustercClusterOutlineLoopsOptions *o);
MlirPass clustercCreateClusterOutlineLoopsPassFromString(MlirStringRef options,
                                                         MlirStringCallback onError,
                                                         void *userData);

/* ---- cluster-early-dealloc -------------------------------------------------
 *
 * Moves each memref.dealloc of a buffer allocated in the same block to just
 * after the buffer's last use (views and uses nested in loops included;
 * passes/cluster-early-dealloc.c). MLIR's buffer-deallocation-pipeline
 * frees every buffer of a block at the block's end, so a training step
 * held all its activations and gradients until it returned. A dealloc
 * whose buffer may escape stays. Values are unchanged (frees only move). */
typedef struct ClustercClusterEarlyDeallocOptions {
  int64_t minBytes; /* default 0: smaller buffers (static shape) stay */
} ClustercClusterEarlyDeallocOptions;

void clustercClusterEarlyDeallocOptionsInit(ClustercClusterEarlyDeallocOptions *o);
int clustercClusterEarlyDeallocOptionsParse(ClustercClusterEarlyDeallocOptions *o,
                                            const char *text, size_t len, char *err,
                                            size_t err_size);
void clustercClusterEarlyDeallocOptionsFree(ClustercClusterEarlyDeallocOptions *o);
/* A module pass (`cluster-early-dealloc`); the pass copies *o. */
MlirPass clustercCreateClusterEarlyDeallocPass(const ClustercClusterEarlyDeallocOptions *o);
MlirPass clustercCreateClusterEarlyDeallocPassFromString(MlirStringRef options,
                                                         MlirStringCallback onError,
                                                         void *userData);

/* ---- Embedding in other pipelines ------------------------------------------
 *
 * Each pass can also be created from option text in pipeline syntax: the
 * text between the braces of `cluster-weights{...}`, e.g.
 * "clusters=8 init=linear layers=fc*:4". On bad options the result is a null
 * pass (`.ptr == NULL`) and the message goes to onError (may be NULL). The
 * pass is owned by the caller until handed to mlirPassManagerAddOwnedPass or
 * mlirOpPassManagerAddOwnedPass. */
MlirPass clustercCreateClusterWeightsPassFromString(MlirStringRef options,
                                                    MlirStringCallback onError,
                                                    void *userData);

/* Every clusterc pass, in a fixed order. */
typedef struct ClustercPassInfo {
  const char *argument;    /* pipeline name, e.g. "cluster-weights" */
  const char *name;        /* C name, e.g. "ClusterWeights" */
  const char *description;
  MlirPass (*createFromString)(MlirStringRef options,
                               MlirStringCallback onError, void *userData);
} ClustercPassInfo;

intptr_t clustercGetNumPasses(void);
/* Borrowed, static; NULL when pos is out of range. */
const ClustercPassInfo *clustercGetPassInfo(intptr_t pos);
/* The pass with this pipeline name, or NULL. */
const ClustercPassInfo *clustercLookupPass(MlirStringRef argument);

/* Registers every clusterc pass by name in MLIR's pass registry, so textual
 * pipelines can name them:
 *   clustercRegisterPasses();
 *   mlirParsePassPipeline(opm,
 *       mlirStringRefCreateFromCString(
 *           "builtin.module(canonicalize,cluster-weights{clusters=8})"),
 *       onError, userData);
 * (MLIR 19's C API has no mlirRegisterExternalPass.) Safe to call more than
 * once and from several threads. The mlir-opt plugin calls it too. */
void clustercRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_PASSES_H */
