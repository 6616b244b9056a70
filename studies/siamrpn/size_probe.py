"""Does the regression tower's output carry the target's size? A linear probe
(studies/siamrpn/README.md section 39).

    PYTHONPATH=. python -m studies.siamrpn.size_probe \
        --models=W/reg_rate/RT10_s2/checkpoints/1000 \
        --out=studies/siamrpn/results/tower_rate/size_probe.json

The RPN's regression output conv is linear in its tower's features (the ReLU of the
last BatchNorm before it, depth-wise head: `head/reg/bn_head`). At the anchor that best
matches the target (highest IoU), per pair: those features `[H]` at the anchor's cell.
A ridge regression from them (and a one-hot of the anchor's shape) to the target's
log-size delta against that anchor (the mean of `log w / wa` and `log h / ha`) is fitted
on `--fit_pairs` pairs of the training scenes (synthetic train split, the first 64 of
the runs' 512), its penalty chosen by 5-fold cross-validation there, and tested on
`--pairs` held-out validation pairs; all at the tracking crop (`--search_size`), with
the training augmentation (`diagnose.held_out_pairs`). Per model, for the probe and for
the network's own output on the same pairs: slope of predicted on true and R^2 (1 -
residual variance / target variance). A probe well above the network's own read-out
means the size is in the features and the output conv has not read it; a probe no
better means the features do not carry it. `--branches=reg,cls` (section 40) probes the
two towers' features side by side (`cls`: the classifier's, `head/cls/bn_head`): whether
a regression that read the classifier's tower would find more of the size.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax import anchors as anchors_lib
from dsiam_jax import models as M
from studies.siamrpn import probe_offsets
from studies.siamrpn.diagnose import TEMPLATE, held_out_pairs
from studies.siamrpn.size_regression import best_anchor_targets, for_each_model

PENALTIES = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)  # ridge penalty per row (standardised x)


def best_anchor_features(
    model, batch: dict, search_size: int, branches: Sequence[str] = ("reg",), chunk: int = 32
) -> dict:
    """Per pair: the features of the `branches`' towers at the best anchor's cell
    `[N, H x len(branches)]`, that anchor's shape index `[N]`, the true log-size delta
    `[N]` and the network's own `[N]`."""
    net = M.build(model.spec)
    k = model.spec.num_anchors

    @jax.jit
    def fwd(z, x):
        out, inter = net.apply(
            model.variables, z, x, capture_intermediates=True, mutable=["intermediates"]
        )
        head = inter["intermediates"]["head"]
        feat = [jax.nn.relu(head[b]["bn_head"]["__call__"][0]) for b in branches]
        return out["reg"], jnp.concatenate(feat, -1)  # [B, R, R, 4k], [B, R, R, H x n]

    regs, feats = [], []
    for i in range(0, len(batch["box"]), chunk):
        reg, feat = fwd(batch["template"][i : i + chunk], batch["search"][i : i + chunk])
        regs.append(np.asarray(reg))
        feats.append(np.asarray(feat))
    reg, feat = np.concatenate(regs), np.concatenate(feats)
    n, r = len(reg), reg.shape[1]
    anchors = anchors_lib.anchors_for(model.spec, TEMPLATE, search_size)  # [R, R, k, 4]
    _, best, true = best_anchor_targets(anchors, batch["box"])  # [N], [N, 4]
    rows = np.arange(n)
    _, reg_k = anchors_lib.split_rpn_maps(np.zeros((n, r, r, 2 * k)), reg, k)
    own = np.asarray(reg_k).reshape(n, -1, 4)[rows, best]  # [N, 4]
    return {
        "features": feat.reshape(n, r * r, -1)[rows, best // k],
        "anchor": best % k,
        "true": true[:, 2:].mean(1),
        "own": own[:, 2:].mean(1),
    }


def design(d: dict, k: int) -> np.ndarray:
    """Probe inputs: the features and a one-hot of the anchor shape `[N, H + k]`."""
    return np.concatenate([d["features"], np.eye(k)[d["anchor"]]], axis=1)


def ridge(x: np.ndarray, y: np.ndarray, penalty: float):
    """`probe_offsets.ridge` (standardised `x`, unpenalised intercept) at a penalty of
    `penalty` per row: a predictor."""
    fit = probe_offsets.ridge(x, y, alpha=penalty * len(x))
    return lambda q: probe_offsets.predict(fit, q)


def cross_validated_penalty(x: np.ndarray, y: np.ndarray, folds: int = 5) -> float:
    """The penalty of `PENALTIES` with the least 5-fold squared error on (x, y)."""
    index = np.arange(len(y)) % folds
    errors = []
    for penalty in PENALTIES:
        err = 0.0
        for f in range(folds):
            fit = ridge(x[index != f], y[index != f], penalty)
            err += np.sum((fit(x[index == f]) - y[index == f]) ** 2)
        errors.append(err)
    return PENALTIES[int(np.argmin(errors))]


def read_out(true: np.ndarray, pred: np.ndarray) -> dict:
    """Slope of `pred` on `true` and R^2 = 1 - mean squared error / variance of `true`."""
    slope = np.polyfit(true, pred, 1)[0]
    r2 = 1 - np.mean((pred - true) ** 2) / np.var(true)
    return {"slope": round(float(slope), 4), "r2": round(float(r2), 4)}


def probe(
    model, fit_batch: dict, test_batch: dict, search_size: int, branches: Sequence[str] = ("reg",)
) -> dict:
    """The module docstring's numbers for one RPN model (depth-wise head)."""
    k = model.spec.num_anchors
    fit = best_anchor_features(model, fit_batch, search_size, branches)
    test = best_anchor_features(model, test_batch, search_size, branches)
    x_fit, x_test = design(fit, k), design(test, k)
    penalty = cross_validated_penalty(x_fit, fit["true"])
    predict = ridge(x_fit, fit["true"], penalty)
    return {
        "penalty": penalty,
        "probe_train": read_out(fit["true"], predict(x_fit)),
        "probe_val": read_out(test["true"], predict(x_test)),
        "own_train": read_out(fit["true"], fit["own"]),
        "own_val": read_out(test["true"], test["own"]),
        "target_std_val": round(float(test["true"].std()), 4),
    }


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", required=True, help="RPN checkpoints / zoo names [#model]")
    p.add_argument("--fit_pairs", type=int, default=768)
    p.add_argument("--pairs", type=int, default=256)
    p.add_argument("--search_size", type=int, default=271)
    p.add_argument("--seed", type=int, default=12345, help="pair sampling seed")
    p.add_argument("--branches", default="reg", help="towers probed: reg, cls or reg,cls")
    p.add_argument("--out", default="")
    a = p.parse_args(argv)
    branches = tuple(a.branches.split(","))
    fit_batch = held_out_pairs(a.fit_pairs, a.search_size, a.seed, "train")
    test_batch = held_out_pairs(a.pairs, a.search_size, a.seed, "val")
    settings = f"fit={a.fit_pairs} pairs={a.pairs} search={a.search_size} seed={a.seed}"
    if branches != ("reg",):
        settings += f" branches={a.branches}"
    for_each_model(
        a.models,
        a.out,
        settings,
        lambda m: probe(m, fit_batch, test_batch, a.search_size, branches),
    )


if __name__ == "__main__":
    main()
