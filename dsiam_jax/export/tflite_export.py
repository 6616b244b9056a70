"""Optional TFLite export: the same two graphs as the ONNX export, via TensorFlow.

TensorFlow is imported inside the functions only (the project's model and
tracking code never imports it; the GPU machine has none). Without it,
`export_tflite` returns `{'skipped': reason}`.

The graphs are written as `tf.function`s from the `FoldedNet` (NHWC convs, HWIO
weights, BatchNorm and output scales folded) and converted with `tf.lite.TFLiteConverter`. Their
inputs and outputs have the ONNX graphs' names, shapes and layouts (the kernels
travel in the ONNX layout and are transposed inside the track graph), so both
runtimes share the parity code. The search batch is fixed to the tracker's
number of scales. Variants: float32, and fp16 weight storage (the converter's
float16 optimisation; dequantised to float32 at load).
"""

from __future__ import annotations

import pathlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from absl import logging

from dsiam_jax.export import checks, onnx_graphs
from dsiam_jax.export.fold import FoldedConv, FoldedNet
from dsiam_jax.models.structure import ConvLayer, feature_size, foreground_gains

SUFFIX = {"fp32": "", "fp16": "_fp16"}


def _import_tf():
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


def _conv(tf, x, conv: FoldedConv, relu: bool = False):
    """NHWC conv, zero-padded by `conv.padding` (grouped convs as per-group convs + concat)."""
    w = conv.weight.transpose(2, 3, 1, 0)  # OIHW -> HWIO (I = in / groups)
    if conv.padding:
        p = conv.padding
        x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
    g = conv.groups
    if g == 1:
        y = tf.nn.conv2d(x, w, conv.stride, "VALID")
    else:
        xs = tf.split(x, g, axis=-1)
        ws = np.split(w, g, axis=-1)
        y = tf.concat([tf.nn.conv2d(a, b, conv.stride, "VALID") for a, b in zip(xs, ws)], -1)
    y = y + conv.bias
    return tf.nn.relu(y) if relu else y


def _walk(tf, net: FoldedNet, layers: Sequence[ConvLayer], x):
    """NHWC `x` through `layers` (folded convs, ReLU, max-pool)."""
    for layer in layers:
        x = _conv(tf, x, net[layer], layer.relu)
        if layer.pool:
            x = tf.nn.max_pool2d(x, 3, 2, "VALID")
    return x


def _functions(tf, net: FoldedNet, sizes: tuple[int, int, int]):
    """(template fn, track fn) as `tf.function`s with the ONNX graphs' signatures.

    Kernels travel in the ONNX layout `[maps, depth, h, w]` (`onnx_graphs.kernel_shape`).
    """
    z_size, x_size, scales = sizes
    spec, s = net.spec, net.structure
    shapes = onnx_graphs.kernel_shapes(net, z_size)
    names = s.kernel_names
    f32 = tf.float32

    @tf.function(input_signature=[tf.TensorSpec((1, z_size, z_size, 3), f32, name="template")])
    def template(z):
        zf = _walk(tf, net, s.backbone, z)
        out = {}
        for b in s.branches:
            k = _walk(tf, net, b.template, zf)[0]  # [h, w, maps * depth]
            maps, depth, h, w = shapes[b.kernel]
            k = tf.reshape(k, (h, w, maps, depth))  # up-channel channel = o*C + c
            out[b.kernel] = tf.transpose(k, (2, 3, 0, 1))  # [maps, depth, h, w]
        return out

    track_sig = [tf.TensorSpec((scales, x_size, x_size, 3), f32, name="search")]
    track_sig += [tf.TensorSpec(shapes[n], f32, name=n) for n in names]

    @tf.function(input_signature=track_sig)
    def track(x, *kernels):
        xf = _walk(tf, net, s.backbone, x)
        k = dict(zip(names, kernels))
        out = {}
        for b in s.branches:
            f = _walk(tf, net, b.search, xf)
            if b.correlation == "depthwise":  # [H, 1, h, w] -> one [h, w] filter per channel
                w = tf.transpose(k[b.kernel], (2, 3, 0, 1))  # [h, w, H, 1]
                f = tf.nn.depthwise_conv2d(f, w, (1, 1, 1, 1), "VALID")
            else:  # [maps, C, h, w] -> HWIO
                f = tf.nn.conv2d(f, tf.transpose(k[b.kernel], (2, 3, 1, 0)), 1, "VALID")
            f = _walk(tf, net, b.after, f)
            if b.response_bias:
                f = f[..., 0] * spec.out_scale + net.response_bias
            if b.foreground_of:  # [S, R, R, 1] x [2k] added to the cls logits
                gains = foreground_gains(b, net.foreground_weights[b.output])
                out[b.foreground_of] = out[b.foreground_of] + f * gains
            else:
                out[b.output] = f
        return out

    return template, track


def convert(tf, fn, variant: str = "fp32") -> bytes:
    """TFLite flatbuffer (with a 'serving_default' signature) of a `tf.function`."""
    holder = tf.Module()
    holder.fn = fn  # a trackable owner makes the converter write the signature
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [fn.get_concrete_function()], holder
    )
    if variant == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.WARNING)  # the converter logs each temporary SavedModel
    try:
        return converter.convert()
    finally:
        logging.set_verbosity(verbosity)


class TFLiteNetwork:
    """template / track calls on the TFLite interpreter (same API as `OnnxNetwork`)."""

    def __init__(self, tf, template: bytes, track: bytes, threads: int = 2):
        with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated" (use LiteRT)
            warnings.simplefilter("ignore")
            self._t = tf.lite.Interpreter(model_content=template, num_threads=threads)
            self._x = tf.lite.Interpreter(model_content=track, num_threads=threads)
        self._t_run = self._t.get_signature_runner()
        self._x_run = self._x.get_signature_runner()

    def template(self, z) -> dict[str, np.ndarray]:
        return {
            k: np.asarray(v) for k, v in self._t_run(template=np.asarray(z, np.float32)).items()
        }

    def track(self, x, kernels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self._x_run(search=np.asarray(x, np.float32), **kernels)
        return {k: np.asarray(v) for k, v in out.items()}


def export_tflite(
    net: FoldedNet,
    out_dir: pathlib.Path,
    sizes: tuple[int, int, int],
    jax_net: checks.JaxNetwork,
    random_pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    real_pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    repeats: int = 10,
    threads: int = 2,
    variants: Sequence[str] = ("fp32", "fp16"),
) -> dict[str, Any]:
    """Writes `template{,_fp16}.tflite`, `track{,_fp16}.tflite`; returns the export.json entry.

    `{'skipped': reason}` without TensorFlow or when the converter fails.
    """
    tf = _import_tf()
    if tf is None:
        return {"skipped": "TensorFlow is not installed (TFLite export is optional)"}
    if feature_size(sizes[1]) <= 0:
        return {"skipped": f"search size {sizes[1]} too small"}
    out_dir.mkdir(parents=True, exist_ok=True)
    template_fn, track_fn = _functions(tf, net, sizes)
    result: dict[str, Any] = {"search_batch": sizes[2], "variants": {}}
    z, x = random_pairs[0]
    for variant in variants:
        suffix = SUFFIX[variant]
        try:
            blobs = {
                "template": convert(tf, template_fn, variant),
                "track": convert(tf, track_fn, variant),
            }
        except Exception as e:  # the converter's errors have no common base class
            result["variants"][variant] = {"skipped": f"converter failed: {e}"[:500]}
            continue
        files = {}
        for kind, blob in blobs.items():
            path = out_dir / f"{kind}{suffix}.tflite"
            path.write_bytes(blob)
            files[path.name] = len(blob)
        tfl = TFLiteNetwork(tf, blobs["template"], blobs["track"], threads)
        row = checks.variant_row(jax_net, tfl, files, random_pairs, real_pairs, z, x, repeats)
        result["variants"][variant] = row
    return result
