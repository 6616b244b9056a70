"""Success AUC against training steps: the small RPN (N's recipe) and its SiamFC
counterpart (C), with the RPN's `hybrid.py` rows (perfect classifier / regression).

    python -m studies.siamrpn.budget_plot --out=studies/siamrpn/results/long8k/budget.png

Reads the committed results of sections 17, 19 and 20 (`compare.json` and
`hybrid.json` under `studies/siamrpn/results/`); writes one PNG.
"""

from __future__ import annotations

import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from absl import app, flags  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"
# variant in long8k/compare.json -> training steps
RPN_RUNS = {"N": 2000, "N4k": 4000, "N8k": 8000}
SIAMFC_RUNS = {"C": 2000, "C4k": 4000}
# the RPN's hybrid.py tables, by training steps
HYBRID = {2000: "neg_pairs/hybrid.json", 4000: "budget/hybrid.json", 8000: "long8k/hybrid.json"}
HYBRID_ROWS = {"cls": "RPN, perfect classifier", "reg": "RPN, perfect regression"}

_OUT = flags.DEFINE_string("out", str(RESULTS / "long8k" / "budget.png"), "PNG to write")


def _hybrid_rows(path: pathlib.Path) -> dict[str, dict[str, float]]:
    """The variants' rows of a hybrid.py table of one model."""
    (rows,) = json.loads(path.read_text()).values()
    return rows


def main(argv):
    del argv
    compare = json.loads((RESULTS / "long8k" / "compare.json").read_text())["variants"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for runs, label, style in ((RPN_RUNS, "RPN (N)", "o-"), (SIAMFC_RUNS, "SiamFC (C)", "s-")):
        steps = list(runs.values())
        ax.plot(steps, [compare[v]["mean_auc"] for v in runs], style, label=label)
    steps = sorted(HYBRID)
    hybrid = [_hybrid_rows(RESULTS / HYBRID[s]) for s in steps]
    for row, label in HYBRID_ROWS.items():
        ax.plot(steps, [h[row]["success_auc"] for h in hybrid], "--", marker=".", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks([2000, 4000, 8000], ["2,000", "4,000", "8,000"])
    ax.set_xlabel("training steps (batch 8)")
    ax.set_ylabel("success AUC, 64 synthetic test sequences")
    ax.set_title("16-32-48-48-32, seed 0: success AUC by training budget", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(_OUT.value, dpi=120)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)
