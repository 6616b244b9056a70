"""Section 10's table from the evaluations in `evals/` (teacher minus student, paired
over the 48 scenes): `python studies/distillation/results/long/partial_table.py`."""

import json
import pathlib

from dsiam_jax.jobs import paired_stats

EVALS = pathlib.Path(__file__).parent / "evals"


def sequences(folder: str) -> dict:
    (tracker,) = json.loads((EVALS / folder / "eval.json").read_text())["trackers"].values()
    return tracker["sequences"]


teacher = sequences("teacher_eval")
for step in ("_step600", "_step1000", ""):
    runs = sorted(
        p.name
        for p in EVALS.iterdir()
        if p.name.endswith(f"_eval{step}") and p.name != "teacher_eval"
    )
    for run in runs:
        d, se, _ = paired_stats.paired_difference([sequences(run)], teacher)
        print(f"{run}: gap {-d:.3f} +- {se:.3f}")
    spatial = [sequences(r) for r in runs if r.startswith("spatial")]
    d, se, _ = paired_stats.paired_difference(spatial, teacher)
    print(f"mean of {len(spatial)} spatial seeds{step or ' (1500)'}: gap {-d:.3f} +- {se:.3f}")
