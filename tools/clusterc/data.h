/*
 * Training data: IDX files (MNIST, Fashion-MNIST; gzip or plain, read
 * through zlib) and NumPy .npy arrays (C order; u8, i32, i64, f32, f64).
 * Samples become f32 (u8 pixels scaled to [0, 1]); labels become i32.
 */
#ifndef CLUSTERC_DATA_H
#define CLUSTERC_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct Dataset {
  size_t n;          /* samples */
  size_t sampleSize; /* f32 values per sample */
  int rank;          /* of one sample */
  int64_t shape[4];  /* of one sample */
  float *x;          /* n * sampleSize */
  int32_t *y;        /* n labels, or NULL */
} Dataset;

/* Loads samples from `images` and labels from `labels` (NULL: none). On
 * failure prints "file: error: ..." on stderr and returns -1. */
int dataLoad(Dataset *d, const char *images, const char *labels);
void dataFree(Dataset *d);

#endif
