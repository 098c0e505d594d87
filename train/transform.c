/*
 * The data path of clusterc train: a data set's samples to a model input
 * (see ClustercDataTransform in clusterc/train.h).
 *
 * Layouts are read from shapes. A sample [H, W] is one channel; a sample
 * of rank 3 is CHW or HWC by which end is a channel count (1, 3 or 4), and
 * when both could be, the smaller end is (a tie is CHW): [1, 28, 28] and
 * [3, 4, 4] are CHW, [28, 28, 1] and [32, 32, 3] HWC. The model's
 * per-sample input is read by the same rule (torch's NCHW, tosa's NHWC),
 * or is flat [D]
 * (an MLP): then the image after padding and resizing, in CHW order, must
 * have D values.
 *
 * Order: zero padding (value 0, before normalisation), resizing
 * (bilinear with half-pixel centres, as PyTorch's interpolate with
 * align_corners=False and torchvision's Resize without antialiasing; or
 * nearest, PyTorch's mode='nearest'), channels (1 -> C replicated, 4 -> 3
 * drops alpha), normalisation (v - mean[c]) / std[c]. Every output value is
 * computed from the source directly: one pass, no intermediate image.
 */
#define _POSIX_C_SOURCE 200809L
#include "transform.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool isChannels(int64_t c) { return c == 1 || c == 3 || c == 4; }

/* Reads an image shape: 0, or -1 when the shape is no image. */
static int imageOf(const int64_t *s, int rank, int *h, int *w, int *c, bool *chw) {
  *chw = false;
  if (rank == 2) {
    *h = (int)s[0], *w = (int)s[1], *c = 1;
    return 0;
  }
  bool first = rank == 3 && isChannels(s[0]), last = rank == 3 && isChannels(s[2]);
  if (!first && !last)
    return -1;
  /* Both ends could be channels: the smaller is ([3, 4, 4] is CHW). */
  *chw = first && (!last || s[0] <= s[2]);
  *c = (int)(*chw ? s[0] : s[2]);
  *h = (int)(*chw ? s[1] : s[0]);
  *w = (int)(*chw ? s[2] : s[1]);
  return 0;
}

static const char *shapeText(const int64_t *s, int rank, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < rank && at + 24 < size; ++i)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "x" : "", (long long)s[i]);
  return buf;
}

int xfPlan(XfPlan *p, const ClustercDataTransform *t, const ClustercDataset *d,
           const int64_t *shape, int rank, char *err, size_t errSize) {
  memset(p, 0, sizeof *p);
  p->inSize = d->sampleSize;
  p->outSize = 1;
  for (int i = 0; i < rank; ++i)
    p->outSize *= (size_t)shape[i];
  char b1[96], b2[96];
  bool any = t->inputH || t->pad || t->numNormalize;
  int sh, sw, sc, dh = 0, dw = 0, dc = 0;
  bool srcChw, dstChw = true;
  bool srcImage = imageOf(d->shape, d->rank, &sh, &sw, &sc, &srcChw) == 0;
  bool dstFlat = rank == 1;
  bool dstImage = !dstFlat && imageOf(shape, rank, &dh, &dw, &dc, &dstChw) == 0;
  bool sameImage = srcImage && dstImage && sh == dh && sw == dw && sc == dc &&
                   (sc == 1 || srcChw == dstChw);
  if (!any && p->inSize == p->outSize && (sameImage || !srcImage || !dstImage)) {
    p->identity = true; /* as before: same values, same order */
    return 0;
  }
  if (!srcImage) {
    snprintf(err, errSize, "the samples (%s) are not images ([H, W], [H, W, C] or [C, H, W] "
             "with C = 1, 3 or 4), so they cannot be padded, resized or normalised into "
             "the model's input %s", shapeText(d->shape, d->rank, b1, sizeof b1),
             shapeText(shape, rank, b2, sizeof b2));
    return -1;
  }
  if (!dstFlat && !dstImage) {
    snprintf(err, errSize, "the model's input %s is not an image ([H, W], [C, H, W] or "
             "[H, W, C] with C = 1, 3 or 4)", shapeText(shape, rank, b1, sizeof b1));
    return -1;
  }
  p->sh = sh, p->sw = sw, p->sc = sc, p->srcChw = srcChw;
  p->pad = t->pad, p->ph = sh + 2 * t->pad, p->pw = sw + 2 * t->pad;
  if (dstFlat) {
    dh = t->inputH ? t->inputH : p->ph;
    dw = t->inputW ? t->inputW : p->pw;
    dc = sc == 4 ? 3 : sc;
    if ((size_t)dh * (size_t)dw * (size_t)dc != p->outSize) {
      snprintf(err, errSize, "the model's input has %zu values per sample; the samples "
               "make %dx%dx%d after padding and resizing", p->outSize, dc, dh, dw);
      return -1;
    }
  } else if (t->inputH && (t->inputH != dh || t->inputW != dw)) {
    snprintf(err, errSize, "--input-size=%dx%d does not match the model's input %s "
             "(%dx%d)", t->inputH, t->inputW, shapeText(shape, rank, b1, sizeof b1), dh, dw);
    return -1;
  } else if (!t->inputH && (p->ph != dh || p->pw != dw)) {
    snprintf(err, errSize, "the samples are %dx%d%s; the model's input is %dx%d: give "
             "--input-size=%dx%d to resize them%s", p->ph, p->pw,
             t->pad ? " after padding" : "", dh, dw, dh, dw,
             t->pad ? "" : " (or --pad=N)");
    return -1;
  }
  if (!(sc == dc || sc == 1 || (sc == 4 && dc == 3))) {
    snprintf(err, errSize, "the samples have %d channels, the model's input %d (1 is "
             "replicated and RGBA loses its alpha; nothing else is converted)", sc, dc);
    return -1;
  }
  if (t->numNormalize > 1 && t->numNormalize != dc) {
    snprintf(err, errSize, "--normalize gives %d mean,std pairs; the model's input has "
             "%d channels (give 1 or %d)", t->numNormalize, dc, dc);
    return -1;
  }
  p->dh = dh, p->dw = dw, p->dc = dc, p->dstChw = dstChw;
  p->nearest = t->resize == CLUSTERC_RESIZE_NEAREST;
  p->numNormalize = t->numNormalize;
  p->mean = t->mean;
  p->std = t->std;
  return 0;
}

/* The padded source image's value at (y, x), channel c. */
static float at(const XfPlan *p, const float *src, int y, int x, int c) {
  y -= p->pad;
  x -= p->pad;
  if (y < 0 || x < 0 || y >= p->sh || x >= p->sw)
    return 0.0f;
  size_t i = p->srcChw ? ((size_t)c * (size_t)p->sh + (size_t)y) * (size_t)p->sw + (size_t)x
                       : ((size_t)y * (size_t)p->sw + (size_t)x) * (size_t)p->sc + (size_t)c;
  return src[i];
}

/* Source coordinate of output index o along an axis of in -> out values:
 * i0, i1 and the weight of i1. */
static void coord(const XfPlan *p, int o, int in, int out, int *i0, int *i1, float *f) {
  if (in == out) {
    *i0 = *i1 = o;
    *f = 0;
    return;
  }
  double scale = (double)in / (double)out;
  if (p->nearest) {
    int i = (int)floor((double)o * scale);
    *i0 = *i1 = i < in - 1 ? i : in - 1;
    *f = 0;
    return;
  }
  double s = ((double)o + 0.5) * scale - 0.5;
  if (s < 0)
    s = 0;
  int i = (int)s;
  if (i > in - 1)
    i = in - 1;
  *i0 = i;
  *i1 = i < in - 1 ? i + 1 : i;
  *f = (float)(s - i);
}

void xfApply(const XfPlan *p, const float *src, float *dst) {
  if (p->identity) {
    memcpy(dst, src, p->inSize * sizeof *dst);
    return;
  }
  for (int y = 0; y < p->dh; ++y) {
    int y0, y1;
    float fy;
    coord(p, y, p->ph, p->dh, &y0, &y1, &fy);
    for (int x = 0; x < p->dw; ++x) {
      int x0, x1;
      float fx;
      coord(p, x, p->pw, p->dw, &x0, &x1, &fx);
      for (int c = 0; c < p->dc; ++c) {
        int sc = p->sc == 1 ? 0 : c; /* replicated gray; RGBA's alpha is never read */
        float top = at(p, src, y0, x0, sc) * (1 - fx) + at(p, src, y0, x1, sc) * fx;
        float bot = at(p, src, y1, x0, sc) * (1 - fx) + at(p, src, y1, x1, sc) * fx;
        float v = top * (1 - fy) + bot * fy;
        if (p->numNormalize) {
          int k = p->numNormalize == 1 ? 0 : c;
          v = (v - p->mean[k]) / p->std[k];
        }
        size_t o = p->dstChw ? ((size_t)c * (size_t)p->dh + (size_t)y) * (size_t)p->dw + (size_t)x
                             : ((size_t)y * (size_t)p->dw + (size_t)x) * (size_t)p->dc + (size_t)c;
        dst[o] = v;
      }
    }
  }
}
