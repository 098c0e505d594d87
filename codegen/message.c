/* clustercMessagef (internal.h): formatted text to a ClustercMessageFn. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

void clustercMessagef(ClustercMessageFn fn, void *user, ClustercMessageKind kind,
                      const char *fmt, ...) {
  if (!fn)
    return;
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  char *text = small;
  if ((size_t)n >= sizeof small) { /* long: format again into the heap */
    if (!(text = malloc((size_t)n + 1)))
      return;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  fn(kind, mlirStringRefCreate(text, (size_t)n), user);
  if (text != small)
    free(text);
}

static MlirLogicalResult countError(MlirDiagnostic d, void *user) {
  ClustercErrorCount *c = user;
  if (mlirDiagnosticGetSeverity(d) == MlirDiagnosticError)
    c->errors++;
  return mlirLogicalResultFailure(); /* not handled: the next handler prints it */
}

void clustercCountErrorsBegin(ClustercErrorCount *c, MlirContext ctx) {
  c->ctx = ctx;
  c->errors = 0;
  c->id = mlirContextAttachDiagnosticHandler(ctx, countError, c, NULL);
}

void clustercCountErrorsEnd(ClustercErrorCount *c) {
  mlirContextDetachDiagnosticHandler(c->ctx, c->id);
}
