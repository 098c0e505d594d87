/*
 * Small public helpers: status strings, index formats and their packing,
 * init-method and ISA names.
 *
 * Packed formats store element i at bit (i*bits) % 8 of byte (i*bits) / 8,
 * least significant bits first. rt_pack is only ever called at element
 * offsets that are multiples of 8, so every call starts on a byte boundary
 * and owns whole bytes, except the final partial byte of the whole buffer,
 * whose unused high bits are written as zero.
 */
#include "internal.h"

#include <string.h>

const char *clusterrt_status_string(clusterrt_status s) {
  switch (s) {
  case CLUSTERRT_OK: return "ok";
  case CLUSTERRT_ERR_NULL: return "a required pointer is NULL";
  case CLUSTERRT_ERR_K: return "k is 0 or larger than 65536";
  case CLUSTERRT_ERR_NAN: return "NaN in the weights, or NaN or Inf in the centroids";
  case CLUSTERRT_ERR_FORMAT: return "unknown index format, or too narrow for k";
  case CLUSTERRT_ERR_INDEX: return "an index is >= k";
  case CLUSTERRT_ERR_NOMEM: return "out of memory";
  case CLUSTERRT_ERR_ARG: return "invalid argument";
  case CLUSTERRT_ERR_ISA: return "the requested ISA is not available";
  }
  return "unknown status";
}

clusterrt_index_format clusterrt_narrowest_format(size_t k) {
  if (k <= 2) return CLUSTERRT_IDX_U1;
  if (k <= 4) return CLUSTERRT_IDX_U2;
  if (k <= 16) return CLUSTERRT_IDX_U4;
  if (k <= 256) return CLUSTERRT_IDX_U8;
  return CLUSTERRT_IDX_U16;
}

unsigned clusterrt_format_bits(clusterrt_index_format f) {
  switch (f) {
  case CLUSTERRT_IDX_U1: case CLUSTERRT_IDX_U2: case CLUSTERRT_IDX_U4:
  case CLUSTERRT_IDX_U8: case CLUSTERRT_IDX_U16:
    return (unsigned)f;
  }
  return 0;
}

size_t clusterrt_index_bytes(clusterrt_index_format f, size_t n) {
  unsigned bits = clusterrt_format_bits(f);
  /* n / 8 * bits + the partial byte, without overflowing n * bits. */
  return n / 8 * bits + ((n % 8) * bits + 7) / 8;
}

const char *clusterrt_format_name(clusterrt_index_format f) {
  switch (f) {
  case CLUSTERRT_IDX_U1: return "u1";
  case CLUSTERRT_IDX_U2: return "u2";
  case CLUSTERRT_IDX_U4: return "u4";
  case CLUSTERRT_IDX_U8: return "u8";
  case CLUSTERRT_IDX_U16: return "u16";
  }
  return NULL;
}

static const char *const init_names[] = {"linear", "random", "density",
                                         "kmeans++", "kmeans1d"};

int clusterrt_init_parse(const char *name, size_t len, clusterrt_init *out) {
  if (!name || !out) return -1;
  for (size_t i = 0; i < sizeof init_names / sizeof init_names[0]; i++) {
    if (strlen(init_names[i]) == len && memcmp(init_names[i], name, len) == 0) {
      *out = (clusterrt_init)i;
      return 0;
    }
  }
  return -1;
}

const char *clusterrt_init_name(clusterrt_init m) {
  if ((unsigned)m < sizeof init_names / sizeof init_names[0])
    return init_names[m];
  return NULL;
}

const char *clusterrt_isa_name(clusterrt_isa isa) {
  switch (isa) {
  case CLUSTERRT_ISA_GENERIC: return "generic";
  case CLUSTERRT_ISA_AVX2: return "avx2";
  case CLUSTERRT_ISA_AVX512: return "avx512";
  case CLUSTERRT_ISA_NEON: return "neon";
  }
  return NULL;
}

void rt_pack(const uint8_t *in, size_t n, clusterrt_index_format f,
             void *idx, size_t first) {
  uint8_t *b = (uint8_t *)idx;
  rt_assert(first % 8 == 0);
  switch (f) {
  case CLUSTERRT_IDX_U16:
  case CLUSTERRT_IDX_U8:
    rt_assert(0); /* kernels write these directly */
    return;
  case CLUSTERRT_IDX_U4: {
    uint8_t *o = b + first / 2;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) o[i / 2] = (uint8_t)(in[i] | in[i + 1] << 4);
    if (i < n) o[i / 2] = (uint8_t)in[i];
    return;
  }
  case CLUSTERRT_IDX_U2: {
    uint8_t *o = b + first / 4;
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
      o[i / 4] = (uint8_t)(in[i] | in[i + 1] << 2 | in[i + 2] << 4 |
                           in[i + 3] << 6);
    if (i < n) {
      unsigned v = 0;
      for (size_t j = 0; i + j < n; j++) v |= (unsigned)in[i + j] << (2 * j);
      o[i / 4] = (uint8_t)v;
    }
    return;
  }
  case CLUSTERRT_IDX_U1: {
    uint8_t *o = b + first / 8;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      unsigned v = 0;
      for (unsigned j = 0; j < 8; j++) v |= (unsigned)in[i + j] << j;
      o[i / 8] = (uint8_t)v;
    }
    if (i < n) {
      unsigned v = 0;
      for (size_t j = 0; i + j < n; j++) v |= (unsigned)in[i + j] << j;
      o[i / 8] = (uint8_t)v;
    }
    return;
  }
  }
}

uint32_t rt_index_max(const void *idx, clusterrt_index_format f, size_t n) {
  const uint8_t *b = (const uint8_t *)idx;
  uint32_t mx = 0;
  switch (f) {
  case CLUSTERRT_IDX_U8: {
    uint8_t m8 = 0;
    for (size_t i = 0; i < n; i++) m8 = b[i] > m8 ? b[i] : m8;
    return m8;
  }
  case CLUSTERRT_IDX_U16: {
    uint16_t m16 = 0;
    for (size_t i = 0; i < n; i++) {
      uint16_t v;
      memcpy(&v, b + 2 * i, 2);
      m16 = v > m16 ? v : m16;
    }
    return m16;
  }
  case CLUSTERRT_IDX_U4: case CLUSTERRT_IDX_U2: case CLUSTERRT_IDX_U1: {
    /* Field by field: cheap enough for formats this narrow. */
    for (size_t i = 0; i < n; i++) {
      uint32_t v = rt_index_get(idx, f, i);
      mx = v > mx ? v : mx;
    }
    return mx;
  }
  }
  return mx;
}
