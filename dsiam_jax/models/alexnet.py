"""AlexNet backbone of SiamFC / SiamRPN, built from its `structure.ConvLayer` list.

conv1 11x11/2 + BN + ReLU + maxpool 3/2, conv2 5x5 + BN + ReLU + maxpool 3/2,
conv3 3x3 + BN + ReLU, conv4 3x3 + BN + ReLU, conv5 3x3 (+ BN when `final_bn`);
the layer list is `structure(spec).backbone`. All convs are VALID with bias.
Spatially: 127 -> 6, 255 -> 22, 271 -> 24, 287 -> 26 (`feature_size`).

The convs take the job's `Lowering`: conv1 on 2x2 pixel blocks (space-to-depth) in
chunks of output channels, batch-1 3x3 convs by Winograd F(2x2, 3x3)
(`dsiam_jax.models.winograd`), grouped convs as one conv per group and batch-1 convs
summed over input-channel chunks where it measured faster (see
`dsiam_jax.models.lowering`). The parameters and results are the same either way (up
to float rounding).
"""

from __future__ import annotations

import functools
import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp

from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.pooling import max_pool
from dsiam_jax.models.structure import ConvLayer, conv_size, feature_size
from dsiam_jax.models.winograd import winograd_conv

__all__ = ["AlexNet", "Conv", "conv_init", "feature_size"]

conv_init = nn.initializers.kaiming_normal()
_DIMS = ("NHWC", "HWIO", "NHWC")


class Conv(nn.Module):
    """VALID conv with bias (params `kernel` HWIO and `bias`, as `nn.Conv`).

    `lowering` (None = one conv) picks equal computations: for the first layer
    (`conv1`) space-to-depth and output-channel chunks, else the CPU splits of grouped
    and batch-1 convs and Winograd.
    """

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    feature_group_count: int = 1
    conv1: bool = False
    lowering: Lowering | None = None
    dtype: jnp.dtype = jnp.float32  # compute dtype (params stay float32)

    @nn.compact
    def __call__(self, x: jax.Array, computed: jax.Array | None = None) -> jax.Array:
        """`computed`: the conv's output without bias, already computed from `x`
        (`shared_conv1`); only the bias is added."""
        cin = x.shape[-1] // self.feature_group_count
        kernel = self.param("kernel", conv_init, (*self.kernel_size, cin, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        if computed is not None:
            return computed + bias.astype(computed.dtype)
        x, kernel, bias = (a.astype(self.dtype) for a in (x, kernel, bias))

        def conv(k):
            return jax.lax.conv_general_dilated(
                x,
                k,
                self.strides,
                "VALID",
                dimension_numbers=_DIMS,
                feature_group_count=self.feature_group_count,
            )

        g, low, k = self.feature_group_count, self.lowering, self.kernel_size[0]
        chunk = low.input_chunk(x.shape[0], x.shape[-1], k) if low else 0
        out_size = x.shape[1] - k + 1  # stride-1 convs only (Winograd)
        if self.conv1 and low is not None and g == 1:
            y = conv1_as_lowered(x, kernel, self.strides[0], low)
        elif (
            low is not None
            and x.dtype == jnp.float32  # bfloat16 keeps the conv (its rounding is coarser)
            and low.use_winograd(x.shape[0], x.shape[-1], g, k, self.strides[0], out_size)
        ):
            y = winograd_conv(x, kernel, g)
        elif g > 1 and low is not None and low.split_grouped_convs:
            y = grouped_conv_split(x, kernel, self.strides, g)
        elif chunk:
            y = input_split_conv(x, kernel, self.strides, chunk)
        else:
            y = conv(kernel)
        return y + bias


def layer_conv(
    layer: ConvLayer, lowering: Lowering, first: bool, dtype: jnp.dtype = jnp.float32
) -> Conv:
    """The `Conv` module of one backbone layer (`first`: conv1, lowered as such)."""
    k, st = layer.kernel, layer.stride
    return Conv(
        layer.out_channels, (k, k), (st, st), layer.groups, first, lowering, dtype,
        name=layer.path[-1],
    )  # fmt: skip


def space_to_depth(x: jax.Array, kernel: jax.Array, s: int) -> tuple[jax.Array, jax.Array]:
    """A VALID conv of stride s folded into a stride-1 conv on s x s pixel blocks.

    x `[B, H, W, C]` is zero-padded to multiples of s and folded to
    `[B, H/s, W/s, s*s*C]` (channel = (row in block, column in block, c)); the kernel
    `[kh, kw, C, O]` is zero-padded to multiples of s and folded alike to
    `[kh/s, kw/s, s*s*C, O]`. The padded taps have zero weight, so padded pixels never
    count; the stride-1 conv of the two gives the original outputs first along each
    axis (`conv1_lowered` cuts off any beyond them).
    """
    b, h, w, c = x.shape
    kh, kw, _, o = kernel.shape
    hb, wb, qh, qw = -(-h // s), -(-w // s), -(-kh // s), -(-kw // s)  # sizes in blocks
    x = jnp.pad(x, ((0, 0), (0, hb * s - h), (0, wb * s - w), (0, 0)))
    x = x.reshape(b, hb, s, wb, s, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, hb, wb, s * s * c)
    k = jnp.pad(kernel, ((0, qh * s - kh), (0, qw * s - kw), (0, 0), (0, 0)))
    k = k.reshape(qh, s, qw, s, c, o).transpose(0, 2, 1, 3, 4, 5).reshape(qh, qw, s * s * c, o)
    return x, k


def conv1_lowered(
    x: jax.Array, kernel: jax.Array, stride: int, chunk: int, fold: bool
) -> jax.Array:
    """conv1 (VALID, ungrouped): on `stride` x `stride` pixel blocks (`fold`,
    `space_to_depth`) and/or in chunks of `chunk` output channels (0: all at once);
    the same result as one conv."""
    out_h = conv_size(x.shape[1], kernel.shape[0], stride)
    out_w = conv_size(x.shape[2], kernel.shape[1], stride)
    if fold:
        x, kernel = space_to_depth(x, kernel, stride)
        stride = 1

    def conv(k):  # [B, >= out_h, >= out_w, k.O]
        return jax.lax.conv_general_dilated(
            x, k, (stride, stride), "VALID", dimension_numbers=_DIMS
        )

    out = kernel.shape[-1]
    if not chunk or chunk >= out:
        y = conv(kernel)
    else:
        y = jnp.concatenate([conv(kernel[..., i : i + chunk]) for i in range(0, out, chunk)], -1)
    return y[:, :out_h, :out_w]


def conv1_as_lowered(x: jax.Array, kernel: jax.Array, stride: int, lowering: Lowering) -> jax.Array:
    """conv1 (VALID, ungrouped) as `lowering` chooses for its width and batch: on pixel
    blocks (`Lowering.conv1_space_to_depth`) and/or in output-channel chunks
    (`Lowering.conv1_chunk`), through `conv1_lowered`."""
    width, batch = kernel.shape[-1], x.shape[0]
    s2d = lowering.conv1_space_to_depth(width, batch, stride)
    return conv1_lowered(x, kernel, stride, lowering.conv1_chunk(width, batch), s2d)


def shared_conv1(
    kernels: list[jax.Array], x: jax.Array, layer: ConvLayer, lowering: Lowering, dtype
) -> list[jax.Array]:
    """conv1 (`layer`, ungrouped) of several networks on the same crops `x` as one conv
    over their kernels side by side, split back per network (without bias; each
    network's `AlexNet(..., conv1=...)` adds its own). Several students of one
    distillation see the same pairs; one conv of their summed width runs in fewer
    output-channel chunks than one per student (`Lowering.conv1_chunk`). The same
    values as each network's own conv1 (bit for bit on CPU: each output channel is the
    same dot product)."""
    kernel = jnp.concatenate([k.astype(dtype) for k in kernels], -1)  # [11, 11, 3, sum O]
    y = conv1_as_lowered(x.astype(dtype), kernel, layer.stride, lowering)
    ends = list(itertools.accumulate(k.shape[-1] for k in kernels))
    return [y[..., end - k.shape[-1] : end] for k, end in zip(kernels, ends, strict=True)]


def input_split_conv(x: jax.Array, kernel: jax.Array, strides, chunk: int) -> jax.Array:
    """A VALID conv as a sum of convs over input-channel chunks (equal up to rounding)."""
    parts = [
        jax.lax.conv_general_dilated(
            x[..., i : i + chunk],
            kernel[:, :, i : i + chunk],
            strides,
            "VALID",
            dimension_numbers=_DIMS,
        )
        for i in range(0, x.shape[-1], chunk)
    ]
    return functools.reduce(jnp.add, parts)


def grouped_conv_split(x: jax.Array, kernel: jax.Array, strides, groups: int) -> jax.Array:
    """A grouped VALID conv as `groups` ordinary convs on channel slices (same result)."""
    cin, cout = x.shape[-1] // groups, kernel.shape[-1] // groups
    outs = [
        jax.lax.conv_general_dilated(
            x[..., i * cin : (i + 1) * cin],
            kernel[..., i * cout : (i + 1) * cout],
            strides,
            "VALID",
            dimension_numbers=_DIMS,
        )
        for i in range(groups)
    ]
    return jnp.concatenate(outs, -1)


class AlexNet(nn.Module):
    """AlexNet feature extractor; input `[B, H, W, 3]` in 0..255 (uint8 or float)."""

    layers: tuple[ConvLayer, ...]
    lowering: Lowering
    bn_eps: float = 1e-5
    bn_momentum: float = 0.9
    # Mesh axis over which BatchNorm averages batch statistics in train mode
    # (cross-device BN inside shard_map); None = statistics of the local batch.
    bn_axis_name: str | None = None
    # Train-mode variance as E[x^2] - E[x]^2 (Flax's fast default) or as E[(x - E[x])^2]
    # (False: no cancellation on raw 0..255 pixels; what the trainer uses).
    bn_fast_variance: bool = True
    # Compute dtype of convs and activations (float32 | bfloat16); parameters and
    # BatchNorm statistics stay float32 (Flax reduces batch statistics in float32).
    dtype: jnp.dtype = jnp.float32
    # Training only: the first `frozen` layers are a fixed function (BatchNorm by its
    # running averages, no gradient through them: `OptimSettings.frozen_convs`).
    frozen: int = 0

    @nn.compact
    def __call__(
        self, x: jax.Array, train: bool = False, conv1: jax.Array | None = None
    ) -> jax.Array:
        """`conv1`: this crop's conv1 output without bias, computed with other
        networks' (`shared_conv1`); None computes it here."""
        x = x.astype(self.dtype)  # 0..255 integers are exact in bfloat16
        for i, layer in enumerate(self.layers):
            x = layer_conv(layer, self.lowering, i == 0, self.dtype)(x, conv1 if i == 0 else None)
            if layer.bn:
                x = nn.BatchNorm(
                    use_running_average=not train or i < self.frozen,
                    momentum=self.bn_momentum,
                    epsilon=self.bn_eps,
                    axis_name=self.bn_axis_name,
                    use_fast_variance=self.bn_fast_variance,
                    dtype=self.dtype,
                    name=layer.bn,
                )(x)
            if layer.relu:
                x = nn.relu(x)
            if layer.pool:
                x = max_pool(x, self.lowering.pool_by_slices)
            if i + 1 == self.frozen:
                x = jax.lax.stop_gradient(x)
        return x
