"""Training-loss curves of ablation runs side by side (ground-truth and soft terms).

    python -m studies.distillation.plot_losses --sweep=RUNS/schedule \
        --runs=spatial_t2_seed0,spatial_t2_lr3_seed0 --out=results/schedule/losses.png

Reads each run's `metrics.jsonl` (the means over every `train.log_every` steps) and
plots the learning rate and, per term (`student_0/gt`, `student_0/soft`), the loss
against the step.
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


def plot(sweep: pathlib.Path, runs: Sequence[str], out: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TERMS), figsize=(4.2 * len(TERMS), 3.4))
    for name in runs:
        rows = read_metrics(sweep / name)
        for ax, term in zip(axes, TERMS, strict=True):
            points = [(r["step"], r[term]) for r in rows if term in r]
            if points:
                ax.plot(*zip(*points, strict=True), label=name)
    for ax, term in zip(axes, TERMS, strict=True):
        ax.set_title(term)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
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
    args = parser.parse_args(argv)
    plot(pathlib.Path(args.sweep), [r for r in args.runs.split(",") if r], pathlib.Path(args.out))


if __name__ == "__main__":
    main()
