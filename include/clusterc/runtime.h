/*
 * libclusterrt: the weight-clustering runtime.
 *
 * Plain C17, no MLIR or LLVM dependency. Used by the cluster-weights pass at
 * compile time, by generated training steps at run time, and by any program
 * that links it alone.
 *
 * Conventions
 *  - Every function that can fail returns clusterrt_status (0 = ok). The
 *    library never prints, exits or aborts.
 *  - n counts elements; k counts centroids (1 <= k <= CLUSTERRT_MAX_K).
 *  - Index buffers come in sixteen formats (clusterrt_index_format): one
 *    per width of 1 to 16 bits. All are one little-endian bit stream:
 *    element i holds bits [i * bits, (i + 1) * bits) of the buffer, bit b
 *    being bit b % 8 of byte b / 8 (so an index of an odd width may
 *    straddle two or three bytes); the unused high bits of the last byte
 *    are written as zero. u8 is one byte per index, u16 a little-endian
 *    uint16_t. clusterrt_index_bytes() gives the buffer size.
 *  - Assignment is defined by the generic kernel:
 *        d_k = fabsf(w - c[k])    (float arithmetic, round to nearest)
 *        idx = the smallest k with the smallest d_k
 *    i.e. ties go to the lowest index in the caller's centroid order, even if
 *    the centroids are unsorted or repeated. One exception: when c holds
 *    both a -0.0 and a +0.0, a zero w goes to the lowest index of its own
 *    sign (so a table with both zeros decodes each bit for bit). Every ISA
 *    returns bit-identical
 *    indices. NaN (in w or c) is rejected with CLUSTERRT_ERR_NAN; +-Inf in c
 *    is rejected too; +-Inf in w is accepted (goes to the min or max centroid).
 *  - Pointers need no alignment. Kernels never read or write past n.
 */
#ifndef CLUSTERC_RUNTIME_H
#define CLUSTERC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's entry points. libclusterrt is built with
 * -fvisibility=hidden, so these are the only symbols the shared library
 * exports; a program may define CLUSTERRT_API itself before including
 * this header. */
#ifndef CLUSTERRT_API
#if defined(__GNUC__) || defined(__clang__)
#define CLUSTERRT_API __attribute__((visibility("default")))
#else
#define CLUSTERRT_API
#endif
#endif

#define CLUSTERRT_MAX_K 65536u

typedef enum clusterrt_status {
  CLUSTERRT_OK = 0,
  CLUSTERRT_ERR_NULL = 1,    /* a required pointer is NULL */
  CLUSTERRT_ERR_K = 2,       /* k == 0 or k > CLUSTERRT_MAX_K */
  CLUSTERRT_ERR_NAN = 3,     /* NaN in weights, NaN or Inf in centroids */
  CLUSTERRT_ERR_FORMAT = 4,  /* unknown index format, or too narrow for k */
  CLUSTERRT_ERR_INDEX = 5,   /* an index >= k in an input index buffer */
  CLUSTERRT_ERR_NOMEM = 6,   /* allocation failed */
  CLUSTERRT_ERR_ARG = 7,     /* any other invalid argument */
  CLUSTERRT_ERR_ISA = 8      /* the requested ISA is not available */
} clusterrt_status;

/* A static, NUL-terminated description of a status. */
CLUSTERRT_API const char *clusterrt_status_string(clusterrt_status s);

/* ---- Index formats ---------------------------------------------------- */

/* The value of a format is its width in bits: (clusterrt_index_format)b
 * for any b in 1..16. The widths 1, 2, 4, 8 and 16 (the "aligned" ones,
 * whose indices never straddle bytes) have the fastest kernels; the others
 * are unpacked to u8/u16 in blocks and then take the same kernels. */
typedef enum clusterrt_index_format {
  CLUSTERRT_IDX_U1 = 1,   /* k <= 2, 8 indices per byte */
  CLUSTERRT_IDX_U2 = 2,   /* k <= 4 */
  CLUSTERRT_IDX_U3 = 3,   /* k <= 8, 8 indices per 3 bytes */
  CLUSTERRT_IDX_U4 = 4,   /* k <= 16 */
  CLUSTERRT_IDX_U5 = 5,
  CLUSTERRT_IDX_U6 = 6,   /* k <= 64 */
  CLUSTERRT_IDX_U7 = 7,
  CLUSTERRT_IDX_U8 = 8,   /* k <= 256 */
  CLUSTERRT_IDX_U9 = 9,
  CLUSTERRT_IDX_U10 = 10,
  CLUSTERRT_IDX_U11 = 11,
  CLUSTERRT_IDX_U12 = 12,
  CLUSTERRT_IDX_U13 = 13,
  CLUSTERRT_IDX_U14 = 14,
  CLUSTERRT_IDX_U15 = 15,
  CLUSTERRT_IDX_U16 = 16  /* k <= 65536, little-endian uint16_t */
} clusterrt_index_format;

/* Narrowest aligned format (1, 2, 4, 8 or 16 bits) that holds indices
 * 0..k-1 (k >= 1). */
CLUSTERRT_API clusterrt_index_format clusterrt_narrowest_format(size_t k);
/* Narrowest format of any width: ceil(log2 k) bits, at least 1 (k = 8: 3
 * bits, k = 64: 6 bits). */
CLUSTERRT_API clusterrt_index_format clusterrt_dense_format(size_t k);
/* Bits per index, 1..16; 0 for an unknown format. */
CLUSTERRT_API unsigned clusterrt_format_bits(clusterrt_index_format f);
/* Whether f is one of the aligned widths 1, 2, 4, 8, 16. */
CLUSTERRT_API int clusterrt_format_aligned(clusterrt_index_format f);
/* Bytes of a buffer holding n indices: ceil(n * bits / 8). */
CLUSTERRT_API size_t clusterrt_index_bytes(clusterrt_index_format f, size_t n);
/* Name: "u1" .. "u16"; NULL for an unknown format. */
CLUSTERRT_API const char *clusterrt_format_name(clusterrt_index_format f);

/* ---- Kernels ----------------------------------------------------------- */

/* idx[i] = argmin_k |w[i] - c[k]| (see Conventions), written in format f. */
CLUSTERRT_API clusterrt_status clusterrt_assign_f32(const float *w, size_t n, const float *c,
                                      size_t k, clusterrt_index_format f,
                                      void *idx);

/* Per-channel assignment. w is [outer][channels][inner] (row-major), so the
 * channel of flat element e is (e / inner) % channels. Channel ch uses the
 * table c + ch * k. idx indexes flat elements (n = outer*channels*inner). */
CLUSTERRT_API clusterrt_status clusterrt_assign_per_channel_f32(
    const float *w, size_t outer, size_t channels, size_t inner,
    const float *c, size_t k, clusterrt_index_format f, void *idx);

/* Grouped assignment with global indices, for training. w is
 * [outer][channels][inner] as above; channel ch uses table t = ch / group,
 * the k centroids c + t * k (T = ceil(channels / group) tables; group =
 * channels with outer = 1 is per tensor). idx[e] = t * k + argmin over the
 * table, in u8 or u16 (T * k must fit the format: CLUSTERRT_ERR_FORMAT).
 * With sparse != 0 zeros keep their place: a weight equal to 0 (either
 * sign) gets the first slot of its table holding exactly 0, the others the
 * argmin over the table's non-zero centroids only; CLUSTERRT_ERR_ARG when
 * a table lacks the slot a weight needs. */
CLUSTERRT_API clusterrt_status clusterrt_assign_grouped_f32(
    const float *w, size_t outer, size_t channels, size_t inner, size_t group,
    const float *c, size_t k, int sparse, clusterrt_index_format f, void *idx);

/* w[i] = c[idx[i]]. Returns CLUSTERRT_ERR_INDEX if some idx[i] >= k (the
 * contents of w are then unspecified). */
CLUSTERRT_API clusterrt_status clusterrt_decode_f32(const void *idx,
                                      clusterrt_index_format f, size_t n,
                                      const float *c, size_t k, float *w);

/* Per-channel decode, the inverse layout of clusterrt_assign_per_channel_f32. */
CLUSTERRT_API clusterrt_status clusterrt_decode_per_channel_f32(
    const void *idx, clusterrt_index_format f, size_t outer, size_t channels,
    size_t inner, const float *c, size_t k, float *w);

typedef enum clusterrt_reduce {
  CLUSTERRT_REDUCE_SUM = 0, /* gc[k] = sum of g[i] with idx[i] == k */
  CLUSTERRT_REDUCE_AVG = 1  /* the sum divided by the cluster size (0 if empty) */
} clusterrt_reduce;

/* Gather-accumulate, the gradient of decode: gc[0..k) is overwritten.
 * counts, if not NULL, receives the cluster sizes. Sums are formed in float
 * with per-lane partial sums; results agree with the generic kernel within
 * the tolerance documented in runtime/README.md. */
CLUSTERRT_API clusterrt_status clusterrt_accumulate_f32(const float *g, const void *idx,
                                          clusterrt_index_format f, size_t n,
                                          size_t k, clusterrt_reduce r,
                                          float *gc, uint64_t *counts);

/* counts[0..k) = cluster sizes. */
CLUSTERRT_API clusterrt_status clusterrt_counts(const void *idx, clusterrt_index_format f,
                                  size_t n, size_t k, uint64_t *counts);

/* ---- Matrix products on clustered weights (LUT kernels) -----------------
 * y = x · Wᵀ computed from the packed indices and the centroid tables,
 * never from a float copy of W (runtime/README.md, "LUT matrix kernels").
 *
 * Layout of W (N output channels x K inputs, "N-major"): row n holds the K
 * indices of output channel n in format f (an aligned one: u1, u2, u4,
 * u8 or u16, else CLUSTERRT_ERR_FORMAT; the packing of clusterrt_assign_f32: element e at bit (e * bits) % 8 of
 * byte (e * bits) / 8 of the row, LSB first) and starts at byte
 * n * row_bytes of idx. row_bytes = 0 means clusterrt_index_bytes(f, K),
 * i.e. the flat packing of an N x K tensor when K * bits is a multiple of
 * 8 (other K need rows padded to a byte). This is tosa.fully_connected's
 * weight layout, and linalg.matmul's B transposed.
 *
 * Centroid tables: table t is c[t*k .. t*k + k); row n uses table
 * n / group, or table 0 for every row when group == 0 (per tensor).
 * group = 1 is per output channel, G a table per G consecutive channels.
 * k <= 2^bits. Indices must be < k (as assign writes them): an index >= k
 * never makes a kernel read or write outside its buffers, but its
 * contribution is unspecified (gemm reports CLUSTERRT_ERR_INDEX). NaN/Inf
 * in x or c propagate as in a float product (not checked).
 *
 * Accumulation. gemm: every y[m][n] is the sequential fused sum
 *   acc = 0; for e = 0..K-1: acc = fmaf(x[m][e], c_n[idx_n[e]], acc)
 * on every ISA, i.e. bit-identical to decode followed by that loop (the
 * tests check it bit for bit). gemv: the generic kernel does exactly the
 * same (so gemv == gemm with M = 1 there); the SIMD kernels split each row
 * into fixed lanes summed by a fixed tree (the order is per ISA,
 * documented in runtime/README.md, deterministic, independent of how a
 * caller splits the rows), within
 *   |y[n] - exact| <= K * 2^-24 / (1 - K * 2^-24) * sum_e |x[e] * w[n][e]|
 * of the exact product (the tests check this bound on every ISA).
 *
 * Threads: the functions are reentrant. To split a product, call them on
 * row ranges [n0, n1) of W by offsetting idx (n0 * row_bytes), c (the
 * table of n0, with n0 a multiple of group) and y (y + n0; gemm keeps its
 * ldy), with N = n1 - n0; or, for gemm, on row ranges of x and y. Results
 * do not depend on the split.
 */

/* y[n] = sum_e x[e] * W[n][e] for n < N (batch 1). K may be 0 (y = 0). */
CLUSTERRT_API clusterrt_status clusterrt_lut_gemv_f32(
    const float *x, size_t K, size_t N, const void *idx,
    clusterrt_index_format f, size_t row_bytes, const float *c, size_t k,
    size_t group, float *y);

/* y[m][n] = sum_e x[m][e] * W[n][e] for m < M, n < N; x is M x K with
 * rows ldx floats apart, y is M x N with rows ldy floats apart (ldx >= K,
 * ldy >= N; 0 means K, N). Decodes panels of W (a few rows by at most
 * 256 inputs) into a cache-resident buffer and runs a register-tiled
 * micro-kernel; the scratch (about 150 KiB) is allocated per call
 * (CLUSTERRT_ERR_NOMEM if that fails). */
CLUSTERRT_API clusterrt_status clusterrt_lut_gemm_f32(
    const float *x, size_t M, size_t ldx, size_t K, size_t N,
    const void *idx, clusterrt_index_format f, size_t row_bytes,
    const float *c, size_t k, size_t group, float *y, size_t ldy);

/* ---- Float matrix product ------------------------------------------------
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ
 * (trans != 0): op(A) is M x K, op(B) is K x N, C is M x N; lda, ldb, ldc
 * are the row strides of A, B, C as stored (0: tight, i.e. the stored
 * row length). beta == 0 overwrites C (NaN in C does not propagate, as
 * BLAS). Cache-blocked with packed panels and a register-tiled
 * micro-kernel per ISA; each element is the exact sum up to rounding of
 * some summation order (within K * 2^-24 * sum |a*b|), the same order for
 * any thread count. Reentrant; a large product is split over
 * clusterrt_get_threads() threads; the scratch (about 4 MiB at most per
 * thread) is kept per thread between calls. CLUSTERRT_ERR_ARG
 * for a row stride below the row length, CLUSTERRT_ERR_NULL for a missing
 * buffer the product reads or writes, CLUSTERRT_ERR_NOMEM. */
CLUSTERRT_API clusterrt_status clusterrt_sgemm_f32(
    int transA, int transB, size_t M, size_t N, size_t K, float alpha,
    const float *A, size_t lda, const float *B, size_t ldb, float beta,
    float *C, size_t ldc);

/* ---- Threads ---------------------------------------------------------------
 * How many threads one call may use: the float matrix product above and
 * the contractions of compiled models (clusterrt_mlir_sgemm, fused LUT
 * convolutions) split a large product over that many (the caller's thread
 * and persistent workers, started on first use). Default 1, or the
 * CLUSTERRT_THREADS environment variable read on first use; at most 64.
 * Results do not depend on the setting. A product started while another
 * thread's product is using the workers runs on its caller's thread alone,
 * so several threads calling the runtime at once do not oversubscribe.
 * Idle workers spin for CLUSTERRT_SPIN_US microseconds (default 2000, read
 * on first use; 0 = none) before they sleep, so that they join the next
 * product at once; that spin keeps their cores busy between products.
 * clusterrt_set_threads returns CLUSTERRT_ERR_ARG for n < 1. */
CLUSTERRT_API clusterrt_status clusterrt_set_threads(int n);
CLUSTERRT_API int clusterrt_get_threads(void);

/* ---- Optimizer steps (training) ------------------------------------------
 * One update of n parameters in place, in PyTorch's conventions (torch.optim
 * SGD and Adam, single-tensor path), computed in float in the order noted
 * below, without fused multiply-add: every ISA gives bit-identical results
 * (runtime/README.md). Buffers may be at any alignment; w, g, v, m must
 * not overlap. NaN or Inf in g or w propagate (they are not checked).
 * Hyper-parameters are checked: CLUSTERRT_ERR_ARG for NaN, Inf or negative
 * lr, momentum, weight_decay or eps, a beta outside [0, 1), or step == 0;
 * CLUSTERRT_ERR_NULL for a missing buffer when n > 0. */

/* SGD with momentum (dampening 0, no Nesterov):
 *   g' = g + weight_decay*w       (g' = g when weight_decay == 0)
 *   v  = momentum*v + g'          (v = g' when momentum == 0; v may be
 *                                  NULL then)
 *   w  = w - lr*v                 (w - lr*g' when momentum == 0)
 * Zero v before the first step; momentum*0 + g' = g' is then PyTorch's
 * first step, which initialises its buffer with g'. */
CLUSTERRT_API clusterrt_status clusterrt_sgd_f32(float *w, const float *g, float *v,
                                   size_t n, float lr, float momentum,
                                   float weight_decay);

/* Adam (no weight decay, no AMSGrad), step >= 1 counting from 1; zero m and
 * v before the first step:
 *   m = beta1*m + (1-beta1)*g
 *   v = beta2*v + ((1-beta2)*g)*g
 *   w = w + (-s*m) / (sqrt(v)/b + eps),
 *       s = lr/(1 - beta1^step), b = sqrt(1 - beta2^step)
 * i.e. w -= lr * (m/(1-beta1^step)) / (sqrt(v/(1-beta2^step)) + eps); the
 * scalars 1-beta, s and b are computed in double and rounded to float once,
 * as PyTorch does. */
CLUSTERRT_API clusterrt_status clusterrt_adam_f32(float *w, const float *g, float *m,
                                    float *v, size_t n, float lr, float beta1,
                                    float beta2, float eps, uint64_t step);

/* ---- Centroid initialisation and refinement ---------------------------- */

typedef enum clusterrt_init {
  CLUSTERRT_INIT_LINEAR = 0,   /* evenly spaced from min to max */
  CLUSTERRT_INIT_RANDOM = 1,   /* uniform in [min, max], seeded */
  CLUSTERRT_INIT_DENSITY = 2,  /* evenly spaced in the CDF (quantiles) */
  CLUSTERRT_INIT_KMEANSPP = 3, /* k-means++ seeding, seeded */
  CLUSTERRT_INIT_KMEANS1D = 4  /* exact optimal 1-D k-means (no Lloyd needed) */
} clusterrt_init;

/* Parses "linear", "random", "density", "kmeans++", "kmeans1d". Returns 0 on
 * success, -1 for an unknown name. */
CLUSTERRT_API int clusterrt_init_parse(const char *name, size_t len, clusterrt_init *out);
CLUSTERRT_API const char *clusterrt_init_name(clusterrt_init m);

/* Writes k initial centroids, sorted ascending, to c. Deterministic for a
 * given (w, n, k, method, seed). Fewer distinct values than k is allowed
 * (centroids then repeat). */
CLUSTERRT_API clusterrt_status clusterrt_init_f32(const float *w, size_t n, size_t k,
                                    clusterrt_init method, uint64_t seed,
                                    float *c);

/* Lloyd iterations from the centroids in c (any order) until no assignment
 * changes or max_iter is reached. Empty clusters keep their centroid. On
 * return c is sorted ascending; *iters (if not NULL) gets the count. */
CLUSTERRT_API clusterrt_status clusterrt_lloyd_f32(const float *w, size_t n, float *c,
                                     size_t k, unsigned max_iter,
                                     unsigned *iters);

/* Exact optimal 1-D k-means (minimum total squared error), on the sorted
 * distinct values weighted by multiplicity, O(k * m) time with the
 * divide-and-conquer / SMAWK optimisation and O(m) memory. c is sorted. */
CLUSTERRT_API clusterrt_status clusterrt_kmeans1d_f32(const float *w, size_t n, size_t k,
                                        float *c);

/* Weighted exact 1-D k-means: the centroids minimising
 *   sum_i wt[i] * (w[i] - c[nearest])^2
 * (sensitivity-weighted clustering, e.g. wt = a diagonal Fisher estimate).
 * Values with wt[i] <= 0 do not count (CLUSTERRT_ERR_ARG if none has a
 * positive weight); wt must be finite. Same algorithm and bounds as
 * clusterrt_kmeans1d_f32: O(k * m) time, O(m) memory (m = distinct
 * values), no k x m table. *k_out = min(k, distinct values of positive
 * weight); c[0..*k_out) is sorted. */
CLUSTERRT_API clusterrt_status clusterrt_kmeans1d_weighted_f32(
    const float *w, const float *wt, size_t n, size_t k, float *c,
    size_t *k_out);
/* Weighted Lloyd iterations from c[0..k) (any order), as
 * clusterrt_lloyd_f32 with the weighted objective above; c is sorted on
 * return. */
CLUSTERRT_API clusterrt_status clusterrt_lloyd_weighted_f32(
    const float *w, const float *wt, size_t n, float *c, size_t k,
    unsigned max_iter, unsigned *iters);

/* Vector k-means (vector palettes): n vectors of d floats, row-major in x,
 * into at most k centroids of d floats in c (room for k * d). k-means++
 * seeding from `seed` (deterministic), then Lloyd until no assignment
 * changes or max_iter iterations (0: at most 300; init_only: none). Seeding
 * stops when every vector equals a centroid, so *k_out = min(k, distinct
 * vectors) and k >= the distinct vectors is lossless. Generic C only. */
CLUSTERRT_API clusterrt_status clusterrt_kmeans_vec_f32(const float *x, size_t n,
                                          size_t d, size_t k, uint64_t seed,
                                          unsigned max_iter, int init_only,
                                          float *c, size_t *k_out);
/* idx[v] = the nearest of the k centroids c (k x d) to vector v of x
 * (squared Euclidean distance in double; ties to the lowest index). */
CLUSTERRT_API clusterrt_status clusterrt_assign_vec_f32(const float *x, size_t n,
                                          size_t d, const float *c, size_t k,
                                          uint32_t *idx);

/* ---- One call: what the pass and the trainer use ----------------------- */

typedef struct clusterrt_cluster_options {
  size_t k;                  /* requested clusters */
  clusterrt_init init;
  uint64_t seed;
  unsigned max_iter;         /* Lloyd cap; 0 = default (300) */
  int preserve_sparsity;     /* zero is an exact centroid; zeros map to it */
  int init_only;             /* 1: no Lloyd after the init (tfmot's way);
                                max_iter is then ignored */
} clusterrt_cluster_options;

/* Clusters w: init, Lloyd (unless init_only), final assignment. c must hold opts->k floats.
 * The effective number of centroids, *k_out, is min(k, distinct values in
 * w) (+1 for the zero centroid when preserving sparsity and zeros exist),
 * so clustering is lossless when k >= the number of distinct values. The
 * k_out centroids are sorted ascending and distinct, with one exception:
 * when w holds both -0.0 and +0.0 and k allows, c has -0.0 just before
 * +0.0 (the two zeros are distinct values, each decoding bit for bit;
 * without room one +0.0 serves both). If idx is not NULL it
 * receives the assignment in format f, which must hold k_out. */
CLUSTERRT_API clusterrt_status clusterrt_cluster_f32(const float *w, size_t n,
                                       const clusterrt_cluster_options *opts,
                                       float *c, size_t *k_out,
                                       clusterrt_index_format f, void *idx);

/* ---- ISA dispatch ------------------------------------------------------- */

typedef enum clusterrt_isa {
  CLUSTERRT_ISA_GENERIC = 0,
  CLUSTERRT_ISA_AVX2 = 1,    /* AVX2 + FMA */
  CLUSTERRT_ISA_AVX512 = 2,  /* AVX-512 F, BW, VL (VBMI used if present) */
  CLUSTERRT_ISA_NEON = 3
} clusterrt_isa;

/* The ISA in use: the best available, unless CLUSTERRT_ISA names one
 * (read once, at the first call into the library). */
CLUSTERRT_API clusterrt_isa clusterrt_get_isa(void);
/* Whether this CPU and this build can run isa. */
CLUSTERRT_API int clusterrt_isa_available(clusterrt_isa isa);
/* Forces an ISA (tests, benchmarks). CLUSTERRT_ERR_ISA if unavailable. */
CLUSTERRT_API clusterrt_status clusterrt_set_isa(clusterrt_isa isa);
CLUSTERRT_API const char *clusterrt_isa_name(clusterrt_isa isa);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_RUNTIME_H */
