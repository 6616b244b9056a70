"""A tracker = crops + network + post-processing, as pure jitted functions.

    tracker = build_tracker(model, config.tracker)          # model: TrackerModel
    state = tracker.init(frame, (x, y, w, h))               # frame: RGB uint8 [H, W, 3]
    state, box, score = tracker.track(state, frame)         # box: np [4], score: float

The pure functions behind it, usable under `jax.jit`, `jax.vmap`, `lax.scan`:

    state = tracker.init_fn(params, frame, box)                   # frame uint8, box f32 [4]
    state, box, score = tracker.track_fn(params, state, frame)

`track_fn` is crop on device -> `network.search` -> post-processing -> box
update: one compiled function per frame size (`tracker.track_jit`), no host round
trip inside a frame. A non-jittable network (`TrackerNetwork.jittable=False`, e.g.
onnxruntime) is called between the jitted crop and the jitted post-processing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.network import (
    JAX_BACKENDS,
    CropGeometry,
    TrackerNetwork,
    make_network,
    resolve_backend,
)
from dsiam_jax.tracking.siamfc import SiamFCConfig, SiamFCTracking
from dsiam_jax.tracking.siamrpn import SiamRPNConfig, SiamRPNTracking
from dsiam_jax.tracking.state import TrackState

RUNTIME_KEYS = ("scales_impl",)  # tracker-config keys that pick a lowering, not a result


def crop_geometry(kind: str, tracker_config: Mapping[str, Any] | None = None) -> CropGeometry:
    """The crop sizes the `kind` tracker runs at, from `config.tracker` (or defaults)."""
    section = dict(tracker_config or {}).get(kind)
    if kind == "siamfc":
        c = SiamFCConfig.from_mapping(section)
        return CropGeometry(c.template_size, c.search_size, c.num_scales)
    if kind == "siamrpn":
        c = SiamRPNConfig.from_mapping(section)
        return CropGeometry(c.template_size, c.search_size, c.num_scales)
    raise ConfigError(f"no tracker for model kind {kind!r}")


def make_algorithm(spec, tracker_config: Mapping[str, Any] | None = None):
    """The crop/post-processing half for `spec.kind` from `config.tracker` (or defaults)."""
    section = dict(tracker_config or {}).get(spec.kind)
    if spec.kind == "siamfc":
        return SiamFCTracking(spec, SiamFCConfig.from_mapping(section))
    if spec.kind == "siamrpn":
        return SiamRPNTracking(spec, SiamRPNConfig.from_mapping(section))
    raise ConfigError(f"no tracker for model kind {spec.kind!r}")


class Tracker:
    """One model's tracker. Attributes `algorithm`, `network`, `params`, `name`."""

    def __init__(self, algorithm, network: TrackerNetwork, params: Any, name: str = "tracker"):
        self.algorithm = algorithm
        self.network = network
        self.params = params
        self.name = name
        self.kind = algorithm.kind
        self.geometry = algorithm.geometry
        if network.jittable:
            self.init_jit = network.jit(self.init_fn)
            self.track_jit = network.jit(self.track_fn)
        self._template_crop = jax.jit(algorithm.template_crop)
        self._search_crops = jax.jit(algorithm.search_crops)
        self._update = jax.jit(algorithm.update, static_argnums=2)
        self._warm: set[tuple[int, ...]] = set()

    # Pure functions.
    def init_fn(self, params, frame: jax.Array, box: jax.Array) -> TrackState:
        """Initial state from a frame `[H, W, 3]` and a checked box `[4]` (x, y, w, h)."""
        z, state = self.algorithm.template_crop(frame, box)
        return state._replace(kernels=self.network.template(params, z))

    def track_fn(self, params, state: TrackState, frame: jax.Array):
        """One frame: `(new state, box [4] float32, score [] float32)`."""
        x = self.algorithm.search_crops(state, frame)
        outputs = self.network.search(params, state.kernels, x)
        return self.algorithm.update(state, outputs, frame.shape[:2])

    # Host API (checks inputs, runs the compiled functions).
    def init(self, frame: Any, box: Any) -> TrackState:
        """Starts tracking `box` (x, y, w, h) in `frame` (array or PIL image, any channels)."""
        frame = F.prepare_frame(frame)
        box = F.check_init_box(box, frame.shape[:2]).astype(np.float32)
        if self.network.jittable:
            return self.init_jit(self.params, frame, box)
        z, state = self._template_crop(frame, box)
        kernels = self.network.template(self.params, z)
        return state._replace(kernels=jax.tree_util.tree_map(jnp.asarray, kernels))

    def track(self, state: TrackState, frame: Any) -> tuple[TrackState, np.ndarray, float]:
        """Tracks into `frame`: `(state, box np [4] (x, y, w, h), score float)`."""
        frame = F.prepare_frame(frame)
        state, box, score = self.track_device(state, frame)
        return state, np.asarray(box, np.float64), float(score)

    def track_device(self, state: TrackState, frame: np.ndarray):
        """`track` on a prepared uint8 frame, results left on device (no host sync)."""
        if self.network.jittable:
            return self.track_jit(self.params, state, frame)
        x = self._search_crops(state, frame)
        outputs = self.network.search(self.params, state.kernels, x)  # host arrays
        # Passed to the jitted update as they are: its dispatch uploads them (a separate
        # `jnp.asarray` per output cost 0.17 ms of a 7.5 ms int8 student step).
        return self._update(state, outputs, tuple(frame.shape[:2]))

    def warmup(self, frame_shape: tuple[int, ...]) -> None:
        """Compiles init and track for frames of `frame_shape` (once per shape)."""
        shape = tuple(int(s) for s in frame_shape)
        if shape in self._warm:
            return
        frame = np.zeros(shape, np.uint8)
        box = np.asarray([0, 0, max(shape[1] // 4, 1), max(shape[0] // 4, 1)], np.float32)
        state = self.init(frame, box)
        jax.block_until_ready(self.track_device(state, frame))
        self._warm.add(shape)

    def network_seconds(self, repeats: int = 10, stat: str = "median") -> float:
        """Seconds of one `network.search` call on this tracker's crops (warm).

        `stat`: 'median' or 'min' of `repeats` calls (min resists a busy machine).
        """
        g = self.geometry
        z = np.full((1, g.template_size, g.template_size, 3), 128, np.float32)
        x = np.random.default_rng(0).uniform(
            0, 255, (g.num_scales, g.search_size, g.search_size, 3)
        )
        x = x.astype(np.float32)
        if self.network.jittable:
            template = self.network.jit(self.network.template)
            search = self.network.jit(self.network.search)
        else:
            template, search = self.network.template, self.network.search
        kernels = jax.block_until_ready(template(self.params, z))
        for _ in range(2):
            jax.block_until_ready(search(self.params, kernels, x))
        times = []
        for _ in range(max(repeats, 1)):
            t0 = time.perf_counter()
            jax.block_until_ready(search(self.params, kernels, x))
            times.append(time.perf_counter() - t0)
        return float(np.min(times) if stat == "min" else np.median(times))


def build_tracker(
    model,
    tracker_config: Mapping[str, Any] | None = None,
    backend: str = "jax",
    network: TrackerNetwork | None = None,
    **network_options,
) -> Tracker:
    """A `Tracker` for a `TrackerModel` and the `config.tracker` section (None = defaults).

    `network` replaces the backend's network (any `TrackerNetwork`); otherwise it
    comes from `BACKENDS[backend]`. The JAX backend takes `xcorr_impl`, `conv1_split`,
    `conv1_s2d`, `winograd`, `conv_library` and `scales_impl` options (speed only);
    `scales_impl` also comes from `tracker_config['scales_impl']`.
    """
    algorithm = make_algorithm(model.spec, tracker_config)
    cfg = dict(tracker_config or {})
    if network is None:
        backend = resolve_backend(backend, model_info=getattr(model, "info", None))
        if backend in JAX_BACKENDS:
            options = {k: cfg[k] for k in RUNTIME_KEYS if k in cfg}
            options.update(network_options)
        else:
            options = dict(network_options)
        network = make_network(model, algorithm.geometry, backend, **options)
    params = model.variables
    if network.jittable:
        params = jax.device_put(jax.tree_util.tree_map(jnp.asarray, params))
    return Tracker(algorithm, network, params, name=getattr(model, "name", "tracker"))
