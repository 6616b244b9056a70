"""The network half of a tracker, separate from crops and post-processing.

A tracker is `crop -> network -> postprocess`. The network part is a
`TrackerNetwork`: two functions of the crops only,

- `template(params, z)`: template crop `z [1, T, T, 3]` float32 (0..255 RGB) ->
  kernels (any pytree of arrays; kept in the tracking state),
- `search(params, kernels, x)`: search crops `x [S, X, X, 3]` float32 (S scales,
  1 for SiamRPN) -> `{'response': [S, R, R]}` (SiamFC) or
  `{'cls': [S, R, R, 2k], 'reg': [S, R, R, 4k]}` (SiamRPN, the head's layout:
  cls channel = class * k + anchor, reg channel = coord * k + anchor).

`jittable=True` means both are traceable JAX functions: the tracker then jits
crop + network + post-processing into one compiled function per frame. With
`jittable=False` (e.g. an onnxruntime session called on NumPy arrays) the tracker
runs the jitted crop, calls the network on the host, then runs the jitted
post-processing; everything else is shared.

Backends are looked up by name in `BACKENDS` (`config.backend`), as
`"module:function"` strings imported lazily, like `dsiam_jax.jobs.MODES`. A
backend factory is `factory(model: TrackerModel, geometry: CropGeometry, **options)
-> TrackerNetwork`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import jax
from jax import lax

from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError

# backend name -> "module:function" (a factory as described above).
BACKENDS: dict[str, str] = {
    "jax": "dsiam_jax.tracking.network:jax_network",
    # onnxruntime on the exported graphs (dsiam_jax/export/onnx_backend.py).
    "onnx": "dsiam_jax.export.onnx_backend:onnx_network",
    "onnx_fp16": "dsiam_jax.export.onnx_backend:onnx_fp16_network",
    "onnx_int8": "dsiam_jax.export.onnx_backend:onnx_int8_network",
    "onnx_qdq": "dsiam_jax.export.onnx_backend:onnx_qdq_network",
}

SCALES_IMPLS = ("auto", "map", "batch")


@dataclasses.dataclass(frozen=True)
class CropGeometry:
    """Crop sizes a tracker feeds its network with (fixes the network's input shapes)."""

    template_size: int
    search_size: int
    num_scales: int  # search crops per frame (SiamFC scale pyramid; 1 for SiamRPN)


@dataclasses.dataclass(frozen=True)
class TrackerNetwork:
    """Template and search functions of a tracker network (see the module docstring)."""

    template: Callable[[Any, jax.Array], Any]
    search: Callable[[Any, Any, jax.Array], dict[str, jax.Array]]
    jittable: bool = True
    name: str = "jax"


def resolve_scales_impl(impl: str, num_scales: int) -> str:
    """'map' (a loop of batch-1 forwards) or 'batch' (one forward of S crops).

    XLA:CPU runs a batch of 3 search crops slower than three single crops (SiamFC
    teacher, 2 cores: 348 ms batched vs 234 ms as `lax.map`), so 'auto' picks
    'map' on CPU and 'batch' on accelerators.
    """
    if impl not in SCALES_IMPLS:
        raise ConfigError(f"tracker.scales_impl={impl!r}: expected one of {SCALES_IMPLS}")
    if num_scales <= 1:
        return "batch"
    if impl == "auto":
        return "map" if jax.default_backend() == "cpu" else "batch"
    return impl


def jax_network(
    model,
    geometry: CropGeometry,
    xcorr_impl: str = "auto",
    conv1_split: int | str = "auto",
    scales_impl: str = "auto",
) -> TrackerNetwork:
    """The Flax network of a `TrackerModel` (params = its variables tree)."""
    net = M.build(model.spec, xcorr_impl, conv1_split)
    impl = resolve_scales_impl(scales_impl, geometry.num_scales)

    def template(params, z: jax.Array):
        return M.template_branch(net, params, z)

    def search_batch(params, kernels, x: jax.Array) -> dict[str, jax.Array]:
        return M.head(net, params, kernels, M.search_branch(net, params, x))

    def search(params, kernels, x: jax.Array) -> dict[str, jax.Array]:
        if impl == "batch":
            return search_batch(params, kernels, x)
        outs = lax.map(lambda xi: search_batch(params, kernels, xi[None]), x)
        return jax.tree_util.tree_map(lambda o: o[:, 0], outs)  # [S, 1, ...] -> [S, ...]

    return TrackerNetwork(template, search, jittable=True, name="jax")


def make_network(model, geometry: CropGeometry, backend: str = "jax", **options) -> TrackerNetwork:
    """The network of `model` for `backend` (a key of `BACKENDS`)."""
    if backend not in BACKENDS:
        raise ConfigError(f"config.backend={backend!r}: expected one of {sorted(BACKENDS)}")
    module, _, func = BACKENDS[backend].partition(":")
    try:
        factory = getattr(importlib.import_module(module), func)
    except ImportError as e:
        raise ConfigError(f"config.backend={backend!r} is not available here: {e}") from e
    return factory(model, geometry, **options)
