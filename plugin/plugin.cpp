// ClusterCPlugin.so: the clusterc passes in Debian's mlir-opt-19.
//
//   mlir-opt --load-pass-plugin=ClusterCPlugin.so
//       --pass-pipeline='builtin.module(cluster-weights{clusters=16})'
// (one command line; no backslash here: in a // comment it would continue
// the comment onto the next line, -Wcomment)
//
// The plugin holds the passes, libclusterrt and the MLIR C API objects they
// call, but no C++ MLIR: those symbols resolve against mlir-opt itself
// (which links MLIR statically and exports it), so there is one pass
// registry, one set of TypeIDs and one copy of every dialect.
#include "clusterc/passes.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

// passes/register-passes.cpp, not in the public API: clustercRegisterPasses
// with bad option text reported when the pass runs, at the module's
// location (mlir-opt reports pipeline-parse errors at `<unknown>:0`).
extern "C" void clustercRegisterPassesLocated(void);

extern "C" LLVM_ATTRIBUTE_WEAK ::mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "ClusterCPlugin", CLUSTERC_VERSION,
          clustercRegisterPassesLocated};
}
