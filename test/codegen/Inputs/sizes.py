#!/usr/bin/env python3
"""Section sizes of a model compiled to an object, unclustered and clustered.

  sizes.py [--clusterc=clusterc] [--readelf=llvm-readelf] [--min-ratio=R]
           MODEL [clusterc options...]

Compiles MODEL twice with `clusterc --emit=obj`: once with no weight
selected (--only matching nothing: the unclustered model through the same
pipeline) and once with the given options (e.g. --clusters=16), reads the
section headers with llvm-readelf, and prints the bytes of .text, of every
.rodata* section (the constants: weights, centroid tables, packed indices),
of .bss (where --decode=runtime keeps the decoded weights: memory at run
time, no bytes in the file) and of the object file, with the ratios.
With --min-ratio=R, exits 1 unless .rodata shrank by at least R times.
"""
import argparse
import os
import subprocess
import sys
import tempfile


def sections(readelf, obj):
    """{section name: size} from `llvm-readelf -S -W`."""
    out = subprocess.run([readelf, "-S", "-W", obj], check=True,
                         capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("["):
            continue
        # [Nr] Name Type Address Off Size ES Flg Lk Inf Al
        fields = line.split("]", 1)[1].split()
        if len(fields) < 5 or fields[0] == "Name":
            continue
        sizes[fields[0]] = int(fields[4], 16)
    return sizes


def summary(readelf, obj):
    s = sections(readelf, obj)
    return {
        ".text": sum(v for k, v in s.items() if k.startswith(".text")),
        ".rodata": sum(v for k, v in s.items() if k.startswith(".rodata")),
        ".bss": sum(v for k, v in s.items() if k.startswith(".bss")),
        "object file": os.path.getsize(obj),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusterc", default="clusterc")
    ap.add_argument("--readelf", default="llvm-readelf")
    ap.add_argument("--min-ratio", type=float, default=0.0)
    ap.add_argument("model")
    a, opts = ap.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        objs = {}
        for kind, extra in (("unclustered", ["--only=-no-weight-matches-this-", "--allow-empty-selection"]),
                            ("clustered", opts)):
            objs[kind] = os.path.join(tmp, kind + ".o")
            subprocess.run([a.clusterc, "--emit=obj", *extra, a.model, "-o",
                            objs[kind]], check=True)
        before = summary(a.readelf, objs["unclustered"])
        after = summary(a.readelf, objs["clustered"])
    print("%s: clusterc --emit=obj %s" % (os.path.basename(a.model), " ".join(opts)))
    print("%-12s %12s %12s %8s" % ("bytes", "unclustered", "clustered", "ratio"))
    for key in before:
        b, c = before[key], after[key]
        ratio = "%.2fx" % (b / c) if b and c else "-"
        print("%-12s %12d %12d %8s" % (key, b, c, ratio))
    ratio = before[".rodata"] / max(after[".rodata"], 1)
    if ratio < a.min_ratio:
        print("error: .rodata shrank %.2fx, expected at least %.2fx" % (ratio, a.min_ratio))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
