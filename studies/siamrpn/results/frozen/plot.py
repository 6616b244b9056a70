"""Section 34's plot: success AUC on the 256 synthetic test sequences against training
CPU time, in units of the SiamFC teacher's (600 steps).

    python -m studies.siamrpn.results.frozen.plot

Reads `compare.json` (run.sh), `rate.json` (rate.sh), `control.json` (control.sh;
left out while it is missing) and `steptime.json` (steptime.py) here; writes
`budget.png`. An RPN's time includes the SiamFC teacher it
starts from (`model.init_from`); its own steps count at its step time relative to a
SiamFC teacher step. Error bars: the paired standard error (over sequences) of each
model's difference to the zoo's SiamFC teacher.
"""

from __future__ import annotations

import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).parent
SIAMFC_STEPS = 600  # the zoo's SiamFC teacher (zoo/build.sh)
# variant -> (label, steps, steptime.json row, starts from the SiamFC teacher)
RUNS = {
    "fc": ("SiamFC teacher (zoo)", 600, "siamfc_teacher", False),
    "fc1250": ("SiamFC teacher, 1,250 steps", 1250, "siamfc_teacher", False),
    "L": ("RPN, whole backbone 0.1x, 1,000 steps", 1000, "rpn_matcher", True),
    "T": ("RPN, whole backbone 0.1x, 2,000 steps (zoo)", 2000, "rpn_matcher", True),
    "F1k": ("RPN, conv1-3 fixed, 1,000 steps", 1000, "rpn_matcher_frozen3", True),
    "F2k": ("RPN, conv1-3 fixed, 2,000 steps", 2000, "rpn_matcher_frozen3", True),
    "F1kr1": ("RPN, conv1-3 fixed, conv4-5 1x, 1,000 steps", 1000, "rpn_matcher_frozen3", True),
}


def budget(steps: int, row: str, starts_from_siamfc: bool, ratios: dict[str, float]) -> float:
    """Training CPU time in SiamFC-teacher trainings."""
    return steps * ratios[row] / SIAMFC_STEPS + (1.0 if starts_from_siamfc else 0.0)


def points() -> dict[str, tuple[str, float, float, float]]:
    """variant -> (label, budget, success AUC, paired SE against the SiamFC teacher)."""
    ratios = json.loads((HERE / "steptime.json").read_text())["step_time_vs_siamfc_teacher"]
    variants, pairs = {}, {}
    for name in ("compare.json", "rate.json", "control.json"):
        if not (HERE / name).exists():
            continue
        d = json.loads((HERE / name).read_text())
        variants.update({k: v["mean_auc"] for k, v in d["variants"].items()})
        pairs.update({p["a"]: p["se_sequences"] for p in d["pairs"] if p["b"] == "fc"})
    out = {}
    for v, (label, steps, row, start) in RUNS.items():
        if v not in variants:
            continue
        out[v] = (label, budget(steps, row, start, ratios), variants[v], pairs.get(v, 0.0))
    return out


def main() -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for v, (label, x, auc, se) in points().items():
        marker = "s" if v.startswith("fc") else ("o" if v.startswith("F") else "^")
        ax.errorbar([x], [auc], yerr=[se], fmt=marker, capsize=3, label=label)
    ref = points()["fc"][2]
    ax.axhline(ref, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("training CPU time (SiamFC teacher = 1; RPNs include the SiamFC they start from)")
    ax.set_ylabel("success AUC, 256 synthetic test sequences")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(HERE / "budget.png", dpi=120)


if __name__ == "__main__":
    main()
