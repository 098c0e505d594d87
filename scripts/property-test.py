#!/usr/bin/env python3
"""Property test of clusterc and clusterc train (issue 18).

Random option combinations (valid and invalid: bad values, outputs that
clash with each other or with the input, missing directories, a full disk,
unknown CPUs, selectors that match nothing) on the models of examples/, each
run in a scratch directory, checking three properties:

  1. a run exits 0, 1 (bad input) or 2 (usage), never by a signal or abort;
  2. a failed run changes no file: the directory (names, modes, bytes) hashes
     the same before and after, and no temporary is left;
  3. a successful run is deterministic (run again: the same bytes), and its
     MLIR outputs parse and verify with mlir-opt.

  property-test.py --clusterc=PATH [--mlir-opt=PATH] [--seconds=S | --runs=N]
                   [--seed=N] [--data=DIR] WORKDIR

--runs gives a short deterministic run (the lit test); --seconds runs random
cases for that long (CI's fuzz flavour). A failing case is printed as the
command line to reproduce it, and the script exits 1.
"""
import argparse
import hashlib
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(os.path.join(ROOT, "examples", f)
                  for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".mlir"))


def tree_hash(d):
    """Names, modes and contents of every file under d."""
    h = hashlib.sha256()
    for base, dirs, files in os.walk(d):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(base, name)
            st = os.lstat(p)
            h.update(("%s %o\n" % (os.path.relpath(p, d), st.st_mode)).encode())
            if os.path.islink(p):
                h.update(os.readlink(p).encode())
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()


def pick(rng, *choices):
    return rng.choice(choices)


def cluster_flags(rng):
    """Clustering flags shared by clusterc and clusterc train."""
    f = []
    if rng.random() < 0.7:
        f.append("--clusters=%s" % pick(rng, 1, 2, 3, 4, 8, 16, 256, 65536, 0, 70000, "x"))
    if rng.random() < 0.4:
        f.append("--init=%s" % pick(rng, "kmeans++", "linear", "random", "kmeans1d", "bogus"))
    if rng.random() < 0.3:
        f.append("--seed=%d" % rng.randrange(5))
    if rng.random() < 0.3:
        f.append("--only=%s" % pick(rng, "fc*", "#0", "#0..1", "#-1", "no-such-layer",
                                    "'fc1.weight'", "{fc2.weight}"))
        if rng.random() < 0.5:
            f.append("--allow-empty-selection")
    if rng.random() < 0.2:
        f.append("--layers=%s" % pick(rng, "#0:4", "*:skip", "fc*:2", "#9:3", "fc1:0"))
    return f


def clusterc_case(rng, model, data):
    """argv (after the binary) and the outputs it names, for one clusterc run."""
    args = cluster_flags(rng)
    if rng.random() < 0.3:
        args.append("--min-elements=%d" % pick(rng, 0, 16, 128))
    if rng.random() < 0.2:
        args.append("--per-channel")
    if rng.random() < 0.2:
        args.append("--preserve-sparsity")
    if rng.random() < 0.3:
        args.append("--decode=%s" % pick(rng, "generic", "fold", "runtime"))
    if rng.random() < 0.2:
        args.append("--threads=%d" % pick(rng, 1, 2))
    emit = pick(rng, "mlir", "mlir", "mlir", "mlir", "train-mlir", "llvm", "obj")
    ext = {"mlir": ".mlir", "train-mlir": ".mlir", "llvm": ".ll", "obj": ".o"}[emit]
    if emit != "mlir":
        args.append("--emit=" + emit)
    if emit in ("llvm", "obj") and rng.random() < 0.3:
        args.append("--mcpu=%s" % pick(rng, "generic", "skylake", "bogus"))
    if emit in ("llvm", "obj") and rng.random() < 0.2:
        args.append("--mattr=%s" % pick(rng, "+avx2", "+bogus", "-fma"))
    if emit == "obj" and rng.random() < 0.3:
        args.append("--emit-header=%s" % pick(rng, "out/m.h", "out/m.o", "out/../out/m.h"))
    out = pick(rng, "out/m" + ext, "out/m" + ext, "./out/m" + ext, "missing/m" + ext,
               "model.mlir", "link" + ext)
    args += ["-o", out]
    if emit != "train-mlir" and rng.random() < 0.3:
        args.append("--report=json=%s" % pick(rng, "out/r.json", "out/m" + ext, "/dev/full",
                                              "model.mlir", "-"))
    args.append("model.mlir")
    return args


def train_case(rng, model, data):
    args = ["train", "model.mlir", "--quiet", "--threads=1", "--limit-train=64",
            "--limit-test=32", "--epochs=%d" % pick(rng, 0, 1, 1)]
    args += ["--train-images=data/images", "--train-labels=data/labels",
             "--test-images=data/images", "--test-labels=data/labels"]
    args += cluster_flags(rng)
    if rng.random() < 0.4:
        args.append("--mode=%s" % pick(rng, "ste", "centroids-only", "float", "bogus"))
    if rng.random() < 0.3:
        args.append("--optimizer=%s" % pick(rng, "sgd", "momentum", "adam"))
    if rng.random() < 0.3:
        args.append("--lr=%s" % pick(rng, "1e-3", "0.1", "-1", "0"))
    out = pick(rng, "out/t.mlir", "out/t.mlir", "missing/t.mlir", "model.mlir")
    args += ["-o", out]
    if rng.random() < 0.4:
        args.append("--log=%s" % pick(rng, "out/log.json", "out/t.mlir", "data/labels"))
    if rng.random() < 0.3:
        args.append("--report=json=%s" % pick(rng, "out/r.json", "out/t.mlir", "/dev/full"))
    return args


def setup(work, model, data):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "out"))
    shutil.copy(model, os.path.join(work, "model.mlir"))
    with open(os.path.join(work, "out", "m.mlir"), "w") as f:
        f.write("old\n")  # an existing output: must survive a failed run
    os.symlink("out/m.mlir", os.path.join(work, "link.mlir"))
    if data:
        shutil.copytree(data, os.path.join(work, "data"))


def run(clusterc, args, work):
    p = subprocess.run([clusterc] + args, cwd=work, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    return p.returncode, p.stdout, p.stderr


# Wall-clock figures are the one part of an output that may differ.
TIMING = re.compile(rb'"(seconds|ms_per_step)": [0-9.e+-]+')


def outputs_of(work):
    """Bytes of every file under out/ (timings masked)."""
    res = {}
    for base, _, files in os.walk(os.path.join(work, "out")):
        for name in files:
            p = os.path.join(base, name)
            with open(p, "rb") as f:
                res[os.path.relpath(p, work)] = TIMING.sub(b'"\\1": T', f.read())
    return res


def check(clusterc, mlir_opt, args, model, data, work):
    """(None or what went wrong, the exit status)."""
    problem, rc = check1(clusterc, mlir_opt, args, model, data, work)
    return problem, rc


def check1(clusterc, mlir_opt, args, model, data, work):
    setup(work, model, data)
    before = tree_hash(work)
    rc, out, err = run(clusterc, args, work)
    if rc not in (0, 1, 2):
        return "exit %d (a signal or abort)\n%s" % (rc, err.decode(errors="replace")[-2000:]), rc
    if rc != 0:
        if tree_hash(work) != before:
            return "failed run (exit %d) changed files:\n%s" % (
                rc, err.decode(errors="replace")[-2000:]), rc
        return None, rc
    stray = [n for n in os.listdir(work) + os.listdir(os.path.join(work, "out"))
             if n.startswith(".cc.")]
    if stray:
        return "temporaries left: %s" % stray, rc
    first = outputs_of(work), out
    for name, data_ in first[0].items():
        if name.endswith(".mlir") and data_ != b"old\n":
            v = subprocess.run([mlir_opt, os.path.join(work, name),
                                "-o", os.devnull], stderr=subprocess.PIPE)
            if v.returncode:
                return "%s does not verify:\n%s" % (name, v.stderr.decode()[-2000:]), rc
    setup(work, model, data)
    rc2, out2, err2 = run(clusterc, args, work)
    if rc2 != 0 or (outputs_of(work), out2) != first:
        return "not deterministic: a second run gave exit %d and different outputs" % rc2, rc
    return None, rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clusterc", required=True)
    ap.add_argument("--mlir-opt", default="mlir-opt-19")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                    help="the Fashion-MNIST directory (clusterc train cases; skipped without it)")
    ap.add_argument("work")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    os.makedirs(a.work, exist_ok=True)
    data = None
    if os.path.isdir(a.data):
        data = os.path.join(a.work, "data")
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "bad-input", "Inputs",
                                                      "gen-data.py"), a.data, data], check=True)
    clusterc = os.path.abspath(a.clusterc) if os.sep in a.clusterc else shutil.which(a.clusterc)
    work = os.path.join(a.work, "case")
    end = time.time() + a.seconds
    n = ok = fails = 0
    counts = {0: 0, 1: 0, 2: 0}
    while (a.runs and n < a.runs) or (a.seconds and time.time() < end):
        n += 1
        if data and rng.random() < 0.25:
            model = os.path.join(ROOT, "examples", "mlp-linalg.mlir")
            args = train_case(rng, model, data)
        else:
            model = rng.choice(EXAMPLES)
            args = clusterc_case(rng, model, data)
        problem, rc = check(clusterc, a.mlir_opt, args, model, data if "train" in args[:1] else None,
                        work)
        if problem:
            fails += 1
            print("FAIL (%s): clusterc %s\n  %s" % (os.path.basename(model),
                                                   " ".join(shlex.quote(x) for x in args),
                                                   problem.replace("\n", "\n  ")))
        else:
            ok += 1
            counts[rc] = counts.get(rc, 0) + 1
    print("property-test: seed %d, %d cases (clusterc and clusterc train on %s), "
          "%d passed (exit 0: %d, 1: %d, 2: %d), %d failed"
          % (seed, n, ", ".join(os.path.basename(e) for e in EXAMPLES), ok, counts[0],
             counts[1], counts[2], fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
