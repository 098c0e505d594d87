/*
 * The command-line policy of every clusterc command, read from the table
 * in commands.c (see flags.h for the syntax it accepts).
 *
 * A command's flags are its sets' rows in order; a FLAG_PASSES row expands
 * there into one FLAG_PASS row per pass option. The first row with a name
 * wins, so a command can give a pass option its own row (gradcheck's
 * --mode, whose default differs) before the expansion. Lookup, --help and
 * --list-options all walk the rows with forEachRow, so they cannot
 * disagree on what a command accepts.
 */
#define _POSIX_C_SOURCE 200809L
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* ---- Rows -------------------------------------------------------------------- */

/* Called for each row; returns true to stop the walk. */
typedef bool (*RowFn)(const FlagRow *r, void *user);

enum { MAX_FLAGS = 128 };

/* The metavar of an expanded pass option: its own, or its choices. */
static void passMetavar(const OptRow *o, char *buf, size_t size) {
  buf[0] = 0;
  if (o->metavar) {
    snprintf(buf, size, "%s", o->metavar);
    return;
  }
  if (o->kind != OPT_ENUM)
    return;
  size_t at = 0;
  for (int i = 0; at < size; ++i) {
    const char *c = o->choices ? o->choices[i] : o->choiceName(i);
    if (!c)
      break;
    int w = snprintf(buf + at, size - at, "%s%s", i ? "|" : "", c);
    at += w > 0 ? (size_t)w : 0;
  }
}

static bool named(const char *const *names, const char *name) {
  for (; *names; ++names)
    if (!strcmp(*names, name))
      return true;
  return false;
}

/* Walks the rows of cmd, expanded, each name once (the first wins). */
static void forEachRow(const Command *cmd, RowFn fn, void *user) {
  const char *seen[MAX_FLAGS];
  size_t numSeen = 0;
  for (size_t s = 0; s < cmd->numSets; ++s)
    for (size_t i = 0; i < cmd->sets[s].numRows; ++i) {
      const FlagRow *r = &cmd->sets[s].rows[i];
      size_t n = r->kind == FLAG_PASSES ? r->table->numRows : 1;
      for (size_t j = 0; j < n; ++j) {
        FlagRow row = *r;
        char metavar[128];
        if (r->kind == FLAG_PASSES) {
          const OptRow *o = &r->table->rows[j];
          if (r->only && !named(r->only, o->name))
            continue;
          passMetavar(o, metavar, sizeof metavar);
          row = (FlagRow){.name = o->name, .kind = FLAG_PASS, .help = o->help,
                          .metavar = metavar[0] ? metavar : NULL,
                          .offset = r->offset, .passValue = o->kind != OPT_BOOL};
        }
        bool dup = false;
        for (size_t k = 0; k < numSeen && row.name; ++k)
          dup |= !strcmp(seen[k], row.name);
        if (dup)
          continue;
        if (row.name && numSeen < MAX_FLAGS)
          seen[numSeen++] = row.name;
        if (fn(&row, user))
          return;
      }
    }
}

typedef struct Find {
  const char *name; /* long name (nameLen chars), or NULL for */
  size_t nameLen;
  char shortName;   /* a short one */
  FlagRow row;      /* the row found, with */
  char metavar[128]; /* its metavar */
  bool found;
} Find;

static bool findRow(const FlagRow *r, void *user) {
  Find *f = user;
  if (f->name ? r->name && strlen(r->name) == f->nameLen &&
                    !strncmp(r->name, f->name, f->nameLen)
              : r->shortName && r->shortName == f->shortName) {
    f->row = *r;
    /* The metavar may point into the walk's frame. */
    snprintf(f->metavar, sizeof f->metavar, "%s", r->metavar ? r->metavar : "");
    f->row.metavar = f->metavar[0] ? f->metavar : NULL;
    f->found = true;
  }
  return f->found;
}

void *flagField(FlagCtx *cx, const FlagRow *r) {
  return (char *)cx->args + r->offset;
}

/* ---- Messages ---------------------------------------------------------------- */

static void commandName(const Command *cmd, char *buf, size_t size) {
  snprintf(buf, size, "clusterc%s%s", cmd->name ? " " : "", cmd->name ? cmd->name : "");
}

int flagsUsageError(const Command *cmd, const char *fmt, ...) {
  char name[64];
  commandName(cmd, name, sizeof name);
  fprintf(stderr, "%s: error: ", name);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n(run '%s --help' for usage)\n", name);
  return EXIT_USAGE;
}

/* Edit distance of a[0..na) and b, for the hint on an unknown flag. */
static size_t distance(const char *a, size_t na, const char *b) {
  size_t nb = strlen(b), row[64];
  if (na >= 63 || nb >= 63)
    return 99;
  for (size_t j = 0; j <= nb; ++j)
    row[j] = j;
  for (size_t i = 1; i <= na; ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= nb; ++j) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

typedef struct Near {
  const char *name;
  size_t len, best;
  const char *bestName;
} Near;

static bool nearRow(const FlagRow *r, void *user) {
  Near *n = user;
  if (!r->name)
    return false;
  size_t d = distance(n->name, n->len, r->name);
  /* A typo: a couple of edits, or a prefix of the name. */
  bool prefix = n->len >= 3 && !strncmp(r->name, n->name, n->len);
  if (prefix)
    d = 1;
  if (d < n->best && (prefix || (d <= 2 && d * 3 <= n->len))) {
    n->best = d;
    n->bestName = r->name;
  }
  return false;
}

static int unknownFlag(const Command *cmd, const char *arg, const char *name,
                       size_t len) {
  Near n = {name, len, 99, NULL};
  if (name)
    forEachRow(cmd, nearRow, &n);
  if (n.bestName)
    return flagsUsageError(cmd, "unknown option '%s'; did you mean '--%s'?", arg,
                           n.bestName);
  return flagsUsageError(cmd, "unknown option '%s'", arg);
}

/* How row r is written with a value, for messages: --name=N or -o FILE. */
static void spelled(const FlagRow *r, char *buf, size_t size) {
  const char *mv = r->metavar ? r->metavar : "VALUE";
  if (r->name)
    snprintf(buf, size, "--%s=%s or --%s %s", r->name, mv, r->name, mv);
  else
    snprintf(buf, size, "-%c %s", r->shortName, mv);
}

/* ---- Values ------------------------------------------------------------------ */

static void storeInt(void *field, size_t size, int64_t v) {
  uint8_t v8 = (uint8_t)v;
  uint32_t v32 = (uint32_t)v;
  switch (size) {
  case 1: memcpy(field, &v8, 1); break;
  case 4: memcpy(field, &v32, 4); break;
  default: memcpy(field, &v, sizeof v); break;
  }
}

static void listChoices(const char *const *c, char *buf, size_t size) {
  size_t n = 0, at = 0;
  while (c[n])
    ++n;
  buf[0] = 0;
  for (size_t i = 0; i < n && at < size; ++i) {
    int w = snprintf(buf + at, size - at, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                     c[i]);
    at += w > 0 ? (size_t)w : 0;
  }
}

/* Checks text against r and stores it (or hands it to r's handler).
 * `shown` is the flag as the user wrote it, for messages. */
static int apply(FlagCtx *cx, const FlagRow *r, const char *text, const char *shown) {
  const Command *cmd = cx->cmd;
  FlagValue v = {text, 0, 0};
  switch (r->kind) {
  case FLAG_NONE:
    if (!r->handler)
      *(bool *)flagField(cx, r) = true;
    break;
  case FLAG_INT: {
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (!*text || *end || errno || n < r->lo || n > r->hi) {
      if (r->hi == INT64_MAX)
        return flagsUsageError(cmd, "%s must be an integer >= %lld, got '%s'", shown,
                               (long long)r->lo, text);
      return flagsUsageError(cmd, "%s must be an integer in %lld..%lld, got '%s'", shown,
                             (long long)r->lo, (long long)r->hi, text);
    }
    v.i = n;
    if (!r->handler)
      storeInt(flagField(cx, r), r->size, n);
    break;
  }
  case FLAG_DOUBLE: {
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    bool ok = *text && !*end && !errno && isfinite(d) &&
              (r->openLo ? d > r->dlo : d >= r->dlo) &&
              (r->openHi ? d < r->dhi : d <= r->dhi);
    if (!ok) {
      if (isinf(r->dhi))
        return flagsUsageError(cmd, "%s must be a number %s %g, got '%s'", shown,
                               r->openLo ? ">" : ">=", r->dlo, text);
      return flagsUsageError(cmd, "%s must be a number in %c%g, %g%c, got '%s'", shown,
                             r->openLo ? '(' : '[', r->dlo, r->dhi,
                             r->openHi ? ')' : ']', text);
    }
    v.d = d;
    if (!r->handler)
      *(double *)flagField(cx, r) = d;
    break;
  }
  case FLAG_STRING:
  case FLAG_PATH:
    if (!*text && !r->emptyOk) {
      char how[160];
      spelled(r, how, sizeof how);
      return flagsUsageError(cmd, "option '%s' needs a value (%s)", shown, how);
    }
    if (!r->handler)
      *(const char **)flagField(cx, r) = text;
    break;
  case FLAG_CHOICE: {
    int64_t i = 0;
    while (r->choices[i] && strcmp(r->choices[i], text))
      ++i;
    if (!r->choices[i]) {
      char expected[256];
      listChoices(r->choices, expected, sizeof expected);
      return flagsUsageError(cmd, "unknown %s '%s' (expected %s)", shown, text,
                             expected);
    }
    v.i = i;
    if (!r->handler)
      storeInt(flagField(cx, r), r->size, i);
    break;
  }
  case FLAG_OPTIONAL:
    break;
  case FLAG_PASS: {
    /* The pass's parser checks the value now, with the pass's messages
     * (cluster-train's reads both passes' options); the command parses the
     * whole text again with the pass it runs. */
    char *item = malloc(strlen(r->name) + (text ? strlen(text) : 0) + 4);
    if (!item)
      return flagsUsageError(cmd, "out of memory");
    /* A value with spaces stays one value in the option text: braced, as
     * MLIR's pass options ({...}; quotes inside keep a comma in a name). */
    bool spaced = text && text[strcspn(text, " \t\n\r\f\v")];
    sprintf(item, !text ? "%s" : spaced ? "%s={%s}" : "%s=%s", r->name, text);
    ClustercClusterTrainOptions check;
    clustercClusterTrainOptionsInit(&check);
    char err[512];
    int bad = clustercClusterTrainOptionsParse(&check, item, strlen(item), err, sizeof err);
    clustercClusterTrainOptionsFree(&check);
    int rc = bad ? 0 : driverAppendOption(flagField(cx, r), item);
    free(item);
    if (bad)
      return flagsUsageError(cmd, "%s", err);
    if (rc)
      return flagsUsageError(cmd, "out of memory");
    break;
  }
  case FLAG_PASSES:
    break; /* expanded by forEachRow */
  }
  return r->handler ? r->handler(cx, r, v) : 0;
}

/* Whether r's value, when not attached, is the next argument. */
static bool takesNext(const FlagRow *r) {
  switch (r->kind) {
  case FLAG_NONE:
  case FLAG_OPTIONAL:
    return false;
  case FLAG_PASS:
    return r->passValue;
  default:
    return true;
  }
}

/* ---- Parsing ----------------------------------------------------------------- */

/* Parses argv[1..argc) into cx->args. Returns -1 to go on, else the exit
 * status. */
static int parse(FlagCtx *cx, int argc, char **argv) {
  const Command *cmd = cx->cmd;
  const char **input = (const char **)(void *)((char *)cx->args + cmd->inputOffset);
  bool flags = true;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!flags || arg[0] != '-' || !arg[1]) {
      if (*input)
        return flagsUsageError(cmd, "more than one %s ('%s')", cmd->operand, arg);
      *input = arg;
      continue;
    }
    if (!strcmp(arg, "--")) {
      flags = false;
      continue;
    }
    Find f = {0};
    const char *value = NULL; /* attached: --name=value, -oFILE, -O2 */
    char shown[128];
    if (arg[1] == '-') {
      const char *eq = strchr(arg + 2, '=');
      f.name = arg + 2;
      f.nameLen = eq ? (size_t)(eq - f.name) : strlen(f.name);
      value = eq ? eq + 1 : NULL;
      snprintf(shown, sizeof shown, "--%.*s", (int)f.nameLen, f.name);
    } else {
      f.shortName = arg[1];
      value = arg[2] ? arg + 2 : NULL;
      snprintf(shown, sizeof shown, "-%c", arg[1]);
    }
    forEachRow(cmd, findRow, &f);
    if (!f.found)
      return unknownFlag(cmd, arg, f.name, f.nameLen);
    const FlagRow *r = &f.row;
    if (r->kind == FLAG_NONE && value) {
      if (r->name)
        return flagsUsageError(cmd, "option '%s' takes no value", shown);
      return unknownFlag(cmd, arg, NULL, 0); /* -hx */
    }
    if (!value && takesNext(r) && !(f.shortName && r->attached)) {
      if (++i == argc) {
        char how[160];
        spelled(r, how, sizeof how);
        return flagsUsageError(cmd, "option '%s' needs a value (%s)", shown, how);
      }
      value = argv[i];
    }
    if (f.shortName && r->attached && !value)
      value = "";
    /* Messages echo the flag as written; an empty attached value keeps
     * its '=' (--target=). */
    if (value && !*value && arg[1] == '-')
      snprintf(shown, sizeof shown, "%s", arg);
    int rc = apply(cx, r, value, shown);
    if (rc)
      return rc == FLAG_EXIT ? 0 : EXIT_USAGE;
  }
  return -1;
}

int flagsMain(const Command *cmds, size_t n, int argc, char **argv) {
  const Command *cmd = &cmds[0];
  for (size_t i = 0; i < n && argc > 1; ++i)
    if (cmds[i].name && !strcmp(argv[1], cmds[i].name)) {
      cmd = &cmds[i];
      break;
    }
  if (cmd->name) { /* the command's argv[0] is its name */
    --argc;
    ++argv;
  }
  void *args = calloc(1, cmd->argsSize);
  if (!args) {
    fprintf(stderr, "clusterc: error: out of memory\n");
    return EXIT_BAD_INPUT;
  }
  if (cmd->init)
    cmd->init(args);
  FlagCtx cx = {cmd, cmds, n, args};
  int rc = parse(&cx, argc, argv);
  if (rc < 0)
    rc = cmd->run(args, argv - (cmd->name ? 1 : 0));
  if (cmd->free)
    cmd->free(args);
  free(args);
  return rc;
}

/* ---- Help -------------------------------------------------------------------- */

enum { HELP_INDENT = 26, HELP_WIDTH = 79 };

/* Prints text from column `col` (already reached), wrapped at HELP_WIDTH
 * with continuation lines indented to `indent`. */
static void wrap(const char *text, size_t col, size_t indent) {
  const char *p = text;
  bool first = true;
  while (*p) {
    while (*p == ' ')
      ++p;
    size_t w = strcspn(p, " ");
    if (!first && col + 1 + w > HELP_WIDTH) {
      printf("\n%*s", (int)indent, "");
      col = indent;
      first = true;
    }
    if (!first) {
      putchar(' ');
      ++col;
    }
    printf("%.*s", (int)w, p);
    col += w;
    p += w;
    first = false;
  }
  putchar('\n');
}

static bool helpRow(const FlagRow *r, void *user) {
  (void)user;
  char left[160];
  const char *mv = r->metavar;
  if (r->synopsis)
    snprintf(left, sizeof left, "%s", r->synopsis);
  else if (!r->name)
    snprintf(left, sizeof left, "-%c%s%s", r->shortName, r->attached ? "" : " ",
             mv ? mv : "");
  else if (r->kind == FLAG_NONE || (r->kind == FLAG_PASS && !r->passValue))
    snprintf(left, sizeof left, "%s%c%s--%s", r->shortName ? "-" : "",
             r->shortName ? r->shortName : ' ', r->shortName ? ", " : "", r->name);
  else
    snprintf(left, sizeof left, "--%s=%s", r->name, mv ? mv : "VALUE");
  /* A flag without a short name starts at the column the others' long
   * names do. */
  const char *l = left[0] == ' ' ? left + 1 : left;
  printf("  %s", l);
  size_t col = 2 + strlen(l);
  if (col + 2 > HELP_INDENT) {
    printf("\n%*s", HELP_INDENT, "");
  } else {
    printf("%*s", (int)(HELP_INDENT - col), "");
  }
  wrap(r->help ? r->help : "", HELP_INDENT, HELP_INDENT);
  return false;
}

/* The rows a set adds: those of sets 0..s that sets 0..s-1 do not have. */
static bool helpRowIfNew(const FlagRow *r, void *user) {
  Find f = {.name = r->name, .nameLen = r->name ? strlen(r->name) : 0,
            .shortName = r->shortName};
  forEachRow(user, findRow, &f);
  return f.found ? false : helpRow(r, NULL);
}

int flagsHelp(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r, (void)v;
  const Command *cmd = cx->cmd;
  char name[64];
  commandName(cmd, name, sizeof name);
  printf("usage: %s %s\n", name, cmd->usage);
  if (!cmd->name)
    for (size_t i = 0; i < cx->numAll; ++i)
      if (cx->all[i].name)
        printf("       clusterc %s %s\n", cx->all[i].name, cx->all[i].usage);
  printf("\n");
  wrap(cmd->about, 0, 0);
  if (!cmd->name) {
    printf("\nCommands (clusterc COMMAND --help for their options):\n");
    for (size_t i = 0; i < cx->numAll; ++i)
      if (cx->all[i].name) {
        printf("  %-*s", HELP_INDENT - 2, cx->all[i].name);
        wrap(cx->all[i].summary, HELP_INDENT, HELP_INDENT);
      }
  }
  for (size_t s = 0; s < cmd->numSets; ++s) {
    const FlagSet *set = &cmd->sets[s];
    printf("\n%s\n", set->title);
    if (set->intro)
      wrap(set->intro, 0, 0);
    Command upTo = *cmd, before = *cmd;
    upTo.numSets = s + 1;
    before.numSets = s;
    forEachRow(&upTo, helpRowIfNew, &before);
  }
  return FLAG_EXIT;
}

static bool listRow(const FlagRow *r, void *user) {
  (void)user;
  if (r->name)
    printf("--%s\n", r->name);
  if (r->shortName)
    printf("-%c\n", r->shortName);
  return false;
}

int flagsList(FlagCtx *cx, const FlagRow *r, FlagValue v) {
  (void)r, (void)v;
  forEachRow(cx->cmd, listRow, NULL);
  return FLAG_EXIT;
}
