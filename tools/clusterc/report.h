/* The per-layer report: rows collected from the pass, printed as a table
 * or written as JSON ({"layers": [...], "totals": {...}}). */
#ifndef CLUSTERC_REPORT_H
#define CLUSTERC_REPORT_H

#include <stdio.h>

#include "clusterc/passes.h"
#include "output.h"

typedef struct Report {
  ClustercLayerReport *rows; /* strings and shapes owned */
  size_t count, cap;
  int oom;
} Report;

void reportInit(Report *r);
void reportFree(Report *r);
/* A ClustercReportFn: user is the Report. */
void reportAdd(const ClustercLayerReport *row, void *user);
void reportPrintTable(const Report *r, const ClustercClusterWeightsOptions *o,
                      FILE *f);
/* Writes the report as JSON to out (committed by the caller). */
void reportWriteJson(const Report *r, const ClustercClusterWeightsOptions *o,
                     Output *out);

#endif
