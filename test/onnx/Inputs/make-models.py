#!/usr/bin/env python3
"""Small ONNX files for the importer's tests, made with onnx.helper.

  make-models.py OUTDIR

good.onnx: Shape/Gather/Constant/Concat feeding Reshape (folded at
import), Transpose, a transB=1 Gemm with a bias and a runtime Gather.
The bad ones, each failing in one way: truncated.onnx (half of good.onnx),
unknown-op.onnx (node 'mystery' of type FancyOp), external-missing.onnx
(initializer 'big.weight' in a missing weights.bin), opset-too-new.onnx
(opset 18), dynamic.onnx (input 'x' with a 'batch' dimension).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper


def save(model, path, check=True):
    if check:
        checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def good(opset=17, dim="fixed"):
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4] if dim == "fixed" else ["batch", 3, 4])
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])
    e = helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 8])
    w = numpy_helper.from_array(rng.standard_normal((5, 12)).astype(np.float32), "fc.weight")
    b = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fc.bias")
    table = numpy_helper.from_array(rng.standard_normal((10, 8)).astype(np.float32), "emb.weight")
    zero = numpy_helper.from_array(np.array([0], dtype=np.int64), "zero")
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], name="/t", perm=[0, 2, 1]),
        helper.make_node("Shape", ["xt"], ["shape"], name="/shape"),
        helper.make_node("Gather", ["shape", "zero"], ["n"], name="/gather_n", axis=0),
        helper.make_node("Constant", [], ["minus1"], name="/minus1", value_ints=[-1]),
        helper.make_node("Concat", ["n", "minus1"], ["target"], name="/concat", axis=0),
        helper.make_node("Reshape", ["xt", "target"], ["flat"], name="/reshape"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm", transB=1),
        helper.make_node("Gather", ["emb.weight", "ids"], ["e"], name="/emb/Gather"),
    ]
    graph = helper.make_graph(nodes, "good", [x, ids], [y, e], [w, b, table, zero])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make-models")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    m = good()
    save(m, os.path.join(out, "good.onnx"))
    data = m.SerializeToString()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    u = good()
    u.graph.node.append(helper.make_node("FancyOp", ["y"], ["z"], name="mystery"))
    save(u, os.path.join(out, "unknown-op.onnx"), check=False)
    x = good()
    t = x.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", str(5 * 12 * 4))):
        entry = t.external_data.add()
        entry.key, entry.value = k, v
    t.name = "big.weight"
    x.graph.node[5].input[1] = "big.weight"
    save(x, os.path.join(out, "external-missing.onnx"), check=False)
    save(good(opset=18), os.path.join(out, "opset-too-new.onnx"), check=False)
    save(good(dim="dynamic"), os.path.join(out, "dynamic.onnx"))


if __name__ == "__main__":
    main()
