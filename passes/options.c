/*
 * Option text of the cluster-weights pass (syntax in clusterc/passes.h).
 *
 * The same parser serves the pass-pipeline form, the C API and the driver's
 * flags (the driver turns `--clusters=8` into `clusters=8`), so every entry
 * point accepts exactly the same values and reports the same errors.
 */
#include "clusterc/passes.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void clustercClusterWeightsOptionsInit(ClustercClusterWeightsOptions *o) {
  memset(o, 0, sizeof *o);
  o->clusters = 16;
  o->init = CLUSTERRT_INIT_KMEANSPP;
  o->min_elements = 128;
  o->channel_axis = -1;
}

static void freeSelectors(ClustercSelector *s, size_t n) {
  for (size_t i = 0; i < n; ++i)
    free(s[i].glob);
  free(s);
}

void clustercClusterWeightsOptionsFree(ClustercClusterWeightsOptions *o) {
  freeSelectors(o->layers, o->num_layers);
  freeSelectors(o->only, o->num_only);
  o->layers = o->only = NULL;
  o->num_layers = o->num_only = 0;
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

int clustercClusterWeightsOptionsCopy(ClustercClusterWeightsOptions *dst,
                                      const ClustercClusterWeightsOptions *src) {
  *dst = *src;
  dst->layers = dst->only = NULL;
  if (copySelectors(&dst->layers, src->layers, src->num_layers) ||
      copySelectors(&dst->only, src->only, src->num_only)) {
    freeSelectors(dst->layers, src->num_layers);
    dst->layers = NULL;
    dst->num_layers = dst->num_only = 0;
    return -1;
  }
  return 0;
}

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

static int parseBool(const char *s, size_t n, int *out) {
  static const char *yes[] = {"1", "true", "on"}, *no[] = {"0", "false", "off"};
  for (int i = 0; i < 3; ++i) {
    if (strlen(yes[i]) == n && !memcmp(s, yes[i], n))
      return *out = 1, 0;
    if (strlen(no[i]) == n && !memcmp(s, no[i], n))
      return *out = 0, 0;
  }
  return -1;
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

/* Appends to a selector list; list items are split at commas. With
 * `withK`, each item ends in `:K` (or `:skip`), split at the last colon. */
static int parseSelectorList(const char *s, size_t n, int withK,
                             ClustercSelector **list, size_t *count,
                             char *err, size_t esz) {
  size_t start = 0;
  while (start <= n) {
    size_t end = start;
    while (end < n && s[end] != ',')
      ++end;
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
      if (!(kl == 4 && !memcmp(ks, "skip", 4)) &&
          parseInt(ks, kl, 1, CLUSTERRT_MAX_K, &k))
        return fail(err, esz, "layer override '%.*s': cluster count must be "
                    "1..%u or 'skip'", (int)len, item, CLUSTERRT_MAX_K);
    }
    ClustercSelector sel;
    if (parseSelector(item, selLen, &sel))
      return fail(err, esz, "bad layer selector '%.*s' (expected a glob, #N "
                  "or #N..M)", (int)selLen, item);
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

int clustercClusterWeightsOptionsParse(ClustercClusterWeightsOptions *o,
                                       const char *text, size_t len,
                                       char *err, size_t esz) {
  size_t i = 0;
  if (esz)
    err[0] = 0;
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
      while (i < len && !isspace((unsigned char)text[i]))
        ++i;
      val = text + vb;
      vl = i - vb;
    }
#define KEY(s) (kl == strlen(s) && !memcmp(key, s, kl))
    int64_t v;
    if (KEY("clusters")) {
      if (!val || parseInt(val, vl, 1, CLUSTERRT_MAX_K, &v))
        return fail(err, esz, "clusters must be an integer in 1..%u, got '%.*s'",
                    CLUSTERRT_MAX_K, (int)vl, val ? val : "");
      o->clusters = (unsigned)v;
    } else if (KEY("init")) {
      if (!val || clusterrt_init_parse(val, vl, &o->init))
        return fail(err, esz, "unknown init '%.*s' (expected linear, random, "
                    "density, kmeans++ or kmeans1d)", (int)vl, val ? val : "");
    } else if (KEY("seed")) {
      if (!val || parseInt(val, vl, 0, INT64_MAX, &v))
        return fail(err, esz, "seed must be a non-negative integer");
      o->seed = (uint64_t)v;
    } else if (KEY("min-elements")) {
      if (!val || parseInt(val, vl, 0, INT64_MAX, &v))
        return fail(err, esz, "min-elements must be a non-negative integer");
      o->min_elements = (uint64_t)v;
    } else if (KEY("threads")) {
      if (!val || parseInt(val, vl, 0, 1024, &v))
        return fail(err, esz, "threads must be an integer in 0..1024 (0: one "
                    "per core), got '%.*s'", (int)vl, val ? val : "");
      o->threads = (unsigned)v;
    } else if (KEY("channel-axis")) {
      if (!val || parseInt(val, vl, -1, 64, &v))
        return fail(err, esz, "channel-axis must be an integer in -1..64");
      o->channel_axis = (int)v;
    } else if (KEY("per-channel") || KEY("preserve-sparsity")) {
      int b = 1;
      if (val && parseBool(val, vl, &b))
        return fail(err, esz, "%.*s expects true or false", (int)kl, key);
      *(KEY("per-channel") ? &o->per_channel : &o->preserve_sparsity) = b;
    } else if (KEY("decode")) {
      if (val && vl == 7 && !memcmp(val, "generic", 7))
        o->decode = CLUSTERC_DECODE_GENERIC;
      else if (val && vl == 4 && !memcmp(val, "fold", 4))
        o->decode = CLUSTERC_DECODE_FOLD;
      else if (val && vl == 7 && !memcmp(val, "runtime", 7))
        o->decode = CLUSTERC_DECODE_RUNTIME;
      else
        return fail(err, esz, "unknown decode '%.*s' (expected generic, fold "
                    "or runtime)", (int)vl, val ? val : "");
    } else if (KEY("layers") || KEY("only")) {
      int layers = KEY("layers");
      if (!val || !vl)
        return fail(err, esz, "%.*s needs a value", (int)kl, key);
      if (parseSelectorList(val, vl, layers, layers ? &o->layers : &o->only,
                            layers ? &o->num_layers : &o->num_only, err, esz))
        return -1;
    } else {
      return fail(err, esz, "unknown option '%.*s' of cluster-weights", (int)kl,
                  key);
    }
#undef KEY
  }
  return 0;
}
