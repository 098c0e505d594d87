/*
 * The functions cluster-train generates, as the host sees them: which
 * argument and result is what (the `clusterc.arguments` / `clusterc.results`
 * "kind:name" strings), and buffers for all of them.
 */
#ifndef CLUSTERC_TRAINSIG_H
#define CLUSTERC_TRAINSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/codegen.h"
#include "mlir-c/IR.h"

typedef enum TsKind {
  TS_INPUT, TS_LABELS, TS_WEIGHT, TS_INDICES, TS_CENTROIDS, TS_PARAM,
  TS_LOSS, TS_GRAD_WEIGHT, TS_GRAD_CENTROIDS, TS_GRAD_PARAM, TS_LOGITS,
  TS_UNKNOWN
} TsKind;

/* A clustered weight's tables (the step's `clusterc.layouts`, on its
 * centroids argument): `tables` tables of k centroids, table t serving
 * channels [t * group, (t + 1) * group) of [outer][chans][inner]; the
 * indices are global (t * k + slot). sparse: preserve-sparsity (zeros stay
 * on their table's zero slot, which keeps the value 0). */
typedef struct TsLayout {
  size_t tables, k, outer, chans, inner, group;
  int sparse;
} TsLayout;

typedef struct TsSlot {
  TsKind kind;
  char *name;      /* the layer name ("arg0" for inputs) */
  TsLayout layout; /* centroids of the step: their tables; else zero */
} TsSlot;

/* idx = the assignment of the n weights w to the tables c of `l` (global
 * indices, u8 when tables * k <= 256, else u16). */
int tsAssign(const TsLayout *l, const float *w, size_t n, const float *c, void *idx);

typedef struct TsFunc {
  char *name;
  int nArgs, nResults;
  TsSlot *args, *results;
} TsFunc;

/* The three functions of one model, read from the module before lowering. */
typedef struct TrainSig {
  TsFunc step, eval, init;
  int nFrozen; /* parameters the step keeps constant (clusterc.frozen) */
} TrainSig;

/* Reads the generated functions of the module (after cluster-train). False
 * with a message to fn when they are missing. */
bool tsRead(MlirModule module, TrainSig *sig, ClustercMessageFn fn, void *user);
void tsFree(TrainSig *sig);

/* The starting values, taken out of the module before it is compiled: the
 * constants _train_init returns, one per result (attributes of the
 * context, which outlive the module; nothing is copied). */
typedef struct TsInit {
  int n;
  MlirAttribute *values;
} TsInit;

/* Reads init's values, then leaves in the module only what the step and the
 * evaluation use: _train_init goes, and so do the model function and
 * whatever only it references (its weights). The compiled code, and with it
 * the JIT cache key, then depends on the shapes and the options, not on the
 * initial centroids, indices or weights (another seed, --init or a
 * fine-tuned model of the same shape compiles to the same object). False
 * with a message to fn (init returns something other than constants, or
 * out of memory). */
bool tsTakeInit(MlirModule module, const TrainSig *sig, TsInit *init, ClustercMessageFn fn,
                void *user);
/* Copies value r into buf, `bytes` bytes (a splat is repeated): false when
 * its size differs or its data cannot be read. */
bool tsInitCopy(const TsInit *init, int r, void *buf, size_t bytes);
void tsInitFree(TsInit *init);

/* The index of the first slot of `kind` named `name` (NULL: any), or -1. */
int tsFind(const TsSlot *slots, int n, TsKind kind, const char *name);

/* A set of buffers, one per argument or result of a JIT function. */
typedef struct TsBuffers {
  int n;
  void **data;
} TsBuffers;

/* Allocates zeroed buffers for f's arguments (args = true) or results. */
bool tsAlloc(TsBuffers *b, const ClustercJitFunc *f, bool args);
void tsRelease(TsBuffers *b);

/* splitmix64: the training code's small deterministic generator. */
static inline uint64_t tsRandom(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#endif
