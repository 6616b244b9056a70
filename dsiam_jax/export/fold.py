"""Inference weights with BatchNorm folded into the convs: the input of every exporter.

`fold(spec, variables)` turns a checkpoint's variables tree (Flax layout: conv
`kernel` HWIO + `bias`, BatchNorm `scale`/`bias` + batch_stats `mean`/`var`) into a
`FoldedNet`: plain NumPy float32 convs in the ONNX / PyTorch layout (weight OIHW,
bias `[O]`), one per conv of `structure(spec)`, each BatchNorm merged into the
conv before it, and a conv's fixed `output_scale` a (`ConvLayer.output_scale`,
the up-channel template convs' 1/sqrt(16 C)) into its weight and bias first:

    W, b = a * W, a * b
    s  = scale / sqrt(var + eps)
    W' = W * s[o]            b' = (b - mean) * s + beta

so the exported graphs are plain convs, whatever the factor.

The exporters walk the same description (`FoldedNet.structure`) for the ReLU /
max-pool placement and the head wiring. Folding is exact up to float32 rounding
(tests: relative error below 1e-6 on random statistics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import ConvLayer, NetStructure, structure


@dataclasses.dataclass
class FoldedConv:
    """One conv with bias: weight `[O, I/groups, kh, kw]`, bias `[O]`, zero `padding` on
    every side (0: VALID)."""

    weight: np.ndarray
    bias: np.ndarray
    stride: int = 1
    groups: int = 1
    padding: int = 0

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])


@dataclasses.dataclass
class FoldedNet:
    """A tracker network ready for export (BatchNorm folded, OIHW layout).

    Attributes:
      spec: the architecture.
      convs: the folded convs by layer name (`ConvLayer.name`, e.g. 'backbone/conv1').
      response_bias: SiamFC response bias (response = xcorr * out_scale + bias).
      foreground_weights: per-anchor weights `[k]` of each `foreground_of` branch, by
        branch output (`spec.rpn_cls_xcorr`: 'cls_xcorr').
    """

    spec: ModelSpec
    convs: dict[str, FoldedConv]
    response_bias: float = 0.0
    foreground_weights: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def structure(self) -> NetStructure:
        """The layers the exporters walk."""
        return structure(self.spec)

    def __getitem__(self, layer: ConvLayer) -> FoldedConv:
        return self.convs[layer.name]

    def num_params(self) -> int:
        """Scalars after folding (BatchNorm statistics are gone)."""
        n = sum(c.weight.size + c.bias.size for c in self.convs.values())
        n += sum(w.size for w in self.foreground_weights.values())
        return int(n + sum(1 for b in self.structure.branches if b.response_bias))


def _np(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def fold_conv(
    conv: Mapping[str, Any],
    bn: Mapping[str, Any] | None = None,
    stats: Mapping[str, Any] | None = None,
    eps: float = 1e-5,
    stride: int = 1,
    groups: int = 1,
    output_scale: float = 1.0,
    padding: int = 0,
) -> FoldedConv:
    """Flax conv params (`kernel` HWIO, optional `bias`) + optional BatchNorm -> OIHW.

    `output_scale` multiplies the conv's output (bias included) before the BatchNorm.
    Computed in float64, stored as float32.
    """
    kernel = _np(conv["kernel"]) * output_scale  # [kh, kw, I/g, O]
    out = kernel.shape[-1]
    bias = _np(conv["bias"]) * output_scale if "bias" in conv else np.zeros(out)
    if bn is not None:
        if stats is None:
            raise ValueError("BatchNorm folding needs batch_stats (mean, var)")
        s = _np(bn["scale"]) / np.sqrt(_np(stats["var"]) + eps)
        kernel = kernel * s
        bias = (bias - _np(stats["mean"])) * s + _np(bn["bias"])
    weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), np.float32)
    return FoldedConv(weight, bias.astype(np.float32), stride, groups, padding)


def _at(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def fold(spec: ModelSpec, variables: Mapping[str, Any]) -> FoldedNet:
    """BatchNorm-folded OIHW weights of a `SiameseNet(spec)` variables tree."""
    params = variables["params"]
    stats = variables.get("batch_stats", {})
    layers = structure(spec)
    convs = {}
    for layer in layers.convs:
        bn = layer.bn_path
        convs[layer.name] = fold_conv(
            _at(params, layer.path),
            _at(params, bn) if bn else None,
            _at(stats, bn) if bn and stats else None,
            spec.bn_eps,
            stride=layer.stride,
            groups=layer.groups,
            output_scale=layer.output_scale,
            padding=layer.padding,
        )
    biases = [_at(params, b.response_bias) for b in layers.branches if b.response_bias]
    weights = {
        b.output: np.asarray(_at(params, b.weight_path), np.float32)
        for b in layers.branches
        if b.foreground_of
    }
    return FoldedNet(spec, convs, float(np.asarray(biases[0])) if biases else 0.0, weights)
