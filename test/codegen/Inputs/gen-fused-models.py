#!/usr/bin/env python3
"""Writes the models of test/codegen/fused*.test (deterministic weights):

  fc-torch.mlir   torch-mlir's linalg form of a 64-48-32-10 MLP, batch 2:
                  weights behind a transposing linalg.generic (fc1, fc3) or a
                  linalg.transpose (fc2), linalg.matmul into a zero fill
                  (fc1, fc3) or into the broadcast bias (fc2)
  ops-tosa.mlir   one of each op decode=fused rewrites, chained: linalg
                  matmul, tosa.fully_connected, batch_matmul, a 1x1
                  conv_2d_nhwc_hwcf, tosa.matmul, a 1x1 tosa.conv2d, a 3x3
                  conv_2d_nhwc_hwcf (im2col), matvec, and a padded 3x3
                  tosa.conv2d that keeps its decode (TOSA 0.x: MLIR 19)
  conv-strided.mlir  3x3 convolutions with stride 2 and dilation 2 (im2col)

  python3 gen-fused-models.py OUTDIR
"""
import sys

state = [12345]


def rnd():
    state[0] = (state[0] * 1103515245 + 12345) & 0x7FFFFFFF
    return (state[0] >> 8) / float(1 << 23) - 0.5


def dense(shape, scale=1.0):
    def rec(d):
        if d == len(shape):
            return "%.6e" % (rnd() * scale)
        return "[" + ", ".join(rec(d + 1) for _ in range(shape[d])) + "]"
    return "dense<%s> : tensor<%sxf32>" % (rec(0), "x".join(map(str, shape)))


def t(shape):
    return "tensor<%sxf32>" % "x".join(map(str, shape))


ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
TR2 = "affine_map<(d0, d1) -> (d1, d0)>"
BIAS = "affine_map<(d0, d1) -> (d1)>"
PAR2 = '["parallel", "parallel"]'


def fc_torch():
    out = ["// torch-mlir's FC layers (gen-fused-models.py): 64-48-32-10, batch 2.",
           "module {",
           "  func.func @forward(%x: tensor<2x64xf32>) -> tensor<2x10xf32> {",
           "    %zero = arith.constant 0.0 : f32"]
    dims = [64, 48, 32, 10]
    cur = "%x"
    for i in range(3):
        k, n = dims[i], dims[i + 1]
        w, b = "%%w%d" % i, "%%b%d" % i
        out.append('    %s = arith.constant %s loc("fc%d.weight")' % (w, dense([n, k], 0.5), i + 1))
        out.append('    %s = arith.constant %s loc("fc%d.bias")' % (b, dense([n], 0.2), i + 1))
        out.append("    %%et%d = tensor.empty() : %s" % (i, t([k, n])))
        if i == 1:
            out.append("    %%wt%d = linalg.transpose ins(%s : %s) outs(%%et%d : %s) permutation = [1, 0]"
                       % (i, w, t([n, k]), i, t([k, n])))
        else:
            out.append("    %%wt%d = linalg.generic {indexing_maps = [%s, %s], iterator_types = %s} "
                       "ins(%s : %s) outs(%%et%d : %s) {" % (i, TR2, ID2, PAR2, w, t([n, k]), i, t([k, n])))
            out.append("    ^bb0(%in: f32, %out: f32):")
            out.append("      linalg.yield %in : f32")
            out.append("    } -> %s" % t([k, n]))
        out.append("    %%e%d = tensor.empty() : %s" % (i, t([2, n])))
        if i == 1:
            # torch-mlir's addmm form: the bias broadcast into the init.
            out.append("    %%z%d = linalg.generic {indexing_maps = [%s, %s], iterator_types = %s} "
                       "ins(%s : %s) outs(%%e%d : %s) {" % (i, BIAS, ID2, PAR2, b, t([n]), i, t([2, n])))
            out.append("    ^bb0(%in: f32, %out: f32):")
            out.append("      linalg.yield %in : f32")
            out.append("    } -> %s" % t([2, n]))
        else:
            out.append("    %%z%d = linalg.fill ins(%%zero : f32) outs(%%e%d : %s) -> %s"
                       % (i, i, t([2, n]), t([2, n])))
        out.append("    %%m%d = linalg.matmul ins(%s, %%wt%d : %s, %s) outs(%%z%d : %s) -> %s"
                   % (i, cur, i, t([2, k]), t([k, n]), i, t([2, n]), t([2, n])))
        if i == 1:
            cur = "%%m%d" % i
            continue
        out.append("    %%a%d = linalg.generic {indexing_maps = [%s, %s, %s], iterator_types = %s} "
                   "ins(%%m%d, %s : %s, %s) outs(%%e%d : %s) {"
                   % (i, ID2, BIAS, ID2, PAR2, i, b, t([2, n]), t([n]), i, t([2, n])))
        out.append("    ^bb0(%in: f32, %bias: f32, %out: f32):")
        out.append("      %s = arith.addf %in, %bias : f32")
        if i < 2:
            out.append("      %r = arith.maximumf %s, %zero : f32")
            out.append("      linalg.yield %r : f32")
        else:
            out.append("      linalg.yield %s : f32")
        out.append("    } -> %s" % t([2, n]))
        cur = "%%a%d" % i
    out.append("    return %s : tensor<2x10xf32>" % cur)
    out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def ops_tosa():
    o = ["// One of each op decode=fused rewrites (gen-fused-models.py); TOSA 0.x.",
         "module {",
         "  func.func @forward(%x: tensor<4x16xf32>) -> tensor<1x10xf32> {",
         "    %zero = arith.constant 0.0 : f32"]
    A = o.append
    # linalg.matmul, B constant [16, 24] (K x N), zero fill
    A('    %w1 = arith.constant ' + dense([16, 24]) + ' loc("mm.weight")')
    A("    %e1 = tensor.empty() : tensor<4x24xf32>")
    A("    %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x24xf32>) -> tensor<4x24xf32>")
    A("    %y1 = linalg.matmul ins(%x, %w1 : tensor<4x16xf32>, tensor<16x24xf32>) outs(%z1 : tensor<4x24xf32>) -> tensor<4x24xf32>")
    # tosa.fully_connected [20, 24] + bias
    A('    %w2 = "tosa.const"() {value = ' + dense([20, 24]) + '} : () -> tensor<20x24xf32> loc("fc.weight")')
    A('    %b2 = "tosa.const"() {value = ' + dense([20]) + '} : () -> tensor<20xf32> loc("fc.bias")')
    A("    %y2 = tosa.fully_connected %y1, %w2, %b2 : (tensor<4x24xf32>, tensor<20x24xf32>, tensor<20xf32>) -> tensor<4x20xf32>")
    # batch_matmul [1, 20, 12]
    A("    %x3 = tensor.expand_shape %y2 [[0, 1], [2]] output_shape [1, 4, 20] : tensor<4x20xf32> into tensor<1x4x20xf32>")
    A('    %w3 = arith.constant ' + dense([1, 20, 12]) + ' loc("bmm.weight")')
    A("    %e3 = tensor.empty() : tensor<1x4x12xf32>")
    A("    %z3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x12xf32>) -> tensor<1x4x12xf32>")
    A("    %y3 = linalg.batch_matmul ins(%x3, %w3 : tensor<1x4x20xf32>, tensor<1x20x12xf32>) outs(%z3 : tensor<1x4x12xf32>) -> tensor<1x4x12xf32>")
    # 1x1 conv_2d_nhwc_hwcf [1, 1, 12, 8]
    A("    %f3 = tensor.collapse_shape %y3 [[0, 1], [2]] : tensor<1x4x12xf32> into tensor<4x12xf32>")
    A("    %x4 = tensor.expand_shape %f3 [[0, 1, 2], [3]] output_shape [1, 2, 2, 12] : tensor<4x12xf32> into tensor<1x2x2x12xf32>")
    A('    %w4 = arith.constant ' + dense([1, 1, 12, 8]) + ' loc("conv1x1.weight")')
    A("    %e4 = tensor.empty() : tensor<1x2x2x8xf32>")
    A("    %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>")
    A("    %y4 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} "
      "ins(%x4, %w4 : tensor<1x2x2x12xf32>, tensor<1x1x12x8xf32>) outs(%z4 : tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>")
    # tosa.matmul [1, 8, 6]
    A("    %x5 = tensor.collapse_shape %y4 [[0], [1, 2], [3]] : tensor<1x2x2x8xf32> into tensor<1x4x8xf32>")
    A('    %w5 = "tosa.const"() {value = ' + dense([1, 8, 6]) + '} : () -> tensor<1x8x6xf32> loc("tmm.weight")')
    A("    %y5 = tosa.matmul %x5, %w5 : (tensor<1x4x8xf32>, tensor<1x8x6xf32>) -> tensor<1x4x6xf32>")
    # 1x1 tosa.conv2d [5, 1, 1, 6] + bias
    A("    %x6 = tensor.expand_shape %y5 [[0], [1, 2], [3]] output_shape [1, 2, 2, 6] : tensor<1x4x6xf32> into tensor<1x2x2x6xf32>")
    A('    %w6 = "tosa.const"() {value = ' + dense([5, 1, 1, 6]) + '} : () -> tensor<5x1x1x6xf32> loc("tconv.weight")')
    A('    %b6 = "tosa.const"() {value = ' + dense([5]) + '} : () -> tensor<5xf32> loc("tconv.bias")')
    A("    %y6 = tosa.conv2d %x6, %w6, %b6 {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} "
      ": (tensor<1x2x2x6xf32>, tensor<5x1x1x6xf32>, tensor<5xf32>) -> tensor<1x2x2x5xf32>")
    # a 3x3 conv on a padded input: im2col
    A("    %p7 = tensor.pad %y6 low[0, 1, 1, 0] high[0, 1, 1, 0] {")
    A("    ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):")
    A("      tensor.yield %zero : f32")
    A("    } : tensor<1x2x2x5xf32> to tensor<1x4x4x5xf32>")
    A('    %w7 = arith.constant ' + dense([3, 3, 5, 5]) + ' loc("conv3x3.weight")')
    A("    %e7 = tensor.empty() : tensor<1x2x2x5xf32>")
    A("    %z7 = linalg.fill ins(%zero : f32) outs(%e7 : tensor<1x2x2x5xf32>) -> tensor<1x2x2x5xf32>")
    A("    %y7 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} "
      "ins(%p7, %w7 : tensor<1x4x4x5xf32>, tensor<3x3x5x5xf32>) outs(%z7 : tensor<1x2x2x5xf32>) -> tensor<1x2x2x5xf32>")
    # a padded 3x3 tosa.conv2d: keeps its decode
    A('    %w9 = "tosa.const"() {value = ' + dense([5, 3, 3, 5]) + '} : () -> tensor<5x3x3x5xf32> loc("tconv3x3.weight")')
    A('    %b9 = "tosa.const"() {value = ' + dense([5]) + '} : () -> tensor<5xf32> loc("tconv3x3.bias")')
    A("    %y9 = tosa.conv2d %y7, %w9, %b9 {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} "
      ": (tensor<1x2x2x5xf32>, tensor<5x3x3x5xf32>, tensor<5xf32>) -> tensor<1x2x2x5xf32>")
    # linalg.matvec [10, 20]
    A("    %x8 = tensor.collapse_shape %y9 [[0, 1, 2, 3]] : tensor<1x2x2x5xf32> into tensor<20xf32>")
    A('    %w8 = arith.constant ' + dense([10, 20]) + ' loc("mv.weight")')
    A("    %e8 = tensor.empty() : tensor<10xf32>")
    A("    %z8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<10xf32>) -> tensor<10xf32>")
    A("    %y8 = linalg.matvec ins(%w8, %x8 : tensor<10x20xf32>, tensor<20xf32>) outs(%z8 : tensor<10xf32>) -> tensor<10xf32>")
    A("    %r = tensor.expand_shape %y8 [[0, 1]] output_shape [1, 10] : tensor<10xf32> into tensor<1x10xf32>")
    A("    return %r : tensor<1x10xf32>")
    A("  }")
    A("}")
    return "\n".join(o) + "\n"


def conv_strided():
    m = """// k x k convolutions through im2col (gen-fused-models.py): a 3x3
// conv_2d_nhwc_hwcf with stride 2 and a 3x3 conv_2d_nhwc_fhwc with dilation 2.
module {
  func.func @forward(%x: tensor<1x7x7x3xf32>) -> tensor<1x72xf32> {
    %zero = arith.constant 0.0 : f32
    %w1 = arith.constant W1 loc("s2.weight")
    %e1 = tensor.empty() : tensor<1x3x3x4xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
    %y1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w1 : tensor<1x7x7x3xf32>, tensor<3x3x3x4xf32>) outs(%z1 : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
    %w2 = arith.constant W2 loc("d2.weight")
    %y2 = linalg.conv_2d_nhwc_fhwc {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w2 : tensor<1x7x7x3xf32>, tensor<4x3x3x3xf32>) outs(%z1 : tensor<1x3x3x4xf32>) -> tensor<1x3x3x4xf32>
    %c1 = tensor.collapse_shape %y1 [[0], [1, 2, 3]] : tensor<1x3x3x4xf32> into tensor<1x36xf32>
    %c2 = tensor.collapse_shape %y2 [[0], [1, 2, 3]] : tensor<1x3x3x4xf32> into tensor<1x36xf32>
    %e = tensor.empty() : tensor<1x72xf32>
    %i1 = tensor.insert_slice %c1 into %e[0, 0] [1, 36] [1, 1] : tensor<1x36xf32> into tensor<1x72xf32>
    %i2 = tensor.insert_slice %c2 into %i1[0, 36] [1, 36] [1, 1] : tensor<1x36xf32> into tensor<1x72xf32>
    return %i2 : tensor<1x72xf32>
  }
}
"""
    return m.replace("W1", dense([3, 3, 3, 4])).replace("W2", dense([4, 3, 3, 3]))


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(d + "/fc-torch.mlir", "w") as f:
        f.write(fc_torch())
    with open(d + "/ops-tosa.mlir", "w") as f:
        f.write(ops_tosa())
    with open(d + "/conv-strided.mlir", "w") as f:
        f.write(conv_strided())
