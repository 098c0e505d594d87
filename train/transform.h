/*
 * From a data set's samples to a model input's (clusterc/train.h,
 * ClustercDataTransform): a plan per input, made once, applied per sample.
 */
#ifndef CLUSTERC_TRAIN_TRANSFORM_H
#define CLUSTERC_TRAIN_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterc/train.h"

typedef struct XfPlan {
  bool identity;      /* samples go in as they are */
  size_t inSize, outSize;
  int sh, sw, sc;     /* the sample as an image */
  bool srcChw;
  int pad, ph, pw;    /* the padded image */
  int dh, dw, dc;     /* the model's */
  bool dstChw, nearest;
  int numNormalize;
  const float *mean, *std;
} XfPlan;

/* Plans the way from d's samples to a model input of per-sample shape
 * shape[0..rank). 0, or -1 with the reason in err. */
int xfPlan(XfPlan *p, const ClustercDataTransform *t, const ClustercDataset *d,
           const int64_t *shape, int rank, char *err, size_t errSize);
/* One sample: src (p->inSize values) to dst (p->outSize). */
void xfApply(const XfPlan *p, const float *src, float *dst);

#endif
