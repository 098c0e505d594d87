/*
 * Internals of the data readers (data.c, data-png.c): where their messages
 * go, and the PNG folder reader.
 */
#ifndef CLUSTERC_TRAIN_DATA_H
#define CLUSTERC_TRAIN_DATA_H

#include "clusterc/train.h"

typedef struct DataMsg {
  ClustercMessageFn fn;
  void *user;
} DataMsg;

/* Sends "path: error: ...\n"; returns -1. */
int dataFail(const DataMsg *m, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Loads a folder of class folders of PNG images into d (u8 samples
 * [H, W, C], labels from the folder names); 0, or -1 after a message. */
int dataLoadPngFolder(ClustercDataset *d, const char *dir, const DataMsg *m);

#endif
