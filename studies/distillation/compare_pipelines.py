"""Paired comparison of whole pipeline runs (README main jobs with other settings).

    python -m studies.distillation.compare_pipelines \
        --runs=t600=W1,t500=W2,t500_lr3=W3 --pairs=t500_lr3:t500 --out=DIR

Each run is a `mode=pipeline` workdir (its `evaluate/eval.json`, `report.json`). For
each run: the success AUC of its teacher, its distilled students (their mean) and its
from-scratch student, the two comparisons of its own report and its wall time. For each
pair `a:b`: a minus b for the teacher and for the students' mean, paired over the test
sequences both evaluated (`dsiam_jax.jobs.paired_stats`). Writes `DIR/pipelines.json`
and `DIR/pipelines.md`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
from collections.abc import Sequence
from typing import Any

from dsiam_jax.jobs import paired_stats

ROLES = ("teacher", "students", "scratch")


def load_run(workdir: str | pathlib.Path) -> dict[str, Any]:
    """Per-sequence scores by role (`students`: a list, one per distilled student)."""
    workdir = pathlib.Path(workdir)
    trackers = json.loads((workdir / "evaluate" / "eval.json").read_text())["trackers"]
    report = json.loads((workdir / "report.json").read_text())
    roles: dict[str, Any] = {"teacher": None, "students": [], "scratch": None}
    for name, tracker in trackers.items():
        seqs = tracker["sequences"]
        if name == "teacher":
            roles["teacher"] = seqs
        elif name.endswith("scratch"):
            roles["scratch"] = seqs
        else:
            roles["students"].append(seqs)
    return {"roles": roles, "report": report}


def mean_auc(trackers: Sequence[dict]) -> float:
    """Mean over sequences of the trackers' mean success AUC."""
    names = trackers[0].keys()
    return statistics.fmean(statistics.fmean(t[n]["success_auc"] for t in trackers) for n in names)


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """Mean success AUC by role, with the run's settings and its report's comparisons."""
    roles, report = run["roles"], run["report"]
    return {
        "teacher": mean_auc([roles["teacher"]]),
        "students": [mean_auc([s]) for s in roles["students"]],
        "students_mean": mean_auc(roles["students"]),
        "scratch": mean_auc([roles["scratch"]]),
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
        names = [n for n in tb[0] if all(n in t for t in tb)]
        b_mean = {
            n: {"success_auc": statistics.fmean(t[n]["success_auc"] for t in tb)} for n in names
        }
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
