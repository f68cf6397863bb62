"""Times Hugging Face Math-Verify on the shared equivalence cases (one core, CPU time), for bench_verify.

Each case is compared the way its upstream test did (extraction targets, precision, strict,
allow_set_relation_comp). Prints one JSON line: checks, seconds_per_check, agreement.
Usage: math_verify_bench.py CASES.jsonl [HENDRYCKS.jsonl] [--repeats N]
"""
import json
import sys
import time

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify


def load(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


def configs(row):
    call = row.get("upstream_call", "")
    if "match_types" not in call:
        return [LatexExtractionConfig(), ExprExtractionConfig()]
    out = []
    if "'latex'" in call:
        out.append(LatexExtractionConfig())
    if "'expr'" in call:
        out.append(ExprExtractionConfig())
    return out


def check(row):
    cfg = configs(row)
    gold = parse(row["gold"], extraction_config=cfg)
    pred = parse(row["pred"], extraction_config=cfg)
    return verify(gold, pred, float_rounding=row.get("precision", 6), strict=row.get("strict", True),
                  allow_set_relation_comp=row.get("allow_set_relation_comp", False))


def main():
    argv = sys.argv[1:]
    repeats = 3
    if "--repeats" in argv:
        k = argv.index("--repeats")
        repeats = int(argv[k + 1])
        del argv[k:k + 2]
    args = argv
    rows = load(args)
    agree = sum(1 for r in rows if bool(check(r)) == r["equivalent"])  # also warms up sympy
    start = time.process_time()  # CPU time: robust on a shared machine, like the C++ side
    for _ in range(repeats):
        for r in rows:
            check(r)
    elapsed = time.process_time() - start
    print(json.dumps({"checks": len(rows) * repeats, "seconds_per_check": elapsed / (len(rows) * repeats),
                      "agreement": agree, "cases": len(rows)}))


if __name__ == "__main__":
    main()
