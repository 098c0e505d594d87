#!/usr/bin/env python3
"""Small data sets for data-path.test, written without numpy: .npy arrays,
PNG folders, and the regression targets the data path must produce from
them (an independent reference of train/transform.c: zero padding,
PyTorch's bilinear (align_corners=False) and nearest resizing, channel
replication, per-channel normalisation, CHW order). With torch installed,
the resizing reference is checked against torch.nn.functional.interpolate.

usage: gen-data-path.py OUTDIR
"""
import math, os, struct, sys, zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def npy(path, dtype, shape, values):
    code = {"u1": "|u1", "f4": "<f4", "i4": "<i4"}[dtype]
    fmt = {"u1": "B", "f4": "f", "i4": "i"}[dtype]
    shp = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (code, shp)
    hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))


def png(path, h, w, rows, color):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if color else 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def coord(o, n_in, n_out, nearest):
    """PyTorch's source index (i0, i1, weight of i1) along one axis."""
    if n_in == n_out:
        return o, o, 0.0
    scale = n_in / n_out
    if nearest:
        i = min(int(math.floor(o * scale)), n_in - 1)
        return i, i, 0.0
    s = max((o + 0.5) * scale - 0.5, 0.0)
    i = min(int(s), n_in - 1)
    return i, min(i + 1, n_in - 1), s - i


def transform(img, h, w, c, pad, dh, dw, dc, mean, std, nearest=False):
    """img[y][x][ch] (HWC floats) -> CHW list of the model's input."""
    ph, pw = h + 2 * pad, w + 2 * pad
    def at(y, x, ch):
        y, x = y - pad, x - pad
        return img[y][x][ch] if 0 <= y < h and 0 <= x < w else 0.0
    res = [0.0] * (dc * dh * dw)
    for y in range(dh):
        y0, y1, fy = coord(y, ph, dh, nearest)
        for x in range(dw):
            x0, x1, fx = coord(x, pw, dw, nearest)
            for ch in range(dc):
                sc = 0 if c == 1 else ch
                top = at(y0, x0, sc) * (1 - fx) + at(y0, x1, sc) * fx
                bot = at(y1, x0, sc) * (1 - fx) + at(y1, x1, sc) * fx
                v = top * (1 - fy) + bot * fy
                if mean:
                    k = 0 if len(mean) == 1 else ch
                    v = (v - mean[k]) / std[k]
                res[(ch * dh + y) * dw + x] = v
    return res


N = 4
# A: u8 gray 4x4 -> pad 1 -> 6x6, replicated to 3 channels, normalised per channel.
a = [[(17 * i + 29 * y + 7 * x * x) % 256 for y in range(4) for x in range(4)] for i in range(N)]
npy(os.path.join(out, "a.npy"), "u1", (N, 4, 4), sum(a, []))
mean, std = [0.5, 0.4, 0.3], [0.25, 0.5, 2.0]
ta = [transform([[[a[i][y * 4 + x] / 255.0] for x in range(4)] for y in range(4)], 4, 4, 1, 1,
                6, 6, 3, mean, std) for i in range(N)]
npy(os.path.join(out, "a-targets.npy"), "f4", (N, 108), sum(ta, []))

# B, C: f32 RGB 5x7 (HWC) -> 6x6, bilinear and nearest, to CHW.
b = [[[[((i + 1) * 0.1 + y * 0.37 - x * 0.21 + ch * 0.5) % 1.0 for ch in range(3)]
       for x in range(7)] for y in range(5)] for i in range(N)]
npy(os.path.join(out, "b.npy"), "f4", (N, 5, 7, 3),
    [v for im in b for row in im for px in row for v in px])
tb = [transform(im, 5, 7, 3, 0, 6, 6, 3, None, None) for im in b]
tc = [transform(im, 5, 7, 3, 0, 6, 6, 3, None, None, nearest=True) for im in b]
npy(os.path.join(out, "b-bilinear.npy"), "f4", (N, 108), sum(tb, []))
npy(os.path.join(out, "b-nearest.npy"), "f4", (N, 108), sum(tc, []))
try:
    import torch
    import torch.nn.functional as F
    x = torch.tensor(b, dtype=torch.float64).permute(0, 3, 1, 2)
    for mode, ref in (("bilinear", tb), ("nearest", tc)):
        kw = {"align_corners": False} if mode == "bilinear" else {}
        got = F.interpolate(x, size=(6, 6), mode=mode, **kw).reshape(N, -1).tolist()
        err = max(abs(p - q) for g, r in zip(got, ref) for p, q in zip(g, r))
        if err > 1e-9:
            sys.exit("gen-data-path.py: the %s reference differs from torch by %g" % (mode, err))
except ImportError:
    pass

# D: two inputs, target x1 - x2.
x1 = [((i * 4 + j) * 0.13) % 1.0 for i in range(N) for j in range(4)]
x2 = [((i * 4 + j) * 0.29) % 1.0 for i in range(N) for j in range(4)]
npy(os.path.join(out, "d1.npy"), "f4", (N, 4), x1)
npy(os.path.join(out, "d2.npy"), "f4", (N, 4), x2)
npy(os.path.join(out, "d-targets.npy"), "f4", (N, 4), [p - q for p, q in zip(x1, x2)])
npy(os.path.join(out, "d-labels.npy"), "i4", (N,), [0, 1, 2, 3])

# E: PNG folders, class k bright in channel k (one gray image in class 0).
for names, root in ((["0", "1", "2"], "png"), (["apple", "banana", "cherry"], "png-named")):
    for k, name in enumerate(names):
        d = os.path.join(out, root, name)
        os.makedirs(d, exist_ok=True)
        for n in range(2):
            rows = [[(200 if ch == k else 20 + 10 * n) for x in range(4) for ch in range(3)]
                    for y in range(4)]
            png(os.path.join(d, "img%d.png" % n), 4, 4, rows, True)
        if k == 0:
            png(os.path.join(d, "gray.png"), 4, 4, [[90] * 4 for _ in range(4)], False)
# A folder whose images differ in size.
d = os.path.join(out, "png-bad", "0")
os.makedirs(d, exist_ok=True)
png(os.path.join(d, "a.png"), 4, 4, [[0] * 4] * 4, False)
png(os.path.join(d, "b.png"), 5, 4, [[0] * 4] * 5, False)
