#!/usr/bin/env python3
"""Checks an exported ONNX model against its source and its palettes.

  check-export.py SRC.onnx OUT.onnx PALETTE_DIR

Every initializer named in palettes.json holds centroids[indices] and has
its shape; every other initializer, the nodes, inputs, outputs, opsets and
metadata are unchanged; onnx.checker accepts the result.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    src, out, pal = sys.argv[1:4]
    a, b = onnx.load(src), onnx.load(out)
    onnx.checker.check_model(b)
    meta = json.load(open(os.path.join(pal, "palettes.json")))
    weights = meta["weights"]
    ia = {t.name: t for t in a.graph.initializer}
    ib = {t.name: t for t in b.graph.initializer}
    assert list(ia) == list(ib), "initializer order or names changed"
    for name, t in ia.items():
        if name in weights:
            w = weights[name]
            c = np.load(os.path.join(pal, w["centroids"]))
            idx = np.load(os.path.join(pal, w["indices"]))
            got = numpy_helper.to_array(ib[name])
            assert list(got.shape) == w["shape"] == list(idx.shape), name
            assert idx.max() < w["k"], name
            if w["tables"] == 1:
                assert c.shape == (w["k"],), name
                assert np.array_equal(got, c[idx]), "%s is not centroids[indices]" % name
                assert len(np.unique(got)) <= w["k"]
            else:  # one table per slice along axis
                ax = w["axis"]
                assert c.shape == (w["tables"], w["k"]) and got.shape[ax] == w["tables"], name
                for o in range(w["tables"]):
                    assert np.array_equal(np.take(got, o, axis=ax), c[o][np.take(idx, o, axis=ax)]), \
                        "%s slice %d is not centroids[indices]" % (name, o)
        else:
            assert t.SerializeToString() == ib[name].SerializeToString(), "%s changed" % name
    for field in ("node", "input", "output", "value_info"):
        assert getattr(a.graph, field) == getattr(b.graph, field), field
    assert a.opset_import == b.opset_import and a.producer_name == b.producer_name
    print("export ok: %d of %d initializers replaced" % (len(weights), len(ia)))


if __name__ == "__main__":
    main()
