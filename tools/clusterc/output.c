/* The driver's side of the output transaction; see output.h. */
#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <string.h>

#include "driver.h"

void outputWrite(MlirStringRef s, void *userData) {
  outputWriteBytes(userData, s.data, s.length);
}

int driverOpenOutput(const Command *cmd, Output **o, const char *path, const char *what) {
  char err[1024];
  int rc = outputOpen(o, path, what, err, sizeof err);
  if (rc == OUTPUT_CLASH)
    return flagsUsageError(cmd, "%s", err);
  if (rc) {
    fprintf(stderr, "%s: error: cannot write %s: %s\n", path, what, strerror(errno));
    return EXIT_BAD_INPUT;
  }
  return 0;
}

int driverCommitOutputs(void) {
  char err[1024];
  if (!outputCommitAll(err, sizeof err))
    return 0;
  fprintf(stderr, "%s\n", err);
  return EXIT_BAD_INPUT;
}
