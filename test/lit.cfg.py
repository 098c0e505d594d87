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
