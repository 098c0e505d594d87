#!/usr/bin/env python3
"""Peak memory of training a torchvision network: clusterc train next to
PyTorch, same architecture, input size, batch, optimizer and data.

  /usr/bin/python3 bench/train-memory.py [--model resnet18] [--size 96]
      [--batch 64] [--model-batch 1] [--steps 4] [--threads 1] [--clusterc PATH]

Exports the model (scripts/export-torchvision.py, random weights, static
batch --model-batch: 1, or the training batch so that one call computes
the whole batch as torch does), then measures the peak RSS (/usr/bin/time's
%M) of:

  clusterc  `clusterc train MODEL.onnx --input-size=SxS --batch-size=B`
            over STEPS optimizer steps (float and STE at K = 16), run twice
            with one JIT cache directory: the second run compiles nothing,
            so its peak is the training's, not LLVM's (both are printed)
  torch     the same torchvision model in train mode, SGD, a batch of B
            images of SxS (Fashion-MNIST's 28x28 resized, three channels),
            STEPS steps, forward + backward + update

With --model-batch 1, clusterc's exported model has batch 1: each
optimizer step runs B calls of the batch-1 step (on --threads threads) and sums their gradients, so it
holds one sample's activations per thread where torch holds B. That is
how `clusterc train` runs such a model; the figures say what it costs in
memory, not that the two compute alike per call. Both run with the malloc
tunables of bench/peers (MALLOC_MMAP_MAX_=0 ...), which keep freed
memory: peak RSS is then the high-water mark of the heap.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MALLOC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 << 30),
              "MALLOC_TOP_PAD_": str(256 << 20)}

TORCH = r"""
import sys, torch, torchvision
name, size, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
m = getattr(torchvision.models, name)()
m.train()
opt = torch.optim.SGD(m.parameters(), lr=1e-3)
x = torch.randn(batch, 3, size, size)
y = torch.randint(0, 10, (batch,))
for _ in range(steps):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
print("loss %.4f" % loss.item())
"""


def peak(cmd, env=None):
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss %M"] + cmd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env)
    err = p.stderr.decode()
    if p.returncode:
        sys.exit("%s failed:\n%s" % (" ".join(cmd), err[-2000:]))
    return int(re.search(r"maxrss (\d+)", err).group(1)) / 1024.0, err


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--model-batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--clusterc", default=os.path.join(ROOT, "build", "tools", "clusterc", "clusterc"))
    a = ap.parse_args()
    env = dict(os.environ, **MALLOC_ENV)
    work = tempfile.mkdtemp(prefix="train-memory.")
    onnx = os.path.join(work, a.model + ".onnx")
    subprocess.check_call(["/usr/bin/python3", os.path.join(ROOT, "scripts", "export-torchvision.py"),
                           a.model, "-o", onnx, "--size", str(a.size),
                           "--batch", str(a.model_batch)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("%s at %dx%d, batch %d (model batch %d), %d steps, %d thread(s); load average %.1f"
          % (a.model, a.size, a.size, a.batch, a.model_batch, a.steps, a.threads,
             os.getloadavg()[0]))
    mb_t, err = peak(["/usr/bin/python3", "-c", TORCH, a.model, str(a.size), str(a.batch),
                      str(a.steps), str(a.threads)], env)
    print("%-28s peak RSS %8.1f MB" % ("torch", mb_t))
    for mode in ("float", "ste"):
        cache = os.path.join(work, "cache-" + mode)
        cmd = [a.clusterc, "train", onnx, "--input-size=%dx%d" % (a.size, a.size),
               "--mode=" + mode, "--batch-size=%d" % a.batch, "--epochs=1",
               "--limit-train=%d" % (a.batch * a.steps), "--limit-test=%d" % a.batch,
               "--threads=%d" % a.threads, "--cache-dir=" + cache, "--quiet"]
        if mode == "ste":
            cmd.append("--clusters=16")
        cold, _ = peak(cmd, env)
        warm, _ = peak(cmd, env)
        print("%-28s peak RSS %8.1f MB  (%.2fx torch; cold run, compiling: %.1f MB)"
              % ("clusterc " + mode, warm, warm / mb_t, cold))


if __name__ == "__main__":
    main()
