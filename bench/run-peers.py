#!/usr/bin/python3
"""libclusterrt against numpy and PyTorch, in one run.

    /usr/bin/python3 bench/run-peers.py [--bench build/bench/clusterrt-bench]
        [--rounds 3] [--n 1M,16M] [--k 4,16,256] [--json out.jsonl]

Each round runs `clusterrt-bench --json` (every kernel and ISA, the copy
reference, exact 1-D k-means) and then, in this process, the peers on data
of the same shape (w ~ N(0, 0.05^2), K centroids evenly spaced from min to
max, g ~ N(0, 1), uint8 indices), one thread:

  assign      numpy  np.searchsorted(midpoints, w)         (int64 out)
              torch  torch.bucketize(w, midpoints, out_int32=True)
  decode      numpy  np.take(c, idx_u8, out=...)
              torch  c[idx_i64], idx converted beforehand (uint8 would be
                     a boolean mask)
  accumulate  numpy  np.bincount(idx_u8, weights=g, minlength=K) (float64)
              numpy  np.add.at(acc, idx_u8, g)             (n = 1M only)
              torch  acc.scatter_add_(0, idx_i64, g), idx converted
                     beforehand (scatter_add_ takes only int64)

The midpoints and index conversions are prepared outside the timing, which
favours the peers. Figures are medians: of the timed calls within a round,
then of the rounds. Ratios compare medians of the same run.

This VM faults in fresh pages at ~12 us per 4 KiB, and glibc hands large
blocks back to the kernel, so a peer that allocates its output would pay
that on every call. As in a warm training loop, the script keeps freed
memory in the heap (MALLOC_MMAP_MAX_=0 and friends, re-exec'ing itself to
set them) and faults in 1 GiB of heap up front. clusterrt-bench writes into
buffers it touched before timing.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

MALLOC_ENV = {
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(64 << 30),
    "MALLOC_TOP_PAD_": str(256 << 20),
}


def parse_sizes(s):
    out = []
    for part in s.split(","):
        mul = 1
        if part[-1] in "Mm":
            mul, part = 1 << 20, part[:-1]
        elif part[-1] in "Kk":
            mul, part = 1 << 10, part[:-1]
        out.append(int(part) * mul)
    return out


def median_time(fn, reps):
    fn()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def wait_quiet(max_wait, limit):
    """Waits (up to max_wait s) until the 1-minute load is below limit."""
    t0 = time.time()
    while time.time() - t0 < max_wait:
        with open("/proc/loadavg") as f:
            load = float(f.read().split()[0])
        if load < limit:
            return load
        time.sleep(5)
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def prefault(gib):
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    size = int(gib * (1 << 30))
    p = libc.malloc(ctypes.c_size_t(size))
    if p:
        ctypes.memset(p, 1, size)
        libc.free(ctypes.c_void_p(p))


def peers(ns, ks, rows):
    import numpy as np
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    for n in ns:
        reps = 7 if n <= (1 << 20) else 5
        w = (rng.standard_normal(n) * 0.05).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        wt, gt = torch.from_numpy(w), torch.from_numpy(g)
        out_f = np.empty(n, np.float32)
        for k in ks:
            c = np.linspace(w.min(), w.max(), k, dtype=np.float32)
            mid = ((c[1:].astype(np.float64) + c[:-1]) / 2).astype(np.float32)
            midt = torch.from_numpy(mid)
            idx = np.searchsorted(mid, w).astype(np.uint8)
            idx64 = idx.astype(np.int64)
            idxt64 = torch.from_numpy(idx64)
            ct = torch.from_numpy(c)
            b32 = torch.empty(n, dtype=torch.int32)

            def add(kernel, peer, sec):
                rows.append(dict(kernel=kernel, isa=peer, n=n, k=k, format="u8",
                                 threads=1, seconds=sec,
                                 el_per_ns=n / sec / 1e9,
                                 gb_per_s=5 * n / sec / 1e9))

            add("assign", "numpy.searchsorted",
                median_time(lambda: np.searchsorted(mid, w), reps))
            add("assign", "torch.bucketize",
                median_time(lambda: torch.bucketize(wt, midt, out_int32=True,
                                                    out=b32), reps))
            add("decode", "numpy.take",
                median_time(lambda: np.take(c, idx, out=out_f), reps))
            add("decode", "torch.index",
                median_time(lambda: ct[idxt64], reps))
            add("accumulate", "numpy.bincount",
                median_time(lambda: np.bincount(idx, weights=g, minlength=k),
                            reps))
            if n <= (1 << 20):
                acc = np.zeros(k, np.float32)

                def add_at():
                    acc[:] = 0
                    np.add.at(acc, idx, g)
                add("accumulate", "numpy.add.at", median_time(add_at, 3))
            acct = torch.zeros(k, dtype=torch.float32)
            add("accumulate", "torch.scatter_add_",
                median_time(lambda: acct.zero_().scatter_add_(0, idxt64, gt),
                            reps))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/bench/clusterrt-bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", default="1M,16M")
    ap.add_argument("--k", default="4,16,256")
    ap.add_argument("--json", help="also write every row (all rounds) here")
    ap.add_argument("--bench-args", default="",
                    help="extra clusterrt-bench arguments, e.g. "
                         "'--kmeans1d-n 0' to skip k-means")
    ap.add_argument("--quiet-load", type=float, default=0.7,
                    help="wait (<= 300 s) for this 1-min load before a round")
    a = ap.parse_args()
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.environ.update(MALLOC_ENV)
        os.execv(sys.executable, [sys.executable] + sys.argv)
    prefault(1.0)
    ns, ks = parse_sizes(a.n), parse_sizes(a.k)
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"{a.bench}: not found; build first (cmake --build build)")

    allrows = []
    loads = []
    for r in range(a.rounds):
        load = wait_quiet(300, a.quiet_load)
        print(f"round {r + 1}/{a.rounds} (load {load:.2f})", file=sys.stderr)
        rows = []
        res = subprocess.run([a.bench, "--json", "--n", a.n, "--k", a.k]
                             + a.bench_args.split(),
                             check=True, capture_output=True, text=True)
        rows += [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
        peers(ns, ks, rows)
        with open("/proc/loadavg") as f:
            load_end = float(f.read().split()[0])
        for row in rows:
            row["round"] = r
            row["load"] = [load, load_end]
        allrows += rows
        loads.append((load, load_end))
    if a.json:
        with open(a.json, "w") as f:
            for row in allrows:
                f.write(json.dumps(row) + "\n")

    # Median over rounds of each (kernel, isa, n, k, format).
    med = {}
    for row in allrows:
        key = (row["kernel"], row["isa"], row["n"], row["k"], row["format"])
        med.setdefault(key, []).append(row["seconds"])
    med = {key: statistics.median(v) for key, v in med.items()}

    def el(key):
        return key[2] / med[key] / 1e9 if key in med else None

    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f
                      if l.startswith("model name")), "?")
    print(f"# {model}, {os.cpu_count()} vCPUs; medians of {a.rounds} rounds;"
          " el/ns = elements per nanosecond, one thread")
    print("# 1-min load average at the start/end of each round: " +
          ", ".join(f"{x:.1f}/{y:.1f}" for x, y in loads))
    isas = sorted({key[1] for key in med if key[0] == "assign"
                   and "." not in key[1]},
                  key=["generic", "avx2", "avx512", "neon"].index)
    for n in ns:
        copy = el(("copy", "-", n, 0, "f32"))
        print(f"\n## n = {n}   copy (memcpy) {copy:.3f} el/ns = "
              f"{8 * copy:.1f} GB/s")
        for kern, peer_names in (("assign", ["numpy.searchsorted",
                                            "torch.bucketize"]),
                                 ("decode", ["numpy.take", "torch.index"]),
                                 ("accumulate", ["numpy.bincount",
                                                 "numpy.add.at",
                                                 "torch.scatter_add_"])):
            print(f"\n{kern:<11} {'k':>4} {'fmt':<4} " +
                  " ".join(f"{i:>8}" for i in isas) + "   peers (el/ns) and"
                  f" best-ISA ratio")
            for k in ks:
                fmts = sorted({key[4] for key in med if key[0] == kern
                               and key[2] == n and key[3] == k
                               and key[1] in isas},
                              key=lambda f: -int(f[1:]))
                for fmt in fmts:
                    ours = [el((kern, i, n, k, fmt)) for i in isas]
                    best = max(x for x in ours if x is not None)
                    line = f"{kern:<11} {k:>4} {fmt:<4} " + " ".join(
                        f"{x:8.3f}" if x is not None else f"{'-':>8}"
                        for x in ours)
                    if fmt == "u8":
                        for p in peer_names:
                            pe = el((kern, p, n, k, "u8"))
                            if pe:
                                line += f"   {p} {pe:.4f} ({best / pe:.0f}x)"
                    if kern == "decode":
                        gbs = best * (4 + int(fmt[1:]) / 8)
                        line += f"   [{gbs:.1f} GB/s = {gbs / (8 * copy):.0%} of copy]"
                    print(line)
        opt = [(kn, i, el((kn, i, n, 0, "f32"))) for kn in ("sgd", "adam")
               for i in isas]
        if any(x for _, _, x in opt):
            print("\noptimizer   " + "   ".join(
                f"{kn} {i} {x:.3f}" for kn, i, x in opt if x))
    for key, sec in med.items():
        if key[0] == "kmeans1d":
            print(f"\nkmeans1d (exact 1-D k-means, {key[1]}) n = {key[2]} "
                  f"distinct, k = {key[3]}: {sec:.3f} s")

    # The targets (n = 16M, u8, one thread), best ISA.
    n = max(ns)
    def best(kern, k):
        xs = [el((kern, i, n, k, "u8")) for i in isas]
        return max((x for x in xs if x), default=None)
    print(f"\n## targets at n = {n}, u8, best ISA")
    for k, goal in ((16, 2.5), (256, 1.0)):
        b, t = best("assign", k), el(("assign", "torch.bucketize", n, k, "u8"))
        if b and t:
            print(f"assign k={k}: {b:.3f} el/ns (target >= {goal}) "
                  f"= {b / t:.0f}x torch.bucketize")
    copy = el(("copy", "-", n, 0, "f32"))
    for k in ks:
        b = best("decode", k)
        if b and copy:
            print(f"decode k={k}: {5 * b:.1f} GB/s = {5 * b / (8 * copy):.0%}"
                  f" of copy's {8 * copy:.1f} GB/s (target >= 90%)")
    for k in ks:
        b, t = best("accumulate", k), el(("accumulate", "torch.scatter_add_",
                                          n, k, "u8"))
        if b and t:
            print(f"accumulate k={k}: {b:.3f} el/ns (target >= 3) = "
                  f"{b / t:.1f}x torch.scatter_add_")


if __name__ == "__main__":
    main()
