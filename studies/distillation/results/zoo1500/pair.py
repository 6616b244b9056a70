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
teacher = zoo_lr3["siamfc_teacher"]["sequences"]
groups = {
    "1500": [v["sequences"] for v in long.values()],
    "500": [zoo_lr3["student_0"]["sequences"], zoo_lr3["student_1"]["sequences"]],
}


def mean_auc(scores: dict) -> float:
    return sum(s["success_auc"] for s in scores.values()) / len(scores)


print(f"teacher {mean_auc(teacher):.3f}")
for steps, students in groups.items():
    d, se, n = paired_stats.paired_difference(students, teacher)
    aucs = " / ".join(f"{mean_auc(s):.3f}" for s in students)
    print(f"{steps} steps: students {aucs}; teacher - students {-d:.3f} +- {se:.3f} ({n} scenes)")
mean_500 = {
    name: {"success_auc": sum(s[name]["success_auc"] for s in groups["500"]) / 2}
    for name in teacher
}
d, se, _ = paired_stats.paired_difference(groups["1500"], mean_500)
print(f"1500 - 500 steps (students' means): {d:+.3f} +- {se:.3f}")
