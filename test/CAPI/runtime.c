// Tests of the public header include/clusterc/runtime.h (libclusterrt) from
// C, in the style of MLIR's mlir/test/CAPI: each testXxx function prints
// what the library returns for small arrays whose results are known exactly,
// and FileCheck compares it with the CHECK lines below it. The kernels run
// on the ISA the library picks; testEveryIsa runs them on every ISA this CPU
// has and compares. (test/runtime/ sweeps sizes and alignments per ISA.)
//
// RUN: %capi_runtime_test 2>&1 | FileCheck %s

#include "clusterc/runtime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof *(a))

static void printFloats(const char *what, const float *x, size_t n) {
  fprintf(stderr, "%s:", what);
  for (size_t i = 0; i < n; ++i)
    fprintf(stderr, " %g", (double)x[i]);
  fprintf(stderr, "\n");
}

static void printBytes(const char *what, const uint8_t *x, size_t n) {
  fprintf(stderr, "%s:", what);
  for (size_t i = 0; i < n; ++i)
    fprintf(stderr, " 0x%02x", x[i]);
  fprintf(stderr, "\n");
}

static void printStatus(const char *what, clusterrt_status s) {
  fprintf(stderr, "%s: %d %s\n", what, (int)s, clusterrt_status_string(s));
}

// Index formats: the narrowest for k, bits, bytes, names.
static void testFormats(void) {
  fprintf(stderr, "testFormats\n");
  // CHECK-LABEL: testFormats
  const size_t ks[] = {1, 2, 3, 4, 5, 16, 17, 256, 257, 65536};
  for (size_t i = 0; i < COUNT(ks); ++i) {
    clusterrt_index_format f = clusterrt_narrowest_format(ks[i]);
    fprintf(stderr, "k=%zu: %s, %u bits, 5 indices in %zu bytes\n", ks[i],
            clusterrt_format_name(f), clusterrt_format_bits(f),
            clusterrt_index_bytes(f, 5));
  }
  // CHECK: k=1: u1, 1 bits, 5 indices in 1 bytes
  // CHECK: k=2: u1, 1 bits, 5 indices in 1 bytes
  // CHECK: k=3: u2, 2 bits, 5 indices in 2 bytes
  // CHECK: k=4: u2, 2 bits, 5 indices in 2 bytes
  // CHECK: k=5: u4, 4 bits, 5 indices in 3 bytes
  // CHECK: k=16: u4, 4 bits, 5 indices in 3 bytes
  // CHECK: k=17: u8, 8 bits, 5 indices in 5 bytes
  // CHECK: k=256: u8, 8 bits, 5 indices in 5 bytes
  // CHECK: k=257: u16, 16 bits, 5 indices in 10 bytes
  // CHECK: k=65536: u16, 16 bits, 5 indices in 10 bytes
  fprintf(stderr, "unknown format: %u bits, name %s\n",
          clusterrt_format_bits((clusterrt_index_format)17),
          clusterrt_format_name((clusterrt_index_format)17) ? "set" : "NULL");
  // CHECK: unknown format: 0 bits, name NULL
  printStatus("ok", CLUSTERRT_OK);
  // CHECK: ok: 0
}

// Clustering in one call, and its pieces (initialisation, Lloyd, exact 1-D
// k-means).
static void testCluster(void) {
  fprintf(stderr, "testCluster\n");
  // CHECK-LABEL: testCluster
  // Two groups: the centroids are their means, the indices 1 bit each.
  const float w[8] = {0, 11, 1, 10, 0, 11, 1, 10};
  clusterrt_cluster_options o = {2, CLUSTERRT_INIT_KMEANSPP, 0, 0, 0, 0};
  float c[16];
  size_t k = 0;
  uint8_t idx[8];
  memset(idx, 0xff, sizeof idx);
  clusterrt_status s =
      clusterrt_cluster_f32(w, 8, &o, c, &k, CLUSTERRT_IDX_U1, idx);
  printStatus("cluster", s);
  fprintf(stderr, "k=%zu\n", k);
  printFloats("centroids", c, k);
  printBytes("indices", idx, 2); // only the first byte is written
  // CHECK: cluster: 0
  // CHECK: k=2
  // CHECK: centroids: 0.5 10.5
  // 0,1,0,1,0,1,0,1 LSB first:
  // CHECK: indices: 0xaa 0xff

  // Fewer distinct values than k: lossless, k shrinks.
  const float v[5] = {3, 1, 2, 1, 3};
  o.k = 16;
  s = clusterrt_cluster_f32(v, 5, &o, c, &k, CLUSTERRT_IDX_U8, idx);
  printStatus("lossless", s);
  fprintf(stderr, "k=%zu\n", k);
  printFloats("centroids", c, k);
  printBytes("indices", idx, 5);
  // CHECK: lossless: 0
  // CHECK: k=3
  // CHECK: centroids: 1 2 3
  // CHECK: indices: 0x02 0x00 0x01 0x00 0x02

  // Preserving sparsity: zero is a centroid of its own.
  const float z[6] = {0, 4, 4.5f, 0, 5, 5.5f};
  clusterrt_cluster_options oz = {2, CLUSTERRT_INIT_LINEAR, 0, 0, 1, 0};
  s = clusterrt_cluster_f32(z, 6, &oz, c, &k, CLUSTERRT_IDX_U2, idx);
  printStatus("sparse", s);
  fprintf(stderr, "k=%zu\n", k);
  printFloats("centroids", c, k);
  // CHECK: sparse: 0
  // CHECK: k=2
  // CHECK: centroids: 0 4.75

  const float g[4] = {1, 2, 10, 11};
  s = clusterrt_init_f32((const float[]){0, 4, 1, 3, 2}, 5, 5,
                         CLUSTERRT_INIT_LINEAR, 0, c);
  printStatus("init linear", s);
  printFloats("centroids", c, 5);
  // CHECK: init linear: 0
  // CHECK: centroids: 0 1 2 3 4
  s = clusterrt_kmeans1d_f32(g, 4, 2, c);
  printStatus("kmeans1d", s);
  printFloats("centroids", c, 2);
  // CHECK: kmeans1d: 0
  // CHECK: centroids: 1.5 10.5
  c[0] = 20;
  c[1] = 0;
  unsigned iters = 0;
  s = clusterrt_lloyd_f32(g, 4, c, 2, 100, &iters);
  printStatus("lloyd", s);
  printFloats("centroids", c, 2);
  fprintf(stderr, "iterations: %u\n", iters);
  // From {20, 0}: one step moves them to the means, the next changes no
  // assignment. The result is sorted.
  // CHECK: lloyd: 0
  // CHECK: centroids: 1.5 10.5
  // CHECK: iterations: 2

  clusterrt_init m;
  int rc = clusterrt_init_parse("kmeans++", 8, &m);
  fprintf(stderr, "parse kmeans++: %d %s\n", rc, clusterrt_init_name(m));
  rc = clusterrt_init_parse("kmeans1d-and-more", 8, &m);
  fprintf(stderr, "parse 8 chars of kmeans1d-and-more: %d %s\n", rc,
          clusterrt_init_name(m));
  rc = clusterrt_init_parse("bogus", 5, &m);
  fprintf(stderr, "parse bogus: %d\n", rc);
  // CHECK: parse kmeans++: 0 kmeans++
  // CHECK: parse 8 chars of kmeans1d-and-more: 0 kmeans1d
  // CHECK: parse bogus: -1

  o.k = 0;
  printStatus("k=0",
              clusterrt_cluster_f32(w, 8, &o, c, &k, CLUSTERRT_IDX_U8, idx));
  // CHECK: k=0: 2
}

// Assignment: nearest centroid, ties to the lowest index in the caller's
// order; packed formats; errors.
static void testAssign(void) {
  fprintf(stderr, "testAssign\n");
  // CHECK-LABEL: testAssign
  const float w[6] = {-1, 0.4f, 0.5f, 0.6f, 7, INFINITY};
  const float c[2] = {1, 0}; // unsorted: 0.5 ties, index 0 wins
  uint8_t idx[6];
  clusterrt_status s = clusterrt_assign_f32(w, 6, c, 2, CLUSTERRT_IDX_U8, idx);
  printStatus("assign", s);
  printBytes("indices", idx, 6);
  // CHECK: assign: 0
  // CHECK: indices: 0x01 0x01 0x00 0x00 0x00 0x00

  const float v[5] = {3, 2, 1, 0, 3};
  const float four[4] = {0, 1, 2, 3};
  uint8_t packed[2] = {0xff, 0xff};
  s = clusterrt_assign_f32(v, 5, four, 4, CLUSTERRT_IDX_U2, packed);
  printStatus("u2", s);
  printBytes("packed", packed, 2);
  // 3,2,1,0 | 3: 0b00011011, then 0b11 with the unused high bits zero.
  // CHECK: u2: 0
  // CHECK: packed: 0x1b 0x03

  // Per channel: [outer=1][channels=2][inner=2], one table per channel.
  const float pw[4] = {0, 1, 10, 11};
  const float pc[4] = {0, 1, 11, 10};
  s = clusterrt_assign_per_channel_f32(pw, 1, 2, 2, pc, 2, CLUSTERRT_IDX_U8,
                                       idx);
  printStatus("per channel", s);
  printBytes("indices", idx, 4);
  // CHECK: per channel: 0
  // CHECK: indices: 0x00 0x01 0x01 0x00

  const float nan[2] = {1, NAN};
  printStatus("NaN weight",
              clusterrt_assign_f32(nan, 2, four, 4, CLUSTERRT_IDX_U8, idx));
  printStatus("NaN centroid",
              clusterrt_assign_f32(four, 2, nan, 2, CLUSTERRT_IDX_U8, idx));
  printStatus("k=3 in u1",
              clusterrt_assign_f32(four, 2, four, 3, CLUSTERRT_IDX_U1, idx));
  printStatus("k=0",
              clusterrt_assign_f32(four, 2, four, 0, CLUSTERRT_IDX_U8, idx));
  printStatus("NULL",
              clusterrt_assign_f32(NULL, 2, four, 4, CLUSTERRT_IDX_U8, idx));
  // CHECK: NaN weight: 3
  // CHECK: NaN centroid: 3
  // CHECK: k=3 in u1: 4
  // CHECK: k=0: 2
  // CHECK: NULL: 1
}

// Decode: w[i] = c[idx[i]], packed and per channel; an out-of-range index.
static void testDecode(void) {
  fprintf(stderr, "testDecode\n");
  // CHECK-LABEL: testDecode
  const float c[4] = {0.5f, 1.5f, 2.5f, 3.5f};
  const uint8_t u4[2] = {0x21, 0x03}; // 1, 2, 3
  float w[4] = {-1, -1, -1, -1};
  clusterrt_status s = clusterrt_decode_f32(u4, CLUSTERRT_IDX_U4, 3, c, 4, w);
  printStatus("u4", s);
  printFloats("w", w, 4);
  // The fourth element is not written.
  // CHECK: u4: 0
  // CHECK: w: 1.5 2.5 3.5 -1
  const uint16_t u16[3] = {3, 0, 2};
  s = clusterrt_decode_f32(u16, CLUSTERRT_IDX_U16, 3, c, 4, w);
  printStatus("u16", s);
  printFloats("w", w, 3);
  // CHECK: u16: 0
  // CHECK: w: 3.5 0.5 2.5

  // The inverse of the per-channel assignment above.
  const uint8_t pidx[4] = {0, 1, 1, 0};
  const float pc[4] = {0, 1, 11, 10};
  s = clusterrt_decode_per_channel_f32(pidx, CLUSTERRT_IDX_U8, 1, 2, 2, pc, 2,
                                       w);
  printStatus("per channel", s);
  printFloats("w", w, 4);
  // CHECK: per channel: 0
  // CHECK: w: 0 1 10 11

  const uint8_t bad[2] = {0, 5};
  printStatus("index 5 of k=4",
              clusterrt_decode_f32(bad, CLUSTERRT_IDX_U8, 2, c, 4, w));
  // CHECK: index 5 of k=4: 5
}

// Accumulate: the per-cluster sum (or mean) of gradients, and cluster sizes.
static void testAccumulate(void) {
  fprintf(stderr, "testAccumulate\n");
  // CHECK-LABEL: testAccumulate
  const float g[5] = {1, 2, 3, 4, 5};
  const uint8_t idx[5] = {0, 1, 0, 2, 0};
  float gc[4] = {-1, -1, -1, -1};
  uint64_t counts[4] = {9, 9, 9, 9};
  clusterrt_status s = clusterrt_accumulate_f32(
      g, idx, CLUSTERRT_IDX_U8, 5, 4, CLUSTERRT_REDUCE_SUM, gc, counts);
  printStatus("sum", s);
  printFloats("gc", gc, 4);
  fprintf(stderr, "counts: %llu %llu %llu %llu\n",
          (unsigned long long)counts[0], (unsigned long long)counts[1],
          (unsigned long long)counts[2], (unsigned long long)counts[3]);
  // Cluster 3 is empty: 0, and gc is overwritten.
  // CHECK: sum: 0
  // CHECK: gc: 9 2 4 0
  // CHECK: counts: 3 1 1 0
  s = clusterrt_accumulate_f32(g, idx, CLUSTERRT_IDX_U8, 5, 4,
                               CLUSTERRT_REDUCE_AVG, gc, NULL);
  printStatus("avg", s);
  printFloats("gc", gc, 4);
  // CHECK: avg: 0
  // CHECK: gc: 3 2 4 0
  const uint8_t packed[2] = {0x10, 0x02}; // u4: 0, 1, 2
  memset(counts, 0, sizeof counts);
  s = clusterrt_counts(packed, CLUSTERRT_IDX_U4, 3, 3, counts);
  printStatus("counts", s);
  fprintf(stderr, "counts: %llu %llu %llu\n", (unsigned long long)counts[0],
          (unsigned long long)counts[1], (unsigned long long)counts[2]);
  // CHECK: counts: 0
  // CHECK: counts: 1 1 1
  printStatus("index 2 of k=2",
              clusterrt_accumulate_f32(g, idx, CLUSTERRT_IDX_U8, 5, 2,
                                       CLUSTERRT_REDUCE_SUM, gc, NULL));
  // CHECK: index 2 of k=2: 5
}

// Optimizer steps on two parameters, values exact in float.
static void testOptimizers(void) {
  fprintf(stderr, "testOptimizers\n");
  // CHECK-LABEL: testOptimizers
  float w[2] = {1, 2};
  const float g[2] = {0.5f, -1};
  float v[2] = {0, 0};
  clusterrt_status s = clusterrt_sgd_f32(w, g, v, 2, 0.5f, 0.5f, 0);
  printStatus("sgd", s);
  printFloats("w", w, 2);
  printFloats("v", v, 2);
  // CHECK: sgd: 0
  // CHECK: w: 0.75 2.5
  // CHECK: v: 0.5 -1
  s = clusterrt_sgd_f32(w, g, v, 2, 0.5f, 0.5f, 0);
  printFloats("w", w, 2);
  // v = 0.5 v + g = 0.75, -1.5
  // CHECK: w: 0.375 3.25
  printStatus("negative lr", clusterrt_sgd_f32(w, g, v, 2, -1, 0, 0));
  printStatus("step 0",
              clusterrt_adam_f32(w, g, v, v, 2, 0.1f, 0.9f, 0.999f, 1e-8f, 0));
  // CHECK: negative lr: 7
  // CHECK: step 0: 7
}

// Every ISA this CPU and build have gives the same results as the generic
// kernels.
static void testEveryIsa(void) {
  fprintf(stderr, "testEveryIsa\n");
  // CHECK-LABEL: testEveryIsa
  float w[37], c[5] = {-2, -0.5f, 0, 0.75f, 3};
  for (int i = 0; i < 37; ++i)
    w[i] = (float)((i * 7919) % 101 - 50) / 16.0f;
  uint8_t ref[37], idx[37];
  float rd[37], d[37], rg[5], gc[5];
  int differ = 0;
  const clusterrt_isa isas[] = {CLUSTERRT_ISA_GENERIC, CLUSTERRT_ISA_AVX2,
                                CLUSTERRT_ISA_AVX512, CLUSTERRT_ISA_NEON};
  for (size_t i = 0; i < COUNT(isas); ++i) {
    if (!clusterrt_isa_available(isas[i])) {
      printStatus("unavailable", clusterrt_set_isa(isas[i]) == CLUSTERRT_ERR_ISA
                                     ? CLUSTERRT_ERR_ISA
                                     : CLUSTERRT_OK);
      continue;
    }
    clusterrt_status s = clusterrt_set_isa(isas[i]);
    uint8_t *out = i ? idx : ref;
    float *dec = i ? d : rd, *acc = i ? gc : rg;
    if (s == CLUSTERRT_OK)
      s = clusterrt_assign_f32(w, 37, c, 5, CLUSTERRT_IDX_U4, out);
    if (s == CLUSTERRT_OK)
      s = clusterrt_decode_f32(out, CLUSTERRT_IDX_U4, 37, c, 5, dec);
    if (s == CLUSTERRT_OK)
      s = clusterrt_accumulate_f32(w, out, CLUSTERRT_IDX_U4, 37, 5,
                                   CLUSTERRT_REDUCE_SUM, acc, NULL);
    if (s != CLUSTERRT_OK)
      printStatus(clusterrt_isa_name(isas[i]), s);
    // Sums may be formed in another order (runtime.h): compare them with
    // a tolerance, the rest exactly.
    if (i && (memcmp(idx, ref, clusterrt_index_bytes(CLUSTERRT_IDX_U4, 37)) ||
              memcmp(d, rd, sizeof d)))
      differ = 1;
    for (int j = 0; i && j < 5; ++j)
      if (fabsf(gc[j] - rg[j]) > 1e-5f * (1 + fabsf(rg[j])))
        differ = 1;
  }
  printStatus("back to generic", clusterrt_set_isa(CLUSTERRT_ISA_GENERIC));
  fprintf(stderr, "generic: %s; every available ISA: %s\n",
          clusterrt_isa_name(clusterrt_get_isa()), differ ? "DIFFERS" : "same");
  // CHECK-NOT: unavailable: 0
  // CHECK: back to generic: 0
  // CHECK: generic: generic; every available ISA: same
}

int main(void) {
  testFormats();
  testCluster();
  testAssign();
  testDecode();
  testAccumulate();
  testOptimizers();
  testEveryIsa();
  return 0;
}
