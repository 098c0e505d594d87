#!/usr/bin/env python3
"""Compares two model outputs printed as float bits (one signed 32-bit
integer per line, as harness.c and the JIT harness print them):

  close.py REF OUT [--rel R]

passes when both have the same count and max |out - ref| <= R * max |ref|
(default R = 1e-5, the tolerance docs/CODEGEN.md states for decode=fused
against decode=generic); prints the largest difference either way."""
import struct
import sys


def floats(path):
    with open(path) as f:
        return [struct.unpack("<f", struct.pack("<i", int(l)))[0] for l in f if l.strip()]


args = sys.argv[1:]
rel = 1e-5
if "--rel" in args:
    i = args.index("--rel")
    rel = float(args[i + 1])
    del args[i:i + 2]
ref, out = floats(args[0]), floats(args[1])
if len(ref) != len(out) or not ref:
    sys.exit("close.py: %d values in %s, %d in %s" % (len(ref), args[0], len(out), args[1]))
scale = max(abs(v) for v in ref)
diff = max(abs(a - b) for a, b in zip(ref, out))
print("max |diff| %.3g, max |ref| %.3g, relative %.3g (limit %.3g)"
      % (diff, scale, diff / scale if scale else diff, rel))
sys.exit(0 if diff <= rel * scale else 1)
