/*
 * libclusterrt internals shared by the runtime's files. Not installed.
 *
 * Naming: public functions are clusterrt_*; internal functions shared
 * between files are rt_*; kernels are clusterrt_<op>_<type>__<isa>, as in
 * XNNPACK. Everything else is static.
 *
 * The assignment table (rt_table) is the heart of assign: the caller's
 * centroids sorted ascending with duplicates merged. For unique value u[j]
 * p[j] is the lowest caller index holding that value, so "ties go to the
 * lowest caller index" becomes "ties go to the smallest p" over the run of
 * equal distances (see assign.c for why that run is contiguous).
 */
#ifndef CLUSTERRT_INTERNAL_H
#define CLUSTERRT_INTERNAL_H

#include "clusterc/runtime.h"

#include <stddef.h>
#include <stdint.h>

/* Assertions for internal invariants; compiled out unless CLUSTERRT_DEBUG. */
#ifdef CLUSTERRT_DEBUG
#include <assert.h>
#define rt_assert(c) assert(c)
#else
#define rt_assert(c) ((void)0)
#endif

/* Elements per block when kernels write u8 or u16 indices to a scratch
 * buffer before they are packed into a narrower format (or read them from
 * one after an odd width is unpacked). A multiple of 8. */
#define RT_BLOCK 2048

typedef struct rt_table {
  size_t m;          /* unique centroid values, 1 <= m <= k */
  float *u;          /* u[-1..m]: u[-1] = -Inf, u[m] = +Inf, u[0..m) sorted */
  uint16_t *p;       /* p[0..m): lowest caller index of u[j] (k <= 65536) */
  uint32_t *p32;     /* the same as uint32 (for 32-bit gathers) */
  /* Exact switch points (assign.c): thr[j] = the smallest float at which
   * the answer between u[j] and u[j+1] becomes p[j+1]; thr[m-1..P) = +Inf.
   * P = the smallest power of two >= m. */
  float *thr;
  size_t P;
  /* fast: the gap condition of assign.c holds, so for every w in
   * [lo_safe, hi_safe] the index is p[#{thr <= w}]. Otherwise kernels use
   * the generic kernel. */
  int fast;
  float lo_safe, hi_safe;
  int p_ident;       /* p[j] == j for all j: the caller's table was sorted
                        and distinct, so the count is the index */
  uint32_t small_p[32]; /* p[j] for j < min(m, 32), then p[m-1] */
  /* Both signs of zero among the centroids: the lowest -0 and +0 caller
   * indices, which zero weights get by their sign (rt_assign_block);
   * negz = -1 otherwise. */
  int32_t negz, posz;
  /* Bucket guess for the count (tables with m > 16 only; bmax == 0 when
   * unused). rt_bucket(t, w) maps w monotonically to [0, G); bkt[b] =
   * #{j : rt_bucket(thr[j]) < b}, with bit 31 set when some switch point
   * falls in bucket b. At most bmax share a bucket, so #{thr <= w} =
   * bkt[b] (bit 31 clear) or bkt[b] + #{q < bmax : thr[bkt[b] + q] <= w}.
   * thr has RT_THR_PAD entries of +Inf after P for that probe. */
  uint32_t *bkt;
  size_t G;
  float bbase, bscale;
  unsigned bmax;
  void *mem;         /* one allocation behind u, p, p32, thr */
  void *bmem;        /* bkt */
} rt_table;

#define RT_THR_PAD 8 /* largest usable bmax */

/* The bucket of w: every ISA must compute exactly this, in this order, in
 * single precision (sub, mul, clamp, truncate), so all agree on it. */
static inline uint32_t rt_bucket(const rt_table *t, float w) {
  float y = (w - t->bbase) * t->bscale;
  y = y > 0.0f ? y : 0.0f; /* also maps NaN to 0 */
  float top = (float)(t->G - 1);
  y = y < top ? y : top;
  return (uint32_t)y;
}

/* Builds the table. c must be finite (checked by the caller). */
clusterrt_status rt_table_init(rt_table *t, const float *c, size_t k);
void rt_table_free(rt_table *t);

/* The exact index for one weight (finite or +-Inf, not NaN): the reference
 * every kernel falls back to when its fast check is inconclusive. */
uint16_t rt_assign_one(const rt_table *t, float w);


/* ---- Kernel table ------------------------------------------------------- */

/* out[i] = v in the index layout of the assign kernels (kernels.def). */
static inline void rt_store_idx(void *out, int wide, size_t i, uint32_t v) {
  if (wide) {
    uint16_t x = (uint16_t)v;
    __builtin_memcpy((uint8_t *)out + 2 * i, &x, 2);
  } else {
    ((uint8_t *)out)[i] = (uint8_t)v;
  }
}

/* The Adam constants of the adam kernels (optim.c): the hyper-parameters
 * rounded to float once. */
typedef struct rt_adam_consts {
  float b1, omb1, b2, omb2; /* beta1, 1-beta1, beta2, 1-beta2 */
  float nss;                /* -lr / (1 - beta1^step) */
  float bc2s;               /* sqrt(1 - beta2^step) */
  float eps;
} rt_adam_consts;

/* The row-minimum kernels of exact 1-D k-means (kmeans1d.c) find, for a
 * row e, the smallest s in [s0, s1] minimising prev[s] + cost(s, e), where
 * with i = off + s and j = off + e
 *   cost = max(0, (S2[j]-S2[i]) - (S1[j]-S1[i])^2 / (N[j]-N[i])),
 * evaluated in double exactly in this order (no contraction). */
typedef struct rt_rowmin_args {
  const double *N, *S1, *S2, *prev;
  size_t off;
} rt_rowmin_args;

/* The arguments of the LUT matrix kernels (lut.c), checked by the entry
 * points: y[m*ldy + n] = sum_e x[m*ldx + e] * table(n)[index(n, e)]. */
typedef struct rt_lut_args {
  const float *x;
  size_t M, ldx, K, N;
  const uint8_t *idx;        /* row n at idx + n * row_bytes */
  clusterrt_index_format f;
  unsigned bits;             /* clusterrt_format_bits(f) */
  size_t row_bytes;
  const float *c;
  size_t k, group;           /* table of row n: c + (group ? n / group : 0) * k */
  float *y;
  size_t ldy;
} rt_lut_args;

/* Checks the arguments of a LUT matrix product (as clusterrt_lut_gemm_f32
 * takes them; row_bytes, ldx, ldy 0 = packed) and fills *a: CLUSTERRT_OK,
 * or the status an entry point returns for them (lut.c; also used by
 * rt_lut_conv_f32 in gemm.c). */
clusterrt_status rt_lut_check_args(const float *x, size_t M, size_t ldx,
                                   size_t K, size_t N, const void *idx,
                                   clusterrt_index_format f, size_t row_bytes,
                                   const float *c, size_t k, size_t group,
                                   float *y, size_t ldy, rt_lut_args *a);

static inline const float *rt_lut_table(const rt_lut_args *a, size_t n) {
  return a->c + (a->group ? n / a->group : 0) * a->k;
}

/* tab[0..2^bits) = the table of row n padded with zeros (bits <= 8). */
void rt_lut_pad_table(const rt_lut_args *a, size_t n, float *tab);
/* acc after acc = fmaf(x[e], tab[index e of row], acc) for e in [e0, e1),
 * in order (bits <= 8, tab padded to 2^bits). Inline, so that in the ISA
 * files (built with -mfma) fmaf is one instruction, not a libm call. */
static inline float rt_lut_dot(const float *x, const uint8_t *row,
                               unsigned bits, size_t e0, size_t e1,
                               const float *tab, float acc) {
  for (size_t e = e0; e < e1; e++) {
    size_t bit = e * bits;
    unsigned v = (row[bit / 8] >> (bit % 8)) & ((1u << bits) - 1u);
    acc = __builtin_fmaf(x[e], tab[v], acc);
  }
  return acc;
}
/* Copies the bulk of x (whole chunks of `chunk` index bytes) into the order
 * in which the SIMD gemv kernels decode a chunk: index byte l of the chunk
 * holds elements l*epb + s (epb = 8 / bits), and the kernel produces them
 * as vector s, lane l; so xp[ch*chunk*epb + s*chunk + l] = x[(ch*chunk + l)
 * * epb + s]. Returns the number of elements copied (the bulk); the rest of
 * x is used in place. */
size_t rt_lut_permute_x(const float *x, size_t K, unsigned bits, size_t chunk,
                        float *xp);
/* The x a SIMD gemv kernel reads: a->x itself for u8 (one index per byte,
 * nothing to permute), else xp filled by rt_lut_permute_x. */
const float *rt_lut_x(const rt_lut_args *a, float *xp, size_t chunk);

/* gemm panel depth: K is processed in blocks of at most RT_LUT_KC inputs,
 * and decoded rows of W sit RT_LUT_KC floats apart (a compile-time stride,
 * so a micro-kernel addresses all NR rows from one register). */
#define RT_LUT_KC 256
/* A gemm micro-kernel: ct[j*MR + i] = (first ? 0 : ct[j*MR + i]) + the
 * sequential fused sum over kk < kc of ap[kk*MR + i] * b[j*RT_LUT_KC + kk],
 * for i < MR, j < NR (ap: a packed panel of x, b: NR decoded rows of W). */
typedef void (*rt_lut_tile_fn)(const float *ap, const float *b, size_t kc,
                               float *ct, int first);
/* A 2-D convolution on clustered weights (rt_lut_conv_f32): input x
 * [n][c][h][w] (nchw) or [n][h][w][c] (else), output y [n][oc][oh][ow] or
 * [n][oh][ow][oc], y = sum over (c, kh, kw) of xp[.., oh*sh + kh*dh,
 * ow*sw + kw*dw, ..] * W[oc][e], xp = x with pt/pb/pl/pr zero rows and
 * columns around it: W rows of K = c*kh*kw indices in the filter's order,
 * (c, kh, kw) for nchw, (kh, kw, c) else. */
typedef struct rt_lut_conv {
  int nchw;
  size_t n, c, h, w, oc, oh, ow, kh, kw, sh, sw, dh, dw;
  size_t pt, pb, pl, pr;
} rt_lut_conv;
/* Checks the geometry against x's and y's element counts and runs the
 * float GEMM driver (both in gemm.c) with implicit im2col and the weights
 * as its clustered operand (decoded per panel); idx/f/c/k/group as
 * clusterrt_lut_gemm_f32 takes them (rows of c*kh*kw indices). Returns a
 * clusterrt_status. */
int rt_lut_conv_f32(const rt_lut_conv *g, const float *x, size_t xn,
                    const void *idx, clusterrt_index_format f, size_t idx_bytes,
                    const float *c, size_t c_n, size_t k, size_t group, float *y,
                    size_t yn);

/* The gemm panel driver (lut.c) with a given micro-kernel of MR x NR,
 * MR <= RT_LUT_MAX_MR. */
#define RT_LUT_MAX_MR 16
int rt_lut_gemm_run(const rt_lut_args *a, rt_lut_tile_fn tile, size_t MR,
                    size_t NR);

struct rt_gemm_args; /* gemm.h */

/* From kernels.def: the function type rt_<op>_fn of each kernel family and
 * the prototypes of its kernels clusterrt_<op>__<isa> (each defined in its
 * own file: assign.c, assign-avx2.c, ...; a kernel named in several
 * columns is declared more than once, which C allows). */
#define RT_KERNEL(op, ret, params, generic, avx2, avx512, avx512vbmi, neon)  \
  typedef ret(*rt_##op##_fn) params;                                         \
  ret clusterrt_##op##__##generic params;                                    \
  ret clusterrt_##op##__##avx2 params;                                       \
  ret clusterrt_##op##__##avx512 params;                                     \
  ret clusterrt_##op##__##avx512vbmi params;                                 \
  ret clusterrt_##op##__##neon params;
#include "kernels.def"
#undef RT_KERNEL

/* A dispatch table: one kernel per family (kernels.def), for one ISA. */
typedef struct rt_kernels {
  clusterrt_isa isa;
#define RT_KERNEL(op, ret, params, generic, avx2, avx512, avx512vbmi, neon)  \
  rt_##op##_fn op;
#include "kernels.def"
#undef RT_KERNEL
} rt_kernels;

/* The kernels of the ISA in use (dispatch.c). Never NULL. */
const rt_kernels *rt_get_kernels(void);

/* pool.c: runs fn(ctx, p) for every p < parts, on up to
 * clusterrt_get_threads() threads (the caller's included), returning when
 * all are done; parts run concurrently and in any order, so each must
 * write its own outputs. Never fails: without workers (busy, or none could
 * be started) the caller runs every part itself, in order. */
typedef void (*rt_task_fn)(void *ctx, size_t part);
void rt_parallel(size_t parts, rt_task_fn fn, void *ctx);
int rt_threads(void); /* clusterrt_get_threads() without the lock */

/* CPU features (cpu.c). */
int rt_cpu_has_avx2(void);    /* AVX2 + FMA + OS support for YMM state */
int rt_cpu_has_avx512(void);  /* AVX-512 F/BW/VL + OS support for ZMM */
int rt_cpu_has_avx512vbmi(void);
int rt_cpu_has_neon(void);

/* ---- Index buffers ------------------------------------------------------ */

/* Reads index i of a buffer in format f. */
static inline uint32_t rt_index_get(const void *idx, clusterrt_index_format f,
                                    size_t i) {
  const uint8_t *b = (const uint8_t *)idx;
  switch (f) {
  case CLUSTERRT_IDX_U1: return (b[i >> 3] >> (i & 7)) & 1u;
  case CLUSTERRT_IDX_U2: return (b[i >> 2] >> ((i & 3) * 2)) & 3u;
  case CLUSTERRT_IDX_U4: return (b[i >> 1] >> ((i & 1) * 4)) & 15u;
  case CLUSTERRT_IDX_U8: return b[i];
  case CLUSTERRT_IDX_U16: {
    uint16_t v;
    __builtin_memcpy(&v, b + 2 * i, 2);
    return v;
  }
  default: { /* odd widths: the two or three bytes the index touches */
    unsigned bits = (unsigned)f;
    if (bits == 0 || bits > 16) return 0;
    size_t bit = i * bits;
    const uint8_t *p = b + bit / 8;
    unsigned sh = (unsigned)(bit % 8);
    uint32_t x = p[0];
    if (sh + bits > 8) x |= (uint32_t)p[1] << 8;
    if (sh + bits > 16) x |= (uint32_t)p[2] << 16;
    return (x >> sh) & ((1u << bits) - 1u);
  }
  }
}

/* Writes n indices (each < 2^bits) at element offset `first` of a buffer
 * in format f, any width but 8 and 16; in holds them as u8 (wide = 0,
 * widths < 8) or u16 (wide = 1, widths 9..15). first must be a multiple of
 * 8 (whole bytes); the unused high bits of a final partial byte are
 * written as 0. */
void rt_pack(const void *in, int wide, size_t n, clusterrt_index_format f,
             void *idx, size_t first);

/* The inverse for odd widths: n indices from element offset `first` (a
 * multiple of 8) into out as u8 (widths < 8) or u16 (widths 9..15). The
 * kernels take aligned formats only; the entry points unpack odd widths in
 * blocks of RT_BLOCK and hand the kernels u8 or u16. */
void rt_unpack(const void *idx, clusterrt_index_format f, size_t first,
               size_t n, void *out);
/* The aligned format an odd width is unpacked to: u8 or u16. */
static inline clusterrt_index_format rt_unpacked_format(clusterrt_index_format f) {
  return (unsigned)f < 8 ? CLUSTERRT_IDX_U8 : CLUSTERRT_IDX_U16;
}

/* Largest index in n indices of format f starting at element 0. */
uint32_t rt_index_max(const void *idx, clusterrt_index_format f, size_t n);

/* ---- Sorting and statistics (sort.c) ----------------------------------- */

/* Order-preserving keys of floats (no NaN): key(a) < key(b) iff a < b, and
 * -0 before +0. */
static inline uint32_t rt_f32_key(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
static inline float rt_key_f32(uint32_t k) {
  uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
/* Sorts n keys ascending: LSD radix sort, 11/11/10-bit digits, skipping
 * digits that are equal in every key. tmp holds n keys. */
void rt_sort_keys(uint32_t *a, uint32_t *tmp, size_t n);

/* The data as sorted distinct values with multiplicities, plus prefix sums
 * of the values centred on their mean (double), for O(1) range statistics:
 *   S1[j] = sum_{i<j} cnt[i]*(v[i]-mean), S2 likewise squared, N[j] counts.
 * -0 and +0 are merged into one distinct value (+0). */
typedef struct rt_distinct {
  size_t m;        /* distinct values */
  float *v;        /* v[0..m) sorted ascending */
  double *N, *S1, *S2; /* m + 1 entries each */
  double mean;
  void *mem;
} rt_distinct;

/* Builds it from n weights (no NaN/Inf checked here). If want_prefix is 0
 * the prefix arrays are left NULL (N still filled). */
clusterrt_status rt_distinct_init(rt_distinct *d, const float *w, size_t n,
                                  int want_prefix);
void rt_distinct_free(rt_distinct *d);
/* The same with a weight per value: N sums the weights (wt[i] > 0; values
 * of weight 0 or less are left out, ERR_ARG if none is left), mean is the
 * weighted mean; the prefix arrays are always built. Every consumer of
 * rt_distinct (range statistics, Lloyd, exact k-means) then works on the
 * weighted objective sum_i wt[i] (w[i] - c)^2 unchanged. */
clusterrt_status rt_distinct_init_weighted(rt_distinct *d, const float *w,
                                           const float *wt, size_t n);

/* Sum of squared deviations from their mean of values [a, b). */
double rt_range_sse(const rt_distinct *d, size_t a, size_t b);
/* Mean of values [a, b) (b > a). */
double rt_range_mean(const rt_distinct *d, size_t a, size_t b);

/* Returns CLUSTERRT_ERR_NAN if some w[i] is NaN or Inf, else OK. */
clusterrt_status rt_check_finite(const float *w, size_t n);

/* Sorts k floats ascending (insertion for small k, else radix). k >= 1. */
clusterrt_status rt_sort_small(float *c, size_t k);

/* Deterministic PRNG (splitmix64 seeding xoshiro256**). */
typedef struct rt_rng { uint64_t s[4]; } rt_rng;
void rt_rng_seed(rt_rng *r, uint64_t seed);
uint64_t rt_rng_next(rt_rng *r);
double rt_rng_unit(rt_rng *r); /* uniform in [0, 1) */

/* Lloyd on a rt_distinct (lloyd.c): c[0..k) sorted in and out. */
clusterrt_status rt_lloyd_distinct(const rt_distinct *d, float *c, size_t k,
                                   unsigned max_iter, unsigned *iters);
/* Init on a rt_distinct (init.c): writes k sorted centroids. */
clusterrt_status rt_init_distinct(const rt_distinct *d, size_t n, size_t k,
                                  clusterrt_init method, uint64_t seed,
                                  float *c);
/* Exact 1-D k-means on a rt_distinct (kmeans1d.c), k <= d->m. */
clusterrt_status rt_kmeans1d_distinct(const rt_distinct *d, size_t k,
                                      float *c);
/* Its two methods (kmeans1d.c), for the tests. The Lagrangian search
 * (2 <= k < d->m) returns CLUSTERRT_ERR_ARG where it gives up, and sets
 * *banded (if not NULL) when it needed the banded DP; the layered DP over
 * every layer is the fallback. */
clusterrt_status rt_kmeans1d_lagrange(const rt_distinct *d, size_t k,
                                      float *c, int *banded);
clusterrt_status rt_kmeans1d_layered(const rt_distinct *d, size_t k,
                                     float *c);

#endif /* CLUSTERRT_INTERNAL_H */
