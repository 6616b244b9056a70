"""Sections 27-28: the training loss terms of runs, as means over 100-step windows, from
copies of their workdirs' metrics.jsonl.

    python studies/siamrpn/results/matcher/losses.py            # section 27's three runs
    python studies/siamrpn/results/matcher/losses.py NAME=FILE ...   # any runs
"""

import json
import pathlib
import sys

import numpy as np

TERMS = ("gt_cls", "gt_rank", "gt_reg", "total")
WINDOW = 100


def windows(path: pathlib.Path) -> dict[int, dict[str, float]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        end = -(-int(row["step"]) // WINDOW) * WINDOW
        for term in TERMS:
            key = f"siamrpn_teacher/{term}"
            if key in row:
                out.setdefault(end, {}).setdefault(term, []).append(row[key])
    return {end: {t: float(np.mean(v)) for t, v in terms.items()} for end, terms in out.items()}


def main(argv: list[str]) -> None:
    here = pathlib.Path(__file__).parent
    named = [arg.split("=", 1) for arg in argv] or [
        (name, here / f"{name}_metrics.jsonl") for name in ("run", "control", "frozen")
    ]
    runs = {name: windows(pathlib.Path(path)) for name, path in named}
    print("| steps | " + " | ".join(f"{r} {t}" for r in runs for t in TERMS) + " |")
    print("|---" * (1 + len(runs) * len(TERMS)) + "|")
    for end in sorted(set().union(*runs.values())):
        cells = [
            f"{runs[r][end][t]:.3f}" if end in runs[r] and t in runs[r][end] else ""
            for r in runs
            for t in TERMS
        ]
        print(f"| {end - WINDOW + 1}-{end} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
