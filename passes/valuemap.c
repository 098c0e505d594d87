/* Open-addressing map keyed by MlirValue pointers; see valuemap.h.
 * Invariant: count < cap / 2, cap a power of two (or 0). */
#include "valuemap.h"

#include <stdint.h>
#include <stdlib.h>

void vmInit(ValueMap *m) { *m = (ValueMap){0}; }

void vmFree(ValueMap *m) {
  free(m->keys);
  free(m->vals);
  vmInit(m);
}

static size_t slot(const ValueMap *m, const void *k) {
  uintptr_t h = (uintptr_t)k;
  h ^= h >> 17;
  h *= 0x9e3779b97f4a7c15ull;
  size_t i = (size_t)(h >> 7) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != k)
    i = (i + 1) & (m->cap - 1);
  return i;
}

static bool rehash(ValueMap *m, size_t cap) {
  ValueMap n = {calloc(cap, sizeof(void *)), calloc(cap, sizeof(MlirValue)), cap, 0};
  if (!n.keys || !n.vals) {
    free(n.keys);
    free(n.vals);
    return false;
  }
  for (size_t i = 0; i < m->cap; ++i)
    if (m->keys[i]) {
      size_t j = slot(&n, m->keys[i]);
      n.keys[j] = m->keys[i];
      n.vals[j] = m->vals[i];
      n.count++;
    }
  vmFree(m);
  *m = n;
  return true;
}

bool vmPut(ValueMap *m, MlirValue k, MlirValue v) {
  if (2 * (m->count + 1) > m->cap && !rehash(m, m->cap ? 2 * m->cap : 64))
    return false;
  size_t i = slot(m, k.ptr);
  if (!m->keys[i]) {
    m->keys[i] = k.ptr;
    m->count++;
  }
  m->vals[i] = v;
  return true;
}

MlirValue vmGet(const ValueMap *m, MlirValue k) {
  if (!m->cap)
    return (MlirValue){NULL};
  size_t i = slot(m, k.ptr);
  return m->keys[i] ? m->vals[i] : (MlirValue){NULL};
}

bool vmHas(const ValueMap *m, MlirValue k) { return !mlirValueIsNull(vmGet(m, k)); }
