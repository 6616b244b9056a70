"""SiamRPN tracking: anchors, scale/aspect penalty, cosine window, size learning rate.

Follows pysot's `SiamRPNTracker` (SPEC section 2) on our continuous crop geometry:

- init: template crop of side s_z = sqrt((w+p)(h+p)), p = context (w+h) -> kernels.
- each frame: one search crop of side s_x = s_z * X / T (X = 271 by default) ->
  cls `[R, R, k, 2]` and reg `[R, R, k, 4]`; scores = softmax foreground
  probability; boxes = anchors (`dsiam_jax.anchors.anchors_for`, shared with the
  training targets) decoded with the reg deltas; penalty
  exp(-(r_c s_c - 1) penalty_k) for change of scale s_c and aspect ratio r_c
  against the current target; pscore = penalty * score * (1 - wi) + window * wi
  (pysot; by default `score` and `window` here are both normalised, `score_map` below);
  the best anchor moves the centre, and the size moves toward its box by
  lr = penalty * score * size learning rate; `aspect_rate` < 1 then keeps that share of
  the update's aspect-ratio change at the same area (1: pysot's update).
- score: the best anchor's foreground probability (pysot's `best_score`).
pysot rounds crop sides to whole pixels; here they stay continuous.

`center` picks where the box centre comes from: 'regression' (pysot: the best anchor
decoded with its reg offsets), 'anchor' (the best anchor's own centre), 'peak' (the
best anchor's centre moved by a parabola fitted through the foreground log-odds of its
cell and the 4 neighbouring cells, max over anchors, clipped to half a cell per axis:
SiamFC's sub-cell localisation from the map's shape, for networks whose centre
offsets are not learned; studies/siamrpn/README.md section 7), or 'upsampled'
(SiamFC's rule on the RPN's map: per cell the best anchor's penalised score,
bicubically upsampled `response_up` times, min-shifted and normalised, mixed with a
Hann window at that resolution; the peak is the centre, and the best anchor of the
cell under it gives the size; the default: on the 64 synthetic test sequences +0.026 +-
0.011 success AUC over 'regression' for the zoo's three RPN models and +0.078 +- 0.016
for an RPN started from SiamFC that took no part in the choice, studies/siamrpn/README.md
section 30; keep 'regression' for imported pysot / DaSiamRPN weights). Sizes always come
from the regression.

`score_map` picks what the window is mixed with: 'normalized' (the default; SiamFC's
rule: the foreground log-odds min-shifted and divided by their sum over the R x R x k
anchors, against the window divided by its sum) or 'probability' (pysot: the
foreground probability, peak window 1). Probabilities saturate near 1 on every cell
close to a confident target, so pysot's mix picks whichever of them the window
favours, which lags a moving target; the normalised log-odds keep the map's peak.
With pysot's window influence (0.42, chosen again on validation sequences) it tracked
better on 11 RPN models that took no part in the choice: +0.017 +- 0.008 success AUC
(studies/siamrpn/README.md section 24). The size learning rate always uses the
probability.

`aspect_rate` = 0 (the default) keeps the first frame's aspect ratio, as SiamFC's scale
pyramid does, and takes only the area from the regression. The trained RPNs' regressed
aspect ratios are noisy: with pysot's update (`aspect_rate=1`) the zoo's RPN teacher's
boxes changed aspect ratio twice as much as the targets did (mean |log| 0.23 against
0.11), and on the frames where it held the target their IoU was 0.72 against SiamFC's
0.77. Chosen on the 64 synthetic validation sequences from 0, 0.25, 0.5, 1 with the
zoo's three RPN models (+0.017 +- 0.008 success AUC for 0 over 1), then on 256 test
sequences +0.011 +- 0.004, most of it the students' (studies/siamrpn/README.md section
33). Keep 1 for imported pysot / DaSiamRPN weights, and for targets whose aspect ratio
changes much.

`num_scales` (odd; default 3) is SiamFC's scale pyramid: search crops of side s_x times
scale_step^i, i = -n//2 .. n//2, each through the network; the crop whose foreground
log-odds peak highest (the side crops' peaks times `scale_penalty`) gives the proposal,
decoded at its own scale. A regression that reads little of the target's size
proposes about its crop's own scale, so the size then follows the crop the classifier
prefers, as SiamFC's does: the proposals of section 38's RPNs take up only 15-22% of a
size error on crops around the previous true box (studies/siamrpn/README.md section
41). Chosen on two of section 38's RPN teachers (+0.026 +- 0.003 success AUC on 256
synthetic test sequences), then held out on the zoo's three RPN models (+0.029 to
+0.033 each, section 42). It costs `num_scales` network calls per frame; 1 is pysot's
single crop (keep it for imported pysot / DaSiamRPN weights, whose regression reads the
size, or where speed counts more).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.anchors import STRIDE, anchors_for, decode, split_rpn_maps
from dsiam_jax.crops import context_side
from dsiam_jax.errors import ConfigError
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.tracking import state as S
from dsiam_jax.tracking.algorithm import CropTracking, TrackerSettings, best_scale, scale_factors
from dsiam_jax.tracking.network import CropGeometry
from dsiam_jax.tracking.siamfc import SiamFCConfig

MAX_LOG_SCALE = 6.0  # reg log-size deltas are clipped to +-this before exp (e^6 ~ 400x)
CENTERS = ("regression", "anchor", "peak", "upsampled")  # sources of the box centre (`center`)
SCORE_MAPS = ("probability", "normalized")  # what the window is mixed with (`score_map`)


@dataclasses.dataclass(frozen=True)
class SiamRPNConfig(TrackerSettings):
    """SiamRPN tracking hyper-parameters: the `config.tracker.siamrpn` section, whose
    defaults these are (SPEC section 2)."""

    kind: ClassVar[str] = "siamrpn"
    template_size: int = 127
    search_size: int = 271
    context: float = 0.5  # template side sqrt((w+p)(h+p)), p = context * (w+h)
    penalty_k: float = 0.055  # scale / aspect-ratio change penalty
    window_influence: float = 0.42
    lr: float = 0.295  # size learning rate (times penalty * score)
    min_size: float = 10.0  # px; sizes are clamped to [min(min_size, initial), frame]
    center: str = "upsampled"  # 'upsampled' | 'regression' (pysot) | 'anchor' | 'peak'
    response_up: int = 16  # center='upsampled': bicubic upsampling of the R x R map
    score_map: str = "normalized"  # 'normalized' | 'probability' (pysot; module docstring)
    aspect_rate: float = 0.0  # share of each size update's aspect-ratio change kept (1: pysot)
    # Scale pyramid (module docstring; 1: pysot's single crop). The step and the side
    # scales' penalty default to SiamFC's.
    num_scales: int = 3  # odd; crops of side s_x * scale_step^(-n//2 .. n//2)
    scale_step: float = SiamFCConfig.scale_step
    scale_penalty: float = SiamFCConfig.scale_penalty  # multiplies the side scales' peaks

    def check(self) -> None:
        """A search crop larger than the template; a known `center`."""
        if self.score_map not in SCORE_MAPS:
            raise ConfigError(
                f"tracker.siamrpn.score_map={self.score_map!r}: expected one of "
                f"{', '.join(SCORE_MAPS)}"
            )
        if self.center not in CENTERS:
            raise ConfigError(
                f"tracker.siamrpn.center={self.center!r}: expected one of {', '.join(CENTERS)}"
            )
        self.check_pyramid()
        if self.response_up < 1:
            raise ConfigError(f"tracker.siamrpn.response_up={self.response_up}: expected >= 1")
        if not 0.0 <= self.aspect_rate <= 1.0:
            raise ConfigError(
                f"tracker.siamrpn.aspect_rate={self.aspect_rate}: expected a value in [0, 1]"
            )
        if self.search_size <= self.template_size:
            raise ConfigError(
                f"tracker.siamrpn.search_size={self.search_size} must exceed "
                f"template_size={self.template_size}"
            )


def damp_aspect(old: jax.Array, new: jax.Array, rate: float) -> jax.Array:
    """Size `[2]` (w, h) with `new`'s area and the aspect ratio `old`'s moved by `rate`
    of the way to `new`'s, in log space: rate 1 keeps `new`, rate 0 keeps `old`'s
    aspect ratio (SiamFC's fixed aspect ratio)."""
    log_aspect = (1 - rate) * jnp.log(old[0] / old[1]) + rate * jnp.log(new[0] / new[1])
    aspect = jnp.exp(log_aspect)
    area = new[0] * new[1]
    return jnp.stack([jnp.sqrt(area * aspect), jnp.sqrt(area / aspect)])


def _change(r: jax.Array) -> jax.Array:
    return jnp.maximum(r, 1.0 / r)


def peak_offset(logit: jax.Array, row: jax.Array, col: jax.Array) -> jax.Array:
    """Sub-cell offset `[2]` (x, y), in cells, of the peak of `logit [R, R]` near cell
    (row, col): per axis the vertex of the parabola through the cell and its two
    neighbours (edge cells repeat themselves), 0 where that parabola is not concave,
    clipped to +-0.5."""
    r = logit.shape[0]
    at = lambda i, j: logit[jnp.clip(i, 0, r - 1), jnp.clip(j, 0, r - 1)]
    mid = at(row, col)

    def vertex(before, after):
        curvature = before - 2 * mid + after
        safe = jnp.where(curvature < 0, curvature, -1.0)
        return jnp.where(curvature < 0, jnp.clip(0.5 * (before - after) / safe, -0.5, 0.5), 0.0)

    return jnp.stack([vertex(at(row, col - 1), at(row, col + 1)),
                      vertex(at(row - 1, col), at(row + 1, col))])  # fmt: skip


class SiamRPNTracking(CropTracking):
    """Crops and post-processing of the SiamRPN tracker (pure JAX functions)."""

    kind = "siamrpn"

    def __init__(self, spec: ModelSpec, config: SiamRPNConfig):
        self.config = c = config
        self.geometry = CropGeometry(c.template_size, c.search_size, c.num_scales)
        self.scale_factors = scale_factors(c.num_scales, c.scale_step)
        self.num_anchors = spec.num_anchors
        self.anchors = anchors_for(spec, c.template_size, c.search_size)  # [R, R, k, 4]
        r = self.anchors.shape[0]
        window = S.hann_window(r).astype(np.float32)[:, :, None]  # [R, R, 1], peak 1
        if c.score_map == "normalized":  # sum 1 over the R x R x k anchors, as `_ranked`
            window = window / (window.sum() * self.num_anchors)
        self.window = window
        if c.center == "upsampled":
            self.upsample = S.cubic_resize_matrix(r, r * c.response_up)  # [U, R]
            window_up = S.hann_window(r * c.response_up)
            self.window_up = (window_up / window_up.sum()).astype(np.float32)  # [U, U]

    def _upsampled_peak(self, ranked: jax.Array) -> tuple[jax.Array, tuple]:
        """SiamFC's peak on the per-cell best of `ranked [R, R, k]` (penalised score):
        `(centre [2] (x, y) crop px, (row, col, anchor) of the cell under it)`."""
        c = self.config
        r, up = ranked.shape[0], c.response_up
        m = jnp.asarray(self.upsample)
        fine = m @ jnp.max(ranked, axis=-1) @ m.T  # [U, U]
        fine = fine - jnp.min(fine)
        fine = fine * ((1 - c.window_influence) / (jnp.sum(fine) + 1e-16))
        mixed = fine + c.window_influence * jnp.asarray(self.window_up)
        flat = S.first_argmax(mixed)
        rowcol = jnp.stack([flat // (r * up), flat % (r * up)])  # [2] upsampled px
        # upsampled px i sits at cell (i + 0.5) / up - 0.5 (half-pixel centres)
        centre = (rowcol[::-1] - (r * up - 1) / 2) * (STRIDE / up) + c.search_size / 2
        cell = jnp.clip(jnp.round((rowcol + 0.5) / up - 0.5), 0, r - 1).astype(jnp.int32)
        anchor = jnp.argmax(ranked[cell[0], cell[1]])
        return centre.astype(jnp.float32), (cell[0], cell[1], anchor)

    def _ranked(self, cls: jax.Array, score: jax.Array) -> jax.Array:
        """What the window is mixed with `[R, R, k]`: the foreground probability, or the
        log-odds min-shifted and normalised to sum 1 (`score_map`)."""
        if self.config.score_map == "probability":
            return score
        logit = cls[..., 1] - cls[..., 0]  # [R, R, k]
        shifted = logit - jnp.min(logit)
        return shifted / (jnp.sum(shifted) + 1e-16)

    def _propose(self, cls: jax.Array, reg: jax.Array, target: jax.Array) -> tuple:
        """One search crop's proposal from its maps `cls [R, R, k, 2]`, `reg [R, R, k, 4]`
        and the current size in its px `target [2]`: `(box [4] (cx, cy, w, h) in crop px,
        penalty * score there, score there, the crop's peak foreground log-odds)`."""
        c = self.config
        score = jax.nn.softmax(cls, axis=-1)[..., 1]  # [R, R, k]
        shift = reg[..., :2] if c.center == "regression" else jnp.zeros_like(reg[..., :2])
        deltas = jnp.concatenate([shift, jnp.clip(reg[..., 2:], -MAX_LOG_SCALE, MAX_LOG_SCALE)], -1)
        boxes = decode(deltas, jnp.asarray(self.anchors))  # [R, R, k, 4] crop px (cx, cy, w, h)
        wh = jnp.maximum(boxes[..., 2:], 1e-6)
        # pysot's scale change always pads by 0.5 (w + h), whatever `context` is
        padded = context_side(wh[..., 0], wh[..., 1], 0.5)  # [R, R, k]
        s_c = _change(padded / context_side(target[0], target[1], 0.5))
        r_c = _change((target[0] / target[1]) / (wh[..., 0] / wh[..., 1]))
        penalty = jnp.exp(-(r_c * s_c - 1.0) * c.penalty_k)
        ranked = penalty * self._ranked(cls, score)  # [R, R, k]
        if c.center == "upsampled":
            centre, best = self._upsampled_peak(ranked)
            box = boxes[best].at[:2].set(centre)  # [4] crop px
        else:
            pscore = ranked * (1 - c.window_influence) + self.window * c.window_influence
            best = jnp.unravel_index(S.first_argmax(pscore), pscore.shape)
            box = boxes[best]  # [4] crop px
        if c.center == "peak":
            logit = jnp.max(cls[..., 1] - cls[..., 0], axis=-1)  # [R, R] log-odds
            box = box.at[:2].add(peak_offset(logit, best[0], best[1]) * STRIDE)
        return box, penalty[best] * score[best], score[best], jnp.max(cls[..., 1] - cls[..., 0])

    def select(self, state: S.TrackState, outputs: dict) -> tuple:
        """What the network's outputs propose: `(box [4] (cx, cy, w, h) in crop px, size
        learning rate, score, crop px per image px)` of the chosen crop: its chosen
        anchor's box (the centre moved as `center` says), lr = penalty * score * size
        learning rate, and the foreground probability there. With a pyramid the crop
        with the highest peak (side crops' peaks times `scale_penalty`) is chosen."""
        c = self.config
        cls, reg = split_rpn_maps(
            outputs["cls"].astype(jnp.float32), outputs["reg"].astype(jnp.float32), self.num_anchors
        )  # [S, R, R, k, 2], [S, R, R, k, 4]
        factors = jnp.asarray(self.scale_factors)  # [S]
        scales = c.search_size / (self.search_side(state.size) * factors)  # [S] crop px / px
        box, weight, score, peak = jax.vmap(self._propose)(
            cls, reg, state.size[None] * scales[:, None]
        )  # [S, 4], [S], [S], [S]
        i = best_scale(peak, c.scale_penalty)
        return box[i], weight[i] * c.lr, score[i], scales[i]

    def move(self, state: S.TrackState, proposal: tuple, frame_hw) -> tuple:
        """`select`'s proposal applied: `(new state, box [4], score)`; the centre moves to
        the proposal's, the size toward it by its learning rate."""
        c = self.config
        box, lr, score, scale = proposal  # scale: crop px per image px
        offset = (box[:2] - c.search_size / 2) / scale  # image px
        size = state.size * (1 - lr) + box[2:] / scale * lr
        if c.aspect_rate != 1.0:
            size = damp_aspect(state.size, size, c.aspect_rate)
        center, size = S.clamp(state.center + offset, size, state.min_size, frame_hw)
        new = S.keep_if_finite(state._replace(center=center, size=size), state)
        return new, S.output_box(new.center, new.size, frame_hw), score

    def update(self, state: S.TrackState, outputs: dict, frame_hw) -> tuple:
        """Network outputs -> `(new state, box [4], score)`."""
        return self.move(state, self.select(state, outputs), frame_hw)
