#!/usr/bin/env python3
"""Runs an imported ONNX model on its reference input and compares with
torch's output (the numerical tests of test/onnx).

  reference.py main MODEL.mlir INPUT.npy OUTPUT.npy [--fn forward] > run.mlir
      appends @main: the input as a constant, a call of the model, the
      result bit-cast to i32 and printed with printMemrefI32
  reference.py compare RUN.txt OUTPUT.npy [--rtol 1e-4]
      reads printMemrefI32's output; fails unless
      max |got - want| <= rtol * max |want|; prints the error
"""
import argparse
import re
import sys

import numpy as np

TYPES = {np.dtype("float32"): "f32", np.dtype("int64"): "i64", np.dtype("int32"): "i32"}


def tensor_type(a):
    return "tensor<%s%s>" % ("".join("%dx" % d for d in a.shape), TYPES[a.dtype])


def main_fn(a):
    text = open(a.model).read()
    x = np.load(a.input)
    y = np.load(a.output)
    xt, yt = tensor_type(x), tensor_type(y.astype(np.float32))
    it = "tensor<%si32>" % "".join("%dx" % d for d in y.shape)
    rank = y.ndim
    dims = ", ".join("d%d" % i for i in range(rank))
    m = "affine_map<(%s) -> (%s)>" % (dims, dims)
    lines = [
        "  func.func @main() {",
        '    %%x = arith.constant dense<"0x%s"> : %s' % (x.astype(x.dtype.newbyteorder("<")).tobytes().hex().upper(), xt),
        "    %%y = func.call @%s(%%x) : (%s) -> %s" % (a.fn, xt, yt),
        "    %%e = tensor.empty() : %s" % it,
        "    %%b = linalg.generic {indexing_maps = [%s, %s], iterator_types = [%s]} ins(%%y : %s) outs(%%e : %s) {"
        % (m, m, ", ".join(['"parallel"'] * rank), yt, it),
        "    ^bb0(%v: f32, %o: i32):",
        "      %c = arith.bitcast %v : f32 to i32",
        "      linalg.yield %c : i32",
        "    } -> %s" % it,
        "    %%u = tensor.cast %%b : %s to tensor<*xi32>" % it,
        "    func.call @printMemrefI32(%u) : (tensor<*xi32>) -> ()",
        "    return",
        "  }",
        "  func.func private @printMemrefI32(tensor<*xi32>)",
    ]
    end = text.find("{-#")
    head, tail = (text, "") if end < 0 else (text[:end], text[end:])
    close = head.rstrip().rfind("}")
    sys.stdout.write(head[:close] + "\n".join(lines) + "\n" + head[close:] + tail)


def compare(a):
    want = np.load(a.output).astype(np.float32).ravel()
    text = open(a.run).read()
    body = text[text.find("data =") + 6:] if "data =" in text else text
    got = np.array([int(v) for v in re.findall(r"-?\d+", body)], dtype=np.int64)
    got = got.astype(np.uint32).view(np.float32) if got.size else got.astype(np.float32)
    if got.size != want.size:
        sys.exit("compare: %d values, expected %d" % (got.size, want.size))
    err = float(np.max(np.abs(got - want)))
    scale = float(np.max(np.abs(want)))
    rel = err / scale if scale else err
    print("max abs error %.3g, max |want| %.3g, relative %.3g (limit %g)" % (err, scale, rel, a.rtol))
    if not np.isfinite(got).all() or rel > a.rtol:
        sys.exit("compare: FAILED")


def cli():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("main")
    m.add_argument("model")
    m.add_argument("input")
    m.add_argument("output")
    m.add_argument("--fn", default="forward")
    c = sub.add_parser("compare")
    c.add_argument("run")
    c.add_argument("output")
    c.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    main_fn(a) if a.cmd == "main" else compare(a)


if __name__ == "__main__":
    cli()
