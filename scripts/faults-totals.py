#!/usr/bin/env python3
"""Totals of a fault run (docs/reliability.md): reads the JSON lines LIFEBOAT_FAULTS_REPORT files hold, prints the table."""
import collections
import json
import sys

rows = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            kind = "random" if d["plan"].startswith("kill -9 after") else d["plan"].split()[3]
            r = rows.setdefault(d["operation"], collections.Counter())
            r["trials"] += 1
            r["passed"] += d["passed"]
            r["killed"] += d["killed"]
            r[kind] += 1

cols = ["trials", "passed", "killed", "completed", "random", "rename", "unlink", "fsync"]
print("| operation | trials | passed | killed mid-way | completed first | random delays | before rename | before unlink | before fsync |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
total = collections.Counter()
for op, r in rows.items():
    r["completed"] = r["trials"] - r["killed"]
    total.update({c: r[c] for c in cols})
    print(f"| {op} | " + " | ".join(str(r[c]) for c in cols) + " |")
print("| **total** | " + " | ".join(str(total[c]) for c in cols) + " |")
