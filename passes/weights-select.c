/*
 * Which weights the options select, what they are called, and the seed each
 * gets: the rules cluster-weights and cluster-train share, so that both
 * passes pick, name and initialise the same weights from the same options
 * (see weights.h).
 */
#include <fnmatch.h>
#include <stdio.h>

#include "capi-ext.h"
#include "weights.h"

static bool selectorMatches(const ClustercSelector *s, const char *name,
                            int index, int count) {
  if (s->glob)
    return fnmatch(s->glob, name, 0) == 0;
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

unsigned weightsSelectK(const ClustercClusterWeightsOptions *o,
                        const char *name, int index, int count,
                        const char **why) {
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
