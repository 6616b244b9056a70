"""Inference weights with BatchNorm folded into the convs: the input of every exporter.

`fold(spec, variables)` turns a checkpoint's variables tree (Flax layout: conv
`kernel` HWIO + `bias`, BatchNorm `scale`/`bias` + batch_stats `mean`/`var`) into a
`FoldedNet`: plain NumPy float32 convs in the ONNX / PyTorch layout (weight OIHW,
bias `[O]`), each BatchNorm merged into the conv before it:

    s  = scale / sqrt(var + eps)
    W' = W * s[o]            b' = (b - mean) * s + beta

The network structure (ReLU / max-pool placement, head wiring) is fixed by the
`ModelSpec` and documented in `dsiam_jax.export.onnx_graphs`. Folding is exact up
to float32 rounding (tests: relative error below 1e-6 on random statistics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from dsiam_jax.models.alexnet import POOL_AFTER, STRIDES
from dsiam_jax.models.spec import ModelSpec

# Head convs of each head type, in graph order (names used by the exporters).
HEAD_CONVS = {
    "xcorr": (),
    "upchannel": ("cls_template", "reg_template", "cls_search", "reg_search", "reg_adjust"),
    "depthwise": tuple(
        f"{branch}_{part}"
        for branch in ("cls", "reg")
        for part in ("kernel", "search", "head1", "head2")
    ),
}


@dataclasses.dataclass
class FoldedConv:
    """One VALID conv with bias: weight `[O, I/groups, kh, kw]`, bias `[O]`."""

    weight: np.ndarray
    bias: np.ndarray
    stride: int = 1
    groups: int = 1

    @property
    def out_channels(self) -> int:
        return int(self.weight.shape[0])


@dataclasses.dataclass
class FoldedNet:
    """A tracker network ready for export (BatchNorm folded, OIHW layout).

    Attributes:
      spec: the architecture.
      backbone: the five AlexNet convs; ReLU after conv1-4, max-pool 3/2 after
        conv1 and conv2 (`dsiam_jax.models.alexnet.POOL_AFTER`).
      head: the head's convs by name (`HEAD_CONVS[spec.head]`).
      response_bias: SiamFC response bias (response = xcorr * out_scale + bias).
    """

    spec: ModelSpec
    backbone: list[FoldedConv]
    head: dict[str, FoldedConv]
    response_bias: float = 0.0

    def num_params(self) -> int:
        """Scalars after folding (BatchNorm statistics are gone)."""
        convs = [*self.backbone, *self.head.values()]
        n = sum(c.weight.size + c.bias.size for c in convs)
        return int(n + (1 if self.spec.kind == "siamfc" else 0))


def _np(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def fold_conv(
    conv: Mapping[str, Any],
    bn: Mapping[str, Any] | None = None,
    stats: Mapping[str, Any] | None = None,
    eps: float = 1e-5,
    stride: int = 1,
    groups: int = 1,
) -> FoldedConv:
    """Flax conv params (`kernel` HWIO, optional `bias`) + optional BatchNorm -> OIHW.

    Computed in float64, stored as float32.
    """
    kernel = _np(conv["kernel"])  # [kh, kw, I/g, O]
    out = kernel.shape[-1]
    bias = _np(conv["bias"]) if "bias" in conv else np.zeros(out)
    if bn is not None:
        if stats is None:
            raise ValueError("BatchNorm folding needs batch_stats (mean, var)")
        s = _np(bn["scale"]) / np.sqrt(_np(stats["var"]) + eps)
        kernel = kernel * s
        bias = (bias - _np(stats["mean"])) * s + _np(bn["bias"])
    weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), np.float32)
    return FoldedConv(weight, bias.astype(np.float32), stride, groups)


def fold(spec: ModelSpec, variables: Mapping[str, Any]) -> FoldedNet:
    """BatchNorm-folded OIHW weights of a `SiameseNet(spec)` variables tree."""
    params = variables["params"]
    stats = variables.get("batch_stats", {})
    bb, bbs = params["backbone"], stats.get("backbone", {})
    backbone = []
    for i, (st, g) in enumerate(zip(STRIDES, spec.groups)):
        has_bn = i < 4 or spec.final_bn
        name = f"bn{i + 1}"
        backbone.append(
            fold_conv(
                bb[f"conv{i + 1}"],
                bb[name] if has_bn else None,
                bbs.get(name) if has_bn else None,
                spec.bn_eps,
                stride=st,
                groups=g,
            )
        )
    hp, hs = params["head"], stats.get("head", {})
    head: dict[str, FoldedConv] = {}
    response_bias = 0.0
    if spec.head == "xcorr":
        response_bias = float(np.asarray(hp["bias"]))
    elif spec.head == "upchannel":
        for name in HEAD_CONVS["upchannel"]:
            head[name] = fold_conv(hp[name])
    else:
        for branch in ("cls", "reg"):
            p, s = hp[branch], hs.get(branch, {})
            parts = {
                "kernel": ("conv_kernel", "bn_kernel"),
                "search": ("conv_search", "bn_search"),
                "head1": ("head1", "bn_head"),
                "head2": ("head2", None),
            }
            for part, (conv, bn) in parts.items():
                head[f"{branch}_{part}"] = fold_conv(
                    p[conv],
                    p[bn] if bn else None,
                    s.get(bn) if bn else None,
                    spec.bn_eps,
                )
    return FoldedNet(spec, backbone, head, response_bias)


def backbone_structure() -> list[tuple[bool, bool]]:
    """(relu, pool) after each of the five backbone convs."""
    return [(i < 4, pool) for i, pool in enumerate(POOL_AFTER)]
