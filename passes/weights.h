/*
 * The weight model both passes share: cluster-weights (which rewrites the
 * selected weights) and cluster-train (which trains them) must see the
 * same constants, with the same roles, names, selection and seeds, so that
 * a model trained with some options clusters the same weights afterwards.
 * Neither pass reaches into the other; what they share is here:
 *
 *  - finding: which ops are tensor constants (weightsInspect), their role
 *    (weight, bias, other), consumer and output-channel axis
 *    (weightsClassify; weights.c);
 *  - selection and naming by the cluster-weights options: the cluster count
 *    a weight gets (weightsSelectK), its layer name (weightsLayerName) and
 *    its clustering seed (weightsSeed; weights-select.c);
 *  - reading the values: raw bytes, conversion to f32, f16/bf16 rounding
 *    (weights.c).
 */
#ifndef CLUSTERC_PASSES_WEIGHTS_H
#define CLUSTERC_PASSES_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/passes.h"
#include "mlir-c/IR.h"

typedef enum WeightRole {
  ROLE_OTHER = 0, /* not consumed by a compute op as weight or bias */
  ROLE_WEIGHT,    /* a weight operand of a conv, matmul, fc, contraction */
  ROLE_BIAS,      /* a bias operand, or added to a compute op's result */
  ROLE_ZERO_POINT /* a TOSA 1.0 zero-point operand: part of the op's
                   * signature (0.x's quantization_info), neither
                   * clustered, trained nor reported */
} WeightRole;

typedef enum ElemKind {
  ELEM_F32, ELEM_F16, ELEM_BF16, ELEM_F64, ELEM_INT, ELEM_QUANT, ELEM_OTHER
} ElemKind;

/* The kinds both passes cluster and train: f32, f16, bf16. */
static inline bool weightsIsFloat(ElemKind k) {
  return k == ELEM_F32 || k == ELEM_F16 || k == ELEM_BF16;
}

typedef enum ConstForm { FORM_DENSE, FORM_SPLAT, FORM_RESOURCE, FORM_UNKNOWN } ConstForm;

/* A tensor constant (`arith.constant`, `tosa.const`, or an immutable
 * `ml_program.global` read by `ml_program.global_load_const`) and what
 * feeds on it. */
typedef struct ConstInfo {
  MlirOperation op;      /* the constant or the global */
  MlirOperation *loads;  /* for a global: its global_load_const ops (owned) */
  size_t numLoads;
  MlirAttribute value;
  MlirType type;         /* ranked tensor type of the result */
  ElemKind elem;
  ConstForm form;
  WeightRole role;
  MlirOperation consumer;/* the compute op (null if none) */
  int channelAxis;       /* output-channel axis of the constant, -1 unknown */
  intptr_t rank;
  int64_t *shape;        /* owned */
  uint64_t elements;      /* UINT64_MAX when tooLarge */
  bool tooLarge;         /* the product of the shape overflows int64 */
  unsigned elemBytes;    /* storage bytes per element (0 if unknown) */
} ConstInfo;

/* True if op is a tensor constant op or an immutable tensor global we
 * understand; fills *ci except the role (see weightsClassify). Release with
 * weightsRelease. */
bool weightsInspect(MlirOperation op, ConstInfo *ci);
/* The attribute holding a constant op's value: `value`, or `values` for a
 * TOSA 1.0 tosa.const (MLIR 22). */
const char *weightsValueAttrName(MlirOperation op);

/* weights-model.c: the function cluster-train trains (and write-back
 * writes into): `want`, else "forward", else the only public function with
 * a body; a null op with a message in err otherwise. */
MlirOperation weightsModelFunction(MlirOperation module, const char *want,
                                   char *err, size_t errSize);
/* The tensor constants under root (weightsInspect), in walk order. Each
 * item is released with weightsRelease, then free(items). False when out
 * of memory (l->oom; the items collected so far are still owned). */
typedef struct WeightsList {
  ConstInfo *items;
  size_t n, cap;
  bool oom;
} WeightsList;
bool weightsCollect(MlirOperation root, WeightsList *l);
/* Sets ci->role, consumer and channel axis from the users of the constant,
 * or of the global's loads (ci->loads). */
void weightsClassify(ConstInfo *ci);
void weightsRelease(ConstInfo *ci);
/* True for a layout-only linalg.generic: one input, one output, all
 * parallel iterators, projected-permutation maps, a body that yields its
 * input (a transpose or broadcast copy, as torch-mlir's FC weights). */
bool weightsIsLayoutGeneric(MlirOperation op);
/* True for `ml_program.global_load_const`; *symbol gets the global's name. */
bool weightsIsGlobalLoad(MlirOperation op, MlirStringRef *symbol);
/* The symbol name of an ml_program.global. */
MlirStringRef weightsGlobalName(MlirOperation global);

/* Name of a kind and form, for reports. */
const char *weightsElemName(ElemKind k);
const char *weightsFormName(ConstForm f);

/* Reads a float constant (f32, f16, bf16; dense or dense_resource) into a
 * new float buffer of ci->elements values. Returns NULL and sets *why to a
 * static message on failure (missing blob, size mismatch, out of memory). */
float *weightsReadF32(const ConstInfo *ci, const char **why);
/* weightsReadF32 in two steps, so that the conversion can run off the
 * thread that owns the IR: the raw bytes of the constant (borrowed from
 * the attribute, which lives as long as the context; false with *why set
 * as above), then a new float buffer of ci->elements values from them
 * (NULL when out of memory; touches no MLIR object). */
bool weightsRawData(const ConstInfo *ci, const void **data, size_t *size,
                    const char **why);
float *weightsConvertF32(const ConstInfo *ci, const void *data, size_t size);

/* widen.c: every f16/bf16 type of module becomes f32 (values, block
 * arguments, function types, type/float/dense attributes, the constants'
 * values converted exactly, dense_resource blobs included); extf/truncf
 * that then convert f32 to f32 are removed. 1 when something changed, 0
 * when the module had no half types, -1 with *why set (a constant's blob
 * missing or of the wrong size, out of memory). */
int weightsWidenToF32(MlirOperation module, const char **why);

/* f32 <-> f16/bf16 (round to nearest even). */
float weightsHalfToFloat(uint16_t h);
uint16_t weightsFloatToHalf(float f);
float weightsBF16ToFloat(uint16_t h);
uint16_t weightsFloatToBF16(float f);

/* Copies a string ref into a new NUL-terminated string (NULL on OOM). */
char *weightsStrDup(MlirStringRef s);

/* True when the constant is a batch-norm running mean, variance or epsilon
 * (the data flow of (x - mean) / sqrt(var + eps); see weights.c). */
bool weightsIsBatchNormStat(const ConstInfo *ci);

/* ---- Selection and naming (weights-select.c) ---------------------------- */

/* Whether any of the n selectors matches the weight named `name` with
 * weight index `index` of `count` (-1: not a weight; index selectors do not
 * match it). */
bool weightsSelectorsMatch(const ClustercSelector *s, size_t n, const char *name,
                           int index, int count);

/* The cluster count the options give the constant ci named `name`, with
 * weight index `index` of `count` (-1 for a forced non-weight): 0 = not
 * selected, and *why says why (a static string). */
unsigned weightsSelectK(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                        const char *name, int index, int count,
                        const char **why);
/* True when force= and a glob of only= take ci, a float constant that is
 * not a weight, to be clustered anyway. */
bool weightsForced(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                   const char *name);
/* The weight index of each of items[0..n) (all under root, classified):
 * weights numbered from 0 in the execution order of their consumers, -1
 * for the others. False when out of memory. */
bool weightsNumber(MlirOperation root, const ConstInfo *const *items, size_t n,
                   int *index);
/* Every selector of only= and layers= must match one of the n weights
 * (names[i] is weight index i) or, by name, one of the constants force=
 * takes (names[n..numNames)): one that matches none is an error at loc
 * (false), or a warning with allow-empty-selection (a typo in a layer name
 * used to select nothing, silently). */
bool weightsCheckSelectors(const char *pass, const ClustercClusterWeightsOptions *o,
                           const char *const *names, int n, int numNames,
                           MlirLocation loc);
/* Layer name: the constant's NameLoc, a global's symbol, the consumer's
 * NameLoc, or file:line:col (else weight#index). New string, caller frees;
 * NULL when out of memory. */
char *weightsLayerName(const ConstInfo *ci, int index);
/* The clustering seed of weight `index` given the options' seed: each
 * weight its own, so results do not depend on the order of clustering. */
uint64_t weightsSeed(uint64_t seed, int index);
/* libclusterrt's options for K clusters under o: its init, palette
 * (uniform: linear, no Lloyd) and lloyd-iterations (cluster-weights.c). */
clusterrt_cluster_options weightsClusterOptions(const ClustercClusterWeightsOptions *o,
                                                size_t k, uint64_t seed);
/* SplitMix64's mixing step (seeds of per-channel tables). */
uint64_t weightsSplitMix64(uint64_t x);

/* The channel axis per-channel= / group-size= give ci (channel-axis=, else
 * the consumer's output-channel axis, else 0), and the group in *group
 * (1 per channel); -1 and group 1 per tensor. The axis may be out of
 * range: callers check it against ci->rank. */
int weightsGroupAxis(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                     size_t *group);

/* The tables cluster-weights makes for one weight: `tables` tables of k
 * centroids each (padded to a common k by repeating the last entry),
 * table t serving channels [t * group, (t + 1) * group) of the layout
 * [outer][chans][inner] (outer = chans = group = 1, inner = n per tensor). */
typedef struct WeightsTables {
  float *table; /* tables * k, malloc'd */
  size_t k, tables, outer, chans, inner, group;
} WeightsTables;

/* Clusters the ci->elements values w with kReq clusters along `axis`
 * (-1: per tensor) as cluster-weights does (its palette, init, Lloyd,
 * preserve-sparsity). */
clusterrt_status weightsClusterTables(const float *w, const ConstInfo *ci, int axis,
                                      size_t group, unsigned kReq,
                                      const ClustercClusterWeightsOptions *o,
                                      uint64_t seed, WeightsTables *out);

#endif
