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

#include "clusterc/runtime.h"

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
