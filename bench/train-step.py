#!/usr/bin/python3
"""Time of one training step, clusterc's JIT next to PyTorch, same run.

  bench/train-step.py [--clusterc PATH] [--steps N] [--threads 1,2]
                      [--contractions gemm|loops]

Models: the MLP (784-256-128-10) and the CNN (conv 1->16, pool, conv 16->32,
pool, dense) of examples/gen-models.py --train, batch 64, in their tosa and
linalg forms; and torchvision networks (--models mobilenet_v2,resnet18:
MobileNetV2 at width 0.5 and ResNet-18, 10 classes, random weights,
exported through ONNX at a static batch of 64 and --size x --size x 3, the
Fashion-MNIST samples resized and replicated to three channels by clusterc
train). torch runs these in eval mode (batch-norm with its running
statistics, no dropout), which is what clusterc trains: batch-norm
statistics frozen, the exported graph without dropout. A step is forward, backward and an Adam update; clusterc's is
timed by `clusterc train` over N steps of Fashion-MNIST (its ms_per_step
covers filling the batch, the JIT-compiled step and the optimizer), float
and clustered (STE, K = 16), in the last of 1 + ceil(20 / N) epochs of N
steps: the epochs before it are its 20 or more warm-up steps (they touch
the step's buffers for the first time, which costs ~12-15 us per page on
these VMs). PyTorch 1.13 (Debian's python3-torch) runs the
same architecture, batch and optimizer on the same data, with the same
thread count, timed over N steps after 20 warm-up steps; for STE it
re-assigns, decodes and gathers the centroid gradients with torch ops
(bucketize, indexing, index_add_) the way a user would write it.
torch and clusterc runs alternate; each figure is the median of --reps
repetitions, and the ratio (clusterc / torch) the median of the
per-repetition ratios, so a change of load during the run hits both.

torch as users run it: on OpenBLAS (Debian's libopenblas0-pthread; the
BLAS torch reports is printed), with glibc malloc keeping freed memory
(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=64GiB MALLOC_TOP_PAD_=256MiB,
set by re-executing this script; clusterc train sets the same itself),
at each thread count of --threads. clusterc's compile time (parse,
differentiate, lower, JIT; `clusterc train --epochs=0`, which also
evaluates 64 samples) is reported per model.
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


MALLOC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 << 30),
              "MALLOC_TOP_PAD_": str(256 << 20)}


def compile_seconds(clusterc, model, mode, contractions):
    args = [clusterc, "train", model, "--mode=" + mode, "--epochs=0", "--quiet",
            "--limit-test=64", "--contractions=" + contractions] + net_args(model)
    if mode == "ste":
        args += ["--clusters=16"]
    t = time.perf_counter()
    subprocess.run(args, check=True)
    return time.perf_counter() - t


NETS = {"mobilenet_v2": {"width_mult": 0.5}, "resnet18": {}}


def net_args(model):
    """clusterc train's data options for an exported torchvision network."""
    if not model.endswith(".onnx"):
        return []
    size = int(model.rsplit("-", 1)[1].split(".")[0])
    return ["--input-size=%dx%d" % (size, size), "--normalize=0.286,0.353"]


def export_net(name, size, path):
    import importlib.util
    import torch
    import torchvision
    spec = importlib.util.spec_from_file_location(
        "export_torchvision", os.path.join(ROOT, "scripts", "export-torchvision.py"))
    et = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(et)
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(num_classes=10, **NETS[name]).eval()
    et.export(m, torch.randn(64, 3, size, size), path)


WARMUP = 20  # steps each side runs before its timed ones


def clusterc_step(clusterc, model, mode, steps, threads, tmp, contractions="gemm"):
    """ms_per_step of the last epoch of N steps, after epochs of N steps
    that cover WARMUP steps, as torch_step times its N after WARMUP."""
    log = os.path.join(tmp, "log.json")
    epochs = 1 + -(-WARMUP // steps)
    args = [clusterc, "train", model, "--mode=" + mode, "--epochs=%d" % epochs, "--quiet",
            "--limit-train=%d" % (64 * steps), "--limit-test=64", "--threads=%d" % threads,
            "--log=" + log, "--contractions=" + contractions] + net_args(model)
    if mode == "ste":
        args += ["--clusters=16"]
    subprocess.run(args, check=True)
    for l in open(log):
        j = json.loads(l)
        if j.get("epoch") == epochs:
            return j["ms_per_step"]
    raise RuntimeError("no epoch line")


def torch_step(kind, ste, steps, threads, size=32):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if kind in NETS:
        import torchvision
        model = getattr(torchvision.models, kind)(num_classes=10, **NETS[kind]).eval()
        x = torch.rand(64, 3, size, size)
    elif kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        x = torch.rand(64, 784)
    else:
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(1568, 10))
        x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    weights = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))
               and m.weight.numel() >= 128]  # clusterc's --min-elements
    cents = [nn.Parameter(torch.linspace(float(w.min()), float(w.max()), 16)) for w in weights]
    params = list(model.parameters()) + (cents if ste else [])
    opt = torch.optim.Adam(params, lr=1e-4)

    def step():
        opt.zero_grad()
        if ste:
            # idx = argmin |w - c| (sorted centroids: bucketize on midpoints),
            # Wc = c[idx] in the forward, STE for W, gather-accumulate for c.
            saved = []
            for w, c in zip(weights, cents):
                cs, order = torch.sort(c.detach())
                mids = (cs[1:] + cs[:-1]) / 2
                idx = order[torch.bucketize(w.detach(), mids)]
                wc = c.detach()[idx]
                saved.append((w, c, idx, w.data.clone()))
                w.data.copy_(wc)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            for w, c, idx, orig in saved:
                w.data.copy_(orig)  # dW = dWc (STE): the grad stays on w
                c.grad = torch.zeros_like(c).index_add_(0, idx.flatten(), w.grad.flatten())
        else:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
        opt.step()

    for _ in range(WARMUP):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusterc", default=os.path.join(ROOT, "build", "tools", "clusterc", "clusterc"))
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--contractions", default="gemm", choices=("gemm", "loops"))
    ap.add_argument("--models", default="mlp,cnn",
                    help="mlp, cnn, mobilenet_v2, resnet18 (comma-separated)")
    ap.add_argument("--size", type=int, default=32, help="the networks' input size (default 32)")
    a = ap.parse_args()
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    import torch
    # Debian's torch reports BLAS_INFO=generic: it calls libblas.so.3, which
    # the alternatives system points at OpenBLAS when libopenblas0-pthread
    # is installed; print where it resolves.
    import re
    info = re.findall(r"BLAS_INFO=[^,]*", torch.__config__.show())
    lib = os.path.realpath("/usr/lib/%s-linux-gnu/libblas.so.3" % os.uname().machine)
    print("torch %s, %s, libblas.so.3 -> %s" % (torch.__version__, ", ".join(info), lib), flush=True)
    tmp = tempfile.mkdtemp(prefix="train-step-")
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gen-models.py"), "--train", tmp, "64"], check=True)
    rows = []
    threads = [int(t) for t in a.threads.split(",")]
    for kind in a.models.split(","):
        forms = ("tosa", "linalg")
        if kind in NETS:
            forms = ("onnx",)
            export_net(kind, a.size, os.path.join(tmp, "%s-%d.onnx" % (kind, a.size)))
        for mode in ("float", "ste"):
            for form in forms:
                model = os.path.join(tmp, "%s-%s.mlir" % (kind, form))
                if kind in NETS:
                    model = os.path.join(tmp, "%s-%d.onnx" % (kind, a.size))
                comp = compile_seconds(a.clusterc, model, mode, a.contractions)
                for th in threads:
                    # torch and clusterc alternate, so a change of the machine's
                    # load hits both; the ratio is taken per repetition.
                    ts, cs = [], []
                    for _ in range(a.reps):
                        ts.append(torch_step(kind, mode == "ste", a.steps, th, a.size))
                        cs.append(clusterc_step(a.clusterc, model, mode, a.steps, th, tmp,
                                                a.contractions))
                    ratio = statistics.median(c / t for c, t in zip(cs, ts))
                    rows.append((kind, form, mode, th, statistics.median(cs),
                                 statistics.median(ts), ratio, comp))
                    print("  %s %s %s %dT: clusterc %s, torch %s ms" % (kind, form, mode, th,
                          " ".join("%.1f" % c for c in cs), " ".join("%.1f" % t for t in ts)),
                          flush=True)
    print("one training step, batch 64, contractions=%s, medians of %d alternating repetitions "
          "of %d steps; load average %.1f" % (a.contractions, a.reps, a.steps, os.getloadavg()[0]))
    print("%-12s %-7s %-6s %3s %12s %10s %13s %11s" % ("model", "form", "mode", "T", "clusterc ms",
          "torch ms", "median ratio", "compile s"))
    for kind, form, mode, th, c, t, r, comp in rows:
        print("%-12s %-7s %-6s %3d %12.2f %10.2f %12.2fx %11.1f" % (kind, form, mode, th, c, t, r, comp))


if __name__ == "__main__":
    main()
