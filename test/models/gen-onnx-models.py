#!/usr/bin/env python3
"""Generates the real models of the ONNX tests: torchvision's MobileNetV2 and
ResNet-18 with random weights (nothing is downloaded) and a 2-layer
BERT-style encoder, each exported by torch.onnx.export at opset 17 with
static shapes and checked by onnx.checker.

  gen-onnx-models.py OUTDIR [--only NAME ...] [--size HW]

For each model NAME it writes NAME.onnx, NAME.input.npy (the reference
input, seeded) and NAME.output.npy (torch's output on it).

BatchNormalization is kept (TrainingMode.PRESERVE on an eval() model): the
classic exporter's EVAL mode folds it into the convolutions and renames
their weights "onnx::Conv_123", where PRESERVE keeps the state_dict names
(layer1.0.conv1.weight) a user will select layers by.
"""
import argparse
import importlib.util
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

# The export itself is scripts/export-torchvision.py's, the one users run.
_spec = importlib.util.spec_from_file_location(
    "export_torchvision",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "export-torchvision.py"))
export_torchvision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_torchvision)


class LayerNorm(nn.Module):
    """BERT's original (TF-style) layer norm, written out: ReduceMean, Sub,
    Pow, Sqrt, Div in the export (nn.LayerNorm becomes one
    LayerNormalization at opset 17; the embeddings use that one)."""

    def __init__(self, n, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))
        self.eps = eps

    def forward(self, x):
        u = x.mean(-1, keepdim=True)
        s = (x - u).pow(2).mean(-1, keepdim=True)
        return self.weight * ((x - u) / torch.sqrt(s + self.eps)) + self.bias


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.norm = LayerNorm(hidden)

    def split(self, x):
        # size() is traced as Shape/Gather/Unsqueeze/Concat: the importer
        # folds the chain into a static reshape.
        b, s = x.size(0), x.size(1)
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        ctx = ctx.permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.size(0), ctx.size(1), -1)
        return self.norm(x + self.out(ctx))


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.intermediate = nn.Linear(hidden, ffn)
        self.act = nn.GELU()  # exact GELU: Div, Erf, Add, Mul
        self.output = nn.Linear(ffn, hidden)
        self.norm = LayerNorm(hidden)

    def forward(self, x):
        a = self.attention(x)
        return self.norm(a + self.output(self.act(self.intermediate(a))))


class Bert(nn.Module):
    def __init__(self, vocab=1000, hidden=64, heads=2, layers=2, ffn=256, seq=16, classes=4):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(seq, hidden)
        self.embeddings_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([EncoderLayer(hidden, heads, ffn) for _ in range(layers)])
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, classes)
        self.register_buffer("position_ids", torch.arange(seq).unsqueeze(0), persistent=False)

    def forward(self, input_ids):
        x = self.word_embeddings(input_ids) + self.position_embeddings(self.position_ids)
        x = self.embeddings_norm(x)
        for layer in self.layers:
            x = layer(x)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(pooled)


class Ops(nn.Module):
    """The ops the three models do not reach: grouped (not depthwise)
    convolution, padded average pooling without the padding in the count,
    ceil-mode max pooling, slices, concatenation, squeeze/unsqueeze, casts,
    a reduction, sigmoid; exported without constant folding, so reshape
    targets arrive as Shape/Gather/Unsqueeze/Concat chains."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1, groups=2, bias=False)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, dilation=2, padding=(2, 1))
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.max = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.fc = nn.Linear(8 * 2, 5)

    def forward(self, x):
        y = torch.sigmoid(self.conv(x))
        y = self.max(self.avg(y)) + self.conv2(y)[:, :, :3, :4]
        a, b = y[:, :4], y[:, 4:]
        y = torch.cat([b, a * 2.0], dim=1)
        n = y.size(0)
        y = y.reshape(n, y.size(1), -1).mean(dim=2, keepdim=True)
        y = y.unsqueeze(3).squeeze(2)
        z = torch.relu(y.sum(dim=1)).to(torch.float64).to(torch.float32)
        y = torch.cat([y.flatten(1), y.flatten(1) * z], dim=1)
        return self.fc(y)


def build(name, size):
    if name in ("mobilenet_v2", "resnet18"):
        return export_torchvision.build(name), torch.randn(1, 3, size, size)
    if name in ("bert", "bert_nofold"):
        return Bert(), torch.randint(0, 1000, (1, 16), dtype=torch.int64)
    if name == "ops":
        return Ops(), torch.randn(1, 4, 11, 13)
    raise SystemExit("unknown model %s" % name)


def randomize_bn(model):
    # Fresh BatchNorm layers are the identity (mean 0, var 1, scale 1, shift
    # 0); random statistics make the numeric test exercise them.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--only", action="append")
    ap.add_argument("--size", type=int, default=224, help="image height and width")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    torch.set_num_threads(2)
    for name in a.only or ["resnet18", "mobilenet_v2", "bert", "bert_nofold", "ops"]:
        t0 = time.time()
        torch.manual_seed(0)
        model, x = build(name, a.size)
        randomize_bn(model)
        model.eval()
        with torch.no_grad():
            y = model(x)
        path = os.path.join(a.outdir, name + ".onnx")
        export_torchvision.export(model, x, path, fold=not name.endswith("nofold"))
        np.save(os.path.join(a.outdir, name + ".input.npy"), x.numpy())
        np.save(os.path.join(a.outdir, name + ".output.npy"), y.numpy())
        print("%s: %.1f s" % (name, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
