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
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.anchors import STRIDE, response_size
from dsiam_jax.errors import ConfigError
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.tracking import state as S
from dsiam_jax.tracking.algorithm import CropTracking, TrackerSettings, best_scale, scale_factors
from dsiam_jax.tracking.network import CropGeometry


@dataclasses.dataclass(frozen=True)
class SiamFCConfig(TrackerSettings):
    """SiamFC tracking hyper-parameters: the `config.tracker.siamfc` section, whose
    defaults these are (SPEC section 2)."""

    kind: ClassVar[str] = "siamfc"
    template_size: int = 127
    search_size: int = 255
    context: float = 0.5  # template side sqrt((w+p)(h+p)), p = context * (w+h)
    num_scales: int = 3  # odd; scale factors scale_step^(-n//2 .. n//2)
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745  # multiplies the side scales' responses
    scale_lr: float = 0.59  # damping of the size change toward the chosen scale
    window_influence: float = 0.176  # Hann window weight on the normalised response
    response_up: int = 16  # bicubic upsampling of the 17x17 response
    min_size: float = 10.0  # px; sizes are clamped to [min(min_size, initial), frame]

    def check(self) -> None:
        """An odd number of scales >= 1, an upsampling factor >= 1, a positive scale penalty."""
        self.check_pyramid()
        if self.response_up < 1:
            raise ConfigError(f"tracker.siamfc.response_up={self.response_up}: expected >= 1")


class SiamFCTracking(CropTracking):
    """Crops and post-processing of the SiamFC tracker (pure JAX functions)."""

    kind = "siamfc"

    def __init__(self, spec: ModelSpec, config: SiamFCConfig):
        self.config = c = config
        self.geometry = CropGeometry(c.template_size, c.search_size, c.num_scales)
        self.response_size = r = response_size(spec, c.template_size, c.search_size)
        self.up_size = up = r * c.response_up
        self.scale_factors = scale_factors(c.num_scales, c.scale_step)
        self.upsample = S.cubic_resize_matrix(r, up)  # [U, R]
        window = S.hann_window(up)
        self.window = (window / window.sum()).astype(np.float32)  # [U, U]

    def update(self, state: S.TrackState, outputs: dict, frame_hw) -> tuple:
        """Network outputs -> `(new state, box [4], score)`."""
        c = self.config
        up_m = jnp.asarray(self.upsample)
        responses = outputs["response"].astype(jnp.float32)  # [S, R, R]
        up = jnp.einsum("ij,sjk,lk->sil", up_m, responses, up_m)  # [S, U, U]
        # The side scales' penalty: a positive factor commutes with the max and cancels
        # in the normalisation below, so only the peaks are penalised.
        best = best_scale(jnp.max(up.reshape(c.num_scales, -1), axis=1), c.scale_penalty)
        chosen = up[best]  # [U, U]
        chosen = chosen - jnp.min(chosen)
        chosen = chosen * ((1 - c.window_influence) / (jnp.sum(chosen) + 1e-16))
        mixed = chosen + c.window_influence * jnp.asarray(self.window)
        flat = S.first_argmax(mixed)
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
