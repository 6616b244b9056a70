"""Section 11's table: `python studies/distillation/results/zoo3000_ema/pair.py` from the
repository root. One 3000-step run with train.ema_decay=0.999 holds, at each evaluated
step, the moving averages (`student_i`) and the raw weights (`student_i_raw`) of the
same trajectory; `evals/<step>/eval.json` are their evaluations on the 48 scenes (the
last also has the zoo teacher). The 3000-step run without the average (section 8,
`results/zoo3000/eval.json`, another machine) is listed for reference."""

import json
import pathlib

from dsiam_jax.jobs import paired_stats

HERE = pathlib.Path(__file__).parent
PAIR = paired_stats.paired_difference


def trackers(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())["trackers"]


def sequences(ts: dict, names) -> list:
    return [ts[n]["sequences"] for n in names]


evals = {int(p.parent.name): trackers(p) for p in (HERE / "evals").glob("*/eval.json")}
teacher = evals[max(evals)]["siamfc_teacher"]
print(f"teacher {teacher['success_auc']:.3f} (48 scenes)")
average, raw = ["student_0", "student_1"], ["student_0_raw", "student_1_raw"]
for step in sorted(evals):
    ts = evals[step]
    aucs = {n: ts[n]["success_auc"] for n in average + raw}
    d, se, n = PAIR(sequences(ts, average), paired_stats.per_sequence_mean(sequences(ts, raw)))
    gap_avg, se_avg, _ = PAIR(sequences(ts, average), teacher["sequences"])
    gap_raw, se_raw, _ = PAIR(sequences(ts, raw), teacher["sequences"])
    print(
        f"step {step}: average {aucs['student_0']:.3f} / {aucs['student_1']:.3f}, "
        f"raw {aucs['student_0_raw']:.3f} / {aucs['student_1_raw']:.3f}; "
        f"average - raw {d:+.3f} +- {se:.3f} ({n} scenes); teacher - average "
        f"{-gap_avg:.3f} +- {se_avg:.3f}; teacher - raw {-gap_raw:.3f} +- {se_raw:.3f}"
    )
    for i in (0, 1):
        g, s, _ = PAIR(sequences(ts, [average[i]]), teacher["sequences"])
        print(f"  teacher - student_{i} (average) {-g:.3f} +- {s:.3f}")
old = trackers(HERE.parent / "zoo3000" / "eval.json")
print("section 8, no average: " + " / ".join(f"{t['success_auc']:.3f}" for t in old.values()))
