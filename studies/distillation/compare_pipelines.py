"""Paired comparison of whole pipeline runs (README main jobs with other settings).

    python -m studies.distillation.compare_pipelines \
        --runs=t600=W1,t500=W2,t500_lr3=W3 --pairs=t500_lr3:t500 --out=DIR

Each run is a `mode=pipeline` workdir (its `report.json`, `evaluate/eval.json`). For
each run: the success AUC of its teacher, its distilled students (and their mean) and
its from-scratch student, as its report lists them (roles as `run_report.pipeline_roles`
reads them), with the report's settings and its two comparisons. For each pair `a:b`:
a minus b for the teacher and for the students' mean, paired over the test sequences
both evaluated (`dsiam_jax.jobs.paired_stats`). Writes `DIR/pipelines.json` and
`DIR/pipelines.md`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
from collections.abc import Sequence
from typing import Any

from dsiam_jax.jobs import paired_stats, run_report


def load_run(workdir: str | pathlib.Path) -> dict[str, Any]:
    """The run's report and the per-sequence scores of its models by role (`students`:
    a list, one per distilled student)."""
    workdir = pathlib.Path(workdir)
    trackers = json.loads((workdir / "evaluate" / "eval.json").read_text())["trackers"]
    report = json.loads((workdir / "report.json").read_text())
    distilled, scratch, teacher = run_report.pipeline_roles(report["models"])
    roles = {
        "teacher": trackers[teacher["name"]]["sequences"],
        "students": [trackers[r["name"]]["sequences"] for r in distilled],
        "scratch": trackers[scratch["name"]]["sequences"],
    }
    return {"roles": roles, "report": report}


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Success AUC by role (from the report), with its settings and comparisons."""
    report = run["report"]
    distilled, scratch, teacher = run_report.pipeline_roles(report["models"])
    students = [r["success_auc"] for r in distilled]
    return {
        "teacher": teacher["success_auc"],
        "students": students,
        "students_mean": statistics.fmean(students),
        "scratch": scratch["success_auc"],
        "settings": report.get("settings", {}),
        "comparisons": report.get("comparisons", {}),
    }


def pair(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, float]]:
    """a minus b for the teacher and for the students' mean, paired by sequence."""
    out = {}
    for role in ("teacher", "students"):
        ta = a["roles"][role] if role == "students" else [a["roles"][role]]
        tb = b["roles"][role] if role == "students" else [b["roles"][role]]
        # b's students averaged per sequence first, so that b is one tracker
        b_mean = paired_stats.per_sequence_mean(tb)
        diff, se, n = paired_stats.paired_difference(ta, b_mean)
        out[role] = {
            "diff": diff,
            "se": se,
            "n": n,
            "beyond_2se": paired_stats.beyond_two_se(diff, se),
        }
    return out


def _comparison(comparisons: dict, key: str) -> str:
    v = comparisons.get(key)
    return f"{v['mean']:+.3f} ± {v['se']:.3f}" if v else "-"


def table(summaries: dict[str, dict], pairs: dict[str, dict]) -> str:
    lines = [
        "| run | teacher | distilled students | scratch | distilled - scratch | "
        "teacher - distilled |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in summaries.items():
        c = s["comparisons"]
        students = " / ".join(f"{v:.3f}" for v in s["students"])
        lines.append(
            f"| {name} | {s['teacher']:.3f} | {students} | {s['scratch']:.3f} | "
            f"{_comparison(c, 'distilled_minus_scratch')} | "
            f"{_comparison(c, 'teacher_minus_distilled')} |"
        )
    lines += [
        "",
        "| a - b (paired over sequences) | teacher | distilled students |",
        "|---|---|---|",
    ]
    for name, p in pairs.items():
        cells = [
            f"{p[r]['diff']:+.3f} ± {p[r]['se']:.3f}{' (> 2 SE)' if p[r]['beyond_2se'] else ''}"
            for r in ("teacher", "students")
        ]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", required=True, help="name=pipeline_workdir,...")
    parser.add_argument("--pairs", default="", help="a:b,... (a minus b)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    runs = {
        name: load_run(path)
        for name, path in (item.split("=", 1) for item in args.runs.split(",") if item)
    }
    summaries = {name: summary(run) for name, run in runs.items()}
    pairs = {
        f"{a} - {b}": pair(runs[a], runs[b])
        for a, b in (item.split(":", 1) for item in args.pairs.split(",") if item)
    }
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipelines.json").write_text(
        json.dumps({"runs": summaries, "pairs": pairs}, indent=1) + "\n"
    )
    (out / "pipelines.md").write_text(table(summaries, pairs))
    print(table(summaries, pairs))


if __name__ == "__main__":
    main()
