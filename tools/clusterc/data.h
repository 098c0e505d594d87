/*
 * Training data: IDX files (MNIST, Fashion-MNIST; gzip or plain, read
 * through zlib) and NumPy .npy arrays (C order; u8, i32, i64, f32, f64).
 * Samples are read as f32 (u8 pixels scaled to [0, 1], kept as u8 in memory:
 * a quarter of the size, and no first touch of a large f32 copy); labels
 * become i32.
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
  float *x;          /* n * sampleSize, or NULL when u8 holds the samples */
  uint8_t *u8;       /* u8 samples (IDX images), read as value / 255 */
  int32_t *y;        /* n labels, or NULL */
} Dataset;

/* Copies sample i into out[0 .. sampleSize) as f32. */
void dataSample(const Dataset *d, size_t i, float *out);

/* Loads samples from `images` and labels from `labels` (NULL: none). On
 * failure prints "file: error: ..." on stderr and returns -1. */
int dataLoad(Dataset *d, const char *images, const char *labels);
void dataFree(Dataset *d);

#endif
