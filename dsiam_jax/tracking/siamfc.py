"""SiamFC tracking: scale pyramid, upsampled response, cosine window, scale damping.

Follows siamfc-pytorch's `TrackerSiamFC` (Bertinetto et al. 2016 settings,
SPEC section 2) on our continuous crop geometry:

- init: template crop of side s_z = sqrt((w+p)(h+p)), p = context (w+h), at the
  box centre -> kernels.
- each frame: S search crops of side s_x * f_s (s_x = s_z * X / T, scale factors
  f_s = step^(-S//2 .. S//2)) -> responses `[S, 17, 17]`, bicubic upsampling x16
  (OpenCV's INTER_CUBIC as a matrix product), side scales multiplied by the
  scale penalty, best scale = highest peak; its map is min-shifted and
  normalised to sum 1, mixed with a Hann window (window influence), and the peak's
  displacement from the centre moves the target; the size is damped toward the
  chosen scale by the scale learning rate.
- score: sigmoid of the raw response at the chosen peak (the training loss is
  logistic, so this is the network's probability that the target is there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.anchors import STRIDE, response_size
from dsiam_jax.config_sections import dataclass_from_section
from dsiam_jax.crops import context_side, crop_jax
from dsiam_jax.errors import ConfigError
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.tracking import state as S
from dsiam_jax.tracking.network import CropGeometry


@dataclasses.dataclass(frozen=True)
class SiamFCConfig:
    """SiamFC tracking hyper-parameters (defaults: SPEC section 2 / `config.tracker.siamfc`)."""

    template_size: int = 127
    search_size: int = 255
    context: float = 0.5
    num_scales: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.176
    response_up: int = 16
    min_size: float = 10.0  # px; the size never shrinks below min(this, initial size)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any] | None) -> SiamFCConfig:
        cfg = dataclass_from_section(cls, m, "config.tracker.siamfc")
        if cfg.num_scales < 1 or cfg.num_scales % 2 == 0:
            raise ConfigError(f"tracker.siamfc.num_scales={cfg.num_scales}: expected odd >= 1")
        if cfg.response_up < 1:
            raise ConfigError(f"tracker.siamfc.response_up={cfg.response_up}: expected >= 1")
        return cfg


class SiamFCTracking:
    """Crops and post-processing of the SiamFC tracker (pure JAX functions)."""

    kind = "siamfc"

    def __init__(self, spec: ModelSpec, config: SiamFCConfig):
        self.config = c = config
        self.geometry = CropGeometry(c.template_size, c.search_size, c.num_scales)
        self.response_size = r = response_size(spec, c.template_size, c.search_size)
        self.up_size = up = r * c.response_up
        half = c.num_scales // 2
        self.scale_factors = (c.scale_step ** np.arange(-half, half + 1)).astype(np.float32)
        penalties = np.full(c.num_scales, c.scale_penalty, np.float32)
        penalties[half] = 1.0
        self.penalties = penalties  # [S]
        self.upsample = S.cubic_resize_matrix(r, up)  # [U, R]
        window = S.hann_window(up)
        self.window = (window / window.sum()).astype(np.float32)  # [U, U]

    def search_side(self, size: jax.Array) -> jax.Array:
        """Search crop side s_x for a target size `[2]` (scale 1)."""
        c = self.config
        return context_side(size[0], size[1], c.context) * (c.search_size / c.template_size)

    def template_crop(self, frame: jax.Array, box: jax.Array):
        """`(z [1, T, T, 3], state without kernels)` for an initial box `[4]`."""
        c = self.config
        state = S.initial_state(frame, box, c.min_size)
        side = context_side(state.size[0], state.size[1], c.context)
        z = crop_jax(frame, state.center, side, c.template_size, state.fill)
        return z[None], state

    def search_crops(self, state: S.TrackState, frame: jax.Array) -> jax.Array:
        """The scale pyramid `[S, X, X, 3]` around the current centre."""
        sides = self.search_side(state.size) * jnp.asarray(self.scale_factors)
        crop = lambda side: crop_jax(frame, state.center, side, self.config.search_size, state.fill)
        return jax.vmap(crop)(sides)

    def update(self, state: S.TrackState, outputs: dict, frame_hw) -> tuple:
        """Network outputs -> `(new state, box [4], score)`."""
        c = self.config
        up_m = jnp.asarray(self.upsample)
        responses = outputs["response"].astype(jnp.float32)  # [S, R, R]
        up = jnp.einsum("ij,sjk,lk->sil", up_m, responses, up_m)  # [S, U, U]
        penalised = up * jnp.asarray(self.penalties)[:, None, None]
        best = jnp.argmax(jnp.max(penalised, axis=(1, 2)))
        chosen = penalised[best]  # [U, U]
        chosen = chosen - jnp.min(chosen)
        chosen = chosen / (jnp.sum(chosen) + 1e-16)
        mixed = (1 - c.window_influence) * chosen + c.window_influence * jnp.asarray(self.window)
        flat = jnp.argmax(mixed)
        row, col = flat // self.up_size, flat % self.up_size
        score = jax.nn.sigmoid(up[best, row, col])
        # Peak displacement: upsampled px -> search-crop px -> image px.
        disp = jnp.stack([col, row]).astype(jnp.float32) - (self.up_size - 1) / 2  # [2] (x, y)
        factor = jnp.asarray(self.scale_factors)[best]
        side = self.search_side(state.size) * factor
        disp_image = disp * (STRIDE / c.response_up) * side / c.search_size
        scale = (1 - c.scale_lr) + c.scale_lr * factor
        center, size = S.clamp(
            state.center + disp_image, state.size * scale, state.min_size, frame_hw
        )
        new = S.keep_if_finite(state._replace(center=center, size=size), state)
        return new, S.output_box(new.center, new.size, frame_hw), score
