// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// A clustered tosa.transpose_conv2d compiles and runs: the lowering
// pipeline's tosa-optional-decompositions rewrites it into a conv2d, which
// tosa-to-linalg lowers (19 and 22). The weight has 8 distinct values, so
// K = 8 keeps it exactly: both decodes compute bit for bit what the
// unclustered model (--only=none) computes; K = 2 does not.
// RUN: %tosa_prepare
// RUN: rm -rf %t && mkdir %t
// RUN: echo '-DMODEL_HEADER="%t/m.h" -DIN_RANK=4 -DIN_DIMS=1,4,4,2 -DOUT_RANK=4 -DOUT_DIMS=1,9,9,3' > %t/defs
// RUN: clusterc --emit=obj --only=none --allow-empty-selection %tosa_input -o %t/float.o --emit-header=%t/m.h
// RUN: %cc $(cat %t/defs) %S/Inputs/harness.c %t/float.o %clusterrt_a -lm -o %t/float
// RUN: %t/float > %t/float.out
// RUN: test $(wc -l < %t/float.out) -eq 243
// RUN: for decode in generic runtime; do \
// RUN:   clusterc --emit=obj --clusters=8 --min-elements=0 --decode=$decode %tosa_input -o %t/k8.o && \
// RUN:   %cc $(cat %t/defs) %S/Inputs/harness.c %t/k8.o %clusterrt_a -lm -o %t/k8 && \
// RUN:   %t/k8 > %t/k8.out && \
// RUN:   diff %t/float.out %t/k8.out || { echo "FAILED: --decode=$decode"; exit 1; }; \
// RUN: done
// RUN: clusterc --emit=obj --clusters=2 --min-elements=0 %tosa_input -o %t/k2.o
// RUN: %cc $(cat %t/defs) %S/Inputs/harness.c %t/k2.o %clusterrt_a -lm -o %t/k2
// RUN: %t/k2 > %t/k2.out
// RUN: not diff -q %t/float.out %t/k2.out
// RUN: clusterc --clusters=8 --min-elements=0 --report %tosa_input -o /dev/null 2>&1 | FileCheck %s
// CHECK: tconv.weight {{ *}}3x3x3x2 {{ *}}f32 {{ *}}8 {{.*}} 0 {{ *}}inf
// CHECK: totals: 1 of 1 weights clustered
func.func @forward(%x: tensor<1x4x4x2xf32>) -> tensor<1x9x9x3xf32> {
  %w = "tosa.const"() <{value = dense<[[[[-0.875, 0.375], [-0.375, 0.875], [0.125, -0.625]], [[0.625, -0.125], [-0.875, 0.375], [-0.375, 0.875]], [[0.125, -0.625], [0.625, -0.125], [-0.875, 0.375]]], [[[-0.375, 0.875], [0.125, -0.625], [0.625, -0.125]], [[-0.875, 0.375], [-0.375, 0.875], [0.125, -0.625]], [[0.625, -0.125], [-0.875, 0.375], [-0.375, 0.875]]], [[[0.125, -0.625], [0.625, -0.125], [-0.875, 0.375]], [[-0.375, 0.875], [0.125, -0.625], [0.625, -0.125]], [[-0.875, 0.375], [-0.375, 0.875], [0.125, -0.625]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32> loc("tconv.weight")
  %b = "tosa.const"() <{value = dense<[0.5, -0.25, 0.125]> : tensor<3xf32>}> : () -> tensor<3xf32> loc("tconv.bias")
  %y = tosa.transpose_conv2d %x, %w, %b {out_pad = array<i64: 0, 0, 0, 0>, out_shape = array<i64: 1, 9, 9, 3>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>) -> tensor<1x9x9x3xf32>
  return %y : tensor<1x9x9x3xf32>
}
