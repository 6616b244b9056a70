"""Which half of a trained RPN loses the tracking: the trained maps with one part
replaced by the ground truth (issue 14, studies/siamrpn section 14).

    python -m studies.siamrpn.hybrid --models=W/E_long_lr3,W/X_long_lr3 --siamfc=W/C_long_lr3 \
        --out=studies/siamrpn/results/parts/hybrid.json

Each frame, the tracker's own search crop goes through the trained network; before
the library's post-processing (`SiamRPNTracking.update`: penalties, window, size
update), parts of its output are overwritten with what a perfect network would say
about the current frame's true box (known in crop pixels from the tracker's state):

- `trained`: nothing replaced (tracks as `mode=evaluate` does);
- `cls`: foreground log-odds 12 IoU - 4 at every anchor (as tests/test_tracking_oracle.py),
  the trained regression;
- `reg`: the trained classifier; at the anchors that training regresses (IoU > 0.6)
  the exact encoding of the true box;
- `offsets` / `sizes`: as `reg`, but only (dx, dy) / only (log w, log h) replaced;
- `both`: `cls` and `reg` together;
- `siamfc` (with `--siamfc=<SiamFC checkpoint>`): a trained SiamFC's response on the
  same crop (the same 19x19 cells at 271) as every anchor's foreground log-odds, the
  trained regression: the RPN's classifier against a real template matcher;
- `siamfc_reg`: `siamfc` with the `reg` replacement.

Reported per variant: success AUC over the sequences, mean IoU, and the share of
frames whose centre is within 0.1 / 0.25 target sizes or more than one size away.
`--settings=key=value,...` changes more of the RPN tracker's settings (the result's key
lists them). `--evals=label=folder` reports the same for `mode=evaluate` result folders (e.g. the
SiamFC whose response the `siamfc` variants borrow, in its own tracker).
"""

from __future__ import annotations

import argparse
import json
import pathlib
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax import checkpoints
from dsiam_jax.anchors import encode, iou_cxcywh
from dsiam_jax.evaluation.metrics import center_error, rect_iou, sequence_metrics
from dsiam_jax.tracking import build_tracker
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.network import jax_network
from dsiam_jax.tracking.siamrpn import SiamRPNConfig
from dsiam_jax.train.settings import LossSettings
from studies.siamrpn import diagnose, motion

VARIANTS = ("trained", "cls", "reg", "offsets", "sizes", "both", "siamfc", "siamfc_reg")
SIAMFC_VARIANTS = ("siamfc", "siamfc_reg")  # need --siamfc
POSITIVE_IOU = LossSettings().rpn_pos_iou  # the anchors training regresses (IoU above it)


def oracle_outputs(outputs: dict, anchors: jax.Array, truth: jax.Array, variant: str) -> dict:
    """`outputs` (cls `[1, R, R, 2k]`, reg `[1, R, R, 4k]`) with the parts `variant`
    replaces set from the true box `truth [4]` (cx, cy, w, h, crop pixels);
    `anchors [R, R, k, 4]`."""
    k = anchors.shape[2]
    iou = iou_cxcywh(anchors, truth)  # [R, R, k]
    cls, reg = outputs["cls"], outputs["reg"]
    if variant in SIAMFC_VARIANTS:  # response [1, R, R] as the foreground log-odds of every anchor
        fg = jnp.repeat(outputs["response"][..., None], k, axis=-1)
        cls = jnp.concatenate([jnp.zeros_like(fg), fg], -1)
    if variant in ("cls", "both"):
        fg = 12.0 * iou - 4.0
        cls = jnp.concatenate([jnp.zeros_like(fg), fg], -1)[None]
    every = (0, 1, 2, 3)
    coords = {"reg": every, "both": every, "siamfc_reg": every, "offsets": (0, 1), "sizes": (2, 3)}
    if variant in coords:
        exact = encode(jnp.broadcast_to(truth, anchors.shape), anchors)  # [R, R, k, 4]
        exact = jnp.moveaxis(exact, -1, -2).reshape(*anchors.shape[:2], 4 * k)  # coord*k + a
        channel = jnp.arange(4 * k) // k  # the coordinate of each reg channel
        use = jnp.isin(channel, jnp.asarray(coords[variant]))[None, None, :]
        use = use & (jnp.tile(iou, (1, 1, 4)) > POSITIVE_IOU)  # [R, R, 4k]
        reg = jnp.where(use[None], exact[None], reg)
    return {"cls": cls, "reg": reg}


def track_sequence(tracker, seq, variant: str, step, fc=None) -> np.ndarray:
    """Boxes `[N, 4]` of `tracker` on `seq` with the `variant` replacement; `fc`: the
    SiamFC `(network, params)` of the `siamfc` variant."""
    first = F.prepare_frame(seq.load_frame(0))
    state = tracker.init(first, seq.boxes[0])
    extra = None  # (SiamFC params, kernels)
    if fc is not None:  # the same template crop through the SiamFC network
        z, _ = tracker.algorithm.template_crop(first, jnp.asarray(seq.boxes[0], jnp.float32))
        extra = (fc[1], fc[0].template(fc[1], z))
    boxes = [np.asarray(seq.boxes[0], np.float64)]
    for i in range(1, len(seq)):
        frame = F.prepare_frame(seq.load_frame(i))
        truth = jnp.asarray(seq.boxes[i], jnp.float32)
        state, box = step(tracker.params, state, frame, truth, extra, variant)
        boxes.append(np.asarray(box, np.float64))
    return np.asarray(boxes)


def make_step(tracker, fc_network=None):
    """Jitted `(params, state, frame, true box (x, y, w, h), (SiamFC params, kernels)
    or None, variant) -> (state, box)`."""
    algorithm, network = tracker.algorithm, tracker.network
    anchors = jnp.asarray(algorithm.anchors)
    size = algorithm.config.search_size

    def step(params, state, frame, truth, fc, variant):
        x = algorithm.search_crops(state, frame)
        outputs = network.search(params, state.kernels, x)
        if fc is not None:
            outputs = {**outputs, **fc_network.search(fc[0], fc[1], x)}
        scale = size / algorithm.search_side(state.size)  # crop px per image px
        centre = size / 2 + (truth[:2] + truth[2:] / 2 - state.center) * scale
        crop_truth = jnp.concatenate([centre, truth[2:] * scale])
        outputs = oracle_outputs(outputs, anchors, crop_truth, variant)
        state, box, _ = algorithm.update(state, outputs, frame.shape[:2])
        return state, box

    return jax.jit(step, static_argnums=5)


def frame_stats(pred: list[np.ndarray], gt: list[np.ndarray]) -> dict:
    """Success AUC (mean over sequences) and per-frame centre / IoU shares (frames 2+)."""
    auc = float(np.mean([sequence_metrics(p, g)["success_auc"] for p, g in zip(pred, gt)]))
    p, g = np.concatenate([x[1:] for x in pred]), np.concatenate([x[1:] for x in gt])
    err = center_error(p, g) / np.sqrt(g[:, 2] * g[:, 3])  # in target sizes
    return {
        "success_auc": round(auc, 4),
        "mean_iou": round(float(rect_iou(p, g).mean()), 4),
        "centre_within_0.1_size": round(float(np.mean(err < 0.1)), 4),
        "centre_within_0.25_size": round(float(np.mean(err < 0.25)), 4),
        "centre_beyond_1_size": round(float(np.mean(err > 1.0)), 4),
    }


def evaluate(
    model, sequences: Sequence, variants: Sequence[str], siamrpn: dict, siamfc=None
) -> dict:
    """`frame_stats` of each variant for one RPN model (JAX backend); `siamfc`: the
    SiamFC `TrackerModel` of the `siamfc` variant."""
    tracker = build_tracker(model, diagnose.tracker_config(siamrpn), "jax")
    fc = None
    if siamfc is not None:
        fc_net = jax_network(siamfc, tracker.geometry)  # the RPN's crops: one 271 crop
        fc = (fc_net, jax.device_put(siamfc.variables))
    step = make_step(tracker, fc[0] if fc else None)
    gt = [np.asarray(s.boxes, np.float64) for s in sequences]
    out = {}
    for variant in variants:
        use_fc = fc if variant in SIAMFC_VARIANTS else None
        pred = [track_sequence(tracker, s, variant, step, use_fc) for s in sequences]
        out[variant] = frame_stats(pred, gt)
        print(variant, out[variant], flush=True)
    return out


def parse_settings(items: Sequence[str]) -> dict:
    """`['key=value', ...]` -> `config.tracker.siamrpn` overrides, each value of its
    field's type (`SiamRPNConfig`)."""
    defaults = SiamRPNConfig()
    out = {}
    for item in items:
        key, value = item.split("=", 1)
        out[key] = type(getattr(defaults, key))(value)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="", help="RPN checkpoints / zoo names, comma-separated")
    p.add_argument(
        "--variants",
        default="",
        help=f"some of {VARIANTS}; default: all (without --siamfc: those that need no SiamFC)",
    )
    p.add_argument("--sequences", type=int, default=64)
    p.add_argument("--center", default="regression", help="tracker.siamrpn.center")
    p.add_argument(
        "--settings", default="", help="more tracker.siamrpn overrides: key=value, comma-separated"
    )
    p.add_argument("--siamfc", default="", help="SiamFC checkpoint / zoo name (variant siamfc)")
    p.add_argument("--evals", default="", help="label=mode=evaluate folder, comma-separated")
    p.add_argument("--out", default="studies/siamrpn/results/parts/hybrid.json")
    a = p.parse_args(argv)
    variants = [v for v in a.variants.split(",") if v] or [
        v for v in VARIANTS if a.siamfc or v not in SIAMFC_VARIANTS
    ]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        p.error(f"unknown variants {sorted(unknown)}; expected some of {VARIANTS}")
    siamfc = None
    if a.siamfc:
        (siamfc,) = checkpoints.load_models(a.siamfc).values()
    elif set(variants) & set(SIAMFC_VARIANTS):
        p.error(f"variants {SIAMFC_VARIANTS} need --siamfc")
    settings = [item for item in a.settings.split(",") if item]
    out_file = pathlib.Path(a.out)
    result = json.loads(out_file.read_text()) if out_file.is_file() else {}
    sequences = diagnose.synthetic_test_sequences(a.sequences)
    gt = [np.asarray(s.boxes, np.float64) for s in sequences]
    for item in filter(None, a.evals.split(",")):
        label, folder = item.split("=", 1)
        pred = motion.predicted_boxes(folder, sequences)
        result.setdefault(label, {})["own_tracker"] = frame_stats(pred, gt)
        print(label, result[label], flush=True)
    for name in filter(None, a.models.split(",")):
        for label, model in diagnose.load_labelled(name).items():
            key = " ".join([f"{label} center={a.center}", *settings])
            print(key, flush=True)
            siamrpn = {"center": a.center, **parse_settings(settings)}
            stats = evaluate(model, sequences, variants, siamrpn, siamfc)
            result.setdefault(key, {}).update(stats)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
