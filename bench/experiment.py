#!/usr/bin/python3
"""The clustering experiment of docs/RESULTS.md, on Fashion-MNIST.

  bench/experiment.py [--clusterc PATH] [--out DIR] [--jobs N] [--quick]

For the MLP (784-256-128-10, tosa) and the CNN (conv 1->16, pool, conv
16->32, pool, dense; linalg), both from examples/gen-models.py --train:

 1. float training: Adam, lr 1e-3, batch 128, 10 epochs (MLP) / 6 (CNN);
 2. control: the float model fine-tuned like the clustered ones, unclustered;
 3. for K in 2, 4, 8, 16, 32, init in linear, kmeans++, kmeans1d, and
    seeds 0-2 for K <= 8 (seed 0 above; the CNN with linear and kmeans1d
    seed 0 only, to stay under 30 minutes): every weight matrix and kernel
    clustered (not biases), then
      a. post-training clustering only (the accuracy before fine-tuning),
      b. centroids-only fine-tuning (indices fixed; the older method),
      c. STE fine-tuning with per-step re-assignment (the seed's method),
    each fine-tuning Adam, lr 1e-4, batch 128, 1 epoch, same shuffling seed;
 4. selective clustering: only the last two weight tensors, K = 2 and 4.

Each run is one `clusterc train` (--eval-initial gives (a) from (b)'s run);
runs go `--jobs` at a time (default 2, one thread each). Results land in
DIR/results.json; then the tables (markdown, DIR/tables.md) and the plot
(DIR/accuracy-vs-k.png, with matplotlib) are written. --quick runs a small
subset (MLP, K = 4, kmeans++, one seed, 2 float epochs) to try the pipeline.
"""
import argparse
import concurrent.futures
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = {  # name: (form, float epochs)
    "mlp": ("tosa", 10),
    "cnn": ("linalg", 6),
}
# The subset that keeps the whole run under 30 minutes on 2 cores: the CNN
# (12x the MLP's cost per step) gets 3 seeds only with kmeans++, one seed
# with linear and kmeans1d.
FEW_SEEDS = {("cnn", "linear"), ("cnn", "kmeans1d")}
KS = [2, 4, 8, 16, 32]
INITS = ["linear", "kmeans++", "kmeans1d"]
SELECTIVE_KS = [2, 4]



def pyplot():
    """matplotlib.pyplot without a display, or None (and a note) if missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing (apt-get install python3-matplotlib): no plot")
        return None
    return plt

def seeds_for(k, model="", init=""):
    return [0, 1, 2] if k <= 8 and (model, init) not in FEW_SEEDS else [0]


class Runner:
    """Runs `clusterc train` jobs, `jobs` at a time, each on `threads`
    threads (default: the cores shared out) with `common` arguments first
    (default: batch 128, this page's protocol)."""

    def __init__(self, clusterc, out, jobs, threads=None, common=("--batch-size=128",)):
        self.clusterc, self.out, self.jobs = clusterc, out, jobs
        self.threads = threads or max(1, (os.cpu_count() or 2) // jobs)
        self.common = list(common)

    def train(self, tag, args):
        """Runs clusterc train; returns the parsed JSON log lines."""
        log = os.path.join(self.out, "logs", tag + ".json")
        if os.path.exists(log):  # resumable: a finished run is kept
            lines = [json.loads(l) for l in open(log) if l.strip()]
            if lines and lines[-1].get("final"):
                return lines
        cmd = [self.clusterc, "train", "--quiet"] + self.common + [
               "--threads=%d" % self.threads, "--log=" + log] + args
        t = time.time()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit("run %s failed (%s):\n%s" % (tag, " ".join(cmd), p.stderr))
        print("  %-40s %6.1fs" % (tag, time.time() - t), flush=True)
        return [json.loads(l) for l in open(log) if l.strip()]

    def parallel(self, jobs):
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as ex:
            futs = {ex.submit(self.train, tag, args): tag for tag, args in jobs}
            return {futs[f]: f.result() for f in concurrent.futures.as_completed(futs)}


def model_bytes(report_path):
    """Bytes of every weight and bias as stored: packed for the clustered."""
    r = json.load(open(report_path))
    return sum(l["bytes_after"] for l in r["layers"])


def float_bytes(report_path):
    r = json.load(open(report_path))
    return sum(l["bytes_before"] for l in r["layers"])


def mean_sd(xs):
    if not xs:
        return None, None
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def fmt(xs, scale=100):
    m, s = mean_sd(xs)
    if m is None:
        return "-"
    if len(xs) == 1:
        return "%.2f" % (m * scale)
    return "%.2f ± %.2f" % (m * scale, s * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusterc", default=os.path.join(ROOT, "build", "tools", "clusterc", "clusterc"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "experiment"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tables-only", action="store_true",
                    help="rewrite the tables and the plot from DIR/results.json")
    a = ap.parse_args()
    if a.tables_only:
        results = json.load(open(os.path.join(a.out, "results.json")))
        quick = len(results["protocol"]["ks"]) == 1
        models = {"mlp": ("tosa", 2)} if quick else dict(MODELS)
        write_tables(a.out, results, models, results["protocol"]["ks"], results["protocol"]["inits"], quick)
        return
    os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "models"), exist_ok=True)
    models_dir = os.path.join(a.out, "models")
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gen-models.py"), "--train", models_dir, "64"], check=True)
    r = Runner(a.clusterc, a.out, a.jobs)
    models = dict(MODELS)
    ks, inits = KS, INITS
    if a.quick:
        models = {"mlp": ("tosa", 2)}
        ks, inits = [4], ["kmeans++"]
    start = time.time()
    results = {"models": {}, "protocol": {
        "float": "Adam lr 1e-3 batch 128", "finetune": "Adam lr 1e-4 batch 128, 1 epoch",
        "ks": ks, "inits": inits}}

    # 1. Float training, the two models side by side.
    print("float training", flush=True)
    jobs = []
    for m, (form, epochs) in models.items():
        src = os.path.join(models_dir, "%s-%s.mlir" % (m, form))
        jobs.append(("%s-float" % m, [src, "--mode=float", "--epochs=%d" % epochs, "--lr=1e-3",
                                       "--seed=0", "-o", os.path.join(a.out, "%s-float.mlir" % m)]))
    float_logs = r.parallel(jobs)

    # 2-4. Fine-tuning runs.
    jobs = []
    for m in models:
        base = os.path.join(a.out, "%s-float.mlir" % m)
        common = [base, "--epochs=1", "--lr=1e-4", "--min-elements=1", "--eval-initial"]
        for s in [0, 1, 2] if not a.quick else [0]:
            jobs.append(("%s-control-s%d" % (m, s), common + ["--mode=float", "--seed=%d" % s]))
        for k in ks:
            for init in inits:
                for s in seeds_for(k, m, init) if not a.quick else [0]:
                    c = common + ["--clusters=%d" % k, "--init=%s" % init, "--seed=%d" % s]
                    tag = "%s-k%d-%s-s%d" % (m, k, init, s)
                    jobs.append((tag + "-co", c + ["--mode=centroids-only"]))
                    jobs.append((tag + "-ste", c + ["--mode=ste", "--report=json=" +
                                                     os.path.join(a.out, "logs", tag + "-report.json")]))
        if not a.quick:
            for k in SELECTIVE_KS:
                for s in [0, 1, 2]:
                    c = common + ["--clusters=%d" % k, "--init=kmeans++", "--seed=%d" % s, "--only=#-2..-1"]
                    tag = "%s-sel-k%d-s%d" % (m, k, s)
                    jobs.append((tag + "-co", c + ["--mode=centroids-only"]))
                    jobs.append((tag + "-ste", c + ["--mode=ste", "--report=json=" +
                                                     os.path.join(a.out, "logs", tag + "-report.json")]))
    print("fine-tuning: %d runs" % len(jobs), flush=True)
    logs = r.parallel(jobs)
    logs.update(float_logs)
    results["seconds"] = time.time() - start
    results["runs"] = logs
    json.dump(results, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    write_tables(a.out, results, models, ks, inits, a.quick)
    print("done in %.0f s: %s" % (results["seconds"], os.path.join(a.out, "tables.md")))


def acc(log, epoch=None):
    for l in log:
        if epoch is None and l.get("final"):
            return l["test_accuracy"]
        if epoch is not None and l.get("epoch") == epoch and not l.get("final"):
            return l["test_accuracy"]
    return None


def method_accuracies(runs, tags):
    """(a) clustering only, (b) centroids-only, (c) STE and the paired
    (c) - (b) accuracies of the runs tagged tags (one per seed)."""
    a_, b_, c_, d_ = [], [], [], []
    for tag in tags:
        co, ste = runs[tag + "-co"], runs[tag + "-ste"]
        a_.append(acc(co, 0))
        b_.append(acc(co))
        c_.append(acc(ste))
        d_.append(acc(ste) - acc(co))
    return a_, b_, c_, d_


def write_tables(out, results, models, ks, inits, quick):
    runs = results["runs"]
    lines = []
    w = lines.append
    plot = {}
    for m, (form, epochs) in models.items():
        fl = runs["%s-float" % m]
        ctrl = [acc(runs["%s-control-s%d" % (m, s)]) for s in ([0] if quick else [0, 1, 2])]
        rep0 = os.path.join(out, "logs", "%s-k%d-%s-s0-report.json" % (m, ks[0], inits[0]))
        fbytes = float_bytes(rep0)
        w("### %s (%s form)\n" % (m.upper(), form))
        w("Float: %.2f %% after %d epochs; float + fine-tune control: %s %%. Weights and biases: %d bytes.\n"
          % (100 * acc(fl), epochs, fmt(ctrl), fbytes))
        w("| K | init | seeds | (a) clustering only | (b) centroids-only | (c) STE | paired (c − b) | model bytes |")
        w("|---|---|---|---|---|---|---|---|")
        for k in ks:
            for init in inits:
                seeds = [0] if quick else seeds_for(k, m, init)
                a_, b_, c_, d_ = method_accuracies(
                    runs, ["%s-k%d-%s-s%d" % (m, k, init, s) for s in seeds])
                nbytes = model_bytes(os.path.join(out, "logs", "%s-k%d-%s-s0-report.json" % (m, k, init)))
                w("| %d | %s | %d | %s | %s | %s | %s | %d (%.1f×) |" % (
                    k, init, len(seeds), fmt(a_), fmt(b_), fmt(c_), fmt(d_), nbytes, fbytes / nbytes))
                plot.setdefault(m, {}).setdefault(init, []).append(
                    (k, mean_sd(a_), mean_sd(b_), mean_sd(c_)))
        if not quick:
            w("\nSelective clustering (only the last two weight tensors, kmeans++, 3 seeds):\n")
            w("| K | (a) clustering only | (b) centroids-only | (c) STE | paired (c − b) | model bytes |")
            w("|---|---|---|---|---|---|")
            for k in SELECTIVE_KS:
                a_, b_, c_, d_ = method_accuracies(
                    runs, ["%s-sel-k%d-s%d" % (m, k, s) for s in [0, 1, 2]])
                nbytes = model_bytes(os.path.join(out, "logs", "%s-sel-k%d-s0-report.json" % (m, k)))
                w("| %d | %s | %s | %s | %s | %d (%.1f×) |" % (k, fmt(a_), fmt(b_), fmt(c_), fmt(d_),
                                                             nbytes, fbytes / nbytes))
        w("")
    w("Total time: %.0f s (%d runs)." % (results["seconds"], len(runs)))
    open(os.path.join(out, "tables.md"), "w").write("\n".join(lines) + "\n")
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, len(plot), figsize=(6 * len(plot), 4.5), squeeze=False)
    styles = {"linear": ":", "kmeans++": "-", "kmeans1d": "--"}
    colors = {"(a) clustering only": "tab:gray", "(b) centroids-only": "tab:blue", "(c) STE": "tab:red"}
    for ax, (m, by_init) in zip(axes[0], plot.items()):
        for init, pts in by_init.items():
            kk = [p[0] for p in pts]
            for i, label in enumerate(colors):
                ys = [100 * p[1 + i][0] for p in pts]
                es = [100 * p[1 + i][1] for p in pts]
                ax.errorbar(kk, ys, yerr=es, color=colors[label], linestyle=styles[init], marker="o",
                            markersize=3, capsize=2, label="%s, %s" % (label, init))
        fl = acc(runs["%s-float" % m])
        ctrl = statistics.mean(acc(v) for k, v in runs.items() if k.startswith("%s-control-" % m))
        ax.axhline(100 * fl, color="black", linewidth=0.8, label="float")
        ax.axhline(100 * ctrl, color="black", linewidth=0.8, linestyle="--",
                   label="float + the same fine-tuning")
        ax.set_xscale("log", base=2)
        ax.set_xticks(kk)
        ax.set_xticklabels([str(k) for k in kk])
        ax.set_xlabel("clusters per weight tensor (K)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("%s on Fashion-MNIST" % m.upper())
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "accuracy-vs-k.png"), dpi=110)


if __name__ == "__main__":
    main()
