"""What the SiamFC and SiamRPN trackers share: their config sections and the template crop.

A tracking algorithm is the crop / post-processing half of a tracker
(`tracker.make_algorithm`): `template_crop` (frame 1), `search_crops`, `update`.
Both may search a scale pyramid (`scale_factors`, `best_scale`).
Both kinds crop the template the same way (side s_z = sqrt((w+p)(h+p)),
p = context (w+h), at the box centre, `crops.context_side`) and the search region
at s_x = s_z * X / T; they differ in the search crops (scale pyramid or one crop)
and in the post-processing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.config_sections import dataclass_from_section
from dsiam_jax.crops import context_side, crop_jax
from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking import state as S


class TrackerSettings:
    """Base of the frozen tracker config dataclasses (`SiamFCConfig`, `SiamRPNConfig`).

    A subclass sets `kind` (its section: `config.tracker.<kind>`) and has the fields
    `template_size`, `search_size`, `context` and `min_size`; `check` adds its own
    value checks.
    """

    kind: ClassVar[str]

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any] | None) -> Self:
        """The settings from the `config.tracker.<kind>` section (None: the defaults)."""
        settings = dataclass_from_section(cls, m, f"config.tracker.{cls.kind}")
        settings.check()
        return settings

    def check(self) -> None:
        """Raises `ConfigError` for values the tracker cannot run with (none here)."""

    def check_pyramid(self) -> None:
        """For a subclass with a scale pyramid (`num_scales`, `scale_penalty`): an odd
        number of scales >= 1 and a positive scale penalty."""
        section = f"tracker.{self.kind}"
        if self.num_scales < 1 or self.num_scales % 2 == 0:
            raise ConfigError(f"{section}.num_scales={self.num_scales}: expected odd >= 1")
        if not self.scale_penalty > 0:
            raise ConfigError(
                f"{section}.scale_penalty={self.scale_penalty}: expected > 0 (a factor)"
            )


def scale_factors(num_scales: int, step: float) -> np.ndarray:
    """A scale pyramid's crop-side factors `[S]`: step^(-S//2 .. S//2), float32."""
    half = num_scales // 2
    return (step ** np.arange(-half, half + 1)).astype(np.float32)


def best_scale(peaks: jax.Array, scale_penalty) -> jax.Array:
    """Index of the pyramid's chosen crop: the highest of `peaks [S]` once the side
    crops' are multiplied by `scale_penalty` (the middle one on a tie). The penalty is
    applied here so that it may be a traced value (`dsiam_jax.tracking.tunable`)."""
    n = peaks.shape[0]
    middle = jnp.arange(n) == n // 2
    penalties = jnp.where(middle, 1.0, scale_penalty).astype(jnp.float32)  # [S]
    return S.first_argmax(peaks * penalties)


class CropTracking:
    """Base of `SiamFCTracking` / `SiamRPNTracking`: search side and template crop.

    A subclass sets `kind`, `self.config` (a `TrackerSettings`) and
    `self.scale_factors` (`scale_factors`; [1.0] without a pyramid) and defines
    `update`.
    """

    kind: ClassVar[str]
    config: Any  # the kind's TrackerSettings
    scale_factors: np.ndarray  # [S] crop-side factors of the scale pyramid

    def search_crops(self, state: S.TrackState, frame: jax.Array) -> jax.Array:
        """The search crops `[S, X, X, 3]` around the current centre, of sides s_x times
        `scale_factors`."""
        sides = self.search_side(state.size) * jnp.asarray(self.scale_factors)
        crop = lambda side: crop_jax(frame, state.center, side, self.config.search_size, state.fill)
        return jax.vmap(crop)(sides)

    def search_side(self, size: jax.Array) -> jax.Array:
        """Search crop side s_x for a target size `[2]` (scale 1)."""
        c = self.config
        return context_side(size[0], size[1], c.context) * (c.search_size / c.template_size)

    def template_crop(self, frame: jax.Array, box: jax.Array) -> tuple[jax.Array, S.TrackState]:
        """`(z [1, T, T, 3], state without kernels)` for an initial box `[4]`."""
        c = self.config
        state = S.initial_state(frame, box, c.min_size)
        side = context_side(state.size[0], state.size[1], c.context)
        return crop_jax(frame, state.center, side, c.template_size, state.fill)[None], state
