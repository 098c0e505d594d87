#!/usr/bin/python3
"""How much of a network's convolution work touches only zero padding.

  /usr/bin/python3 bench/conv-padding.py [--size 32]

For torchvision's resnet18() and mobilenet_v2(width_mult=0.5) at SIZExSIZE,
forward hooks on every Conv2d count the multiply-adds of the convolution as
a GEMM over the padded input computes them (every output position times
every kernel tap) and those whose tap falls inside the image. The rest
multiply padding: what runtime/gemm.c's zero dropping skips where a whole
depth step, row or column is padding (docs/PERFORMANCE.md). Random
weights; nothing is downloaded.
"""
import argparse

import torch
import torchvision


def count(model, size):
    """(multiply-adds computed, multiply-adds on the image) per image."""
    total = [0, 0]

    def valid(out, k, stride, pad, length):
        return sum(1 for o in range(out) for t in range(k) if 0 <= o * stride + t - pad < length)

    def hook(mod, inp, out):
        _, c, h, w = inp[0].shape
        _, f, oh, ow = out.shape
        kh, kw = mod.kernel_size
        per = (c // mod.groups) * f
        total[0] += oh * ow * kh * kw * per
        total[1] += (valid(oh, kh, mod.stride[0], mod.padding[0], h)
                     * valid(ow, kw, mod.stride[1], mod.padding[1], w) * per)

    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=32)
    a = ap.parse_args()
    for name, kw in (("resnet18", {}), ("mobilenet_v2", {"width_mult": 0.5})):
        model = getattr(torchvision.models, name)(num_classes=10, **kw).eval()
        computed, image = count(model, a.size)
        print("%-12s %dx%d: convolution multiply-adds per image %.1fM, on the image %.1fM (%.0f %%)"
              % (name, a.size, a.size, computed / 1e6, image / 1e6, 100 * image / computed))


if __name__ == "__main__":
    main()
