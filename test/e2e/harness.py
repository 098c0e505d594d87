#!/usr/bin/env python3
"""Appends a runnable @main to a model for the numerical end-to-end tests.

  harness.py MODEL --input 1x28x28x1 [--input ...] [--fn forward] [--elt f32]

@main builds deterministic inputs (a fixed pseudo-random pattern), calls the
model function, and prints each result bit-cast to i32 with printMemrefI32,
so two runs can be compared bit for bit with diff.
"""
import argparse
import struct


def values(n, seed):
    # A fixed LCG: the same inputs on every machine, exactly representable
    # in f16 and bf16 too (multiples of 1/64 in [-2, 2)).
    x = seed
    out = []
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(((x >> 8) % 256 - 128) / 64.0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--input", action="append", required=True)
    ap.add_argument("--output", action="append", required=True)
    ap.add_argument("--fn", default="forward")
    ap.add_argument("--elt", default="f32")
    a = ap.parse_args()
    text = open(a.model).read()
    ibits = {"f32": "i32", "f16": "i16", "bf16": "i16"}[a.elt]
    lines = ["  func.func @main() {"]
    args = []
    for i, shape in enumerate(a.input):
        dims = [int(d) for d in shape.split("x")]
        n = 1
        for d in dims:
            n *= d
        t = "tensor<%sx%s>" % (shape, a.elt)
        vals = ", ".join("%r" % v for v in values(n, 7 + i))
        lines.append("    %%in%d = arith.constant dense<[%s]> : tensor<%dx%s>" % (i, vals, n, a.elt))
        lines.append("    %%x%d = tensor.expand_shape %%in%d [[%s]] output_shape [%s] : tensor<%dx%s> into %s"
                     % (i, i, ", ".join(str(j) for j in range(len(dims))), ", ".join(map(str, dims)), n, a.elt, t))
        args.append(("%%x%d" % i, t))
    outs = ["tensor<%sx%s>" % (s, a.elt) for s in a.output]
    lines.append("    %%r:%d = func.call @%s(%s) : (%s) -> (%s)" % (
        len(outs), a.fn, ", ".join(v for v, _ in args), ", ".join(t for _, t in args), ", ".join(outs)))
    for i, (s, t) in enumerate(zip(a.output, outs)):
        # Bit-cast elementwise in a linalg.generic (arith.bitcast on tensors
        # does not bufferize), widening 16-bit floats' bits to i32.
        rank = len(s.split("x"))
        dims = ", ".join("d%d" % j for j in range(rank))
        m = "affine_map<(%s) -> (%s)>" % (dims, dims)
        it = "tensor<%sxi32>" % s
        lines.append("    %%e%d = tensor.empty() : %s" % (i, it))
        lines.append("    %%b%d = linalg.generic {indexing_maps = [%s, %s], iterator_types = [%s]} "
                     "ins(%%r#%d : %s) outs(%%e%d : %s) {" % (i, m, m, ", ".join(['"parallel"'] * rank), i, t, i, it))
        lines.append("    ^bb0(%%v: %s, %%o: i32):" % a.elt)
        if ibits == "i16":
            lines.append("      %h = arith.bitcast %v : " + a.elt + " to i16")
            lines.append("      %c = arith.extui %h : i16 to i32")
        else:
            lines.append("      %c = arith.bitcast %v : f32 to i32")
        lines.append("      linalg.yield %c : i32")
        lines.append("    } -> %s" % it)
        lines.append("    %%u%d = tensor.cast %%b%d : %s to tensor<*xi32>" % (i, i, it))
        lines.append("    func.call @printMemrefI32(%%u%d) : (tensor<*xi32>) -> ()" % i)
    lines.append("    return\n  }")
    lines.append("  func.func private @printMemrefI32(tensor<*xi32>)")
    main_text = "\n".join(lines) + "\n"
    end = text.find("{-#")
    head, tail = (text, "") if end < 0 else (text[:end], text[end:])
    close = head.rstrip().rfind("}")
    if head.lstrip().startswith("module") or "\nmodule" in head:
        out = head[:close] + main_text + head[close:] + tail
    else:
        out = "module {\n" + head + main_text + "}\n" + tail
    print(out)


if __name__ == "__main__":
    main()
