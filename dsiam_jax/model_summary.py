"""Model size and compute: parameters, fp32 megabytes, FLOPs per tracking frame.

Conventions (stated in `summary.json` as well):
- `params`: trainable parameters (the `params` collection). BatchNorm running
  statistics are reported separately (`state_params`).
- `megabytes`: fp32 bytes of the parameters / 1e6 (the paper's unit: 361.8 MB
  for the big SiamRPN; `megabytes_with_state` adds the BatchNorm statistics).
- `flops`: 2 x multiply-accumulates of every conv and correlation for one
  tracking frame: the search branch and head at the tracker's search size, once
  per scale (SiamFC tracks 3 scales), template kernels cached. `template_flops`
  is the once-per-sequence template branch. Elementwise ops (BN, ReLU, pooling)
  are not counted, as in fvcore/thop-style counters.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from dsiam_jax.models import heads
from dsiam_jax.models.alexnet import Conv
from dsiam_jax.models.siamese import SiameseNet, init_variables, num_params
from dsiam_jax.models.spec import ModelSpec


@dataclasses.dataclass
class LayerRow:
    """One row of the per-layer table."""

    name: str
    branch: str
    output_shape: tuple[int, ...]
    params: int
    macs: int


def _conv_macs(module: nn.Conv | Conv, x: jax.Array, y: jax.Array) -> int:
    kh, kw = module.kernel_size
    cin = x.shape[-1] // module.feature_group_count
    return math.prod(y.shape[1:]) * kh * kw * cin


def _xcorr_macs(module: nn.Module, kernels: Any, out: Any) -> tuple[int, tuple[int, ...]]:
    """MACs (per example) and output shape of the correlations inside a head call."""
    if isinstance(module, heads.SiamFCHead):
        hz, wz, c = kernels.shape[1:]
        shape = tuple(out["response"].shape[1:])
        return math.prod(shape) * hz * wz * c, shape
    if isinstance(module, heads.UpChannelRPN):
        total, outs = 0, 0
        for key in ("cls", "reg"):
            hz, wz, c, o = kernels[key].shape[1:]
            ho, wo = out[key].shape[1:3]
            total += ho * wo * o * hz * wz * c
            outs += o
        return total, (ho, wo, outs)
    if isinstance(module, heads.DepthwiseXCorr):
        hz, wz, c = kernels.shape[1:]
        ho, wo = out.shape[1:3]
        return ho * wo * c * hz * wz, (ho, wo, c)
    return 0, ()


def _param_count(variables: dict, path: tuple[str, ...]) -> int:
    tree = variables.get("params", {})
    for p in path:
        if not isinstance(tree, dict) or p not in tree:
            return 0
        tree = tree[p]
    if isinstance(tree, dict) and any(isinstance(v, dict) for v in tree.values()):
        return 0  # a container module: its leaves are counted in their own rows
    return num_params(tree)


def _trace_rows(model: SiameseNet, variables: dict, fn, *args, branch: str) -> list[LayerRow]:
    rows: list[LayerRow] = []

    def interceptor(next_fun, call_args, call_kwargs, context):
        out = next_fun(*call_args, **call_kwargs)
        module = context.module
        if context.method_name != "__call__":
            return out
        path = tuple(module.path)
        name = "/".join(path)
        if isinstance(module, nn.Conv | Conv):
            macs = _conv_macs(module, call_args[0], out)
            rows.append(LayerRow(name, branch, tuple(out.shape[1:]), 0, macs))
        elif isinstance(module, nn.BatchNorm):
            rows.append(LayerRow(name, branch, tuple(out.shape[1:]), 0, 0))
        else:
            macs, shape = _xcorr_macs(module, call_args[0], out)
            if macs:
                rows.append(LayerRow(f"{name}/xcorr", branch, shape, 0, macs))
        return out

    with nn.intercept_methods(interceptor):
        jax.eval_shape(lambda v, *a: model.apply(v, *a, method=fn), variables, *args)
    for row in rows:
        if not row.name.endswith("/xcorr"):
            row.params = _param_count(variables, tuple(row.name.split("/")))
    return rows


def summarize(
    spec: ModelSpec,
    template_size: int = 127,
    search_size: int = 255,
    num_scales: int = 1,
) -> dict[str, Any]:
    """Size and FLOPs of `spec`; returns the `summary.json` dict (with a `layers` table)."""
    model = SiameseNet(spec, xcorr_impl="vmap")
    variables = jax.eval_shape(
        lambda: init_variables(model, jax.random.PRNGKey(0), template_size, search_size)
    )
    z = jnp.zeros((1, template_size, template_size, 3), jnp.float32)
    x = jnp.zeros((1, search_size, search_size, 3), jnp.float32)
    t_rows = _trace_rows(model, variables, SiameseNet.template_branch, z, branch="template")
    kernels = jax.eval_shape(
        lambda v, z: model.apply(v, z, method=SiameseNet.template_branch), variables, z
    )
    xf = jax.eval_shape(
        lambda v, x: model.apply(v, x, method=SiameseNet.search_branch), variables, x
    )
    s_rows = _trace_rows(model, variables, SiameseNet.search_branch, x, branch="search")
    h_rows = _trace_rows(model, variables, SiameseNet.head_forward, kernels, xf, branch="head")
    # The backbone is shared: its parameters are counted once (in the search rows).
    for row in t_rows:
        if row.name.startswith("backbone/"):
            row.params = 0

    params = num_params(variables["params"])
    state = num_params(variables.get("batch_stats", {}))
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
