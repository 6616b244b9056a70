"""Section 8's 3000-step row: `python studies/distillation/results/zoo3000/pair.py` from
the repository root. The teacher and the 500-step students come from
`results/zoo_lr3/eval.json`, the 1500-step students from `results/zoo1500/eval.json`, the
3000-step ones from this folder's eval.json; differences are paired over the 48 scenes."""

import json
import pathlib

from dsiam_jax.jobs import paired_stats

HERE = pathlib.Path(__file__).parent


def trackers(folder: str) -> dict:
    return json.loads((HERE.parent / folder / "eval.json").read_text())["trackers"]


zoo_lr3 = trackers("zoo_lr3")
teacher = zoo_lr3["siamfc_teacher"]
groups = {
    "500": [zoo_lr3["student_0"], zoo_lr3["student_1"]],
    "1500": list(trackers("zoo1500").values()),
    "3000": list(trackers("zoo3000").values()),
}
scores = {steps: [t["sequences"] for t in students] for steps, students in groups.items()}

print(f"teacher {teacher['success_auc']:.3f}")
for steps, students in groups.items():
    d, se, n = paired_stats.paired_difference(scores[steps], teacher["sequences"])
    aucs = " / ".join(f"{t['success_auc']:.3f}" for t in students)
    print(f"{steps} steps: students {aucs}; teacher - students {-d:.3f} +- {se:.3f} ({n} scenes)")
for longer, shorter in (("3000", "1500"), ("3000", "500")):
    d, se, _ = paired_stats.paired_difference(
        scores[longer], paired_stats.per_sequence_mean(scores[shorter])
    )
    print(f"{longer} - {shorter} steps (students' means): {d:+.3f} +- {se:.3f}")
