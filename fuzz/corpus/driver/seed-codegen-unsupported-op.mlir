// An op the lowering pipeline leaves unconverted (complex.exp: convert-to-llvm
// has no pattern for it) is diagnosed at its location, not at the casts the
// conversions left around it, before translation; nothing is written: no
// object, no header, no temporary beside them.
// RUN: rm -rf %t && mkdir %t
// RUN: not clusterc --emit=obj %s -o %t/exp.o --emit-header=%t/exp.h 2>&1 | FileCheck %s
// RUN: not clusterc --emit=llvm %s -o %t/exp.ll 2>&1 | FileCheck %s
// RUN: not clusterc --emit=llvm-dialect %s -o %t/exp.mlir 2>&1 | FileCheck %s
// RUN: ls -A %t | count 0

func.func @forward(%x: f32) -> f32 {
  %c = complex.create %x, %x : complex<f32>
  // CHECK: unsupported-op.mlir:[[@LINE+1]]:8: error: 'complex.exp' is not lowered to the LLVM dialect by the lowering pipeline (unsupported op for code generation)
  %y = complex.exp %c : complex<f32>
  %r = complex.re %y : complex<f32>
  return %r : f32
}
