"""How much of the target's size an RPN's regression reads (studies/siamrpn/README.md
section 38).

    PYTHONPATH=. python -m studies.siamrpn.size_regression \
        --models=siamrpn_teacher,W/reg_rate/RL10/checkpoints/1000 \
        --out=studies/siamrpn/results/reg_rate/size_regression.json

On held-out pairs of the pair pipeline (synthetic `--split`, a sampling seed no training
run uses, no negative pairs, the training augmentation: search side x U(0.82, 1.18)) at
the tracking crop (127 / `--search_size`), per model:

- at the anchor that best matches the target (highest IoU), the regression's deltas
  against the exact encoding of the target (`dx`, `dy`, `dlogw`, `dlogh`, and their
  log-size mean `dlogsize`): the least-squares slope and intercept of predicted on true
  (a perfect regression: slope 1, intercept 0; one that ignores the image: slope 0),
  the mean signed and absolute error, and the targets' spread;
- at the top-scoring anchor (what the tracker decodes), the decoded box's log size
  (log sqrt(w h)) against the target's: mean signed and absolute error.

A model is `path` (its single or teacher model) or `path#name`. Writes `--out` (merged
with what an earlier run wrote there).
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax import anchors as anchors_lib
from dsiam_jax import checkpoints
from dsiam_jax.train import targets
from studies.siamrpn.diagnose import TEMPLATE, held_out_pairs, network_outputs

DELTAS = ("dx", "dy", "dlogw", "dlogh")


def fit(true: np.ndarray, pred: np.ndarray) -> dict:
    """Slope and intercept of `pred` on `true` `[N]`, errors and the targets' spread."""
    slope, intercept = np.polyfit(true, pred, 1)
    stats = {
        "slope": slope,
        "intercept": intercept,
        "error_mean": np.mean(pred - true),
        "error_abs": np.mean(np.abs(pred - true)),
        "target_std": np.std(true),
    }
    return {k: round(float(v), 4) for k, v in stats.items()}


def best_anchor_targets(anchors: np.ndarray, box_xywh: np.ndarray):
    """The targets `[N, 4]` (x, y, w, h) as cxcywh `[N, 4]`, the index of the anchor of
    `anchors` (`[R, R, k, 4]`, flattened: (row * R + col) * k + shape) that best matches
    each (highest IoU) `[N]`, and each target's exact encoding against it `[N, 4]`."""
    box = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(box_xywh)))
    flat = anchors.reshape(-1, 4)
    best = np.asarray(anchors_lib.iou_cxcywh(flat[None], box[:, None])).argmax(1)
    true = np.asarray(anchors_lib.encode(jnp.asarray(box), jnp.asarray(flat[best])))
    return box, best, true


def size_regression(model, batch: dict, search_size: int) -> dict:
    """The module docstring's statistics of one RPN model on `batch`."""
    anchors = anchors_lib.anchors_for(model.spec, TEMPLATE, search_size)  # [R, R, k, 4]
    out = network_outputs(model, batch)
    cls, reg = anchors_lib.split_rpn_maps(out["cls"], out["reg"], model.spec.num_anchors)
    box, best, true = best_anchor_targets(anchors, batch["box"])
    n = len(box)
    rows = np.arange(n)
    pred = np.asarray(reg).reshape(n, -1, 4)[rows, best]  # [N, 4]
    result = {name: fit(true[:, i], pred[:, i]) for i, name in enumerate(DELTAS)}
    result["dlogsize"] = fit(true[:, 2:].mean(1), pred[:, 2:].mean(1))
    score = np.asarray(jax.nn.softmax(cls, -1)[..., 1]).reshape(n, -1)
    decoded = np.asarray(anchors_lib.decode(reg, jnp.asarray(anchors))).reshape(n, -1, 4)
    top = decoded[rows, score.argmax(1)]  # [N, 4] cxcywh
    err = 0.5 * np.log(top[:, 2] * top[:, 3] / (box[:, 2] * box[:, 3]))
    result["top_anchor_log_size"] = {
        "error_mean": round(float(err.mean()), 4),
        "error_abs": round(float(np.abs(err).mean()), 4),
    }
    return result


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", required=True, help="RPN checkpoints / zoo names [#model]")
    p.add_argument("--pairs", type=int, default=256)
    p.add_argument("--search_size", type=int, default=271)
    p.add_argument("--split", default="val")
    p.add_argument("--seed", type=int, default=12345, help="pair sampling seed")
    p.add_argument("--out", default="")
    a = p.parse_args(argv)
    batch = held_out_pairs(a.pairs, a.search_size, a.seed, a.split)
    settings = f"pairs={a.pairs} search={a.search_size} split={a.split} seed={a.seed}"
    for_each_model(a.models, a.out, settings, lambda m: size_regression(m, batch, a.search_size))


def for_each_model(models: str, out: str, settings: str, measure) -> None:
    """`measure(model)` of each of the comma-separated `models` (`path` or `path#name`),
    printed and merged into the JSON `out` (if given) under `"<model> <settings>"`."""
    out_file = pathlib.Path(out) if out else None
    result = json.loads(out_file.read_text()) if out_file and out_file.is_file() else {}
    for item in filter(None, models.split(",")):
        path, _, name = item.partition("#")
        model = checkpoints.pick_model(checkpoints.load_models(path), name, path, "as path#name")
        key = f"{item} {settings}"
        result[key] = measure(model)
        print(key, json.dumps(result[key]), flush=True)
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
