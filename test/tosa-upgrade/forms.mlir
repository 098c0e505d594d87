// tosa-upgrade.py on every TOSA 0.x form it converts: what each op becomes
// in TOSA 1.0 (MLIR 22). The check runs everywhere (no MLIR needed); with
// MLIR 22, mlir22.test parses, lowers and runs this file's upgrade.
// Comment lines are dropped before FileCheck: they pass through unchanged
// and would match themselves.
// RUN: %python %srcroot/scripts/tosa-upgrade.py %s | grep -v '^ *//' | FileCheck %s
// RUN: %python %srcroot/scripts/tosa-upgrade.py < %s | grep -v '^ *//' | FileCheck %s
// --keep-lines: the same ops, every line keeps its number (new values go
// on their op's line, before it).
// RUN: %python %srcroot/scripts/tosa-upgrade.py --keep-lines %s -o %t.kept.mlir
// RUN: test $(wc -l < %t.kept.mlir) -eq $(wc -l < %s)
// RUN: grep -n 'loc("c1")' %s | cut -d: -f1 > %t.line
// RUN: grep -n 'loc("c1")' %t.kept.mlir | cut -d: -f1 | diff - %t.line
// RUN: grep 'loc("c1")' %t.kept.mlir | FileCheck %s --check-prefix=KEEP
// KEEP: {{^}}  %[[IZP:[^ ]+]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32> loc("c1")  %[[WZP:[^ ]+]] = "tosa.const"() {{.*}}  %c = tosa.conv2d %x, %w, %b, %[[IZP]], %[[WZP]] {

// Both spellings of a constant; `value` becomes `values`.
// CHECK-LABEL: func.func @consts(
// CHECK:   %w = "tosa.const"() <{values = dense<{{\[\[}}1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>}> : () -> tensor<2x2xf32> loc("w.weight")
// CHECK:   %i = "tosa.const"() <{values = dense<[3, 4]> : tensor<2xi32>}> : () -> tensor<2xi32>
func.func @consts(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = "tosa.const"() <{value = dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>}> : () -> tensor<2x2xf32> loc("w.weight")
  %i = "tosa.const"() {value = dense<[3, 4]> : tensor<2xi32>} : () -> tensor<2xi32>
  %y = tosa.add %x, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// Zero points as tosa.const operands before the op (with its indentation
// and loc), acc_type; the op keeps its trailing comment.
// CHECK-LABEL: func.func @conv(
// CHECK:      %[[IZP:[^ ]+]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32> loc("c1")
// CHECK-NEXT: %[[WZP:[^ ]+]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32> loc("c1")
// CHECK-NEXT: %c = tosa.conv2d %x, %w, %b, %[[IZP]], %[[WZP]] {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, acc_type = f32} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32> loc("c1") // same size
// Generic form in, pretty form out.
// CHECK:      %d = tosa.conv2d %c, %w2, %b, %{{[^ ]+}}, %{{[^ ]+}} {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, acc_type = f32} : (tensor<1x4x4x3xf32>, tensor<3x1x1x3xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32>
func.func @conv(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x3xf32> {
  %w = "tosa.const"() <{value = dense<[[[[0.5, -1.0], [0.25, 0.5], [1.0, 1.5]], [[-0.5, 0.75], [0.125, -0.25], [2.0, 0.5]], [[0.5, 0.5], [-1.0, 0.25], [0.75, -0.5]]], [[[1.0, 0.0], [0.5, -0.5], [0.25, 0.25]], [[0.0, 1.0], [-0.25, 0.5], [0.5, 0.125]], [[1.5, -1.0], [0.5, 0.5], [-0.75, 0.25]]], [[[0.25, 0.5], [0.5, 0.25], [-1.0, 1.0]], [[0.75, -0.75], [0.0, 0.5], [0.25, 1.0]], [[-0.5, 0.25], [1.0, -1.0], [0.5, 0.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32> loc("conv.weight")
  %b = "tosa.const"() <{value = dense<[0.5, -0.25, 1.0]> : tensor<3xf32>}> : () -> tensor<3xf32> loc("conv.bias")
  %c = tosa.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32> loc("c1") // same size
  %w2 = "tosa.const"() <{value = dense<[[[[0.5, -1.0, 0.25]]], [[[1.0, 0.5, -0.5]]], [[[-0.25, 0.75, 1.0]]]]> : tensor<3x1x1x3xf32>}> : () -> tensor<3x1x1x3xf32> loc("conv2.weight")
  %d = "tosa.conv2d"(%c, %w2, %b) <{dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}> : (tensor<1x4x4x3xf32>, tensor<3x1x1x3xf32>, tensor<3xf32>) -> tensor<1x4x4x3xf32>
  return %d : tensor<1x4x4x3xf32>
}

// 0.x rounds a strided window's output size down; 1.0 wants an exact fit.
// H: 7 + 1 + 0 - 3 = 5 = 2 * 2 + 1: one row too many and no pad_bottom to
// take it from, so the input loses its last row; W: 7 + 1 + 1 - 3 = 6 fits.
// CHECK-LABEL: func.func @conv_floor(
// CHECK:      %[[S0:[^ ]+]] = tosa.const_shape {values = dense<[0, 0, 0, 0]> : tensor<4xindex>} : () -> !tosa.shape<4>
// CHECK-NEXT: %[[S1:[^ ]+]] = tosa.const_shape {values = dense<[1, 6, 7, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
// CHECK-NEXT: %[[SL:[^ ]+]] = tosa.slice %x, %[[S0]], %[[S1]] : (tensor<1x7x7x2xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x6x7x2xf32>
// CHECK:      %y = tosa.depthwise_conv2d %[[SL]], %w, %b, %{{.*}} {dilation = array<i64: 1, 1>, pad = array<i64: 1, 0, 1, 1>, stride = array<i64: 2, 2>, acc_type = f32} : (tensor<1x6x7x2xf32>, tensor<3x3x2x1xf32>,
// Pools: H 3 - 2 = 1 loses a row of the input, W 4 + 1 - 2 = 3 loses
// pad_right. (Not for avg_pool2d here: where 0.x drops a padded column,
// MLIR 19's lowering still divides the last window by its count next to the
// pad, 2 instead of the spec's 4; the upgrade computes the spec's value.)
// CHECK:      %[[PS:[^ ]+]] = tosa.const_shape {values = dense<[1, 2, 4, 2]> : tensor<4xindex>}
// CHECK-NEXT: %[[PX:[^ ]+]] = tosa.slice %y, %{{[^ ]+}}, %[[PS]] : (tensor<1x3x4x2xf32>, !tosa.shape<4>, !tosa.shape<4>) -> tensor<1x2x4x2xf32>
// CHECK-NEXT: %p = tosa.max_pool2d %[[PX]] {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x2x4x2xf32>) -> tensor<1x1x2x2xf32>
// CHECK:      %[[QX:[^ ]+]] = tosa.slice %y,
// CHECK:      %q = tosa.avg_pool2d %[[QX]], %{{[^ ]+}}, %{{[^ ]+}} {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x2x4x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
func.func @conv_floor(%x: tensor<1x7x7x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = "tosa.const"() <{value = dense<[[[[0.5], [-1.0]], [[0.25], [0.5]], [[1.0], [1.5]]], [[[-0.5], [0.75]], [[0.125], [-0.25]], [[2.0], [0.5]]], [[[0.5], [0.5]], [[-1.0], [0.25]], [[0.75], [-0.5]]]]> : tensor<3x3x2x1xf32>}> : () -> tensor<3x3x2x1xf32> loc("dw.weight")
  %b = "tosa.const"() <{value = dense<[0.5, -0.25]> : tensor<2xf32>}> : () -> tensor<2xf32> loc("dw.bias")
  %y = tosa.depthwise_conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 1, 0, 1, 1>, stride = array<i64: 2, 2>} : (tensor<1x7x7x2xf32>, tensor<3x3x2x1xf32>, tensor<2xf32>) -> tensor<1x3x4x2xf32>
  %p = tosa.max_pool2d %y {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 1>, stride = array<i64: 2, 2>} : (tensor<1x3x4x2xf32>) -> tensor<1x1x2x2xf32>
  %q = tosa.avg_pool2d %y {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x3x4x2xf32>) -> tensor<1x1x2x2xf32>
  %s = tosa.add %p, %q : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %s : tensor<1x1x2x2xf32>
}

// out_shape goes (the result type has it), out_pad and stride stay.
// CHECK-LABEL: func.func @transpose_conv(
// CHECK:      %y = tosa.transpose_conv2d %x, %w, %b, %{{[^ ]+}}, %{{[^ ]+}} {out_pad = array<i64: 0, 1, 1, 0>, stride = array<i64: 2, 2>, acc_type = f32} : (tensor<1x3x3x2xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x7x7x2xf32>
func.func @transpose_conv(%x: tensor<1x3x3x2xf32>) -> tensor<1x7x7x2xf32> {
  %w = "tosa.const"() <{value = dense<[[[[0.5, -1.0], [0.25, 0.5]], [[1.0, 1.5], [-0.5, 0.75]]], [[[0.125, -0.25], [2.0, 0.5]], [[0.5, 0.5], [-1.0, 0.25]]]]> : tensor<2x2x2x2xf32>}> : () -> tensor<2x2x2x2xf32> loc("tconv.weight")
  %b = "tosa.const"() <{value = dense<[0.5, -0.25]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %y = tosa.transpose_conv2d %x, %w, %b {out_pad = array<i64: 0, 1, 1, 0>, out_shape = array<i64: 1, 7, 7, 2>, stride = array<i64: 2, 2>} : (tensor<1x3x3x2xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<1x7x7x2xf32>
  return %y : tensor<1x7x7x2xf32>
}

// fully_connected: a 1x1 conv2d between reshapes, as TFLite's TOSA 1.0
// legalization writes it; the weight constant reaches the conv through a
// tosa.reshape, and the last reshape keeps the result's name.
// CHECK-LABEL: func.func @fully_connected(
// CHECK:      %[[XS:[^ ]+]] = tosa.const_shape {values = dense<[2, 1, 1, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
// CHECK-NEXT: %[[X4:[^ ]+]] = tosa.reshape %x, %[[XS]] : (tensor<2x4xf32>, !tosa.shape<4>) -> tensor<2x1x1x4xf32>
// CHECK-NEXT: %[[WS:[^ ]+]] = tosa.const_shape {values = dense<[3, 1, 1, 4]> : tensor<4xindex>} : () -> !tosa.shape<4>
// CHECK-NEXT: %[[W4:[^ ]+]] = tosa.reshape %w, %[[WS]] : (tensor<3x4xf32>, !tosa.shape<4>) -> tensor<3x1x1x4xf32>
// CHECK-NEXT: %[[IZP:[^ ]+]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}>
// CHECK-NEXT: %[[WZP:[^ ]+]] = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}>
// CHECK-NEXT: %[[C:[^ ]+]] = tosa.conv2d %[[X4]], %[[W4]], %b, %[[IZP]], %[[WZP]] {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<2x1x1x4xf32>, tensor<3x1x1x4xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x1x1x3xf32>
// CHECK-NEXT: %[[YS:[^ ]+]] = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
// CHECK-NEXT: %y = tosa.reshape %[[C]], %[[YS]] : (tensor<2x1x1x3xf32>, !tosa.shape<2>) -> tensor<2x3xf32>
// CHECK:      %z = tosa.reshape %{{[^ ]+}}, %{{[^ ]+}} : (tensor<2x1x1x3xf32>, !tosa.shape<2>) -> tensor<2x3xf32>
// CHECK-NEXT: %s = tosa.add %y, %z
func.func @fully_connected(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = "tosa.const"() <{value = dense<[[0.5, -1.0, 0.25, 0.5], [1.0, 1.5, -0.5, 0.75], [0.125, -0.25, 2.0, 0.5]]> : tensor<3x4xf32>}> : () -> tensor<3x4xf32> loc("fc.weight")
  %b = "tosa.const"() <{value = dense<[0.5, -0.25, 1.0]> : tensor<3xf32>}> : () -> tensor<3xf32> loc("fc.bias")
  %y = tosa.fully_connected %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %z = "tosa.fully_connected"(%x, %w, %b) : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %s = tosa.add %y, %z : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}

// transpose: the perms constant becomes an attribute (the constant stays,
// unused); reshape: new_shape becomes a tosa.const_shape, -1 written out;
// matmul: zero points; mul: the shift is an i8 tensor; clamp: min_val and
// max_val of the element type.
// CHECK-LABEL: func.func @matmul(
// CHECK:      %t = tosa.transpose %w {perms = array<i32: 2, 1, 0>} : (tensor<5x4x1xf32>) -> tensor<1x4x5xf32>
// CHECK:      %[[S:[^ ]+]] = tosa.const_shape {values = dense<[1, 3, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
// CHECK-NEXT: %x3 = tosa.reshape %x, %[[S]] : (tensor<3x4xf32>, !tosa.shape<3>) -> tensor<1x3x4xf32>
// CHECK:      %m = tosa.matmul %x3, %t, %{{[^ ]+}}, %{{[^ ]+}} : (tensor<1x3x4xf32>, tensor<1x4x5xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x5xf32>
// CHECK:      %[[SH:[^ ]+]] = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %sq = tosa.mul %m, %m, %[[SH]] : (tensor<1x3x5xf32>, tensor<1x3x5xf32>, tensor<1xi8>) -> tensor<1x3x5xf32>
// CHECK:      %r = tosa.clamp %sq {max_val = 6.000000e+00 : f32, min_val = 0.000000e+00 : f32} : (tensor<1x3x5xf32>) -> tensor<1x3x5xf32>
func.func @matmul(%x: tensor<3x4xf32>) -> tensor<1x3x5xf32> {
  %w = "tosa.const"() <{value = dense<[[[0.5], [-1.0], [0.25], [0.5]], [[1.0], [1.5], [-0.5], [0.75]], [[0.125], [-0.25], [2.0], [0.5]], [[0.5], [0.5], [-1.0], [0.25]], [[0.75], [-0.5], [1.0], [0.0]]]> : tensor<5x4x1xf32>}> : () -> tensor<5x4x1xf32> loc("mm.weight")
  %perm = "tosa.const"() <{value = dense<[2, 1, 0]> : tensor<3xi32>}> : () -> tensor<3xi32>
  %t = tosa.transpose %w, %perm : (tensor<5x4x1xf32>, tensor<3xi32>) -> tensor<1x4x5xf32>
  %x3 = tosa.reshape %x {new_shape = array<i64: 1, -1, 4>} : (tensor<3x4xf32>) -> tensor<1x3x4xf32>
  %m = tosa.matmul %x3, %t : (tensor<1x3x4xf32>, tensor<1x4x5xf32>) -> tensor<1x3x5xf32>
  %sq = tosa.mul %m, %m {shift = 0 : i8} : (tensor<1x3x5xf32>, tensor<1x3x5xf32>) -> tensor<1x3x5xf32>
  %r = tosa.clamp %sq {max_fp = 6.000000e+00 : f32, max_int = 6 : i64, min_fp = 0.000000e+00 : f32, min_int = 0 : i64} : (tensor<1x3x5xf32>) -> tensor<1x3x5xf32>
  return %r : tensor<1x3x5xf32>
}

// Ops whose 0.x text is already 1.0 text stay byte for byte.
// CHECK-LABEL: func.func @unchanged(
// CHECK-NEXT:  %a = tosa.sub %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %b = tosa.exp %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %c = tosa.tanh %b : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %d = tosa.sigmoid %c : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %e = tosa.reciprocal %d : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %f = tosa.reduce_max %e {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:  %g = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:  %h = "tosa.maximum"(%f, %g) : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:  %i = tosa.concat %h, %g, %f {axis = 1 : i32} : (tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:  %k = tensor.extract_slice %i[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> to tensor<2x3xf32>
func.func @unchanged(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %a = tosa.sub %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %b = tosa.exp %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = tosa.tanh %b : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %d = tosa.sigmoid %c : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %e = tosa.reciprocal %d : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %f = tosa.reduce_max %e {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %g = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %h = "tosa.maximum"(%f, %g) : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %i = tosa.concat %h, %g, %f {axis = 1 : i32} : (tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %k = tensor.extract_slice %i[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> to tensor<2x3xf32>
  return %k : tensor<2x3xf32>
}

// Quantized forms: zero points from quantization_info, integer
// accumulators, integer clamp bounds saturated to the element type, f16
// bounds beyond its range as infinities.
// CHECK-LABEL: func.func @quantized(
// CHECK:      %[[IZP:[^ ]+]] = "tosa.const"() <{values = dense<-128> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %[[WZP:[^ ]+]] = "tosa.const"() <{values = dense<3> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %c = tosa.conv2d %x, %w, %b, %[[IZP]], %[[WZP]] {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, acc_type = i32}
// CHECK:      %[[AZP:[^ ]+]] = "tosa.const"() <{values = dense<1> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %[[BZP:[^ ]+]] = "tosa.const"() <{values = dense<-2> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %m = tosa.matmul %a, %a, %[[AZP]], %[[BZP]] : (tensor<1x4x4xi8>, tensor<1x4x4xi8>, tensor<1xi8>, tensor<1xi8>) -> tensor<1x4x4xi32>
// CHECK:      %[[SH:[^ ]+]] = "tosa.const"() <{values = dense<3> : tensor<1xi8>}> : () -> tensor<1xi8>
// CHECK-NEXT: %s = tosa.mul %m, %m, %[[SH]] : (tensor<1x4x4xi32>, tensor<1x4x4xi32>, tensor<1xi8>) -> tensor<1x4x4xi32>
// CHECK:      %r = tosa.clamp %a {max_val = 127 : i8, min_val = -128 : i8} : (tensor<1x4x4xi8>) -> tensor<1x4x4xi8>
// CHECK:      %h = tosa.clamp %f {max_val = 0x7C00 : f16, min_val = -1.0 : f16} : (tensor<4xf16>) -> tensor<4xf16>
func.func @quantized(%x: tensor<1x1x1x4xi8>, %a: tensor<1x4x4xi8>, %f: tensor<4xf16>) -> (tensor<1x1x1x4xi32>, tensor<1x4x4xi32>, tensor<1x4x4xi8>, tensor<4xf16>) {
  %w = "tosa.const"() <{value = dense<[[[[1, 2, 3, 4]]], [[[5, 6, 7, 8]]], [[[9, 10, 11, 12]]], [[[13, 14, 15, 16]]]]> : tensor<4x1x1x4xi8>}> : () -> tensor<4x1x1x4xi8> loc("quantized")
  %b = "tosa.const"() <{value = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>
  %c = tosa.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, quantization_info = #tosa.conv_quant<input_zp = -128, weight_zp = 3>} : (tensor<1x1x1x4xi8>, tensor<4x1x1x4xi8>, tensor<4xi32>) -> tensor<1x1x1x4xi32>
  %m = tosa.matmul %a, %a {quantization_info = #tosa.matmul_quant<a_zp = 1, b_zp = -2>} : (tensor<1x4x4xi8>, tensor<1x4x4xi8>) -> tensor<1x4x4xi32>
  %s = tosa.mul %m, %m {shift = 3 : i8} : (tensor<1x4x4xi32>, tensor<1x4x4xi32>) -> tensor<1x4x4xi32>
  %r = tosa.clamp %a {max_fp = 0.0 : f32, max_int = 300 : i64, min_fp = 0.0 : f32, min_int = -200 : i64} : (tensor<1x4x4xi8>) -> tensor<1x4x4xi8>
  %h = tosa.clamp %f {max_fp = 3.40282347E+38 : f32, max_int = 0 : i64, min_fp = -1.0 : f32, min_int = 0 : i64} : (tensor<4xf16>) -> tensor<4xf16>
  return %c, %s, %r, %h : tensor<1x1x1x4xi32>, tensor<1x4x4xi32>, tensor<1x4x4xi8>, tensor<4xf16>
}

// More ops that stay (as they are, or renamed: reduce_prod and int_div are
// reduce_product and intdiv in 1.0).
// CHECK-LABEL: func.func @more_unchanged(
// CHECK:       %p = tosa.reduce_product %d {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
// CHECK:       %q = tosa.intdiv %i, %j : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
func.func @more_unchanged(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %a = tosa.abs %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = tosa.log %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = tosa.exp %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %c = tosa.ceil %l : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %f = tosa.floor %r : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = tosa.sin %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %o = tosa.cos %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %e = tosa.erf %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %g = tosa.greater %s, %o : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  %m = tosa.select %g, %e, %c : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %n = tosa.minimum %m, %f : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %d = tosa.pow %a, %n : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %p = tosa.reduce_prod %d {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %h = tosa.reduce_min %d {axis = 1 : i32} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %t = tosa.concat %p, %h, %p {axis = 1 : i32} : (tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  %i = tosa.cast %x : (tensor<2x3xf32>) -> tensor<2x3xi32>
  %j = tosa.clamp %i {max_fp = 0.0 : f32, max_int = 100 : i64, min_fp = 0.0 : f32, min_int = 1 : i64} : (tensor<2x3xi32>) -> tensor<2x3xi32>
  %q = tosa.int_div %i, %j : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  %k = tosa.cast %q : (tensor<2x3xi32>) -> tensor<2x3xf32>
  %y = tosa.add %t, %k : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
