/*
 * gemm-bench: clusterrt_sgemm_f32 against OpenBLAS cblas_sgemm in the same
 * run, 1 thread (openblas_set_num_threads(1)), per ISA of this CPU.
 *
 *   gemm-bench [--reps R] [MxNxK[:tatb] ...]
 *
 * Default shapes: square sizes and the contractions of a CNN/MLP training
 * step at batch 64 (forward, both gradients: the transposes they use).
 * Prints one JSON line per shape and ISA: median ms of each, GFLOP/s and
 * clusterrt's time / OpenBLAS's time.
 */
#define _POSIX_C_SOURCE 200809L
#include "clusterc/runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc);
void openblas_set_num_threads(int n);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct shape { int M, N, K, ta, tb; } shape;

static double run(int which, const shape *s, const float *A, const float *B, float *C,
                  int reps) {
  double t[64];
  if (reps > 64) reps = 64;
  int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    if (which)
      cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                  s->tb ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f, A, lda,
                  B, ldb, 0.0f, C, s->N);
    else
      clusterrt_sgemm_f32(s->ta, s->tb, (size_t)s->M, (size_t)s->N, (size_t)s->K, 1.0f,
                          A, (size_t)lda, B, (size_t)ldb, 0.0f, C, (size_t)s->N);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmpd);
  return t[reps / 2];
}

int main(int argc, char **argv) {
  static const shape defaults[] = {
      {256, 256, 256, 0, 0}, {512, 512, 512, 0, 0}, {1024, 1024, 1024, 0, 0},
      /* MLP 784-256-10 at batch 64: x·Wᵀ, dX = dY·W, dW = dYᵀ·X */
      {64, 256, 784, 0, 1}, {64, 784, 256, 0, 0}, {256, 784, 64, 1, 0},
      /* CNN conv as im2col GEMMs (28x28, 3x3, 1->32->64 channels, batch 64) */
      {64 * 26 * 26, 32, 9, 0, 0}, {64 * 24 * 24, 64, 288, 0, 0},
      {288, 64, 64 * 24 * 24, 1, 0}, {64 * 24 * 24, 288, 64, 0, 1},
      /* ResNet-18 layer 3 (14x14, 256 channels, batch 8) */
      {8 * 14 * 14, 256, 2304, 0, 0}};
  shape list[32];
  int n = 0, reps = 9;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atoi(argv[++i]);
      continue;
    }
    shape s = {0};
    char t[3] = "nn";
    if (sscanf(argv[i], "%dx%dx%d:%2s", &s.M, &s.N, &s.K, t) < 3 || n == 32) {
      fprintf(stderr, "usage: gemm-bench [--reps R] [MxNxK[:nt] ...]\n");
      return 2;
    }
    s.ta = t[0] == 't', s.tb = t[1] == 't';
    list[n++] = s;
  }
  if (!n) {
    n = (int)(sizeof defaults / sizeof *defaults);
    memcpy(list, defaults, sizeof defaults);
  }
  openblas_set_num_threads(1);
  for (int i = 0; i < n; i++) {
    const shape *s = &list[i];
    size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
    float *A = malloc(4 * na), *B = malloc(4 * nb), *C = malloc(4 * nc);
    if (!A || !B || !C) return 2;
    for (size_t j = 0; j < na; j++) A[j] = (float)(j % 17) * 0.1f - 0.8f;
    for (size_t j = 0; j < nb; j++) B[j] = (float)(j % 13) * 0.1f - 0.6f;
    double flop = 2.0 * s->M * s->N * s->K;
    int r = flop > 4e9 ? 3 : reps;
    double tb = run(1, s, A, B, C, r);
    for (int isa = CLUSTERRT_ISA_GENERIC; isa <= CLUSTERRT_ISA_NEON; isa++) {
      if (!clusterrt_isa_available((clusterrt_isa)isa)) continue;
      clusterrt_set_isa((clusterrt_isa)isa);
      double tc = run(0, s, A, B, C, r);
      printf("{\"M\":%d,\"N\":%d,\"K\":%d,\"trans\":\"%c%c\",\"isa\":\"%s\","
             "\"clusterrt_ms\":%.3f,\"openblas_ms\":%.3f,\"clusterrt_gflops\":%.1f,"
             "\"openblas_gflops\":%.1f,\"ratio\":%.2f}\n",
             s->M, s->N, s->K, s->ta ? 't' : 'n', s->tb ? 't' : 'n',
             clusterrt_isa_name((clusterrt_isa)isa), tc * 1e3, tb * 1e3,
             flop / tc * 1e-9, flop / tb * 1e-9, tc / tb);
      fflush(stdout);
    }
    free(A), free(B), free(C);
  }
  return 0;
}
