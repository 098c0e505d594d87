#!/usr/bin/env python3
"""End-to-end model benchmark for decode=fused (docs/PERFORMANCE.md).

Compiles one MLP (torch-mlir's linalg form: weights [out, in] behind
linalg.transpose, batch 1) four ways and runs each compiled object through
test/codegen/Inputs/harness.c, interleaved, several rounds:

  float    --only=none: the unclustered model through the same pipeline
           (contractions as loop nests, clusterc's default for objects)
  blas     --only=none --contractions=gemm: the unclustered model with its
           matrix products as calls of libclusterrt's SGEMM (within
           0.6-1.1x of OpenBLAS's time, docs/PERFORMANCE.md): the float
           baseline a user who cares about speed compiles
  generic  --clusters=K: the decode inlined, run on every call
  runtime  --clusters=K --decode=runtime: decoded once at load time
  fused    --clusters=K --decode=fused: the LUT kernels on packed indices

and prints, per mode: the weight bytes of the object (.rodata + .bss, the
packed or float weights), the peak RSS of the process (/usr/bin/time's
%M, so it includes the weights the calls touched), and the median time
per forward call (median over rounds of each run's median over --calls
calls), with ratios to float.

  bench/model-bench.py [--build DIR] [--dims 784,256,128,10] [--clusters 16]
                       [--rounds 5] [--calls 200] [--modes float,blas,generic,runtime,fused]
  bench/model-bench.py --model resnet18.onnx --input 1,3,224,224 --output 1,1000 ...

--model takes any model clusterc reads (MLIR or ONNX, e.g. from
scripts/export-torchvision.py) with one f32 input and output of the shapes
given, in place of the MLP.

--dims other than the bundled MLP's writes a model with seeded random
weights to the work directory (e.g. 4096,4096,4096,10: 134 MB of float
weights). Needs a C compiler (cc) and llvm-size (llvm-19).
"""
import argparse
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write_mlp(path, dims, seed=1):
    """The bundled MLP's form with other sizes (examples/gen-models.py)."""
    rng = random.Random(seed)
    t = lambda s: "tensor<%sxf32>" % "x".join(map(str, s))
    s = ["#map_row = affine_map<(d0, d1) -> (d0, d1)>",
         "#map_bias = affine_map<(d0, d1) -> (d1)>",
         "module {",
         "  func.func @forward(%%x: %s) -> %s {" % (t([1, dims[0]]), t([1, dims[-1]])),
         "    %zero = arith.constant 0.000000e+00 : f32"]
    blobs = []
    h = "%x"
    for i in range(len(dims) - 1):
        fin, fout = dims[i], dims[i + 1]
        scale = (6.0 / fin) ** 0.5
        w = struct.pack("<%df" % (fin * fout), *((rng.random() - 0.5) * scale for _ in range(fin * fout)))
        blobs.append(("fc%d.weight" % i, w))
        blobs.append(("fc%d.bias" % i, bytes(4 * fout)))
        s.append('    %%w%d = arith.constant dense_resource<fc%d.weight> : %s loc("fc%d.weight")' % (i, i, t([fout, fin]), i))
        s.append('    %%b%d = arith.constant dense_resource<fc%d.bias> : %s loc("fc%d.bias")' % (i, i, t([fout]), i))
        s.append("    %%et%d = tensor.empty() : %s" % (i, t([fin, fout])))
        s.append("    %%wt%d = linalg.transpose ins(%%w%d : %s) outs(%%et%d : %s) permutation = [1, 0]" % (i, i, t([fout, fin]), i, t([fin, fout])))
        s.append("    %%e%d = tensor.empty() : %s" % (i, t([1, fout])))
        s.append("    %%z%d = linalg.fill ins(%%zero : f32) outs(%%e%d : %s) -> %s" % (i, i, t([1, fout]), t([1, fout])))
        s.append("    %%m%d = linalg.matmul ins(%s, %%wt%d : %s, %s) outs(%%z%d : %s) -> %s" % (i, h, i, t([1, fin]), t([fin, fout]), i, t([1, fout]), t([1, fout])))
        s.append('    %%a%d = linalg.generic {indexing_maps = [#map_row, #map_bias, #map_row], iterator_types = ["parallel", "parallel"]} '
                 "ins(%%m%d, %%b%d : %s, %s) outs(%%e%d : %s) {" % (i, i, i, t([1, fout]), t([fout]), i, t([1, fout])))
        s.append("    ^bb0(%in: f32, %bias: f32, %out: f32):")
        s.append("      %s = arith.addf %in, %bias : f32")
        s.append("      %r = arith.maximumf %s, %zero : f32")
        s.append("      linalg.yield %r : f32")
        s.append("    } -> %s" % t([1, fout]))
        h = "%%a%d" % i
    s.append("    return %s : %s" % (h, t([1, dims[-1]])))
    s.append("  }")
    s.append("}")
    s.append("{-#\n  dialect_resources: {\n    builtin: {")
    s.append(",\n".join('      %s: "0x04000000%s"' % (n, b.hex().upper()) for n, b in blobs))
    s.append("    }\n  }\n#-}")
    with open(path, "w") as f:
        f.write("\n".join(s) + "\n")


def run_child(cmd):
    """Runs cmd under /usr/bin/time; returns (its stderr, peak RSS in KiB).
    (getrusage of a child forked from Python would count Python's pages.)"""
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.decode()
    if p.returncode:
        sys.exit("%s failed: %s" % (" ".join(cmd), err))
    return err, int(re.search(r"maxrss (\d+)", err).group(1))


def weight_bytes(obj):
    out = subprocess.check_output(["llvm-size-19", "-A", obj]).decode()
    return sum(int(l.split()[1]) for l in out.splitlines()
               if re.match(r"\.(rodata|bss)", l))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dims", default="784,256,128,10")
    ap.add_argument("--clusters", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--modes", default="float,blas,generic,runtime,fused")
    ap.add_argument("--keep", help="work directory (default: a temporary one)")
    ap.add_argument("--model", help="another model (MLIR or ONNX) instead of the MLP")
    ap.add_argument("--input", help="with --model: its input shape, e.g. 1,3,224,224")
    ap.add_argument("--output", help="with --model: its output shape, e.g. 1,1000")
    a = ap.parse_args()
    dims = [int(d) for d in a.dims.split(",")]
    work = a.keep or tempfile.mkdtemp(prefix="model-bench.")
    os.makedirs(work, exist_ok=True)
    clusterc = os.path.join(a.build, "tools", "clusterc", "clusterc")
    rt = os.path.join(a.build, "runtime", "libclusterrt.a")
    model = os.path.join(ROOT, "examples", "mlp-linalg.mlir")
    ins, outs = [1, dims[0]], [1, dims[-1]]
    if a.model:
        if not (a.input and a.output):
            sys.exit("model-bench: --model needs --input and --output shapes")
        model = os.path.abspath(a.model)
        ins = [int(d) for d in a.input.split(",")]
        outs = [int(d) for d in a.output.split(",")]
    elif dims != [784, 256, 128, 10]:
        model = os.path.join(work, "mlp-%s.mlir" % "-".join(map(str, dims)))
        if not os.path.exists(model):
            write_mlp(model, dims)
    opts = {"float": ["--only=none", "--allow-empty-selection"],
            "blas": ["--only=none", "--allow-empty-selection", "--contractions=gemm"], "generic": [], "runtime": ["--decode=runtime"],
            "fused": ["--decode=fused"]}
    modes = a.modes.split(",")
    exe, wbytes = {}, {}
    for m in modes:
        obj, hdr = os.path.join(work, m + ".o"), os.path.join(work, m + ".h")
        subprocess.check_call([clusterc, "--emit=obj", "--clusters=%d" % a.clusters] + opts[m] +
                              [model, "-o", obj, "--emit-header=" + hdr])
        exe[m] = os.path.join(work, m)
        subprocess.check_call(["cc", "-O2", "-I" + work, '-DMODEL_HEADER="%s"' % hdr,
                               "-DIN_RANK=%d" % len(ins), "-DIN_DIMS=" + ",".join(map(str, ins)),
                               "-DOUT_RANK=%d" % len(outs),
                               "-DOUT_DIMS=" + ",".join(map(str, outs)),
                               os.path.join(ROOT, "test", "codegen", "Inputs", "harness.c"),
                               obj, rt, "-lm", "-lpthread", "-o", exe[m]])
        wbytes[m] = weight_bytes(obj)
    times = {m: [] for m in modes}
    rss = {m: [] for m in modes}
    for r in range(a.rounds):
        for m in modes:
            err, kib = run_child([exe[m], str(a.calls)])
            times[m].append(float(re.search(r"median (\d+) ns", err).group(1)))
            rss[m].append(kib)
    base = "float" if "float" in modes else modes[0]
    tb = statistics.median(times[base])
    rb = statistics.median(rss[base])
    name = os.path.basename(a.model) if a.model else "MLP " + "-".join(map(str, dims))
    print("model: %s, input %s, K = %d; %d rounds x %d calls, interleaved; load average %.1f"
          % (name, "x".join(map(str, ins)), a.clusters, a.rounds, a.calls, os.getloadavg()[0]))
    print("%-8s %14s %12s %10s %14s %10s" % ("mode", "weight bytes", "peak RSS", "RSS/" + base,
                                           "time/call", "vs " + base))
    for m in modes:
        t = statistics.median(times[m])
        k = statistics.median(rss[m])
        print("%-8s %14d %9.1f MB %9.2fx %11.1f us %9.2fx" % (m, wbytes[m], k / 1024.0, k / rb,
                                                             t / 1000.0, tb / t))
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
