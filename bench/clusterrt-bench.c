/*
 * clusterrt-bench: throughput of the libclusterrt kernels, one thread.
 *
 *   clusterrt-bench [--json] [--n N[,N...]] [--k K[,K...]] [--isa I[,I...]]
 *                   [--kernel assign,decode,accumulate,sgd,adam,kmeans1d,copy]
 *                   [--reps R] [--kmeans1d-n N] [--kmeans1d-k K]
 *
 * Defaults: n = 1M and 16M, K = 4, 16, 256, every available ISA, u8
 * indices plus the narrowest format when it is narrower (u2, u4); the copy
 * reference at each n; the optimizer steps (SGD with momentum and weight
 * decay, Adam) at each n and ISA; exact 1-D k-means on 1M distinct
 * weights, K = 256, on the best ISA asked for (--kmeans1d-n 0 skips it).
 *
 * Method: buffers are allocated once per n and written before timing (page
 * faults cost ~3 ns/byte on the build VMs); each case runs one warm-up call,
 * then R timed calls (default 7 at n <= 1M, 5 above); the median is shown.
 * el_per_ns = n / median / 1e9. gb_per_s counts the minimum traffic of the
 * kernel: assign 4 B read + bits/8 written per element, decode bits/8 +
 * 4, accumulate 4 + bits/8, copy 4 + 4 (memcpy of n floats), sgd 20
 * (w, g, v read; w, v written), adam 28 (w, g, m, v read; w, m, v
 * written); kmeans1d counts 4 B per input weight.
 * Data: w ~ N(0, 0.05^2), centroids evenly spaced from min to max (tfmot's
 * linear init), g ~ N(0, 1), fixed seeds.
 */
#define _POSIX_C_SOURCE 200809L
#include "clusterc/runtime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static double unit(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}
static float gauss(void) {
  double u1 = unit(), u2 = unit();
  if (u1 < 1e-300) u1 = 1e-300;
  return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int json;

static void report(const char *kernel, const char *isa, size_t n, size_t k,
                   const char *fmt, double sec, double bytes_per_el) {
  double elns = (double)n / sec / 1e9;
  double gbs = elns * bytes_per_el;
  if (json)
    printf("{\"kernel\":\"%s\",\"isa\":\"%s\",\"n\":%zu,\"k\":%zu,"
           "\"format\":\"%s\",\"threads\":1,\"seconds\":%.9g,"
           "\"el_per_ns\":%.4f,\"gb_per_s\":%.3f}\n",
           kernel, isa, n, k, fmt, sec, elns, gbs);
  else
    printf("%-10s %-8s %9zu %6zu %-5s %12.6f %9.3f %9.2f\n", kernel, isa, n, k,
           fmt, sec, elns, gbs);
  fflush(stdout);
}

typedef enum { K_ASSIGN, K_DECODE, K_ACC, K_COPY, K_SGD, K_ADAM } kernel_t;

typedef struct bufs {
  float *w, *g, *out, *c, *gc, *m, *v;
  uint8_t *idx;
  size_t n;
} bufs;

static int run_once(kernel_t kk, bufs *b, size_t k, clusterrt_index_format f) {
  switch (kk) {
  case K_ASSIGN: return clusterrt_assign_f32(b->w, b->n, b->c, k, f, b->idx);
  case K_DECODE:
    return clusterrt_decode_f32(b->idx, f, b->n, b->c, k, b->out);
  case K_ACC:
    return clusterrt_accumulate_f32(b->g, b->idx, f, b->n, k,
                                    CLUSTERRT_REDUCE_SUM, b->gc, NULL);
  case K_COPY: memcpy(b->out, b->w, b->n * sizeof(float)); return 0;
  /* on out (a copy of w), so w stays as assign's input */
  case K_SGD:
    return clusterrt_sgd_f32(b->out, b->g, b->v, b->n, 1e-3f, 0.9f, 1e-4f);
  case K_ADAM:
    return clusterrt_adam_f32(b->out, b->g, b->m, b->v, b->n, 1e-3f, 0.9f,
                              0.999f, 1e-8f, 10);
  }
  return 1;
}

static double timeit(kernel_t kk, bufs *b, size_t k, clusterrt_index_format f,
                     int reps) {
  double t[64];
  if (reps > 64) reps = 64;
  if (run_once(kk, b, k, f)) {
    fprintf(stderr, "kernel failed\n");
    exit(1);
  }
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    run_once(kk, b, k, f);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmpd);
  return t[reps / 2];
}

static size_t parse_list(const char *s, size_t *out, size_t max) {
  size_t n = 0;
  while (*s && n < max) {
    char *end;
    out[n++] = strtoull(s, &end, 10);
    if (*end == 'M' || *end == 'm') out[n - 1] *= 1048576, end++;
    if (*end == 'K' || *end == 'k') out[n - 1] *= 1024, end++;
    s = *end == ',' ? end + 1 : end;
    if (end == s && *s) break;
  }
  return n;
}

static int want(const char *list, const char *name) {
  if (!list) return 1;
  size_t len = strlen(name);
  for (const char *p = list; (p = strstr(p, name)); p += len)
    if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == 0)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  size_t ns[8] = {1048576, 16777216}, nn = 2;
  size_t ks[8] = {4, 16, 256}, nk = 3;
  const char *isas = NULL, *kernels = NULL;
  int reps = 0;
  size_t k1d_n = 1048576, k1d_k = 256;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--json")) json = 1;
    else if (!strcmp(a, "--n") && v) nn = parse_list(v, ns, 8), i++;
    else if (!strcmp(a, "--k") && v) nk = parse_list(v, ks, 8), i++;
    else if (!strcmp(a, "--isa") && v) isas = v, i++;
    else if (!strcmp(a, "--kernel") && v) kernels = v, i++;
    else if (!strcmp(a, "--reps") && v) reps = atoi(v), i++;
    else if (!strcmp(a, "--kmeans1d-n") && v) k1d_n = strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--kmeans1d-k") && v) k1d_k = strtoull(v, NULL, 10), i++;
    else {
      fprintf(stderr,
              "usage: %s [--json] [--n N,..] [--k K,..] [--isa I,..] "
              "[--kernel assign,decode,accumulate,sgd,adam,kmeans1d,copy] "
              "[--reps R] "
              "[--kmeans1d-n N] [--kmeans1d-k K]\n",
              argv[0]);
      return 2;
    }
  }
  if (!json)
    printf("%-10s %-8s %9s %6s %-5s %12s %9s %9s\n", "kernel", "isa", "n", "k",
           "fmt", "seconds", "el/ns", "GB/s");
  for (size_t ni = 0; ni < nn; ni++) {
    bufs b;
    b.n = ns[ni];
    b.w = malloc(b.n * sizeof(float));
    b.g = malloc(b.n * sizeof(float));
    b.out = malloc(b.n * sizeof(float));
    b.idx = malloc(b.n * 2 + 64);
    b.c = malloc(65536 * sizeof(float));
    b.gc = malloc(65536 * sizeof(float));
    b.m = malloc(b.n * sizeof(float));
    b.v = malloc(b.n * sizeof(float));
    if (!b.w || !b.g || !b.out || !b.idx || !b.c || !b.gc || !b.m || !b.v) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    /* Touch everything before timing. */
    float mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < b.n; i++) {
      b.w[i] = gauss() * 0.05f;
      b.g[i] = gauss();
      mn = b.w[i] < mn ? b.w[i] : mn;
      mx = b.w[i] > mx ? b.w[i] : mx;
    }
    memset(b.out, 0, b.n * sizeof(float));
    memset(b.idx, 0, b.n * 2 + 64);
    memset(b.m, 0, b.n * sizeof(float));
    memset(b.v, 0, b.n * sizeof(float));
    int r = reps ? reps : b.n <= 1048576 ? 7 : 5;
    if (want(kernels, "copy"))
      report("copy", "-", b.n, 0, "f32", timeit(K_COPY, &b, 0, 0, r), 8.0);
    for (int isa = 0; isa <= CLUSTERRT_ISA_NEON; isa++) {
      const char *iname = clusterrt_isa_name((clusterrt_isa)isa);
      if (!clusterrt_isa_available((clusterrt_isa)isa) || !want(isas, iname))
        continue;
      clusterrt_set_isa((clusterrt_isa)isa);
      if (want(kernels, "sgd") || want(kernels, "adam"))
        memcpy(b.out, b.w, b.n * sizeof(float));
      if (want(kernels, "sgd"))
        report("sgd", iname, b.n, 0, "f32", timeit(K_SGD, &b, 0, 0, r), 20.0);
      if (want(kernels, "adam"))
        report("adam", iname, b.n, 0, "f32", timeit(K_ADAM, &b, 0, 0, r), 28.0);
      for (size_t ki = 0; ki < nk; ki++) {
        size_t k = ks[ki];
        for (size_t j = 0; j < k; j++)
          b.c[j] = k == 1 ? mn : mn + (mx - mn) * (float)j / (float)(k - 1);
        /* u8/u16, the narrowest aligned format and the dense one (odd
         * widths: unpacked or packed around the same kernels). */
        clusterrt_index_format fmts[3] = {
            k <= 256 ? CLUSTERRT_IDX_U8 : CLUSTERRT_IDX_U16,
            clusterrt_narrowest_format(k), clusterrt_dense_format(k)};
        int nf = 1;
        for (int q = 1; q < 3; q++)
          if (fmts[q] != fmts[0] && fmts[q] != fmts[nf - 1]) fmts[nf++] = fmts[q];
        for (int fi = 0; fi < nf; fi++) {
          clusterrt_index_format f = fmts[fi];
          const char *fn = clusterrt_format_name(f);
          double ib = clusterrt_format_bits(f) / 8.0;
          /* assign first: decode and accumulate use its indices */
          double ta = timeit(K_ASSIGN, &b, k, f, r);
          if (want(kernels, "assign")) report("assign", iname, b.n, k, fn, ta, 4 + ib);
          if (want(kernels, "decode"))
            report("decode", iname, b.n, k, fn, timeit(K_DECODE, &b, k, f, r),
                   4 + ib);
          if (want(kernels, "accumulate"))
            report("accumulate", iname, b.n, k, fn, timeit(K_ACC, &b, k, f, r),
                   4 + ib);
        }
      }
    }
    free(b.w);
    free(b.g);
    free(b.out);
    free(b.idx);
    free(b.c);
    free(b.gc);
    free(b.m);
    free(b.v);
  }
  if (want(kernels, "kmeans1d") && k1d_n > 0) {
    /* k1d_n distinct weights: a sorted grid of distinct floats, shuffled
     * by a Gaussian-shaped map so the spacing varies like real weights. */
    float *w = malloc(k1d_n * sizeof *w), *c = malloc(k1d_k * sizeof *c);
    if (!w || !c) return 1;
    for (size_t i = 0; i < k1d_n; i++) {
      double u = ((double)i + 0.5) / (double)k1d_n; /* (0,1) */
      double x = (u - 0.5) * 2;                     /* (-1,1) */
      w[i] = (float)(0.05 * x / sqrt(1 - x * x + 1e-6)); /* heavy-ish tails */
    }
    /* the best ISA asked for; one call (it allocates its own working
     * memory, page faults included, as a real call does) */
    for (int isa = CLUSTERRT_ISA_NEON; isa >= 0; isa--)
      if (clusterrt_isa_available((clusterrt_isa)isa) &&
          want(isas, clusterrt_isa_name((clusterrt_isa)isa))) {
        clusterrt_set_isa((clusterrt_isa)isa);
        break;
      }
    double t0 = now();
    int s = clusterrt_kmeans1d_f32(w, k1d_n, k1d_k, c);
    double t = now() - t0;
    if (s) fprintf(stderr, "kmeans1d failed: %s\n", clusterrt_status_string(s));
    report("kmeans1d", clusterrt_isa_name(clusterrt_get_isa()), k1d_n, k1d_k,
           "-", t, 4);
    free(w);
    free(c);
  }
  return 0;
}
