"""The report of a multi-stage run (pipeline, ablation): report.md, its table and figures.

The numbers come from what the stages wrote (checkpoints for sizes, `eval.json`
for accuracy and speed, `DONE.json` for wall time), so a report can be rebuilt at
any time from the run folder.
"""

from __future__ import annotations

import json
import math
import pathlib
import platform
import time
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dsiam_jax import checkpoints, model_summary  # noqa: E402
from dsiam_jax.jobs import paired_stats  # noqa: E402
from dsiam_jax.jobs.stages import stage_seconds  # noqa: E402
from dsiam_jax.tracking.tracker import crop_geometry  # noqa: E402

METRICS = ("success_auc", "precision_20", "ao")


def model_rows(
    checkpoint_dirs: Sequence[str], eval_report: Mapping[str, Any], tracker: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per evaluated model: size (params, MB, FLOPs), speed and accuracy."""
    models = checkpoints.load_many(",".join(checkpoint_dirs))
    rows = []
    for name, model in models.items():
        spec = model.spec
        g = crop_geometry(spec.kind, tracker)
        size = model_summary.summarize(spec, g.template_size, g.search_size, g.num_scales)
        scores = eval_report.get("trackers", {}).get(name, {})
        rows.append(
            {
                "name": name,
                "role": model.role,
                "channels": list(spec.channels),
                "params": size["params"],
                "megabytes": size["megabytes"],
                "gflops": size["flops"] / 1e9,
                "fps": scores.get("fps"),
                "network_fps": scores.get("network_fps"),
                **{m: scores.get(m) for m in METRICS},
            }
        )
    teacher = next((r for r in rows if r["role"] == "teacher"), None)
    for r in rows:
        r["compression"] = teacher["megabytes"] / r["megabytes"] if teacher else None
        r["speedup"] = (
            r["fps"] / teacher["fps"] if teacher and r["fps"] and teacher["fps"] else None
        )
    return rows


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def model_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table of `model_rows`."""
    head = (
        "| model | role | channels | params | MB | compression | GFLOPs/frame | "
        "frames/s (whole step) | frames/s (network) | success AUC | precision@20 | AO |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        comp = f"{r['compression']:.1f}x" if r.get("compression") else "-"
        lines.append(
            f"| {r['name']} | {r['role']} | {'-'.join(map(str, r['channels']))} | "
            f"{r['params']:,} | {r['megabytes']:.2f} | {comp} | {r['gflops']:.2f} | "
            f"{_fmt(r['fps'], 1)} | {_fmt(r['network_fps'], 1)} | {_fmt(r['success_auc'])} | "
            f"{_fmt(r['precision_20'])} | {_fmt(r['ao'])} |"
        )
    return head + "\n".join(lines) + "\n"


def plot_size_accuracy_speed(rows: Sequence[Mapping[str, Any]], path: pathlib.Path) -> None:
    """Scatter: model size (MB, log) vs success AUC; marker area and colour = frames/s."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    fps = [r["fps"] or 0.0 for r in rows]
    top = max(fps) or 1.0
    sc = ax.scatter(
        [r["megabytes"] for r in rows],
        [r["success_auc"] or 0.0 for r in rows],
        s=[60 + 400 * f / top for f in fps],
        c=fps,
        cmap="viridis",
        edgecolors="k",
    )
    for r in rows:
        ax.annotate(
            r["name"],
            (r["megabytes"], r["success_auc"] or 0.0),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_xlabel("model size (MB, fp32)")
    ax.set_ylabel("success AUC")
    ax.set_title("size vs accuracy vs speed (colour / area: frames/s)")
    fig.colorbar(sc, ax=ax, label="frames/s (whole tracking step)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def paired_difference(
    eval_report: Mapping[str, Any], a: Sequence[str], b: str, metric: str = "success_auc"
) -> tuple[float, float, int]:
    """Mean over sequences of (mean over trackers `a`) - `b` in one eval.json, its
    standard error, and n (`paired_stats.paired_difference`)."""
    trackers = eval_report["trackers"]
    return paired_stats.paired_difference(
        [trackers[t]["sequences"] for t in a], trackers[b]["sequences"], metric
    )


# The gap to the teacher the method aims for (success AUC, students >= 13x smaller).
TARGET_TEACHER_GAP = 0.02


def pipeline_roles(rows: Sequence[Mapping[str, Any]]) -> tuple[list, Any, Any]:
    """The distilled students, the from-scratch student and the teacher among `rows`
    (None where absent)."""
    distilled = [r for r in rows if r["role"] == "student" and r["name"] != "student_scratch"]
    scratch = next((r for r in rows if r["name"] == "student_scratch"), None)
    teacher = next((r for r in rows if r["role"] == "teacher"), None)
    return distilled, scratch, teacher


def paired_comparisons(
    rows: Sequence[Mapping[str, Any]], eval_report: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """report.json's `comparisons`: the distilled students' mean minus the scratch
    student, and the teacher minus that mean, in success AUC paired by sequence
    (`mean`, `se`, `n`); a comparison whose models are missing or unscored is left out."""
    distilled, scratch, teacher = pipeline_roles(rows)
    names = [r["name"] for r in distilled]
    out = {}
    if distilled and scratch is not None and scratch["success_auc"] is not None:
        mean, se, n = paired_difference(eval_report, names, scratch["name"])
        out["distilled_minus_scratch"] = {"mean": mean, "se": se, "n": n}
    if distilled and teacher is not None and teacher["success_auc"] is not None:
        mean, se, n = paired_difference(eval_report, names, teacher["name"])
        out["teacher_minus_distilled"] = {"mean": -mean, "se": se, "n": n}
    return out


def distillation_verdict(
    rows: Sequence[Mapping[str, Any]], comparisons: Mapping[str, Mapping[str, float]]
) -> str:
    """One paragraph: did the distilled students beat the same student from scratch?
    (`comparisons`: from `paired_comparisons`.)"""
    if "distilled_minus_scratch" not in comparisons:
        return "No distilled / from-scratch pair to compare."
    distilled, scratch, _ = pipeline_roles(rows)
    aucs = [r["success_auc"] for r in distilled]
    c = comparisons["distilled_minus_scratch"]
    diff, se, n = c["mean"], c["se"], c["n"]
    beyond = paired_stats.beyond_two_se(diff, se)
    if beyond is None:
        verdict = f"differed by {diff:+.3f} AUC (too few sequences to judge the noise)"
    elif beyond:
        verdict = "did **better than**" if diff > 0 else "did **worse than**"
        verdict += f" training from scratch: {diff:+.3f} AUC, more than twice its standard error"
    else:
        verdict = (
            f"was **not distinguishable from** training from scratch: {diff:+.3f} AUC is "
            "within twice its standard error"
        )
    return (
        f"Distilled students: success AUC {', '.join(f'{a:.3f}' for a in aucs)} "
        f"(mean {sum(aucs) / len(aucs):.3f}); the same student trained from scratch: "
        f"{scratch['success_auc']:.3f}. Paired over the {n} test sequences (mean of the "
        f"distilled students minus the scratch student, per sequence), distillation {verdict} "
        f"(standard error {se:.3f}). One training seed: the spread between runs is not "
        "included here; `configs/ablation.py` measures it across seeds."
    )


def teacher_gap_verdict(comparisons: Mapping[str, Mapping[str, float]]) -> str:
    """One paragraph: how far the distilled students trail their teacher, paired by
    sequence, against `TARGET_TEACHER_GAP` (`comparisons`: from `paired_comparisons`)."""
    if "teacher_minus_distilled" not in comparisons:
        return "No teacher / distilled student pair to compare."
    c = comparisons["teacher_minus_distilled"]
    gap, se, n = c["mean"], c["se"], c["n"]
    target = TARGET_TEACHER_GAP
    beyond = paired_stats.beyond_two_se(gap - target, se)
    if beyond is None:
        judged = "too few sequences to judge the noise"
    elif not beyond:  # on which side of the target, but the noise could put it on the other
        side = "narrower" if gap <= target else "wider"
        judged = f"{side} than the {target} the method aims for, by less than two standard errors"
    elif gap < target:
        judged = f"**within** the {target} the method aims for, beyond two standard errors"
    else:
        judged = f"**wider than** the {target} the method aims for, beyond two standard errors"
    return (
        f"The distilled students trail their teacher by {gap:+.3f} success AUC (teacher "
        f"minus the students' mean, paired over the {n} test sequences, standard error "
        f"{se:.3f}): {judged}."
    )


def pipeline_report(
    config, workdir: str, dirs: Mapping[str, str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Writes WORKDIR/report.md (+ report.json, size_accuracy_speed.png); returns a summary."""
    root = pathlib.Path(workdir)
    eval_dir = pathlib.Path(dirs["evaluate"])
    eval_report = json.loads((eval_dir / "eval.json").read_text())
    rows = model_rows(
        [dirs["teacher"], dirs["students"], dirs["scratch"]], eval_report, config.tracker
    )
    plot_size_accuracy_speed(rows, root / "size_accuracy_speed.png")
    comparisons = paired_comparisons(rows, eval_report)
    seconds = {name: stage_seconds(d) for name, d in dirs.items()}
    num_sequences = len(next(iter(eval_report["trackers"].values()))["sequences"])
    rel = lambda p: pathlib.Path(p).relative_to(root).as_posix()
    lines = [
        "# dsiam_jax: distilled Siamese trackers, end to end",
        "",
        f"Run `{root}` on {platform.node() or 'this machine'} "
        f"({platform.processor() or platform.machine()}), report written "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "## What ran",
        "",
        f"- Size preset `{config.pipeline.size}`: teacher "
        f"{'-'.join(map(str, settings['teacher_channels']))}, "
        f"{settings['num_students']} students "
        f"{'-'.join(map(str, settings['student_channels']))}, crops "
        f"{settings['template_size']}/{settings['search_size']} px, batch "
        f"{settings['batch_size']}; teacher {settings['teacher_steps']} steps (learning "
        f"rate {config.train.lr_start:g} decaying to {settings['teacher_lr_end']:g}), "
        f"students and the from-scratch student {settings['student_steps']} steps each "
        f"({config.train.lr_start:g} decaying to {settings['student_lr_end']:g}). "
        "Full size is one override away: `--config.pipeline.size=full` (uses "
        "`config.model`, `config.distill.students`, `config.train`).",
        f"- Training data: `{config.data.layout}` "
        f"({config.data.synthetic.num_sequences} synthetic scenes generated on the fly); "
        f"evaluation: the synthetic `{config.pipeline.eval_split}` split written as a "
        f"GOT-10k folder (`{rel(eval_dir.parent / 'data')}`), "
        f"{num_sequences} sequences.",
        "- Stage wall time (s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items() if v is not None)
        + ".",
        "",
        "## Results",
        "",
        model_table(rows),
        "Compression and speed-up are relative to the teacher. Frames/s of the whole "
        "tracking step (crop, network, post-processing) on this machine's CPU; "
        "network-only frames/s separately. Metric conventions: "
        f"`{rel(eval_dir / 'eval.json')}` (`conventions`).",
        "",
        "## Distillation vs training from scratch",
        "",
        distillation_verdict(rows, comparisons),
        "",
        "## Distilled students vs their teacher",
        "",
        teacher_gap_verdict(comparisons),
        "",
        "## Figures",
        "",
        "![size vs accuracy vs speed](size_accuracy_speed.png)",
        "",
        f"![success plot]({rel(eval_dir / 'success_plot.png')})",
        f"![precision plot]({rel(eval_dir / 'precision_plot.png')})",
        "",
        f"Per-sequence scores: `{rel(eval_dir / 'eval_sequences.md')}`.",
        "",
    ]
    path = root / "report.md"
    path.write_text("\n".join(lines))
    summary = {
        "path": str(path),
        "models": rows,
        "settings": dict(settings),
        "comparisons": comparisons,
    }
    (root / "report.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
