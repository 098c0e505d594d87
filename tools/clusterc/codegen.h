/*
 * Code generation: a clustered module to the LLVM dialect, LLVM IR,
 * bitcode, assembly or an object file for x86-64 or AArch64, plus a C header
 * declaring the model's entry points.
 *
 *   cluster-weights (the driver) -> the lowering pipeline (text, replaceable)
 *   -> mlirTranslateModuleToLLVMIR -> LLVMRunPasses("default<On>")
 *   -> LLVMTargetMachineEmitToMemoryBuffer -> the driver's Output
 *
 * Entry points are the public func.func ops with a body; each gets
 * `llvm.emit_c_interface`, so C calls `_mlir_ciface_<name>` with memref
 * descriptors. The default pipeline bufferizes with identity layouts and
 * turns tensor results into trailing out-parameters the caller allocates.
 * A decode=runtime model's initializer (CLUSTERC_DECODE_INIT) becomes a
 * global constructor. See docs/CODEGEN.md.
 */
#ifndef CLUSTERC_CODEGEN_H
#define CLUSTERC_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "mlir-c/IR.h"
#include "output.h"

typedef enum CgEmit {
  CG_EMIT_MLIR,         /* the clustered module (no lowering) */
  CG_EMIT_LLVM_DIALECT, /* after the lowering pipeline */
  CG_EMIT_LLVM,         /* LLVM IR text, optimized */
  CG_EMIT_BC,           /* LLVM bitcode, optimized */
  CG_EMIT_ASM,
  CG_EMIT_OBJ
} CgEmit;

typedef struct CgOptions {
  CgEmit emit;
  const char *triple;   /* NULL: the host's */
  const char *cpu;      /* NULL: "generic"; "native": the host CPU */
  const char *features; /* NULL: none beyond the CPU's */
  int optLevel;         /* 0..3, default 2 */
  const char *pipeline; /* NULL: cgDefaultPipeline() */
  const char *header;   /* --emit-header=FILE, or NULL */
  bool printPipeline;
} CgOptions;

/* Driver usage lines for the options below. */
extern const char cgUsage[];

void cgOptionsInit(CgOptions *o);
/* Consumes one command-line argument: --emit=, --target=, --mcpu=, --mattr=,
 * -O0..-O3, --pipeline=, --print-pipeline, --emit-header=. Returns 1 when
 * consumed, 0 when not a codegen option, -1 on a bad value (message in err). */
int cgParseArg(CgOptions *o, const char *arg, char *err, size_t errSize);

/* The default lowering pipeline (textual pass-pipeline syntax). */
const char *cgDefaultPipeline(void);

/* Checks the target triple and CPU before any work; 0, or -1 with a
 * message in err. Only needed when cgNeedsTarget(o). */
bool cgNeedsTarget(const CgOptions *o);
int cgCheckTarget(const CgOptions *o, char *err, size_t errSize);

/* Marks the entry points, lowers and writes the output (o->emit other than
 * mlir) to out. Returns 0, or -1 after diagnosing on stderr (MLIR
 * diagnostics go through the context's handler). */
int cgRun(MlirModule module, const CgOptions *o, Output *out,
          const char *displayName);

/* An entry point: a public func.func with a body, at the module's top. */
bool cgIsEntryPoint(MlirOperation op);
/* Marks every entry point with llvm.emit_c_interface. */
void cgMarkEntryPoints(MlirModule module);

/* True when cluster-weights (decode=runtime) gave the module a decode
 * initializer, which code generation makes a global constructor. */
bool cgHasInitializer(MlirModule module);

/* header.c: the C header declaring the entry points of `module` (tensor or
 * memref signatures, before lowering) as compiled by the default pipeline.
 * Returns a malloc'd string, or NULL with a message in err. */
char *cgHeaderText(MlirModule module, const char *modelName, char *err,
                   size_t errSize);

/* memref-copy.c: LLVM IR defining memrefCopy (see there). */
extern const char cgMemrefCopyIR[];

#endif
