/*
 * lut-bench: y = x · Wᵀ from clustered weights (clusterrt_lut_gemv_f32 /
 * clusterrt_lut_gemm_f32) against OpenBLAS on the float weights, in the
 * same run.
 *
 *   lut-bench [--json] [--shapes KxN[,KxN...]] [--m M[,M...]] [--isa I]
 *             [--threads T[,T...]] [--reps R] [--check]
 *
 * Defaults: K x N = 4096x4096, 4096x11008, 11008x4096 (inputs x outputs;
 * W is N x K, N-major as the kernels take it); M = 1 (gemv), 8, 64 (gemm);
 * threads 1 and 2; the best ISA (or --isa). Per shape and M:
 *   lut-u4, lut-u2   the LUT kernel on 4-bit (16 centroids) / 2-bit (4)
 *                    indices, a table per output channel (group = 1)
 *   blas-f32         cblas_sgemv (M = 1) / cblas_sgemm on the float W
 *   decode+blas-u4   clusterrt_decode_per_channel_f32 of the 4-bit W into a
 *                    float buffer, then the same BLAS call (both timed)
 *   copy             memcpy of the float W's size (the bandwidth yardstick)
 * Threads: BLAS through openblas_set_num_threads; the LUT kernels split
 * the output channels in T contiguous ranges (the split API of runtime.h)
 * run by T - 1 spinning pthreads plus the caller, so the figure is not the
 * ~ms wake-up of an idle vCPU on these VMs; OpenBLAS's own threads are
 * stopped before the LUT kernels run (blas_thread_shutdown_), else they
 * spin beside the pool for ~0.1 s after each BLAS call.
 *
 * Figures: median of R timed calls (default 9) after a warm-up; buffers
 * written before timing (first touch costs ~3 ns/byte on the build VMs).
 * GB/s = packed index bytes (N*K*bits/8, plus the tables) per second for
 * lut, float weight bytes (4*N*K) for blas, copy = 2 x bytes (read + write,
 * STREAM-style). GFLOP/s = 2*M*N*K / time. --check compares each lut
 * result with BLAS on the decoded weights (max |diff| / max |y|).
 *
 * OpenBLAS is linked only here: Debian's libopenblas-dev (cblas.h,
 * -lopenblas), else its runtime library with the prototypes declared below.
 */
#define _GNU_SOURCE
#include "clusterc/runtime.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef CLUSTERC_HAVE_CBLAS_H
#include <cblas.h> /* libopenblas-dev */
#else
/* cblas.h, the parts used (only the runtime library is installed) */
enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemv(int order, int trans, int m, int n, float alpha,
                 const float *a, int lda, const float *x, int incx, float beta,
                 float *y, int incy);
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc);
#endif
void openblas_set_num_threads(int n);
/* Stops OpenBLAS's server threads (the next threaded call starts them
 * again). They spin after each call (sched_yield for 2^28 cycles by
 * default); on a 2-vCPU VM a third spinning thread beside the LUT pool's
 * two descheduled one of them for a whole time slice: 8.0 ms per 2-thread
 * LUT call at 11008x4096, u4 and u2 alike, whatever the kernel. */
int blas_thread_shutdown_(void);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static float gauss(void) {
  double u1 = (double)(next() >> 11) * 0x1.0p-53 + 1e-300;
  double u2 = (double)(next() >> 11) * 0x1.0p-53;
  return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

/* ---- the problem ---------------------------------------------------------- */

typedef struct prob {
  size_t M, K, N;
  const float *x;
  float *y;
  const uint8_t *idx;
  clusterrt_index_format f;
  const float *c;
  size_t k;
} prob;

static void lut_rows(const prob *p, size_t n0, size_t n1) {
  if (n1 <= n0) return;
  size_t rb = clusterrt_index_bytes(p->f, p->K);
  const uint8_t *idx = p->idx + n0 * rb;
  const float *c = p->c + n0 * p->k;
  clusterrt_status s;
  if (p->M == 1)
    s = clusterrt_lut_gemv_f32(p->x, p->K, n1 - n0, idx, p->f, rb, c, p->k, 1,
                               p->y + n0);
  else
    s = clusterrt_lut_gemm_f32(p->x, p->M, p->K, p->K, n1 - n0, idx, p->f, rb,
                               c, p->k, 1, p->y + n0, p->N);
  if (s) {
    fprintf(stderr, "lut kernel failed: %s\n", clusterrt_status_string(s));
    exit(1);
  }
}

/* T - 1 spinning workers; the caller takes range 0. */
typedef struct pool {
  int T;
  pthread_t th[8];
  _Atomic unsigned gen, done;
  _Atomic int quit;
  const prob *p;
} pool;
static pool P;

static void range(int t, int T, size_t N, size_t *a, size_t *b) {
  *a = N * (size_t)t / (size_t)T;
  *b = N * (size_t)(t + 1) / (size_t)T;
}

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  unsigned seen = 0;
  for (;;) {
    unsigned g;
    while ((g = atomic_load(&P.gen)) == seen && !atomic_load(&P.quit)) {
    }
    if (atomic_load(&P.quit)) return NULL;
    seen = g;
    size_t a, b;
    range(t, P.T, P.p->N, &a, &b);
    lut_rows(P.p, a, b);
    atomic_fetch_add(&P.done, 1);
  }
}

static void pool_start(int T) {
  P.T = T;
  atomic_store(&P.quit, 0);
  for (int t = 1; t < T; t++)
    pthread_create(&P.th[t], NULL, worker, (void *)(intptr_t)t);
}
static void pool_stop(void) {
  atomic_store(&P.quit, 1);
  for (int t = 1; t < P.T; t++) pthread_join(P.th[t], NULL);
  P.T = 1;
}

static void lut_run(const prob *p) {
  if (P.T <= 1) {
    lut_rows(p, 0, p->N);
    return;
  }
  P.p = p;
  atomic_store(&P.done, 0);
  atomic_fetch_add(&P.gen, 1);
  size_t a, b;
  range(0, P.T, p->N, &a, &b);
  lut_rows(p, a, b);
  while (atomic_load(&P.done) != (unsigned)(P.T - 1)) {
  }
}

typedef enum { V_LUT, V_BLAS, V_DECODE_BLAS, V_COPY } variant;

typedef struct ctx {
  prob p;
  const float *wf;   /* float W, N x K */
  float *wd;         /* decode target, N x K */
  float *cp;         /* copy target */
} ctx;

static void run(variant v, ctx *c) {
  const prob *p = &c->p;
  int M = (int)p->M, K = (int)p->K, N = (int)p->N;
  switch (v) {
  case V_LUT: lut_run(p); break;
  case V_DECODE_BLAS:
    clusterrt_decode_per_channel_f32(p->idx, p->f, 1, p->N, p->K, p->c, p->k,
                                     c->wd);
    /* fall through */
  case V_BLAS: {
    const float *w = v == V_BLAS ? c->wf : c->wd;
    if (M == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.0f, w, K, p->x, 1, 0.0f,
                  p->y, 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, p->x,
                  K, w, K, 0.0f, p->y, N);
    break;
  }
  case V_COPY: memcpy(c->cp, c->wf, sizeof(float) * p->N * p->K); break;
  }
}

static double timeit(variant v, ctx *c, int reps) {
  double t[64];
  run(v, c);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    run(v, c);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmpd);
  return t[reps / 2];
}

static int json;
static void report(const char *what, size_t K, size_t N, size_t M, int T,
                   double sec, double bytes, double ref_sec) {
  double gbs = bytes / sec / 1e9, gf = 2.0 * (double)M * N * K / sec / 1e9;
  if (json)
    printf("{\"kernel\":\"%s\",\"K\":%zu,\"N\":%zu,\"M\":%zu,\"threads\":%d,"
           "\"isa\":\"%s\",\"seconds\":%.9g,\"gb_per_s\":%.3f,\"gflops\":%.3f,"
           "\"speedup_vs_blas\":%.3f}\n",
           what, K, N, M, T, clusterrt_isa_name(clusterrt_get_isa()), sec, gbs,
           gf, ref_sec / sec);
  else
    printf("%-15s %5zux%-5zu %3zu %2d %10.3f ms %8.2f GB/s %8.2f GFLOP/s %6.2fx\n",
           what, K, N, M, T, sec * 1e3, gbs, gf, ref_sec / sec);
  fflush(stdout);
}

static size_t parse_list(const char *s, size_t *out, size_t max) {
  size_t n = 0;
  while (*s && n < max) {
    char *end;
    out[n++] = strtoull(s, &end, 10);
    if (end == s) break;
    s = *end ? end + 1 : end;
  }
  return n;
}

int main(int argc, char **argv) {
  size_t shapes[16] = {4096, 4096, 4096, 11008, 11008, 4096}, nshape = 3;
  size_t ms[8] = {1, 8, 64}, nm = 3, ts[4] = {1, 2}, nt = 2;
  int reps = 9, check = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--check")) check = 1;
    else if (!strcmp(a, "--m") && v) nm = parse_list(v, ms, 8), i++;
    else if (!strcmp(a, "--threads") && v) nt = parse_list(v, ts, 4), i++;
    else if (!strcmp(a, "--reps") && v) reps = atoi(v), i++;
    else if (!strcmp(a, "--shapes") && v) {
      nshape = 0;
      for (const char *s = v; *s && nshape < 8;) {
        char *e;
        shapes[2 * nshape] = strtoull(s, &e, 10);
        if (*e != 'x') break;
        shapes[2 * nshape + 1] = strtoull(e + 1, &e, 10);
        nshape++;
        s = *e ? e + 1 : e;
      }
      i++;
    } else if (!strcmp(a, "--isa") && v) {
      int ok = 0;
      for (int j = 0; j <= CLUSTERRT_ISA_NEON; j++)
        if (!strcmp(v, clusterrt_isa_name((clusterrt_isa)j)))
          ok = clusterrt_set_isa((clusterrt_isa)j) == CLUSTERRT_OK;
      if (!ok) {
        fprintf(stderr, "ISA %s not available\n", v);
        return 2;
      }
      i++;
    } else {
      fprintf(stderr,
              "usage: %s [--json] [--shapes KxN,..] [--m M,..] [--isa I] "
              "[--threads T,..] [--reps R] [--check]\n",
              argv[0]);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  if (reps > 64) reps = 64;
  if (!json)
    printf("# isa %s; GB/s: packed bytes (lut), float bytes (blas), "
           "read+write (copy); speedup vs blas-f32 same M/threads\n"
           "%-15s %11s %3s %2s %13s %13s %16s %7s\n",
           clusterrt_isa_name(clusterrt_get_isa()), "kernel", "KxN", "M", "T",
           "time", "bandwidth", "compute", "speedup");
  size_t maxM = 1;
  for (size_t i = 0; i < nm; i++) maxM = ms[i] > maxM ? ms[i] : maxM;
  for (size_t si = 0; si < nshape; si++) {
    size_t K = shapes[2 * si], N = shapes[2 * si + 1], NK = N * K;
    ctx c;
    float *wf = malloc(sizeof(float) * NK), *wd = malloc(sizeof(float) * NK);
    float *cp = malloc(sizeof(float) * NK);
    float *x = malloc(sizeof(float) * maxM * K);
    float *y = malloc(sizeof(float) * maxM * N);
    float *yref = malloc(sizeof(float) * maxM * N);
    float *cent = malloc(sizeof(float) * N * 16);
    uint8_t *i4 = malloc(NK / 2 + 16), *i2 = malloc(NK / 4 + 16);
    if (!wf || !wd || !cp || !x || !y || !yref || !cent || !i4 || !i2) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    /* data, written (pre-faulted) before timing */
    for (size_t i = 0; i < maxM * K; i++) x[i] = gauss();
    for (size_t i = 0; i < N * 16; i++) cent[i] = gauss() * 0.05f;
    for (size_t i = 0; i < NK / 2 + 16; i++) i4[i] = (uint8_t)next();
    for (size_t i = 0; i < NK / 4 + 16; i++) i2[i] = (uint8_t)next();
    memset(y, 0, sizeof(float) * maxM * N);
    memset(yref, 0, sizeof(float) * maxM * N);
    memset(wd, 0, sizeof(float) * NK);
    memset(cp, 0, sizeof(float) * NK);
    clusterrt_decode_per_channel_f32(i4, CLUSTERRT_IDX_U4, 1, N, K, cent, 16, wf);
    c.wf = wf;
    c.wd = wd;
    c.cp = cp;
    c.p = (prob){.K = K, .N = N, .x = x, .y = y, .c = cent};
    report("copy", K, N, 0, 1, timeit(V_COPY, &c, reps), 8.0 * (double)NK, 0);
    for (size_t mi = 0; mi < nm; mi++) {
      for (size_t ti = 0; ti < nt; ti++) {
        int T = (int)ts[ti];
        c.p.M = ms[mi];
        openblas_set_num_threads(T);
        c.p.f = CLUSTERRT_IDX_U4;
        c.p.idx = i4;
        c.p.k = 16;
        double tb = timeit(V_BLAS, &c, reps);
        if (check) memcpy(yref, y, sizeof(float) * c.p.M * N);
        report("blas-f32", K, N, c.p.M, T, tb, 4.0 * (double)NK, tb);
        report("decode+blas-u4", K, N, c.p.M, T, timeit(V_DECODE_BLAS, &c, reps),
               0.5 * (double)NK, tb);
        blas_thread_shutdown_();
        pool_start(T);
        for (int b = 4; b >= 2; b -= 2) {
          c.p.f = b == 4 ? CLUSTERRT_IDX_U4 : CLUSTERRT_IDX_U2;
          c.p.idx = b == 4 ? i4 : i2;
          c.p.k = b == 4 ? 16 : 4;
          double t = timeit(V_LUT, &c, reps);
          report(b == 4 ? "lut-u4" : "lut-u2", K, N, c.p.M, T, t,
                 (double)NK * b / 8 + 4.0 * (double)N * c.p.k, tb);
          if (check && b == 4) {
            double md = 0, my = 0;
            for (size_t i = 0; i < c.p.M * N; i++) {
              md = fmax(md, fabs((double)y[i] - yref[i]));
              my = fmax(my, fabs((double)yref[i]));
            }
            printf("# check lut-u4 M=%zu T=%d: max|diff|/max|y| = %.3g\n",
                   c.p.M, T, md / my);
          }
        }
        pool_stop();
      }
    }
    free(wf), free(wd), free(cp), free(x), free(y), free(yref), free(cent);
    free(i4), free(i2);
  }
  return 0;
}
