/*
 * Float GEMM on linearly indexed operands (gemm.c has the method).
 *
 * The problem rt_gemm_run solves: C(i, j) += alpha * sum_k A(i, k) B(k, j)
 * for i < M, j < N, k < K, where every operand element lives at a base
 * pointer plus the sum of two offsets looked up in tables:
 *   A(i, k) = a[am[i] + ak[k]], B(k, j) = b[bk[k] + bn[j]],
 *   C(i, j) = c[cm[i] + cn[j]].
 * Plain strided matrices (any transpose) have tables i*rs and k*cs; a
 * convolution's operands have tables over several loop dimensions each
 * (implicit im2col: the packing gathers, no column buffer is built). The
 * (i, j) -> C offsets must be distinct (each output element once).
 */
#ifndef CLUSTERRT_GEMM_H
#define CLUSTERRT_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* A clustered operand (decode=fused convolutions): element (r, e) is
 * table(r)[index e of row r], rows of row_bytes packed indices in an
 * aligned clusterrt_index_format, table(r) = c + (group ? r / group : 0) * k. */
typedef struct rt_gemm_lut {
  const uint8_t *idx;
  size_t row_bytes;
  int format;
  const float *c;
  size_t k, group;
} rt_gemm_lut;

typedef struct rt_gemm_args {
  size_t M, N, K;
  float alpha;
  const float *a;
  const ptrdiff_t *am, *ak;
  const float *b;
  const ptrdiff_t *bk, *bn;
  float *c;
  const ptrdiff_t *cm, *cn;
  /* Optional: A(i, k) is row i, element k of *alut (a, am, ak unused), or
   * B(k, j) row j, element k of *blut (b, bk, bn unused). Packing decodes
   * each panel (clusterrt_decode's kernel), so the float micro-kernel runs
   * on clustered weights without a float copy of them; an index >= k
   * makes the driver return CLUSTERRT_ERR_INDEX. */
  const rt_gemm_lut *alut, *blut;
} rt_gemm_args;

/* A micro-kernel of MR x NR: c[i*ldc + j] += sum_{kk < kc} ap[kk*MR + i] *
 * bp[kk*NR + j] for i < MR, j < NR (ap, bp: packed panels, 64-byte
 * aligned; the sum in any order). */
typedef void (*rt_gemm_tile_fn)(size_t kc, const float *ap, const float *bp,
                                float *c, ptrdiff_t ldc);

/* The blocked driver (gemm.c) with a given micro-kernel. Returns a
 * clusterrt_status (CLUSTERRT_ERR_NOMEM if its scratch cannot be had). */
int rt_gemm_run(const struct rt_gemm_args *a, rt_gemm_tile_fn tile, size_t MR,
                size_t NR);

/* A contraction over `rank` loop dimensions (the memref entry points):
 * loop d has size[d] and element strides sa[d], sb[d], sc[d] in A, B and
 * C (0: the operand does not depend on it); reduction[d] says whether it
 * is a reduction loop (informational: the caller guarantees that the
 * parallel loops index C injectively). C (already initialised) += the sum
 * of A * B over every loop point. The loops are split into GEMM rows (in
 * A and C only), columns (B and C only), depth (A and B, not C) and the
 * rest (outer loops: batch, broadcast, sums of a single operand, and row
 * or column loops that would make one call's outputs collide, such as a
 * window loop of a data gradient), and run one of three ways:
 *  - a GEMM per outer point (the general case);
 *  - folded: outer window loops of a data gradient become columns of one
 *    GEMM into a rows x (windows x columns) temporary, filled in chunks
 *    and added back into C (col2im), instead of one GEMM per window;
 *  - direct loops: when one loop moves A, B and C at once (a depthwise
 *    convolution's channel) and the GEMM left per point is degenerate
 *    (depth <= 16, or at most 2 rows or columns), a loop nest whose inner
 *    loop is an axpy along C or a dot product, split over the threads by
 *    that loop when its slices of C are disjoint.
 * runtime/README.md says more. Returns a clusterrt_status. */
int rt_contract_f32(size_t rank, const int64_t *size, const int64_t *sa,
                    const int64_t *sb, const int64_t *sc, const uint8_t *reduction,
                    const float *a, const float *b, float *c);

#endif
