"""A tracker whose tunable inference settings are traced inputs, not compile-time constants.

    tracker = TunableTracker(build_tracker(model, config.tracker))
    tracker.set_settings({"window_influence": 0.3, "scale_lr": 0.5})
    result = run_sequence(tracker, seq)   # or track_batched / StepTracker: same compiled code

`Tracker` bakes its algorithm's settings into the compiled step as constants, so a
new window influence would recompile it. Here the settings named in
`TUNABLE_SETTINGS` travel inside the params pytree (`params["settings"]`, float32
scalars) and the step rebuilds the algorithm's config from them while tracing: every
runner (`run_sequence`, `track_batched`, `StepTracker`) passes `tracker.params` at
call time, so changing the settings reuses the compiled step (mode=tune).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from dsiam_jax.errors import ConfigError, InputFileError
from dsiam_jax.tracking.state import TrackState
from dsiam_jax.tracking.tracker import Tracker

# Inference settings searched by mode=tune, per model kind (`config.tracker.<kind>` fields).
TUNABLE_SETTINGS: dict[str, tuple[str, ...]] = {
    "siamfc": ("window_influence", "scale_penalty", "scale_lr"),
    "siamrpn": ("penalty_k", "window_influence", "lr"),
}


def tuned_tracker_config(
    tracker_config: Mapping[str, Any] | None, tuned: str | os.PathLike | Mapping | None
) -> dict[str, Any]:
    """`config.tracker` as a plain dict with tuned settings applied.

    `tuned`: a `best_tracker.json` written by mode=tune (`config.tracker_from`), or
    its `tracker` mapping `{kind: {setting: value}}`; '' / None = no change.
    """
    base = json.loads(json.dumps(_plain(tracker_config or {})))  # a deep, plain copy
    if not tuned:
        return base
    if isinstance(tuned, str | os.PathLike):
        path = pathlib.Path(tuned).expanduser()
        if not path.is_file():
            raise InputFileError(f"config.tracker_from={str(tuned)!r}: no such file")
        try:
            tuned = json.loads(path.read_text())["tracker"]
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(
                f"config.tracker_from={str(tuned)!r}: not a best_tracker.json of mode=tune ({e})"
            ) from None
    for kind, values in dict(tuned).items():
        names = TUNABLE_SETTINGS.get(kind, ())
        if not names or not isinstance(values, Mapping) or set(values) - set(names):
            raise ConfigError(
                f"tuned settings {kind}: {values!r}: expected a kind of {sorted(TUNABLE_SETTINGS)} "
                f"with some of its tunable settings {TUNABLE_SETTINGS.get(kind, '')} and values"
            )
        base[kind] = {**base.get(kind, {}), **{k: float(v) for k, v in values.items()}}
    return base


def _plain(tree: Any) -> Any:
    if isinstance(tree, Mapping) or hasattr(tree, "items"):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [_plain(v) for v in tree]
    return tree


class TunableTracker(Tracker):
    """`tracker` with its `TUNABLE_SETTINGS` as traced values (`params["settings"]`)."""

    def __init__(self, tracker: Tracker):
        if not tracker.network.jittable:
            raise ConfigError(
                f"tuning needs a jittable network (backend jax or jax_bf16); "
                f"{tracker.network.name!r} is not"
            )
        self.names = TUNABLE_SETTINGS[tracker.kind]
        self.base_config = tracker.algorithm.config
        initial = {n: getattr(self.base_config, n) for n in self.names}
        params = {"network": tracker.params, "settings": self._arrays(initial)}
        super().__init__(tracker.algorithm, tracker.network, params, tracker.name)

    def _arrays(self, values: Mapping[str, float]) -> dict[str, np.ndarray]:
        unknown = sorted(set(values) - set(self.names))
        if unknown:
            raise ConfigError(
                f"{unknown} are not tunable settings of {self.kind} (tunable: {self.names})"
            )
        current = getattr(self, "params", {}).get("settings", {})
        out = {n: np.asarray(current[n], np.float32) for n in current}
        out.update({n: np.asarray(v, np.float32) for n, v in values.items()})
        return out

    def set_settings(self, values: Mapping[str, float]) -> None:
        """Sets some of the tunable settings (the others keep their values)."""
        self.params = {"network": self.params["network"], "settings": self._arrays(values)}

    def settings(self) -> dict[str, float]:
        """The current tunable settings as Python floats."""
        return {n: float(v) for n, v in self.params["settings"].items()}

    def _algorithm(self, settings: Mapping[str, jax.Array]):
        algorithm = copy.copy(self.algorithm)
        algorithm.config = dataclasses.replace(self.base_config, **settings)
        return algorithm

    def init_fn(self, params, frame: jax.Array, box: jax.Array) -> TrackState:
        """`Tracker.init_fn` (the template crop uses no tunable setting)."""
        return super().init_fn(params["network"], frame, box)

    def track_fn(self, params, state: TrackState, frame: jax.Array):
        """`Tracker.track_fn` with the settings of `params["settings"]`."""
        algorithm = self._algorithm(params["settings"])
        x = algorithm.search_crops(state, frame)
        outputs = self.network.search(params["network"], state.kernels, x)
        return algorithm.update(state, outputs, frame.shape[:2])

    def network_seconds(self, repeats: int = 10, stat: str = "median") -> float:
        """`Tracker.network_seconds` of the network alone."""
        plain = Tracker(self.algorithm, self.network, self.params["network"], self.name)
        return plain.network_seconds(repeats, stat)
