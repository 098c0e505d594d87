/*
 * The arguments of each clusterc command, as the flag table (commands.c)
 * fills them, and the functions that run the commands.
 */
#ifndef CLUSTERC_COMMANDS_H
#define CLUSTERC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "clusterc/train.h"
#include "codegen-flags.h"
#include "flags.h"

/* clusterc [options] model.mlir (clusterc.c) */
typedef struct ClusterArgs {
  const char *input, *output, *reportJson;
  const char *exportOnnx, *palettes; /* --export-onnx=FILE, --palettes=DIR */
  bool report;
  bool train;        /* --emit=train-mlir: cluster-train, not cluster-weights */
  bool timings;      /* --timings: seconds per phase on stderr */
  char *passOptions; /* cluster-weights (or cluster-train) option text */
  CgFlags cg;        /* code generation (codegen-flags.h) */
  /* --sensitivity=DATA: calibration data for sensitivity-weighted
   * clustering (clustercTrainSensitivity) */
  const char *sensitivity, *sensitivityLabels;
  int sensitivityBatches;
  ClustercDataTransform sensitivityTransform; /* --input-size, --pad, ... */
} ClusterArgs;
int clusterRun(void *args, char **argv);

/* clusterc train (train-main.c) */
typedef struct TrainArgs {
  ClustercTrainOptions t;
  const char *input, *output, *dataDir, *reportJson, *logPath;
  const char *trainImages, *trainLabels, *testImages, *testLabels;
  char *clusterText; /* cluster-weights options */
  char *trainText;   /* cluster-train-only options (mode, loss, reduce, function) */
  size_t limitTrain, limitTest;
  bool report;
} TrainArgs;
#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
int trainRun(void *args, char **argv);

/* clusterc gradcheck (gradcheck-main.c) */
typedef struct GradcheckArgs {
  ClustercGradcheckOptions go;
  const char *input;
  char *options; /* cluster-train option text */
} GradcheckArgs;
int gradcheckRun(void *args, char **argv);

/* clusterc import model.onnx (onnx-io.c) */
typedef struct ImportArgs {
  const char *input, *output, *funcName;
  bool namedTranspose;
} ImportArgs;
int importRun(void *args, char **argv);

/* The command table: the default command first, then train, gradcheck, import. */
extern const Command clustercCommands[];
extern const size_t clustercNumCommands;

#endif
