/*
 * Fuzzer of what `clusterc model.mlir` does, in process: parse the bytes as
 * MLIR, run cluster-weights, and check the result.
 *
 * A diagnostic is a fine answer to bad input. Bugs are: a crash or a
 * sanitizer report, a leak, a pass failure without an error diagnostic, a
 * clustered module that does not verify, or one whose printed form does not
 * parse again (fzRunPassAndCheck).
 *
 * Options: an input whose first line is `// clusterc: TEXT` runs the pass
 * with the option text TEXT (pipeline syntax, so the option parser is
 * fuzzed too); otherwise a hash of the input picks them (cluster count,
 * init, per-channel, sparsity, decode form, thread count), with
 * min-elements=0 so that small weights are clustered. The report callback
 * reads every field of every row.
 */
#define _GNU_SOURCE /* memmem */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "fuzz-mlir.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fzMlirInit();
  return 0;
}

static void onRow(const ClustercLayerReport *r, void *user) {
  size_t *sum = user;
  *sum += strlen(r->name) + strlen(r->consumer) + strlen(r->role) + strlen(r->dtype) +
          strlen(r->form) + strlen(r->reason) + strlen(r->init);
  for (intptr_t i = 0; i < r->rank; ++i)
    *sum += (size_t)r->shape[i];
  *sum += r->k + r->bits + r->tables + (size_t)r->bytes_after + (r->mse > 0);
}

/* Inputs that crash MLIR 19's own parser, which clusterc cannot fix (the
 * driver still removes its temporary output: test/bad-input/
 * upstream-crash.test). Skipped so that the fuzzer looks for clusterc's
 * bugs; each is listed in docs/RELIABILITY.md.
 *  - linalg.transpose `permutation = ...` and linalg.broadcast
 *    `dimensions = ...` that are not a well-formed integer list: the
 *    parser reports the error, then uses the null attribute (SIGSEGV). */
static bool isIntList(const char *p, const char *end, const char **after) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
    ++p;
  if (p == end || *p++ != '[')
    return false;
  bool first = true;
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
      ++p;
    if (p < end && *p == ']' && first) {
      *after = p + 1;
      return true;
    }
    if (p < end && *p == '-')
      ++p;
    if (p == end || *p < '0' || *p > '9')
      return false;
    while (p < end && *p >= '0' && *p <= '9')
      ++p;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
      ++p;
    if (p < end && *p == ']') {
      *after = p + 1;
      return true;
    }
    if (p == end || *p++ != ',')
      return false;
    first = false;
  }
}

static bool knownUpstreamCrash(const char *text, size_t n) {
  static const char *const keys[] = {"permutation", "dimensions"};
  const char *end = text + n;
  for (size_t k = 0; k < 2; ++k) {
    size_t kl = strlen(keys[k]);
    for (const char *p = text; p + kl <= end;) {
      const char *hit = memmem(p, (size_t)(end - p), keys[k], kl);
      if (!hit)
        break;
      const char *q = hit + kl;
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\n'))
        ++q;
      const char *after;
      if (q < end && *q == '=' && !isIntList(q + 1, end, &after))
        return true;
      p = hit + kl;
    }
  }
  return false;
}

static uint64_t hash(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void runOne(const uint8_t *data, size_t size);

typedef struct Input {
  const uint8_t *data;
  size_t size;
} Input;

static void *runThread(void *user) {
  Input *in = user;
  runOne(in->data, in->size);
  return NULL;
}

/* On a thread with a 1 GiB stack, as clusterc runs (deeply nested input). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (knownUpstreamCrash((const char *)data, size))
    return -1; /* not added to the corpus */
  Input in = {data, size};
  pthread_attr_t attr;
  pthread_t t;
  if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, (size_t)1 << 30) ||
      pthread_create(&t, &attr, runThread, &in))
    runOne(data, size);
  else
    pthread_join(t, NULL);
  return 0;
}

static void runOne(const uint8_t *data, size_t size) {
  ClustercClusterWeightsOptions o;
  clustercClusterWeightsOptionsInit(&o);
  static const char prefix[] = "// clusterc:";
  if (size > sizeof prefix && !memcmp(data, prefix, sizeof prefix - 1)) {
    const char *text = (const char *)data + sizeof prefix - 1;
    const char *nl = memchr(text, '\n', size - (sizeof prefix - 1));
    size_t len = nl ? (size_t)(nl - text) : size - (sizeof prefix - 1);
    char err[256];
    o.min_elements = 0;
    if (clustercClusterWeightsOptionsParse(&o, text, len, err, sizeof err)) {
      clustercClusterWeightsOptionsFree(&o);
      return;
    }
    if (o.clusters > 4096) /* keep each run fast */
      o.clusters = 4096;
    for (size_t i = 0; i < o.num_layers; ++i)
      if (o.layers[i].k > 4096)
        o.layers[i].k = 4096;
    if (o.threads > 4)
      o.threads = 4;
  } else {
    uint64_t h = hash(data, size);
    static const unsigned ks[] = {1, 2, 3, 4, 16, 17, 256, 300};
    o.clusters = ks[h % 8];
    o.init = (clusterrt_init)((h >> 3) % 5);
    o.seed = (h >> 6) % 3;
    o.min_elements = (h >> 8) % 2 ? 0 : 4;
    o.per_channel = (h >> 9) % 4 == 0;
    o.preserve_sparsity = (h >> 11) % 3 == 0;
    o.decode = (ClustercDecode)((h >> 13) % 3);
    o.threads = 1 + (unsigned)((h >> 15) % 2);
  }
  size_t sum = 0;
  o.report = onRow;
  o.report_user = &sum;

  FzMlir m;
  fzMlirOpen(&m);
  MlirModule module = fzParse(&m, (const char *)data, size, "input.mlir");
  if (!mlirModuleIsNull(module)) {
    fzRunPassAndCheck(&m, module, clustercCreateClusterWeightsPass(&o), "cluster-weights");
    mlirModuleDestroy(module);
  }
  fzMlirClose(&m);
  clustercClusterWeightsOptionsFree(&o);
}
