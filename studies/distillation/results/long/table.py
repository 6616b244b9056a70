"""Section 10's table from the evaluations in `evals/` (paired over the 48 scenes):
`python studies/distillation/results/long/table.py`.

Per run and step: the teacher minus the student. Per step: the teacher minus the mean
of the spatial_t2_lr3 seeds, and that mean minus the mean of the scratch_lr3 seeds
(each sequence's scores averaged over the seeds first, then paired)."""

import json
import pathlib

from dsiam_jax.jobs import paired_stats

EVALS = pathlib.Path(__file__).parent / "evals"


def tracker(folder: str) -> dict:
    (only,) = json.loads((EVALS / folder / "eval.json").read_text())["trackers"].values()
    return only


def sequences(folder: str) -> dict:
    return tracker(folder)["sequences"]


teacher = sequences("teacher_eval")
for step in ("_step600", "_step1000", ""):
    runs = sorted(
        p.name
        for p in EVALS.iterdir()
        if p.name.endswith(f"_eval{step}") and p.name != "teacher_eval"
    )
    for run in runs:
        d, se, _ = paired_stats.paired_difference([sequences(run)], teacher)
        print(f"{run}: AUC {tracker(run)['success_auc']:.3f}, gap {-d:.3f} +- {se:.3f}")
    spatial = [sequences(r) for r in runs if r.startswith("spatial")]
    scratch = [sequences(r) for r in runs if r.startswith("scratch")]
    label = step.strip("_") or "step1500"
    d, se, _ = paired_stats.paired_difference(spatial, teacher)
    print(f"{label}: teacher - mean of {len(spatial)} spatial seeds: {-d:.3f} +- {se:.3f}")
    if scratch:
        d, se, _ = paired_stats.paired_difference(spatial, paired_stats.per_sequence_mean(scratch))
        print(
            f"{label}: mean of {len(spatial)} spatial seeds - mean of {len(scratch)} scratch "
            f"seeds: {d:+.3f} +- {se:.3f}"
        )
