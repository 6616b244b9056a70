"""Model size and compute: parameters, fp32 megabytes, FLOPs per tracking frame.

Conventions (stated in `summary.json` as well):
- `params`: trainable parameters (the `params` collection). BatchNorm running
  statistics are reported separately (`state_params`).
- `megabytes`: fp32 bytes of the parameters / 1e6 (the paper's unit: 361.8 MB
  for the big SiamRPN; `megabytes_with_state` adds the BatchNorm statistics).
- `flops`: 2 x multiply-accumulates of every conv and correlation for one
  tracking frame: the search branch and head at the tracker's search size, once
  per scale (SiamFC tracks 3 scales), template kernels cached. `template_flops`
  is the once-per-sequence template branch. Elementwise ops (BN, ReLU, pooling,
  the up-channel template convs' fixed output scale) are not counted, as in
  fvcore/thop-style counters.

Everything is computed from the layer description (`dsiam_jax.models.structure`),
without building or tracing the network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import ConvLayer, HeadBranch, NetStructure, structure


@dataclasses.dataclass
class LayerRow:
    """One row of the per-layer table."""

    name: str
    branch: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


def _conv_rows(
    layers: Sequence[ConvLayer], size: int, branch: str, shared: bool = False
) -> tuple[list[LayerRow], int]:
    """Rows of `layers` (each conv, then its BatchNorm) on a `size` input; and the output size.

    `shared`: parameters counted elsewhere (the backbone's template pass) show as 0.
    """
    rows = []
    for layer in layers:
        conv_size = layer.conv_size(size)
        shape = (conv_size, conv_size, layer.out_channels)
        k = layer.kernel
        weights = k * k * layer.in_channels // layer.groups * layer.out_channels
        params = weights + (layer.out_channels if layer.bias else 0)
        rows.append(
            LayerRow(layer.name, branch, shape, 0 if shared else params, weights * conv_size**2)
        )
        if layer.bn:
            bn_params = 0 if shared else 2 * layer.out_channels
            rows.append(LayerRow("/".join(layer.bn_path), branch, shape, bn_params, 0))
        size = layer.output_size(size)
    return rows, size


def _head_rows(s: NetStructure, b: HeadBranch, feature: int, template_size: int) -> list[LayerRow]:
    """Search-side rows of head branch `b` on a backbone feature of `feature` pixels."""
    rows, size = _conv_rows(b.search, feature, "head")
    kz, channels = s.kernel_geometry(b, template_size)
    maps, depth = b.correlation_maps(channels), b.correlation_depth(channels)
    out = size - kz + 1
    shape = (out, out) if b.response_bias else (out, out, maps)
    name = "head/xcorr" if s.single_kernel else f"head/{b.output}/xcorr"
    rows.append(LayerRow(name, "head", shape, 0, out * out * maps * kz * kz * depth))
    return rows + _conv_rows(b.after, out, "head")[0]


def summarize(
    spec: ModelSpec,
    template_size: int = 127,
    search_size: int = 255,
    num_scales: int = 1,
) -> dict[str, Any]:
    """Size and FLOPs of `spec`; returns the `summary.json` dict (with a `layers` table).

    Computed from the layer description `structure(spec)` (no tracing).
    """
    s = structure(spec)
    # The backbone is shared: its parameters are counted once (in the search rows).
    t_rows, z_feature = _conv_rows(s.backbone, template_size, "template", shared=True)
    for b in s.branches:
        t_rows += _conv_rows(b.template, z_feature, "template")[0]
    s_rows, x_feature = _conv_rows(s.backbone, search_size, "search")
    h_rows = [row for b in s.branches for row in _head_rows(s, b, x_feature, template_size)]

    params, state = s.num_params(), s.num_state()
    search_macs = sum(r.macs for r in s_rows + h_rows)
    template_macs = sum(r.macs for r in t_rows)
    return {
        "kind": spec.kind,
        "head": spec.head,
        "channels": list(spec.channels),
        "params": params,
        "state_params": state,
        "megabytes": params * 4 / 1e6,
        "megabytes_with_state": (params + state) * 4 / 1e6,
        "flops": 2 * search_macs * num_scales,
        "macs": search_macs * num_scales,
        "flops_per_search": 2 * search_macs,
        "template_flops": 2 * template_macs,
        "template_size": template_size,
        "search_size": search_size,
        "num_scales": num_scales,
        "conventions": {
            "megabytes": "fp32 bytes of trainable params / 1e6",
            "flops": "2 x MACs of convs and correlations per tracking frame "
            "(search branch + head, x num_scales, template cached)",
        },
        "layers": [dataclasses.asdict(r) for r in t_rows + s_rows + h_rows],
    }


def format_table(summary: dict[str, Any]) -> str:
    """The per-layer table as aligned text."""
    lines = [f"{'layer':<32} {'branch':<9} {'output':<18} {'params':>12} {'MFLOPs':>10}"]
    lines.append("-" * len(lines[0]))
    for row in summary["layers"]:
        shape = "x".join(str(s) for s in row["output_shape"])
        mflops = 2 * row["macs"] / 1e6
        lines.append(
            f"{row['name']:<32} {row['branch']:<9} {shape:<18} {row['params']:>12,} {mflops:>10.1f}"
        )
    lines.append("-" * len(lines[0]))
    lines.append(
        f"params {summary['params']:,}  ({summary['megabytes']:.2f} MB fp32)   "
        f"GFLOPs/frame {summary['flops'] / 1e9:.3f} "
        f"({summary['num_scales']} x {summary['search_size']}px search)   "
        f"template GFLOPs {summary['template_flops'] / 1e9:.3f}"
    )
    return "\n".join(lines)
