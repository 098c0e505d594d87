/*
 * The options of the clusterc passes, as tables (options.c).
 *
 * Each pass has one table with one row per option: its name in the option
 * text, its kind, the field of the pass's options struct it sets, its
 * default and its range or choices. One policy, options.c, reads every
 * table: it initialises, parses, copies and frees the options structs of
 * both passes, so both accept the same syntax and report errors the same
 * way. cluster-train's text is parsed with its own table first, then with
 * cluster-weights' (into its `cluster` member), so both passes select and
 * cluster weights with the same options.
 *
 * Adding an option: a field in the struct (clusterc/passes.h, with its line
 * in the syntax comment there) and a row in the pass's table in options.c.
 * The row is also the driver's flag (`clusterc --name=value`, see
 * tools/clusterc/commands.c): its name, metavar and help make the flag and
 * its --help line, so the driver needs no change.
 */
#ifndef CLUSTERC_PASSES_OPTIONS_H
#define CLUSTERC_PASSES_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "clusterc/passes.h"

typedef enum OptKind {
  OPT_INT,       /* a whole decimal number in [lo, hi], stored in an integer
                  * or enum field of `size` bytes */
  OPT_BOOL,      /* true|false|on|off|1|0 into an int; the bare name: true */
  OPT_ENUM,      /* one of the choices; the field gets its position */
  OPT_STRING,    /* non-empty text into an owned `char *` */
  OPT_SELECTORS, /* SEL,SEL,... appended to a ClustercSelector list */
  OPT_OVERRIDES, /* SEL:K,... (K in [lo, hi] or `skip`) appended likewise */
  OPT_DOUBLE     /* a finite decimal number in [dlo, dhi] into a double
                  * (default 0) */
} OptKind;

typedef struct OptRow {
  const char *name;
  OptKind kind;
  size_t offset, size;   /* the field in the options struct */
  size_t countOffset;    /* lists: the size_t element count beside it */
  int64_t def;           /* default of OPT_INT, OPT_BOOL, OPT_ENUM */
  int64_t lo, hi;        /* OPT_INT, OPT_OVERRIDES: the range */
  double dlo, dhi;       /* OPT_DOUBLE: the range */
  const char *const *choices;      /* OPT_ENUM: NULL-terminated, or */
  const char *(*choiceName)(int);  /* the name of choice i, NULL past the end */
  const char *note;      /* OPT_INT: after the range in the error, e.g.
                          * "(0: one per core)"; OPT_STRING: what an empty
                          * value lacks ("a name") */
  const char *metavar;   /* the value in help (K, N, ...); NULL: an
                          * OPT_ENUM's choices joined by '|', else none */
  const char *help;      /* one sentence for help texts: the driver lists
                          * each row as a flag (--name=METAVAR) */
} OptRow;

typedef struct OptTable {
  const char *pass;      /* for "unknown option 'x' of <pass>" */
  const OptRow *rows;
  size_t numRows;
  size_t structSize;
} OptTable;

extern const OptTable optClusterWeights; /* ClustercClusterWeightsOptions */
extern const OptTable optClusterTrain;   /* ClustercClusterTrainOptions,
                                          * without its `cluster` member */

/* Deep copy of cluster-train options (the passes keep their own copy);
 * 0, or -1 when out of memory (dst then holds nothing to free). */
int optClusterTrainCopy(ClustercClusterTrainOptions *dst,
                        const ClustercClusterTrainOptions *src);

#endif
