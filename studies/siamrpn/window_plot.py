"""The RPN tracker's window rule (section 24): validation success AUC against the
window influence on the normalised map, and each model's test AUC under pysot's rule
against the normalised one.

    python -m studies.siamrpn.window_plot --out=studies/siamrpn/results/trackers/window.png

Reads the committed `window_val.json`, `window_test.json` and `window_heldout.json`
under `studies/siamrpn/results/trackers/` (compare.py's tables, whose "seed" is the
model's index in `run.sh`); writes one PNG.
"""

from __future__ import annotations

import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from absl import app, flags  # noqa: E402

from dsiam_jax.tracking.siamrpn import SiamRPNConfig  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results" / "trackers"
CHOICE_MODELS = ("N", "N seed 1", "N 4k", "N 8k", "R")  # run.sh's RPN_MODELS, in order
PYSOT_WINDOW = SiamRPNConfig.window_influence  # pysot's weight, the default

_OUT = flags.DEFINE_string("out", str(RESULTS / "window.png"), "PNG to write")


def _variants(name: str) -> dict[str, dict[str, float]]:
    """`{variant: {model index: success AUC}}` of one compare.py table."""
    variants = json.loads((RESULTS / name).read_text())["variants"]
    return {v: {int(k): a for k, a in row["auc"].items()} for v, row in variants.items()}


def main(argv):
    del argv
    val = _variants("window_val.json")
    windows = sorted(float(v[4:]) for v in val if v.startswith("norm"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for i, label in enumerate(CHOICE_MODELS):
        (line,) = left.plot(windows, [val[f"norm{w:g}"][i] for w in windows], "o-", label=label)
        left.plot([PYSOT_WINDOW], [val["prob"][i]], "x", color=line.get_color(), ms=9)
    left.set_xlabel(f"window influence (normalised map; x: pysot's rule at {PYSOT_WINDOW:g})")
    left.set_ylabel("success AUC, 64 validation sequences")
    left.set_title("choosing the weight: five RPN models", fontsize=10)
    left.legend(fontsize=8)
    for name, label, marker in (
        ("window_test.json", "the five of the choice", "o"),
        ("window_heldout.json", "eleven held out", "s"),
    ):
        test = _variants(name)
        models = sorted(test["norm"])
        right.plot([test["prob"][m] for m in models], [test["norm"][m] for m in models],
                   marker, label=label, alpha=0.8)  # fmt: skip
    (x0, x1), (y0, y1) = right.get_xlim(), right.get_ylim()
    lo, hi = min(x0, y0), max(x1, y1)
    right.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="equal")
    right.set_xlabel("success AUC, pysot's rule (probability)")
    right.set_ylabel("success AUC, normalised map")
    right.set_title(f"64 test sequences, window influence {PYSOT_WINDOW:g}", fontsize=10)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(_OUT.value, dpi=120)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)
