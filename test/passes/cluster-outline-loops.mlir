// cluster-outline-loops: each top-level scf.for / scf.parallel nest of a
// function moves into a private noinline function and is called; values
// from above become arguments, constants and globals are cloned in. Run
// through the mlir-opt plugin (the driver runs it inside code generation,
// docs/CODEGEN.md; test/codegen/outline.test checks the object).
// UNSUPPORTED: sanitized
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-outline-loops)' %s | FileCheck %s
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-outline-loops{min-ops=6})' %s | FileCheck %s --check-prefix=MIN
// RUN: not %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-outline-loops{bogus})' %s 2>&1 | FileCheck %s --check-prefix=ERR
// The attribute reaches LLVM IR (convert-func-to-llvm copies passthrough).
// RUN: %mlir_plugin_opt --split-input-file --pass-pipeline='builtin.module(cluster-outline-loops,convert-scf-to-cf,finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)' %s \
// RUN:   | mlir-translate --split-input-file --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM

// ERR: cluster-outline-loops: unknown option 'bogus' (expected min-ops=N, N >= 0)

// Two nests: the arguments are what each uses from above, in order of
// first use, each once; the constants and the global are cloned in; the
// alloc and the dealloc stay.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[A:[^:]*]]: memref<8x4xf32>, %[[B:[^:]*]]: memref<8x4xf32>, %[[S:[^:]*]]: f32, %[[N:[^:]*]]: index)
// CHECK: %[[TMP:.*]] = memref.alloc()
// CHECK-NOT: scf.
// CHECK: call @step_loop0(%[[A]], %[[S]], %[[TMP]]) : (memref<8x4xf32>, f32, memref<8x4xf32>) -> ()
// CHECK-NEXT: call @step_loop1(%[[N]], %[[TMP]], %[[B]]) : (index, memref<8x4xf32>, memref<8x4xf32>) -> ()
// CHECK-NEXT: memref.dealloc %[[TMP]]
// CHECK-NEXT: return
// CHECK: func.func private @step_loop0(%[[X:[^:]*]]: memref<8x4xf32>, %[[XS:[^:]*]]: f32, %[[XT:[^:]*]]: memref<8x4xf32>)
// CHECK-SAME: attributes {passthrough = ["noinline"]}
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[G:.*]] = memref.get_global @table
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[C8]] step %[[C1]] {
// CHECK: scf.for %[[J:.*]] = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK: memref.load %[[X]][%[[I]], %[[J]]]
// CHECK: memref.load %[[G]][%[[J]]]
// CHECK: arith.addf %{{.*}}, %[[XS]] : f32
// CHECK: memref.store %{{.*}}, %[[XT]][%[[I]], %[[J]]]
// CHECK: return
// CHECK: func.func private @step_loop1(%[[YN:[^:]*]]: index, %[[YT:[^:]*]]: memref<8x4xf32>, %[[YB:[^:]*]]: memref<8x4xf32>)
// CHECK-SAME: attributes {passthrough = ["noinline"]}
// CHECK: scf.parallel (%[[K:.*]]) = (%{{.*}}) to (%[[YN]]) step
// CHECK: memref.load %[[YT]][%[[K]], %{{.*}}]
// CHECK: memref.store %{{.*}}, %[[YB]][%[[K]], %{{.*}}]
// With min-ops=6 the 4-op parallel nest stays.
// MIN-LABEL: func.func @step(
// MIN: call @step_loop0(
// MIN-NOT: call
// MIN: scf.parallel
// MIN: func.func private @step_loop0(
// MIN-NOT: @step_loop1
// LLVM: define void @step(
// LLVM: call void @step_loop0(
// LLVM: call void @step_loop1(
// LLVM: define void @step_loop0({{.*}}) #[[NOINLINE:[0-9]+]]
// LLVM: define void @step_loop1({{.*}}) #[[NOINLINE]]
// LLVM: attributes #[[NOINLINE]] = { noinline }
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @step(%a: memref<8x4xf32>, %b: memref<8x4xf32>, %s: f32, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %t = memref.get_global @table : memref<4xf32>
  %tmp = memref.alloc() : memref<8x4xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c4 step %c1 {
      %x = memref.load %a[%i, %j] : memref<8x4xf32>
      %w = memref.load %t[%j] : memref<4xf32>
      %y = arith.mulf %x, %w : f32
      %z = arith.addf %y, %s : f32
      memref.store %z, %tmp[%i, %j] : memref<8x4xf32>
    }
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %x = memref.load %tmp[%i, %c0] : memref<8x4xf32>
    memref.store %x, %b[%i, %c0] : memref<8x4xf32>
    scf.reduce
  }
  memref.dealloc %tmp : memref<8x4xf32>
  return
}

// -----

// A name in use gets a suffix; a loop with results stays (its values are
// used after it); a nested loop is not outlined on its own; declarations
// are left alone.
// CHECK-LABEL: func.func private @f_loop0()
// CHECK-NOT: passthrough
// CHECK-LABEL: func.func @f(
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args
// CHECK: call @[[NEW:f_loop0_[0-9]+]](%{{.*}}) : (memref<4xf32>) -> ()
// CHECK-NEXT: return %[[SUM]]
// CHECK: func.func private @[[NEW]](
// CHECK-SAME: passthrough = ["noinline"]
// CHECK-COUNT-2: scf.for
// CHECK-NOT: func.func private @f_loop
func.func private @f_loop0()
func.func @f(%m: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> f32 {
    %x = memref.load %m[%i] : memref<4xf32>
    %y = arith.addf %acc, %x : f32
    scf.yield %y : f32
  }
  scf.for %i = %c0 to %c4 step %c1 {
    scf.for %j = %c0 to %c1 step %c1 {
      memref.store %zero, %m[%i] : memref<4xf32>
    }
  }
  return %sum : f32
}
