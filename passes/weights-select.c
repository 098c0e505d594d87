/*
 * Which weights the options select, what they are called, and the seed each
 * gets: the rules cluster-weights and cluster-train share, so that both
 * passes pick, name and initialise the same weights from the same options
 * (see weights.h).
 */
#include <fnmatch.h>
#include <stdio.h>

#include "capi-ext.h"
#include "mlir-c/Diagnostics.h"
#include "weights.h"

static bool selectorMatches(const ClustercSelector *s, const char *name,
                            int index, int count) {
  if (s->glob)
    return fnmatch(s->glob, name, 0) == 0;
  int64_t lo = s->lo < 0 ? s->lo + count : s->lo;
  int64_t hi = s->hi < 0 ? s->hi + count : s->hi;
  return index >= lo && index <= hi;
}

unsigned weightsSelectK(const ClustercClusterWeightsOptions *o,
                        const char *name, int index, int count,
                        const char **why) {
  if (o->num_only) {
    bool any = false;
    for (size_t i = 0; i < o->num_only && !any; ++i)
      any = selectorMatches(&o->only[i], name, index, count);
    if (!any) {
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
                      size_t numSel, const char *const *names, int n, bool allow,
                      MlirLocation loc) {
  bool ok = true;
  for (size_t s = 0; s < numSel; ++s) {
    bool hit = false;
    for (int i = 0; i < n && !hit; ++i)
      hit = selectorMatches(&sel[s], names[i], i, n);
    if (hit)
      continue;
    char what[256], list[512], msg[1024];
    if (sel[s].glob)
      snprintf(what, sizeof what, "'%s'", sel[s].glob);
    else if (sel[s].lo == sel[s].hi)
      snprintf(what, sizeof what, "#%lld", (long long)sel[s].lo);
    else
      snprintf(what, sizeof what, "#%lld..%lld", (long long)sel[s].lo,
               (long long)sel[s].hi);
    someNames(names, n, list, sizeof list);
    snprintf(msg, sizeof msg, "%s: the %s= selector %s matches no weight (the %d "
             "weights: %s)%s", pass, option, what, n, n ? list : "none",
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
                           const char *const *names, int n, MlirLocation loc) {
  bool allow = o->allow_empty_selection;
  bool a = checkList(pass, "only", o->only, o->num_only, names, n, allow, loc);
  bool b = checkList(pass, "layers", o->layers, o->num_layers, names, n, allow, loc);
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
                                     &line, &col))
    snprintf(buf, sizeof buf, "%.*s:%u:%u", (int)s.length, s.data, line, col);
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
