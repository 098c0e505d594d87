/*
 * The driver's command line, from one table (commands.c): the commands
 * (the default one, `train`, `gradcheck`), each with its flag sets, each
 * flag one row. flags.c reads the table with one policy for every command:
 *
 *   --name=value and --name value (a flag that needs a value takes the next
 *   argument); -o FILE and -oFILE; -O2 (attached only); a flag without a
 *   value, or with an optional one (--report[=json=F], --per-channel[=B]),
 *   never takes the next argument; `--` ends the flags; `-` is an operand
 *   (stdin or stdout); an unknown flag or a missing or bad value is a usage
 *   error (exit 2) naming the flag, with the closest name as a hint.
 *
 * `--help` and `--list-options` are generated from the same rows. A row of
 * kind FLAG_PASSES stands for the options of a pass (passes/options.c): it
 * expands into one flag per option row, forwarded as `name=value` to the
 * pass's option text and checked by the pass's own parser; so a new
 * pass option is a new flag without a change here.
 *
 * Adding a flag: one row in commands.c (and the field or handler that
 * uses its value).
 */
#ifndef CLUSTERC_FLAGS_H
#define CLUSTERC_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../passes/options.h"

typedef enum FlagKind {
  FLAG_NONE,     /* no value: sets a bool field (or runs the handler) */
  FLAG_INT,      /* a whole number in [lo, hi] into an integer field */
  FLAG_DOUBLE,   /* a finite number in [dlo, dhi] (ends open when asked) */
  FLAG_STRING,   /* non-empty text; the field points into argv */
  FLAG_PATH,     /* a file name like FLAG_STRING ('-': stdin/stdout) */
  FLAG_CHOICE,   /* one of choices; the field gets its position */
  FLAG_OPTIONAL, /* a value only after '=', else NULL (handler only) */
  FLAG_PASS,     /* forwarded as name[=value] to the option text at offset */
  FLAG_PASSES    /* every row of table (or those named in `only`), each
                  * a FLAG_PASS flag into the text at offset */
} FlagKind;

typedef struct FlagRow FlagRow;
typedef struct FlagCtx FlagCtx;

/* The checked value: text as given (NULL without one), i for FLAG_INT and
 * the choice's position, d for FLAG_DOUBLE. */
typedef struct FlagValue {
  const char *text;
  int64_t i;
  double d;
} FlagValue;

/* Returns 0, FLAG_EXIT to end the program with status 0 (--help), or -1
 * after flagError. */
typedef int (*FlagHandler)(FlagCtx *cx, const FlagRow *r, FlagValue v);
enum { FLAG_EXIT = 1 };

struct FlagRow {
  const char *name;      /* long name without "--", or NULL */
  char shortName;        /* -o FILE, -oFILE; 0 for none */
  bool attached;         /* the short flag's value is attached only (-O2) */
  FlagKind kind;
  const char *metavar;   /* the value in --help: FILE, N, ... */
  const char *synopsis;  /* --help's left column, instead of the generated */
  const char *help;
  size_t offset, size;   /* the field in the command's argument struct */
  FlagHandler handler;   /* instead of the field */
  int64_t lo, hi;        /* FLAG_INT */
  double dlo, dhi;       /* FLAG_DOUBLE, with */
  bool openLo, openHi;   /* whether the ends are excluded */
  const char *const *choices; /* FLAG_CHOICE, NULL-terminated */
  const OptTable *table;      /* FLAG_PASSES */
  const char *const *only;    /* FLAG_PASSES: these names only (NULL: all) */
  bool passValue;        /* FLAG_PASS: needs a value (not an OPT_BOOL) */
  bool emptyOk;          /* FLAG_STRING: an empty value is fine, as in
                          * --pass-options="$EXTRA" with nothing in it */
};

typedef struct FlagSet {
  const char *title; /* the section header in --help */
  const char *intro; /* a paragraph under it, or NULL */
  const FlagRow *rows;
  size_t numRows;
} FlagSet;

typedef struct Command {
  const char *name;     /* argv[1]; NULL: the default command */
  const char *usage;    /* after "clusterc [name] " in the usage line */
  const char *summary;  /* one line, in the default command's --help */
  const char *about;    /* the paragraph under the usage line */
  const char *operand;  /* "input file", "model": in messages */
  size_t inputOffset;   /* the operand's `const char *` field */
  const FlagSet *sets;
  size_t numSets;
  size_t argsSize;
  void (*init)(void *args);
  int (*run)(void *args, char **argv); /* after parsing: the exit status */
  void (*free)(void *args);
} Command;

struct FlagCtx {
  const Command *cmd;
  const Command *all; /* every command, for the default's --help */
  size_t numAll;
  void *args;
};

/* Parses argv with the command table and runs the chosen command. */
int flagsMain(const Command *cmds, size_t n, int argc, char **argv);

/* A usage error of cx's command on stderr ("clusterc train: error: ...",
 * then where the help is); returns EXIT_USAGE. */
int flagsUsageError(const Command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Handlers for every command: --help and --list-options. */
int flagsHelp(FlagCtx *cx, const FlagRow *r, FlagValue v);
int flagsList(FlagCtx *cx, const FlagRow *r, FlagValue v);

/* The field of row r in cx's arguments. */
void *flagField(FlagCtx *cx, const FlagRow *r);

/* Field and range helpers for the table. */
#define FLAG_FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)

#endif
