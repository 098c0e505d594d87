#!/usr/bin/env python3
"""Writes torchvision-sized models in torch-mlir's linalg-on-tensors form,
for bench/large-models.sh (not checked in: VGG-11 is a 1 GB file).

    bench/gen-large-models.py OUTDIR [--models=resnet18,resnet50,vgg11] [--seed=N]

Each model has the layer shapes and the parameter count of its torchvision
namesake (ResNet-18 11,689,512; ResNet-50 25,557,032; VGG-11 132,863,336),
with random weights (He-normal, float32) stored as dense_resource blobs at
the end of the file, as torch-mlir writes them. The compute is the real
network at 1x3x224x224 in NCHW, with eval-mode batch norm folded to a
per-channel scale and shift (the two vectors torchvision counts as
parameters): tensor.pad + linalg.conv_2d_nchw_fchw, linalg.pooling_nchw_max
and _sum, linalg.generic for the elementwise ops, and linalg.transpose +
linalg.matmul for the classifier, so cluster-weights finds every conv and
fc weight as a weight and every batch-norm vector and bias as a bias.

Needs numpy (Debian: python3-numpy).
"""
import argparse
import os
import sys

import numpy as np

MAPS = """#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#col2 = affine_map<(d0, d1) -> (d1)>
"""


class Model:
    """Emits SSA ops into a function body and collects the blobs."""

    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.blobs = []  # (name, float32 array)
        self.n = 0
        self.params = 0

    def tmp(self):
        self.n += 1
        return "%%v%d" % self.n

    def emit(self, s):
        self.lines.append("    " + s)

    def const(self, name, shape, std=None, fill=None):
        if fill is not None:
            a = np.full(shape, fill, dtype=np.float32)
        else:
            a = (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std))
        self.blobs.append((name, a))
        self.params += a.size
        v = self.tmp()
        self.emit('%s = arith.constant dense_resource<%s> : %s loc("%s")'
                  % (v, name, ty(shape), name))
        return v

    def empty(self, shape, fill=None):
        e = self.tmp()
        self.emit("%s = tensor.empty() : %s" % (e, ty(shape)))
        if fill is None:
            return e
        f = self.tmp()
        self.emit("%s = linalg.fill ins(%s : f32) outs(%s : %s) -> %s"
                  % (f, fill, e, ty(shape), ty(shape)))
        return f

    def pad(self, x, shape, p, value="%zero"):
        if p == 0:
            return x, shape
        out = [shape[0], shape[1], shape[2] + 2 * p, shape[3] + 2 * p]
        v = self.tmp()
        self.emit("%s = tensor.pad %s low[0, 0, %d, %d] high[0, 0, %d, %d] {" % (v, x, p, p, p, p))
        self.emit("^bb0(%i0: index, %i1: index, %i2: index, %i3: index):")
        self.emit("  tensor.yield %s : f32" % value)
        self.emit("} : %s to %s" % (ty(shape), ty(out)))
        return v, out

    def conv(self, name, x, shape, cout, k, stride, pad):
        cin = shape[1]
        w = self.const(name + ".weight", [cout, cin, k, k], std=(2.0 / (cin * k * k)) ** 0.5)
        xp, ps = self.pad(x, shape, pad)
        oh = (ps[2] - k) // stride + 1
        ow = (ps[3] - k) // stride + 1
        out = [shape[0], cout, oh, ow]
        z = self.empty(out, "%zero")
        v = self.tmp()
        self.emit("%s = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, "
                  "strides = dense<%d> : vector<2xi64>} ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (v, stride, xp, w, ty(ps), ty([cout, cin, k, k]), z, ty(out), ty(out)))
        return v, out

    def channel_affine(self, x, shape, scale, shift, relu):
        """y = x * scale[c] + shift[c] (folded batch norm or a bias), then ReLU."""
        e = self.empty(shape)
        v = self.tmp()
        ins = [x] + ([scale] if scale else []) + [shift]
        tys = [ty(shape)] + ([ty([shape[1]])] * (len(ins) - 1))
        maps = ["#id4"] + ["#ch4"] * (len(ins) - 1) + ["#id4"]
        self.emit("%s = linalg.generic {indexing_maps = [%s], iterator_types = "
                  "[\"parallel\", \"parallel\", \"parallel\", \"parallel\"]} ins(%s : %s) outs(%s : %s) {"
                  % (v, ", ".join(maps), ", ".join(ins), ", ".join(tys), e, ty(shape)))
        args = ", ".join("%%a%d: f32" % i for i in range(len(ins) + 1))
        self.emit("^bb0(%s):" % args)
        if scale:
            self.emit("  %m = arith.mulf %a0, %a1 : f32")
            self.emit("  %s = arith.addf %m, %a2 : f32")
        else:
            self.emit("  %s = arith.addf %a0, %a1 : f32")
        if relu:
            self.emit("  %r = arith.maximumf %s, %zero : f32")
            self.emit("  linalg.yield %r : f32")
        else:
            self.emit("  linalg.yield %s : f32")
        self.emit("} -> %s" % ty(shape))
        return v

    def bn(self, name, x, shape, relu):
        c = shape[1]
        g = self.const(name + ".weight", [c], fill=1.0)
        b = self.const(name + ".bias", [c], fill=0.0)
        return self.channel_affine(x, shape, g, b, relu)

    def add_relu(self, x, y, shape):
        e = self.empty(shape)
        v = self.tmp()
        self.emit("%s = linalg.generic {indexing_maps = [#id4, #id4, #id4], iterator_types = "
                  "[\"parallel\", \"parallel\", \"parallel\", \"parallel\"]} ins(%s, %s : %s, %s) outs(%s : %s) {"
                  % (v, x, y, ty(shape), ty(shape), e, ty(shape)))
        self.emit("^bb0(%a: f32, %b: f32, %o: f32):")
        self.emit("  %s = arith.addf %a, %b : f32")
        self.emit("  %r = arith.maximumf %s, %zero : f32")
        self.emit("  linalg.yield %r : f32")
        self.emit("} -> %s" % ty(shape))
        return v

    def maxpool(self, x, shape, k, stride, pad):
        xp, ps = self.pad(x, shape, pad, "%ninf")
        out = [shape[0], shape[1], (ps[2] - k) // stride + 1, (ps[3] - k) // stride + 1]
        win = self.empty([k, k])
        z = self.empty(out, "%ninf")
        v = self.tmp()
        self.emit("%s = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, "
                  "strides = dense<%d> : vector<2xi64>} ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (v, stride, xp, win, ty(ps), ty([k, k]), z, ty(out), ty(out)))
        return v, out

    def avgpool_flatten(self, x, shape):
        """Global average pool (sum, then a scale folded into the classifier's
        input) and flatten to [N, C * H' * W']."""
        k = shape[2]
        out = [shape[0], shape[1], 1, 1]
        win = self.empty([k, k])
        z = self.empty(out, "%zero")
        v = self.tmp()
        self.emit("%s = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, "
                  "strides = dense<1> : vector<2xi64>} ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (v, x, win, ty(shape), ty([k, k]), z, ty(out), ty(out)))
        return self.flatten(v, out)

    def flatten(self, x, shape):
        flat = [shape[0], shape[1] * shape[2] * shape[3]]
        v = self.tmp()
        self.emit("%s = tensor.collapse_shape %s [[0], [1, 2, 3]] : %s into %s"
                  % (v, x, ty(shape), ty(flat)))
        return v, flat

    def linear(self, name, x, shape, nout, relu):
        nin = shape[1]
        w = self.const(name + ".weight", [nout, nin], std=(1.0 / nin) ** 0.5)
        b = self.const(name + ".bias", [nout], fill=0.0)
        et = self.empty([nin, nout])
        wt = self.tmp()
        self.emit("%s = linalg.transpose ins(%s : %s) outs(%s : %s) permutation = [1, 0]"
                  % (wt, w, ty([nout, nin]), et, ty([nin, nout])))
        out = [shape[0], nout]
        z = self.empty(out, "%zero")
        m = self.tmp()
        self.emit("%s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (m, x, wt, ty(shape), ty([nin, nout]), z, ty(out), ty(out)))
        e = self.empty(out)
        v = self.tmp()
        self.emit("%s = linalg.generic {indexing_maps = [#id2, #col2, #id2], iterator_types = "
                  "[\"parallel\", \"parallel\"]} ins(%s, %s : %s, %s) outs(%s : %s) {"
                  % (v, m, b, ty(out), ty([nout]), e, ty(out)))
        self.emit("^bb0(%a: f32, %b: f32, %o: f32):")
        self.emit("  %s = arith.addf %a, %b : f32")
        if relu:
            self.emit("  %r = arith.maximumf %s, %zero : f32")
            self.emit("  linalg.yield %r : f32")
        else:
            self.emit("  linalg.yield %s : f32")
        self.emit("} -> %s" % ty(out))
        return v, out


def ty(shape):
    return "tensor<%sxf32>" % "x".join(str(d) for d in shape)


def resnet(m, x, shape, blocks, bottleneck):
    v, s = m.conv("conv1", x, shape, 64, 7, 2, 3)
    v = m.bn("bn1", v, s, True)
    v, s = m.maxpool(v, s, 3, 2, 1)
    expansion = 4 if bottleneck else 1
    for li, (n, width) in enumerate(zip(blocks, [64, 128, 256, 512])):
        for bi in range(n):
            p = "layer%d.%d" % (li + 1, bi)
            stride = 2 if bi == 0 and li > 0 else 1
            cin, cout = s[1], width * expansion
            if bottleneck:
                y, ys = m.conv(p + ".conv1", v, s, width, 1, 1, 0)
                y = m.bn(p + ".bn1", y, ys, True)
                y, ys = m.conv(p + ".conv2", y, ys, width, 3, stride, 1)
                y = m.bn(p + ".bn2", y, ys, True)
                y, ys = m.conv(p + ".conv3", y, ys, cout, 1, 1, 0)
                y = m.bn(p + ".bn3", y, ys, False)
            else:
                y, ys = m.conv(p + ".conv1", v, s, width, 3, stride, 1)
                y = m.bn(p + ".bn1", y, ys, True)
                y, ys = m.conv(p + ".conv2", y, ys, width, 3, 1, 1)
                y = m.bn(p + ".bn2", y, ys, False)
            if stride != 1 or cin != cout:
                d, ds = m.conv(p + ".downsample.0", v, s, cout, 1, stride, 0)
                d = m.bn(p + ".downsample.1", d, ds, False)
            else:
                d = v
            v, s = m.add_relu(y, d, ys), ys
    v, s = m.avgpool_flatten(v, s)
    return m.linear("fc", v, s, 1000, False)


def vgg11(m, x, shape):
    cfg = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
    v, s, i = x, shape, 0
    for c in cfg:
        if c == "M":
            v, s = m.maxpool(v, s, 2, 2, 0)
        else:
            name = "features.%d" % i
            v, s = m.conv(name, v, s, c, 3, 1, 1)
            b = m.const(name + ".bias", [c], fill=0.0)
            v = m.channel_affine(v, s, None, b, True)
            i += 2
        i += 1 if c == "M" else 0
    v, s = m.flatten(v, s)  # 1x512x7x7: torchvision's adaptive pool is the identity here
    v, s = m.linear("classifier.0", v, s, 4096, True)
    v, s = m.linear("classifier.3", v, s, 4096, True)
    return m.linear("classifier.6", v, s, 1000, False)


MODELS = {
    "resnet18": (lambda m, x, s: resnet(m, x, s, [2, 2, 2, 2], False), 11689512),
    "resnet50": (lambda m, x, s: resnet(m, x, s, [3, 4, 6, 3], True), 25557032),
    "vgg11": (vgg11, 132863336),
}


def write(path, name, build, seed):
    m = Model(np.random.default_rng(seed))
    shape = [1, 3, 224, 224]
    out, oshape = build(m, "%x", shape)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("// %s (torchvision shapes, random weights): bench/gen-large-models.py\n" % name)
        f.write(MAPS)
        f.write("module {\n  func.func @forward(%%x: %s) -> %s {\n" % (ty(shape), ty(oshape)))
        f.write("    %zero = arith.constant 0.000000e+00 : f32\n")
        f.write("    %ninf = arith.constant 0xFF800000 : f32\n")
        f.write("\n".join(m.lines))
        f.write("\n    return %s : %s\n  }\n}\n" % (out, ty(oshape)))
        f.write("\n{-#\n  dialect_resources: {\n    builtin: {\n")
        for i, (bname, a) in enumerate(m.blobs):
            # 4-byte alignment, then the little-endian float32 data in hex.
            f.write('      %s: "0x04000000' % bname)
            flat = a.astype("<f4", copy=False).reshape(-1)
            step = 1 << 20
            for at in range(0, flat.size, step):
                f.write(flat[at:at + step].tobytes().hex().upper())
            f.write('"%s\n' % ("," if i + 1 < len(m.blobs) else ""))
        f.write("    }\n  }\n#-}\n")
    os.replace(tmp, path)
    return m.params


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--models", default="resnet18,resnet50,vgg11")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    for name in a.models.split(","):
        if name not in MODELS:
            sys.exit("gen-large-models.py: unknown model '%s' (%s)" % (name, ", ".join(MODELS)))
        build, expect = MODELS[name]
        path = os.path.join(a.outdir, name + ".mlir")
        n = write(path, name, build, a.seed)
        if n != expect:
            sys.exit("gen-large-models.py: %s has %d parameters, torchvision's has %d"
                     % (name, n, expect))
        print("%s: %d parameters, %d bytes" % (path, n, os.path.getsize(path)))


if __name__ == "__main__":
    main()
