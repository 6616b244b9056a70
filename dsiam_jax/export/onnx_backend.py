"""onnxruntime tracking backend: the tracker's network calls on the exported graphs.

    --config.backend=onnx         float32 graphs (boxes equal the JAX tracker's)
    --config.backend=onnx_fp16    fp16-stored weights (float32 compute)
    --config.backend=onnx_int8    int8 weight-only (float32 compute)
    --config.backend=onnx_qdq     int8 weights and activations (calibrated; fastest)

Registered in `dsiam_jax.tracking.network.BACKENDS`; the tracker keeps its
jitted crops and post-processing and calls these host functions in between
(`TrackerNetwork(jittable=False)`). The graphs are built in memory from the
checkpoint's variables (BatchNorm folded, exactly what `mode=export` writes),
with the search batch fixed to the tracker's number of scales; `params` is
unused (the weights are inside the graphs). Kernels stay in the ONNX layout in
the tracking state.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from dsiam_jax.export import onnx_graphs, quantize, samples
from dsiam_jax.export.fold import fold
from dsiam_jax.export.runtime import DEFAULT_THREADS, OnnxNetwork
from dsiam_jax.tracking.network import CropGeometry, TrackerNetwork


def build_onnx_network(
    model, geometry: CropGeometry, weights: str = "fp32", threads: int = DEFAULT_THREADS
) -> OnnxNetwork:
    """onnxruntime sessions of `model` (a `TrackerModel`) for the tracker's crop sizes."""
    net = fold(model.spec, model.variables)
    z_size, x_size, scales = geometry.template_size, geometry.search_size, geometry.num_scales
    stored = "fp32" if weights == "qdq" else weights
    template = onnx_graphs.template_graph(net, z_size, weights=stored)
    track = onnx_graphs.track_graph(net, x_size, z_size, weights=stored, batch=scales)
    if weights == "qdq":
        pairs = samples.real_pairs(z_size, x_size, scales) or [
            samples.random_pair(z_size, x_size, scales, seed=s) for s in range(2)
        ]
        ref = OnnxNetwork.from_models(template, track, threads)
        track = quantize.quantize_qdq(track, [{"search": x, **ref.template(z)} for z, x in pairs])
    return OnnxNetwork.from_models(template, track, threads)


def onnx_network(
    model, geometry: CropGeometry, weights: str = "fp32", threads: int = DEFAULT_THREADS
) -> TrackerNetwork:
    """The `TrackerNetwork` factory behind `config.backend='onnx'` (and its variants)."""
    session = build_onnx_network(model, geometry, weights, threads)

    def template(params: Any, z) -> dict[str, np.ndarray]:
        del params
        return session.template(np.asarray(z, np.float32))

    def search(params: Any, kernels, x) -> dict[str, np.ndarray]:
        del params
        kernels = {k: np.asarray(v, np.float32) for k, v in kernels.items()}
        return session.track(np.asarray(x, np.float32), kernels)

    name = "onnx" if weights == "fp32" else f"onnx_{weights}"
    return TrackerNetwork(template, search, jittable=False, name=name)


onnx_fp16_network = functools.partial(onnx_network, weights="fp16")
onnx_int8_network = functools.partial(onnx_network, weights="int8")
onnx_qdq_network = functools.partial(onnx_network, weights="qdq")
