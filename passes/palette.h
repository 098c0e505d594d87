/*
 * Extended palettes of cluster-weights (weights-palette.c): quantized
 * tables (table-type=int8|uint8), per-channel scales (per-channel-scale)
 * and vector palettes (cluster-dim=D), alone or together, with one table,
 * per-channel or grouped tables.
 *
 * A weight W of shape s is stored as
 *   idx    : one index per vector, the vectors being D consecutive elements
 *            along `vaxis` (the "index space" is s with s[vaxis] / D),
 *            flat in index-space order, packed as any other index buffer;
 *   table  : tables x k x D entries, float in the weight's type, or int8 /
 *            uint8 codes with an f32 scale (and a uint8 zero point) per
 *            table;
 *   cscale : with per-channel-scale, one f32 per slice along `saxis`.
 * and element i (index-space position v, vector element e, table t,
 * channel ch) decodes, in f32, to
 *   x = table[t][idx[v]][e]                       (float tables, widened)
 *   x = qscale[t] * (float)(q[t][idx[v]][e] - zp[t])  (quantized tables)
 *   x = x * cscale[ch]                            (per-channel scale)
 * rounded to the weight's type. The pass's reference decode (paletteDecode)
 * and the IR decode (paletteBuildDecode) compute exactly this, operation
 * for operation, so the decoded weights are the same bits on both sides.
 */
#ifndef CLUSTERC_PASSES_PALETTE_H
#define CLUSTERC_PASSES_PALETTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/passes.h"
#include "ir.h"
#include "weights.h"

typedef struct Palette {
  /* Layout (paletteLayout). */
  size_t dim;      /* D, 1 for scalars */
  int vaxis;       /* the vectors' axis (-1 when dim == 1) */
  int taxis;       /* the tables' axis, -1: one table */
  size_t group;    /* channels per table along taxis */
  int saxis;       /* the per-channel scales' axis, -1: none */
  ClustercTableType ttype;
  /* Results (paletteCluster). */
  size_t tables, k;
  float *table;    /* tables x k x dim, as decoded before cscale */
  uint8_t *q;      /* int8/uint8 codes, tables x k x dim */
  float *qscale;   /* tables */
  uint8_t *qzp;    /* uint8: tables */
  float *cscale;   /* shape[saxis] */
  uint32_t *idx;   /* nIdx */
  size_t nIdx;
} Palette;

/* True when o asks for an extended palette. */
bool paletteWanted(const ClustercClusterWeightsOptions *o);

/* The options' combinations the pass cannot honour: a usage message in
 * buf, or NULL when they are fine. */
const char *paletteCheckOptions(const ClustercClusterWeightsOptions *o,
                                char *buf, size_t size);

/* Sets the layout of p for ci: taxis/group as the caller chose them,
 * chanAxis the output-channel axis (for the scales). False with a message
 * in why when the weight cannot take it (an axis that does not divide by
 * D, the vectors along the tables' or scales' axis). */
bool paletteLayout(Palette *p, const ClustercClusterWeightsOptions *o,
                   const ConstInfo *ci, int taxis, size_t group, int chanAxis,
                   char *why, size_t whySize);

/* A scalar table from m values (D = 1): the pass's own palettes (kmeans,
 * uniform, unique, a user table); tab has room for the user table's k or
 * kReq entries. */
typedef clusterrt_status (*PaletteTableFn)(void *user, const float *src, size_t m,
                                           size_t t, uint64_t seed, float *tab,
                                           size_t *kt);

/* Clusters w (ci's elements as f32) into p (layout set). kRoom: the room a
 * scalar table needs. */
clusterrt_status paletteCluster(Palette *p, const float *w, const ConstInfo *ci,
                                unsigned kReq, size_t kRoom,
                                const ClustercClusterWeightsOptions *o,
                                uint64_t seed, PaletteTableFn fn, void *user);

/* The decoded weights (values of the weight's type, as f32) into out[n]. */
void paletteDecode(const Palette *p, const ConstInfo *ci, float *out);

/* Bytes of the tables, scales and zero points (not the indices). */
size_t paletteTableBytes(const Palette *p, const ConstInfo *ci);

void paletteFree(Palette *p);

/* The index at bit position flat * bits of the little-endian packed byte
 * tensor idx (1-D i8, idxBytes long), as an index value; in a
 * linalg.generic body. */
MlirValue irPackedIndex(IrBuilder *bb, MlirValue idx, MlirValue flat,
                        unsigned bits, size_t idxBytes);

/* The IR decode: a linalg.generic over the weight's shape reading
 * parts = {table, idx, [qscale, [qzp]], [cscale]} (see paletteParts). */
MlirValue paletteBuildDecode(IrBuilder *b, const ConstInfo *ci, const Palette *p,
                             clusterrt_index_format fmt, size_t idxBytes,
                             const MlirValue *parts);

#endif
