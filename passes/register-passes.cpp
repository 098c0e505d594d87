// clustercRegisterPasses: the clusterc passes by name in MLIR's pass
// registry, so any textual pipeline can use them (`cluster-weights{...}` in
// mlirParsePassPipeline, or in mlir-opt through ClusterCPlugin.so). MLIR 19's
// C API cannot do this (no mlirRegisterExternalPass), hence this C++ shim.
//
// The registered pass is a thin wrapper, TextOptionsPass: it keeps its
// options as text, hands that text to the pass's C option parser (through
// ClustercPassInfo::createFromString) in initializeOptions, so arbitrary
// keys work and errors read as in the driver, and runs the resulting C pass
// as a dynamic pipeline on its own op. All clustering stays in C.
//
// Option errors: through the C API (mlirParsePassPipeline) they go to the
// pipeline's error callback when the text is parsed. mlir-opt's handler for
// that callback reports at no location ("<unknown>:0"), so in the plugin
// (clustercRegisterPassesLocated) a bad option text is kept and reported
// when the pass runs, at the location of the op it runs on (the module's
// file:line:col), and fails the run there.
//
// Limitation: MLIR prints a pass's options from its declared PassOptions;
// this wrapper declares none, so a printed pipeline (--dump-pass-pipeline,
// crash reproducers) shows `cluster-weights` without its options.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "clusterc/passes.h"
#include "mlir/CAPI/Pass.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/TypeID.h"

using namespace mlir;

namespace {

// What one registered pass needs; created once and never freed (MLIR's
// registry keeps allocators that point here for the life of the process).
struct Entry {
  const ClustercPassInfo *info;
  TypeID id;
  std::string anchor; // op name the C pass runs on; empty: any op
};

// Set by clustercRegisterPassesLocated (the mlir-opt plugin) before the
// passes are registered: option errors are reported at run time, located.
bool optionErrorsAtRun = false;

void appendTo(MlirStringRef s, void *user) {
  static_cast<std::string *>(user)->append(s.data, s.length);
}

class TextOptionsPass : public Pass {
public:
  explicit TextOptionsPass(const Entry &e)
      : Pass(e.id, e.anchor.empty() ? std::nullopt
                                    : std::optional<StringRef>(e.anchor)),
        entry(e) {
    // Default options never fail to parse.
    (void)setOptions("", [](const Twine &) { return failure(); });
  }
  TextOptionsPass(const TextOptionsPass &other)
      : Pass(other), entry(other.entry), optionError(other.optionError),
        pipeline(other.pipeline
                     ? std::make_unique<OpPassManager>(*other.pipeline)
                     : nullptr) {}

  StringRef getName() const override { return entry.info->name; }
  StringRef getArgument() const override { return entry.info->argument; }
  StringRef getDescription() const override {
    return entry.info->description;
  }

  bool canScheduleOn(RegisteredOperationName opName) const override {
    return entry.anchor.empty() || opName.getStringRef() == entry.anchor;
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    if (pipeline)
      pipeline->getDependentDialects(registry);
  }

  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    return setOptions(options, errorHandler);
  }

protected:
  void runOnOperation() override {
    if (!optionError.empty()) {
      getOperation()->emitError(optionError);
      return signalPassFailure();
    }
    if (!pipeline || failed(runPipeline(*pipeline, getOperation())))
      signalPassFailure();
  }

  std::unique_ptr<Pass> clonePass() const override {
    return std::make_unique<TextOptionsPass>(*this);
  }

private:
  LogicalResult
  setOptions(StringRef options,
             function_ref<LogicalResult(const Twine &)> errorHandler) {
    std::string message;
    MlirPass pass =
        entry.info->createFromString(wrap(options), appendTo, &message);
    optionError.clear();
    pipeline.reset();
    if (!pass.ptr) {
      // The pass and its option text say which option is wrong.
      std::string text =
          (Twine(entry.info->argument) + "{" + options + "}: " + message).str();
      if (!optionErrorsAtRun)
        return errorHandler(text);
      optionError = std::move(text);
      return success();
    }
    auto pm = entry.anchor.empty()
                  ? std::make_unique<OpPassManager>()
                  : std::make_unique<OpPassManager>(entry.anchor);
    pm->addPass(std::unique_ptr<Pass>(unwrap(pass)));
    pipeline = std::move(pm);
    return success();
  }

  const Entry &entry;
  std::string optionError; // a bad option text, reported when run (plugin)
  std::unique_ptr<OpPassManager> pipeline; // the C pass; null only on OOM
};

std::vector<std::unique_ptr<Entry>> &entries() {
  static std::vector<std::unique_ptr<Entry>> all;
  return all;
}

void registerAll() {
  static TypeIDAllocator ids;
  for (intptr_t i = 0, n = clustercGetNumPasses(); i < n; ++i) {
    const ClustercPassInfo *info = clustercGetPassInfo(i);
    auto e = std::make_unique<Entry>(Entry{info, ids.allocate(), ""});
    // The anchor is whatever the C pass declares.
    MlirPass proto = info->createFromString(wrap(StringRef()), nullptr, nullptr);
    if (proto.ptr) {
      std::unique_ptr<Pass> p(unwrap(proto));
      if (std::optional<StringRef> op = p->getOpName())
        e->anchor = op->str();
    }
    const Entry *entry = e.get();
    entries().push_back(std::move(e));
    registerPass([entry]() -> std::unique_ptr<Pass> {
      return std::make_unique<TextOptionsPass>(*entry);
    });
  }
}

} // namespace

extern "C" void clustercRegisterPasses(void) {
  static std::once_flag once;
  std::call_once(once, registerAll);
}

extern "C" void clustercRegisterPassesLocated(void) {
  optionErrorsAtRun = true;
  clustercRegisterPasses();
}
