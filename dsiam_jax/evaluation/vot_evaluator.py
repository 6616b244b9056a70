"""VOT reset-protocol evaluation of one or more trackers (`config.eval.protocol=vot`).

    report = evaluate_vot(models, sequences, tracker_config, workdir)

Every model tracks every sequence under the supervised protocol
(`dsiam_jax.evaluation.vot`) and is scored against the sequences' regions
(`meta["regions"]` from the VOT reader, else their boxes). Writes under `workdir`:
- `results/<tracker>/baseline/<seq>/<seq>_001.txt`: per-frame records in the VOT
  toolkit's encoding (`1` init, `2` failure, `0` skipped, else x,y,w,h),
- `eval.json`: per tracker `eao`, `accuracy`, `accuracy_pooled`, `robustness`,
  `failures`, `frames`, `eao_interval`, `eao_curve`, `fps` and per-sequence
  scores; `skipped` / `failed` sequences with their reason,
- `eval_summary.md`: one row per tracker.
"""

from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dsiam_jax.errors import UserError
from dsiam_jax.evaluation import results_io
from dsiam_jax.evaluation import vot as vot_lib
from dsiam_jax.evaluation.evaluator import _clean
from dsiam_jax.evaluation.regions import as_regions
from dsiam_jax.evaluation.sequence_checks import initial_box_problem
from dsiam_jax.tracking.runner import StepTracker, frames_per_second
from dsiam_jax.tracking.tracker import build_tracker

MEASURES = {
    "eao": "expected average overlap over the sequence-length interval eao_interval "
    "(VOT2016-2019; sub-sequences from each (re)initialisation, 0 after a failure)",
    "accuracy": "mean overlap over tracked frames, 10 frames from each (re)initialisation "
    "left out; per sequence, then averaged over sequences (VOT)",
    "accuracy_pooled": "the same overlaps pooled over all frames (pysot-toolkit's AR table)",
    "robustness": "failures per 100 frames (100 * failures / frames; pysot-toolkit)",
    "failures": "frames where the overlap dropped to 0; re-initialised 5 frames later",
    "fps": "tracking updates per second (tracked and failure frames; compiled beforehand)",
}


def sequence_regions(seq: Any) -> np.ndarray:
    """`[N, 8]` ground-truth regions: the reader's polygons, else the sequence's boxes."""
    regions = getattr(seq, "meta", {}).get("regions")
    return as_regions(np.asarray(seq.boxes if regions is None else regions, np.float64))


def evaluate_vot(
    models: Mapping[str, Any],
    sequences: list,
    tracker_config: Mapping[str, Any] | None,
    workdir: str | pathlib.Path,
    *,
    backend: str = "jax",
    interval: tuple[int, int] | None = None,
    skip_initialize: int = vot_lib.SKIP_INITIALIZE,
    burnin: int = vot_lib.BURNIN,
    log: Callable[[str], None] = print,
) -> dict:
    """Runs the reset protocol for every model on every sequence; returns eval.json.

    `interval` = (low, high) sequence lengths for EAO (None: from the sequence
    lengths, `vot.eao_interval`). A sequence without a usable first box is
    skipped; one whose frames cannot be read or tracked fails; both are listed.
    """
    workdir = pathlib.Path(workdir)
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    todo = []
    for seq in sequences:
        problem = initial_box_problem(seq)
        if problem is None:
            todo.append(seq)
        else:
            skipped[seq.name] = problem
            log(f"warning: skipping sequence {seq.name}: {problem}")
    if not todo:
        raise UserError("no sequence has an annotated first frame a tracker can start from")
    regions = {seq.name: sequence_regions(seq) for seq in todo}
    trackers: dict[str, dict] = {}
    for name, model in models.items():
        step = StepTracker(build_tracker(model, tracker_config, backend))
        log(f"VOT protocol: {len(todo)} sequences with {name} ({model.spec.kind}, {backend})")
        runs = {}
        for seq in todo:
            if seq.name in failed:
                continue
            try:
                run = vot_lib.run_supervised(
                    step, seq.load_frame, seq.boxes, regions[seq.name], skip_initialize
                )
            except (UserError, OSError) as e:
                failed[seq.name] = " ".join(str(e).split())
                log(f"warning: sequence {seq.name} failed: {failed[seq.name]}")
                continue
            safe = results_io.safe_name(seq.name)
            out = results_io.tracker_dir(workdir, name) / "baseline" / safe / f"{safe}_001.txt"
            vot_lib.write_records(out, run)
            runs[seq.name] = run
        trackers[name] = {"runs": runs, "model": model}
    report: dict[str, Any] = {
        "protocol": "vot",
        "trackers": {},
        "measures": MEASURES,
        "skipped": skipped,
        "failed": failed,
    }
    for name, entry in trackers.items():
        runs = {s: r for s, r in entry["runs"].items() if s not in failed}
        if not runs:
            continue
        scores = vot_lib.vot_scores(runs, regions, interval, burnin)
        scores["fps"] = frames_per_second(np.concatenate([r.update_times() for r in runs.values()]))
        for seq_name, run in runs.items():
            scores["sequences"][seq_name]["fps"] = frames_per_second(run.update_times())
        model = entry["model"]
        scores["model"] = {"kind": model.spec.kind, "role": getattr(model, "role", "model")}
        report["trackers"][name] = scores
        log(
            f"  {name}: EAO {scores['eao']:.3f}  A {scores['accuracy']:.3f}  "
            f"R {scores['robustness']:.2f}/100 frames  ({scores['failures']} failures)"
        )
    write_vot_report(report, workdir)
    if not report["trackers"]:
        raise UserError(f"every sequence failed (reasons in {workdir / 'eval.json'})")
    return _clean(report)


def summary_table(report: Mapping[str, Any]) -> str:
    """eval_summary.md for the VOT protocol: one row per tracker, then sequences not scored."""
    lines = [
        "| tracker | EAO | accuracy | robustness (/100 frames) | failures | frames | fps |",
        "|---|---|---|---|---|---|---|",
    ]

    def num(value: Any, digits: int) -> str:
        return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"

    for name, s in report["trackers"].items():
        lines.append(
            f"| {name} | {num(s['eao'], 3)} | {num(s['accuracy'], 3)} | "
            f"{num(s['robustness'], 2)} | {s['failures']} | {s['frames']} | {num(s['fps'], 1)} |"
        )
    not_scored = {**report.get("skipped", {}), **report.get("failed", {})}
    if not_scored:
        lines += ["", "Not scored:", ""] + [f"- {n}: {r}" for n, r in not_scored.items()]
    return "\n".join(lines) + "\n"


def write_vot_report(report: dict, workdir: pathlib.Path) -> None:
    """eval.json and eval_summary.md."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "eval.json").write_text(json.dumps(_clean(report), indent=2) + "\n")
    (workdir / "eval_summary.md").write_text(summary_table(report))
