"""What the SiamFC and SiamRPN trackers share: their config sections and the template crop.

A tracking algorithm is the crop / post-processing half of a tracker
(`tracker.make_algorithm`): `template_crop` (frame 1), `search_crops`, `update`.
Both kinds crop the template the same way (side s_z = sqrt((w+p)(h+p)),
p = context (w+h), at the box centre, `crops.context_side`) and the search region
at s_x = s_z * X / T; they differ in the search crops (scale pyramid or one crop)
and in the post-processing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import jax

from dsiam_jax.config_sections import dataclass_from_section
from dsiam_jax.crops import context_side, crop_jax
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


class CropTracking:
    """Base of `SiamFCTracking` / `SiamRPNTracking`: search side and template crop.

    A subclass sets `kind` and `self.config` (a `TrackerSettings`) and defines
    `search_crops` and `update`.
    """

    kind: ClassVar[str]
    config: Any  # the kind's TrackerSettings

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
