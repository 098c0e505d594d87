/*
 * Helpers shared by the runtime tests: a seeded generator, buffers with
 * guard bytes, the brute-force reference assignment, and ISA selection.
 *
 * Each test binary takes the ISA to test as argv[1] ("generic", "avx2",
 * "avx512", "neon"); an ISA this CPU or build lacks prints SKIP and exits
 * with 77, which CTest reports as skipped (SKIP_RETURN_CODE). --quick
 * after it trims the largest cases (CTest passes it to emulated runs).
 */
#ifndef CLUSTERRT_TEST_UTIL_H
#define CLUSTERRT_TEST_UTIL_H

#define _DEFAULT_SOURCE /* mmap, MAP_ANONYMOUS, sysconf */
#include "clusterc/runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures;
/* --quick (after the ISA): smaller sweeps, for emulated runs (qemu). */
static int t_quick;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
      if (++t_failures > 20) exit(1);                                      \
    }                                                                      \
  } while (0)

#define CHECK_MSG(cond, ...)                                               \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,     \
              #cond);                                                      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
      if (++t_failures > 20) exit(1);                                      \
    }                                                                      \
  } while (0)

static uint64_t t_rng_state = 0x853c49e6748fea9bull;
static inline uint64_t t_rand(void) {
  uint64_t z = (t_rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static inline double t_unit(void) { return (double)(t_rand() >> 11) * 0x1.0p-53; }
/* Approximately N(0, 1) (sum of uniforms; enough for weight-like data). */
static inline float t_gauss(void) {
  double s = 0;
  for (int i = 0; i < 6; i++) s += t_unit();
  return (float)((s - 3.0) * 1.41421356);
}

/* A buffer of `bytes` bytes at byte offset `off` inside an allocation
 * followed by 64 guard bytes of 0xA5. */
typedef struct t_buf {
  unsigned char *base, *p;
  size_t bytes;
} t_buf;

static inline t_buf t_buf_new(size_t bytes, size_t off) {
  t_buf b;
  b.base = malloc(bytes + off + 64 + 1);
  if (!b.base) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  memset(b.base, 0xA5, bytes + off + 64 + 1);
  b.p = b.base + off;
  b.bytes = bytes;
  return b;
}
/* The guard bytes after the buffer and the padding before it (the
 * offset) are untouched. */
static inline int t_buf_guard_ok(const t_buf *b) {
  for (size_t i = 0; i < 64; i++)
    if (b->p[b->bytes + i] != 0xA5) return 0;
  for (unsigned char *q = b->base; q < b->p; q++)
    if (*q != 0xA5) return 0;
  return 1;
}
static inline void t_buf_free(t_buf *b) { free(b->base); }

/* A read-only input copy that ends exactly where an inaccessible page
 * begins: a kernel that reads past n faults (masked vector loads only
 * touch the bytes of the lanes they load). */
typedef struct t_edge {
  unsigned char *map, *p;
  size_t len;
} t_edge;

static inline t_edge t_edge_new(const void *src, size_t bytes) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  size_t data = (bytes + pg - 1) / pg * pg;
  t_edge e;
  e.len = data + pg;
  e.map = mmap(NULL, e.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
  if (e.map == MAP_FAILED || mprotect(e.map + data, pg, PROT_NONE) != 0) {
    fprintf(stderr, "mmap/mprotect failed\n");
    exit(2);
  }
  e.p = e.map + data - bytes;
  if (bytes) memcpy(e.p, src, bytes);
  return e;
}
static inline void t_edge_free(t_edge *e) { munmap(e->map, e->len); }

/* The definition of assignment, by brute force over the caller's order
 * (a zero w goes to the lowest zero of its sign when c has both). */
static inline uint32_t t_ref_assign_one(float w, const float *c, size_t k) {
  if (w == 0.0f) {
    size_t neg = k, pos = k;
    for (size_t j = k; j-- > 0;)
      if (c[j] == 0.0f) {
        if (signbit(c[j]))
          neg = j;
        else
          pos = j;
      }
    if (neg < k && pos < k) return (uint32_t)(signbit(w) ? neg : pos);
  }
  if (w == INFINITY || w == -INFINITY) {
    uint32_t best = 0;
    for (size_t j = 1; j < k; j++)
      if (w > 0 ? c[j] > c[best] : c[j] < c[best]) best = (uint32_t)j;
    return best;
  }
  uint32_t best = 0;
  float bd = fabsf(w - c[0]);
  for (size_t j = 1; j < k; j++) {
    float d = fabsf(w - c[j]);
    if (d < bd) {
      bd = d;
      best = (uint32_t)j;
    }
  }
  return best;
}

/* Index i of a buffer in format f, bit by bit from the definition (one
 * little-endian bit stream, clusterc/runtime.h). */
static inline uint32_t t_get(const void *idx, clusterrt_index_format f,
                             size_t i) {
  const uint8_t *b = (const uint8_t *)idx;
  unsigned bits = clusterrt_format_bits(f);
  uint32_t v = 0;
  for (unsigned q = 0; q < bits; q++) {
    size_t bit = i * bits + q;
    v |= (uint32_t)((b[bit / 8] >> (bit % 8)) & 1u) << q;
  }
  return v;
}

static inline void t_set(void *idx, clusterrt_index_format f, size_t i,
                         uint32_t v) {
  uint8_t *b = (uint8_t *)idx;
  unsigned bits = clusterrt_format_bits(f);
  for (unsigned q = 0; q < bits; q++) {
    size_t bit = i * bits + q;
    uint8_t m = (uint8_t)(1u << (bit % 8));
    b[bit / 8] = (uint8_t)((v >> q) & 1u ? b[bit / 8] | m : b[bit / 8] & ~m);
  }
}

/* Parses argv[1], forces that ISA; exits 77 (SKIP) if unavailable.
 * A later --quick sets t_quick. */
static inline clusterrt_isa t_select_isa(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "generic";
  for (int i = 2; i < argc; i++) t_quick |= strcmp(argv[i], "--quick") == 0;
  for (int i = 0; i <= CLUSTERRT_ISA_NEON; i++) {
    if (strcmp(name, clusterrt_isa_name((clusterrt_isa)i)) == 0) {
      if (!clusterrt_isa_available((clusterrt_isa)i)) {
        printf("SKIP: ISA %s not available on this CPU or build\n", name);
        exit(77);
      }
      if (clusterrt_set_isa((clusterrt_isa)i) != CLUSTERRT_OK) {
        fprintf(stderr, "set_isa(%s) failed\n", name);
        exit(1);
      }
      return (clusterrt_isa)i;
    }
  }
  fprintf(stderr, "unknown ISA %s\n", name);
  exit(2);
}

static inline int t_finish(const char *what, clusterrt_isa isa) {
  if (t_failures) {
    printf("FAIL: %s [%s]: %d failures\n", what, clusterrt_isa_name(isa),
           t_failures);
    return 1;
  }
  printf("PASS: %s [%s]\n", what, clusterrt_isa_name(isa));
  return 0;
}

/* The aligned formats (every kernel's own), then the odd widths (unpacked
 * to u8/u16 by the entry points). */
static const clusterrt_index_format t_formats[] = {
    CLUSTERRT_IDX_U1, CLUSTERRT_IDX_U2, CLUSTERRT_IDX_U4, CLUSTERRT_IDX_U8,
    CLUSTERRT_IDX_U16};
static const clusterrt_index_format t_odd_formats[] = {
    CLUSTERRT_IDX_U3,  CLUSTERRT_IDX_U5,  CLUSTERRT_IDX_U6,  CLUSTERRT_IDX_U7,
    CLUSTERRT_IDX_U9,  CLUSTERRT_IDX_U10, CLUSTERRT_IDX_U11, CLUSTERRT_IDX_U12,
    CLUSTERRT_IDX_U13, CLUSTERRT_IDX_U14, CLUSTERRT_IDX_U15};
#define T_NODD (sizeof t_odd_formats / sizeof t_odd_formats[0])

#endif
