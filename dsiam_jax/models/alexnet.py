"""AlexNet backbone of SiamFC / SiamRPN, built from its `structure.ConvLayer` list.

conv1 11x11/2 + BN + ReLU + maxpool 3/2, conv2 5x5 + BN + ReLU + maxpool 3/2,
conv3 3x3 + BN + ReLU, conv4 3x3 + BN + ReLU, conv5 3x3 (+ BN when `final_bn`);
the layer list is `structure(spec).backbone`. All convs are VALID with bias.
Spatially: 127 -> 6, 255 -> 22, 271 -> 24, 287 -> 26 (`feature_size`).

The convs take the job's `Lowering`: conv1 in chunks of output channels, batch-1
3x3 convs by Winograd F(2x2, 3x3) (`dsiam_jax.models.winograd`), grouped convs as
one conv per group and batch-1 convs summed over input-channel chunks where it
measured faster (see `dsiam_jax.models.lowering`). The parameters and results are
the same either way (up to float rounding).
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.pooling import max_pool
from dsiam_jax.models.structure import ConvLayer, feature_size
from dsiam_jax.models.winograd import winograd_conv

__all__ = ["AlexNet", "Conv", "conv_init", "feature_size"]

conv_init = nn.initializers.kaiming_normal()
_DIMS = ("NHWC", "HWIO", "NHWC")


def input_chunk(batch: int, in_channels: int, kernel: int, backend: str | None = None) -> int:
    """Input-channel chunk for `input_split_conv` on `backend` (0 = one conv; see Lowering)."""
    return Lowering.for_backend(backend).input_chunk(batch, in_channels, kernel)


class Conv(nn.Module):
    """VALID conv with bias (params `kernel` HWIO and `bias`, as `nn.Conv`).

    `split > 0` computes the output channels in chunks of `split` (same result);
    `lowering` (None = one conv) picks the CPU splits of grouped and batch-1 convs.
    """

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    feature_group_count: int = 1
    split: int = 0
    lowering: Lowering | None = None
    dtype: jnp.dtype = jnp.float32  # compute dtype (params stay float32)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cin = x.shape[-1] // self.feature_group_count
        kernel = self.param("kernel", conv_init, (*self.kernel_size, cin, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
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
        if self.split and g == 1 and self.split < self.features:
            chunks = range(0, self.features, self.split)
            y = jnp.concatenate([conv(kernel[..., i : i + self.split]) for i in chunks], -1)
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
    """The `Conv` module of one backbone layer (conv1 = `first`, in output chunks)."""
    k, st = layer.kernel, layer.stride
    split = lowering.conv1_chunk(layer.out_channels) if first else 0
    return Conv(
        layer.out_channels, (k, k), (st, st), layer.groups, split, lowering, dtype,
        name=layer.path[-1],
    )  # fmt: skip


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

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.astype(self.dtype)  # 0..255 integers are exact in bfloat16
        for i, layer in enumerate(self.layers):
            x = layer_conv(layer, self.lowering, i == 0, self.dtype)(x)
            if layer.bn:
                x = nn.BatchNorm(
                    use_running_average=not train,
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
        return x
