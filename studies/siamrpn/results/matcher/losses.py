"""Section 27: the training loss terms of the three runs, as means over 100-step windows
(from the copies of their workdirs' metrics.jsonl kept here as <run>_metrics.jsonl).

    python studies/siamrpn/results/matcher/losses.py
"""

import json
import pathlib

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


def main() -> None:
    here = pathlib.Path(__file__).parent
    runs = {name: windows(here / f"{name}_metrics.jsonl") for name in ("run", "control", "frozen")}
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
    main()
