"""Where a tracker's boxes go wrong: frames lost, and on the frames it holds, centre, area
and aspect-ratio errors (studies/siamrpn/README.md sections 33, 38).

    PYTHONPATH=. python -m studies.siamrpn.box_errors --split=test \
        --evals=rpn=W/aspect/teacher_test_a100,fc=W/aspect/siamfc_teacher_test \
        --out=studies/siamrpn/results/aspect/box_errors.json

Each eval is `label=<mode=evaluate workdir>[#tracker]` of one tracker on the first sequences of
the synthetic split (its `results/<tracker>/<sequence>.txt`). Over frames 2+ of all
sequences: `lost` = centre error above one target size (sqrt(w h) of the truth),
`held` = below 0.25 sizes; on the held frames the mean IoU, centre error (sizes), and
|log| of the predicted / true area and aspect ratio (w / h), and the signed mean log area
ratio (`held_log_area`, > 0: boxes too large); `aspect_change` = the
mean |log| of the predicted aspect ratio over the first frame's (0 for a tracker that
keeps it, as SiamFC's does), with the truth's own under `truth`.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import numpy as np

from dsiam_jax.evaluation.metrics import center_error, rect_iou, sequence_metrics


def log_aspect(boxes: np.ndarray) -> np.ndarray:
    """log(w / h) `[N]` of (x, y, w, h) boxes `[N, 4]`."""
    return np.log(boxes[:, 2] / boxes[:, 3])


def aspect_change(boxes: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> float:
    """Mean |log| over frames 2+ of the aspect ratio of per-sequence `boxes [T, 4]` over
    the truth's first frame's."""
    changes = [log_aspect(b[1:]) - log_aspect(g[:1]) for b, g in zip(boxes, truth, strict=True)]
    return float(np.mean(np.abs(np.concatenate(changes))))


def box_errors(pred: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> dict:
    """The module docstring's statistics of per-sequence boxes `[T, 4]` against the truth."""
    p = np.concatenate([x[1:] for x in pred])  # [N, 4]
    g = np.concatenate([x[1:] for x in truth])  # [N, 4]
    size = np.sqrt(g[:, 2] * g[:, 3])
    err = center_error(p, g) / size  # [N] in target sizes
    iou = rect_iou(p, g)
    held = err < 0.25
    area = np.log(p[:, 2] * p[:, 3] / (g[:, 2] * g[:, 3]))
    aspect = log_aspect(p) - log_aspect(g)
    auc = [sequence_metrics(a, b)["success_auc"] for a, b in zip(pred, truth, strict=True)]
    stats = {
        "success_auc": float(np.mean(auc)),
        "mean_iou": float(iou.mean()),
        "lost": float(np.mean(err > 1.0)),
        "held": float(np.mean(held)),
        "held_iou": float(iou[held].mean()),
        "held_centre_error": float(err[held].mean()),
        "held_abs_log_area": float(np.abs(area[held]).mean()),
        "held_log_area": float(area[held].mean()),  # signed: > 0 boxes too large
        "held_abs_log_aspect": float(np.abs(aspect[held]).mean()),
        "aspect_change": aspect_change(pred, truth),
    }
    return {k: round(v, 4) for k, v in stats.items()}


def load_boxes(folder: str, names: Sequence[str]) -> list[np.ndarray]:
    """Per-sequence boxes `[T, 4]` under `folder/results`: of its single tracker, or of
    tracker `name` for `folder#name`."""
    folder, _, name = folder.partition("#")
    results = pathlib.Path(folder) / "results"
    (tracker,) = [results / name] if name else [d for d in results.iterdir() if d.is_dir()]
    return [np.loadtxt(tracker / f"{n}.txt", delimiter=",", ndmin=2) for n in names]


def synthetic_truth(folder: str, split: str) -> tuple[list[str], list[np.ndarray]]:
    """The names and true boxes `[T, 4]` of the synthetic `split`'s sequences that the
    eval in `folder[#tracker]` ran (its first ones, as mode=evaluate's max_sequences)."""
    from configs import default
    from data_pipelines import sequences, sources

    first, _, name = folder.partition("#")
    trackers = json.loads((pathlib.Path(first) / "eval.json").read_text())["trackers"]
    (tracker,) = [trackers[name]] if name else trackers.values()
    kwargs = sources.synthetic_kwargs(default.data_config())
    kwargs["num_sequences"] = len(tracker["sequences"])
    seqs = sequences.read_sequences("synthetic", "", split, **kwargs)
    seqs = [s for s in seqs if s.name in tracker["sequences"]]
    return [s.name for s in seqs], [np.asarray(s.boxes, np.float64) for s in seqs]


def eval_arguments(argv: Sequence[str] | None, description: str):
    """The command line of this script and `size_drift.py` (`--evals`, `--split`,
    `--out`): the parsed arguments, {label: eval folder}, and the evals' sequence names
    and true boxes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--evals", required=True, help="label=eval_workdir, comma-separated")
    p.add_argument("--split", default="test", help="synthetic split the evals ran on")
    p.add_argument("--out", default="", help="JSON to write")
    a = p.parse_args(argv)
    evals = dict(item.split("=", 1) for item in a.evals.split(",") if item)
    names, truth = synthetic_truth(next(iter(evals.values())), a.split)
    return a, evals, names, truth


def main(argv: Sequence[str] | None = None) -> None:
    a, evals, names, truth = eval_arguments(argv, __doc__.splitlines()[0])
    num = len(truth)
    out = {"split": a.split, "sequences": num}
    out["truth"] = {"aspect_change": round(aspect_change(truth, truth), 4)}
    for label, folder in evals.items():
        out[label] = box_errors(load_boxes(folder, names), truth)
        print(label, out[label], flush=True)
    if a.out:
        pathlib.Path(a.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
