#!/usr/bin/python3
"""MLIR 19 against MLIR 22: training step time and compile time, side by side.

  bench/mlir-versions.py [--clusterc19 PATH] [--clusterc22 PATH] [--steps N] [--reps R]

Two builds of the same tree (scripts/build.sh release -> build/, scripts/build.sh
mlir22 -> build-mlir22/). Models: examples/gen-models.py --train (batch 64):
the MLP and the CNN in their tosa and linalg forms; the 22 build reads the
tosa ones through scripts/tosa-upgrade.py (TOSA 1.0). Figures:
  - step: `clusterc train`'s ms_per_step over N steps of Fashion-MNIST
    (filling the batch, the JIT-compiled step, Adam), float and STE (K = 16),
    one thread;
  - compile: wall time of `clusterc --emit=obj` (cluster, lower, LLVM -O2,
    object) of examples/mlp-linalg.mlir and examples/cnn-tosa.mlir.
The two builds alternate within each repetition; each figure is the median
of R repetitions and the ratio (22 / 19) the median of the per-repetition
ratios, so a change of load during the run hits both.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPGRADE = [sys.executable, os.path.join(ROOT, "scripts", "tosa-upgrade.py")]


def train_step(clusterc, model, mode, steps, tmp):
    log = os.path.join(tmp, "log.json")
    args = [clusterc, "train", model, "--mode=" + mode, "--epochs=1", "--quiet",
            "--limit-train=%d" % (64 * steps), "--limit-test=64", "--threads=1", "--log=" + log]
    if mode == "ste":
        args += ["--clusters=16"]
    subprocess.run(args, check=True)
    for line in open(log):
        j = json.loads(line)
        if j.get("epoch") == 1:
            return j["ms_per_step"]
    raise RuntimeError("no epoch line in " + log)


def compile_time(clusterc, model, tmp):
    t0 = time.perf_counter()
    subprocess.run([clusterc, "--emit=obj", model, "-o", os.path.join(tmp, "m.o")], check=True)
    return (time.perf_counter() - t0) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusterc19", default=os.path.join(ROOT, "build", "tools", "clusterc", "clusterc"))
    ap.add_argument("--clusterc22", default=os.path.join(ROOT, "build-mlir22", "tools", "clusterc", "clusterc"))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    builds = {"19": a.clusterc19, "22": a.clusterc22}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gen-models.py"), "--train", tmp, "64"],
                       check=True, stdout=subprocess.DEVNULL)
        models = {}  # (name, version) -> path
        for name in ("mlp-tosa", "mlp-linalg", "cnn-tosa", "cnn-linalg"):
            src = os.path.join(tmp, name + ".mlir")
            models[(name, "19")] = src
            models[(name, "22")] = os.path.join(tmp, name + ".22.mlir")
            subprocess.run(UPGRADE + [src, "-o", models[(name, "22")]], check=True)
        for name in ("mlp-linalg", "cnn-tosa"):
            src = os.path.join(ROOT, "examples", name + ".mlir")
            models[("ex-" + name, "19")] = src
            models[("ex-" + name, "22")] = os.path.join(tmp, "ex-" + name + ".22.mlir")
            subprocess.run(UPGRADE + [src, "-o", models[("ex-" + name, "22")]], check=True)
        rows = [("step", n, m) for n in ("mlp-tosa", "mlp-linalg", "cnn-tosa", "cnn-linalg") for m in ("float", "ste")]
        rows += [("compile", "ex-mlp-linalg", "-"), ("compile", "ex-cnn-tosa", "-")]
        res = {r: {"19": [], "22": []} for r in rows}
        for rep in range(a.reps):
            for r in rows:
                order = ("19", "22") if rep % 2 == 0 else ("22", "19")
                for v in order:
                    if r[0] == "step":
                        t = train_step(builds[v], models[(r[1], v)], r[2], a.steps, tmp)
                    else:
                        t = compile_time(builds[v], models[(r[1], v)], tmp)
                    res[r][v].append(t)
        load = os.getloadavg()[0]
        print("MLIR 19 vs 22, batch 64, 1 thread, medians of %d alternating repetitions (%d steps each); "
              "load average %.1f" % (a.reps, a.steps, load))
        print("%-8s %-14s %-6s %10s %10s %8s" % ("what", "model", "mode", "19 ms", "22 ms", "22/19"))
        for r in rows:
            t19, t22 = res[r]["19"], res[r]["22"]
            ratio = statistics.median(b / x for x, b in zip(t19, t22))
            print("%-8s %-14s %-6s %10.2f %10.2f %7.2fx" % (r[0], r[1].replace("ex-", ""), r[2],
                                                            statistics.median(t19), statistics.median(t22), ratio))


if __name__ == "__main__":
    main()
