#!/usr/bin/env python3
"""Checks the README's three-command flow (test/onnx/three-commands.test).

  flow.py weights MODEL.onnx REPORT.json
      every FLOAT initializer that is the weight of a Conv, Gemm or MatMul
      node (input 1) is clustered in clusterc's JSON report; prints how
      many, their share of the model's parameters and the report's ratio
  flow.py run NAME SIZE CLUSTERED.onnx HARNESS.out [--rtol R]
      onnx.checker accepts CLUSTERED.onnx; torchvision's NAME, built as
      scripts/export-torchvision.py builds it, with every initializer of
      CLUSTERED.onnx loaded by its state_dict name, runs in torch on the C
      harness's input (test/codegen/Inputs/harness.c: an LCG, seed 7); the
      compiled object's output (HARNESS.out: float bits as int32, one a
      line) matches it within R of the largest magnitude
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def weights(a):
    m = onnx.load(a.model)
    inits = {t.name: t for t in m.graph.initializer}
    want = {}
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm", "MatMul") and len(n.input) > 1 and n.input[1] in inits:
            t = inits[n.input[1]]
            if t.data_type == onnx.TensorProto.FLOAT:
                want[t.name] = int(np.prod(t.dims))
    report = json.load(open(a.report))
    rows = {r["name"]: r for r in report["layers"]}
    missing = [w for w in want if not rows.get(w, {}).get("clustered")]
    if missing:
        sys.exit("not clustered: %s" % ", ".join(missing))
    total = sum(int(np.prod(t.dims)) for t in inits.values() if t.data_type == onnx.TensorProto.FLOAT)
    print("all %d conv/FC weights clustered: %.2f%% of the parameters, %.2fx smaller" %
          (len(want), 100.0 * sum(want.values()) / total, report["totals"]["ratio"]))


def lcg_input(shape):
    n = int(np.prod(shape))
    x = np.empty(n, np.float32)
    s = 7
    for i in range(n):
        s = (s * 1103515245 + 12345) & 0x7FFFFFFF
        x[i] = ((s >> 8) % 256 - 128) / 64.0
    return x.reshape(shape)


def run(a):
    import torch

    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "export_torchvision", os.path.join(here, "..", "..", "..", "scripts", "export-torchvision.py"))
    et = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(et)
    m = onnx.load(a.clustered)
    onnx.checker.check_model(m)
    model = et.build(a.name)
    sd = model.state_dict()
    loaded = 0
    for t in m.graph.initializer:
        if t.name in sd:
            sd[t.name].copy_(torch.from_numpy(numpy_helper.to_array(t).copy()))
            loaded += 1
    x = torch.from_numpy(lcg_input((1, 3, a.size, a.size)))
    with torch.no_grad():
        want = model(x).numpy().ravel()
    got = np.array([int(v) for v in open(a.harness).read().split()], np.int64)
    got = got.astype(np.uint32).view(np.float32)
    if got.size != want.size:
        sys.exit("run: %d values, expected %d" % (got.size, want.size))
    err = float(np.max(np.abs(got - want)))
    scale = float(np.max(np.abs(want)))
    print("onnx.checker ok; %d initializers loaded into torch; object vs torch on the "
          "clustered ONNX: relative error %.3g (limit %g)" % (loaded, err / scale, a.rtol))
    if not np.isfinite(got).all() or err > a.rtol * scale:
        sys.exit("run: FAILED")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("weights")
    w.add_argument("model")
    w.add_argument("report")
    r = sub.add_parser("run")
    r.add_argument("name")
    r.add_argument("size", type=int)
    r.add_argument("clustered")
    r.add_argument("harness")
    r.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    {"weights": weights, "run": run}[a.cmd](a)


if __name__ == "__main__":
    main()
