"""Section 8's 1500-step row: `python studies/distillation/results/zoo1500/pair.py` from
the repository root. The teacher and the 500-step students (today's zoo students) come
from `results/zoo_lr3/eval.json`, the 1500-step students from this folder's eval.json;
differences are paired over the 48 scenes."""

import json
import pathlib

from dsiam_jax.jobs import paired_stats

HERE = pathlib.Path(__file__).parent
zoo_lr3 = json.loads((HERE.parent / "zoo_lr3" / "eval.json").read_text())["trackers"]
long = json.loads((HERE / "eval.json").read_text())["trackers"]
teacher = zoo_lr3["siamfc_teacher"]
groups = {
    "1500": list(long.values()),
    "500": [zoo_lr3["student_0"], zoo_lr3["student_1"]],
}
scores = {steps: [t["sequences"] for t in students] for steps, students in groups.items()}

print(f"teacher {teacher['success_auc']:.3f}")
for steps, students in groups.items():
    d, se, n = paired_stats.paired_difference(scores[steps], teacher["sequences"])
    aucs = " / ".join(f"{t['success_auc']:.3f}" for t in students)
    print(f"{steps} steps: students {aucs}; teacher - students {-d:.3f} +- {se:.3f} ({n} scenes)")
mean_500 = paired_stats.per_sequence_mean(scores["500"])
d, se, _ = paired_stats.paired_difference(scores["1500"], mean_500)
print(f"1500 - 500 steps (students' means): {d:+.3f} +- {se:.3f}")
