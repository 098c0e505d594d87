#!/usr/bin/env python3
"""A Conv-BatchNorm-ReLU-Linear torch model exported to ONNX with its
BatchNormalization kept (TrainingMode.PRESERVE, no constant folding), for
batchnorm-onnx.test. usage: bn-model.py OUT.onnx"""
import torch, sys
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        s.bn = torch.nn.BatchNorm2d(4)
        s.fc = torch.nn.Linear(4 * 6 * 6, 3)
    def forward(s, x):
        return s.fc(torch.relu(s.bn(s.conv(x))).flatten(1))
m = M()
with torch.no_grad():
    m.bn.running_mean.uniform_(-0.5, 0.5); m.bn.running_var.uniform_(0.5, 1.5)
m.eval()
torch.onnx.export(m, torch.zeros(2, 1, 6, 6), sys.argv[1], do_constant_folding=False,
                  training=torch.onnx.TrainingMode.PRESERVE, opset_version=13)
