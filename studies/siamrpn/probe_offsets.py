"""Where is the target's sub-cell offset in a trained RPN head? A linear probe (issue 14).

    python -m studies.siamrpn.probe_offsets --model=W/E_long --fit_pairs=512 --pairs=256 \
        --out=studies/siamrpn/results/probe_offsets.json

The depth-wise head maps each cell's correlation features to its reg outputs with 1x1
convs, so a cell's dx / dy can only use what that one cell's features hold. Ridge
regressions from the head's features (the output of `head1`, a linear map of the
depth-wise correlation) at every positive anchor (IoU > 0.6) to the anchor's dx / dy
target, fitted on training-split pairs and scored (correlation) on held-out test pairs:

- `own`: the cell's own reg features (what the 1x1 head sees) + the anchor's one-hot;
- `own+neighbours`: plus the 4 neighbouring cells' reg features (what a 3x3 conv sees);
- `own+neighbours+cls`: plus the same 5 cells' cls-branch features.

If the offsets are readable from the neighbourhood but not from the cell, the 1x1 head
cannot learn them whatever the training length: the correlation at one cell changes
about evenly with a shift either way, the neighbours tell which way.
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
from dsiam_jax import models as M
from dsiam_jax.train import targets
from studies.siamrpn import diagnose

SETS = ("own", "own+neighbours", "own+neighbours+cls")


def head_features(model, batch: dict, chunk: int = 32) -> dict[str, np.ndarray]:
    """`{'reg', 'cls'}`: each branch's `head1` output `[N, R, R, C]` (inference mode)."""
    net = M.build(model.spec)

    def fwd(v, z, x):
        _, state = net.apply(v, z, x, capture_intermediates=True, mutable=["intermediates"])
        head = state["intermediates"]["head"]
        return {b: head[b]["head1"]["__call__"][0] for b in ("reg", "cls")}

    fwd = jax.jit(fwd)
    parts = []
    for i in range(0, len(batch["box"]), chunk):
        out = fwd(model.variables, batch["template"][i : i + chunk], batch["search"][i : i + chunk])
        parts.append({k: np.asarray(v) for k, v in out.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def design(model, batch: dict) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per feature set, the rows `[P, D]` at the positive anchors, and their `[P, 2]`
    dx / dy targets."""
    k = model.spec.num_anchors
    feats = head_features(model, batch)
    r = feats["reg"].shape[1]
    grid = anchors_lib.anchors_for(model.spec, diagnose.TEMPLATE, diagnose.TRAIN_SEARCH)
    flat = grid.reshape(-1, 4)  # [R * R * k, 4], index = (row * R + col) * k + anchor
    box = np.asarray(targets.xywh_to_cxcywh(jnp.asarray(batch["box"])))  # [N, 4]
    iou = np.asarray(anchors_lib.iou_cxcywh(flat[None], box[:, None]))  # [N, A]
    pair, index = np.where(iou > 0.6)
    want = np.asarray(anchors_lib.encode(jnp.asarray(box[pair]), jnp.asarray(flat[index])))
    cell, anchor = index // k, index % k
    row, col = cell // r, cell % r

    def at(branch: str, dr: int, dc: int) -> np.ndarray:  # [P, C], zeros off the map
        f = np.pad(feats[branch], ((0, 0), (1, 1), (1, 1), (0, 0)))
        return f[pair, row + 1 + dr, col + 1 + dc]

    hot = np.eye(k)[anchor]
    around = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    own = np.concatenate([at("reg", 0, 0), hot], axis=1)
    near = np.concatenate([own, *[at("reg", *d) for d in around]], axis=1)
    cls = np.concatenate([at("cls", 0, 0), *[at("cls", *d) for d in around]], axis=1)
    both = np.concatenate([near, cls], axis=1)
    sets = {"own": own, "own+neighbours": near, "own+neighbours+cls": both}
    return sets, want[:, :2]


def ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge regression on standardised `x`: (weights, mean, scale) for `predict`."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / scale
    xs = np.concatenate([xs, np.ones((len(xs), 1))], axis=1)
    reg = alpha * np.eye(xs.shape[1])
    reg[-1, -1] = 0.0  # the intercept is not penalised
    w = np.linalg.solve(xs.T @ xs + reg, xs.T @ y)
    return w, mean, scale


def predict(fit, x: np.ndarray) -> np.ndarray:
    w, mean, scale = fit
    xs = (x - mean) / scale
    return np.concatenate([xs, np.ones((len(xs), 1))], axis=1) @ w


def probe(model, fit_pairs: int, pairs: int, seed: int, alpha: float) -> dict:
    """Held-out correlation of each feature set's ridge prediction with dx and dy."""
    train = diagnose.held_out_pairs(fit_pairs, diagnose.TRAIN_SEARCH, 0, "train")
    test = diagnose.held_out_pairs(pairs, diagnose.TRAIN_SEARCH, seed, "test")
    (x_fit, y_fit), (x_test, y_test) = design(model, train), design(model, test)
    out = {"fit_positive_anchors": len(y_fit), "test_positive_anchors": len(y_test)}
    for name in SETS:
        pred = predict(ridge(x_fit[name], y_fit, alpha), x_test[name])
        corr = [float(np.corrcoef(pred[:, c], y_test[:, c])[0, 1]) for c in range(2)]
        out[name] = {
            "features": int(x_fit[name].shape[1]),
            "corr_dx_dy": [round(c, 3) for c in corr],
        }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="an RPN checkpoint (workdir) or zoo name")
    p.add_argument("--fit_pairs", type=int, default=512, help="training-split pairs to fit on")
    p.add_argument("--pairs", type=int, default=256, help="held-out test pairs to score on")
    p.add_argument("--seed", type=int, default=7919, help="held-out pair sampling seed")
    p.add_argument("--alpha", type=float, default=10.0, help="ridge penalty")
    p.add_argument("--out", default="studies/siamrpn/results/probe_offsets.json")
    a = p.parse_args(argv)
    out_file = pathlib.Path(a.out)
    result = json.loads(out_file.read_text()) if out_file.is_file() else {}
    for label, model in diagnose.load_labelled(a.model).items():
        result[label] = probe(model, a.fit_pairs, a.pairs, a.seed, a.alpha)
        print(label, result[label], flush=True)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
