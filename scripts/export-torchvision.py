#!/usr/bin/env python3
"""Exports a torchvision classification model to ONNX the way clusterc reads
it best: torch.onnx.export at opset 17, static shapes (batch 1), one input
"input" and one output "output", BatchNormalization kept as it is
(TrainingMode.PRESERVE, so the weights keep their state_dict names such as
layer1.0.conv1.weight, which clusterc's reports and --only/--layers use).

  export-torchvision.py MODEL -o MODEL.onnx [--size 224] [--pretrained]
  e.g. export-torchvision.py resnet18 -o resnet18.onnx

MODEL is any torchvision.models builder name (resnet18, mobilenet_v2,
vgg11, alexnet, ...). Without --pretrained the weights are random (seed
0; nothing is downloaded); --pretrained takes torchvision's default
weights (downloaded by torchvision the first time, into its cache).
Needs Debian's python3-torch, python3-torchvision and python3-onnx.
"""
import argparse
import os
import sys

OPSET = 17


def build(name, pretrained=False):
    """The torchvision model `name` in eval mode."""
    import torchvision

    try:
        fn = getattr(torchvision.models, name)
    except AttributeError:
        sys.exit("export-torchvision.py: torchvision has no model '%s'" % name)
    return fn(weights="DEFAULT" if pretrained else None).eval()


def export(model, x, path, fold=True):
    """torch.onnx.export with clusterc's settings, written to a temporary
    file, checked by onnx.checker, then renamed to path."""
    import onnx
    import torch

    tmp = path + ".tmp"
    torch.onnx.export(model, (x,), tmp, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], do_constant_folding=fold,
                      training=torch.onnx.TrainingMode.PRESERVE)
    onnx.checker.check_model(onnx.load(tmp))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a torchvision.models name, e.g. resnet18")
    ap.add_argument("-o", dest="output", help="the ONNX file (default MODEL.onnx)")
    ap.add_argument("--size", type=int, default=224, help="image height and width (default 224)")
    ap.add_argument("--batch", type=int, default=1, help="the static batch (default 1)")
    ap.add_argument("--pretrained", action="store_true",
                    help="torchvision's default weights (else random, seed 0)")
    a = ap.parse_args()
    import torch

    torch.manual_seed(0)
    model = build(a.model, a.pretrained)
    x = torch.randn(a.batch, 3, a.size, a.size)
    out = a.output or a.model + ".onnx"
    export(model, x, out)
    print("%s: %s, input %dx3x%dx%d" % (out, a.model, a.batch, a.size, a.size), file=sys.stderr)


if __name__ == "__main__":
    main()
