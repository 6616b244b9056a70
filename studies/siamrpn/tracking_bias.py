"""The RPN's size regression on the tracking distribution: the bias that makes its boxes
drift (studies/siamrpn/README.md section 41).

    PYTHONPATH=. python -m studies.siamrpn.tracking_bias --split=val --sequences=32 \
        --models=W/reg_rate/RT10/checkpoints/1000 \
        --out=studies/siamrpn/results/size_bias/tracking_bias.json

Per model (default tracker settings but `--num_scales`, default 1: the single search
crop section 41 measured; the default tracker's pyramid is 3) on the first
`--sequences` synthetic sequences of `--split`, frames 2+, in log size (log sqrt(w h),
image px):

- `own`: the tracker runs as it does (its own crops); per frame, the state's error
  against the truth (`state`: log size of the box the crop is cut around over the
  true one) and the proposed box's (`proposal`: the box `SiamRPNTracking.select`
  picks, before the size learning rate) and, at the anchor that best matches the true
  box, the regression's alone (`best_anchor`), each on the frames the tracker holds
  (centre error < 0.25 true sizes); the least-squares fit of proposal on state error
  (`slope` 1: the proposal keeps the state's error; 0: it reads the true size) and the
  error where the proposal would equal the state (`fixed_point` = intercept /
  (1 - slope), where the loop settles); the mean proposal-minus-state log size on the
  held and on the other frames (`push_held`, `push_lost`: which way the proposals pull
  the size), the mean of lr times it over all frames (`size_step`: the mean log-size
  change per frame), and the state's mean error over all sequences at frames
  `FRAMES` (`state_at`, 1-based; frame 1 is the given box).
- `offset=o` for each of `--offsets`: crops cut around the previous frame's true box
  with its size times e^o (teacher forcing: no feedback); the mean errors of the
  proposal and of the best anchor's box. A regression that reads the size gives
  errors near 0 at every o; one that ignores the image gives errors near o. The offset
  where the proposal's error equals o is where the loop settles (`settles_at`, by
  linear interpolation).

A model is `path` (its single or teacher model) or `path#name` (as size_regression.py).
Writes `--out` (merged with what an earlier run wrote there).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax import anchors as anchors_lib
from dsiam_jax.crops import box_to_crop
from dsiam_jax.tracking import build_tracker
from dsiam_jax.train import targets
from studies.siamrpn.size_regression import for_each_model

HELD = 0.25  # centre error below this many true sizes: the tracker holds the target
FRAMES = (5, 10, 20, 40)  # `state_at`'s frames (1-based)


def log_size(wh: np.ndarray) -> np.ndarray:
    """log sqrt(w h) `[N]` of sizes `[N, 2]`."""
    return 0.5 * np.log(wh[:, 0] * wh[:, 1])


def probe_fn(tracker):
    """A jitted `(params, state, frame, truth [4] x, y, w, h) -> (new state, record)`:
    one tracking step that also returns, in image px, the state's size, the proposal's
    size and centre, the best-matching anchor's decoded size and the true box."""
    alg = tracker.algorithm
    anchors = jnp.asarray(alg.anchors)  # [R, R, k, 4]
    size = alg.config.search_size

    def step(params, state, frame, truth):
        x = alg.search_crops(state, frame)
        out = tracker.network.search(params, state.kernels, x)
        proposal = alg.select(state, out)
        box, lr, score, scale = proposal  # [4] crop px; crop px per image px
        true_crop = targets.xywh_to_cxcywh(box_to_crop(truth, state.center, size / scale, size))
        _, reg = anchors_lib.split_rpn_maps(out["cls"], out["reg"], alg.num_anchors)
        iou = anchors_lib.iou_cxcywh(anchors, true_crop)  # [R, R, k]
        best = jnp.unravel_index(jnp.argmax(iou), iou.shape)
        decoded = anchors_lib.decode(reg[0][best], anchors[best])  # [4] crop px
        new, _, _ = alg.move(state, proposal, frame.shape[:2])
        record = {
            "state": state.size,
            "proposal": box[2:] / scale,
            "centre": state.center + (box[:2] - size / 2) / scale,
            "best_anchor": decoded[2:] / scale,
            "lr": lr,
            "score": score,
        }
        return new, record

    return jax.jit(step)


def run_sequence(tracker, step, seq, offset: float | None) -> dict[str, np.ndarray]:
    """Per-frame records `{name: [T - 1, ...]}` of one sequence: the tracker's own loop
    (`offset` None) or crops around the previous true box scaled by e^offset."""
    boxes = np.asarray(seq.boxes, np.float32)
    state = tracker.init(seq.load_frame(0), boxes[0])
    rows = []
    for t in range(1, len(seq)):
        if offset is not None:
            prev = boxes[t - 1]
            state = state._replace(
                center=jnp.asarray(prev[:2] + prev[2:] / 2),
                size=jnp.asarray(prev[2:] * np.exp(offset), jnp.float32),
            )
        state, record = step(tracker.params, state, seq.load_frame(t), boxes[t])
        rows.append(jax.device_get(record))
    out = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
    out["truth"] = boxes[1:]
    out["frame"] = np.arange(2, len(seq) + 1)  # 1-based
    return out


def errors(records: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Log-size errors `[N]` against the truth, `held` `[N]`, and the records' `lr` and
    `frame` `[N]`, of concatenated records."""
    truth = records["truth"]
    true_size = log_size(truth[:, 2:])
    centre = truth[:, :2] + truth[:, 2:] / 2
    dist = np.linalg.norm(records["centre"] - centre, axis=1) / np.exp(true_size)
    out = {k: log_size(records[k]) - true_size for k in ("state", "proposal", "best_anchor")}
    out["held"] = dist < HELD
    out["lr"], out["frame"] = records["lr"], records["frame"]
    return out


def summarise(e: dict[str, np.ndarray], fit: bool) -> dict:
    """Means on the held frames (and, if `fit`, the fit of proposal on state error)."""
    h = e["held"]
    stats = {"frames": int(h.size), "held": float(h.mean())}
    for k in ("state", "proposal", "best_anchor"):
        stats[k] = float(e[k][h].mean())
    push = e["proposal"] - e["state"]
    stats["push_held"] = float(push[h].mean())
    stats["push_lost"] = float(push[~h].mean()) if (~h).any() else None
    stats["size_step"] = float(np.mean(e["lr"] * push))
    if fit:
        slope, intercept = np.polyfit(e["state"][h], e["proposal"][h], 1)
        stats.update(slope=slope, intercept=intercept, fixed_point=intercept / (1 - slope))
        at = [f for f in FRAMES if (e["frame"] == f).any()]
        stats["state_at"] = {f: round(float(e["state"][e["frame"] == f].mean()), 4) for f in at}
    return {k: round(float(v), 4) if isinstance(v, float) else v for k, v in stats.items()}


def settles_at(offsets: Sequence[float], proposal: Sequence[float]) -> float | None:
    """The offset o where the mean proposal error equals o (linear interpolation between
    the measured offsets; None if it does not cross inside them)."""
    gap = np.asarray(proposal) - np.asarray(offsets)
    for i in range(len(gap) - 1):
        if gap[i] == 0:
            return float(offsets[i])
        if gap[i] * gap[i + 1] < 0:
            w = gap[i] / (gap[i] - gap[i + 1])
            return round(float(offsets[i] + w * (offsets[i + 1] - offsets[i])), 4)
    return float(offsets[-1]) if gap[-1] == 0 else None


def tracking_bias(model, sequences, offsets: Sequence[float], num_scales: int = 1) -> dict:
    """The module docstring's numbers for one RPN model, tracked with `num_scales` crops."""
    tracker = build_tracker(model, {"siamrpn": {"num_scales": num_scales}})
    step = probe_fn(tracker)

    def measure(offset):
        recs = [run_sequence(tracker, step, s, offset) for s in sequences]
        return errors({k: np.concatenate([r[k] for r in recs]) for k in recs[0]})

    result = {"own": summarise(measure(None), fit=True)}
    for o in offsets:
        result[f"offset={o:g}"] = summarise(measure(o), fit=False)
    prop = [result[f"offset={o:g}"]["proposal"] for o in offsets]
    result["settles_at"] = settles_at(offsets, prop)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    from configs import default
    from data_pipelines import sequences, sources

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", required=True, help="RPN checkpoints / zoo names [#model]")
    p.add_argument("--split", default="val")
    p.add_argument("--sequences", type=int, default=32)
    p.add_argument("--offsets", default="-0.3,-0.15,0,0.15,0.3", help="log-size offsets")
    p.add_argument("--num_scales", type=int, default=1, help="search crops per frame")
    p.add_argument("--out", default="")
    a = p.parse_args(argv)
    offsets = sorted(float(v) for v in a.offsets.split(","))
    kwargs = sources.synthetic_kwargs(default.data_config())
    kwargs["num_sequences"] = a.sequences
    seqs = sequences.read_sequences("synthetic", "", a.split, **kwargs)
    settings = f"split={a.split} sequences={a.sequences} offsets={a.offsets}"
    if a.num_scales != 1:
        settings += f" num_scales={a.num_scales}"
    bias = lambda m: tracking_bias(m, seqs, offsets, a.num_scales)
    for_each_model(a.models, a.out, settings, bias)


if __name__ == "__main__":
    main()
