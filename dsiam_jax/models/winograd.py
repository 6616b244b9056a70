"""Winograd F(2x2, 3x3): a 3x3 stride-1 VALID conv as 16 matrix products.

XLA:CPU runs these convs at a fraction of this CPU's matmul speed, and a batch-1
3x3 conv of 256-384 channels (SiamFC conv3-5 while tracking) ran 1.7-2.4x faster
in this form (`dsiam_jax.models.lowering`, `benchmarks/conv_layers.py`). It is a
lowering: the same function, equal up to float rounding (relative 1e-6 in float32).

The minimal filtering algorithm F(2, 3) (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016), from interpolation at the points 0, 1, -1
and infinity: two outputs of a 3-tap correlation y_i = sum_k g_k d_{i+k} from four
inputs with four multiplications,

    y = AT [(G g) * (BT d)]

and in 2-D, per 4x4 input tile d and 3x3 kernel g, Y = AT [(G g Gt) * (BT d B)] A:
a 2x2 output tile. Over the whole map the 16 products of the middle become 16
matrix products `[tiles, C_in] x [C_in, C_out]` (one per tile element, per group).
The transforms of inputs and outputs are additions and subtractions only.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

__all__ = ["WINOGRAD_AT", "WINOGRAD_BT", "WINOGRAD_G", "transform_kernel", "winograd_conv"]

OUT_TILE = 2  # m: outputs per tile and axis
KERNEL = 3  # r: kernel size
IN_TILE = OUT_TILE + KERNEL - 1  # 4: inputs per tile and axis

WINOGRAD_AT = ((1, 1, 1, 0), (0, 1, -1, -1))  # [m, 4]: outputs from the products
WINOGRAD_G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))  # [4, r]: kernel
WINOGRAD_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))  # [4, 4]: input


def _combine(matrix: Sequence[Sequence[float]], parts: Sequence[jax.Array]) -> list[jax.Array]:
    """`matrix @ parts` along a list of arrays, as sums and differences (no zero terms)."""
    rows = []
    for row in matrix:
        terms = [(c, p) for c, p in zip(row, parts, strict=True) if c != 0]
        total = None
        for c, p in terms:
            term = p if c == 1 else -p if c == -1 else c * p
            total = term if total is None else total + term
        rows.append(total)
    return rows


def transform_kernel(kernel: jax.Array, groups: int = 1) -> jax.Array:
    """G g Gt per input/output channel: `[3, 3, I, O]` (HWIO, I = C_in / groups) ->
    `[16, groups, I, O / groups]` (tile element, group, in, out)."""
    # Separably, as weighted sums (an einsum with G took longer than the conv itself).
    rows = _combine(WINOGRAD_G, [kernel[i] for i in range(KERNEL)])  # 4 x [3, I, O]
    u = jnp.stack([e for r in rows for e in _combine(WINOGRAD_G, [r[j] for j in range(KERNEL)])])
    cin, cout = kernel.shape[2], kernel.shape[3]
    u = u.reshape(IN_TILE * IN_TILE, cin, groups, cout // groups)  # [16, I, groups, O/g]
    return u.transpose(0, 2, 1, 3)


def winograd_conv(x: jax.Array, kernel: jax.Array, groups: int = 1) -> jax.Array:
    """A 3x3 stride-1 VALID conv (`feature_group_count=groups`) by Winograd F(2x2, 3x3).

    `x` `[B, H, W, C]` NHWC, `kernel` `[3, 3, C / groups, O]` HWIO ->
    `[B, H - 2, W - 2, O]`, equal to `lax.conv_general_dilated` up to float rounding.
    """
    if kernel.shape[:2] != (KERNEL, KERNEL):
        raise ValueError(f"winograd_conv takes 3x3 kernels, got {kernel.shape[:2]}")
    b, h, w, c = x.shape
    oh, ow = h - KERNEL + 1, w - KERNEL + 1
    th, tw = -(-oh // OUT_TILE), -(-ow // OUT_TILE)  # tiles per axis
    # Pad so that the tiles cover an even output; the extra outputs are cut below.
    pad_h, pad_w = OUT_TILE * th + KERNEL - 1 - h, OUT_TILE * tw + KERNEL - 1 - w
    x = jnp.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    # BT d B, separably: input rows i, i + 2, ... of each tile, then columns.
    rows = _combine(WINOGRAD_BT, [x[:, i : i + OUT_TILE * th : OUT_TILE] for i in range(IN_TILE)])
    tiles = [
        t
        for r in rows  # [B, th, W', C]
        for t in _combine(
            WINOGRAD_BT, [r[:, :, j : j + OUT_TILE * tw : OUT_TILE] for j in range(IN_TILE)]
        )
    ]  # 16 x [B, th, tw, C]
    v = jnp.stack(tiles).reshape(IN_TILE * IN_TILE, b * th * tw, groups, c // groups)
    v = v.transpose(0, 2, 1, 3)  # [16, groups, tiles, C / groups]
    u = transform_kernel(kernel, groups)  # [16, groups, C / groups, O / groups]
    m = jax.lax.dot_general(v, u, (((3,), (2,)), ((0, 1), (0, 1))))  # [16, groups, tiles, O/g]
    m = m.transpose(0, 2, 1, 3).reshape(IN_TILE, IN_TILE, b, th, tw, -1)  # [4, 4, B, th, tw, O]
    # AT m A, separably: 2 output rows of 4-row sums, then 2 columns of each.
    out_rows = _combine(WINOGRAD_AT, [m[i] for i in range(IN_TILE)])  # 2 x [4, B, th, tw, O]
    y = jnp.stack(
        [jnp.stack(_combine(WINOGRAD_AT, [r[j] for j in range(IN_TILE)])) for r in out_rows]
    )  # [2, 2, B, th, tw, O]
    y = y.transpose(2, 3, 0, 4, 1, 5).reshape(b, OUT_TILE * th, OUT_TILE * tw, -1)
    return y[:, :oh, :ow]
