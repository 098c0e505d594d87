/*
 * Fuzzer of the training-data reader of `clusterc train` (IDX and .npy,
 * plain or gzip: train/data.c, clustercDatasetLoad).
 *
 * The first two bytes split the rest into an images file and a labels file
 * (bit 15 set: no labels); both are written to memory files and read by
 * path, as clusterc reads them. An error message is a fine answer. Bugs
 * are crashes, sanitizer reports, leaks, and a data set that does not add
 * up: samples whose size disagrees with the shape, or a label count that
 * is not the sample count.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clusterc/train.h"

#define FZ_CHECK(cond, ...)                                                 \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "check failed: %s: ", #cond);                         \
      fprintf(stderr, __VA_ARGS__);                                         \
      fputc('\n', stderr);                                                  \
      __builtin_trap();                                                     \
    }                                                                       \
  } while (0)

/* A memory file holding bytes; its path in *path. -1 on failure. */
static int memFile(const uint8_t *p, size_t n, char *path, size_t size) {
  int fd = memfd_create("fuzz-data", 0);
  if (fd < 0)
    return -1;
  size_t at = 0;
  while (at < n) {
    ssize_t w = write(fd, p + at, n - at);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    at += (size_t)w;
  }
  snprintf(path, size, "/proc/self/fd/%d", fd);
  return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  unsigned head = (unsigned)data[0] << 8 | data[1];
  int noLabels = head & 0x8000;
  size_t rest = size - 2, split = rest ? (head & 0x7fff) % (rest + 1) : 0;
  char ip[64], lp[64];
  int fi = memFile(data + 2, split, ip, sizeof ip);
  int fl = noLabels ? -2 : memFile(data + 2 + split, rest - split, lp, sizeof lp);
  if (fi < 0 || fl == -1) {
    if (fi >= 0)
      close(fi);
    return 0;
  }
  ClustercDataset d;
  if (!clustercDatasetLoad(&d, ip, noLabels ? NULL : lp, NULL, NULL)) {
    int64_t prod = 1;
    for (int i = 0; i < d.rank && i < 4; ++i)
      prod *= d.shape[i];
    FZ_CHECK(d.rank >= 1 && d.rank <= 4, "sample rank %d", d.rank);
    FZ_CHECK((size_t)prod == d.sampleSize, "shape gives %lld values, sampleSize %zu",
             (long long)prod, d.sampleSize);
    /* float labels are regression targets, integers classes */
    FZ_CHECK(noLabels || d.y || d.targets || d.n == 0, "labels missing for %zu samples", d.n);
    FZ_CHECK(!d.targets || d.targetSize >= 1 || d.n == 0, "empty targets");
    FZ_CHECK(d.n == 0 || d.x || d.u8, "no sample data for %zu samples", d.n);
    float *buf = malloc(sizeof(float) * (d.sampleSize ? d.sampleSize : 1));
    for (size_t i = 0; buf && i < d.n; i += 1 + d.n / 8)
      clustercDatasetSample(&d, i, buf); /* reads every value of a few samples */
    for (size_t i = 0; d.y && i < d.n; ++i)
      FZ_CHECK(d.y[i] >= 0, "label %zu is %d", i, d.y[i]);
    free(buf);
    clustercDatasetFree(&d);
  }
  close(fi);
  if (fl >= 0)
    close(fl);
  return 0;
}
