# Cross-compile the runtime for AArch64 Linux and run its tests under
# qemu-user:
#   cmake -S . -B build-arm64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#     -DCLUSTERC_ENABLE_MLIR=OFF
#   ninja -C build-arm64 && ctest --test-dir build-arm64
# Needs gcc-aarch64-linux-gnu and qemu-user (Debian packages).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# The project enables C++ (for the MLIR half), but the runtime is pure C.
# Use the cross g++ if present, else clang++ targeting aarch64; compiler
# checks build static libraries so no aarch64 libstdc++ is needed.
find_program(CLUSTERC_AARCH64_CXX aarch64-linux-gnu-g++)
if(CLUSTERC_AARCH64_CXX)
  set(CMAKE_CXX_COMPILER ${CLUSTERC_AARCH64_CXX})
else()
  find_program(CLUSTERC_CLANGXX NAMES clang++-19 clang++ REQUIRED)
  set(CMAKE_CXX_COMPILER ${CLUSTERC_CLANGXX})
  set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)
endif()
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs every test binary through this.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;/usr/aarch64-linux-gnu")
