/* Internals shared by the files of libclusterc-codegen, and the message
 * helper libclusterc-train uses too. Not installed. */
#ifndef CLUSTERC_CODEGEN_INTERNAL_H
#define CLUSTERC_CODEGEN_INTERNAL_H

#include "clusterc/codegen.h"
#include "llvm-c/TargetMachine.h"
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

/* The most objects one module's code is split into (split-codegen.c). */
enum { CG_MAX_PARTS = 64 };

/* The object code of a module clustercCodegenLower lowered (the AOT path's
 * translation, LLVM passes and back end): `write` is called once per
 * object. parts > 1 splits the back end over up to that many objects
 * compiled concurrently (split-codegen.c; fewer when the module has fewer
 * functions); 1 is --emit=obj's single object. edit, when not NULL,
 * changes the LLVM module before optimisation (false: it failed, with a
 * message). For the JIT: no constructors are registered. */
typedef bool (*CgEditLLVM)(LLVMModuleRef mod, void *user);
ClustercStatus cgEmitLoweredObject(MlirModule module, const ClustercCodegenOptions *o,
                                   unsigned parts, CgEditLLVM edit, void *editUser,
                                   MlirStringCallback write, void *writeUserData,
                                   const char *displayName, ClustercMessageFn onMessage,
                                   void *userData);

/* split-codegen.c: the optimized module mod as 1 to `parts` objects
 * (parts <= CG_MAX_PARTS), one compiled on this thread with tms[0] in mod
 * itself, the others on threads of their own with tms[1..]; mod is changed.
 * True with *nObjs objects in objs (the caller disposes them), else false
 * with a message in err. */
bool cgSplitCodegen(LLVMModuleRef mod, LLVMTargetMachineRef *tms, unsigned parts,
                    LLVMMemoryBufferRef *objs, unsigned *nObjs, char *err, size_t errSize);

/* Marks every entry point with llvm.emit_c_interface. */
void cgMarkEntryPoints(MlirModule module);

/* target-check.cpp: 0 when cpu (NULL, "generic", "native" or a CPU of the
 * triple's target) and features (NULL or +F,-G with F, G features of the
 * target) are known to the target; else -1 with a message in err. */
int clustercCodegenCheckCpuFeatures(const char *triple, const char *cpu,
                                    const char *features, char *err, size_t errSize);

/* CLUSTERC_TIME_PHASES=1 in the environment: cgPhase prints
 * "clusterc: phase <what>: <seconds>s" to stderr for the time since *t
 * and sets *t to now (how a cold compile divides, for docs/PERFORMANCE.md;
 * nothing otherwise). cgPhaseStart sets *t. */
void cgPhaseStart(double *t);
void cgPhase(const char *what, double *t);

/* memref-copy.c: LLVM IR defining memrefCopy (see there). */
extern const char cgMemrefCopyIR[];

#endif
