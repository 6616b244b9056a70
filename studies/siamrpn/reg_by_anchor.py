"""Regression outputs against their targets, anchor shape by anchor shape.

    python -m studies.siamrpn.reg_by_anchor --model=W/E_long_lr3 --pairs=96 \
        --out=studies/siamrpn/results/reg_by_anchor.json

On held-out pairs of the synthetic test split (`diagnose.held_out_pairs`), or with
`--input=toy` on held-out on-device toy pairs (`dsiam_jax.train.toy_pairs`: one textured
box on a smooth background, exact boxes), at every positive anchor (IoU > 0.6): the
correlation of each predicted coordinate with its target, pooled and per anchor shape,
with the predicted and target spreads; the same within each pair (each pair's and
anchor shape's mean removed: does the output follow the target from cell to cell?);
and the correlations a channel mix-up would show (dx against the dy target, the
transposed cell, the anchor order reversed), which a layout defect would make large.
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
from dsiam_jax.train import targets, toy_pairs
from studies.siamrpn import diagnose


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    return round(float(np.corrcoef(x, y)[0, 1]), 3)


def toy_held_out(num: int, seed: int) -> dict[str, np.ndarray]:
    """`num` toy pairs (no negatives) at 127 / 255 from `seed`, as float32 arrays."""
    batch = toy_pairs.toy_batch(jax.random.key(seed), num, diagnose.TEMPLATE, diagnose.TRAIN_SEARCH)
    return {k: np.asarray(batch[k], np.float32) for k in ("template", "search", "box")}


def within_pair(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """`values [P]` minus the mean of their `group` (pair and anchor shape)."""
    _, inverse, counts = np.unique(group, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=values)
    return values - (sums / counts)[inverse]


def reg_by_anchor(model, pairs: int, seed: int, source: str = "synthetic") -> dict:
    """The statistics of the module docstring for one RPN model."""
    if source == "toy":
        batch = toy_held_out(pairs, seed)
    else:
        batch = diagnose.held_out_pairs(pairs, diagnose.TRAIN_SEARCH, seed, "test")
    anchors = anchors_lib.anchors_for(model.spec, diagnose.TEMPLATE, diagnose.TRAIN_SEARCH)
    out = diagnose.network_outputs(model, batch)
    _, reg = anchors_lib.split_rpn_maps(out["cls"], out["reg"], model.spec.num_anchors)
    reg = np.asarray(reg)  # [N, R, R, k, 4]
    k = anchors.shape[2]
    box = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(batch["box"])))  # [N, 4]
    iou = np.asarray(anchors_lib.iou_cxcywh(jnp.asarray(anchors)[None], box[:, None, None, None]))
    n, i, j, a = np.where(iou > 0.6)  # positives: pair, row, column, anchor
    want = np.asarray(anchors_lib.encode(jnp.asarray(box[n]), jnp.asarray(anchors[i, j, a])))
    got = reg[n, i, j, a]  # [P, 4]
    names = ("dx", "dy", "dlogw", "dlogh")
    result = {
        "positive_anchors": int(len(n)),
        "pooled": {c: _corr(got[:, m], want[:, m]) for m, c in enumerate(names)},
        # The same with each pair's and anchor shape's mean removed from both: does the
        # output follow the target from cell to cell within a pair (a ramp across the
        # positives) even where its level per pair is off?
        "within_pair": {
            c: _corr(within_pair(got[:, m], n * k + a), within_pair(want[:, m], n * k + a))
            for m, c in enumerate(names[:2])  # the sizes are constant within a pair
        },
        "mix_ups": {
            "dx_vs_dy_target": _corr(got[:, 0], want[:, 1]),
            "dy_vs_dx_target": _corr(got[:, 1], want[:, 0]),
            "transposed_cell_dx": _corr(reg[n, j, i, a][:, 0], want[:, 0]),
            "reversed_anchor_dx": _corr(reg[n, i, j, k - 1 - a][:, 0], want[:, 0]),
            "dx_vs_column": _corr(got[:, 0], j),
            "target_dx_vs_column": _corr(want[:, 0], j),
        },
        "by_anchor": [],
    }
    for shape in range(k):
        m = a == shape
        if m.sum() < 10:
            continue
        result["by_anchor"].append(
            {
                "anchor_wh": [float(v) for v in anchors[0, 0, shape, 2:]],
                "positives": int(m.sum()),
                "corr_dx_dy": [_corr(got[m, 0], want[m, 0]), _corr(got[m, 1], want[m, 1])],
                "predicted_std_dx": round(float(got[m, 0].std()), 3),
                "target_std_dx": round(float(want[m, 0].std()), 3),
            }
        )
    return result


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="RPN checkpoint / zoo name")
    p.add_argument("--pairs", type=int, default=96)
    p.add_argument("--seed", type=int, default=7919, help="held-out pair sampling seed")
    p.add_argument("--input", choices=("synthetic", "toy"), default="synthetic")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    result = {
        label: reg_by_anchor(model, a.pairs, a.seed, a.input)
        for label, model in diagnose.load_labelled(a.model).items()
    }
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
