#!/usr/bin/env python3
"""Writes a .npy file without NumPy (for table=FILE.npy tests):

  write-npy.py OUT DTYPE SHAPE V0 V1 ...

DTYPE is f4, f8 or f2 (little-endian); SHAPE is K or TxK."""
import struct
import sys

out, dt, shape = sys.argv[1], sys.argv[2], sys.argv[3]
vals = [float(v) for v in sys.argv[4:]]
dims = [int(d) for d in shape.split("x")]
tup = "(%d,)" % dims[0] if len(dims) == 1 else "(%s)" % ", ".join(map(str, dims))
hdr = "{'descr': '<%s', 'fortran_order': False, 'shape': %s, }" % (dt, tup)
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
fmt = {"f4": "<f", "f8": "<d", "f2": "<e"}[dt]
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(b"".join(struct.pack(fmt, v) for v in vals))
