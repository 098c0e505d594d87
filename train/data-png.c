/*
 * A folder of PNG images as a data set (see clusterc/train.h), laid out as
 * torchvision's ImageFolder:
 *
 *   DIR/<class>/<any name>.png
 *
 * The class folders are sorted by name (strcmp); when every name is a
 * whole number (0, 1, ..., 10, ...) that number is the label, otherwise
 * the label is the folder's position in that order. Images are read in
 * sorted file order with libpng's simplified API: 8-bit RGB when any image
 * has color (libpng converts gray ones; alpha is composited on black),
 * else 8-bit gray. All images must have one size (the headers are read
 * first, so a mismatch fails before any pixel is decoded).
 * Samples are u8 [H, W, C] (C = 1 or 3), read as value / 255 like IDX.
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct Names {
  char **v;
  size_t n, cap;
} Names;

static void namesFree(Names *l) {
  for (size_t i = 0; i < l->n; ++i)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int cmpName(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *joinPath(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The entries of dir that are folders (wantDirs) or .png files, sorted;
 * hidden entries are skipped. 0, or -1 after a message. */
static int listDir(const char *dir, bool wantDirs, Names *out, const DataMsg *m) {
  memset(out, 0, sizeof *out);
  DIR *d = opendir(dir);
  if (!d)
    return dataFail(m, dir, "cannot open folder: %s", strerror(errno));
  int rc = 0;
  for (struct dirent *e; !rc && (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    size_t len = strlen(e->d_name);
    char *path = joinPath(dir, e->d_name);
    struct stat st;
    bool isDir = path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    free(path);
    bool keep = wantDirs ? isDir
                         : !isDir && len > 4 && !strcasecmp(e->d_name + len - 4, ".png");
    if (!keep)
      continue;
    if (out->n == out->cap) {
      size_t cap = out->cap ? 2 * out->cap : 64;
      char **v = realloc(out->v, cap * sizeof *v);
      if (!v) {
        rc = dataFail(m, dir, "out of memory");
        break;
      }
      out->v = v;
      out->cap = cap;
    }
    if (!(out->v[out->n] = strdup(e->d_name)))
      rc = dataFail(m, dir, "out of memory");
    else
      out->n++;
  }
  closedir(d);
  if (!rc && out->n)
    qsort(out->v, out->n, sizeof *out->v, cmpName);
  if (rc)
    namesFree(out);
  return rc;
}

/* The label of each class folder: its number when all are whole numbers,
 * else its position. */
static bool numericLabels(const Names *classes) {
  for (size_t i = 0; i < classes->n; ++i) {
    const char *s = classes->v[i];
    size_t len = strlen(s);
    if (len == 0 || len > 9 || strspn(s, "0123456789") != len)
      return false;
  }
  return true;
}

/* Opens the header of one image (png_image_free it); 0, or -1 after a
 * message. */
static int openImage(png_image *im, const char *path, const DataMsg *m) {
  memset(im, 0, sizeof *im);
  im->version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(im, path))
    return dataFail(m, path, "not a readable PNG image: %s", im->message);
  return 0;
}

/* Every image's path and label, in order. */
typedef struct Files {
  Names paths;
  int32_t *labels;
} Files;

static int listImages(const char *dir, Files *f, const DataMsg *m) {
  Names classes;
  memset(f, 0, sizeof *f);
  if (listDir(dir, true, &classes, m))
    return -1;
  if (!classes.n)
    return dataFail(m, dir, "no class folders (a folder of images needs "
                    "<class>/<image>.png)");
  bool numeric = numericLabels(&classes);
  int rc = 0;
  for (size_t k = 0; !rc && k < classes.n; ++k) {
    char *sub = joinPath(dir, classes.v[k]);
    Names files;
    if (!sub || listDir(sub, false, &files, m)) {
      rc = sub ? -1 : dataFail(m, dir, "out of memory");
      free(sub);
      break;
    }
    int32_t label = numeric ? (int32_t)atol(classes.v[k]) : (int32_t)k;
    size_t need = f->paths.n + files.n;
    char **v = need > f->paths.cap ? realloc(f->paths.v, (need + 1) * sizeof *v) : f->paths.v;
    int32_t *l = v ? realloc(f->labels, (need + 1) * sizeof *l) : NULL;
    if (v) {
      f->paths.v = v;
      f->paths.cap = need > f->paths.cap ? need + 1 : f->paths.cap;
    }
    if (l)
      f->labels = l;
    for (size_t i = 0; !rc && i < files.n; ++i) {
      char *path = l ? joinPath(sub, files.v[i]) : NULL;
      if (!path)
        rc = dataFail(m, sub, "out of memory");
      else {
        f->labels[f->paths.n] = label;
        f->paths.v[f->paths.n++] = path;
      }
    }
    namesFree(&files);
    free(sub);
  }
  namesFree(&classes);
  if (!rc && !f->paths.n)
    rc = dataFail(m, dir, "no .png images in its class folders");
  return rc;
}

int dataLoadPngFolder(ClustercDataset *d, const char *dir, const DataMsg *m) {
  Files f;
  int rc = listImages(dir, &f, m);
  /* First the headers: one size for all, color when any image is. */
  bool color = false;
  png_uint_32 h = 0, w = 0;
  for (size_t i = 0; !rc && i < f.paths.n; ++i) {
    png_image im;
    if ((rc = openImage(&im, f.paths.v[i], m)))
      break;
    if (i == 0)
      h = im.height, w = im.width;
    color |= (im.format & PNG_FORMAT_FLAG_COLOR) != 0;
    if (im.height != h || im.width != w)
      rc = dataFail(m, f.paths.v[i], "the image is %ux%u; the folder's first image (%s) is "
                    "%ux%u (all images of a data set have one size)", (unsigned)im.height,
                    (unsigned)im.width, f.paths.v[0], (unsigned)h, (unsigned)w);
    png_image_free(&im);
  }
  size_t c = color ? 3 : 1;
  if (!rc) {
    d->rank = 3;
    d->shape[0] = h;
    d->shape[1] = w;
    d->shape[2] = (int64_t)c;
    d->sampleSize = (size_t)h * w * c;
    if (!d->sampleSize)
      rc = dataFail(m, f.paths.v[0], "empty image");
    else if (!(d->u8 = malloc(f.paths.n * d->sampleSize)) ||
             !(d->y = malloc(f.paths.n * sizeof *d->y)))
      rc = dataFail(m, dir, "out of memory");
  }
  for (size_t i = 0; !rc && i < f.paths.n; ++i) {
    png_image im;
    if ((rc = openImage(&im, f.paths.v[i], m)))
      break;
    im.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_finish_read(&im, NULL, d->u8 + i * d->sampleSize, 0, NULL)) {
      rc = dataFail(m, f.paths.v[i], "cannot read the PNG image: %s", im.message);
      png_image_free(&im);
      break;
    }
    d->y[i] = f.labels[i];
    d->n = i + 1;
  }
  namesFree(&f.paths);
  free(f.labels);
  return rc;
}
