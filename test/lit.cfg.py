# lit configuration for clusterc's pass, driver and end-to-end tests.
import os
import shutil

import lit.formats

config.name = "clusterc"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "runtime", "harness.py", "run-model.sh"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.clusterc_obj_root, "test")

tools_bin = os.path.join(config.clusterc_obj_root, "tools", "clusterc")
config.environment["PATH"] = os.pathsep.join(
    [tools_bin, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "CLUSTERRT_ISA", "HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
# The JIT's cache of compiled modules: one per build tree, not the user's.
config.environment["XDG_CACHE_HOME"] = os.path.join(config.clusterc_obj_root, "test", "xdg-cache")

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%srcroot", config.clusterc_src_root))
config.substitutions.append(("%clusterc_obj_root", config.clusterc_obj_root))
# `// -----` cases run one at a time, as with mlir-opt --split-input-file
# (see split-input-file.py): %split_input_file %s clusterc --flags
config.substitutions.append(("%split_input_file", "%s %s --dir %%t.split" % (
    config.python_executable, os.path.join(config.test_source_root, "split-input-file.py"))))
config.substitutions.append(("%mlir_opt", os.path.join(config.llvm_tools_dir, "mlir-opt")))
# mlir-cpu-runner was renamed mlir-runner (LLVM 20).
runner = "mlir-runner" if config.mlir_major >= 22 else "mlir-cpu-runner"
config.substitutions.append(("%mlir_runner", os.path.join(config.llvm_tools_dir, runner)))
config.available_features.add("mlir%d" % config.mlir_major)
# Per-version CHECK prefixes: FileCheck --check-prefixes=CHECK,CHECK-%mlir_major.
config.substitutions.append(("%mlir_major", str(config.mlir_major)))
# In a pipeline string: 22's buffer-results-to-out-params leaves public
# functions alone unless told (the option is an error in 19).
config.substitutions.append(("%buffer_results_to_out_params", "buffer-results-to-out-params%s" % (
    "{modify-public-functions}" if config.mlir_major >= 22 else "")))

# TOSA text: the tests and the examples are TOSA 0.x (what 19 parses); 22
# parses TOSA 1.0 only, so there they run on scripts/tosa-upgrade.py's
# conversion. A test whose own text is the model has
#   RUN: %tosa_prepare                       (19: nothing; 22: upgrades %s)
#   RUN: clusterc ... %tosa_input            (19: %s; 22: the upgraded copy)
# %tosa_convert IN > OUT makes any other 0.x file readable (19: cat), and
# %examples is examples/ (22: its upgraded copy under the build tree).
# The upgrade keeps every line's number (--keep-lines) and the copy has the
# test's file name, so [[@LINE]] checks of locations hold on both.
tosa_upgrade = "%s %s --keep-lines" % (config.python_executable,
                                       os.path.join(config.clusterc_src_root, "scripts", "tosa-upgrade.py"))
examples_dir = os.path.join(config.clusterc_src_root, "examples")
if config.mlir_major >= 22:
    import subprocess
    upgraded = os.path.join(config.clusterc_obj_root, "test", "examples-tosa1")
    os.makedirs(upgraded, exist_ok=True)
    for name in sorted(os.listdir(examples_dir)):
        if name.endswith(".mlir"):
            subprocess.run(tosa_upgrade.split() + [os.path.join(examples_dir, name),
                           "-o", os.path.join(upgraded, name)], check=True)
    examples_dir = upgraded
    config.substitutions.append(("%tosa_convert", tosa_upgrade))
    config.substitutions.append(("%tosa_prepare", "mkdir -p %%t.tosa1 && %s %%s -o %%t.tosa1/%%{s:basename}"
                                 % tosa_upgrade))
    config.substitutions.append(("%tosa_input", "%t.tosa1/%{s:basename}"))
else:
    config.substitutions.append(("%tosa_convert", "cat"))
    config.substitutions.append(("%tosa_prepare", "true"))
    config.substitutions.append(("%tosa_input", "%s"))
config.substitutions.append(("%examples", examples_dir))
config.substitutions.append(("%mlir_libdir", os.path.join(config.llvm_tools_dir, "..", "lib")))
# The C tests of the public headers (CAPI/, one program per header).
capi_bin = os.path.join(config.clusterc_obj_root, "test", "CAPI")
config.substitutions.append(("%capi_passes_test", os.path.join(capi_bin, "clusterc-capi-passes-test")))
config.substitutions.append(("%capi_runtime_test", os.path.join(capi_bin, "clusterc-capi-runtime-test")))
config.substitutions.append(("%capi_codegen_test", os.path.join(capi_bin, "clusterc-capi-codegen-test")))
config.substitutions.append(("%capi_train_test", os.path.join(capi_bin, "clusterc-capi-train-test")))
if config.sanitized:
    config.available_features.add("sanitized")
# Debian's dataset-fashion-mnist (scripts/setup.sh installs it).
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    config.available_features.add("fashion-mnist")

# mlir-opt with the clusterc plugin; LD_BIND_NOW=1 fails the load if the
# plugin needs a symbol mlir-opt does not export.
config.substitutions.append(("%mlir_plugin_opt", "env LD_BIND_NOW=1 %s --load-pass-plugin=%s" % (
    os.path.join(config.llvm_tools_dir, "mlir-opt"), config.clusterc_plugin)))

# Lowers a model with a @main (e2e/harness.py) and runs it on the JIT.
config.substitutions.append(("%run_model", "bash %s %s" % (
    os.path.join(config.test_source_root, "e2e", "run-model.sh"), config.llvm_tools_dir)))
config.substitutions.append(("%harness", "%s %s" % (
    config.python_executable, os.path.join(config.test_source_root, "e2e", "harness.py"))))

# Code generation (codegen/): compiled models are linked with a C harness
# and libclusterrt by the project's C compiler (with the sanitizers of a
# sanitized build, whose libclusterrt needs them); AArch64 objects with the
# cross compiler, run under qemu-aarch64.
config.substitutions.append(("%cc", "%s%s" % (
    config.c_compiler, " -fsanitize=address,undefined" if config.sanitized else "")))
config.substitutions.append(("%clusterrt_a", os.path.join(config.clusterc_obj_root, "runtime", "libclusterrt.a")))
config.substitutions.append(("%clusterrt_so", os.path.join(config.clusterc_obj_root, "runtime", "libclusterrt.so")))
if (shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64")
        and os.path.isdir("/usr/aarch64-linux-gnu")):
    config.available_features.add("aarch64-cross")

# MLIR 22 next to a build against 19 (docs: /work/shared/MLIR22-NOTES.md):
# tosa-upgrade's tests parse, lower and run the upgraded TOSA 1.0 text with
# it and compare with 19. Its bin directory comes from
# CLUSTERC_MLIR22_TOOLS_DIR, else where scripts/mlir-version.sh has it
# (installed or unpacked; it installs nothing when asked with --query).
mlir22_tools = ""
if config.mlir_major == 19:
    import subprocess
    found = subprocess.run(["bash", os.path.join(config.clusterc_src_root, "scripts", "mlir-version.sh"),
                            "22", "--query"], capture_output=True, text=True).stdout.strip()
    for d in (os.environ.get("CLUSTERC_MLIR22_TOOLS_DIR", ""),
              os.path.join(found, "..", "..", "..", "bin") if found else ""):
        if d and os.path.exists(os.path.join(d, "mlir-opt")):
            mlir22_tools = d
            break
if mlir22_tools:
    config.available_features.add("mlir22-beside")
    config.substitutions.append(("%mlir22_opt", "env LD_LIBRARY_PATH=%s %s" % (
        os.path.join(mlir22_tools, "..", "lib"), os.path.join(mlir22_tools, "mlir-opt"))))
    config.substitutions.append(("%mlir22_tools", mlir22_tools))

# ONNX (test/onnx): the importer alone, and the real models torch exports,
# generated once per content under the build (test/models/onnx-models.sh).
# A Python with numpy and onnx makes the small models; torch and
# torchvision make the real ones.
onnx_tool = os.path.join(config.clusterc_obj_root, "onnx", "clusterc-onnx-import")
if os.path.exists(onnx_tool):
    config.available_features.add("onnx")
    config.substitutions.append(("%onnx_import", onnx_tool))
    import subprocess
    for py in (config.python_executable, "/usr/bin/python3"):
        probe = "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in sys.argv[1:]) else 1)"
        if subprocess.call([py, "-c", probe, "numpy", "onnx"]) == 0:
            config.available_features.add("onnx-python")
            config.substitutions.append(("%onnx_python", py))
            if subprocess.call([py, "-c", probe, "torch", "torchvision"]) == 0:
                config.available_features.add("torch")
                models = os.path.join(config.clusterc_obj_root, "models")
                config.substitutions.append(("%onnx_gen", "bash %s %s %s" % (
                    os.path.join(config.clusterc_src_root, "test", "models", "onnx-models.sh"), py, models)))
                config.substitutions.append(("%onnx_models", os.path.join(models, "current")))
            break
    config.substitutions.append(("%run_onnx", "bash %s %s" % (
        os.path.join(config.test_source_root, "onnx", "Inputs", "run-onnx.sh"), config.llvm_tools_dir)))
