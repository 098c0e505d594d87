// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// Code generation of a small module: every --emit kind, for both targets;
// the header of entry points with scalar arguments, an index result and a
// dynamic shape; libm for tanh; a C program calling them (and from threads); the pipeline.
// The weight has 7 distinct values, so 16 clusters keep it exactly and
// forward(ones) = 16 * each column's value.

// RUN: %tosa_prepare
// RUN: clusterc --min-elements=0 %tosa_input | FileCheck %s --check-prefix=MLIR
// MLIR-LABEL: func.func @forward(
// MLIR: linalg.generic
// MLIR: linalg.matmul

// RUN: clusterc --emit=llvm-dialect --min-elements=0 %tosa_input | FileCheck %s --check-prefix=LLD
// LLD-NOT: func.func
// LLD: llvm.func @forward(
// LLD: llvm.func @_mlir_ciface_forward(
// LLD: llvm.func @stats(
// LLD: llvm.func @_mlir_ciface_stats(
// LLD-NOT: @_mlir_ciface_helper

// RUN: clusterc --emit=llvm --min-elements=0 --target=x86_64-linux-gnu %tosa_input | FileCheck %s --check-prefixes=LL,LLX86,LL-%mlir_major
// RUN: clusterc --emit=bc --min-elements=0 --target=x86_64-linux-gnu %tosa_input -o %t.bc
// RUN: llvm-dis %t.bc -o - | FileCheck %s --check-prefixes=LL,LLX86,LL-%mlir_major
// RUN: clusterc --emit=llvm --min-elements=0 --target=aarch64-linux-gnu -O3 %tosa_input | FileCheck %s --check-prefixes=LL,LLA64,LL-%mlir_major
// LL: target datalayout =
// LLX86: target triple = "x86_64-unknown-linux-gnu"
// LLA64: target triple = "aarch64-unknown-linux-gnu"
// 19 calls libm's tanhf; 22 lowers math.tanh to the llvm.tanh intrinsic,
// which the backend turns into the same libm call.
// LL-19: declare float @tanhf(float)
// LL: define void @_mlir_ciface_forward(ptr
// LL: define {{.*}}i64 @_mlir_ciface_stats(ptr {{.*}}, float {{.*}}, i64 {{.*}}, ptr
// LL: define void @_mlir_ciface_act(
// LL-19: call float @tanhf(
// LL-22: call float @llvm.tanh.f32(

// RUN: clusterc --emit=asm --min-elements=0 --target=aarch64-linux-gnu %tosa_input | FileCheck %s --check-prefix=ASM
// ASM: .globl _mlir_ciface_forward
// ASM: _mlir_ciface_forward:
// ASM: ret

// Objects export the entry points only; decode=runtime adds a private
// initializer run as a constructor, from .init_array (not .ctors, which
// lld does not run).
// RUN: clusterc --emit=obj --min-elements=0 --decode=runtime %tosa_input -o %t.o
// RUN: llvm-readelf -s -S %t.o | FileCheck %s --check-prefix=OBJ
// OBJ-NOT: .ctors
// OBJ: .init_array INIT_ARRAY
// OBJ-NOT: .ctors
// OBJ-DAG: LOCAL {{.*}} clusterc.init_array
// OBJ-DAG: LOCAL {{.*}} clusterc_decode_weights
// OBJ-DAG: GLOBAL DEFAULT {{.*}} forward
// OBJ-DAG: GLOBAL DEFAULT {{.*}} _mlir_ciface_forward
// OBJ-DAG: GLOBAL DEFAULT {{.*}} _mlir_ciface_stats
// OBJ-DAG: GLOBAL DEFAULT UND _mlir_ciface_clusterrt_mlir_decode_i8
// Private functions stay private (at -O0 nothing removes them).
// RUN: clusterc --emit=obj --min-elements=0 -O0 %tosa_input -o %t.o0.o
// RUN: llvm-readelf -s %t.o0.o | FileCheck %s --check-prefix=PRIV
// PRIV: LOCAL {{.*}} helper

// The header, and a program calling through it.
// RUN: clusterc --emit=obj --min-elements=0 %tosa_input -o %t.generic.o --emit-header=%t.h
// RUN: FileCheck %s --check-prefix=HDR < %t.h
// HDR: #ifndef CLUSTERC_MODEL_EMIT_H
// HDR: typedef struct clusterc_memref_2d_f32 {
// HDR: typedef struct clusterc_memref_1d_f32 {
// HDR: void _mlir_ciface_forward(clusterc_memref_2d_f32 *arg0, clusterc_memref_2d_f32 *result0);
// HDR: /* stats: (tensor<?xf32>, f32, index) -> (tensor<?xf32>, index) */
// HDR-NEXT: int64_t _mlir_ciface_stats(clusterc_memref_1d_f32 *arg0, float arg1, int64_t arg2, clusterc_memref_1d_f32 *result0);
// HDR-NOT: helper
// RUN: %cc -DMODEL_HEADER='"%t.h"' %S/Inputs/small.c %t.generic.o %clusterrt_a -lm -pthread -o %t.generic
// RUN: %t.generic | FileCheck %s --check-prefix=EXEC
// RUN: %cc -DMODEL_HEADER='"%t.h"' %S/Inputs/small.c %t.o %clusterrt_a -lm -pthread -o %t.runtime
// RUN: %t.runtime | FileCheck %s --check-prefix=EXEC
// Every linker at hand runs the constructor.
// RUN: for ld in bfd gold lld; do \
// RUN:   if command -v ld.$ld > /dev/null; then \
// RUN:     %cc -fuse-ld=$ld -DMODEL_HEADER='"%t.h"' %S/Inputs/small.c %t.o %clusterrt_a -lm -pthread -o %t.$ld && \
// RUN:     %t.$ld | FileCheck %s --check-prefix=EXEC || exit 1; \
// RUN:   fi; \
// RUN: done
// EXEC: forward: 8 -4 2 16 -16 12 0 4 8 -4 2 16 -16 12 0 4
// EXEC-NEXT: stats: 5: 1 2 3 4 5
// EXEC-NEXT: threads: same

// The pipeline: printed, and replaced (affine loops instead of scf loops).
// RUN: clusterc --print-pipeline | FileCheck %s --check-prefix=PIPE
// PIPE: builtin.module(func.func(tosa-optional-decompositions,tosa-to-linalg-named,tosa-to-linalg,{{.*}}one-shot-bufferize{{.*}}convert-to-llvm,reconcile-unrealized-casts)
// RUN: clusterc --emit=obj --min-elements=0 %tosa_input -o %t.affine.o --pipeline='builtin.module(func.func(tosa-to-linalg),one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},%buffer_results_to_out_params,buffer-deallocation-pipeline,func.func(convert-linalg-to-affine-loops),lower-affine,convert-scf-to-cf,expand-strided-metadata,finalize-memref-to-llvm,convert-to-llvm,convert-math-to-libm,convert-to-llvm,reconcile-unrealized-casts)'
// RUN: %cc -DMODEL_HEADER='"%t.h"' %S/Inputs/small.c %t.affine.o %clusterrt_a -lm -pthread -o %t.affine
// RUN: %t.affine | FileCheck %s --check-prefix=EXEC

func.func @forward(%x: tensor<2x16xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<[[0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25], [0.5, -0.25, 0.125, 1.0, -1.0, 0.75, 0.0, 0.25]]> : tensor<16x8xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x16xf32>, tensor<16x8xf32>) outs(%z : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// Returns its argument: buffer-results-to-out-params{hoist-static-allocs}
// crashed on this in MLIR 19; the default pipeline copies.
func.func @stats(%x: tensor<?xf32>, %s: f32, %n: index) -> (tensor<?xf32>, index) {
  return %x, %n : tensor<?xf32>, index
}

// tanh has no LLVM intrinsic: a libm call (tanhf).
func.func @act(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = tosa.tanh %x : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// Private: not an entry point, not in the header.
func.func private @helper(%x: f32) -> f32 {
  return %x : f32
}
