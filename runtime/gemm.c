/*
 * Float GEMM (clusterrt_sgemm_f32) and the contractions of compiled models
 * (rt_contract_f32, called by memref-abi.c's clusterrt_mlir_sgemm).
 *
 * Method (Goto/BLIS): C is computed in blocks of NC columns; for each
 * block of KC depth a KC x NC panel of B is packed into NR-wide
 * micro-panels (zero-padded), then for each block of MC rows an MC x KC
 * panel of A (times alpha) into MR-wide micro-panels; a register-tiled
 * micro-kernel (per ISA: gemm-avx512.c 12 x 32 or 8 x 32, gemm-avx2.c
 * 6 x 16, gemm-neon.c 8 x 12, here 4 x 16) adds each MR x NR product into C.
 * Tiles of C whose rows are evenly spaced with unit column stride are
 * updated in place; others (edges, gathered outputs) through a small
 * buffer. Operands are addressed through offset tables (gemm.h), so
 * transposes, batch strides and convolution windows all pack the same way.
 *
 * Summation order: within a KC block, the micro-kernel's order; blocks are
 * added to C in order. Results differ from a sequential loop by rounding
 * (the tests bound the difference by the K * 2^-24 * sum |a*b| error of
 * any summation order).
 */
#include "internal.h"
#include "gemm.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { GEMM_KC = 256, GEMM_MC = 144, GEMM_NC = 3072, GEMM_MAX_NR = 32, GEMM_MAX_TILE = 32 * 32 };

static size_t minz(size_t a, size_t b) { return a < b ? a : b; }
static int64_t absz(int64_t v) { return v < 0 ? -v : v; }

/* Whether the n offsets t[0..n) are t[0], t[0] + 1, ... */
static bool adjacent(const ptrdiff_t *t, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (t[i] != t[0] + (ptrdiff_t)i) return false;
  return true;
}

/* Row r, elements [k0, k0+kc) of a clustered operand, decoded into out
 * (k0 is a multiple of GEMM_KC, so it starts on a byte for every width);
 * nonzero if an index is out of range. */
static int lutRow(const rt_gemm_lut *l, size_t r, size_t k0, size_t kc, float *out) {
  unsigned bits = clusterrt_format_bits((clusterrt_index_format)l->format);
  return rt_get_kernels()->decode(l->idx + r * l->row_bytes + k0 * bits / 8,
                                  (clusterrt_index_format)l->format, kc,
                                  l->c + (l->group ? r / l->group : 0) * l->k, l->k, out);
}

typedef float rt_v4f __attribute__((vector_size(16)));
#if defined(__clang__)
#define SHUF4(x, y, i0, i1, i2, i3) __builtin_shufflevector(x, y, i0, i1, i2, i3)
#else
typedef int rt_v4i __attribute__((vector_size(16)));
#define SHUF4(x, y, i0, i1, i2, i3) __builtin_shuffle(x, y, (rt_v4i){i0, i1, i2, i3})
#endif

/* One NR-wide panel of B whose depth steps lie in runs adjacent in B, on
 * average 4 or more long, and whose columns do not (B transposed: a
 * weight [N][K]; a weight gradient's input, whose depth is the output
 * positions, ow next to ow + 1, and whose columns the window taps): reads
 * each column's run and stores it NR apart, four columns by four depth
 * steps at a time through a 4 x 4 transpose in registers. (packA packs
 * MR-row panels of A the same way: its rows are this function's columns.) The gather it
 * replaces loaded an offset and a float per element, 4-7 % of ResNet-18's
 * float step. False, nothing written, when the runs are shorter. */
static bool packDepthRuns(const float *b, const ptrdiff_t *bk, size_t kc, const ptrdiff_t *bn,
                          size_t nr, size_t NR, float *pp) {
  size_t nrun = 1;
  for (size_t k = 1; k < kc; k++) nrun += bk[k] != bk[k - 1] + 1;
  if (4 * nrun > kc) return false;
  for (size_t k0 = 0, k1; k0 < kc; k0 = k1) {
    for (k1 = k0 + 1; k1 < kc && bk[k1] == bk[k1 - 1] + 1;) k1++;
    const float *base = b + bk[k0];
    size_t len = k1 - k0, j = 0;
    for (; j + 4 <= nr; j += 4) {
      const float *s[4] = {base + bn[j], base + bn[j + 1], base + bn[j + 2], base + bn[j + 3]};
      float *d = pp + k0 * NR + j;
      size_t t = 0;
      for (; t + 4 <= len; t += 4, d += 4 * NR) {
        rt_v4f r[4];
        for (int i = 0; i < 4; i++) memcpy(&r[i], s[i] + t, sizeof r[i]);
        rt_v4f t0 = SHUF4(r[0], r[1], 0, 4, 1, 5), t1 = SHUF4(r[0], r[1], 2, 6, 3, 7);
        rt_v4f t2 = SHUF4(r[2], r[3], 0, 4, 1, 5), t3 = SHUF4(r[2], r[3], 2, 6, 3, 7);
        rt_v4f o[4] = {SHUF4(t0, t2, 0, 1, 4, 5), SHUF4(t0, t2, 2, 3, 6, 7),
                       SHUF4(t1, t3, 0, 1, 4, 5), SHUF4(t1, t3, 2, 3, 6, 7)};
        for (int i = 0; i < 4; i++) memcpy(d + (size_t)i * NR, &o[i], sizeof o[i]);
      }
      for (; t < len; t++, d += NR)
        for (int i = 0; i < 4; i++) d[i] = s[i][t];
    }
    for (; j < nr; j++) {
      const float *src = base + bn[j];
      for (size_t t = 0; t < len; t++) pp[(k0 + t) * NR + j] = src[t];
    }
  }
  for (size_t k = 0; k < kc; k++)
    for (size_t j = nr; j < NR; j++) pp[k * NR + j] = 0.0f;
  return true;
}

/* Packs rows [i0, i0+mc) x depth [k0, k0+kc) of A into MR-wide panels;
 * step[p] gets the row spacing of panel p in C if its rows are evenly
 * spaced and all present, else PTRDIFF_MIN. */
static void packA(const rt_gemm_args *g, size_t i0, size_t mc, size_t k0,
                  size_t kc, size_t MR, float *ap, ptrdiff_t *step, float *row, int *bad) {
  for (size_t p = 0; p < mc; p += MR) {
    float *pp = ap + p * kc;
    /* Rows apart in A, depth in runs (a weight gradient's output gradient:
     * rows the channels, depth the positions): 4 x 4 transposes, as for B.
     * Rows next to each other take the copy below instead. */
    bool done = !g->alut && g->alpha == 1.0f && !adjacent(g->am + i0 + p, minz(MR, mc - p)) &&
                packDepthRuns(g->a, g->ak + k0, kc, g->am + i0 + p, minz(MR, mc - p), MR, pp);
    for (size_t i = 0; i < MR && !done; i++) {
      if (p + i < mc && g->alut) {
        *bad |= lutRow(g->alut, i0 + p + i, k0, kc, row);
        for (size_t k = 0; k < kc; k++) pp[k * MR + i] = g->alpha * row[k];
      } else if (!g->alut && p + MR <= mc && i == 0 && adjacent(g->am + i0 + p, MR)) {
        /* Rows next to each other in A (channels-last activations): copy
         * MR floats per depth step instead of gathering a row at a time
         * with MR-strided stores. */
        const float *a0 = g->a + g->am[i0 + p];
        const ptrdiff_t *ak = g->ak + k0;
        for (size_t k = 0; k < kc; k++) {
          const float *src = a0 + ak[k];
          float *dst = pp + k * MR;
          if (g->alpha == 1.0f)
            for (size_t r = 0; r < MR; r++) dst[r] = src[r];
          else
            for (size_t r = 0; r < MR; r++) dst[r] = g->alpha * src[r];
        }
        break;
      } else if (p + i < mc) {
        const float *row = g->a + g->am[i0 + p + i];
        const ptrdiff_t *ak = g->ak + k0;
        if (g->alpha == 1.0f)
          for (size_t k = 0; k < kc; k++) pp[k * MR + i] = row[ak[k]];
        else
          for (size_t k = 0; k < kc; k++) pp[k * MR + i] = g->alpha * row[ak[k]];
      } else {
        for (size_t k = 0; k < kc; k++) pp[k * MR + i] = 0.0f;
      }
    }
    ptrdiff_t s = PTRDIFF_MIN;
    if (p + MR <= mc) {
      const ptrdiff_t *cm = g->cm + i0 + p;
      s = MR > 1 ? cm[1] - cm[0] : 0;
      for (size_t i = 2; i < MR && s != PTRDIFF_MIN; i++)
        if (cm[i] - cm[i - 1] != s) s = PTRDIFF_MIN;
    }
    step[p / MR] = s;
  }
}

/* dst[j] += src[j], j < n. */
static void addRun(float *restrict dst, const float *restrict src, size_t n) {
  for (size_t j = 0; j < n; j++) dst[j] += src[j];
}

/* One NR-wide panel of B (kc depth steps, nr <= NR columns at offsets bn)
 * whose columns lie in runs adjacent in B, on average 4 or more long: a
 * convolution's output positions (ow next to ow + 1, 8 of them per row of
 * an 8 x 8 image). Copies each run per depth step (fixed-size copies when
 * all runs are 4, 8 or 16 long) instead of gathering column by column
 * through the offset table, which cost ~70 % of packB in ResNet-18's
 * step. False, nothing written, when the runs are shorter. */
static bool packRuns(const float *b, const ptrdiff_t *bk, size_t kc, const ptrdiff_t *bn,
                     size_t nr, size_t NR, float *pp) {
  enum { MAX_RUNS = GEMM_MAX_NR / 4 };
  size_t start[MAX_RUNS + 1], nrun = 0;
  ptrdiff_t off[MAX_RUNS];
  if (nr > GEMM_MAX_NR) return false;
  for (size_t j = 0; j < nr; j++)
    if (!j || bn[j] != bn[j - 1] + 1) {
      if (4 * (nrun + 1) > nr) return false;
      off[nrun] = bn[j];
      start[nrun++] = j;
    }
  start[nrun] = nr;
  size_t L = start[1];
  for (size_t r = 1; r < nrun && L; r++)
    if (start[r + 1] - start[r] != L) L = 0; /* not uniform */
  for (size_t k = 0; k < kc; k++) {
    const float *src = b + bk[k];
    float *d = pp + k * NR;
    if (L == 4)
      for (size_t r = 0; r < nrun; r++) memcpy(d + 4 * r, src + off[r], 4 * sizeof(float));
    else if (L == 8)
      for (size_t r = 0; r < nrun; r++) memcpy(d + 8 * r, src + off[r], 8 * sizeof(float));
    else if (L == 16)
      for (size_t r = 0; r < nrun; r++) memcpy(d + 16 * r, src + off[r], 16 * sizeof(float));
    else
      for (size_t r = 0; r < nrun; r++)
        for (size_t j = start[r]; j < start[r + 1]; j++) d[j] = src[off[r] + (ptrdiff_t)(j - start[r])];
    for (size_t j = nr; j < NR; j++) d[j] = 0.0f;
  }
  return true;
}

/* Packs depth [k0, k0+kc) x columns [j0, j0+nc) of B into NR-wide panels;
 * unit[q] says whether panel q's columns are all present and adjacent in C. */
static void packB(const rt_gemm_args *g, size_t k0, size_t kc, size_t j0,
                  size_t nc, size_t NR, float *bp, unsigned char *unit, float *row,
                  int *bad) {
  for (size_t q = 0; q < nc; q += NR) {
    float *pp = bp + q * kc;
    size_t nr = minz(NR, nc - q);
    if (g->blut) {
      for (size_t j = 0; j < NR; j++) {
        if (j < nr)
          *bad |= lutRow(g->blut, j0 + q + j, k0, kc, row);
        for (size_t k = 0; k < kc; k++) pp[k * NR + j] = j < nr ? row[k] : 0.0f;
      }
    } else if (adjacent(g->bn + j0 + q, nr)) {
      const float *b0 = g->b + g->bn[j0 + q];
      for (size_t k = 0; k < kc; k++) {
        const float *src = b0 + g->bk[k0 + k];
        float *d = pp + k * NR;
        for (size_t j = 0; j < nr; j++) d[j] = src[j];
        for (size_t j = nr; j < NR; j++) d[j] = 0.0f;
      }
    } else if (packRuns(g->b, g->bk + k0, kc, g->bn + j0 + q, nr, NR, pp)) {
      /* done: the panel's columns lie in runs adjacent in B */
    } else if (packDepthRuns(g->b, g->bk + k0, kc, g->bn + j0 + q, nr, NR, pp)) {
      /* done: depth lies in runs adjacent in B */
    } else {
      const ptrdiff_t *bn = g->bn + j0 + q;
      for (size_t k = 0; k < kc; k++) {
        const float *brow = g->b + g->bk[k0 + k];
        float *d = pp + k * NR;
        for (size_t j = 0; j < nr; j++) d[j] = brow[bn[j]];
        for (size_t j = nr; j < NR; j++) d[j] = 0.0f;
      }
    }
    unsigned char u = nr == NR;
    const ptrdiff_t *cn = g->cn + j0 + q;
    for (size_t j = 1; j < nr && u; j++) u = cn[j] == cn[j - 1] + 1;
    unit[q / NR] = u;
  }
}

/* One call's work, split into chunks of whole rows (MR-aligned) or whole
 * columns (NR-aligned) of C that the pool's threads take in turn. Every
 * chunk keeps the sequential driver's tiles and depth blocks, so each
 * element of C is computed the same way whatever the split. */
typedef struct GemmJob {
  const rt_gemm_args *g;
  rt_gemm_tile_fn tile;
  size_t MR, NR, kcMax, mcMax, ncMax;
  bool splitN;           /* chunks of columns (else of rows) */
  size_t chunk, chunks;  /* rows or columns per chunk; their number */
  atomic_size_t next;    /* the next chunk to take */
  atomic_int bad, nomem;
  /* The operand every chunk needs whole (A when columns are split, B when
   * rows are), packed once for all depth blocks before the chunks start,
   * or NULL: each chunk packs it itself. Depth block b's panels start at
   * shared + b * kcMax * span (span: M or N rounded up to MR or NR). */
  float *shared;
  size_t span;
  ptrdiff_t *sharedStep;      /* packA's step[] for all rows */
  unsigned char *sharedUnit;  /* packB's unit[] for all columns */
} GemmJob;

/* Rows [i0, i1) x columns [j0, j1) of C (block edges at multiples of MR
 * and NR from the start of the chunk, itself MR/NR-aligned). */
static void gemmRange(GemmJob *J, size_t i0s, size_t i1, size_t j0s, size_t j1,
                      float *ap, float *bp, float *ct, float *row, ptrdiff_t *step,
                      unsigned char *unit, int *bad) {
  const rt_gemm_args *g = J->g;
  size_t MR = J->MR, NR = J->NR, K = g->K;
  bool sharedA = J->shared && J->splitN, sharedB = J->shared && !J->splitN;
  if (sharedA) step = J->sharedStep;
  if (sharedB) unit = J->sharedUnit;
  for (size_t j0 = j0s; j0 < j1; j0 += J->ncMax) {
    size_t nc = minz(J->ncMax, j1 - j0);
    for (size_t k0 = 0; k0 < K; k0 += J->kcMax) {
      size_t kc = minz(J->kcMax, K - k0);
      float *block = J->shared ? J->shared + k0 * J->span : NULL;
      const float *bb = bp;
      if (sharedB)
        bb = block + j0 * kc;
      else
        packB(g, k0, kc, j0, nc, NR, bp, unit, row, bad);
      for (size_t i0 = i0s; i0 < i1; i0 += J->mcMax) {
        size_t mc = minz(J->mcMax, i1 - i0);
        const float *ab = ap;
        if (sharedA)
          ab = block + i0 * kc;
        else
          packA(g, i0, mc, k0, kc, MR, ap, step, row, bad);
        const ptrdiff_t *st = sharedA ? step + i0 / MR : step;
        const unsigned char *un = sharedB ? unit + j0 / NR : unit;
        for (size_t q = 0; q < nc; q += NR) {
          const float *bq = bb + q * kc;
          for (size_t p = 0; p < mc; p += MR) {
            const float *apq = ab + p * kc;
            ptrdiff_t s = st[p / MR];
            float *c = g->c + g->cm[i0 + p] + g->cn[j0 + q];
            if (s != PTRDIFF_MIN && un[q / NR]) {
              J->tile(kc, apq, bq, c, s);
              continue;
            }
            size_t mr = minz(MR, mc - p), nr = minz(NR, nc - q);
            memset(ct, 0, sizeof(float) * MR * NR);
            J->tile(kc, apq, bq, ct, (ptrdiff_t)NR);
            /* Added back by runs of columns adjacent in C (a 4 x 4 output
             * image's 16 positions): one vectorizable loop per run. */
            const ptrdiff_t *cn = g->cn + j0 + q;
            size_t run[GEMM_MAX_NR + 1], nrun = 0;
            for (size_t j = 0; j < nr; j++)
              if (!j || cn[j] != cn[j - 1] + 1) run[nrun++] = j;
            run[nrun] = nr;
            for (size_t i = 0; i < mr; i++) {
              float *cr = g->c + g->cm[i0 + p + i];
              for (size_t r = 0; r < nrun; r++)
                addRun(cr + cn[run[r]], ct + i * NR + run[r], run[r + 1] - run[r]);
            }
          }
        }
      }
    }
  }
}

/* Packs depth block `part` of the shared operand (all its rows or
 * columns); block 0 also fills the step[] / unit[] table. */
static void packShared(void *ctx, size_t part) {
  GemmJob *J = ctx;
  const rt_gemm_args *g = J->g;
  size_t k0 = part * J->kcMax, kc = minz(J->kcMax, g->K - k0);
  float *row = aligned_alloc(64, sizeof(float) * GEMM_KC);
  ptrdiff_t dummyStep[GEMM_MC];
  unsigned char dummyUnit[GEMM_NC];
  if (!row) {
    atomic_store(&J->nomem, 1);
    return;
  }
  int bad = 0;
  float *block = J->shared + k0 * J->span;
  /* packA/packB fill one table entry per panel; only block 0 keeps it. */
  if (J->splitN) {
    for (size_t i0 = 0; i0 < g->M; i0 += J->mcMax)
      packA(g, i0, minz(J->mcMax, g->M - i0), k0, kc, J->MR, block + i0 * kc,
            part ? dummyStep : J->sharedStep + i0 / J->MR, row, &bad);
  } else {
    for (size_t j0 = 0; j0 < g->N; j0 += J->ncMax)
      packB(g, k0, kc, j0, minz(J->ncMax, g->N - j0), J->NR, block + j0 * kc,
            part ? dummyUnit : J->sharedUnit + j0 / J->NR, row, &bad);
  }
  if (bad) atomic_store(&J->bad, 1);
  free(row);
}

/* A thread's share: its scratch, then chunks until none is left. */
static void gemmWorker(void *ctx, size_t part) {
  (void)part;
  GemmJob *J = ctx;
  const rt_gemm_args *g = J->g;
  if (atomic_load(&J->next) >= J->chunks) return; /* nothing left: no scratch */
  size_t MR = J->MR, NR = J->NR;
  size_t apN = (J->mcMax * J->kcMax + 15) / 16 * 16, bpN = (J->ncMax * J->kcMax + 15) / 16 * 16;
  float *ap = aligned_alloc(64, sizeof(float) * (apN + bpN + GEMM_MAX_TILE + GEMM_KC));
  ptrdiff_t *step = malloc(sizeof *step * (J->mcMax / MR) + J->ncMax / NR + 1);
  if (!ap || !step) {
    free(ap);
    free(step);
    atomic_store(&J->nomem, 1);
    return;
  }
  float *bp = ap + apN, *ct = bp + bpN, *row = ct + GEMM_MAX_TILE;
  unsigned char *unit = (unsigned char *)(step + J->mcMax / MR);
  int bad = 0; /* a clustered operand's index out of range */
  for (size_t c; (c = atomic_fetch_add(&J->next, 1)) < J->chunks;) {
    size_t lo = c * J->chunk;
    if (J->splitN)
      gemmRange(J, 0, g->M, lo, minz(g->N, lo + J->chunk), ap, bp, ct, row, step, unit, &bad);
    else
      gemmRange(J, lo, minz(g->M, lo + J->chunk), 0, g->N, ap, bp, ct, row, step, unit, &bad);
  }
  if (bad) atomic_store(&J->bad, 1);
  free(ap);
  free(step);
}

/* Below this many multiply-adds a product runs on one thread: waking a
 * worker costs tens of microseconds on these VMs. */
#define GEMM_PARALLEL_MIN (1u << 22)

int rt_gemm_run(const rt_gemm_args *g, rt_gemm_tile_fn tile, size_t MR,
                size_t NR) {
  size_t M = g->M, N = g->N, K = g->K;
  if (NR > GEMM_MAX_NR || MR * NR > GEMM_MAX_TILE) return CLUSTERRT_ERR_ARG;
  if (!M || !N || !K || g->alpha == 0.0f) return CLUSTERRT_OK;
  GemmJob J = {.g = g, .tile = tile, .MR = MR, .NR = NR, .kcMax = minz(K, GEMM_KC),
               .mcMax = minz(GEMM_MC / MR * MR, (M + MR - 1) / MR * MR),
               .ncMax = minz(GEMM_NC / NR * NR, (N + NR - 1) / NR * NR)};
  atomic_init(&J.next, 0);
  atomic_init(&J.bad, 0);
  atomic_init(&J.nomem, 0);
  size_t T = (size_t)rt_threads();
  size_t unitsN = (N + NR - 1) / NR, unitsM = (M + MR - 1) / MR;
  /* Split only a dimension that gives every thread two or more panels:
   * with fewer (16 rows, 9 columns, 50,176 deep: the small CNN's first
   * weight gradient) the operand every chunk needs is packed whole, to
   * memory, where one thread packs it a cache-sized block at a time, and
   * two threads took 1.5x the time of one. */
  if (T < 2 || (double)M * (double)N * (double)K < GEMM_PARALLEL_MIN ||
      (unitsN < 2 * T && unitsM < 2 * T)) {
    J.splitN = true, J.chunk = N, J.chunks = 1;
    gemmWorker(&J, 0);
  } else {
    /* Columns preferably: A (the weights, usually) is the cheaper operand
     * to pack once per chunk. Up to 4 chunks per thread, so that a slow
     * vCPU takes fewer of them. */
    J.splitN = unitsN >= 2 * T || unitsN >= unitsM;
    size_t units = J.splitN ? unitsN : unitsM, per = J.splitN ? NR : MR;
    size_t want = minz(units, 4 * T);
    size_t u = (units + want - 1) / want;
    J.chunk = u * per;
    J.chunks = (units + u - 1) / u;
    if (J.splitN) J.ncMax = minz(J.ncMax, J.chunk);
    else J.mcMax = minz(J.mcMax, J.chunk);
    /* Every chunk of columns needs all of A packed (every chunk of rows
     * all of B): packed per chunk, that operand is packed chunks times,
     * which costs more than the product when it is short (ResNet-18's
     * last convolutions: 64 rows, 4,608 deep, 512 columns). Packed once
     * (its depth blocks over the threads), it is shared, up to 16 MiB. */
    size_t span = J.splitN ? unitsM * MR : unitsN * NR;
    size_t blocks = (K + J.kcMax - 1) / J.kcMax;
    if (J.chunks > 1 && (double)span * (double)blocks * (double)J.kcMax <= (double)(4u << 20)) {
      J.span = span;
      J.shared = aligned_alloc(64, sizeof(float) * span * blocks * J.kcMax);
      J.sharedStep = malloc(sizeof(ptrdiff_t) * unitsM + unitsN);
      if (J.shared && J.sharedStep) {
        J.sharedUnit = (unsigned char *)(J.sharedStep + unitsM);
        rt_parallel(blocks, packShared, &J);
      } else {
        free(J.shared);
        free(J.sharedStep);
        J.shared = NULL, J.sharedStep = NULL;
      }
    }
    if (!atomic_load(&J.nomem)) rt_parallel(minz(T, J.chunks), gemmWorker, &J);
    free(J.shared);
    free(J.sharedStep);
  }
  if (atomic_load(&J.nomem)) return CLUSTERRT_ERR_NOMEM;
  return atomic_load(&J.bad) ? CLUSTERRT_ERR_INDEX : CLUSTERRT_OK;
}

enum { GEN_MR = 4, GEN_NR = 16 };

static void tile_generic(size_t kc, const float *ap, const float *bp, float *c,
                         ptrdiff_t ldc) {
  float acc[GEN_MR][GEN_NR] = {{0}};
  for (size_t k = 0; k < kc; k++)
    for (size_t i = 0; i < GEN_MR; i++) {
      float av = ap[k * GEN_MR + i];
      for (size_t j = 0; j < GEN_NR; j++) acc[i][j] += av * bp[k * GEN_NR + j];
    }
  for (size_t i = 0; i < GEN_MR; i++)
    for (size_t j = 0; j < GEN_NR; j++) c[(ptrdiff_t)i * ldc + (ptrdiff_t)j] += acc[i][j];
}

int clusterrt_sgemm__generic(const rt_gemm_args *g) {
  return rt_gemm_run(g, tile_generic, GEN_MR, GEN_NR);
}

/* ---- Entry points ---------------------------------------------------------- */

static ptrdiff_t *ramp(ptrdiff_t *t, size_t n, ptrdiff_t stride) {
  for (size_t i = 0; i < n; i++) t[i] = (ptrdiff_t)i * stride;
  return t;
}

clusterrt_status clusterrt_sgemm_f32(int transA, int transB, size_t M, size_t N,
                                     size_t K, float alpha, const float *A,
                                     size_t lda, const float *B, size_t ldb,
                                     float beta, float *C, size_t ldc) {
  size_t acols = transA ? M : K, bcols = transB ? K : N;
  if (!lda) lda = acols;
  if (!ldb) ldb = bcols;
  if (!ldc) ldc = N;
  if (lda < acols || ldb < bcols || ldc < N) return CLUSTERRT_ERR_ARG;
  if (!M || !N) return CLUSTERRT_OK;
  if (!C || (K && alpha != 0.0f && (!A || !B))) return CLUSTERRT_ERR_NULL;
  if (beta != 1.0f)
    for (size_t i = 0; i < M; i++)
      for (size_t j = 0; j < N; j++)
        C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
  if (!K || alpha == 0.0f) return CLUSTERRT_OK;
  ptrdiff_t *t = malloc(sizeof *t * 2 * (M + N + K));
  if (!t) return CLUSTERRT_ERR_NOMEM;
  rt_gemm_args g = {
      .M = M, .N = N, .K = K, .alpha = alpha,
      .a = A, .am = ramp(t, M, transA ? 1 : (ptrdiff_t)lda),
      .ak = ramp(t + M, K, transA ? (ptrdiff_t)lda : 1),
      .b = B, .bk = ramp(t + M + K, K, transB ? 1 : (ptrdiff_t)ldb),
      .bn = ramp(t + M + 2 * K, N, transB ? (ptrdiff_t)ldb : 1),
      .c = C, .cm = ramp(t + M + 2 * K + N, M, (ptrdiff_t)ldc),
      .cn = ramp(t + 2 * M + 2 * K + N, N, 1)};
  int st = rt_get_kernels()->sgemm(&g);
  free(t);
  return (clusterrt_status)st;
}

/* Offsets of the combined index over loops dims[0..n) (the last fastest)
 * in an operand with strides s: out[idx] for every idx < prod(size). */
static void offsets(size_t n, const size_t *dims, const int64_t *size,
                    const int64_t *s, ptrdiff_t *out) {
  size_t total = 1;
  out[0] = 0;
  for (size_t q = n; q-- > 0;) {
    size_t d = dims[q], len = (size_t)size[d];
    /* out[r * total + i] = out[i] + r * s[d], r < len; fill from the top */
    for (size_t r = len; r-- > 1;)
      for (size_t i = 0; i < total; i++)
        out[r * total + i] = out[i] + (ptrdiff_t)r * (ptrdiff_t)s[d];
    total *= len;
  }
}

enum { ROLE_M, ROLE_N, ROLE_K, ROLE_OUTER };

/* GEMM rows: loops of A and C only; columns: B and C only; depth: A and B
 * only. Whether a loop is a reduction does not matter: one that moves C
 * is a row or column loop when the call's outputs stay distinct. */
static int role(int64_t sa, int64_t sb, int64_t sc) {
  if (sa && !sb && sc) return ROLE_M;
  if (!sa && sb && sc) return ROLE_N;
  if (sa && sb && !sc) return ROLE_K;
  return ROLE_OUTER;
}

enum { CONTRACT_MAX_RANK = 16 };

/* Folding pays once the product is this large (multiply-adds). */
#define FOLD_MIN_MACS (1u << 20)
/* The folded temporary is filled and added into C in chunks of rows of
 * about this many floats (2 MiB: it is still in cache when added). */
#define FOLD_CHUNK ((size_t)1 << 19)

typedef struct Fold {
  size_t rows, cols;     /* the temporary (one chunk of rows at most) */
  float *tmp;
  const ptrdiff_t *cm, *cn; /* where each row and column of the full temporary goes in C */
  /* The columns in runs adjacent in C: run r is columns [run[r], run[r+1]),
   * r < nrun, so the add-back is a contiguous, vectorizable loop per run. */
  const size_t *run;
  size_t nrun;
} Fold;


/* ---- Exact zeros in compiled models' products ---------------------------
 * A convolution's GEMM over a zero-padded input multiplies padding: in
 * ResNet-18 at 32x32 the last stage's 3x3 convolutions see a 1x1 image
 * padded to 3x3, so 8 of every 9 depth steps of the forward product (and
 * 8 of every 9 rows of the weight gradient's) are zeros in every row (41 %
 * of the network's convolution multiply-adds touch only padding:
 * bench/conv-padding.py). Before
 * such a product runs, depth steps whose A column or B row is all zero,
 * rows of A and columns of B that are all zero are dropped from its
 * offset tables: C gets the same sums without the zero terms. Each check
 * stops at the first nonzero, so dense operands cost about one read per
 * row, column and depth step. Skipped terms are exact zeros, so the
 * result differs from the full product only where B or A holds an
 * infinity or NaN that a zero would have met (0 * inf), or in the sign
 * of a zero sum; rt_contract_f32 only (the BLAS-like clusterrt_sgemm_f32
 * keeps every term). */

/* Whether a product is worth compacting: a sixteenth of a dimension or
 * more is zero. */
#define ZERO_MIN_SHARE 16
/* ... and checked only where each element read may skip this many
 * multiply-adds (gemmSkipZeros). */
#define ZERO_MIN_OTHER 32

/* Of the depth steps cand[0..n), those at which x[outer[i] + inner[k]] is
 * zero for every i < len (a column of A over its rows, or a row of B over
 * its columns), moved to the front of cand; returns their number. Read one
 * row (one column of B) at a time, keeping the steps still zero, so that
 * each read is near the last: a scan down each step strides by a row,
 * 64 rows 18 KB apart for each of the 4,096 padding steps of ResNet-18's
 * last stage, and cost ~4 % of its float step. */
static size_t zeroSteps(const float *x, const ptrdiff_t *outer, size_t len,
                        const ptrdiff_t *inner, size_t *cand, size_t n) {
  for (size_t i = 0; i < len && n; i++) {
    const float *r = x + outer[i];
    size_t w = 0;
    for (size_t c = 0; c < n; c++) {
      size_t k = cand[c];
      cand[w] = k;
      w += r[inner[k]] == 0.0f;
    }
    n = w;
  }
  return n;
}

static int gemmSkipZeros(const rt_gemm_args *g, rt_sgemm_fn kernel) {
  size_t M = g->M, N = g->N, K = g->K;
  /* Checks read up to a whole operand, so each is made only where every
   * element it reads may save ZERO_MIN_OTHER multiply-adds or more: A's
   * rows and depth columns when there are that many columns, B's columns
   * and depth rows when there are that many rows. (The small CNN's first
   * convolution, 16 x 50,176 x 9 or 9 columns deep, spent more reading its
   * 75 %-zero gradients than multiplying them.) */
  bool checkA = N >= ZERO_MIN_OTHER, checkB = M >= ZERO_MIN_OTHER;
  if (!checkA && !checkB) return kernel(g);
  unsigned char *z = calloc(M + N + K, 1);
  size_t *cand = malloc(sizeof *cand * K);
  if (!z || !cand) { /* compaction is an optimisation */
    free(z);
    free(cand);
    return kernel(g);
  }
  const float *a = g->a, *b = g->b;
  size_t zm = 0, zn = 0, zk = 0, n = 0;
  for (size_t i = 0; i < M && checkA; i++) {
    const float *r = a + g->am[i];
    size_t k = 0;
    while (k < K && r[g->ak[k]] == 0.0f) k++;
    zm += z[i] = k == K;
  }
  for (size_t j = 0; j < N && checkB; j++) {
    const float *col = b + g->bn[j];
    size_t k = 0;
    while (k < K && col[g->bk[k]] == 0.0f) k++;
    zn += z[M + j] = k == K;
  }
  if (checkA) {
    for (size_t k = 0; k < K; k++) cand[k] = k;
    n = zeroSteps(a, g->am, M, g->ak, cand, K); /* A's zero columns */
    for (size_t c = 0; c < n; c++) z[M + N + cand[c]] = 1;
    zk = n;
  }
  if (checkB) {
    n = 0;
    for (size_t k = 0; k < K; k++)
      if (!z[M + N + k]) cand[n++] = k;
    n = zeroSteps(b, g->bn, N, g->bk, cand, n); /* B's zero rows */
    for (size_t c = 0; c < n; c++) z[M + N + cand[c]] = 1;
    zk += n;
  }
  free(cand);
  int st = CLUSTERRT_OK;
  if (zm == M || zn == N || zk == K) {
    /* every term is zero: C unchanged */
  } else if (zm * ZERO_MIN_SHARE < M && zn * ZERO_MIN_SHARE < N && zk * ZERO_MIN_SHARE < K) {
    st = kernel(g);
  } else {
    size_t M2 = M - zm, N2 = N - zn, K2 = K - zk;
    ptrdiff_t *t = malloc(sizeof *t * 2 * (M2 + N2 + K2));
    if (!t) {
      st = kernel(g);
    } else {
      rt_gemm_args h = *g;
      h.M = M2, h.N = N2, h.K = K2;
      ptrdiff_t *am = t, *cm = t + M2, *bn = t + 2 * M2, *cn = bn + N2, *ak = cn + N2,
                *bk = ak + K2;
      for (size_t i = 0, n = 0; i < M; i++)
        if (!z[i]) am[n] = g->am[i], cm[n++] = g->cm[i];
      for (size_t j = 0, n = 0; j < N; j++)
        if (!z[M + j]) bn[n] = g->bn[j], cn[n++] = g->cn[j];
      for (size_t k = 0, n = 0; k < K; k++)
        if (!z[M + N + k]) ak[n] = g->ak[k], bk[n++] = g->bk[k];
      h.am = am, h.cm = cm, h.bn = bn, h.cn = cn, h.ak = ak, h.bk = bk;
      st = kernel(&h);
      free(t);
    }
  }
  free(z);
  return st;
}

/* Runs g (the GEMM of one point of the outer loops) at every point of
 * the outer loops od[0..no), odometer style; with f, g writes f's
 * temporary chunk by chunk, and each chunk is added into C. */
static int outerLoops(rt_gemm_args *g, const int64_t *size, const int64_t *sa,
                      const int64_t *sb, const int64_t *sc, const float *a,
                      const float *b, float *c, const size_t *od, size_t no,
                      const Fold *f) {
  int64_t idx[CONTRACT_MAX_RANK] = {0};
  ptrdiff_t oa = 0, ob = 0, oc = 0;
  rt_sgemm_fn kernel = rt_get_kernels()->sgemm;
  const ptrdiff_t *am = g->am;
  size_t M = g->M;
  for (;;) {
    g->a = a + oa, g->b = b + ob;
    int st;
    if (!f) {
      g->c = c + oc;
      st = g->alut || g->blut ? kernel(g) : gemmSkipZeros(g, kernel);
    } else {
      st = CLUSTERRT_OK;
      for (size_t i0 = 0; i0 < M && st == CLUSTERRT_OK; i0 += f->rows) {
        size_t mc = minz(f->rows, M - i0);
        memset(f->tmp, 0, sizeof(float) * mc * f->cols);
        g->M = mc, g->am = am + i0, g->c = f->tmp;
        st = kernel(g);
        for (size_t i = 0; i < mc && st == CLUSTERRT_OK; i++) {
          float *cr = c + oc + f->cm[i0 + i];
          const float *tr = f->tmp + i * f->cols;
          for (size_t r = 0; r < f->nrun; r++) {
            size_t j0 = f->run[r];
            addRun(cr + f->cn[j0], tr + j0, f->run[r + 1] - j0);
          }
        }
      }
      g->M = M, g->am = am;
    }
    if (st != CLUSTERRT_OK) return st;
    size_t q = no;
    while (q > 0) {
      size_t d = od[q - 1];
      if (++idx[q - 1] < size[d]) {
        oa += sa[d], ob += sb[d], oc += sc[d];
        break;
      }
      oa -= (size[d] - 1) * sa[d], ob -= (size[d] - 1) * sb[d],
          oc -= (size[d] - 1) * sc[d];
      idx[q - 1] = 0;
      q--;
    }
    if (q == 0) return CLUSTERRT_OK;
  }
}

/* The GEMM with the window loops folded in: M rows over the loops dm, N
 * columns over dn, K deep over dk, outer loops od. */
static int contractFoldedOne(const int64_t *size, const int64_t *sa, const int64_t *sb,
                          const int64_t *sc, const float *a, const float *b, float *c,
                          size_t M, size_t N, size_t K, const size_t *dm, size_t ndm,
                          const size_t *dn, size_t ndn, const size_t *dk, size_t ndk,
                          const size_t *od, size_t no) {
  size_t rows = minz(M, FOLD_CHUNK / N ? FOLD_CHUNK / N : 1);
  ptrdiff_t *t = malloc(sizeof *t * (2 * M + 2 * N + 2 * K + rows + N));
  float *tmp = malloc(sizeof(float) * rows * N);
  size_t *run = malloc(sizeof *run * (N + 1));
  if (!t || !tmp || !run) {
    free(t);
    free(tmp);
    free(run);
    return CLUSTERRT_ERR_NOMEM;
  }
  ptrdiff_t *cmT = t + 2 * M + 2 * N + 2 * K;
  rt_gemm_args g = {.M = M, .N = N, .K = K, .alpha = 1.0f,
                    .am = t, .ak = t + M, .bk = t + M + K, .bn = t + M + 2 * K,
                    .cm = cmT, .cn = cmT + rows};
  offsets(ndm, dm, size, sa, t);
  offsets(ndk, dk, size, sa, t + M);
  offsets(ndk, dk, size, sb, t + M + K);
  offsets(ndn, dn, size, sb, t + M + 2 * K);
  Fold f = {.rows = rows, .cols = N, .tmp = tmp,
            .cm = t + M + 2 * K + N, .cn = t + 2 * M + 2 * K + N};
  offsets(ndm, dm, size, sc, t + M + 2 * K + N);
  offsets(ndn, dn, size, sc, t + 2 * M + 2 * K + N);
  ramp(cmT, rows, (ptrdiff_t)N);
  ramp(cmT + rows, N, 1);
  f.run = run;
  for (size_t j = 0; j < N; j++)
    if (!j || f.cn[j] != f.cn[j - 1] + 1) run[f.nrun++] = j;
  run[f.nrun] = N;
  int st = outerLoops(&g, size, sa, sb, sc, a, b, c, od, no, &f);
  free(t);
  free(tmp);
  free(run);
  return st;
}

/* The folded GEMM split over the threads by a loop whose slices of C are
 * disjoint (the batch of a data gradient: its stride in C exceeds the
 * reach of every other loop): each part is the whole folded product of
 * its slice, run on one thread. The fold's temporary is filled and added
 * back part by part, so that work, serial on the calling thread when
 * only the GEMM inside it was split, is shared too (ResNet-18's first
 * stage data gradient scaled 1.35x on two threads). Each element of C
 * gets the same terms in the same order whatever the split. */
typedef struct FoldJob {
  size_t rank, d, per, len, M, N, K, ndm, ndn, ndk, no;
  int role; /* d is a row loop (0), a column loop (1) or an outer loop (2) */
  const int64_t *size, *sa, *sb, *sc;
  const float *a, *b;
  float *c;
  const size_t *dm, *dn, *dk, *od;
  atomic_int st;
} FoldJob;

static void foldPart(void *ctx, size_t part) {
  FoldJob *J = ctx;
  size_t lo = part * J->per, len = minz(J->per, J->len - lo), d = J->d;
  int64_t size[CONTRACT_MAX_RANK];
  memcpy(size, J->size, sizeof *size * J->rank);
  size[d] = (int64_t)len;
  size_t M = J->role == 0 ? J->M / J->len * len : J->M;
  size_t N = J->role == 1 ? J->N / J->len * len : J->N;
  ptrdiff_t l = (ptrdiff_t)lo;
  int st = contractFoldedOne(size, J->sa, J->sb, J->sc, J->a + l * J->sa[d], J->b + l * J->sb[d],
                             J->c + l * J->sc[d], M, N, J->K, J->dm, J->ndm, J->dn, J->ndn,
                             J->dk, J->ndk, J->od, J->no);
  if (st != CLUSTERRT_OK) atomic_store(&J->st, st);
}

static int contractFolded(size_t rank, const int64_t *size, const int64_t *sa,
                          const int64_t *sb, const int64_t *sc, const float *a,
                          const float *b, float *c, size_t M, size_t N, size_t K,
                          const size_t *dm, size_t ndm, const size_t *dn, size_t ndn,
                          const size_t *dk, size_t ndk, const size_t *od, size_t no) {
  size_t T = (size_t)rt_threads();
  FoldJob J = {.rank = rank, .d = rank, .M = M, .N = N, .K = K, .ndm = ndm, .ndn = ndn,
               .ndk = ndk, .no = no, .size = size, .sa = sa, .sb = sb, .sc = sc, .a = a,
               .b = b, .c = c, .dm = dm, .dn = dn, .dk = dk, .od = od};
  if (T > 1 && (double)M * (double)N * (double)K >= 2.0 * GEMM_PARALLEL_MIN) {
    int64_t reach = 0;
    for (size_t e = 0; e < rank; e++) reach += (size[e] - 1) * absz(sc[e]);
    const size_t *lists[3] = {dm, dn, od};
    size_t counts[3] = {ndm, ndn, no};
    for (int r = 0; r < 3; r++)
      for (size_t q = 0; q < counts[r]; q++) {
        size_t e = lists[r][q];
        if (size[e] > 1 && absz(sc[e]) > reach - (size[e] - 1) * absz(sc[e]) &&
            (J.d == rank || size[e] > size[J.d]))
          J.d = e, J.role = r;
      }
  }
  if (J.d == rank) {
    return contractFoldedOne(size, sa, sb, sc, a, b, c, M, N, K, dm, ndm, dn, ndn, dk, ndk,
                             od, no);
  }
  J.len = (size_t)size[J.d];
  size_t want = minz(J.len, 2 * T);
  J.per = (J.len + want - 1) / want;
  atomic_init(&J.st, CLUSTERRT_OK);
  rt_parallel((J.len + J.per - 1) / J.per, foldPart, &J);
  return atomic_load(&J.st);
}

/* ---- Direct loops: depthwise convolutions and their gradients ------------
 * A loop that moves A, B and C at once (a depthwise convolution's channel)
 * leaves a GEMM per point of it, and those are degenerate: 1 deep (the
 * data gradient), 1 row (the weight gradient) or 9 deep (the forward).
 * Such contractions run as a loop nest instead, whose innermost loop is
 * one of a few vectorizable forms (an axpy along C, or a dot product when
 * C does not move), and whose outermost loop, when it is such a shared
 * loop and its slices of C are disjoint, is split over the threads. */

typedef struct Direct {
  size_t n;                        /* loops, the innermost last */
  int64_t size[CONTRACT_MAX_RANK], sa[CONTRACT_MAX_RANK], sb[CONTRACT_MAX_RANK],
      sc[CONTRACT_MAX_RANK];
  const float *a, *b;
  float *c;
  size_t per, chunks;              /* loop 0 in chunks of per (threads) */
} Direct;

/* c[j*sc] += a[j*sa] * b[j*sb] for j < n, in the forms models produce. */
static void directInner(size_t n, const float *restrict a, ptrdiff_t sa,
                        const float *restrict b, ptrdiff_t sb, float *restrict c,
                        ptrdiff_t sc) {
  if (sc == 0) { /* a dot product: 8 partial sums, added as a fixed tree */
    float p[8] = {0};
    size_t j = 0;
    if (sa == 1 && sb == 1)
      for (; j + 8 <= n; j += 8)
        for (size_t q = 0; q < 8; q++) p[q] += a[j + q] * b[j + q];
    for (; j < n; j++) p[0] += a[(ptrdiff_t)j * sa] * b[(ptrdiff_t)j * sb];
    *c += ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  } else if (sc == 1 && sa == 1 && sb == 0) {
    float v = *b;
    for (size_t j = 0; j < n; j++) c[j] += a[j] * v;
  } else if (sc == 1 && sa == 0 && sb == 1) {
    float v = *a;
    for (size_t j = 0; j < n; j++) c[j] += v * b[j];
  } else if (sc == 1 && sa == 1 && sb == 1) {
    for (size_t j = 0; j < n; j++) c[j] += a[j] * b[j];
  } else {
    for (size_t j = 0; j < n; j++)
      c[(ptrdiff_t)j * sc] += a[(ptrdiff_t)j * sa] * b[(ptrdiff_t)j * sb];
  }
}

static void directPart(void *ctx, size_t part) {
  const Direct *D = ctx;
  size_t n = D->n, last = n - 1;
  int64_t lo = (int64_t)(part * D->per), hi = lo + (int64_t)D->per;
  if (hi > D->size[0]) hi = D->size[0];
  int64_t idx[CONTRACT_MAX_RANK] = {0};
  idx[0] = lo;
  const float *a = D->a + lo * D->sa[0], *b = D->b + lo * D->sb[0];
  float *c = D->c + lo * D->sc[0];
  if (n == 1) { /* the split loop is the only one */
    directInner((size_t)(hi - lo), a, D->sa[0], b, D->sb[0], c, D->sc[0]);
    return;
  }
  /* The two innermost loops run here without the odometer (a 3x3 window,
   * a small image's rows: each is a few elements long). */
  size_t n2 = last - 1; /* the odometer runs loops [0, n2) */
  int64_t len2 = 1;
  ptrdiff_t sa2 = 0, sb2 = 0, sc2 = 0;
  if (n2 > 0)
    len2 = D->size[n2], sa2 = D->sa[n2], sb2 = D->sb[n2], sc2 = D->sc[n2];
  else
    n2 = last; /* loop 0, the split loop, stays in the odometer */
  /* Both reduce into one element (a window's kh and kw): one sum of
   * len2 x len1 terms, added into C once. */
  bool window = sc2 == 0 && D->sc[last] == 0 && len2 > 1;
  size_t len1 = (size_t)D->size[last];
  ptrdiff_t sa1 = D->sa[last], sb1 = D->sb[last];
  for (;;) {
    if (window) {
      float sum = 0.0f;
      for (int64_t i2 = 0; i2 < len2; i2++) {
        const float *ar = a + i2 * sa2, *br = b + i2 * sb2;
        for (size_t j = 0; j < len1; j++) sum += ar[(ptrdiff_t)j * sa1] * br[(ptrdiff_t)j * sb1];
      }
      *c += sum;
    } else {
      for (int64_t i2 = 0; i2 < len2; i2++)
        directInner(len1, a + i2 * sa2, sa1, b + i2 * sb2, sb1, c + i2 * sc2, D->sc[last]);
    }
    size_t q = n2;
    while (q > 0) {
      size_t d = q - 1;
      int64_t end = d == 0 ? hi : D->size[d], start = d == 0 ? lo : 0;
      if (++idx[d] < end) {
        a += D->sa[d], b += D->sb[d], c += D->sc[d];
        break;
      }
      a -= (end - 1 - start) * D->sa[d], b -= (end - 1 - start) * D->sb[d];
      c -= (end - 1 - start) * D->sc[d];
      idx[d] = start;
      q--;
    }
    if (q == 0) return;
  }
}

static int contractDirect(size_t rank, const int64_t *size, const int64_t *sa,
                          const int64_t *sb, const int64_t *sc, const float *a,
                          const float *b, float *c) {
  Direct D = {.a = a, .b = b, .c = c};
  /* Innermost: the longest loop along which C is contiguous and A and B
   * contiguous or fixed, or C fixed and A and B contiguous (a dot
   * product); else the last loop. */
  size_t in = rank, best = 0;
  for (size_t d = 0; d < rank; d++) {
    bool ok = (sc[d] == 1 && (sa[d] == 0 || sa[d] == 1) && (sb[d] == 0 || sb[d] == 1)) ||
              (sc[d] == 0 && sa[d] == 1 && sb[d] == 1);
    if (ok && size[d] > 1 && (size_t)size[d] > best) in = d, best = (size_t)size[d];
  }
  if (in == rank)
    for (size_t d = rank; d-- > 0;)
      if (size[d] > 1) { in = d; break; }
  /* Outermost: a loop of A, B and C whose slices of C are disjoint, the
   * longest, split over the threads; then the rest in their order. */
  size_t split = rank;
  int64_t total = 0;
  for (size_t d = 0; d < rank; d++) total += (size[d] - 1) * absz(sc[d]);
  for (size_t d = 0; d < rank; d++)
    if (d != in && size[d] > 1 && sa[d] && sb[d] && sc[d] &&
        absz(sc[d]) > total - (size[d] - 1) * absz(sc[d]) &&
        (split == rank || size[d] > size[split]))
      split = d;
  /* Next to an innermost dot product, the longest other loop that also
   * keeps C fixed (the batch of a weight gradient, a window's kh): the two
   * then make one sum per element of C (directPart). */
  size_t in2 = rank;
  if (in < rank && sc[in] == 0)
    for (size_t d = 0; d < rank; d++)
      if (d != in && d != split && size[d] > 1 && sc[d] == 0 &&
          (in2 == rank || size[d] > size[in2]))
        in2 = d;
  size_t order[CONTRACT_MAX_RANK], n = 0;
  if (split < rank) order[n++] = split;
  for (size_t d = 0; d < rank; d++)
    if (d != split && d != in && d != in2 && size[d] > 1) order[n++] = d;
  if (in2 < rank) order[n++] = in2;
  if (in < rank) order[n++] = in;
  if (n == 0) { /* every loop of size 1: one product */
    c[0] += a[0] * b[0];
    return CLUSTERRT_OK;
  }
  double work = 1;
  for (size_t q = 0; q < n; q++) {
    size_t d = order[q];
    D.size[q] = size[d], D.sa[q] = sa[d], D.sb[q] = sb[d], D.sc[q] = sc[d];
    work *= (double)size[d];
  }
  D.n = n;
  size_t T = (size_t)rt_threads();
  if (split < rank && T > 1 && work >= GEMM_PARALLEL_MIN && D.size[0] > 1) {
    size_t len = (size_t)D.size[0], want = minz(len, 4 * T);
    D.per = (len + want - 1) / want;
    D.chunks = (len + D.per - 1) / D.per;
    rt_parallel(D.chunks, directPart, &D);
  } else {
    D.per = (size_t)D.size[0], D.chunks = 1;
    directPart(&D, 0);
  }
  return CLUSTERRT_OK;
}

int rt_contract_f32(size_t rank, const int64_t *size, const int64_t *sa,
                    const int64_t *sb, const int64_t *sc, const uint8_t *reduction,
                    const float *a, const float *b, float *c) {
  (void)reduction; /* the caller checked that parallel loops index C injectively */
  if (rank > CONTRACT_MAX_RANK) return CLUSTERRT_ERR_ARG;
  for (size_t d = 0; d < rank; d++) {
    if (size[d] < 0) return CLUSTERRT_ERR_ARG;
    if (size[d] == 0) return CLUSTERRT_OK;
  }
  int r[CONTRACT_MAX_RANK];
  for (size_t d = 0; d < rank; d++) r[d] = size[d] == 1 ? -1 : role(sa[d], sb[d], sc[d]);
  /* One call's outputs must be distinct: take row and column loops by
   * increasing stride in C (larger loops first on ties); one whose stride
   * does not exceed the reach of those before becomes an outer loop (a
   * window's kh next to oh in a data gradient). */
  int64_t reach = 0;
  bool taken[CONTRACT_MAX_RANK] = {false}, demoted[CONTRACT_MAX_RANK] = {false};
  for (;;) {
    size_t best = rank;
    for (size_t d = 0; d < rank; d++)
      if ((r[d] == ROLE_M || r[d] == ROLE_N) && !taken[d] &&
          (best == rank || sc[d] < sc[best] || (sc[d] == sc[best] && size[d] > size[best])))
        best = d;
    if (best == rank) break;
    taken[best] = true;
    if (sc[best] <= reach)
      r[best] = ROLE_OUTER, demoted[best] = true;
    else
      reach += (size[best] - 1) * sc[best];
  }
  /* The loop with the smallest stride in C should be a column loop (unit
   * column stride: tiles update C in place): swap A and B if it is a row. */
  size_t best = rank;
  for (size_t d = 0; d < rank; d++)
    if ((r[d] == ROLE_M || r[d] == ROLE_N) && (best == rank || sc[d] < sc[best]))
      best = d;
  if (best < rank && r[best] == ROLE_M) {
    const int64_t *ts = sa;
    sa = sb, sb = ts;
    const float *tp = a;
    a = b, b = tp;
    for (size_t d = 0; d < rank; d++)
      if (r[d] == ROLE_M || r[d] == ROLE_N) r[d] = r[d] == ROLE_M ? ROLE_N : ROLE_M;
  }
  size_t dims[4][CONTRACT_MAX_RANK], nd[4] = {0}, ext[4] = {1, 1, 1, 1};
  for (size_t d = 0; d < rank; d++) {
    if (r[d] < 0) continue;
    dims[r[d]][nd[r[d]]++] = d;
    ext[r[d]] *= (size_t)size[d];
  }
  size_t M = ext[ROLE_M], N = ext[ROLE_N], K = ext[ROLE_K];
  for (size_t q = 0; q < nd[ROLE_OUTER]; q++) {
    size_t d = dims[ROLE_OUTER][q];
    if (sa[d] && sb[d] && sc[d] && (K <= 16 || M <= 2 || N <= 2))
      return contractDirect(rank, size, sa, sb, sc, a, b, c);
  }
  /* Demoted row and column loops (the windows of a data gradient) are
   * folded back into the GEMM when the product is large: it writes a
   * dense temporary of rows x (windows x columns), which is then added
   * into C (col2im). Each window's product used to be its own call, which
   * packed the invariant operand again every time. */
  size_t wext[2] = {1, 1}, nfold[2] = {0}, fold[2][CONTRACT_MAX_RANK];
  for (size_t d = 0; d < rank; d++)
    if (demoted[d]) {
      int fr = role(sa[d], sb[d], sc[d]); /* its row or column role, after any swap */
      fold[fr][nfold[fr]++] = d;
      wext[fr] *= (size_t)size[d];
    }
  if ((wext[0] > 1 || wext[1] > 1) && (double)M * wext[0] * N * wext[1] * K >= FOLD_MIN_MACS) {
    size_t no = 0, od[CONTRACT_MAX_RANK];
    for (size_t q = 0; q < nd[ROLE_OUTER]; q++)
      if (!demoted[dims[ROLE_OUTER][q]]) od[no++] = dims[ROLE_OUTER][q];
    for (int fr = ROLE_M; fr <= ROLE_N; fr++) { /* windows slowest, then the loops */
      memmove(fold[fr] + nfold[fr], dims[fr], sizeof(size_t) * nd[fr]);
      nd[fr] += nfold[fr];
    }
    return contractFolded(rank, size, sa, sb, sc, a, b, c, M * wext[0], N * wext[1], K,
                          fold[ROLE_M], nd[ROLE_M], fold[ROLE_N], nd[ROLE_N],
                          dims[ROLE_K], nd[ROLE_K], od, no);
  }
  ptrdiff_t *t = malloc(sizeof *t * 2 * (M + N + K));
  if (!t) return CLUSTERRT_ERR_NOMEM;
  rt_gemm_args g = {.M = M, .N = N, .K = K, .alpha = 1.0f,
                    .am = t, .ak = t + M, .bk = t + M + K, .bn = t + M + 2 * K,
                    .cm = t + M + 2 * K + N, .cn = t + 2 * M + 2 * K + N};
  offsets(nd[ROLE_M], dims[ROLE_M], size, sa, t);
  offsets(nd[ROLE_K], dims[ROLE_K], size, sa, t + M);
  offsets(nd[ROLE_K], dims[ROLE_K], size, sb, t + M + K);
  offsets(nd[ROLE_N], dims[ROLE_N], size, sb, t + M + 2 * K);
  offsets(nd[ROLE_M], dims[ROLE_M], size, sc, t + M + 2 * K + N);
  offsets(nd[ROLE_N], dims[ROLE_N], size, sc, t + 2 * M + 2 * K + N);
  int st = outerLoops(&g, size, sa, sb, sc, a, b, c, dims[ROLE_OUTER], nd[ROLE_OUTER], NULL);
  free(t);
  return st;
}

/* ---- Convolutions on clustered weights: implicit im2col ------------------- */

/* rt_lut_conv_f32 (internal.h) is this driver with the weights as its
 * clustered operand; lut.c's rt_lut_check_args validates their format as
 * for the LUT kernels. */

/* a * b + c into *r without overflow; false if it overflows. */
static int mad(size_t a, size_t b, size_t c, size_t *r) {
  size_t t;
  return !__builtin_mul_overflow(a, b, &t) && !__builtin_add_overflow(t, c, r);
}

int rt_lut_conv_f32(const rt_lut_conv *g, const float *x, size_t xn,
                    const void *idx, clusterrt_index_format f, size_t idx_bytes,
                    const float *c, size_t c_n, size_t k, size_t group, float *y,
                    size_t yn) {
  size_t K, M, t, xs, ys, hp, wp, xps;
  /* K = c*kh*kw, M = n*oh*ow, y = M*oc elements, and the last pixel of
   * the last window inside the padded x: ((oh-1)*sh + (kh-1)*dh) < h + pt
   * + pb, likewise w. */
  if (!g->n || !g->oc || !g->oh || !g->ow) return CLUSTERRT_OK;
  if (!g->c || !g->kh || !g->kw || !g->h || !g->w ||
      !mad(g->c, g->kh, 0, &t) || !mad(t, g->kw, 0, &K) ||
      !mad(g->n, g->oh, 0, &t) || !mad(t, g->ow, 0, &M) || !mad(M, g->oc, 0, &ys) ||
      !mad(g->n, g->c, 0, &t) || !mad(t, g->h, 0, &t) || !mad(t, g->w, 0, &xs) ||
      ys != yn || xs != xn || K > PTRDIFF_MAX / 4 || M > PTRDIFF_MAX / 4 ||
      !mad(1, g->h, g->pt, &hp) || !mad(1, hp, g->pb, &hp) ||
      !mad(1, g->w, g->pl, &wp) || !mad(1, wp, g->pr, &wp) ||
      !mad(g->n, g->c, 0, &t) || !mad(t, hp, 0, &t) || !mad(t, wp, 0, &xps) ||
      xps > PTRDIFF_MAX / 4)
    return CLUSTERRT_ERR_ARG;
  size_t lastH, lastW;
  if (!mad(g->oh - 1, g->sh, 0, &t) || !mad(g->kh - 1, g->dh, t, &lastH) ||
      !mad(g->ow - 1, g->sw, 0, &t) || !mad(g->kw - 1, g->dw, t, &lastW) ||
      lastH >= hp || lastW >= wp)
    return CLUSTERRT_ERR_ARG;
  float *padded = NULL;
  if (hp != g->h || wp != g->w) {
    /* A zero-bordered copy (the input's size, not the patches'). */
    if (!(padded = calloc(xps ? xps : 1, sizeof *padded))) return CLUSTERRT_ERR_NOMEM;
    size_t planes = g->nchw ? g->n * g->c : g->n, row = g->nchw ? g->w : g->w * g->c;
    size_t prow = g->nchw ? wp : wp * g->c, lead = g->nchw ? g->pl : g->pl * g->c;
    for (size_t q = 0; q < planes; q++)
      for (size_t r = 0; r < g->h; r++)
        memcpy(padded + (q * hp + g->pt + r) * prow + lead, x + (q * g->h + r) * row,
               sizeof *x * row);
    x = padded;
  }
  rt_lut_args a;
  clusterrt_status s = rt_lut_check_args(x, M, K, K, g->oc, idx, f, 0, c, k, group, y,
                                         g->oc, &a);
  size_t tables = group ? (g->oc + group - 1) / group : 1;
  if (!s && (idx_bytes != g->oc * a.row_bytes || c_n < tables * k))
    s = CLUSTERRT_ERR_ARG;
  ptrdiff_t *tab = s ? NULL : malloc(sizeof *tab * (2 * M + K + g->oc));
  if (!tab) {
    free(padded); /* on every early return, not only out of memory */
    return s ? s : CLUSTERRT_ERR_NOMEM;
  }
  ptrdiff_t *xm = tab, *ym = tab + M, *xe = tab + 2 * M, *yo = xe + K;
  ptrdiff_t H = (ptrdiff_t)hp, W = (ptrdiff_t)wp, C = (ptrdiff_t)g->c;
  ptrdiff_t OH = (ptrdiff_t)g->oh, OW = (ptrdiff_t)g->ow, OC = (ptrdiff_t)g->oc;
  /* Element strides of x's n, h, w, c and y's pixel and output channel. */
  ptrdiff_t xsn = C * H * W, xsh = g->nchw ? W : W * C, xsw = g->nchw ? 1 : C,
            xsc = g->nchw ? H * W : 1;
  ptrdiff_t ysp = g->nchw ? 1 : OC, yso = g->nchw ? OH * OW : 1;
  size_t m = 0;
  for (ptrdiff_t n = 0; n < (ptrdiff_t)g->n; n++)
    for (ptrdiff_t i = 0; i < OH; i++)
      for (ptrdiff_t j = 0; j < OW; j++, m++) {
        xm[m] = n * xsn + i * (ptrdiff_t)g->sh * xsh + j * (ptrdiff_t)g->sw * xsw;
        ym[m] = n * OH * OW * OC + (i * OW + j) * ysp;
      }
  size_t e = 0;
  if (g->nchw) {
    for (ptrdiff_t ch = 0; ch < C; ch++)
      for (ptrdiff_t u = 0; u < (ptrdiff_t)g->kh; u++)
        for (ptrdiff_t v = 0; v < (ptrdiff_t)g->kw; v++)
          xe[e++] = ch * xsc + u * (ptrdiff_t)g->dh * xsh + v * (ptrdiff_t)g->dw * xsw;
  } else {
    for (ptrdiff_t u = 0; u < (ptrdiff_t)g->kh; u++)
      for (ptrdiff_t v = 0; v < (ptrdiff_t)g->kw; v++)
        for (ptrdiff_t ch = 0; ch < C; ch++)
          xe[e++] = ch * xsc + u * (ptrdiff_t)g->dh * xsh + v * (ptrdiff_t)g->dw * xsw;
  }
  for (ptrdiff_t o = 0; o < OC; o++) yo[o] = o * yso;
  /* The float GEMM driver with the weights as its clustered operand: they
   * are decoded panel by panel while packing, the patches gathered. The
   * output's unit-stride axis is its GEMM column: pixels for NCHW (the
   * weights are A, rows = output channels), channels for NHWC (the
   * weights are B). */
  rt_gemm_lut w = {a.idx, a.row_bytes, (int)a.f, a.c, a.k, a.group};
  rt_gemm_args ga = {.K = K, .alpha = 1.0f, .c = y};
  if (g->nchw) {
    ga.M = g->oc, ga.N = M, ga.alut = &w;
    ga.b = x, ga.bk = xe, ga.bn = xm, ga.cm = yo, ga.cn = ym;
  } else {
    ga.M = M, ga.N = g->oc, ga.blut = &w;
    ga.a = x, ga.am = xm, ga.ak = xe, ga.cm = ym, ga.cn = yo;
  }
  memset(y, 0, sizeof *y * yn);
  int r = rt_get_kernels()->sgemm(&ga);
  free(tab);
  free(padded);
  return r;
}
