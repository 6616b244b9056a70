"""Does the RPN box follow the target, and do the reg centre offsets carry signal? (issue 14)

    python -m studies.siamrpn.motion --evals=E=W/E_dw_rank/eval,C=W/C_fc/eval \
        --models=W/E_dw_rank,siamrpn_student_0 --out=studies/siamrpn/results/motion.json

1. `tracking` (`--evals`, `mode=evaluate` folders on the synthetic test split): on frames
   where the box was on the target (centre error < 0.3 target sizes), how far the box
   moved against how far it had to move (`motion_gain`: least-squares slope of the
   step taken on the step needed, both in target sizes; 1 = follows, 0 = never moves);
   the share of frames with the centre within 0.25 sizes and their mean IoU.
2. `regression` (`--models`): on held-out pairs, at every positive anchor (IoU > 0.6),
   the correlation of each predicted reg coordinate (dx, dy, log w, log h) with its
   target, in inference mode and, with `--train_pairs`, on training-split pairs with
   batch-mode BatchNorm.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from dsiam_jax import anchors as anchors_lib
from dsiam_jax.evaluation.metrics import center_error, rect_iou
from dsiam_jax.train import targets
from studies.siamrpn import diagnose


def motion_gain(predicted: Sequence[np.ndarray], truth: Sequence[np.ndarray], near: float = 0.3):
    """Least-squares slope of the centre step taken on the step needed, over frames t+1
    whose previous box (frame t) was within `near` target sizes of the target.

    `predicted`, `truth`: per sequence `[N, 4]` boxes (x, y, w, h). Steps are
    `pred[t+1] - pred[t]` (taken) and `truth[t+1] - pred[t]` (needed), in units of the
    target's size sqrt(w h) at frame t; both axes pooled.
    """
    taken, needed = [], []
    for p, g in zip(predicted, truth, strict=True):
        pc, gc = p[:, :2] + p[:, 2:] / 2, g[:, :2] + g[:, 2:] / 2  # [N, 2] centres
        size = np.sqrt(g[:, 2] * g[:, 3])[:, None]  # [N, 1]
        on = np.where(np.linalg.norm(pc[:-1] - gc[:-1], axis=1) < near * size[:-1, 0])[0]
        taken.append(((pc[on + 1] - pc[on]) / size[on]).ravel())
        needed.append(((gc[on + 1] - pc[on]) / size[on]).ravel())
    t, n = np.concatenate(taken), np.concatenate(needed)
    return float(t @ n / (n @ n))


def predicted_boxes(folder: str, sequences: Sequence) -> list[np.ndarray]:
    """Per sequence `[N, 4]` boxes of the one tracker in a `mode=evaluate` folder."""
    (tracker,) = [d for d in (pathlib.Path(folder) / "results").iterdir() if d.is_dir()]
    return [np.loadtxt(tracker / f"{s.name}.txt", delimiter=",") for s in sequences]


def tracking_stats(folder: str, sequences: Sequence) -> dict:
    """Motion gain and on-target statistics of one `mode=evaluate` folder."""
    pred = predicted_boxes(folder, sequences)
    gt = [np.asarray(s.boxes, np.float64) for s in sequences]
    p, g = np.concatenate([x[1:] for x in pred]), np.concatenate([x[1:] for x in gt])
    near = center_error(p, g) < 0.25 * np.sqrt(g[:, 2] * g[:, 3])
    iou = rect_iou(p, g)
    return {
        "motion_gain": round(motion_gain(pred, gt), 3),
        "frames_centre_within_0.25_size": round(float(near.mean()), 3),
        "iou_on_those_frames": round(float(iou[near].mean()), 3),
        "mean_iou": round(float(iou.mean()), 3),
    }


def regression_stats(model, pairs: int, seed: int, split: str, batch_bn: bool) -> dict:
    """Correlation of predicted and target reg coordinates at the positive anchors."""
    batch = diagnose.held_out_pairs(pairs, diagnose.TRAIN_SEARCH, seed, split)
    anchors = anchors_lib.anchors_for(model.spec, diagnose.TEMPLATE, diagnose.TRAIN_SEARCH)
    out = diagnose.network_outputs(model, batch, train=batch_bn)
    _, reg = anchors_lib.split_rpn_maps(out["cls"], out["reg"], model.spec.num_anchors)
    box = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(batch["box"])))  # [N, 4]
    flat = anchors.reshape(-1, 4)
    iou = np.asarray(anchors_lib.iou_cxcywh(flat[None], box[:, None]))  # [N, A]
    pair, anchor = np.where(iou > 0.6)
    want = np.asarray(anchors_lib.encode(jnp.asarray(box[pair]), jnp.asarray(flat[anchor])))
    got = np.asarray(reg).reshape(len(box), -1, 4)[pair, anchor]
    corr = [float(np.corrcoef(want[:, c], got[:, c])[0, 1]) for c in range(4)]
    return {
        "split": split,
        "batch_bn": batch_bn,
        "positive_anchors": int(len(pair)),
        "corr_dx_dy_dlogw_dlogh": [round(c, 3) for c in corr],
        "target_std": [round(float(v), 3) for v in want.std(0)],
        "predicted_std": [round(float(v), 3) for v in got.std(0)],
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--evals", default="", help="label=evaluate folder, comma-separated")
    p.add_argument("--models", default="", help="RPN checkpoints / zoo names")
    p.add_argument("--pairs", type=int, default=128)
    p.add_argument("--seed", type=int, default=7919, help="held-out pair sampling seed")
    p.add_argument("--train_pairs", action="store_true", help="also training pairs, batch BN")
    p.add_argument("--sequences", type=int, default=64)
    p.add_argument("--out", default="studies/siamrpn/results/motion.json")
    a = p.parse_args(argv)
    out_file = pathlib.Path(a.out)
    result = json.loads(out_file.read_text()) if out_file.is_file() else {}
    if a.evals:
        sequences = diagnose.synthetic_test_sequences(a.sequences)
        for item in a.evals.split(","):
            label, folder = item.split("=", 1)
            result.setdefault("tracking", {})[label] = tracking_stats(folder, sequences)
            print(label, result["tracking"][label], flush=True)
    for name in filter(None, a.models.split(",")):
        for label, model in diagnose.load_labelled(name).items():
            rows = [regression_stats(model, a.pairs, a.seed, "test", False)]
            if a.train_pairs:
                rows.append(regression_stats(model, a.pairs, 0, "train", True))
            result.setdefault("regression", {})[label] = rows
            print(label, rows, flush=True)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
