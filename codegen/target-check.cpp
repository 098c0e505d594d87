// Checks --mcpu and --mattr against the target's own tables before LLVM
// sees them: LLVM only warns on an unknown CPU or feature ("'bogus' is not
// a recognized processor for this target (ignoring processor)"), once per
// function, and the subtarget it then builds can abort the process
// (x86-64 with an unknown CPU: "LLVM ERROR: 64-bit code requested on a
// subtarget that doesn't support it!"). The C API has no way to ask, so
// this file uses MCSubtargetInfo's tables (the lists `llc -mcpu=help`
// prints).
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#if CLUSTERC_MLIR_MAJOR >= 22
#include "llvm/TargetParser/Triple.h"
#endif

#define CLUSTERC_STR2(x) #x
#define CLUSTERC_STR(x) CLUSTERC_STR2(x)
#define LLC "llc-" CLUSTERC_STR(CLUSTERC_MLIR_MAJOR)

extern "C" int clustercCodegenCheckCpuFeatures(const char *triple, const char *cpu,
                                               const char *features, char *err,
                                               size_t errSize) {
  std::string msg;
#if CLUSTERC_MLIR_MAJOR >= 22
  llvm::Triple tt(triple); // 22 deprecates the string overloads
#else
  const char *tt = triple;
#endif
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(tt, msg);
  if (!t)
    return 0; // the caller reports the triple
  std::unique_ptr<llvm::MCSubtargetInfo> sti(t->createMCSubtargetInfo(tt, "", ""));
  if (!sti)
    return 0;
  if (cpu && *cpu && std::strcmp(cpu, "native") && std::strcmp(cpu, "generic") &&
      !sti->isCPUStringValid(cpu)) {
    std::snprintf(err, errSize, "unknown --mcpu '%s' for %s (" LLC " -mtriple=%s "
                  "-mcpu=help lists the CPUs)", cpu, triple, triple);
    return -1;
  }
  if (!features)
    return 0;
  const char *p = features;
  while (true) {
    size_t n = std::strcspn(p, ",");
    std::string f(p, n);
    // As LLVM reads it: +F enables, -F disables, a bare F enables.
    std::string name = !f.empty() && (f[0] == '+' || f[0] == '-') ? f.substr(1) : f;
    if (name.empty()) {
      std::snprintf(err, errSize, "bad --mattr item '%s' in '%s' (expected +FEATURE "
                    "or -FEATURE, comma-separated)", f.c_str(), features);
      return -1;
    }
    bool known = false;
    for (const llvm::SubtargetFeatureKV &kv : sti->getAllProcessorFeatures())
      if (name == kv.Key)
        known = true;
    if (!known) {
      std::snprintf(err, errSize, "unknown --mattr feature '%s' for %s (" LLC " "
                    "-mtriple=%s -mattr=help lists the features)",
                    name.c_str(), triple, triple);
      return -1;
    }
    if (!p[n])
      break;
    p += n + 1;
  }
  return 0;
}
