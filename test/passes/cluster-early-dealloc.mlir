// cluster-early-dealloc: a memref.dealloc of a buffer allocated in its
// block moves to just after the last op of the block that uses the buffer
// or a view of it (uses nested in loops count at the loop); it stays when
// the buffer may escape. Run through the mlir-opt plugin (code generation
// runs it after buffer-deallocation-pipeline, test/codegen/early-dealloc.mlir).
// UNSUPPORTED: sanitized
// RUN: %mlir_plugin_opt --split-input-file --allow-unregistered-dialect \
// RUN:   --pass-pipeline='builtin.module(cluster-early-dealloc)' %s | FileCheck %s
// RUN: %mlir_plugin_opt --split-input-file --allow-unregistered-dialect \
// RUN:   --pass-pipeline='builtin.module(cluster-early-dealloc{min-bytes=4096})' %s | FileCheck %s --check-prefix=MIN
// RUN: not %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-early-dealloc{bogus})' %s 2>&1 | FileCheck %s --check-prefix=ERR

// ERR: cluster-early-dealloc: unknown option 'bogus' (expected min-bytes=N, N >= 0)

// Two temporaries: each freed after its last reader, the first before the
// second is allocated. The 4 KiB buffer moves with min-bytes=4096, the
// 256-byte one does not.
// CHECK-LABEL: func.func @chain(
// CHECK-SAME: %[[X:[^:]*]]: memref<64xf32>, %[[OUT:[^:]*]]: memref<16x64xf32>)
// CHECK: %[[A:.*]] = memref.alloc() : memref<64xf32>
// CHECK-NEXT: linalg.copy ins(%[[X]] : memref<64xf32>) outs(%[[A]] : memref<64xf32>)
// CHECK-NEXT: %[[B:.*]] = memref.alloc() : memref<16x64xf32>
// CHECK-NEXT: linalg.broadcast ins(%[[A]] : memref<64xf32>) outs(%[[B]] : memref<16x64xf32>)
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: linalg.copy ins(%[[B]] : memref<16x64xf32>) outs(%[[OUT]] : memref<16x64xf32>)
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: "test.other"() : () -> ()
// CHECK-NEXT: return
// MIN-LABEL: func.func @chain(
// MIN: linalg.copy ins(%[[B:[^ ]*]] : memref<16x64xf32>)
// MIN-NEXT: memref.dealloc %[[B]]
// MIN-NEXT: "test.other"() : () -> ()
// MIN-NEXT: memref.dealloc
// MIN-NEXT: return
func.func @chain(%x: memref<64xf32>, %out: memref<16x64xf32>) {
  %a = memref.alloc() : memref<64xf32>
  linalg.copy ins(%x : memref<64xf32>) outs(%a : memref<64xf32>)
  %b = memref.alloc() : memref<16x64xf32>
  linalg.broadcast ins(%a : memref<64xf32>) outs(%b : memref<16x64xf32>) dimensions = [0]
  linalg.copy ins(%b : memref<16x64xf32>) outs(%out : memref<16x64xf32>)
  "test.other"() : () -> ()
  memref.dealloc %a : memref<64xf32>
  memref.dealloc %b : memref<16x64xf32>
  return
}

// -----

// Uses through views (a collapse_shape, then a cast of it) and inside a
// loop: the dealloc goes after the call that takes the cast and after the
// loop, not after the alloc's own last direct use.
// CHECK-LABEL: func.func @views(
// CHECK: %[[A:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK: %[[C:.*]] = memref.collapse_shape %[[A]]
// CHECK: %[[D:.*]] = memref.cast %[[C]]
// CHECK: call @use(%[[D]])
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[T:.*]] = memref.alloc() : memref<8xf32>
// CHECK: scf.for
// CHECK: memref.load %[[T]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[T]]
// CHECK-NEXT: "test.other"() : () -> ()
// CHECK-NEXT: return
func.func private @use(memref<?xf32>)
func.func @views(%n: index, %out: memref<8xf32>) {
  %a = memref.alloc() : memref<4x8xf32>
  %c = memref.collapse_shape %a [[0, 1]] : memref<4x8xf32> into memref<32xf32>
  %d = memref.cast %c : memref<32xf32> to memref<?xf32>
  call @use(%d) : (memref<?xf32>) -> ()
  %t = memref.alloc() : memref<8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %t[%i] : memref<8xf32>
    memref.store %v, %out[%i] : memref<8xf32>
  }
  "test.other"() : () -> ()
  memref.dealloc %a : memref<4x8xf32>
  memref.dealloc %t : memref<8xf32>
  return
}

// -----

// Buffers that may escape keep their dealloc at the end: one yielded by a
// loop (a terminator takes it), one made into another memref by an op
// that is not a view (arith.select), one turned into a pointer.
// CHECK-LABEL: func.func @escapes(
// CHECK: "test.other"() : () -> ()
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: return
func.func @escapes(%n: index, %p: i1, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<8xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%it = %a) -> (memref<8xf32>) {
    scf.yield %it : memref<8xf32>
  }
  %b = memref.alloc() : memref<8xf32>
  %s = arith.select %p, %b, %y : memref<8xf32>
  %c = memref.alloc() : memref<8xf32>
  %ptr = memref.extract_aligned_pointer_as_index %c : memref<8xf32> -> index
  "test.other"() : () -> ()
  memref.dealloc %a : memref<8xf32>
  memref.dealloc %b : memref<8xf32>
  memref.dealloc %c : memref<8xf32>
  return
}

// -----

// A dealloc in another block than its alloc (ownership-based deallocation's
// conditional frees) and a dealloc of an argument stay where they are.
// CHECK-LABEL: func.func @other_block(
// CHECK: "test.other"() : () -> ()
// CHECK-NEXT: scf.if
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: }
// CHECK-NEXT: memref.dealloc %{{.*}} : memref<4xf32>
// CHECK-NEXT: return
func.func @other_block(%p: i1, %arg: memref<4xf32>) {
  %a = memref.alloc() : memref<8xf32>
  "test.other"() : () -> ()
  scf.if %p {
    memref.dealloc %a : memref<8xf32>
  }
  memref.dealloc %arg : memref<4xf32>
  return
}
