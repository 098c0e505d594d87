/* Internals shared by the files of libclusterc-codegen, and the message
 * helper libclusterc-train uses too. Not installed. */
#ifndef CLUSTERC_CODEGEN_INTERNAL_H
#define CLUSTERC_CODEGEN_INTERNAL_H

#include "clusterc/codegen.h"
#include "llvm-c/Types.h"
#include "mlir-c/Diagnostics.h"

/* Formats a message and hands it to fn (nothing when fn is NULL). */
void clustercMessagef(ClustercMessageFn fn, void *user, ClustercMessageKind kind,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Counts the error diagnostics of a context between Begin and End, and
 * passes every diagnostic on to the handlers attached before (so a
 * library can add "X failed" only when no diagnostic said why). */
typedef struct ClustercErrorCount {
  MlirContext ctx;
  MlirDiagnosticHandlerID id;
  int errors;
} ClustercErrorCount;
void clustercCountErrorsBegin(ClustercErrorCount *c, MlirContext ctx);
void clustercCountErrorsEnd(ClustercErrorCount *c);

/* The object of a module clustercCodegenLower lowered, through `write`
 * (the AOT path's translation, LLVM passes and back end); edit, when not
 * NULL, changes the LLVM module before optimisation (false: it failed, with
 * a message). For the JIT: no constructors are registered. */
typedef bool (*CgEditLLVM)(LLVMModuleRef mod, void *user);
ClustercStatus cgEmitLoweredObject(MlirModule module, const ClustercCodegenOptions *o,
                                   CgEditLLVM edit, void *editUser, MlirStringCallback write,
                                   void *writeUserData, const char *displayName,
                                   ClustercMessageFn onMessage, void *userData);

/* Marks every entry point with llvm.emit_c_interface. */
void cgMarkEntryPoints(MlirModule module);

/* target-check.cpp: 0 when cpu (NULL, "generic", "native" or a CPU of the
 * triple's target) and features (NULL or +F,-G with F, G features of the
 * target) are known to the target; else -1 with a message in err. */
int clustercCodegenCheckCpuFeatures(const char *triple, const char *cpu,
                                    const char *features, char *err, size_t errSize);

/* memref-copy.c: LLVM IR defining memrefCopy (see there). */
extern const char cgMemrefCopyIR[];

#endif
