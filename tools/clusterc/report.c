/* The per-layer report; see report.h. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

void reportInit(Report *r) { memset(r, 0, sizeof *r); }

static const char *const *stringFields(const ClustercLayerReport *row, int i) {
  const char *const *f[] = {&row->name,   &row->consumer, &row->role,
                            &row->dtype,  &row->form,     &row->reason,
                            &row->init,   &row->decode_kept};
  return i < 8 ? f[i] : NULL;
}
enum { NUM_STRINGS = 8 };

void reportFree(Report *r) {
  for (size_t i = 0; i < r->count; ++i) {
    for (int s = 0; s < NUM_STRINGS; ++s)
      free((char *)*stringFields(&r->rows[i], s));
    free((int64_t *)r->rows[i].shape);
  }
  free(r->rows);
  reportInit(r);
}

void reportAdd(const ClustercLayerReport *row, void *user) {
  Report *r = user;
  if (r->count == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 16;
    ClustercLayerReport *g = realloc(r->rows, cap * sizeof *g);
    if (!g) {
      r->oom = 1;
      return;
    }
    r->rows = g;
    r->cap = cap;
  }
  ClustercLayerReport *d = &r->rows[r->count];
  *d = *row;
  for (int s = 0; s < NUM_STRINGS; ++s) {
    const char **field = (const char **)stringFields(d, s);
    *field = strdup(*field ? *field : "");
    if (!*field)
      r->oom = 1;
  }
  int64_t *shape = malloc(sizeof(int64_t) * (size_t)(row->rank ? row->rank : 1));
  if (shape)
    memcpy(shape, row->shape, sizeof(int64_t) * (size_t)row->rank);
  else
    r->oom = 1;
  d->shape = shape;
  d->centroids = NULL; /* borrowed for the call only */
  d->indices = NULL;
  r->count++;
}

static void shapeText(const ClustercLayerReport *row, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = 0;
  if (row->rank == 0)
    snprintf(buf, size, "scalar");
  for (intptr_t i = 0; i < row->rank && at < size; ++i)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "x" : "",
                           (long long)row->shape[i]);
}

typedef struct Totals {
  unsigned weights, clustered;
  uint64_t before, after, weightBefore;
  uint64_t elements; /* of the clustered weights */
} Totals;

/* Totals over clustered weights, and all weights' original bytes. */
static Totals totals(const Report *r) {
  Totals t = {0};
  for (size_t i = 0; i < r->count; ++i) {
    const ClustercLayerReport *row = &r->rows[i];
    if (row->index >= 0) {
      t.weights++;
      t.weightBefore += row->bytes_before;
    }
    if (row->clustered) {
      t.clustered++;
      t.before += row->bytes_before;
      t.after += row->bytes_after;
      t.elements += row->elements;
    }
  }
  return t;
}

/* The byte budget of size-budget= or bits-budget= (as the pass computes
 * it), or 0. */
static uint64_t budgetBytes(const ClustercClusterWeightsOptions *o, const Totals *t) {
  return o->size_budget ? o->size_budget
                        : (uint64_t)(o->bits_budget * (double)t->elements / 8);
}

void reportPrintTable(const Report *r, const ClustercClusterWeightsOptions *o,
                      FILE *f) {
  fprintf(f, "cluster-weights: clusters=%u init=%s seed=%llu%s%s\n", o->clusters,
          clusterrt_init_name(o->init), (unsigned long long)o->seed,
          o->per_channel ? " per-channel" : "",
          o->preserve_sparsity ? " preserve-sparsity" : "");
  fprintf(f, "%4s  %-28s %-14s %-5s %6s %4s %12s %12s %7s %10s %8s\n", "#",
          "layer", "shape", "type", "K", "bits", "bytes", "clustered", "ratio",
          "MSE", "SQNR dB");
  for (size_t i = 0; i < r->count; ++i) {
    const ClustercLayerReport *row = &r->rows[i];
    char shape[64], idx[16];
    shapeText(row, shape, sizeof shape);
    snprintf(idx, sizeof idx, row->index >= 0 ? "%d" : "-", row->index);
    if (row->clustered) {
      char k[24];
      snprintf(k, sizeof k, row->tables > 1 ? "%ux%u" : "%u", row->tables > 1 ? row->tables : row->k, row->k);
      fprintf(f, "%4s  %-28s %-14s %-5s %6s %4u %12llu %12llu %6.2fx %10.3g %8.2f\n",
              idx, row->name, shape, row->dtype, k, row->bits,
              (unsigned long long)row->bytes_before,
              (unsigned long long)row->bytes_after,
              (double)row->bytes_before / (double)row->bytes_after, row->mse,
              row->sqnr_db);
    } else {
      fprintf(f, "%4s  %-28s %-14s %-5s %6s %4s %12llu %12s %7s  left as is: %s\n",
              idx, row->name, shape, row->dtype, "-", "-",
              (unsigned long long)row->bytes_before, "-", "-", row->reason);
    }
  }
  for (size_t i = 0; i < r->count; ++i)
    if (r->rows[i].clustered && *r->rows[i].decode_kept)
      fprintf(f, "decode kept: %s: %s\n", r->rows[i].name, r->rows[i].decode_kept);
  Totals t = totals(r);
  fprintf(f, "totals: %u of %u weights clustered; clustered weights %llu -> %llu bytes",
          t.clustered, t.weights, (unsigned long long)t.before,
          (unsigned long long)t.after);
  if (t.after)
    fprintf(f, " (%.2fx smaller)", (double)t.before / (double)t.after);
  fputc('\n', f);
  uint64_t budget = budgetBytes(o, &t);
  if (budget && o->decode == CLUSTERC_DECODE_FOLD)
    fprintf(f, "budget: %llu bytes (%s) for the stored form; decode=fold keeps the "
            "decoded floats\n", (unsigned long long)budget,
            o->size_budget ? "size-budget" : "bits-budget");
  else if (budget)
    fprintf(f, "budget: %llu bytes (%s); used %llu bytes (%.2f%%), %.3f bits per "
            "element\n", (unsigned long long)budget,
            o->size_budget ? "size-budget" : "bits-budget", (unsigned long long)t.after,
            100.0 * (double)t.after / (double)budget,
            t.elements ? 8.0 * (double)t.after / (double)t.elements : 0.0);
}

static void jsonString(Output *out, const char *s) {
  char buf[8];
  outputWrite(mlirStringRefCreate("\"", 1), out);
  for (; *s; ++s) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      snprintf(buf, sizeof buf, "\\%c", ch);
    else if (ch < 0x20)
      snprintf(buf, sizeof buf, "\\u%04x", ch);
    else
      buf[0] = (char)ch, buf[1] = 0;
    outputWrite(mlirStringRefCreateFromCString(buf), out);
  }
  outputWrite(mlirStringRefCreate("\"", 1), out);
}

static void jsonf(Output *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void jsonf(Output *out, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0)
    outputWrite(mlirStringRefCreate(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1), out);
}

/* JSON has no infinity: an exact reconstruction reports null. */
static void jsonNumber(Output *out, double v) {
  if (isfinite(v))
    jsonf(out, "%.9g", v);
  else
    jsonf(out, "null");
}

void reportWriteJson(const Report *r, const ClustercClusterWeightsOptions *o,
                     Output *out) {
  jsonf(out, "{\n  \"options\": {\"clusters\": %u, \"init\": ", o->clusters);
  jsonString(out, clusterrt_init_name(o->init));
  jsonf(out, ", \"seed\": %llu, \"per_channel\": %s, \"preserve_sparsity\": %s},\n"
        "  \"layers\": [",
        (unsigned long long)o->seed, o->per_channel ? "true" : "false",
        o->preserve_sparsity ? "true" : "false");
  for (size_t i = 0; i < r->count; ++i) {
    const ClustercLayerReport *row = &r->rows[i];
    jsonf(out, "%s\n    {\"index\": ", i ? "," : "");
    if (row->index >= 0)
      jsonf(out, "%d", row->index);
    else
      jsonf(out, "null");
    jsonf(out, ", \"name\": ");
    jsonString(out, row->name);
    jsonf(out, ", \"consumer\": ");
    jsonString(out, row->consumer);
    jsonf(out, ", \"role\": ");
    jsonString(out, row->role);
    jsonf(out, ", \"dtype\": ");
    jsonString(out, row->dtype);
    jsonf(out, ", \"form\": ");
    jsonString(out, row->form);
    jsonf(out, ", \"shape\": [");
    for (intptr_t d = 0; d < row->rank; ++d)
      jsonf(out, "%s%lld", d ? ", " : "", (long long)row->shape[d]);
    jsonf(out, "], \"elements\": %llu, \"clustered\": %s",
          (unsigned long long)row->elements, row->clustered ? "true" : "false");
    if (row->clustered) {
      jsonf(out, ", \"k_requested\": %u, \"k\": %u, \"tables\": %u, \"init\": ",
            row->k_requested, row->k, row->tables);
      jsonString(out, row->init);
      jsonf(out, ", \"bits\": %u, \"bytes_before\": %llu, \"bytes_after\": %llu, "
            "\"mse\": ", row->bits, (unsigned long long)row->bytes_before,
            (unsigned long long)row->bytes_after);
      jsonNumber(out, row->mse);
      jsonf(out, ", \"sqnr_db\": ");
      jsonNumber(out, row->sqnr_db);
      if (row->cluster_dim > 1 || row->per_channel_scale ||
          (row->table_type && strcmp(row->table_type, "float"))) {
        jsonf(out, ", \"cluster_dim\": %u, \"table_type\": ", row->cluster_dim);
        jsonString(out, row->table_type ? row->table_type : "float");
        jsonf(out, ", \"per_channel_scale\": %s", row->per_channel_scale ? "true" : "false");
      }
      if (*row->decode_kept) {
        jsonf(out, ", \"decode_kept\": ");
        jsonString(out, row->decode_kept);
      }
    } else {
      jsonf(out, ", \"bytes_before\": %llu, \"bytes_after\": %llu, \"reason\": ",
            (unsigned long long)row->bytes_before, (unsigned long long)row->bytes_after);
      jsonString(out, row->reason);
    }
    jsonf(out, "}");
  }
  Totals t = totals(r);
  jsonf(out, "\n  ],\n  \"totals\": {\"weights\": %u, \"clustered\": %u, "
        "\"bytes_before\": %llu, \"bytes_after\": %llu, \"all_weight_bytes\": %llu, "
        "\"ratio\": ",
        t.weights, t.clustered, (unsigned long long)t.before,
        (unsigned long long)t.after, (unsigned long long)t.weightBefore);
  jsonNumber(out, t.after ? (double)t.before / (double)t.after : 1.0);
  if (budgetBytes(o, &t))
    jsonf(out, ", \"budget_bytes\": %llu", (unsigned long long)budgetBytes(o, &t));
  jsonf(out, "}\n}\n");
}
