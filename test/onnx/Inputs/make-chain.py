#!/usr/bin/env python3
"""A chain of N MatMuls with 16x16 weights, for outputs that come by the
hundred (the palettes folder of an export: files per weight).

  make-chain.py N OUT.onnx
"""
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper

n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
nodes, inits, prev = [], [], "x"
for i in range(n):
    w = "fc%d.weight" % i
    inits.append(numpy_helper.from_array(rng.standard_normal((16, 16)).astype(np.float32), w))
    out = "y" if i == n - 1 else "h%d" % i
    nodes.append(helper.make_node("MatMul", [prev, w], [out], name="/fc%d" % i))
    prev = out
graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
checker.check_model(model)
with open(path, "wb") as f:
    f.write(model.SerializeToString())
