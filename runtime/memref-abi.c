/*
 * libclusterrt entry points for compiled MLIR code.
 *
 * MLIR functions declared with `llvm.emit_c_interface` and called on
 * bufferized tensors pass each memref as a pointer to its descriptor:
 *   { T *allocated; T *aligned; int64_t offset; int64_t sizes[R];
 *     int64_t strides[R]; }
 * These wrappers take rank-1 descriptors (callers collapse tensors to 1-D),
 * check them, and call the kernels. The calling convention of the generated
 * code is `_mlir_ciface_<name>`; the IR declares, for example,
 *   func.func private @clusterrt_mlir_decode_i8(tensor<?xi8>, i32,
 *       tensor<?xf32>, tensor<?xf32>) -> i32 attributes {llvm.emit_c_interface}
 * Each returns a clusterrt_status (0 = ok). Only unit strides are accepted
 * (bufferized 1-D tensors are contiguous); anything else is
 * CLUSTERRT_ERR_ARG. The descriptor layout is MLIR's ABI, written here in
 * plain C: no MLIR header is included. They are exported (CLUSTERRT_API)
 * although no header declares them: compiled models and the JIT call them
 * by name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/runtime.h"
#include "gemm.h"
#include "internal.h"

#define MEMREF1(T, Name)                                                       \
  typedef struct Name {                                                        \
    T *allocated, *aligned;                                                    \
    int64_t offset, size, stride;                                              \
  } Name
MEMREF1(float, MemRefF32);
MEMREF1(uint8_t, MemRefI8);
MEMREF1(uint16_t, MemRefI16);

#define DATA(m) ((m)->aligned + (m)->offset)
#define CONTIGUOUS(m) ((m) && ((m)->stride == 1 || (m)->size <= 1))

static clusterrt_index_format bitsFormat(int32_t bits) {
  return bits >= 1 && bits <= 16 ? (clusterrt_index_format)bits
                                 : (clusterrt_index_format)0;
}

/* w = c[idx] from i8 bytes holding indices of `bits` bits (1..15, packed
 * as clusterc/runtime.h describes). */
CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_decode_i8(const MemRefI8 *idx, int32_t bits,
                                              const MemRefF32 *c, MemRefF32 *w) {
  clusterrt_index_format f = bitsFormat(bits);
  if (!CONTIGUOUS(idx) || !CONTIGUOUS(c) || !CONTIGUOUS(w) || !f || bits > 15 ||
      (size_t)idx->size < clusterrt_index_bytes(f, (size_t)w->size))
    return CLUSTERRT_ERR_ARG;
  return clusterrt_decode_f32(DATA(idx), f, (size_t)w->size, DATA(c),
                              (size_t)c->size, DATA(w));
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_decode_i16(const MemRefI16 *idx,
                                               const MemRefF32 *c, MemRefF32 *w) {
  if (!CONTIGUOUS(idx) || !CONTIGUOUS(c) || !CONTIGUOUS(w) || idx->size != w->size)
    return CLUSTERRT_ERR_ARG;
  return clusterrt_decode_f32(DATA(idx), CLUSTERRT_IDX_U16, (size_t)w->size,
                              DATA(c), (size_t)c->size, DATA(w));
}

/* idx = argmin_k |w - c_k| as u8 (k <= 256) or u16. */
CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_assign_i8(const MemRefF32 *w,
                                              const MemRefF32 *c, MemRefI8 *idx) {
  if (!CONTIGUOUS(w) || !CONTIGUOUS(c) || !CONTIGUOUS(idx) || idx->size != w->size)
    return CLUSTERRT_ERR_ARG;
  return clusterrt_assign_f32(DATA(w), (size_t)w->size, DATA(c), (size_t)c->size,
                              CLUSTERRT_IDX_U8, DATA(idx));
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_assign_i16(const MemRefF32 *w,
                                               const MemRefF32 *c, MemRefI16 *idx) {
  if (!CONTIGUOUS(w) || !CONTIGUOUS(c) || !CONTIGUOUS(idx) || idx->size != w->size)
    return CLUSTERRT_ERR_ARG;
  return clusterrt_assign_f32(DATA(w), (size_t)w->size, DATA(c), (size_t)c->size,
                              CLUSTERRT_IDX_U16, DATA(idx));
}

/* Grouped assignment with global indices (clusterrt_assign_grouped_f32):
 * w is [outer][channels][inner], c holds ceil(channels / group) tables of
 * equal size, sparse keeps zeros on their table's zero slot. */
static int32_t assignGrouped(const MemRefF32 *w, const MemRefF32 *c, void *idx,
                             int64_t idxSize, clusterrt_index_format f, int32_t outer,
                             int32_t channels, int32_t inner, int32_t group,
                             int32_t sparse) {
  size_t tables = group > 0 ? (size_t)(channels + group - 1) / (size_t)group : 0;
  if (!CONTIGUOUS(w) || !CONTIGUOUS(c) || idxSize != w->size || outer < 0 ||
      channels < 0 || inner < 0 || !tables || (size_t)c->size % tables ||
      (int64_t)outer * channels * inner != w->size)
    return CLUSTERRT_ERR_ARG;
  return clusterrt_assign_grouped_f32(DATA(w), (size_t)outer, (size_t)channels,
                                      (size_t)inner, (size_t)group, DATA(c),
                                      (size_t)c->size / tables, sparse, f, idx);
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_assign_grouped_i8(
    const MemRefF32 *w, const MemRefF32 *c, MemRefI8 *idx, int32_t outer,
    int32_t channels, int32_t inner, int32_t group, int32_t sparse) {
  if (!CONTIGUOUS(idx))
    return CLUSTERRT_ERR_ARG;
  return assignGrouped(w, c, DATA(idx), idx->size, CLUSTERRT_IDX_U8, outer, channels,
                       inner, group, sparse);
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_assign_grouped_i16(
    const MemRefF32 *w, const MemRefF32 *c, MemRefI16 *idx, int32_t outer,
    int32_t channels, int32_t inner, int32_t group, int32_t sparse) {
  if (!CONTIGUOUS(idx))
    return CLUSTERRT_ERR_ARG;
  return assignGrouped(w, c, DATA(idx), idx->size, CLUSTERRT_IDX_U16, outer, channels,
                       inner, group, sparse);
}

/* gc = per-cluster SUM (mode 0) or AVG (mode 1) of g; gc->size is k. */
CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_accumulate_i8(const MemRefF32 *g,
                                                  const MemRefI8 *idx, int32_t mode,
                                                  MemRefF32 *gc) {
  if (!CONTIGUOUS(g) || !CONTIGUOUS(idx) || !CONTIGUOUS(gc) || idx->size != g->size ||
      (mode != CLUSTERRT_REDUCE_SUM && mode != CLUSTERRT_REDUCE_AVG))
    return CLUSTERRT_ERR_ARG;
  return clusterrt_accumulate_f32(DATA(g), DATA(idx), CLUSTERRT_IDX_U8,
                                  (size_t)g->size, (size_t)gc->size,
                                  (clusterrt_reduce)mode, DATA(gc), NULL);
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_accumulate_i16(const MemRefF32 *g,
                                                   const MemRefI16 *idx, int32_t mode,
                                                   MemRefF32 *gc) {
  if (!CONTIGUOUS(g) || !CONTIGUOUS(idx) || !CONTIGUOUS(gc) || idx->size != g->size ||
      (mode != CLUSTERRT_REDUCE_SUM && mode != CLUSTERRT_REDUCE_AVG))
    return CLUSTERRT_ERR_ARG;
  return clusterrt_accumulate_f32(DATA(g), DATA(idx), CLUSTERRT_IDX_U16,
                                  (size_t)g->size, (size_t)gc->size,
                                  (clusterrt_reduce)mode, DATA(gc), NULL);
}

/* ---- LUT matrix products (decode=fused) -----------------------------------
 *
 * y[b] = x[b] · W_bᵀ for b < B: x is B x M x K, y is B x M x N (any strides;
 * rows are copied when their last stride is not 1). W is the N-major
 * packed weight of runtime.h's LUT kernels, every row padded to a byte
 * (row_bytes = clusterrt_index_bytes(bits, K)); idx holds one such matrix
 * (shared by every b) or B of them back to back. u16 indices are stored as
 * native-endian byte pairs. Centroid tables: c holds tables of k floats,
 * row n uses table n / group (group 0: table 0). M == 1 runs the gemv
 * kernel, else gemm. */
typedef struct MemRef3F32 {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} MemRef3F32;

/* rows x len floats between a strided matrix (row stride rs, element
 * stride es) and a dense one: into dense, or back when toStrided. */
static void copyRows(float *strided, int64_t rs, int64_t es, float *dense,
                     size_t rows, size_t len, int toStrided) {
  for (size_t r = 0; r < rows; ++r)
    for (size_t e = 0; e < len; ++e) {
      float *s = strided + (int64_t)r * rs + (int64_t)e * es;
      if (toStrided)
        *s = dense[r * len + e];
      else
        dense[r * len + e] = *s;
    }
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_lut_matmul(
    const MemRef3F32 *x, const MemRefI8 *idx, int32_t bits, const MemRefF32 *c,
    int32_t k, int32_t group, MemRef3F32 *y) {
  clusterrt_index_format f = bitsFormat(bits);
  if (!x || !y || !CONTIGUOUS(idx) || !CONTIGUOUS(c) || !f || k <= 0 ||
      group < 0 || x->sizes[0] != y->sizes[0] || x->sizes[1] != y->sizes[1])
    return CLUSTERRT_ERR_ARG;
  size_t B = (size_t)x->sizes[0], M = (size_t)x->sizes[1],
         K = (size_t)x->sizes[2], N = (size_t)y->sizes[2];
  size_t rb = clusterrt_index_bytes(f, K), mat = N * rb;
  size_t tables = group ? (N + (size_t)group - 1) / (size_t)group : 1;
  if ((size_t)idx->size != mat && (size_t)idx->size != B * mat)
    return CLUSTERRT_ERR_ARG;
  if ((size_t)c->size < tables * (size_t)k)
    return CLUSTERRT_ERR_ARG;
  if (B == 0 || M == 0 || N == 0)
    return CLUSTERRT_OK;
  int xDense = x->strides[2] == 1 || K <= 1, yDense = y->strides[2] == 1 || N <= 1;
  float *xt = NULL, *yt = NULL;
  if ((!xDense && !(xt = malloc(M * K * sizeof *xt))) ||
      (!yDense && !(yt = malloc(M * N * sizeof *yt)))) {
    free(xt);
    return CLUSTERRT_ERR_NOMEM;
  }
  clusterrt_status st = CLUSTERRT_OK;
  for (size_t b = 0; b < B && st == CLUSTERRT_OK; ++b) {
    float *xb = DATA(x) + (int64_t)b * x->strides[0];
    float *yb = DATA(y) + (int64_t)b * y->strides[0];
    const uint8_t *wb = DATA(idx) + ((size_t)idx->size == mat ? 0 : b * mat);
    size_t ldx = xDense ? (size_t)x->strides[1] : K;
    size_t ldy = yDense ? (size_t)y->strides[1] : N;
    if (!xDense)
      copyRows(xb, x->strides[1], x->strides[2], xt, M, K, 0);
    const float *xs = xDense ? xb : xt;
    float *ys = yDense ? yb : yt;
    if (M == 1)
      st = clusterrt_lut_gemv_f32(xs, K, N, wb, f, rb, DATA(c), (size_t)k,
                                  (size_t)group, ys);
    else
      st = clusterrt_lut_gemm_f32(xs, M, ldx, K, N, wb, f, rb,
                                  DATA(c), (size_t)k, (size_t)group, ys, ldy);
    if (!yDense)
      copyRows(yb, y->strides[1], y->strides[2], yt, M, N, 1);
  }
  free(xt);
  free(yt);
  return st;
}

/* A convolution on clustered weights with implicit im2col (decode=fused):
 * x and y flattened to 1-D, geometry = {nchw, n, c, h, w, oc, oh, ow, kh,
 * kw, sh, sw, dh, dw, pad top, bottom, left, right} (internal.h,
 * rt_lut_conv), the indices as
 * clusterrt_mlir_lut_matmul takes them (oc rows of c*kh*kw in the
 * filter's order). y is overwritten. */
MEMREF1(int64_t, MemRefI64);

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_lut_conv(
    const MemRefF32 *x, const MemRefI8 *idx, int32_t bits, const MemRefF32 *c,
    int32_t k, int32_t group, const MemRefI64 *geometry, MemRefF32 *y) {
  clusterrt_index_format f = bitsFormat(bits);
  if (!CONTIGUOUS(x) || !CONTIGUOUS(idx) || !CONTIGUOUS(c) || !CONTIGUOUS(y) ||
      !CONTIGUOUS(geometry) || geometry->size != 18 || !f || k <= 0 || group < 0)
    return CLUSTERRT_ERR_ARG;
  const int64_t *d = DATA(geometry);
  for (int i = 0; i < 18; ++i)
    if (d[i] < 0 || (i == 0 && d[i] > 1)) return CLUSTERRT_ERR_ARG;
  rt_lut_conv g = {(int)d[0], (size_t)d[1], (size_t)d[2], (size_t)d[3], (size_t)d[4],
                   (size_t)d[5], (size_t)d[6], (size_t)d[7], (size_t)d[8], (size_t)d[9],
                   (size_t)d[10], (size_t)d[11], (size_t)d[12], (size_t)d[13],
                   (size_t)d[14], (size_t)d[15], (size_t)d[16], (size_t)d[17]};
  return rt_lut_conv_f32(&g, DATA(x), (size_t)x->size, DATA(idx), f, (size_t)idx->size,
                         DATA(c), (size_t)c->size, (size_t)k, (size_t)group, DATA(y),
                         (size_t)y->size);
}

/* ---- Contractions (contractions=gemm) ---------------------------------------
 *
 * c = [d +] the contraction of a and b described by desc, every tensor
 * flattened to 1-D: desc = {rank, then per loop: size, stride in a,
 * stride in b, stride in c, 1 if a reduction loop}, strides in elements
 * (non-negative; 0: the operand does not use the loop). c starts from 0
 * (clusterrt_mlir_sgemm) or from d, of c's size (clusterrt_mlir_sgemm_acc).
 * Every element each operand's loops reach must lie inside it. */

static int contractArgsOk(const MemRefF32 *a, const MemRefF32 *b,
                          const MemRefI64 *desc, const MemRefF32 *c) {
  if (!CONTIGUOUS(a) || !CONTIGUOUS(b) || !CONTIGUOUS(desc) || !CONTIGUOUS(c) ||
      desc->size < 1)
    return 0;
  const int64_t *d = DATA(desc);
  int64_t rank = d[0];
  if (rank < 0 || rank > 16 || desc->size != 1 + 5 * rank) return 0;
  int64_t reach[3] = {0, 0, 0}, len[3] = {a->size, b->size, c->size};
  for (int64_t r = 0; r < rank; ++r) {
    const int64_t *l = d + 1 + 5 * r;
    if (l[0] < 0 || l[4] < 0 || l[4] > 1) return 0;
    if (l[0] == 0) return 1; /* nothing to compute */
    for (int o = 0; o < 3; ++o) {
      if (l[1 + o] < 0 || (l[0] > 1 && l[1 + o] > (INT64_MAX - reach[o]) / (l[0] - 1)))
        return 0;
      reach[o] += (l[0] - 1) * l[1 + o];
    }
  }
  for (int o = 0; o < 3; ++o)
    if (reach[o] >= len[o]) return 0;
  return 1;
}

static int32_t contract(const MemRefF32 *a, const MemRefF32 *b,
                        const MemRefI64 *desc, MemRefF32 *c) {
  const int64_t *d = DATA(desc);
  size_t rank = (size_t)d[0];
  int64_t size[16], sa[16], sb[16], sc[16];
  uint8_t red[16];
  for (size_t r = 0; r < rank; ++r) {
    const int64_t *l = d + 1 + 5 * r;
    size[r] = l[0], sa[r] = l[1], sb[r] = l[2], sc[r] = l[3], red[r] = (uint8_t)l[4];
  }
  return rt_contract_f32(rank, size, sa, sb, sc, red, DATA(a), DATA(b), DATA(c));
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_sgemm(const MemRefF32 *a,
                                                       const MemRefF32 *b,
                                                       const MemRefI64 *desc,
                                                       MemRefF32 *c) {
  if (!contractArgsOk(a, b, desc, c)) return CLUSTERRT_ERR_ARG;
  memset(DATA(c), 0, sizeof(float) * (size_t)c->size);
  return contract(a, b, desc, c);
}

CLUSTERRT_API int32_t _mlir_ciface_clusterrt_mlir_sgemm_acc(
    const MemRefF32 *a, const MemRefF32 *b, const MemRefF32 *init,
    const MemRefI64 *desc, MemRefF32 *c) {
  if (!contractArgsOk(a, b, desc, c) || !CONTIGUOUS(init) || init->size != c->size)
    return CLUSTERRT_ERR_ARG;
  if (DATA(init) != DATA(c))
    memmove(DATA(c), DATA(init), sizeof(float) * (size_t)c->size);
  return contract(a, b, desc, c);
}
