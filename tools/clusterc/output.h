/*
 * The driver's side of the output transaction (support/output.h): the
 * MlirStringCallback that writes to an Output, and opening and committing
 * with the driver's messages.
 */
#ifndef CLUSTERC_DRIVER_OUTPUT_H
#define CLUSTERC_DRIVER_OUTPUT_H

#include "../../support/output.h"
#include "flags.h"
#include "mlir-c/Support.h"

/* An MlirStringCallback: userData is the Output. */
void outputWrite(MlirStringRef s, void *userData);

/* Opens path as the output called what; on failure prints why (a usage
 * error for a clash, `PATH: error: cannot write WHAT: REASON` otherwise)
 * and returns the exit status; 0 when open. */
int driverOpenOutput(const Command *cmd, Output **o, const char *path, const char *what);

/* outputCommitAll, printing its message; 0 or the exit status. */
int driverCommitOutputs(void);

#endif
