/*
 * Gather-accumulate (the gradient of decode) and cluster counts.
 * Kernels take aligned formats; odd widths are unpacked to u8/u16 in
 * blocks of RT_BLOCK first.
 *
 *   SUM: gc[k] = sum of g[i] over idx[i] == k
 *   AVG: that sum / (float)counts[k], 0 for an empty cluster
 *
 * The entry points validate indices block by block (a block of indices is
 * checked while it is in L1, then accumulated), so kernels see only
 * indices < k. Sums are float. The generic kernel keeps four banks of
 * partial sums (element i goes to bank i % 4, combined as (b0+b1)+(b2+b3))
 * so consecutive equal indices do not serialise on one memory location;
 * SIMD kernels use their own per-lane partial sums. Orders differ, so ISAs
 * agree within the bound documented in runtime/README.md:
 *   |gc_isa[k] - exact| <= count[k] * 2^-23 * sum_{idx[i]=k} |g[i]|.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define ACC_BLOCK 65536

void clusterrt_accumulate__generic(const float *g, const void *idx,
                                   clusterrt_index_format f, size_t n,
                                   size_t k, float *sums, uint64_t *counts) {
  if (k <= 256) {
    float acc[4][256];
    uint32_t cnt[4][256];
    memset(acc, 0, sizeof acc);
    memset(cnt, 0, sizeof cnt);
    size_t i = 0;
    if (f == CLUSTERRT_IDX_U8) {
      const uint8_t *b = (const uint8_t *)idx;
      for (; i + 4 <= n; i += 4) {
        acc[0][b[i]] += g[i];
        acc[1][b[i + 1]] += g[i + 1];
        acc[2][b[i + 2]] += g[i + 2];
        acc[3][b[i + 3]] += g[i + 3];
        cnt[0][b[i]]++;
        cnt[1][b[i + 1]]++;
        cnt[2][b[i + 2]]++;
        cnt[3][b[i + 3]]++;
      }
    }
    for (; i < n; i++) {
      uint32_t v = rt_index_get(idx, f, i);
      acc[i & 3][v] += g[i];
      cnt[i & 3][v]++;
    }
    for (size_t j = 0; j < k; j++) {
      sums[j] += (acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j]);
      if (counts)
        counts[j] += (uint64_t)cnt[0][j] + cnt[1][j] + cnt[2][j] + cnt[3][j];
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t v = rt_index_get(idx, f, i);
    sums[v] += g[i];
    if (counts) counts[v]++;
  }
}

static clusterrt_status check_args(const void *idx, clusterrt_index_format f,
                                   size_t n, size_t k) {
  if (n > 0 && !idx) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (clusterrt_format_bits(f) == 0) return CLUSTERRT_ERR_FORMAT;
  return CLUSTERRT_OK;
}

/* The nb indices from element e (a multiple of 8) as the kernels take
 * them: in place for an aligned format (*fb = f), else unpacked into
 * scratch (RT_BLOCK entries) as u8/u16 (*fb says which). */
static const void *idx_block(const void *idx, clusterrt_index_format f,
                             size_t e, size_t nb, uint16_t *scratch,
                             clusterrt_index_format *fb) {
  *fb = f;
  if (clusterrt_format_aligned(f))
    return (const uint8_t *)idx + e / 8 * clusterrt_format_bits(f);
  *fb = rt_unpacked_format(f);
  rt_unpack(idx, f, e, nb, scratch);
  return scratch;
}

/* Elements per block: odd widths are unpacked RT_BLOCK at a time. */
static size_t block_of(clusterrt_index_format f) {
  return clusterrt_format_aligned(f) ? ACC_BLOCK : RT_BLOCK;
}

/* The block walk of accumulate and counts: walk_next gives the indices
 * of the next block as the kernels take them (idx_block), in format fb,
 * nb of them from element at; NULL past n. bad: an index is >= k
 * (checked only when the width can hold one). */
typedef struct idx_walk {
  const void *idx;
  clusterrt_index_format f, fb;
  size_t n, k, blk, i, at, nb;
  int check, bad;
  uint16_t scratch[RT_BLOCK];
} idx_walk;

static void walk_init(idx_walk *w, const void *idx, clusterrt_index_format f, size_t n,
                      size_t k) {
  unsigned bits = clusterrt_format_bits(f);
  w->idx = idx, w->f = f, w->n = n, w->k = k, w->i = 0;
  w->blk = block_of(f);
  w->check = bits == 16 || k < ((size_t)1 << bits);
}

static inline const void *walk_next(idx_walk *w) {
  if (w->i >= w->n) return NULL;
  w->at = w->i;
  w->nb = w->n - w->i < w->blk ? w->n - w->i : w->blk;
  w->i += w->nb;
  const void *ib = idx_block(w->idx, w->f, w->at, w->nb, w->scratch, &w->fb);
  w->bad = w->check && rt_index_max(ib, w->fb, w->nb) >= w->k;
  return ib;
}

clusterrt_status clusterrt_accumulate_f32(const float *g, const void *idx,
                                          clusterrt_index_format f, size_t n,
                                          size_t k, clusterrt_reduce r,
                                          float *gc, uint64_t *counts) {
  clusterrt_status s = check_args(idx, f, n, k);
  if (s) return s;
  if (!gc || (n > 0 && !g)) return CLUSTERRT_ERR_NULL;
  if (r != CLUSTERRT_REDUCE_SUM && r != CLUSTERRT_REDUCE_AVG)
    return CLUSTERRT_ERR_ARG;
  uint64_t *cnt = counts;
  if (!cnt && r == CLUSTERRT_REDUCE_AVG) {
    cnt = malloc(k * sizeof *cnt);
    if (!cnt) return CLUSTERRT_ERR_NOMEM;
  }
  memset(gc, 0, k * sizeof *gc);
  if (cnt) memset(cnt, 0, k * sizeof *cnt);
  const rt_kernels *kern = rt_get_kernels();
  idx_walk w;
  walk_init(&w, idx, f, n, k);
  for (const void *ib; (ib = walk_next(&w));) {
    if (w.bad) {
      s = CLUSTERRT_ERR_INDEX;
      break;
    }
    kern->accumulate(g + w.at, ib, w.fb, w.nb, k, gc, cnt);
  }
  if (!s && r == CLUSTERRT_REDUCE_AVG)
    for (size_t j = 0; j < k; j++)
      gc[j] = cnt[j] ? (float)((double)gc[j] / (double)cnt[j]) : 0.0f;
  if (cnt != counts) free(cnt);
  return s;
}

clusterrt_status clusterrt_counts(const void *idx, clusterrt_index_format f,
                                  size_t n, size_t k, uint64_t *counts) {
  clusterrt_status s = check_args(idx, f, n, k);
  if (s) return s;
  if (!counts) return CLUSTERRT_ERR_NULL;
  memset(counts, 0, k * sizeof *counts);
  idx_walk w;
  walk_init(&w, idx, f, n, k);
  for (const void *ib; (ib = walk_next(&w));) {
    if (w.bad) return CLUSTERRT_ERR_INDEX;
    size_t nb = w.nb;
    clusterrt_index_format fb = w.fb;
    if (fb == CLUSTERRT_IDX_U8) {
      uint32_t c4[4][256];
      memset(c4, 0, sizeof c4);
      const uint8_t *b = (const uint8_t *)ib;
      size_t j = 0;
      for (; j + 4 <= nb; j += 4) {
        c4[0][b[j]]++;
        c4[1][b[j + 1]]++;
        c4[2][b[j + 2]]++;
        c4[3][b[j + 3]]++;
      }
      for (; j < nb; j++) c4[0][b[j]]++;
      for (size_t q = 0; q < k && q < 256; q++) /* u8 reaches 256 at most */
        counts[q] += (uint64_t)c4[0][q] + c4[1][q] + c4[2][q] + c4[3][q];
    } else {
      for (size_t j = 0; j < nb; j++) counts[rt_index_get(ib, fb, j)]++;
    }
  }
  return CLUSTERRT_OK;
}
