/*
 * Decode (gather): w[i] = c[idx[i]], the inverse of assign.
 *
 * The kernels take the aligned formats (1, 2, 4, 8, 16 bits); the entry
 * points unpack odd widths to u8/u16 in blocks first (decode_any), so every
 * ISA's table lookup serves every width.
 *
 * Every kernel must report an index >= k. The generic kernel looks indices
 * up in a local table padded to the format's full range (2^bits entries,
 * zero beyond k, or clamped for u16) so the loop has no bounds branch, and
 * folds "index >= k" into a flag checked once at the end.
 */
#include "internal.h"

#include <string.h>

int clusterrt_decode__generic(const void *idx, clusterrt_index_format f,
                              size_t n, const float *c, size_t k, float *w) {
  const uint8_t *b = (const uint8_t *)idx;
  if (f == CLUSTERRT_IDX_U16) {
    uint32_t bad = 0, km1 = (uint32_t)(k - 1);
    for (size_t i = 0; i < n; i++) {
      uint16_t v;
      memcpy(&v, b + 2 * i, 2);
      bad |= v > km1;
      w[i] = c[v > km1 ? km1 : v];
    }
    return bad != 0;
  }
  float tab[256];
  unsigned range = 1u << clusterrt_format_bits(f);
  for (unsigned i = 0; i < range; i++) tab[i] = i < k ? c[i] : 0.0f;
  uint32_t mx = 0;
  switch (f) {
  case CLUSTERRT_IDX_U8:
    for (size_t i = 0; i < n; i++) {
      mx |= (uint32_t)(b[i] >= k);
      w[i] = tab[b[i]];
    }
    return mx != 0;
  case CLUSTERRT_IDX_U4:
    for (size_t i = 0; i < n / 2; i++) {
      uint8_t x = b[i];
      w[2 * i] = tab[x & 15];
      w[2 * i + 1] = tab[x >> 4];
    }
    if (n & 1) w[n - 1] = tab[b[n / 2] & 15];
    break;
  case CLUSTERRT_IDX_U2:
  case CLUSTERRT_IDX_U1:
    for (size_t i = 0; i < n; i++) w[i] = tab[rt_index_get(idx, f, i)];
    break;
  default:
    return 1;
  }
  /* Packed formats can only exceed k when k < 2^bits. */
  if (k < range && n > 0) return rt_index_max(idx, f, n) >= k;
  return 0;
}

/* The kernel on [0, n), as two calls when that makes the second start on
 * a 64-byte boundary of w: then every vector store of the bulk fills (part
 * of) one cache line instead of straddling two. Measured here at n = 16M
 * (u8, k = 16, AVX-512): 5.4 instead of 5.0 elements/ns, and about twice
 * as fast with w in cache. The head must end on a byte boundary of the
 * index buffer (packed formats), and w must be float-aligned. */
static int decode_kernel(const rt_kernels *kern, const uint8_t *b,
                         clusterrt_index_format f, size_t n, const float *c,
                         size_t k, float *w) {
  uintptr_t off = (uintptr_t)(void *)w & 63;
  size_t head = (64 - off) % 64 / sizeof(float);
  unsigned bits = clusterrt_format_bits(f);
  if (n < 256 || head == 0 || off % sizeof(float) || head * bits % 8)
    return kern->decode(b, f, n, c, k, w);
  return kern->decode(b, f, head, c, k, w) |
         kern->decode(b + head * bits / 8, f, n - head, c, k, w + head);
}

/* decode_kernel for any format starting at element 0 of idx: odd widths
 * are unpacked to u8/u16 block by block (the ISA kernels take aligned
 * formats only). */
static int decode_any(const rt_kernels *kern, const uint8_t *b,
                      clusterrt_index_format f, size_t n, const float *c,
                      size_t k, float *w) {
  if (clusterrt_format_aligned(f)) return decode_kernel(kern, b, f, n, c, k, w);
  uint16_t buf[RT_BLOCK];
  clusterrt_index_format u = rt_unpacked_format(f);
  int bad = 0;
  for (size_t i = 0; i < n; i += RT_BLOCK) {
    size_t nb = n - i < RT_BLOCK ? n - i : RT_BLOCK;
    rt_unpack(b, f, i, nb, buf);
    bad |= decode_kernel(kern, (const uint8_t *)buf, u, nb, c, k, w + i);
  }
  return bad;
}

clusterrt_status clusterrt_decode_f32(const void *idx,
                                      clusterrt_index_format f, size_t n,
                                      const float *c, size_t k, float *w) {
  if (!c || (n > 0 && (!idx || !w))) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  if (clusterrt_format_bits(f) == 0) return CLUSTERRT_ERR_FORMAT;
  if (n == 0) return CLUSTERRT_OK;
  if (decode_any(rt_get_kernels(), idx, f, n, c, k, w))
    return CLUSTERRT_ERR_INDEX;
  return CLUSTERRT_OK;
}

clusterrt_status clusterrt_decode_per_channel_f32(
    const void *idx, clusterrt_index_format f, size_t outer, size_t channels,
    size_t inner, const float *c, size_t k, float *w) {
  size_t n;
  if (__builtin_mul_overflow(outer, channels, &n) ||
      __builtin_mul_overflow(n, inner, &n))
    return CLUSTERRT_ERR_ARG;
  if ((channels > 0 && !c) || (n > 0 && (!idx || !w))) return CLUSTERRT_ERR_NULL;
  if (k == 0 || k > CLUSTERRT_MAX_K) return CLUSTERRT_ERR_K;
  unsigned bits = clusterrt_format_bits(f);
  if (bits == 0) return CLUSTERRT_ERR_FORMAT;
  if (n == 0) return CLUSTERRT_OK;
  const rt_kernels *kern = rt_get_kernels();
  /* Slices that start on a byte boundary go straight to the kernel; others
   * (packed formats with inner not a multiple of 8/bits) element by element. */
  size_t slices = outer * channels;
  for (size_t s = 0; s < slices; s++) {
    size_t e = s * inner;
    const float *cc = c + (s % channels) * k;
    if ((e * bits) % 8 == 0) {
      if (decode_any(kern, (const uint8_t *)idx + e * bits / 8, f, inner, cc,
                     k, w + e))
        return CLUSTERRT_ERR_INDEX;
    } else {
      for (size_t i = 0; i < inner; i++) {
        uint32_t v = rt_index_get(idx, f, e + i);
        if (v >= k) return CLUSTERRT_ERR_INDEX;
        w[e + i] = cc[v];
      }
    }
  }
  return CLUSTERRT_OK;
}
