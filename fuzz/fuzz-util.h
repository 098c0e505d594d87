/*
 * Shared by the libFuzzer targets: reading choices from the fuzzer's bytes,
 * float values that reach the kernels' edge cases, buffers that end exactly
 * where the data ends (AddressSanitizer catches any access past them), and
 * the list of ISAs this CPU can run.
 *
 * A target consumes its input as a stream of choices (fz_u8, fz_range, ...);
 * once the input runs out every choice is 0, so every input is valid and
 * short inputs mean small, simple cases. Bulk data (weights, centroids,
 * indices) comes either from the bytes themselves or, for sizes the input
 * cannot hold, from a generator seeded by the bytes.
 */
#ifndef CLUSTERC_FUZZ_UTIL_H
#define CLUSTERC_FUZZ_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/runtime.h"

/* A failed check: what, then a trap, so libFuzzer saves the input. */
#define FZ_CHECK(cond, ...)                                                 \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,      \
              #cond);                                                       \
      fprintf(stderr, __VA_ARGS__);                                         \
      fputc('\n', stderr);                                                  \
      __builtin_trap();                                                     \
    }                                                                       \
  } while (0)

typedef struct FzIn {
  const uint8_t *p;
  size_t n, at;
  uint64_t rng; /* for generated bulk data */
} FzIn;

static inline FzIn fz_in(const uint8_t *p, size_t n) {
  FzIn in = {p, n, 0, 0x9e3779b97f4a7c15ull};
  for (size_t i = 0; i < n; ++i)
    in.rng = (in.rng ^ p[i]) * 0x100000001b3ull;
  return in;
}

static inline uint8_t fz_u8(FzIn *in) { return in->at < in->n ? in->p[in->at++] : 0; }

static inline uint32_t fz_u32(FzIn *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= (uint32_t)fz_u8(in) << (8 * i);
  return v;
}

/* A value in [lo, hi], small values likelier (one byte picks the scale). */
static inline size_t fz_range(FzIn *in, size_t lo, size_t hi) {
  if (hi <= lo)
    return lo;
  uint8_t scale = fz_u8(in);
  size_t span = hi - lo, cap = scale < 128 ? 16 : scale < 200 ? 300 : scale < 240 ? 5000 : span;
  if (cap > span)
    cap = span;
  return lo + (size_t)(fz_u32(in) % (cap + 1));
}

static inline uint64_t fz_rand(FzIn *in) {
  uint64_t z = (in->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline float fz_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

/* Values where kernels differ if they are wrong: signed zeros, denormals,
 * the largest floats, values one ulp apart, infinities, NaN. */
static inline float fz_special(uint32_t r) {
  static const uint32_t bits[] = {
      0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x00800000,
      0x3f800000, 0xbf800000, 0x3f800001, 0x3f7fffff, 0x3f000000, 0x3fc00000,
      0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x4b000000,
      0x4b000001, 0x33800000, 0x34000000, 0x3e800000};
  return fz_bits(bits[r % (sizeof bits / sizeof bits[0])]);
}

/* How a float array is made (bits of a choice byte). */
enum {
  FZ_FINITE = 1, /* no NaN or Inf */
};

/* One float: raw bits, a small multiple of 1/8, a special value, or a
 * generated weight-like value; flags & FZ_FINITE excludes NaN and Inf. */
static inline float fz_float(FzIn *in, unsigned style, int flags, int gen) {
  float v;
  uint32_t r = gen ? (uint32_t)fz_rand(in) : fz_u32(in);
  switch (style % 4) {
  case 0: v = fz_bits(r); break;
  case 1: v = (float)((int32_t)(r % 65) - 32) / 8.0f; break;
  case 2: v = fz_special(r); break;
  default: v = (float)((int32_t)(r % 2000001) - 1000000) * 1e-6f; break;
  }
  if ((flags & FZ_FINITE) && !isfinite(v))
    v = (float)(r % 7) - 3.0f;
  return v;
}

/* Fills n floats: from the input while it lasts, else generated. */
static inline void fz_floats(FzIn *in, float *out, size_t n, int flags) {
  uint8_t style = fz_u8(in);
  int gen = fz_u8(in) & 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned s = (style & 0x80) ? (unsigned)fz_rand(in) : style;
    out[i] = fz_float(in, s, flags, gen || in->at >= in->n);
  }
}

/* A buffer of `bytes` bytes that starts `off` bytes into its allocation
 * and ends at the allocation's end. */
typedef struct FzBuf {
  unsigned char *base, *p;
} FzBuf;

static inline FzBuf fz_buf(size_t bytes, size_t off) {
  FzBuf b;
  b.base = malloc(bytes + off ? bytes + off : 1);
  if (!b.base) {
    fprintf(stderr, "out of memory\n");
    abort();
  }
  memset(b.base, 0x5A, bytes + off);
  b.p = b.base + off;
  return b;
}

static inline void fz_free(FzBuf *b) {
  free(b->base);
  b->base = b->p = NULL;
}

/* The ISAs this build and CPU can run; generic first. */
static inline int fz_isas(clusterrt_isa *out) {
  int n = 0;
  for (int i = CLUSTERRT_ISA_GENERIC; i <= CLUSTERRT_ISA_NEON; ++i)
    if (clusterrt_isa_available((clusterrt_isa)i))
      out[n++] = (clusterrt_isa)i;
  return n;
}

static inline void fz_set_isa(clusterrt_isa isa) {
  clusterrt_status s = clusterrt_set_isa(isa);
  FZ_CHECK(s == CLUSTERRT_OK, "set_isa(%s) = %d", clusterrt_isa_name(isa), (int)s);
}

/* A format: usually the narrowest aligned one for k, sometimes the dense
 * one (any width), sometimes any of the 16 (possibly too narrow: the
 * kernels must reject it the same way). */
static inline clusterrt_index_format fz_format(FzIn *in, size_t k) {
  uint8_t c = fz_u8(in);
  if (c < 128)
    return clusterrt_narrowest_format(k ? k : 1);
  if (c < 176)
    return clusterrt_dense_format(k ? k : 1);
  return (clusterrt_index_format)(1 + c % 16);
}

/* ORs v into element i of a zeroed index buffer in format f. */
static inline void fz_index_put(void *idx, clusterrt_index_format f, size_t i, unsigned v) {
  uint8_t *b = idx;
  unsigned bits = clusterrt_format_bits(f);
  for (unsigned q = 0; q < bits; q++) {
    size_t bit = i * bits + q;
    b[bit / 8] |= (uint8_t)(((v >> q) & 1u) << (bit % 8));
  }
}

/* Element i of an index buffer in format f, bit by bit (one little-endian
 * bit stream, clusterc/runtime.h). */
static inline unsigned fz_index_at(const void *idx, clusterrt_index_format f, size_t i) {
  const uint8_t *b = idx;
  unsigned bits = clusterrt_format_bits(f), v = 0;
  for (unsigned q = 0; q < bits; q++) {
    size_t bit = i * bits + q;
    v |= (unsigned)((b[bit / 8] >> (bit % 8)) & 1u) << q;
  }
  return v;
}

#endif
