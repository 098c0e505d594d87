#!/usr/bin/env python3
"""Checks clusterc train logs (--log JSON lines) against each other.

  compare-runs.py ste-beats-co FLOAT CO STE --margin=M --floor=F
      STE's final test accuracy beats centroids-only's by at least M
      (fraction, e.g. 0.005), and stays above F; both runs started from the
      same clustered model (same epoch-0 accuracy).
  compare-runs.py lower-loss A B [--margin=M]
      B's final test loss is below A's by at least M
  compare-runs.py same A B [--tol=T]
      the two runs reached the same final test accuracy and loss (within T;
      regression runs have no accuracy)
Prints the figures; exits 1 when a check fails.
"""
import json
import sys


def load(path):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    final = [l for l in lines if l.get("final")][-1]
    first = [l for l in lines if l.get("epoch") == 0 and not l.get("final")]
    return final, (first[0] if first else None)


def differ(x, y, tol):
    """Whether two figures differ by more than tol (None: regression has no accuracy)."""
    if x is None or y is None:
        return (x is None) != (y is None)
    return abs(x - y) > tol


def opt(name, default):
    for a in sys.argv:
        if a.startswith("--%s=" % name):
            return float(a.split("=", 1)[1])
    return default


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ok = True
    if args[0] == "ste-beats-co":
        flt, _ = load(args[1])
        co, co0 = load(args[2])
        ste, ste0 = load(args[3])
        margin, floor = opt("margin", 0.005), opt("floor", 0.8)
        print("float %.4f, clustered before fine-tuning %.4f, centroids-only %.4f, STE %.4f"
              % (flt["test_accuracy"], co0["test_accuracy"], co["test_accuracy"], ste["test_accuracy"]))
        if abs(co0["test_accuracy"] - ste0["test_accuracy"]) > 1e-9:
            print("FAIL: the two fine-tunings did not start from the same clustered model")
            ok = False
        if ste["test_accuracy"] < co["test_accuracy"] + margin:
            print("FAIL: STE does not beat centroids-only by %.3f" % margin)
            ok = False
        if ste["test_accuracy"] < floor:
            print("FAIL: STE accuracy below the floor %.3f" % floor)
            ok = False
    elif args[0] == "lower-loss":
        a, _ = load(args[1])
        b, _ = load(args[2])
        margin = opt("margin", 0.0)
        print("loss %.4f -> %.4f, accuracy %.4f -> %.4f" % (a["test_loss"], b["test_loss"],
                                                          a["test_accuracy"], b["test_accuracy"]))
        if b["test_loss"] > a["test_loss"] - margin:
            print("FAIL: the loss is not lower by %g" % margin)
            ok = False
    elif args[0] == "same":
        a, _ = load(args[1])
        b, _ = load(args[2])
        tol = opt("tol", 1e-4)
        print("accuracy %s vs %s, loss %.6f vs %.6f" % (a["test_accuracy"], b["test_accuracy"],
                                                      a["test_loss"], b["test_loss"]))
        if differ(a["test_accuracy"], b["test_accuracy"], tol) or differ(a["test_loss"], b["test_loss"], tol):
            print("FAIL: the runs differ by more than %g" % tol)
            ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
