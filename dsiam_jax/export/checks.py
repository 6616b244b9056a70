"""Parity and speed checks of exported graphs against the JAX network.

- `JaxNetwork`: the jitted JAX template / track calls of a checkpoint's model,
  returning kernels in the ONNX layout (so both runtimes feed the same track step).
- `compare`: runs the JAX network and an `OnnxNetwork` on the same crops and
  reports, per output (kernels and head outputs), the largest absolute difference
  and the relative one, `max |onnx - jax| / max |jax|` (elementwise relative
  errors are meaningless where an output crosses zero).
- `time_call`: median seconds per call after warm-up.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from dsiam_jax import models
from dsiam_jax.export.onnx_graphs import jax_kernels_to_onnx
from dsiam_jax.models.spec import ModelSpec


class JaxNetwork:
    """The JAX template / track calls of one model (jitted, inference mode).

    `track` is the JAX tracker's own network call (`tracking.network.jax_network`:
    on CPU a loop over the scales, its faster lowering), so its timing is the
    JAX backend's; `reference` computes both branches in one compiled call.
    """

    def __init__(
        self,
        spec: ModelSpec,
        variables: Mapping[str, Any],
        lowering: models.Lowering | None = None,
    ):
        self.spec = spec
        self.lowering = lowering or models.Lowering.for_backend()
        self.model = models.build(spec, lowering=self.lowering)
        self.variables = jax.device_put(dict(variables))
        self._template = jax.jit(functools.partial(models.template_branch, self.model))
        self._tracks: dict[int, Any] = {}
        model = self.model

        def both(v, z, x):
            k = models.template_branch(model, v, z)
            return k, models.head(model, v, k, models.search_branch(model, v, x))

        self._both = jax.jit(both)  # one compile for parity checks

    def template(self, z: np.ndarray):
        """Template crop `[1, Z, Z, 3]` -> JAX kernels (the head's own layout)."""
        return self._template(self.variables, z)

    def track(self, x: np.ndarray, kernels) -> dict[str, np.ndarray]:
        """Search crops `[S, X, X, 3]` + JAX kernels -> head outputs (NumPy)."""
        scales = int(x.shape[0])
        if scales not in self._tracks:
            from dsiam_jax.tracking.network import CropGeometry, jax_network

            geometry = CropGeometry(0, int(x.shape[1]), scales)
            network = jax_network(self, geometry, self.lowering)
            self._tracks[scales] = network.jit(network.search)
        out = self._tracks[scales](self.variables, kernels, x)
        return {k: np.asarray(v) for k, v in out.items()}

    def reference(self, z: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
        """Kernels (ONNX layout) and head outputs of one (template, search) pair."""
        kernels, out = self._both(self.variables, z, x)
        return {**self.onnx_kernels(kernels), **{k: np.asarray(v) for k, v in out.items()}}

    def onnx_kernels(self, kernels) -> dict[str, np.ndarray]:
        return jax_kernels_to_onnx(self.spec, kernels)


def diff(onnx_out: np.ndarray, jax_out: np.ndarray) -> dict[str, float]:
    """`{'max_abs', 'max_rel'}` of two arrays of the same shape (rel to max |jax|)."""
    a, b = np.asarray(onnx_out, np.float64), np.asarray(jax_out, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: onnx {a.shape} vs jax {b.shape}")
    max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return {"max_abs": max_abs, "max_rel": max_abs / scale if scale > 0 else max_abs}


def _worst(a: Mapping[str, float] | None, b: Mapping[str, float]) -> dict[str, float]:
    if a is None:
        return dict(b)
    return {k: max(a[k], b[k]) for k in b}


def compare(
    jax_net: JaxNetwork,
    net: Any,
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
) -> dict[str, dict[str, float]]:
    """Worst differences over `pairs` of (template, search) crops, per output name.

    `net` is an exported network (ONNX or TFLite) with `template(z)` / `track(x, k)`.

    Kernels are compared directly; head outputs come from each runtime's own
    kernels (the end-to-end path a tracker takes).
    """
    worst: dict[str, dict[str, float]] = {}
    for z, x in pairs:
        ref = jax_net.reference(z, x)
        kernels = net.template(z)
        got = {**kernels, **net.track(x, kernels)}
        for name in got:
            worst[name] = _worst(worst.get(name), diff(got[name], ref[name]))
    return worst


def max_rel(diffs: Mapping[str, Mapping[str, float]]) -> float:
    """The largest relative difference over all outputs."""
    return max((d["max_rel"] for d in diffs.values()), default=0.0)


def time_call(fn: Callable[[], Any], repeats: int = 10, warmup: int = 2) -> float:
    """Median seconds per call of `fn` (its result blocked on), after `warmup` calls."""
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_network(net: Any, z: np.ndarray, x: np.ndarray, repeats: int = 10) -> dict[str, float]:
    """Network-only speed of a JAX / ONNX / TFLite network: `{template_ms, track_ms, fps}`.

    `track_ms` is one tracking frame (all `x.shape[0]` scales); fps = 1 / track time.
    """
    kernels = net.template(z)
    t_template = time_call(lambda: net.template(z), repeats)
    t_track = time_call(lambda: net.track(x, kernels), repeats)
    return {"template_ms": 1e3 * t_template, "track_ms": 1e3 * t_track, "fps": 1.0 / t_track}


def variant_row(
    jax_net: JaxNetwork,
    net: Any,
    files: Mapping[str, int],
    random_pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    real_pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    z: np.ndarray,
    x: np.ndarray,
    repeats: int,
) -> dict[str, Any]:
    """The `export.json` entry of one exported variant (ONNX or TFLite): file sizes,
    worst differences to JAX on random and real crops, and network speed."""
    row: dict[str, Any] = {
        "files": dict(files),
        "bytes": sum(files.values()),
        "megabytes": sum(files.values()) / 1e6,
        "random": compare(jax_net, net, random_pairs),
    }
    if real_pairs:
        row["real"] = compare(jax_net, net, real_pairs)
    row["max_rel"] = max(max_rel(row["random"]), max_rel(row.get("real", {})))
    if repeats > 0:
        row.update(time_network(net, z, x, repeats))
    return row
