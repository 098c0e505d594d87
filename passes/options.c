/*
 * The option text of both passes (syntax in clusterc/passes.h), read from
 * one table per pass (options.h) by one policy:
 *
 *   - the text is whitespace-separated `name` or `name=value` items, applied
 *     in order (a later item wins);
 *   - a pass looks a name up in its tables in order (cluster-train: its
 *     own, then cluster-weights'), and an unknown name is an error naming
 *     the pass;
 *   - each kind has one check and one message: integers name their range
 *     and echo the value, choices list the accepted names.
 *
 * The same parser serves the pass-pipeline form, the C API and the driver's
 * flags (the driver turns `--clusters=8` into `clusters=8`), so every entry
 * point accepts exactly the same values and reports the same errors. Init,
 * copy and free are table-driven as well: defaults come from the rows,
 * strings and selector lists are the owned fields.
 */
#include "options.h"
#include "palette.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The tables -------------------------------------------------------------- */

#define FIELD(T, f) .offset = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define LIST(T, f, n) FIELD(T, f), .countOffset = offsetof(T, n)
#define CW(f) FIELD(ClustercClusterWeightsOptions, f)
#define CWLIST(f, n) LIST(ClustercClusterWeightsOptions, f, n)
#define CT(f) FIELD(ClustercClusterTrainOptions, f)
#define CTLIST(f, n) LIST(ClustercClusterTrainOptions, f, n)

/* The names of clusterrt_init, in the runtime's order. */
static const char *initName(int i) {
  return i < 0 ? NULL : clusterrt_init_name((clusterrt_init)i);
}

/* In the order of the enums' values. */
static const char *const kDecodeNames[] = {"generic", "fold", "runtime", "fused", NULL};
static const char *const kModeNames[] = {"ste", "centroids-only", "float", NULL};
static const char *const kLossNames[] = {"softmax-ce", "mse", NULL};
static const char *const kReduceNames[] = {"sum", "avg", NULL};
static const char *const kPaletteNames[] = {"kmeans", "uniform", "unique", NULL};
static const char *const kTableTypeNames[] = {"float", "int8", "uint8", NULL};

static const OptRow kWeightsRows[] = {
    {.name = "clusters", .kind = OPT_INT, CW(clusters), .def = 16, .lo = 1,
     .hi = CLUSTERRT_MAX_K, .metavar = "K",
     .help = "clusters per weight, 1..65536 (default 16)"},
    {.name = "init", .kind = OPT_ENUM, CW(init), .def = CLUSTERRT_INIT_KMEANSPP,
     .choiceName = initName, .metavar = "M",
     .help = "linear|random|density|kmeans++|kmeans1d (default kmeans++)"},
    {.name = "seed", .kind = OPT_INT, CW(seed), .def = 0, .lo = 0, .hi = INT64_MAX,
     .metavar = "N", .help = "seed for random and kmeans++ (default 0)"},
    {.name = "min-elements", .kind = OPT_INT, CW(min_elements), .def = 128, .lo = 0,
     .hi = INT64_MAX, .metavar = "N",
     .help = "leave smaller weights alone (default 128)"},
    {.name = "per-channel", .kind = OPT_BOOL, CW(per_channel),
     .help = "one centroid table per output channel"},
    {.name = "group-size", .kind = OPT_INT, CW(group_size), .def = 0, .lo = 0,
     .hi = INT32_MAX, .note = "(0: per-channel or per tensor)", .metavar = "G",
     .help = "one centroid table per G consecutive output channels "
             "(per_grouped_channel; 1 is per-channel)"},
    {.name = "channel-axis", .kind = OPT_INT, CW(channel_axis), .def = -1, .lo = -1,
     .hi = 64, .metavar = "N",
     .help = "axis for per-channel (default: inferred, else 0)"},
    {.name = "preserve-sparsity", .kind = OPT_BOOL, CW(preserve_sparsity),
     .help = "keep zero as an exact centroid"},
    {.name = "layers", .kind = OPT_OVERRIDES, CWLIST(layers, num_layers), .lo = 1,
     .hi = CLUSTERRT_MAX_K, .metavar = "SEL:K,...",
     .help = "per-layer cluster counts; K may be 'skip'"},
    {.name = "only", .kind = OPT_SELECTORS, CWLIST(only, num_only),
     .metavar = "SEL,...",
     .help = "cluster only the matching weights. SEL is a glob on the layer "
             "name or #N, #N..M (weight index in execution order, negative "
             "from the end)"},
    {.name = "op-type", .kind = OPT_SELECTORS, CWLIST(op_types, num_op_types),
     .metavar = "OP,...",
     .help = "cluster only the weights of these ops (globs on the op name, "
             "e.g. linalg.matmul,linalg.conv_2d_*)"},
    {.name = "force", .kind = OPT_BOOL, CW(force),
     .help = "with only=: also cluster float constants that are not weights "
             "(biases, constants of other ops) whose name matches"},
    {.name = "decode", .kind = OPT_ENUM, CW(decode), .def = CLUSTERC_DECODE_GENERIC,
     .choices = kDecodeNames,
     .help = "generic: table + indices + a linalg.generic decode (default); "
             "fold: constants holding c[idx] (no saving); runtime: "
             "libclusterrt decodes each weight once, when the compiled model "
             "is loaded; fused: matrix products run libclusterrt's LUT "
             "kernels on the packed indices (no float copy of the weights)"},
    {.name = "bits", .kind = OPT_INT, CW(bits), .def = 0, .lo = 0, .hi = 16,
     .note = "(0: the narrowest for K)", .metavar = "N",
     .help = "index width, packed densely (default 0: the narrowest that "
             "holds K, e.g. 3 bits for K = 8, 6 for K = 64); K is capped at "
             "2^N"},
    {.name = "palette", .kind = OPT_ENUM, CW(palette), .def = CLUSTERC_PALETTE_KMEANS,
     .choices = kPaletteNames,
     .help = "kmeans: init then Lloyd (default); uniform: K values evenly "
             "spaced from min to max; unique: the distinct values (an error "
             "when more than K)"},
    {.name = "table", .kind = OPT_STRING, CW(table), .note = "a .npy file",
     .metavar = "FILE.npy",
     .help = "centroids from a .npy file (f32, f64 or f16; [K], or [T, K] "
             "for T per-channel/grouped tables) instead of clustering"},
    {.name = "table-type", .kind = OPT_ENUM, CW(table_type), .def = CLUSTERC_TABLE_FLOAT,
     .choices = kTableTypeNames,
     .help = "float: tables in the weight's type (default); int8: int8 "
             "entries and an f32 scale per table; uint8: uint8 entries, an "
             "f32 scale and a zero point per table (lut_dtype)"},
    {.name = "per-channel-scale", .kind = OPT_BOOL, CW(per_channel_scale),
     .help = "divide each output channel by its max |w| before clustering; "
             "the decode multiplies by the channel's f32 scale"},
    {.name = "cluster-dim", .kind = OPT_INT, CW(cluster_dim), .def = 1, .lo = 1,
     .hi = 8, .note = "(1, 2, 4 or 8)", .metavar = "D",
     .help = "vector palettes: each index names D consecutive weights along "
             "the input-channel axis, clustered by k-means in D dimensions "
             "(1, 2, 4 or 8; default 1)"},
    {.name = "lloyd-iterations", .kind = OPT_INT, CW(lloyd_iterations), .def = -1,
     .lo = -1, .hi = 1000000, .note = "(-1: until stable; 0: init only)",
     .metavar = "N",
     .help = "Lloyd iterations after the init (default -1: until no "
             "assignment changes, at most 300; 0: none, as tfmot)"},
    {.name = "size-budget", .kind = OPT_INT, CW(size_budget), .def = 0, .lo = 0,
     .hi = INT64_MAX, .note = "(0: none)", .metavar = "BYTES",
     .help = "mixed precision: choose each selected weight's width (1..8 bits, "
             "K = 2^bits) to minimise the total (sensitivity-weighted) "
             "squared error with the stored bytes of the clustered weights "
             "(tables + packed indices) at most BYTES"},
    {.name = "bits-budget", .kind = OPT_DOUBLE, CW(bits_budget), .dlo = 0, .dhi = 16,
     .note = "(0: none)", .metavar = "B",
     .help = "as size-budget, with BYTES = B bits per selected weight element "
             "(tables included), e.g. 3.5"},
    {.name = "threads", .kind = OPT_INT, CW(threads), .def = 0, .lo = 0, .hi = 1024,
     .note = "(0: one per core)", .metavar = "N",
     .help = "cluster weights on N threads (default 0: one per core); the "
             "output does not depend on N"},
    {.name = "allow-empty-selection", .kind = OPT_BOOL, CW(allow_empty_selection),
     .help = "a selector of only= or layers= that matches no weight is a "
             "warning (default: an error)"},
};

static const OptRow kTrainRows[] = {
    {.name = "mode", .kind = OPT_ENUM, CT(mode), .def = CLUSTERC_TRAIN_STE,
     .choices = kModeNames,
     .help = "STE with per-step re-assignment (default), fixed indices "
             "(centroids trained), or no clustering"},
    {.name = "loss", .kind = OPT_ENUM, CT(loss), .def = CLUSTERC_LOSS_SOFTMAX_CE,
     .choices = kLossNames,
     .help = "(default softmax-ce; labels are i32 classes; mse: against "
             "one-hot labels)"},
    {.name = "reduce", .kind = OPT_ENUM, CT(reduce), .def = CLUSTERRT_REDUCE_SUM,
     .choices = kReduceNames,
     .help = "centroid gradient aggregation (default sum)"},
    {.name = "function", .kind = OPT_STRING, CT(function), .note = "a name",
     .metavar = "NAME", .help = "the model (default: forward, or the only one)"},
    {.name = "freeze", .kind = OPT_SELECTORS, CTLIST(freeze, num_freeze),
     .metavar = "SEL,...",
     .help = "keep the matching parameters constant (selectors as only's: a "
             "glob on the layer name or #N, #N..M)"},
    {.name = "train-bn-stats", .kind = OPT_BOOL, CT(train_bn_stats),
     .help = "train batch-norm running mean, variance and epsilon too "
             "(default: frozen)"},
};

const OptTable optClusterWeights = {"cluster-weights", kWeightsRows,
                                    sizeof kWeightsRows / sizeof kWeightsRows[0],
                                    sizeof(ClustercClusterWeightsOptions)};
const OptTable optClusterTrain = {"cluster-train", kTrainRows,
                                  sizeof kTrainRows / sizeof kTrainRows[0],
                                  sizeof(ClustercClusterTrainOptions)};

/* ---- Fields ------------------------------------------------------------------ */

static void *fieldOf(void *o, const OptRow *r) { return (char *)o + r->offset; }

static size_t *countOf(void *o, const OptRow *r) {
  return (size_t *)(void *)((char *)o + r->countOffset);
}

/* Stores v (in range for the field) into an integer or enum field. */
static void storeInt(void *field, size_t size, int64_t v) {
  uint8_t v8 = (uint8_t)v;
  uint16_t v16 = (uint16_t)v;
  uint32_t v32 = (uint32_t)v;
  switch (size) {
  case 1: memcpy(field, &v8, 1); break;
  case 2: memcpy(field, &v16, 2); break;
  case 4: memcpy(field, &v32, 4); break;
  default: memcpy(field, &v, sizeof v); break;
  }
}

static bool owned(const OptRow *r) {
  return r->kind == OPT_STRING || r->kind == OPT_SELECTORS ||
         r->kind == OPT_OVERRIDES;
}

static void freeSelectors(ClustercSelector *s, size_t n) {
  for (size_t i = 0; i < n; ++i)
    free(s[i].glob);
  free(s);
}

static int copySelectors(ClustercSelector **dst, const ClustercSelector *src,
                         size_t n) {
  *dst = NULL;
  if (!n)
    return 0;
  ClustercSelector *d = calloc(n, sizeof *d);
  if (!d)
    return -1;
  for (size_t i = 0; i < n; ++i) {
    d[i] = src[i];
    if (src[i].glob && !(d[i].glob = strdup(src[i].glob))) {
      freeSelectors(d, i);
      return -1;
    }
  }
  *dst = d;
  return 0;
}

/* Frees the owned field of row r and empties it. */
static void freeField(void *o, const OptRow *r) {
  if (r->kind == OPT_STRING) {
    char **s = fieldOf(o, r);
    free(*s);
    *s = NULL;
  } else if (owned(r)) {
    ClustercSelector **list = fieldOf(o, r);
    freeSelectors(*list, *countOf(o, r));
    *list = NULL;
    *countOf(o, r) = 0;
  }
}

static void optInit(const OptTable *t, void *o) {
  memset(o, 0, t->structSize);
  for (size_t i = 0; i < t->numRows; ++i) {
    const OptRow *r = &t->rows[i];
    if (!owned(r) && r->kind != OPT_DOUBLE)
      storeInt(fieldOf(o, r), r->size, r->def);
  }
}

static void optFree(const OptTable *t, void *o) {
  for (size_t i = 0; i < t->numRows; ++i)
    freeField(o, &t->rows[i]);
}

/* Empties the owned fields of rows from..end of o without freeing them
 * (they belong to another struct). */
static void forgetOwned(const OptTable *t, void *o, size_t from) {
  for (size_t j = from; j < t->numRows; ++j)
    if (owned(&t->rows[j])) {
      *(void **)fieldOf(o, &t->rows[j]) = NULL;
      if (t->rows[j].kind != OPT_STRING)
        *countOf(o, &t->rows[j]) = 0;
    }
}

/* Copies the owned fields of src into dst, which holds a shallow copy of
 * src; on failure dst's owned fields are empty. */
static int optCopyOwned(const OptTable *t, void *dst, const void *src) {
  for (size_t i = 0; i < t->numRows; ++i) {
    const OptRow *r = &t->rows[i];
    if (!owned(r))
      continue;
    void *d = fieldOf(dst, r);
    const void *s = (const char *)src + r->offset;
    int rc = 0;
    if (r->kind == OPT_STRING) {
      const char *str = *(char *const *)s;
      *(char **)d = NULL;
      rc = str && !(*(char **)d = strdup(str)) ? -1 : 0;
    } else {
      rc = copySelectors(d, *(ClustercSelector *const *)s,
                         *(const size_t *)(const void *)((const char *)src + r->countOffset));
    }
    if (rc) {
      forgetOwned(t, dst, i); /* these still alias src */
      optFree(t, dst);        /* the copies made so far */
      return -1;
    }
  }
  return 0;
}

/* ---- Values ------------------------------------------------------------------ */

static int fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (size)
    vsnprintf(err, size, fmt, ap);
  va_end(ap);
  return -1;
}

/* Parses a whole decimal integer in [lo, hi] from s[0..n). */
static int parseInt(const char *s, size_t n, int64_t lo, int64_t hi,
                    int64_t *out) {
  char buf[32];
  if (n == 0 || n >= sizeof buf)
    return -1;
  memcpy(buf, s, n);
  buf[n] = 0;
  char *end;
  errno = 0;
  long long v = strtoll(buf, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static bool textIs(const char *s, size_t n, const char *lit) {
  return n == strlen(lit) && !memcmp(s, lit, n);
}

static int parseBool(const char *s, size_t n, int *out) {
  static const char *yes[] = {"1", "true", "on"}, *no[] = {"0", "false", "off"};
  for (int i = 0; i < 3; ++i) {
    if (textIs(s, n, yes[i]))
      return *out = 1, 0;
    if (textIs(s, n, no[i]))
      return *out = 0, 0;
  }
  return -1;
}

static const char *choiceAt(const OptRow *r, int i) {
  return r->choices ? r->choices[i] : r->choiceName(i);
}

/* The position of s[0..n) among r's choices, or -1. */
static int findChoice(const OptRow *r, const char *s, size_t n) {
  for (int i = 0; choiceAt(r, i); ++i)
    if (textIs(s, n, choiceAt(r, i)))
      return i;
  return -1;
}

/* "a, b or c" into buf. */
static void listChoices(const OptRow *r, char *buf, size_t size) {
  int n = 0;
  while (choiceAt(r, n))
    ++n;
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < n && at < size; ++i) {
    const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
    int w = snprintf(buf + at, size - at, "%s%s", sep, choiceAt(r, i));
    at += w > 0 ? (size_t)w : 0;
  }
}

/* Option values may be quoted ('...' or "...") or braced ({...}, as MLIR's
 * pass options): a value with spaces, or a selector with a comma, stays
 * one. The end of the quoted run starting at s[i] (a quote), or n when it
 * is not closed. */
static size_t skipQuoted(const char *s, size_t i, size_t n) {
  char q = s[i];
  for (++i; i < n; ++i)
    if (s[i] == q)
      return i + 1;
  return n + 1;
}

static bool isQuote(char c) { return c == '"' || c == '\''; }

/* Strips one pair of quotes enclosing all of s[0..*n). */
static const char *unquote(const char *s, size_t *n) {
  if (*n >= 2 && isQuote(s[0]) && s[*n - 1] == s[0]) {
    *n -= 2;
    return s + 1;
  }
  return s;
}

/* The end of the item starting at s[i]: the first `stop` outside quotes
 * (or n); n + 1 when a quote is not closed. */
static size_t itemEnd(const char *s, size_t i, size_t n, char stop) {
  while (i < n && s[i] != stop)
    i = isQuote(s[i]) ? skipQuoted(s, i, n) : i + 1;
  return i;
}

/* A selector: `#N`, `#N..M` or a glob. */
static int parseSelector(const char *s, size_t n, ClustercSelector *sel) {
  memset(sel, 0, sizeof *sel);
  if (n == 0)
    return -1;
  if (s[0] == '#') {
    const char *dots = NULL;
    for (size_t i = 1; i + 1 < n; ++i)
      if (s[i] == '.' && s[i + 1] == '.') {
        dots = s + i;
        break;
      }
    if (!dots)
      return parseInt(s + 1, n - 1, INT32_MIN, INT32_MAX, &sel->lo) ? -1
             : (sel->hi = sel->lo, 0);
    if (parseInt(s + 1, (size_t)(dots - s - 1), INT32_MIN, INT32_MAX, &sel->lo) ||
        parseInt(dots + 2, (size_t)(s + n - dots - 2), INT32_MIN, INT32_MAX,
                 &sel->hi))
      return -1;
    return 0;
  }
  if (!(sel->glob = strndup(s, n)))
    return -1;
  return 0;
}

/* Appends to a selector list; list items are split at commas. For
 * OPT_OVERRIDES each item ends in `:K` (or `:skip`), split at the last
 * colon, K in [r->lo, r->hi]. */
static int parseSelectorList(const OptRow *r, const char *s, size_t n,
                             ClustercSelector **list, size_t *count,
                             char *err, size_t esz) {
  bool withK = r->kind == OPT_OVERRIDES;
  size_t start = 0;
  while (start <= n) {
    size_t end = itemEnd(s, start, n, ',');
    if (end > n)
      return fail(err, esz, "%s: unterminated quote in '%.*s'", r->name, (int)n, s);
    const char *item = s + start;
    size_t len = end - start, selLen = len;
    int64_t k = 0;
    if (withK) {
      size_t colon = len;
      while (colon > 0 && item[colon - 1] != ':')
        --colon;
      if (colon == 0)
        return fail(err, esz, "layer override '%.*s' needs ':K' (a cluster "
                    "count or 'skip')", (int)len, item);
      selLen = colon - 1;
      const char *ks = item + colon;
      size_t kl = len - colon;
      if (!textIs(ks, kl, "skip") && parseInt(ks, kl, r->lo, r->hi, &k))
        return fail(err, esz, "layer override '%.*s': cluster count must be "
                    "%lld..%lld or 'skip'", (int)len, item, (long long)r->lo,
                    (long long)r->hi);
    }
    ClustercSelector sel;
    const char *selText = item;
    if (selLen && isQuote(item[0]))
      selText = unquote(item, &selLen);
    if (parseSelector(selText, selLen, &sel))
      return fail(err, esz, "bad layer selector '%.*s' (expected a glob, #N "
                  "or #N..M)", (int)selLen, selText);
    sel.k = (unsigned)k;
    ClustercSelector *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (!grown) {
      free(sel.glob);
      return fail(err, esz, "out of memory");
    }
    *list = grown;
    grown[(*count)++] = sel;
    start = end + 1;
  }
  return 0;
}

/* Applies `name[=value]` (val NULL without '=') to row r of o. */
static int apply(const OptRow *r, void *o, const char *val, size_t vl,
                 char *err, size_t esz) {
  void *field = fieldOf(o, r);
  if (val && r->kind != OPT_SELECTORS && r->kind != OPT_OVERRIDES)
    val = unquote(val, &vl);
  const char *shown = val ? val : "";
  switch (r->kind) {
  case OPT_INT: {
    int64_t v;
    if (val && !parseInt(val, vl, r->lo, r->hi, &v)) {
      storeInt(field, r->size, v);
      return 0;
    }
    if (r->lo == 0 && r->hi == INT64_MAX)
      return fail(err, esz, "%s must be a non-negative integer, got '%.*s'",
                  r->name, (int)vl, shown);
    return fail(err, esz, "%s must be an integer in %lld..%lld%s%s, got '%.*s'",
                r->name, (long long)r->lo, (long long)r->hi, r->note ? " " : "",
                r->note ? r->note : "", (int)vl, shown);
  }
  case OPT_DOUBLE: {
    char buf[64];
    char *end = buf;
    double d = 0;
    if (val && vl && vl < sizeof buf) {
      memcpy(buf, val, vl);
      buf[vl] = 0;
      errno = 0;
      d = strtod(buf, &end);
    }
    if (val && vl && vl < sizeof buf && end != buf && !*end && !errno && isfinite(d) &&
        d >= r->dlo && d <= r->dhi) {
      memcpy(field, &d, sizeof d);
      return 0;
    }
    return fail(err, esz, "%s must be a number in %g..%g%s%s, got '%.*s'", r->name,
                r->dlo, r->dhi, r->note ? " " : "", r->note ? r->note : "", (int)vl, shown);
  }
  case OPT_BOOL: {
    int b = 1;
    if (val && parseBool(val, vl, &b))
      return fail(err, esz, "%s expects true or false", r->name);
    storeInt(field, r->size, b);
    return 0;
  }
  case OPT_ENUM: {
    int i = val ? findChoice(r, val, vl) : -1;
    if (i >= 0) {
      storeInt(field, r->size, i);
      return 0;
    }
    char expected[256];
    listChoices(r, expected, sizeof expected);
    return fail(err, esz, "unknown %s '%.*s' (expected %s)", r->name, (int)vl,
                shown, expected);
  }
  case OPT_STRING: {
    char **s = field;
    if (!val || !vl)
      return fail(err, esz, "%s needs %s", r->name, r->note ? r->note : "a value");
    char *copy = strndup(val, vl);
    if (!copy)
      return fail(err, esz, "out of memory");
    free(*s);
    *s = copy;
    return 0;
  }
  case OPT_SELECTORS:
  case OPT_OVERRIDES:
    if (!val || !vl)
      return fail(err, esz, "%s needs a value", r->name);
    return parseSelectorList(r, val, vl, field, countOf(o, r), err, esz);
  }
  return fail(err, esz, "internal error: option kind of '%s'", r->name);
}

/* Parses text with tables[0..n), each setting fields of objs[i]. */
static int optParse(const OptTable *const *tables, void *const *objs, size_t n,
                    const char *text, size_t len, char *err, size_t esz) {
  if (esz)
    err[0] = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && isspace((unsigned char)text[i]))
      ++i;
    if (i == len)
      break;
    size_t kb = i;
    while (i < len && text[i] != '=' && !isspace((unsigned char)text[i]))
      ++i;
    const char *key = text + kb;
    size_t kl = i - kb;
    const char *val = NULL;
    size_t vl = 0;
    if (i < len && text[i] == '=') {
      size_t vb = ++i;
      if (i < len && text[i] == '{') {
        /* {...}: up to the matching brace (quotes inside kept). */
        int depth = 0;
        for (; i < len; i = isQuote(text[i]) ? skipQuoted(text, i, len) : i + 1) {
          depth += text[i] == '{';
          if (text[i] == '}' && !--depth)
            break;
        }
        if (i >= len)
          return fail(err, esz, "%.*s: unterminated '{' in the value", (int)kl, text + kb);
        val = text + vb + 1;
        vl = i++ - vb - 1;
      } else {
        while (i < len && !isspace((unsigned char)text[i]))
          i = isQuote(text[i]) ? skipQuoted(text, i, len) : i + 1;
        if (i > len)
          return fail(err, esz, "%.*s: unterminated quote in the value", (int)kl,
                      text + kb);
        val = text + vb;
        vl = i - vb;
      }
    }
    const OptRow *row = NULL;
    void *obj = NULL;
    for (size_t t = 0; t < n && !row; ++t)
      for (size_t j = 0; j < tables[t]->numRows && !row; ++j)
        if (textIs(key, kl, tables[t]->rows[j].name)) {
          row = &tables[t]->rows[j];
          obj = objs[t];
        }
    if (!row)
      return fail(err, esz, "unknown option '%.*s' of %s", (int)kl, key,
                  tables[0]->pass);
    if (apply(row, obj, val, vl, err, esz))
      return -1;
  }
  return 0;
}

/* ---- The public entry points (clusterc/passes.h) -------------------------------- */

void clustercClusterWeightsOptionsInit(ClustercClusterWeightsOptions *o) {
  optInit(&optClusterWeights, o);
}

void clustercClusterWeightsOptionsFree(ClustercClusterWeightsOptions *o) {
  optFree(&optClusterWeights, o);
}

int clustercClusterWeightsOptionsCopy(ClustercClusterWeightsOptions *dst,
                                      const ClustercClusterWeightsOptions *src) {
  *dst = *src;
  return optCopyOwned(&optClusterWeights, dst, src);
}

int clustercClusterWeightsOptionsParse(ClustercClusterWeightsOptions *o,
                                       const char *text, size_t len,
                                       char *err, size_t esz) {
  const OptTable *tables[1] = {&optClusterWeights};
  void *objs[1] = {o};
  return optParse(tables, objs, 1, text, len, err, esz);
}

int clustercClusterWeightsOptionsCheck(const ClustercClusterWeightsOptions *o,
                                       char *err, size_t esz) {
  char buf[256];
  const char *why = paletteCheckOptions(o, buf, sizeof buf);
  return why ? fail(err, esz, "%s", why) : 0;
}

void clustercClusterTrainOptionsInit(ClustercClusterTrainOptions *o) {
  optInit(&optClusterTrain, o);
  optInit(&optClusterWeights, &o->cluster);
}

void clustercClusterTrainOptionsFree(ClustercClusterTrainOptions *o) {
  optFree(&optClusterWeights, &o->cluster);
  optFree(&optClusterTrain, o);
}

int optClusterTrainCopy(ClustercClusterTrainOptions *dst,
                        const ClustercClusterTrainOptions *src) {
  *dst = *src;
  if (optCopyOwned(&optClusterWeights, &dst->cluster, &src->cluster)) {
    forgetOwned(&optClusterTrain, dst, 0);
    return -1;
  }
  if (optCopyOwned(&optClusterTrain, dst, src)) {
    optFree(&optClusterWeights, &dst->cluster);
    return -1;
  }
  return 0;
}

int clustercClusterTrainOptionsParse(ClustercClusterTrainOptions *o,
                                     const char *text, size_t len, char *err,
                                     size_t esz) {
  const OptTable *tables[2] = {&optClusterTrain, &optClusterWeights};
  void *objs[2] = {o, &o->cluster};
  return optParse(tables, objs, 2, text, len, err, esz);
}
