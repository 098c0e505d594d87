/*
 * Small public helpers: status strings, index formats and their packing,
 * init-method and ISA names.
 *
 * Packed formats store element i at bits [i*bits, (i+1)*bits) of one
 * little-endian bit stream (bit b is bit b % 8 of byte b / 8). rt_pack and
 * rt_unpack are only ever called at element offsets that are multiples of
 * 8, so every call starts on a byte boundary and owns whole bytes (eight
 * indices of any width fill `bits` bytes), except the final partial byte
 * of the whole buffer, whose unused high bits are written as zero.
 */
#include "internal.h"

#include <string.h>

/* rt_pack and rt_index_max read eight indices as one little-endian word. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "libclusterrt assumes a little-endian target");

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

clusterrt_index_format clusterrt_dense_format(size_t k) {
  unsigned bits = 1;
  while (bits < 16 && ((size_t)1 << bits) < k) bits++;
  return (clusterrt_index_format)bits;
}

unsigned clusterrt_format_bits(clusterrt_index_format f) {
  return (unsigned)f >= 1 && (unsigned)f <= 16 ? (unsigned)f : 0;
}

int clusterrt_format_aligned(clusterrt_index_format f) {
  unsigned bits = clusterrt_format_bits(f);
  return bits != 0 && (bits & (bits - 1)) == 0;
}

size_t clusterrt_index_bytes(clusterrt_index_format f, size_t n) {
  unsigned bits = clusterrt_format_bits(f);
  /* n / 8 * bits + the partial byte, without overflowing n * bits. */
  return n / 8 * bits + ((n % 8) * bits + 7) / 8;
}

const char *clusterrt_format_name(clusterrt_index_format f) {
  static const char *const names[] = {"u1",  "u2",  "u3",  "u4",  "u5",  "u6",
                                      "u7",  "u8",  "u9",  "u10", "u11", "u12",
                                      "u13", "u14", "u15", "u16"};
  unsigned bits = clusterrt_format_bits(f);
  return bits ? names[bits - 1] : NULL;
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

/* Eight u8 indices x (each < 2^bits) packed into bits bytes, in SWAR:
 * folding neighbours into one byte by shifts, then collecting the bytes
 * that hold them. */
static inline uint64_t pack8(uint64_t x, unsigned bits) {
  switch (bits) {
  case 4: /* byte 2j = b[2j] | b[2j+1] << 4; keep the even bytes */
    x |= x >> 4;
    return (x & 0xff) | ((x >> 8) & 0xff00) | ((x >> 16) & 0xff0000) |
           ((x >> 24) & 0xff000000);
  case 2: /* byte 4j = b[4j] | b[4j+1] << 2 | b[4j+2] << 4 | b[4j+3] << 6 */
    x |= x >> 6;
    x |= x >> 12;
    return (x & 0xff) | ((x >> 24) & 0xff00);
  default: /* 1: every b[k] to bit k (the products do not overlap) */
    return (x * 0x0102040810204080ull) >> 56;
  }
}

/* Odd widths: groups of eight indices make `bits` whole bytes, written
 * through a 64-bit accumulator (bits <= 16, so at most 23 bits pending). */
static void pack_stream(const void *in, int wide, size_t n, unsigned bits,
                        uint8_t *o) {
  uint64_t acc = 0;
  unsigned have = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = wide ? ((const uint16_t *)in)[i] : ((const uint8_t *)in)[i];
    acc |= (uint64_t)v << have;
    have += bits;
    for (; have >= 8; have -= 8, acc >>= 8) *o++ = (uint8_t)acc;
  }
  if (have) *o = (uint8_t)acc; /* the unused high bits are zero */
}

void rt_pack(const void *in, int wide, size_t n, clusterrt_index_format f,
             void *idx, size_t first) {
  uint8_t *b = (uint8_t *)idx;
  unsigned bits = clusterrt_format_bits(f);
  rt_assert(first % 8 == 0);
  rt_assert(bits != 8 && bits != 16); /* kernels write these directly */
  rt_assert(wide ? bits > 8 : bits < 8);
  uint8_t *o = b + first / 8 * bits;
  if (!clusterrt_format_aligned(f)) {
    pack_stream(in, wide, n, bits, o);
    return;
  }
  const uint8_t *in8 = (const uint8_t *)in;
  size_t i = 0;
  /* one loop per width, so each store has a constant size */
#define RT_PACK_LOOP(BITS)                                                   \
  for (; i + 8 <= n; i += 8) {                                               \
    uint64_t x, y;                                                           \
    memcpy(&x, in8 + i, 8);                                                  \
    y = pack8(x, BITS);                                                      \
    memcpy(o + i / 8 * BITS, &y, BITS); /* the low bytes */                  \
  }
  if (bits == 4) {
    RT_PACK_LOOP(4)
  } else if (bits == 2) {
    RT_PACK_LOOP(2)
  } else {
    RT_PACK_LOOP(1)
  }
#undef RT_PACK_LOOP
  if (i < n) { /* the final partial group: unused fields are zero */
    uint8_t tmp[8] = {0};
    memcpy(tmp, in8 + i, n - i);
    uint64_t x, y;
    memcpy(&x, tmp, 8);
    y = pack8(x, bits);
    memcpy(o + i / 8 * bits, &y, ((n - i) * bits + 7) / 8);
  }
}

/* The whole groups of eight indices (`bits` bytes each) from p into out,
 * with the width a constant: one fixed-size load into a 64-bit word (128
 * for widths over 8), constant shifts. Returns the elements done. */
#define RT_UNPACK_LOOP(BITS, T, W)                                           \
  for (; i + 8 <= n; i += 8, p += BITS) {                                    \
    W x = 0;                                                                 \
    memcpy(&x, p, BITS);                                                     \
    for (unsigned j = 0; j < 8; j++)                                         \
      ((T *)out)[i + j] = (T)((x >> (j * BITS)) & ((1u << BITS) - 1u));      \
  }

void rt_unpack(const void *idx, clusterrt_index_format f, size_t first,
               size_t n, void *out) {
  unsigned bits = clusterrt_format_bits(f);
  rt_assert(first % 8 == 0);
  const uint8_t *p = (const uint8_t *)idx + first / 8 * bits;
  size_t i = 0;
  typedef unsigned __int128 u128;
  switch (bits) {
  case 3: RT_UNPACK_LOOP(3, uint8_t, uint64_t) break;
  case 5: RT_UNPACK_LOOP(5, uint8_t, uint64_t) break;
  case 6: RT_UNPACK_LOOP(6, uint8_t, uint64_t) break;
  case 7: RT_UNPACK_LOOP(7, uint8_t, uint64_t) break;
  case 9: RT_UNPACK_LOOP(9, uint16_t, u128) break;
  case 10: RT_UNPACK_LOOP(10, uint16_t, u128) break;
  case 11: RT_UNPACK_LOOP(11, uint16_t, u128) break;
  case 12: RT_UNPACK_LOOP(12, uint16_t, u128) break;
  case 13: RT_UNPACK_LOOP(13, uint16_t, u128) break;
  case 14: RT_UNPACK_LOOP(14, uint16_t, u128) break;
  case 15: RT_UNPACK_LOOP(15, uint16_t, u128) break;
  default: rt_assert(0); /* aligned widths are never unpacked */
  }
#undef RT_UNPACK_LOOP
  uint8_t *o8 = (uint8_t *)out;
  uint16_t *o16 = (uint16_t *)out;
  for (size_t j = 0; i < n; i++, j++) { /* never reads past the buffer */
    uint32_t x = rt_index_get(p, f, j);
    if (bits < 8)
      o8[i] = (uint8_t)x;
    else
      o16[i] = (uint16_t)x;
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
    /* Whole bytes by byte loops the compiler vectorizes, then the fields
     * of a final partial byte one by one. */
    unsigned bits = clusterrt_format_bits(f), per = 8 / bits;
    size_t full = n / per;
    uint8_t m8 = 0;
    if (bits == 4) {
      for (size_t i = 0; i < full; i++) {
        uint8_t lo = b[i] & 15, hi = b[i] >> 4, v = lo > hi ? lo : hi;
        m8 = v > m8 ? v : m8;
      }
    } else if (bits == 2) {
      for (size_t i = 0; i < full; i++) {
        uint8_t x = b[i], v = x & 3;
        v = ((x >> 2) & 3) > v ? (x >> 2) & 3 : v;
        v = ((x >> 4) & 3) > v ? (x >> 4) & 3 : v;
        v = (x >> 6) > v ? x >> 6 : v;
        m8 = v > m8 ? v : m8;
      }
    } else {
      for (size_t i = 0; i < full; i++) m8 |= b[i];
      m8 = m8 != 0;
    }
    mx = m8;
    for (size_t i = full * per; i < n; i++) {
      uint32_t v = rt_index_get(idx, f, i);
      mx = v > mx ? v : mx;
    }
    return mx;
  }
  default:
    break;
  }
  for (size_t i = 0; i < n; i++) { /* odd widths */
    uint32_t v = rt_index_get(idx, f, i);
    mx = v > mx ? v : mx;
  }
  return mx;
}
