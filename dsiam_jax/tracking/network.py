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
import importlib.util
import math
from collections.abc import Callable, Mapping
from typing import Any

import jax
from absl import logging
from jax import lax

from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError

# backend name -> "module:function" (a factory as described above).
BACKENDS: dict[str, str] = {
    "jax": "dsiam_jax.tracking.network:jax_network",
    # The same network with convs and activations in bfloat16 (train.compute_dtype).
    "jax_bf16": "dsiam_jax.tracking.network:jax_bf16_network",
    # onnxruntime on the exported graphs (dsiam_jax/export/onnx_backend.py).
    "onnx": "dsiam_jax.export.onnx_backend:onnx_network",
    "onnx_fp16": "dsiam_jax.export.onnx_backend:onnx_fp16_network",
    "onnx_int8": "dsiam_jax.export.onnx_backend:onnx_int8_network",
    "onnx_qdq": "dsiam_jax.export.onnx_backend:onnx_qdq_network",
}
# The backends built by `jax_network`: they take its lowering options (RUNTIME_KEYS).
JAX_BACKENDS = ("jax", "jax_bf16")
# `config.backend='auto'`: the fastest backend installed for the platform whose boxes
# can be trusted. On CPU that is onnxruntime (benchmarks/results/deploy.json: the float32
# graphs run the whole tracking step 1.3x (teacher) to 2x (quarter-width student) faster
# than XLA:CPU, with the JAX tracker's boxes); elsewhere JAX. Int8 (QDQ) graphs are
# faster still (1.5-2.3x float32 onnxruntime) but change the boxes, so auto picks them
# only for a model whose record says they track as well: `TrackerModel.info
# ['backend_check']` (written by mode=publish) holding a success-AUC change against the
# JAX tracker within QUANTIZED_AUC_TOLERANCE on the synthetic test split. Jobs that
# need a jittable network (tuning, batched evaluation) ask for JAX.
AUTO = "auto"
QUANTIZED = "onnx_qdq"
QUANTIZED_AUC_TOLERANCE = 0.005
_LOGGED_AUTO: set[tuple[str, str]] = set()


def quantized_auc_change(model_info: Mapping[str, Any] | None) -> float | None:
    """The recorded success-AUC change of `QUANTIZED` against JAX (None: not recorded)."""
    row = dict((model_info or {}).get("backend_check") or {}).get(QUANTIZED)
    if not row or "success_auc_change" not in row:
        return None
    change = float(row["success_auc_change"])
    return change if math.isfinite(change) else None


def resolve_backend(
    backend: str,
    platform: str | None = None,
    jittable: bool = False,
    model_info: Mapping[str, Any] | None = None,
) -> str:
    """`config.backend` -> a key of `BACKENDS` ('auto' resolved as above, logged once).

    `platform`: JAX's default backend ('cpu', 'gpu', 'tpu'; None = this process's);
    `jittable`: the caller needs a traceable network (JAX backends only);
    `model_info`: the model's `TrackerModel.info` (its quantisation record, if any).
    """
    if backend != AUTO:
        return backend
    platform = platform or jax.default_backend()
    chosen, why = "jax", f"JAX on {platform}"
    if jittable:
        why = "a jittable network is needed"
    elif platform == "cpu":
        if importlib.util.find_spec("onnxruntime") is not None:
            chosen, why = "onnx", "onnxruntime is installed and faster on CPU"
            change = quantized_auc_change(model_info)
            if change is not None and abs(change) <= QUANTIZED_AUC_TOLERANCE:
                chosen = QUANTIZED
                why = (
                    f"int8 onnxruntime, recorded success-AUC change {change:+.4f} against "
                    f"JAX (tolerance {QUANTIZED_AUC_TOLERANCE})"
                )
            elif change is not None:
                why += f"; int8 not used, recorded AUC change {change:+.4f}"
        else:
            why = "onnxruntime is not installed"
    if (chosen, why) not in _LOGGED_AUTO:
        _LOGGED_AUTO.add((chosen, why))
        logging.info("config.backend=auto: %s (%s)", chosen, why)
    return chosen


@dataclasses.dataclass(frozen=True)
class CropGeometry:
    """Crop sizes a tracker feeds its network with (fixes the network's input shapes)."""

    template_size: int
    search_size: int
    num_scales: int  # search crops per frame (SiamFC scale pyramid; 1 for SiamRPN)


@dataclasses.dataclass(frozen=True)
class TrackerNetwork:
    """Template and search functions of a tracker network (see the module docstring).

    `lowering`: the JAX network's choice of equal computations (None for others);
    batched tracking takes its choice from here.
    """

    template: Callable[[Any, jax.Array], Any]
    search: Callable[[Any, Any, jax.Array], dict[str, jax.Array]]
    jittable: bool = True
    name: str = "jax"
    lowering: M.Lowering | None = None
    # XLA compile options of programs that call the network (`Lowering.compiler_options`
    # at its per-call batch); None = XLA's defaults.
    compiler_options: dict[str, str] | None = None

    def jit(self, fn: Callable, **kwargs) -> Callable:
        """`jax.jit(fn)` with this network's compile options (`fn` calls the network)."""
        return jax.jit(fn, compiler_options=self.compiler_options, **kwargs)


def jax_network(
    model,
    geometry: CropGeometry,
    lowering: M.Lowering | None = None,
    *,
    xcorr_impl: str | None = None,
    conv1_split: int | str | None = None,
    conv1_s2d: str | None = None,
    scales_impl: str | None = None,
    winograd: str | None = None,
    conv_library: str | None = None,
    compute_dtype: str = "float32",
) -> TrackerNetwork:
    """The Flax network of a `TrackerModel` (params = its variables tree).

    `lowering` (default `Lowering.for_backend()`) picks the computations, among
    them the scale pyramid as one batch or a loop of single crops; the keywords
    force one of its fields (e.g. `tracker.scales_impl`). `compute_dtype`: the
    precision of convs and activations ('bfloat16': `jax_bf16_network`).
    """
    lowering = (lowering or M.Lowering.for_backend()).replace(
        xcorr_impl=xcorr_impl,
        conv1_split=conv1_split,
        conv1_s2d=conv1_s2d,
        scales_impl=scales_impl,
        winograd=winograd,
        conv_library=conv_library,
    )
    net = M.build(model.spec, lowering=lowering, compute_dtype=compute_dtype)
    impl = lowering.search_scales(geometry.num_scales)
    per_call = 1 if impl == "map" else geometry.num_scales  # search crops per network call

    def template(params, z: jax.Array):
        return M.template_branch(net, params, z)

    def search_batch(params, kernels, x: jax.Array) -> dict[str, jax.Array]:
        return M.head(net, params, kernels, M.search_branch(net, params, x))

    def search(params, kernels, x: jax.Array) -> dict[str, jax.Array]:
        if impl == "batch":
            return search_batch(params, kernels, x)
        outs = lax.map(lambda xi: search_batch(params, kernels, xi[None]), x)
        return jax.tree_util.tree_map(lambda o: o[:, 0], outs)  # [S, 1, ...] -> [S, ...]

    name = {"float32": "jax", "bfloat16": "jax_bf16"}[compute_dtype]
    options = lowering.compiler_options(per_call)
    return TrackerNetwork(template, search, True, name, lowering, options)


def jax_bf16_network(model, geometry: CropGeometry, **options) -> TrackerNetwork:
    """`jax_network` with convs and activations in bfloat16 (`config.backend=jax_bf16`)."""
    return jax_network(model, geometry, compute_dtype="bfloat16", **options)


def make_network(model, geometry: CropGeometry, backend: str = "jax", **options) -> TrackerNetwork:
    """The network of `model` for `backend` (a key of `BACKENDS`, or 'auto')."""
    backend = resolve_backend(backend, model_info=getattr(model, "info", None))
    if backend not in BACKENDS:
        choices = sorted([*BACKENDS, AUTO])
        raise ConfigError(f"config.backend={backend!r}: expected one of {choices}")
    module, _, func = BACKENDS[backend].partition(":")
    try:
        factory = getattr(importlib.import_module(module), func)
    except ImportError as e:
        raise ConfigError(f"config.backend={backend!r} is not available here: {e}") from e
    return factory(model, geometry, **options)
