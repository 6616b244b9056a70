"""Plots of a search: reward over iterations; accuracy against size with the Pareto front.

Matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points (size, accuracy) that no other point beats: none is at most
    as large and at least as accurate while strictly better in one. Sorted by size."""
    front = []
    for i, (size, acc) in enumerate(points):
        dominated = any(
            (s <= size and a >= acc) and (s < size or a > acc)
            for j, (s, a) in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i])


def plot_rewards(iterations: Sequence[Mapping[str, Any]], path: str | pathlib.Path) -> None:
    """Every candidate's reward per iteration, the iteration mean and the best so far."""
    fig, ax = plt.subplots(figsize=(6, 4))
    best, best_so_far = -float("inf"), []
    for it in iterations:
        rewards = it["rewards"]
        ax.scatter([it["iteration"]] * len(rewards), rewards, s=10, color="0.6")
        best = max(best, *rewards)
        best_so_far.append(best)
    xs = [it["iteration"] for it in iterations]
    ax.plot(xs, [sum(it["rewards"]) / len(it["rewards"]) for it in iterations], label="mean")
    ax.plot(xs, best_so_far, label="best so far")
    ax.set_xlabel("iteration")
    ax.set_ylabel("reward  C(2-C) A_s/A_t")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_accuracy_vs_size(
    candidates: Sequence[Mapping[str, Any]],
    uniform: Sequence[Mapping[str, Any]],
    teacher: Mapping[str, Any],
    path: str | pathlib.Path,
) -> None:
    """Proxy AUC against fp32 MB: all evaluated candidates, their Pareto front, the
    uniform-width students of equal size and the teacher."""
    fig, ax = plt.subplots(figsize=(6, 4))
    pts = [(c["megabytes"], c["auc"]) for c in candidates]
    if pts:
        ax.scatter(*zip(*pts, strict=True), s=14, color="tab:blue", label="searched candidates")
        front = [pts[i] for i in pareto_front(pts)]
        ax.plot(*zip(*front, strict=True), "-o", color="tab:red", ms=5, label="Pareto front")
    if uniform:
        ax.scatter(
            [u["megabytes"] for u in uniform],
            [u["auc"] for u in uniform],
            marker="s",
            s=30,
            color="tab:green",
            label="uniform width, equal size",
        )
    ax.scatter(
        [teacher["megabytes"]], [teacher["auc"]], marker="*", s=80, color="k", label="teacher"
    )
    ax.set_xscale("log")
    ax.set_xlabel("fp32 MB")
    ax.set_ylabel("proxy success AUC (validation)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
