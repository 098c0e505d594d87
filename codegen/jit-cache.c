/*
 * The JIT's on-disk cache of compiled modules (see jit.c).
 *
 * An entry holds the object files the JIT compiled a module into (one per
 * code-generation partition, split-codegen.c), named by a BLAKE3 hash of
 * everything the objects depend on:
 *   - the module's text before lowering (locations are not printed: the same
 *     model read from another path hits the same entry);
 *   - the codegen options that change code: pipeline text, -O level, loop
 *     order, triple, CPU name and features (the host's for -mcpu=native);
 *   - clusterc's version, LLVM's version, and the identity of the binary
 *     the code generator is linked into (path, size, mtime): a rebuilt
 *     clusterc whose passes changed must not load objects of the old one.
 *
 * The number of partitions is not part of the key: any split of a module
 * defines and loads the same symbols and computes the same values, so an
 * entry one run stored with two objects serves a run that would have
 * compiled one (CLUSTERC_JIT_THREADS=1, a one-core machine) and back.
 *
 * File format (KEY.o in the cache directory):
 *   "clusterc-jit-2\n\0"   16 bytes of magic
 *   BLAKE3 of the payload  32 bytes
 *   payload size           8 bytes, little-endian
 *   payload                n (8 bytes), the n objects' sizes (8 bytes each),
 *                          then the n object files back to back; 1 <= n <=
 *                          CG_MAX_PARTS; every integer little-endian
 * A file that does not match (truncated, bit-flipped, another format) is
 * reported as corrupt; the caller recompiles and overwrites it. That
 * includes the one-object entries of format 1 ("clusterc-jit-1"), which
 * only a binary of before could have written: the binary's identity is
 * part of the key, so a new binary never looks them up in practice.
 *
 * Writes are atomic: the entry goes to a temporary file in the same
 * directory (O_EXCL, named after the pid) which is renamed over KEY.o, so
 * concurrent runs see either no entry or a whole one.
 *
 * Eviction: a hit touches its entry's mtime, and after each store the
 * other entries (KEY.o files, nothing else in the directory) are removed,
 * least recently used first, until all fit CLUSTERC_JIT_CACHE_MAX bytes (default
 * 1 GiB; a suffix K, M or G multiplies by 1024, 1024^2, 1024^3; 0 keeps
 * everything). The directory can be deleted at any time.
 */
#define _GNU_SOURCE /* dladdr */
#include "jit-cache.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clusterc/passes.h"
#include "llvm-c/blake3.h"
#include "llvm/Config/llvm-config.h"

static const char kMagic[16] = "clusterc-jit-2\n";
enum { HEADER = 16 + LLVM_BLAKE3_OUT_LEN + 8 };

static void hashBytes(llvm_blake3_hasher *h, const void *p, size_t n) {
  /* Length-prefixed, so adjacent fields cannot run into each other. */
  uint64_t len = n;
  llvm_blake3_hasher_update(h, &len, sizeof len);
  llvm_blake3_hasher_update(h, p, n);
}

static void hashString(llvm_blake3_hasher *h, const char *s) {
  hashBytes(h, s ? s : "", s ? strlen(s) : 0);
}

static void hashPrinted(MlirStringRef s, void *user) {
  llvm_blake3_hasher_update(user, s.data, s.length);
}

/* The binary that holds this code: path, size, mtime. */
static void hashBuild(llvm_blake3_hasher *h) {
  Dl_info info;
  struct stat st;
  if (dladdr((void *)hashBuild, &info) && info.dli_fname && !stat(info.dli_fname, &st)) {
    hashString(h, info.dli_fname);
    int64_t v[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
                    (int64_t)st.st_mtim.tv_nsec};
    llvm_blake3_hasher_update(h, v, sizeof v);
  } else {
    hashString(h, __DATE__ " " __TIME__); /* unknown: this compilation, at least */
  }
}

void cgJitCacheKey(MlirModule module, const ClustercCodegenOptions *o, const char *cpu,
                   const char *features, char hex[CG_JIT_KEY_CHARS + 1]) {
  llvm_blake3_hasher h;
  llvm_blake3_hasher_init(&h);
  hashString(&h, "clusterc " CLUSTERC_VERSION ", LLVM " LLVM_VERSION_STRING);
  hashBuild(&h);
  hashString(&h, o->pipeline ? o->pipeline : clustercCodegenDefaultPipeline());
  int32_t ints[4] = {o->optLevel, (int32_t)o->loopOrder, (int32_t)o->contractions,
                     (int32_t)o->noOutline};
  llvm_blake3_hasher_update(&h, ints, sizeof ints);
  hashString(&h, o->triple);
  hashString(&h, cpu);
  hashString(&h, features);
  hashString(&h, o->features);
  mlirOperationPrint(mlirModuleGetOperation(module), hashPrinted, &h);
  uint8_t out[LLVM_BLAKE3_OUT_LEN];
  llvm_blake3_hasher_finalize(&h, out, sizeof out);
  for (int i = 0; i < CG_JIT_KEY_CHARS / 2; ++i)
    snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

char *cgJitCacheDir(const ClustercCodegenOptions *o) {
  if (o->jitCacheDir)
    return strdup(o->jitCacheDir);
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  const char *base = xdg && xdg[0] == '/' ? xdg : NULL; /* XDG: relative paths are invalid */
  const char *tail = base ? "/clusterc/jit" : "/.cache/clusterc/jit";
  if (!base)
    base = home && home[0] ? home : NULL;
  if (!base)
    return NULL;
  size_t n = strlen(base) + strlen(tail) + 1;
  char *dir = malloc(n);
  if (dir)
    snprintf(dir, n, "%s%s", base, tail);
  return dir;
}

static char *entryPath(const char *dir, const char *key, const char *suffix) {
  size_t n = strlen(dir) + strlen(key) + strlen(suffix) + 2;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s%s", dir, key, suffix);
  return p;
}

static void payloadHash(const void *data, size_t size, uint8_t out[LLVM_BLAKE3_OUT_LEN]) {
  llvm_blake3_hasher h;
  llvm_blake3_hasher_init(&h);
  llvm_blake3_hasher_update(&h, data, size);
  llvm_blake3_hasher_finalize(&h, out, LLVM_BLAKE3_OUT_LEN);
}

static uint64_t getLE64(const char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= (uint64_t)(uint8_t)p[i] << (8 * i);
  return v;
}

static void putLE64(char *p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = (char)(v >> (8 * i));
}

/* The objects of a payload (see the format above); false when it is not
 * one. */
static bool unpack(const char *p, size_t len, CgJitObjects *objs) {
  uint64_t n = len >= 8 ? getLE64(p) : 0;
  if (n < 1 || n > CG_MAX_PARTS || len < 8 + 8 * n)
    return false;
  uint64_t at = 8 + 8 * n;
  objs->n = (unsigned)n;
  for (unsigned i = 0; i < n; ++i) {
    uint64_t size = getLE64(p + 8 + 8 * i);
    if (size > len - at)
      return false;
    objs->data[i] = p + at;
    objs->size[i] = (size_t)size;
    at += size;
  }
  return at == len;
}

/* Reads all of fd into a malloc'd buffer. */
static char *readAll(int fd, size_t *size) {
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 0)
    return NULL;
  size_t n = (size_t)st.st_size, at = 0;
  char *buf = malloc(n ? n : 1);
  while (buf && at < n) {
    ssize_t r = read(fd, buf + at, n - at);
    if (r <= 0) {
      if (r < 0 && errno == EINTR)
        continue;
      free(buf);
      return NULL;
    }
    at += (size_t)r;
  }
  *size = n;
  return buf;
}

CgCacheResult cgJitCacheRead(const char *dir, const char *key, void **data, CgJitObjects *objs) {
  *data = NULL;
  objs->n = 0;
  char *path = entryPath(dir, key, ".o");
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  free(path);
  if (fd < 0)
    return CG_CACHE_MISS;
  size_t n = 0;
  char *buf = readAll(fd, &n);
  close(fd);
  if (!buf)
    return CG_CACHE_CORRUPT;
  uint64_t len = 0;
  uint8_t hash[LLVM_BLAKE3_OUT_LEN];
  bool ok = n >= HEADER && !memcmp(buf, kMagic, sizeof kMagic);
  if (ok) {
    len = getLE64(buf + 16 + LLVM_BLAKE3_OUT_LEN);
    ok = len == n - HEADER;
  }
  if (ok) {
    payloadHash(buf + HEADER, (size_t)len, hash);
    ok = !memcmp(hash, buf + 16, sizeof hash);
  }
  if (!ok || !unpack(buf + HEADER, (size_t)len, objs)) {
    free(buf);
    objs->n = 0;
    return CG_CACHE_CORRUPT;
  }
  path = entryPath(dir, key, ".o");
  if (path)
    utimensat(AT_FDCWD, path, NULL, 0); /* recently used (best effort) */
  free(path);
  *data = buf;
  return CG_CACHE_HIT;
}

/* mkdir -p with mode 0700 for what it creates; 0 or an errno. */
static int makeDirs(const char *dir) {
  char *p = strdup(dir);
  if (!p)
    return ENOMEM;
  int err = 0;
  for (char *s = p + 1;; ++s) {
    if (*s != '/' && *s)
      continue;
    char c = *s;
    *s = 0;
    if (mkdir(p, 0700) && errno != EEXIST) {
      err = errno;
      break;
    }
    *s = c;
    if (!c)
      break;
  }
  free(p);
  return err;
}

static int writeAll(int fd, const void *p, size_t n) {
  const char *s = p;
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    s += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The cache's size limit in bytes (0: none). */
static unsigned long long cacheMax(void) {
  const char *v = getenv("CLUSTERC_JIT_CACHE_MAX");
  if (!v || !*v)
    return 1ull << 30;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
  if (errno || end == v || (shift && end[1]) || (!shift && *end) || n > (~0ull >> shift))
    return 1ull << 30; /* not a size: the default */
  return n << shift;
}

static bool isEntryName(const char *name) {
  size_t n = strlen(name);
  if (n != CG_JIT_KEY_CHARS + 2 || strcmp(name + CG_JIT_KEY_CHARS, ".o"))
    return false;
  for (size_t i = 0; i < CG_JIT_KEY_CHARS; ++i)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
      return false;
  return true;
}

typedef struct Entry {
  char name[CG_JIT_KEY_CHARS + 3];
  struct timespec mtime;
  unsigned long long size;
} Entry;

static int olderFirst(const void *a, const void *b) {
  const struct timespec *x = &((const Entry *)a)->mtime, *y = &((const Entry *)b)->mtime;
  if (x->tv_sec != y->tv_sec)
    return x->tv_sec < y->tv_sec ? -1 : 1;
  return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Removes the least recently used entries but keep.o until the rest fit
 * max bytes (best effort: an entry another run removes first is skipped). */
static void trim(const char *dir, const char *keep, unsigned long long max) {
  DIR *d = max ? opendir(dir) : NULL;
  if (!d)
    return;
  Entry *e = NULL;
  size_t n = 0, cap = 0;
  unsigned long long total = 0;
  for (struct dirent *de; (de = readdir(d));) {
    struct stat st;
    if (!isEntryName(de->d_name) || !strncmp(de->d_name, keep, CG_JIT_KEY_CHARS) ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
        !S_ISREG(st.st_mode))
      continue;
    if (n == cap) {
      Entry *g = realloc(e, (cap = cap ? 2 * cap : 64) * sizeof *e);
      if (!g)
        break;
      e = g;
    }
    snprintf(e[n].name, sizeof e[n].name, "%s", de->d_name);
    e[n].mtime = st.st_mtim;
    e[n].size = (unsigned long long)st.st_size;
    total += e[n++].size;
  }
  if (n) /* e is NULL when the directory holds no other entry */
    qsort(e, n, sizeof *e, olderFirst);
  for (size_t i = 0; i < n && total > max; ++i)
    if (!unlinkat(dirfd(d), e[i].name, 0) || errno == ENOENT)
      total -= e[i].size;
  free(e);
  closedir(d);
}

int cgJitCacheWrite(const char *dir, const char *key, const CgJitObjects *objs) {
  if (objs->n < 1 || objs->n > CG_MAX_PARTS)
    return EINVAL;
  int err = makeDirs(dir);
  if (err)
    return err;
  char suffix[48];
  snprintf(suffix, sizeof suffix, ".o.tmp.%ld", (long)getpid());
  char *tmp = entryPath(dir, key, suffix), *path = entryPath(dir, key, ".o");
  if (!tmp || !path) {
    free(tmp);
    free(path);
    return ENOMEM;
  }
  unlink(tmp); /* a leftover of a killed run with the same pid */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    err = errno;
  else {
    /* The header, then the payload: its count and sizes, then the objects. */
    char header[HEADER], sizes[8 + 8 * CG_MAX_PARTS];
    size_t nSizes = 8 + 8 * (size_t)objs->n;
    uint64_t size = nSizes;
    putLE64(sizes, objs->n);
    for (unsigned i = 0; i < objs->n; ++i) {
      putLE64(sizes + 8 + 8 * i, objs->size[i]);
      size += objs->size[i];
    }
    llvm_blake3_hasher h;
    llvm_blake3_hasher_init(&h);
    llvm_blake3_hasher_update(&h, sizes, nSizes);
    for (unsigned i = 0; i < objs->n; ++i)
      llvm_blake3_hasher_update(&h, objs->data[i], objs->size[i]);
    memcpy(header, kMagic, sizeof kMagic);
    llvm_blake3_hasher_finalize(&h, (uint8_t *)header + 16, LLVM_BLAKE3_OUT_LEN);
    putLE64(header + 16 + LLVM_BLAKE3_OUT_LEN, size);
    err = writeAll(fd, header, sizeof header);
    if (!err)
      err = writeAll(fd, sizes, nSizes);
    for (unsigned i = 0; i < objs->n && !err; ++i)
      err = writeAll(fd, objs->data[i], objs->size[i]);
    if (close(fd) && !err)
      err = errno;
    if (!err && rename(tmp, path))
      err = errno;
    if (err)
      unlink(tmp);
  }
  free(tmp);
  free(path);
  if (!err)
    trim(dir, key, cacheMax());
  return err;
}
