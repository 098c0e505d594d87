/*
 * decode=fused (cluster-weights): matrix products whose weight is
 * clustered become calls of libclusterrt's LUT kernels, which compute
 * straight from the packed indices and the centroid tables (fuse-lut.c).
 */
#ifndef CLUSTERC_PASSES_FUSE_LUT_H
#define CLUSTERC_PASSES_FUSE_LUT_H

#include <stdbool.h>
#include <stddef.h>

#include "clusterc/runtime.h"
#include "ir.h"
#include "weights.h"

/* A clustered weight as cluster-weights made it. */
typedef struct FuseWeight {
  const ConstInfo *ci;
  const float *table;          /* tables x k floats */
  size_t k, tables;
  int axis;                    /* the tables' axis of the constant, -1: one */
  clusterrt_index_format fmt;
  const void *idx;             /* the constant's elements in flat order */
  /* Makes a constant of type t holding `bytes` (the weight's own form:
   * dense, or a dense_resource blob named after it plus `suffix`). */
  MlirValue (*makeConst)(void *user, IrBuilder *b, MlirType t,
                         const void *bytes, size_t size, size_t align,
                         const char *suffix);
  void *user;
  /* What the fused calls store, summed over them (may be NULL): the bytes
   * of their repacked indices and tables, and the index width the kernels
   * read (an odd width is widened: K = 8 stores 3-bit indices in the
   * weight's own form but 4-bit ones for the kernels). */
  uint64_t *storedBytes;
  unsigned *storedBits;
} FuseWeight;

/* Replaces each user of `value` (the weight's constant result, or one
 * load of its global) that is a matrix product a LUT call can compute by
 * that call; new constants go before value's defining op. Returns the
 * number of uses left, which still need the decode; the first one's
 * reason ("<op>: <why>") goes to why[0..whySize). -1 when out of memory. */
int fuseLutUses(MlirValue value, const FuseWeight *w, MlirOperation module,
                char *why, size_t whySize);

#endif
