/* Shared driver plumbing: context, diagnostics, input (see driver.h). */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../passes/capi-ext.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/RegisterEverything.h"
#include "clusterc/train.h"
#include "onnx-io.h"

static void printToFile(MlirStringRef s, void *user) {
  fwrite(s.data, 1, s.length, (FILE *)user);
}

static void printLocPrefix(MlirLocation loc, const char *fallback) {
  MlirStringRef file;
  unsigned line, col;
  MlirStringRef name;
  if (clustercLocationGetFileLineCol(loc, &file, &line, &col))
    fprintf(stderr, "%.*s:%u:%u: ", (int)file.length, file.data, line, col);
  else if (clustercLocationGetName(loc, &name))
    fprintf(stderr, "%s: loc(\"%.*s\"): ", fallback, (int)name.length, name.data);
  else
    fprintf(stderr, "%s: ", fallback);
}

static MlirLogicalResult onDiagnostic(MlirDiagnostic d, void *user) {
  DiagState *ds = user;
  static const char *sev[] = {"error", "warning", "note", "remark"};
  MlirDiagnosticSeverity s = mlirDiagnosticGetSeverity(d);
  if (s == MlirDiagnosticError)
    ds->errors++;
  printLocPrefix(mlirDiagnosticGetLocation(d), ds->filename);
  fprintf(stderr, "%s: ", sev[s]);
  mlirDiagnosticPrint(d, printToFile, stderr);
  fputc('\n', stderr);
  for (intptr_t i = 0; i < mlirDiagnosticGetNumNotes(d); ++i) {
    MlirDiagnostic note = mlirDiagnosticGetNote(d, i);
    printLocPrefix(mlirDiagnosticGetLocation(note), ds->filename);
    fputs("note: ", stderr);
    mlirDiagnosticPrint(note, printToFile, stderr);
    fputc('\n', stderr);
  }
  return mlirLogicalResultSuccess();
}

MlirContext driverCreateContext(DiagState *ds) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreate();
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  mlirContextLoadAllAvailableDialects(ctx);
  mlirContextAttachDiagnosticHandler(ctx, onDiagnostic, ds, NULL);
  return ctx;
}

char *driverReadAll(const char *path, size_t *len) {
  /* Always NUL-terminated: parseSourceString does not copy the text, and
   * its lexer stops at the NUL an llvm::MemoryBuffer would have. */
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  errno = 0;
  while (buf) {
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (n < cap - 1) {
      buf[n] = 0; /* the MLIR lexer reads up to a NUL */
      if (ferror(f)) {
        int e = errno ? errno : EIO; /* EISDIR for a directory */
        free(buf);
        buf = NULL;
        errno = e;
      }
      break;
    }
    char *grown = realloc(buf, cap *= 2);
    if (!grown)
      free(buf);
    buf = grown;
  }
  if (f != stdin)
    fclose(f);
  *len = n;
  return buf;
}

const char *driverDisplayName(const char *path) {
  return strcmp(path, "-") ? path : "<stdin>";
}

/* A regular file mapped read-only, when its size leaves room for the NUL
 * the lexer needs in its last page (the kernel zero-fills the rest of the
 * page), as llvm::MemoryBuffer does: no copy, and page-cache pages
 * instead of fresh anonymous ones. NULL when not possible. */
static char *mapFile(const char *path, size_t *len) {
  if (!strcmp(path, "-"))
    return NULL;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return NULL;
  struct stat st;
  long page = sysconf(_SC_PAGESIZE);
  void *p = MAP_FAILED;
  if (!fstat(fd, &st) && S_ISREG(st.st_mode) && page > 0 && st.st_size >= (1 << 16) &&
      st.st_size % page != 0)
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED)
    return NULL;
  posix_madvise(p, (size_t)st.st_size, POSIX_MADV_SEQUENTIAL);
  *len = (size_t)st.st_size;
  return p;
}

MlirModule driverLoadModule(MlirContext ctx, const char *path, DiagState *ds) {
  if (onnxIsInput(path))
    return onnxLoadModule(ctx, path);
  const char *name = driverDisplayName(path);
  size_t len;
  char *src = mapFile(path, &len);
  bool mapped = src != NULL;
  if (!mapped && !(src = driverReadAll(path, &len))) {
    fprintf(stderr, "%s: error: cannot read input: %s\n", name, strerror(errno));
    return (MlirModule){NULL};
  }
  MlirModule m = clustercParseSourceString(ctx, mlirStringRefCreate(src, len),
                                           mlirStringRefCreateFromCString(name));
  if (mapped)
    munmap(src, len);
  else
    free(src);
  if (mlirModuleIsNull(m) && !ds->errors)
    fprintf(stderr, "%s: error: cannot parse the input\n", name);
  return m;
}

int driverAppendOption(char **text, const char *opt) {
  size_t old = *text ? strlen(*text) : 0;
  char *s = realloc(*text, old + strlen(opt) + 2);
  if (!s)
    return -1;
  if (old)
    s[old++] = ' ';
  strcpy(s + old, opt);
  *text = s;
  return 0;
}

void driverPrintModule(MlirModule module, MlirStringCallback write, void *user) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsEnableDebugInfo(flags, true, false);
  mlirOperationPrintWithFlags(mlirModuleGetOperation(module), flags, write, user);
  mlirOpPrintingFlagsDestroy(flags);
  write(mlirStringRefCreateFromCString("\n"), user);
}

void driverPrintMessage(ClustercMessageKind kind, MlirStringRef text, void *userData) {
  FILE *f = kind == CLUSTERC_MESSAGE_RESULT ? stdout
          : kind == CLUSTERC_MESSAGE_LOG     ? userData
                                              : stderr;
  if (!f)
    return;
  fwrite(text.data, 1, text.length, f);
  if (kind == CLUSTERC_MESSAGE_PROGRESS || kind == CLUSTERC_MESSAGE_LOG)
    fflush(f);
}

void driverCollectMessage(ClustercMessageKind kind, MlirStringRef text, void *userData) {
  (void)kind;
  DriverText *t = userData;
  if (!t->size)
    return;
  /* A message is a whole line; the buffer holds its text (the caller
   * prints it inside its own line). */
  if (text.length && text.data[text.length - 1] == '\n')
    --text.length;
  size_t room = t->size - 1 - t->len;
  size_t n = text.length < room ? text.length : room;
  memcpy(t->buf + t->len, text.data, n);
  t->len += n;
  t->buf[t->len] = 0;
}

void driverBufferWrite(MlirStringRef s, void *userData) {
  DriverBuffer *b = userData;
  if (b->failed)
    return;
  if (b->len + s.length + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + s.length + 1)
      cap *= 2;
    char *g = realloc(b->data, cap);
    if (!g) {
      b->failed = true;
      return;
    }
    b->data = g;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s.data, s.length);
  b->len += s.length;
  b->data[b->len] = 0;
}

/* ---- Data sets (clusterc train, clusterc --sensitivity) ---- */

const char *driverDataPath(const char *dir, const char *base, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s.gz", dir, base);
  if (access(buf, R_OK) == 0)
    return buf;
  snprintf(buf, size, "%s/%s", dir, base);
  return buf;
}

bool driverIsDirectory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Loads a data set: `images` is one path per model input, comma-separated
 * (split in place: the data set borrows the names). 0, or -1 after a
 * message. */
int driverLoadData(ClustercDataset *d, char *images, const char *labels) {
  char *rest = strchr(images, ',');
  if (rest)
    *rest++ = 0;
  if (clustercDatasetLoad(d, images, labels, driverPrintMessage, NULL))
    return -1;
  while (rest) {
    char *path = rest;
    if ((rest = strchr(rest, ',')))
      *rest++ = 0;
    if (clustercDatasetAddInput(d, path, driverPrintMessage, NULL))
      return -1;
  }
  return 0;
}

