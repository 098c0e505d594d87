"""Checks a budget run: its report (JSON, or the table's budget line) uses
at most BUDGET bytes and at least (1 - TOL) * BUDGET; prints each clustered
weight's bits (JSON) and "ok".

    budget-check.py REPORT BUDGET TOL
"""
import json
import re
import sys

path, budget, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
text = open(path).read()
if path.endswith(".json"):
    r = json.loads(text)
    rows = [l for l in r["layers"] if l["clustered"]]
    used = sum(l["bytes_after"] for l in rows)
    assert used == r["totals"]["bytes_after"]
    for l in rows:
        assert l["k"] <= 2 ** l["bits"], l
    print("bits " + " ".join(f"{l['name']}={l['bits']}" for l in rows))
else:
    used = int(re.search(r"used (\d+) bytes", text).group(1))
print(f"used {used} of {budget} bytes")
if not (1 - tol) * budget <= used <= budget:
    sys.exit(f"error: {used} bytes is not within {tol:.0%} below the budget {budget}")
print("ok")
