/*
 * What the clusterc libraries (libclusterc-codegen, libclusterc-train)
 * return and how they talk: a status code (0 = ok) and text through a
 * caller-supplied callback. The libraries never print, exit or abort; MLIR
 * diagnostics go through the context's handler as usual.
 */
#ifndef CLUSTERC_STATUS_H
#define CLUSTERC_STATUS_H

#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ClustercStatus {
  CLUSTERC_OK = 0,
  CLUSTERC_ERROR = 1,       /* bad input, or a failure (message sent) */
  CLUSTERC_USAGE = 2,       /* bad options (message sent) */
  CLUSTERC_INTERRUPTED = 3, /* stopped on request (ClustercTrainConfig.stop) */
} ClustercStatus;

/* What a message is, so a program can route it: clusterc prints RESULT on
 * stdout, LOG into its --log file and the rest on stderr. */
typedef enum ClustercMessageKind {
  CLUSTERC_MESSAGE_ERROR,    /* "<file>: error: ...\n" */
  CLUSTERC_MESSAGE_INFO,     /* progress lines ("epoch 1/3: ...\n") */
  CLUSTERC_MESSAGE_PROGRESS, /* a status line redrawn with '\r' (terminals) */
  CLUSTERC_MESSAGE_RESULT,   /* what a command computes (gradcheck's table) */
  CLUSTERC_MESSAGE_LOG,      /* one JSON line per epoch ("{...}\n") */
  CLUSTERC_MESSAGE_WARNING,  /* "<file>: warning: ...\n" (the work goes on) */
} ClustercMessageKind;

/* Receives each message as complete text, newline included (PROGRESS: no
 * newline). The text is borrowed for the call. May be NULL: messages are
 * dropped. */
typedef void (*ClustercMessageFn)(ClustercMessageKind kind, MlirStringRef text,
                                  void *userData);

#ifdef __cplusplus
}
#endif

#endif /* CLUSTERC_STATUS_H */
