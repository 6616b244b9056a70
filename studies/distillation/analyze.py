"""Learning curves and paired comparisons of a distillation sweep (mode=ablation).

    python -m studies.distillation.analyze --sweep=runs/distill_study \
        --out=studies/distillation/results

Reads every `<row>_seed<k>_eval/eval.json` (the end of a run) and
`<row>_seed<k>_eval_step<N>/eval.json` (a curve point, `ablation.eval_steps`) of
the sweep, plus the teacher's evaluation when the sweep has one, and writes:
- `study.json`: per row, step and seed, the success AUC of each model and per sequence;
- `curves.png`: success AUC against student steps, mean and standard deviation
  over seeds, one line per row (the teacher as a horizontal line);
- `comparisons.md`: for each row against `scratch` (and each other pair named on the
  command line) the paired difference at every step: per test sequence, the row
  minus the reference averaged over seeds, then the mean over sequences with its
  standard error (sequences as the unit), and the per-seed differences with their
  spread (seeds as the unit). A multi-student run counts the mean of its students.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

EVAL_DIR = re.compile(r"^(?P<row>.+)_seed(?P<seed>\d+)_eval(?:_step(?P<step>\d+))?$")


def load_sweep(sweep: str | pathlib.Path) -> dict[str, Any]:
    """`{row: {step: {seed: {'auc': float, 'sequences': {seq: auc}}}}}` (+ 'teacher')."""
    root = pathlib.Path(sweep)
    rows: dict[str, dict[int, dict[int, dict]]] = {}
    for path in sorted(root.glob("*/eval.json")):
        m = EVAL_DIR.match(path.parent.name)
        if not m:
            continue
        report = json.loads(path.read_text())
        trackers = report["trackers"]
        step = int(m["step"]) if m["step"] else _final_step(root / f"{m['row']}_seed{m['seed']}")
        seqs = sorted(set.intersection(*(set(t["sequences"]) for t in trackers.values())))
        per_seq = {
            s: statistics.fmean(t["sequences"][s]["success_auc"] for t in trackers.values())
            for s in seqs
        }
        entry = {
            "auc": statistics.fmean(t["success_auc"] for t in trackers.values()),
            "best_auc": max(t["success_auc"] for t in trackers.values()),
            "models": {n: t["success_auc"] for n, t in trackers.items()},
            "sequences": per_seq,
        }
        rows.setdefault(m["row"], {}).setdefault(step, {})[int(m["seed"])] = entry
    teacher = _teacher_auc(root)
    return {"rows": rows, "teacher": teacher}


def _final_step(run_dir: pathlib.Path) -> int:
    config = run_dir / "config.json"
    if config.is_file():
        return int(json.loads(config.read_text())["train"]["num_steps"])
    return -1


def _teacher_auc(root: pathlib.Path) -> float | None:
    path = root / "teacher_eval" / "eval.json"
    if not path.is_file():
        return None
    (t,) = json.loads(path.read_text())["trackers"].values()
    return t["success_auc"]


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean of `values` and its standard error (stdev / sqrt(n); nan below 2 values)."""
    if len(values) < 2:
        return (values[0] if values else float("nan")), float("nan")
    return statistics.fmean(values), statistics.stdev(values) / len(values) ** 0.5


def paired(a: Mapping[int, dict], b: Mapping[int, dict]) -> dict[str, Any] | None:
    """`a` minus `b` (each `{seed: entry}` at one step) on their common seeds and sequences."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    seqs = sorted(
        set.intersection(*(set(a[s]["sequences"]) & set(b[s]["sequences"]) for s in seeds))
    )
    per_seq = [
        statistics.fmean(a[s]["sequences"][q] - b[s]["sequences"][q] for s in seeds) for q in seqs
    ]
    per_seed = [a[s]["auc"] - b[s]["auc"] for s in seeds]
    diff, se_seq = mean_se(per_seq)
    _, se_seed = mean_se(per_seed)
    return {
        "seeds": seeds,
        "num_sequences": len(seqs),
        "diff": diff,
        "se_sequences": se_seq,
        "per_seed": per_seed,
        "se_seeds": se_seed,
        "significant": bool(len(seqs) > 1 and abs(diff) > 2 * se_seq),
    }


def comparisons(rows: Mapping[str, Any], pairs: Sequence[tuple[str, str]]) -> list[dict]:
    out = []
    for a, b in pairs:
        if a not in rows or b not in rows:
            continue
        for step in sorted(set(rows[a]) & set(rows[b])):
            result = paired(rows[a][step], rows[b][step])
            if result:
                out.append({"a": a, "b": b, "step": step, **result})
    return out


def plot_curves(rows: Mapping[str, Any], teacher: float | None, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, steps in sorted(rows.items()):
        xs = sorted(s for s in steps if s > 0)
        means = [statistics.fmean(e["auc"] for e in steps[s].values()) for s in xs]
        stds = [
            statistics.stdev([e["auc"] for e in steps[s].values()]) if len(steps[s]) > 1 else 0.0
            for s in xs
        ]
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=name)
    if teacher is not None:
        ax.axhline(teacher, color="k", ls="--", lw=1, label=f"teacher {teacher:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("student steps (batch 8)")
    ax.set_ylabel("success AUC (synthetic test split)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(result: Mapping[str, Any]) -> str:
    lines = ["# Distillation study: paired comparisons", ""]
    teacher = result["teacher"]
    if teacher is not None:
        lines += [f"Teacher success AUC: {teacher:.3f}.", ""]
    lines += [
        "| row | step | seeds | mean AUC ± std over seeds | best student |",
        "|---|---|---|---|---|",
    ]
    for name, steps in sorted(result["rows"].items()):
        for step in sorted(steps):
            aucs = [e["auc"] for e in steps[step].values()]
            best = [e["best_auc"] for e in steps[step].values()]
            std = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
            lines.append(
                f"| {name} | {step} | {len(aucs)} | {statistics.fmean(aucs):.3f} ± {std:.3f} | "
                f"{statistics.fmean(best):.3f} |"
            )
    lines += [
        "",
        "Paired differences: per test sequence the row minus the reference, averaged over "
        "the common seeds; mean over sequences ± its standard error (SE); the per-seed "
        "differences (seeds as the unit) for the spread across training runs.",
        "",
        "| a - b | step | sequences | diff ± SE (sequences) | per seed | > 2 SE |",
        "|---|---|---|---|---|---|",
    ]
    for c in result["comparisons"]:
        seeds = ", ".join(f"{d:+.3f}" for d in c["per_seed"])
        lines.append(
            f"| {c['a']} - {c['b']} | {c['step']} | {c['num_sequences']} | "
            f"{c['diff']:+.3f} ± {c['se_sequences']:.3f} | {seeds} | "
            f"{'yes' if c['significant'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def analyze(sweep: str, out: str, extra_pairs: Sequence[tuple[str, str]] = ()) -> dict:
    """Writes study.json, curves.png and comparisons.md under `out`; returns the result."""
    data = load_sweep(sweep)
    rows = data["rows"]
    pairs = [(r, "scratch") for r in rows if r != "scratch"] + list(extra_pairs)
    result = {**data, "comparisons": comparisons(rows, pairs)}
    out_dir = pathlib.Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "study.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    (out_dir / "comparisons.md").write_text(markdown(result))
    if rows:
        plot_curves(rows, data["teacher"], out_dir / "curves.png")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pairs", default="", help="extra comparisons a:b,c:d")
    args = parser.parse_args(argv)
    extra = [tuple(p.split(":")) for p in args.pairs.split(",") if p]
    result = analyze(args.sweep, args.out, extra)
    print(markdown(result))


if __name__ == "__main__":
    main()
