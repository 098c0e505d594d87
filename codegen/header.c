/*
 * The C header of a compiled model: one declaration per entry point (public
 * func.func with a body), as the default pipeline compiles it:
 *
 *   func.func @forward(%x: tensor<1x784xf32>) -> tensor<1x10xf32>
 * becomes
 *   void _mlir_ciface_forward(clusterc_memref_2d_f32 *arg0,
 *                             clusterc_memref_2d_f32 *result0);
 *
 * Tensor and memref arguments are pointers to memref descriptors
 * { allocated, aligned, offset, sizes[R], strides[R] } (MLIR's C interface);
 * tensor results become trailing out-parameters the caller allocates
 * (buffer-results-to-out-params); at most one scalar result is returned.
 * Descriptor types are guarded by macros, so headers of several models can be
 * included together.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterc/passes.h"
#include "internal.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

/* A growable string; `failed` once an allocation fails. */
typedef struct Buf {
  char *s;
  size_t len, cap;
  bool failed;
} Buf;

static void bufPrintf(Buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bufPrintf(Buf *b, const char *fmt, ...) {
  if (b->failed)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->failed = true;
      return;
    }
    if (b->s && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = (b->cap ? b->cap : 4096);
    while (cap <= b->len + (size_t)n)
      cap *= 2;
    char *g = realloc(b->s, cap);
    if (!g) {
      b->failed = true;
      return;
    }
    b->s = g;
    b->cap = cap;
  }
}

static void appendType(MlirStringRef s, void *user) {
  bufPrintf(user, "%.*s", (int)s.length, s.data);
}

/* C element type and short name of a scalar type; false if not expressible. */
static bool scalarType(MlirType t, const char **ctype, const char **name,
                       bool asElement) {
  if (mlirTypeIsAF32(t))
    return *ctype = "float", *name = "f32", true;
  if (mlirTypeIsAF64(t))
    return *ctype = "double", *name = "f64", true;
  if (asElement && mlirTypeIsAF16(t)) /* stored bits; no portable C half */
    return *ctype = "uint16_t", *name = "f16", true;
  if (asElement && mlirTypeIsABF16(t))
    return *ctype = "uint16_t", *name = "bf16", true;
  if (mlirTypeIsAIndex(t))
    return *ctype = "int64_t", *name = "index", true;
  if (mlirTypeIsAInteger(t)) {
    static const char *sc[] = {"int8_t", "int16_t", "int32_t", "int64_t"};
    static const char *uc[] = {"uint8_t", "uint16_t", "uint32_t", "uint64_t"};
    static const char *sn[] = {"i8", "i16", "i32", "i64"};
    unsigned w = mlirIntegerTypeGetWidth(t);
    int i = w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : w == 64 ? 3 : -1;
    if (w == 1 && asElement)
      return *ctype = "bool", *name = "i1", true;
    if (i < 0)
      return false;
    *ctype = mlirIntegerTypeIsUnsigned(t) ? uc[i] : sc[i];
    *name = sn[i];
    return true;
  }
  return false;
}

/* Declares the descriptor type for (rank, element) once per header. */
static void declareMemref(Buf *b, intptr_t rank, const char *ctype,
                          const char *name) {
  char macro[64];
  snprintf(macro, sizeof macro, "CLUSTERC_MEMREF_%dD_", (int)rank);
  for (const char *p = name; *p; ++p) {
    size_t l = strlen(macro);
    macro[l] = (char)toupper((unsigned char)*p);
    macro[l + 1] = 0;
  }
  char define[80];
  snprintf(define, sizeof define, "#define %s\n", macro);
  if (b->s && strstr(b->s, define)) /* already declared in this header */
    return;
  bufPrintf(b, "#ifndef %s\n#define %s\n", macro, macro);
  bufPrintf(b, "typedef struct clusterc_memref_%dd_%s {\n  %s *allocated, *aligned;\n"
            "  int64_t offset", (int)rank, name, ctype);
  if (rank)
    bufPrintf(b, ", sizes[%d], strides[%d]", (int)rank, (int)rank);
  bufPrintf(b, ";\n} clusterc_memref_%dd_%s;\n", (int)rank, name);
  /* A descriptor of a contiguous row-major array. */
  bufPrintf(b, "static inline clusterc_memref_%dd_%s\nclusterc_memref_%dd_%s_of(%s *data",
            (int)rank, name, (int)rank, name, ctype);
  if (rank)
    bufPrintf(b, ", const int64_t sizes[%d]", (int)rank);
  bufPrintf(b, ") {\n  clusterc_memref_%dd_%s m = {data, data, 0", (int)rank, name);
  bufPrintf(b, "%s};\n", rank ? ", {0}, {0}" : "");
  if (rank)
    bufPrintf(b, "  int64_t stride = 1;\n  for (int i = %d; i >= 0; --i) {\n"
              "    m.sizes[i] = sizes[i];\n    m.strides[i] = stride;\n"
              "    stride *= sizes[i];\n  }\n", (int)rank - 1);
  bufPrintf(b, "  return m;\n}\n#endif\n\n");
}

/* Parameter or result type as C; declares descriptors into `decls`. */
static bool cType(MlirType t, Buf *decls, char *out, size_t size, bool *isMemref) {
  const char *ctype, *name;
  *isMemref = mlirTypeIsARankedTensor(t) || mlirTypeIsAMemRef(t);
  if (*isMemref) {
    if (!scalarType(mlirShapedTypeGetElementType(t), &ctype, &name, true))
      return false;
    intptr_t rank = mlirShapedTypeGetRank(t);
    declareMemref(decls, rank, ctype, name);
    snprintf(out, size, "clusterc_memref_%dd_%s *", (int)rank, name);
    return true;
  }
  if (!scalarType(t, &ctype, &name, false))
    return false;
  snprintf(out, size, "%s ", ctype);
  return true;
}

/* One declaration; false with a message in err. */
static bool declareEntry(MlirOperation fn, Buf *decls, Buf *protos, char *err,
                         size_t errSize) {
  MlirStringRef fname = mlirStringAttrGetValue(mlirOperationGetAttributeByName(
      fn, mlirStringRefCreateFromCString("sym_name")));
  MlirType ft = mlirTypeAttrGetValue(mlirOperationGetAttributeByName(
      fn, mlirStringRefCreateFromCString("function_type")));
  for (size_t i = 0; i < fname.length; ++i)
    if (!isalnum((unsigned char)fname.data[i]) && fname.data[i] != '_') {
      snprintf(err, errSize, "cannot declare entry point '%.*s' in a C header: "
               "its name is not a C identifier", (int)fname.length, fname.data);
      return false;
    }
  intptr_t nIn = mlirFunctionTypeGetNumInputs(ft);
  intptr_t nOut = mlirFunctionTypeGetNumResults(ft);
  char ret[96] = "void ", ty[96];
  int scalars = 0;
  bool mem;
  for (intptr_t i = 0; i < nOut; ++i) {
    if (!cType(mlirFunctionTypeGetResult(ft, i), decls, ty, sizeof ty, &mem))
      goto unsupported;
    if (!mem) {
      if (scalars++)
        goto unsupported;
      snprintf(ret, sizeof ret, "%s", ty);
    }
  }
  bufPrintf(protos, "/* %.*s: ", (int)fname.length, fname.data);
  mlirTypePrint(ft, appendType, protos);
  bufPrintf(protos, " */\n%s_mlir_ciface_%.*s(", ret, (int)fname.length, fname.data);
  const char *sep = "";
  for (intptr_t i = 0; i < nIn; ++i) {
    if (!cType(mlirFunctionTypeGetInput(ft, i), decls, ty, sizeof ty, &mem))
      goto unsupported;
    bufPrintf(protos, "%s%sarg%d", sep, ty, (int)i);
    sep = ", ";
  }
  for (intptr_t i = 0; i < nOut; ++i) {
    cType(mlirFunctionTypeGetResult(ft, i), decls, ty, sizeof ty, &mem);
    if (mem) {
      bufPrintf(protos, "%s%sresult%d", sep, ty, (int)i);
      sep = ", ";
    }
  }
  bufPrintf(protos, "%s);\n\n", *sep ? "" : "void");
  return true;
unsupported:
  snprintf(err, errSize, "cannot declare entry point '%.*s' in a C header: "
           "only ranked tensors/memrefs of f32, f64, f16, bf16 and integers, "
           "and integer, index, f32, f64 scalars (at most one scalar result) "
           "are supported", (int)fname.length, fname.data);
  return false;
}

static char *headerText(MlirModule module, const char *modelName, char *err,
                   size_t errSize) {
  Buf decls = {0}, protos = {0}, out = {0};
  char guard[128];
  size_t g = (size_t)snprintf(guard, sizeof guard, "CLUSTERC_MODEL_");
  for (const char *p = modelName; *p && g + 3 < sizeof guard; ++p)
    guard[g++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
  snprintf(guard + g, sizeof guard - g, "_H");
  int entries = 0;
  bool ok = true;
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(module));
       ok && !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op))
    if (clustercCodegenIsEntryPoint(op)) {
      ok = declareEntry(op, &decls, &protos, err, errSize);
      entries++;
    }
  if (ok && !entries) {
    snprintf(err, errSize, "no entry point to declare in a C header (a public "
             "func.func with a body)");
    ok = false;
  }
  if (ok) {
    bufPrintf(&out,
              "/*\n * %s: C interface of model '%s', generated by clusterc %s.\n"
              " *\n"
              " * Link the model's object with libclusterrt and libm:\n"
              " *   cc app.c %s.o -lclusterrt -lm\n"
              " * Tensors are memref descriptors; clusterc_memref_*_of() makes one for a\n"
              " * contiguous row-major array. Results are written to the caller's\n"
              " * buffers (the trailing result parameters), which must have the shapes\n"
              " * shown. Each call allocates and frees its own scratch memory (malloc),\n"
              " * so calls from several threads are safe. The declarations match the\n"
              " * default lowering pipeline (clusterc --print-pipeline).\n"
              "%s"
              " */\n"
              "#ifndef %s\n#define %s\n\n#include <stdbool.h>\n#include <stdint.h>\n\n"
              "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
              modelName, modelName, CLUSTERC_VERSION, modelName,
              clustercCodegenHasInitializer(module)
                  ? " *\n"
                    " * The clustered weights are decoded once, by libclusterrt, when the\n"
                    " * object is loaded (a global constructor): calls only read them.\n"
                  : "",
              guard, guard);
    bufPrintf(&out, "%s%s", decls.s ? decls.s : "", protos.s ? protos.s : "");
    bufPrintf(&out, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n", guard);
    if (out.failed || decls.failed || protos.failed) {
      snprintf(err, errSize, "out of memory");
      ok = false;
    }
  }
  free(decls.s);
  free(protos.s);
  if (!ok) {
    free(out.s);
    return NULL;
  }
  return out.s;
}

ClustercStatus clustercCodegenHeader(MlirModule module, const char *modelName,
                                     MlirStringCallback write, void *writeUserData,
                                     ClustercMessageFn onMessage, void *userData) {
  char err[512];
  char *text = headerText(module, modelName, err, sizeof err);
  if (!text) {
    clustercMessagef(onMessage, userData, CLUSTERC_MESSAGE_ERROR, "%s\n", err);
    return CLUSTERC_ERROR;
  }
  write(mlirStringRefCreateFromCString(text), writeUserData);
  free(text);
  return CLUSTERC_OK;
}
