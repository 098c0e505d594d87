#!/usr/bin/env python3
"""Rewrites an f32 model (examples/gen-models.py's text: dense_resource
blobs in the file) into f16 or bf16: every f32 type becomes T, every blob
is rounded to T (to nearest even), and the -FLT_MAX of max pooling becomes
T's largest negative value.

  to-half.py IN.mlir OUT.mlir bf16|f16
"""
import re
import struct
import sys


def bf16(f):
    (x,) = struct.unpack("<I", struct.pack("<f", f))
    x = (x + 0x7FFF + ((x >> 16) & 1)) >> 16
    return struct.pack("<H", x & 0xFFFF)


def f16(f):
    return struct.pack("<e", f)


def main():
    src, dst, t = sys.argv[1:4]
    conv = {"bf16": bf16, "f16": f16}[t]
    text = open(src).read()
    ir, sep, res = text.partition("{-#")
    ir = re.sub(r"\bf32\b", t, ir.replace("xf32>", "x%s>" % t))
    ir = ir.replace("-3.40282347E+38", "-3.38953139E+38" if t == "bf16" else "-6.550400e+04")

    def blob(m):
        data = bytes.fromhex(m.group(2))
        vals = struct.unpack("<%df" % (len(data) // 4), data)
        return '%s"0x02000000%s"' % (m.group(1), b"".join(conv(v) for v in vals).hex().upper())

    res = re.sub(r'(\w[\w.]*: )"0x04000000([0-9A-Fa-f]*)"', blob, res)
    open(dst, "w").write(ir + sep + res)


if __name__ == "__main__":
    main()
