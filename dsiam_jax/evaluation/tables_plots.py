"""Human-readable outputs of an evaluation: success / precision plots and tables.

Plots use matplotlib's Agg backend (no display) and put every tracker on one
figure, sorted by score, in the style of the OTB / got10k toolkits.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_STYLES = ["-", "--", "-.", ":"]


def _plot(curves, xlabel, ylabel, title, xlim, path) -> pathlib.Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, (label, xs, ys) in enumerate(curves):
        ax.plot(xs, ys, _STYLES[(i // 10) % len(_STYLES)], label=label, linewidth=1.6)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=xlim, ylim=(0, 1))
    ax.grid(True, alpha=0.4)
    if curves:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    fig.savefig(path, bbox_inches="tight", dpi=110)
    plt.close(fig)
    return pathlib.Path(path)


def _finite(x) -> float:
    return x if isinstance(x, float) and math.isfinite(x) else -1.0


def _ranked_curves(overall: Mapping[str, dict], score: str, curve: str) -> list[tuple]:
    """`(label, thresholds, curve)` per tracker, best `score` first, the score in the label."""
    order = sorted(overall, key=lambda n: -_finite(overall[n][score]))
    return [
        (
            f"{n} [{overall[n][score]:.3f}]",
            overall[n][f"{curve}_thresholds"],
            overall[n][f"{curve}_curve"],
        )
        for n in order
    ]


def plot_success(overall: Mapping[str, dict], path: str | pathlib.Path) -> pathlib.Path:
    """Success plot (OTB one-pass): fraction of frames above each IoU threshold."""
    curves = _ranked_curves(overall, "success_auc", "success")
    return _plot(curves, "Overlap threshold", "Success rate", "Success plots of OPE", (0, 1), path)


def plot_precision(overall: Mapping[str, dict], path: str | pathlib.Path) -> pathlib.Path:
    """Precision plot: fraction of frames within each centre-error threshold (px)."""
    curves = _ranked_curves(overall, "precision_20", "precision")
    return _plot(
        curves,
        "Location error threshold (px)",
        "Precision",
        "Precision plots of OPE",
        (0, 50),
        path,
    )


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def summary_table(overall: Mapping[str, dict], not_scored: Mapping[str, str] | None = None) -> str:
    """Markdown table, one row per tracker, then the sequences left out and why."""
    cols = ["success_auc", "precision_20", "norm_precision", "ao", "sr50", "sr75"]
    lines = [
        "| tracker | AUC | P@20 | norm P | AO | SR0.5 | SR0.75 | fps | network fps |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in overall.items():
        vals = [_fmt(m.get(c)) for c in cols] + [
            _fmt(m.get("fps"), 1),
            _fmt(m.get("network_fps"), 1),
        ]
        lines.append(f"| {name} | " + " | ".join(vals) + " |")
    if not_scored:
        lines += ["", f"{len(not_scored)} sequence(s) not scored (left out of every row above):"]
        lines += [f"- {seq}: {reason}" for seq, reason in not_scored.items()]
    return "\n".join(lines) + "\n"


def sequence_table(per_sequence: Mapping[str, Mapping[str, dict]]) -> str:
    """Markdown table: one row per sequence, AUC / P@20 / AO per tracker."""
    trackers = list(per_sequence)
    seqs: list[str] = []
    for t in trackers:
        seqs.extend(s for s in per_sequence[t] if s not in seqs)
    head = "| sequence | frames | " + " | ".join(f"{t} AUC / P@20 / AO" for t in trackers) + " |"
    lines = [head, "|---|---|" + "---|" * len(trackers)]
    for s in seqs:
        first = next(per_sequence[t][s] for t in trackers if s in per_sequence[t])
        cells = []
        for t in trackers:
            m = per_sequence[t].get(s)
            cells.append(
                "-"
                if m is None
                else f"{_fmt(m['success_auc'])} / {_fmt(m['precision_20'])} / {_fmt(m['ao'])}"
            )
        lines.append(f"| {s} | {first['frames']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
