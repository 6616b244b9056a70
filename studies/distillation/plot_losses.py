"""Training-loss curves of runs side by side (by default the ground-truth and soft terms).

    python -m studies.distillation.plot_losses --sweep=RUNS/schedule \
        --runs=spatial_t2_seed0,spatial_t2_lr3_seed0 --out=results/schedule/losses.png

Reads each run's `metrics.jsonl` (the means over every `train.log_every` steps) and
plots, per term (default: the learning rate, `student_0/gt`, `student_0/soft`; any
logged names with `--terms`), its value against the step on a log scale.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

TERMS = ("lr", "student_0/gt", "student_0/soft")


def read_metrics(run_dir: pathlib.Path) -> list[dict]:
    """The rows of `run_dir/metrics.jsonl`, in step order."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["step"])


def plot(
    sweep: pathlib.Path, runs: Sequence[str], out: pathlib.Path, terms: Sequence[str] = TERMS
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(terms), figsize=(4.2 * len(terms), 3.4), squeeze=False)
    axes = axes[0]
    for name in runs:
        rows = read_metrics(sweep / name)
        for ax, term in zip(axes, terms, strict=True):
            points = [(r["step"], r[term]) for r in rows if term in r]
            if points:
                ax.plot(*zip(*points, strict=True), label=name)
    for ax, term in zip(axes, terms, strict=True):
        ax.set_title(term)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", required=True)
    parser.add_argument("--runs", required=True, help="run folders, comma-separated")
    parser.add_argument("--out", required=True)
    parser.add_argument("--terms", default=",".join(TERMS), help="logged names, comma-separated")
    args = parser.parse_args(argv)
    runs, terms = ([x for x in v.split(",") if x] for v in (args.runs, args.terms))
    plot(pathlib.Path(args.sweep), runs, pathlib.Path(args.out), terms)


if __name__ == "__main__":
    main()
