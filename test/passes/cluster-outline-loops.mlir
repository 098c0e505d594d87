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
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-outline-loops{merge=0})' %s | FileCheck %s --check-prefix=APART
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-outline-loops{optnone-callers=2})' %s | FileCheck %s --check-prefix=GLUE
// RUN: not %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-outline-loops{bogus})' %s 2>&1 | FileCheck %s --check-prefix=ERR
// The attribute reaches LLVM IR (convert-func-to-llvm copies passthrough).
// RUN: %mlir_plugin_opt --split-input-file --pass-pipeline='builtin.module(cluster-outline-loops,convert-scf-to-cf,finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)' %s \
// RUN:   | mlir-translate --split-input-file --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM

// ERR: cluster-outline-loops: unknown option 'bogus' (expected min-ops=N, N >= 0, merge=0|1 or optnone-callers=N)

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
// With optnone-callers=2 a function that called two or more nests and is
// left with calls only is glue, not optimised (noinline is what LLVM
// requires with optnone); @f keeps a loop with results and is optimised;
// @h called one nest only; the outlined functions are not glue.
// GLUE-LABEL: func.func @step(
// GLUE-SAME: attributes {passthrough = ["noinline", "optnone"]}
// GLUE: func.func private @step_loop0(
// GLUE-SAME: attributes {passthrough = ["noinline"]}
// GLUE-LABEL: func.func @f(
// GLUE-NOT: optnone
// GLUE: func.func private @[[F:f_loop0_[0-9]+]](
// GLUE-LABEL: func.func @g(
// GLUE-SAME: attributes {passthrough = ["noinline", "optnone"]}
// GLUE-LABEL: func.func @h(
// GLUE-NOT: optnone
// GLUE: func.func private @g_loop0(
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

// -----

// Identical nests share one function: the second nest of @g (the same ops
// on other values of the same types) and the nest of @h call @g_loop0; the
// nest that scales by 3.0 instead of 2.0 gets a function of its own.
// merge=0 keeps four.
// CHECK-LABEL: func.func @g(
// CHECK-SAME: %[[GA:[^:]*]]: memref<16xf32>, %[[GB:[^:]*]]: memref<16xf32>)
// CHECK: call @g_loop0(%[[GA]]) : (memref<16xf32>) -> ()
// CHECK-NEXT: call @g_loop0(%[[GB]]) : (memref<16xf32>) -> ()
// CHECK-NEXT: call @g_loop2(%[[GB]]) : (memref<16xf32>) -> ()
// CHECK-LABEL: func.func @h(
// CHECK: call @g_loop0(%{{.*}}) : (memref<16xf32>) -> ()
// CHECK: func.func private @g_loop0(
// CHECK: arith.constant 2.0
// CHECK-NOT: func.func private @g_loop1(
// CHECK: func.func private @g_loop2(
// CHECK: arith.constant 3.0
// CHECK-NOT: func.func private
// APART-LABEL: func.func @g(
// APART: call @g_loop0(
// APART-NEXT: call @g_loop1(
// APART-NEXT: call @g_loop2(
// APART-LABEL: func.func @h(
// APART: call @h_loop0(
// APART-COUNT-4: func.func private
func.func @g(%a: memref<16xf32>, %b: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %a[%i] : memref<16xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %a[%i] : memref<16xf32>
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %b[%i] : memref<16xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %b[%i] : memref<16xf32>
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %b[%i] : memref<16xf32>
    %y = arith.mulf %x, %three : f32
    memref.store %y, %b[%i] : memref<16xf32>
  }
  return
}
func.func @h(%a: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %two = arith.constant 2.0 : f32
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %a[%i] : memref<16xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %a[%i] : memref<16xf32>
  }
  return
}
