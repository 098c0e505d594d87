/* MLIR plumbing of the fuzz targets (see fuzz-mlir.h). */
#include "fuzz-mlir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../passes/capi-ext.h"
#include "clusterc/passes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/RegisterEverything.h"

static MlirDialectRegistry registry;
static int verbose;

#define FZ_FAIL(...)                                                        \
  do {                                                                      \
    fprintf(stderr, "fuzz: " __VA_ARGS__);                                  \
    fputc('\n', stderr);                                                    \
    __builtin_trap();                                                       \
  } while (0)

void fzMlirInit(void) {
  registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  const char *v = getenv("FUZZ_VERBOSE");
  verbose = v && *v == '1';
}

static void printToStderr(MlirStringRef s, void *user) {
  (void)user;
  fwrite(s.data, 1, s.length, stderr);
}

static MlirLogicalResult onDiagnostic(MlirDiagnostic d, void *user) {
  FzMlir *m = user;
  if (mlirDiagnosticGetSeverity(d) == MlirDiagnosticError)
    m->errors++;
  if (verbose) {
    mlirDiagnosticPrint(d, printToStderr, NULL);
    fputc('\n', stderr);
  }
  return mlirLogicalResultSuccess();
}

void fzMlirOpen(FzMlir *m) {
  m->errors = 0;
  m->ctx = mlirContextCreateWithThreading(false);
  mlirContextAppendDialectRegistry(m->ctx, registry);
  clustercRegisterDialects(m->ctx);
  /* decode=runtime builds func, memref and bufferization ops; the driver
   * has every dialect loaded. */
  static const char *const more[] = {"memref", "bufferization", "func", "tosa",
                                     "ml_program"};
  for (size_t i = 0; i < sizeof more / sizeof more[0]; ++i)
    mlirContextGetOrLoadDialect(m->ctx, mlirStringRefCreateFromCString(more[i]));
  mlirContextAttachDiagnosticHandler(m->ctx, onDiagnostic, m, NULL);
}

void fzMlirClose(FzMlir *m) {
  mlirContextDestroy(m->ctx);
  m->ctx = (MlirContext){NULL};
}

MlirModule fzParse(FzMlir *m, const char *text, size_t len, const char *name) {
  char *buf = malloc(len + 1);
  if (!buf)
    return (MlirModule){NULL};
  memcpy(buf, text, len);
  buf[len] = 0;
  MlirModule mod = clustercParseSourceString(m->ctx, mlirStringRefCreate(buf, len),
                                             mlirStringRefCreateFromCString(name));
  free(buf);
  return mod;
}

typedef struct Text {
  char *p;
  size_t n, cap;
} Text;

static void appendText(MlirStringRef s, void *user) {
  Text *t = user;
  if (t->n + s.length + 1 > t->cap) {
    size_t cap = (t->n + s.length + 1) * 2;
    char *p = realloc(t->p, cap);
    if (!p)
      FZ_FAIL("out of memory printing the module");
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->n, s.data, s.length);
  t->n += s.length;
  t->p[t->n] = 0;
}

int fzRunPassAndCheck(FzMlir *m, MlirModule module, MlirPass pass, const char *what) {
  MlirOperation op = mlirModuleGetOperation(module);
  MlirPassManager pm = mlirPassManagerCreate(m->ctx);
  mlirPassManagerEnableVerifier(pm, false);
  mlirPassManagerAddOwnedPass(pm, pass);
  int before = m->errors;
  MlirLogicalResult r = mlirPassManagerRunOnOp(pm, op);
  mlirPassManagerDestroy(pm);
  if (mlirLogicalResultIsFailure(r)) {
    if (m->errors == before)
      FZ_FAIL("%s failed without an error diagnostic", what);
    return 0;
  }
  if (!mlirOperationVerify(op)) {
    if (verbose)
      mlirOperationDump(op);
    FZ_FAIL("%s produced a module that does not verify", what);
  }
  /* The output must be valid MLIR text: print it and parse it again. */
  Text t = {0};
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOpPrintingFlagsEnableDebugInfo(flags, true, false);
  mlirOperationPrintWithFlags(op, flags, appendText, &t);
  mlirOpPrintingFlagsDestroy(flags);
  int errs = m->errors;
  MlirModule again = t.p ? fzParse(m, t.p, t.n, "printed") : (MlirModule){NULL};
  if (mlirModuleIsNull(again)) {
    if (verbose)
      fprintf(stderr, "%s\n", t.p ? t.p : "(nothing printed)");
    FZ_FAIL("the output of %s does not parse again (%d errors)", what, m->errors - errs);
  }
  mlirModuleDestroy(again);
  free(t.p);
  return 1;
}
