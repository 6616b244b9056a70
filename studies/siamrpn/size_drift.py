"""How a tracker's box size moves over a sequence (studies/siamrpn/README.md section 40).

    PYTHONPATH=. python -m studies.siamrpn.size_drift --split=test \
        --evals=fc=W/ema/siamfc_teacher_test256,RT10=W/reg_rate/RT10_test256 \
        --out=studies/siamrpn/results/head_kernel/size_drift.json

Each eval is `label=<mode=evaluate workdir>[#tracker]` on the first sequences of the
synthetic split (as `box_errors.py`). Per label, at frames `FRAMES` (1-based; frame 1 is
the given box): the mean over sequences of the predicted box's log area over frame 1's
(`drift`: 0 for a tracker whose sizes do not run away), the same for the truth under
`truth`, and at the last of them the correlation and least-squares slope of the
predicted on the true log-area change (how much of the target's own change the boxes
follow).
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Sequence

import numpy as np

from studies.siamrpn.box_errors import eval_arguments, load_boxes

FRAMES = (5, 10, 20, 30, 40)


def log_area_change(boxes: Sequence[np.ndarray], frames: Sequence[int]) -> np.ndarray:
    """log(area at frame f / area at frame 1) `[S, len(frames)]` of per-sequence
    (x, y, w, h) boxes `[T, 4]`."""
    area = [b[:, 2] * b[:, 3] for b in boxes]
    return np.array([[np.log(a[f - 1] / a[0]) for f in frames] for a in area])


def drift(pred: Sequence[np.ndarray], truth: Sequence[np.ndarray], frames=FRAMES) -> dict:
    """The module docstring's numbers for one tracker's boxes against the truth."""
    p, g = log_area_change(pred, frames), log_area_change(truth, frames)
    last_p, last_g = p[:, -1], g[:, -1]
    return {
        "drift": [round(float(v), 4) for v in p.mean(0)],
        "follow_corr": round(float(np.corrcoef(last_p, last_g)[0, 1]), 4),
        "follow_slope": round(float(np.polyfit(last_g, last_p, 1)[0]), 4),
    }


def main(argv: Sequence[str] | None = None) -> None:
    a, evals, names, truth = eval_arguments(argv, __doc__.splitlines()[0])
    frames = tuple(f for f in FRAMES if f <= min(len(t) for t in truth))
    g = log_area_change(truth, frames)
    out = {"split": a.split, "sequences": len(truth), "frames": list(frames)}
    out["truth"] = {"mean": [round(float(v), 4) for v in g.mean(0)]}
    out["truth"]["mean_abs"] = [round(float(v), 4) for v in np.abs(g).mean(0)]
    for label, folder in evals.items():
        out[label] = drift(load_boxes(folder, names), truth, frames)
        print(label, out[label], flush=True)
    if a.out:
        pathlib.Path(a.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
