/*
 * Which weights the options select, what they are called, and the seed each
 * gets: the rules cluster-weights and cluster-train share, so that both
 * passes pick, name and initialise the same weights from the same options
 * (see weights.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi-ext.h"
#include "mlir-c/Diagnostics.h"
#include "weights.h"

static bool selectorMatches(const ClustercSelector *s, const char *name,
                            int index, int count) {
  if (s->glob)
    return fnmatch(s->glob, name, 0) == 0;
  if (index < 0)
    return false;
  int64_t lo = s->lo < 0 ? s->lo + count : s->lo;
  int64_t hi = s->hi < 0 ? s->hi + count : s->hi;
  return index >= 0 && index >= lo && index <= hi;
}

bool weightsSelectorsMatch(const ClustercSelector *s, size_t n, const char *name,
                           int index, int count) {
  for (size_t i = 0; i < n; ++i)
    if (selectorMatches(&s[i], name, index, count))
      return true;
  return false;
}

bool weightsForced(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                   const char *name) {
  if (!o->force || ci->role == ROLE_WEIGHT || !weightsIsFloat(ci->elem))
    return false;
  for (size_t i = 0; i < o->num_only; ++i)
    if (o->only[i].glob && selectorMatches(&o->only[i], name, -1, 0))
      return true;
  return false;
}

unsigned weightsSelectK(const ClustercClusterWeightsOptions *o, const ConstInfo *ci,
                        const char *name, int index, int count,
                        const char **why) {
  if (o->num_op_types && ci->role == ROLE_WEIGHT) {
    char op[128] = "";
    if (!mlirOperationIsNull(ci->consumer)) {
      MlirStringRef s = mlirIdentifierStr(mlirOperationGetName(ci->consumer));
      snprintf(op, sizeof op, "%.*s", (int)s.length, s.data);
    }
    bool any = false;
    for (size_t i = 0; i < o->num_op_types && !any; ++i)
      any = selectorMatches(&o->op_types[i], op, -1, 0);
    if (!any) {
      *why = "not selected by op-type=";
      return 0;
    }
  }
  if (o->num_only) {
    if (!weightsSelectorsMatch(o->only, o->num_only, name, index, count)) {
      *why = "not selected by only=";
      return 0;
    }
  }
  unsigned k = o->clusters;
  for (size_t i = 0; i < o->num_layers; ++i) /* the last match wins */
    if (selectorMatches(&o->layers[i], name, index, count)) {
      k = o->layers[i].k;
      if (!k)
        *why = "skipped by layers=";
    }
  return k;
}

/* "a, b, c, ..." of the first names, into buf. */
static void someNames(const char *const *names, int n, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < n && at + 1 < size; ++i) {
    int w = snprintf(buf + at, size - at, i == 0 ? "%s" : i < 8 ? ", %s" : ", ...",
                     names[i]);
    at += w > 0 ? (size_t)w : 0;
    if (i == 8)
      break;
  }
}

static bool checkList(const char *pass, const char *option, const ClustercSelector *sel,
                      size_t numSel, const char *const *names, int n, int numNames,
                      bool allow, MlirLocation loc) {
  bool ok = true;
  for (size_t s = 0; s < numSel; ++s) {
    bool hit = false;
    for (int i = 0; i < numNames && !hit; ++i) /* forced constants have no index */
      hit = selectorMatches(&sel[s], names[i], i < n ? i : -1, n);
    if (hit)
      continue;
    /* what: the selector as the message names it ('glob', #i, #i..j);
     * text: the option's entry as written (quoted when it must be), so
     * the message names the flag and its value: a module has no location
     * for an option, and the run may have several selectors. */
    char what[256], text[300], list[512], msg[1200];
    const char *g = sel[s].glob;
    if (g)
      snprintf(what, sizeof what, "'%s'", g);
    else if (sel[s].lo == sel[s].hi)
      snprintf(what, sizeof what, "#%lld", (long long)sel[s].lo);
    else
      snprintf(what, sizeof what, "#%lld..%lld", (long long)sel[s].lo,
               (long long)sel[s].hi);
    bool quote = g && g[strcspn(g, " ,\"'{}")];
    int at = snprintf(text, sizeof text, quote ? "\"%s\"" : "%s", g ? g : what);
    if (strcmp(option, "layers") == 0 && at > 0 && (size_t)at < sizeof text) {
      if (sel[s].k)
        snprintf(text + at, sizeof text - at, ":%u", sel[s].k);
      else
        snprintf(text + at, sizeof text - at, ":skip");
    }
    someNames(names, n, list, sizeof list);
    snprintf(msg, sizeof msg, "%s: the %s= selector %s (option %s=%s; clusterc --%s) "
             "matches no weight (the %d weights: %s)%s", pass, option, what, option, text,
             option, n, n ? list : "none",
             allow ? "" : "; allow-empty-selection makes this a warning");
    if (allow) {
      clustercEmitWarning(loc, msg);
    } else {
      mlirEmitError(loc, msg);
      ok = false;
    }
  }
  return ok;
}

bool weightsCheckSelectors(const char *pass, const ClustercClusterWeightsOptions *o,
                           const char *const *names, int n, int numNames,
                           MlirLocation loc) {
  bool allow = o->allow_empty_selection;
  bool a = checkList(pass, "only", o->only, o->num_only, names, n, numNames, allow, loc);
  bool b = checkList(pass, "layers", o->layers, o->num_layers, names, n, numNames, allow,
                     loc);
  return a && b;
}

char *weightsLayerName(const ConstInfo *ci, int index) {
  MlirStringRef s;
  if (ci->loads && !clustercLocationGetName(mlirOperationGetLocation(ci->op), &s))
    return weightsStrDup(weightsGlobalName(ci->op));
  if (clustercLocationGetName(mlirOperationGetLocation(ci->op), &s) ||
      (!mlirOperationIsNull(ci->consumer) &&
       clustercLocationGetName(mlirOperationGetLocation(ci->consumer), &s)))
    return weightsStrDup(s);
  unsigned line, col;
  char buf[512];
  if (clustercLocationGetFileLineCol(mlirOperationGetLocation(ci->op), &s,
                                     &line, &col)) {
    /* The file's base name: a path says nothing about the layer. */
    for (size_t i = s.length; i > 0; --i)
      if (s.data[i - 1] == '/') {
        s = mlirStringRefCreate(s.data + i, s.length - i);
        break;
      }
    snprintf(buf, sizeof buf, "%.*s:%u:%u", (int)s.length, s.data, line, col);
  }
  else
    snprintf(buf, sizeof buf, "weight#%d", index);
  return weightsStrDup(mlirStringRefCreateFromCString(buf));
}

uint64_t weightsSplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t weightsSeed(uint64_t seed, int index) {
  return weightsSplitMix64(seed ^ weightsSplitMix64((uint64_t)index));
}

/* ---- Numbering -------------------------------------------------------------
 * Weights are numbered in the order their consumers execute: the pre-order
 * walk of the function bodies, which is program order. The constants
 * themselves may come in any order (torch-mlir hoists them, last layer
 * first). Weights sharing a consumer keep their walk order. */

typedef struct Numbering {
  const ConstInfo *const *items;
  size_t n;
  size_t *pos; /* per item: its consumer's position in the walk */
  size_t at;
} Numbering;

static MlirWalkResult numberOp(MlirOperation op, void *user) {
  Numbering *nb = user;
  for (size_t i = 0; i < nb->n; ++i)
    if (nb->items[i]->role == ROLE_WEIGHT && mlirOperationEqual(nb->items[i]->consumer, op))
      nb->pos[i] = nb->at;
  nb->at++;
  return MlirWalkResultAdvance;
}

typedef struct Ranked {
  size_t pos, item;
} Ranked;

static int byPosition(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->pos != y->pos)
    return x->pos < y->pos ? -1 : 1;
  return x->item < y->item ? -1 : x->item > y->item;
}

bool weightsNumber(MlirOperation root, const ConstInfo *const *items, size_t n,
                   int *index) {
  size_t *pos = malloc(sizeof *pos * (n ? n : 1));
  Ranked *r = malloc(sizeof *r * (n ? n : 1));
  if (!pos || !r) {
    free(pos);
    free(r);
    return false;
  }
  for (size_t i = 0; i < n; ++i)
    pos[i] = SIZE_MAX; /* a consumer outside root: after the others */
  Numbering nb = {items, n, pos, 0};
  mlirOperationWalk(root, numberOp, &nb, MlirWalkPreOrder);
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    index[i] = -1;
    if (items[i]->role == ROLE_WEIGHT)
      r[m++] = (Ranked){pos[i], i};
  }
  qsort(r, m, sizeof *r, byPosition);
  for (size_t k = 0; k < m; ++k)
    index[r[k].item] = (int)k;
  free(pos);
  free(r);
  return true;
}
