"""AlexNet backbone of SiamFC / SiamRPN, built from a per-layer channel list.

conv1 11x11/2 + BN + ReLU + maxpool 3/2, conv2 5x5 + BN + ReLU + maxpool 3/2,
conv3 3x3 + BN + ReLU, conv4 3x3 + BN + ReLU, conv5 3x3 (+ BN when `final_bn`).
All convs are VALID with bias, as in siamfc-pytorch and DaSiamRPN. Spatially:
127 -> 6, 255 -> 22, 271 -> 24, 287 -> 26.

XLA:CPU trap: conv1 (11x11/2 on 3 channels) with 24 or 32 outputs measured
45 / 28 ms on a 255 crop against 3 ms with 16 (B=8: 421 ms vs 20 ms). Computing
it as chunks of 16 output channels gives the same numbers in 5 ms (B=8: 38 ms;
backward 349 vs 841 ms), so `conv1_split='auto'` does that on CPU for widths
between 16 and 64. The parameters are the same either way.
Grouped convs (conv2/4/5 of SiamFC) are likewise computed as one conv per group
on CPU (`grouped_conv_split`), 2-4x faster there; the parameters are unchanged.
Wide ungrouped convs on batch-1 inputs (tracking) are summed over input-channel
chunks on CPU (`input_chunk`), up to 3x faster for 5x5 convs of 96+ inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

KERNELS = (11, 5, 3, 3, 3)
STRIDES = (2, 1, 1, 1, 1)
POOL_AFTER = (True, True, False, False, False)

conv_init = nn.initializers.kaiming_normal()
_DIMS = ("NHWC", "HWIO", "NHWC")


def resolve_conv1_split(split: int | str, out_channels: int) -> int:
    """Chunk size for conv1's output channels (0 = one conv) on this backend."""
    if split != "auto":
        return int(split)
    if jax.default_backend() == "cpu" and 16 < out_channels < 64:
        return 16
    return 0


class Conv(nn.Module):
    """VALID conv with bias (params `kernel` HWIO and `bias`, as `nn.Conv`).

    `split > 0` computes the output channels in chunks of `split` (same result).
    """

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    feature_group_count: int = 1
    split: int = 0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cin = x.shape[-1] // self.feature_group_count
        kernel = self.param("kernel", conv_init, (*self.kernel_size, cin, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))

        def conv(k):
            return jax.lax.conv_general_dilated(
                x,
                k,
                self.strides,
                "VALID",
                dimension_numbers=_DIMS,
                feature_group_count=self.feature_group_count,
            )

        g = self.feature_group_count
        if self.split and g == 1 and self.split < self.features:
            chunks = range(0, self.features, self.split)
            y = jnp.concatenate([conv(kernel[..., i : i + self.split]) for i in chunks], -1)
        elif g > 1 and jax.default_backend() == "cpu":
            y = grouped_conv_split(x, kernel, self.strides, g)
        elif chunk := input_chunk(x.shape[0], x.shape[-1], self.kernel_size[0]):
            y = input_split_conv(x, kernel, self.strides, chunk)
        else:
            y = conv(kernel)
        return y + bias


def input_chunk(batch: int, in_channels: int, kernel: int) -> int:
    """Input-channel chunk for `input_split_conv` on this backend (0 = one conv).

    XLA:CPU, batch 1 (tracking: one search crop per call), 2 cores: a 5x5 conv of
    96 -> 256 channels on 69x69 (pysot AlexNet conv2 at search 287) took 87 ms as
    one conv and 33-36 ms as two 48-channel convs summed; 192 -> 512 on 61x61
    (the SiamRPN teacher) 308 vs 108 ms; 3x3 convs of 384-768 inputs gain 10-25%
    with 128-channel chunks. At batch 8 the split was no faster (training keeps one
    conv), so it applies to batch 1 only.
    """
    if batch != 1 or jax.default_backend() != "cpu":
        return 0
    chunk = 48 if kernel >= 5 else 128
    if in_channels <= chunk or in_channels % chunk or (kernel < 5 and in_channels <= 256):
        return 0
    return chunk


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
    """A grouped VALID conv as `groups` ordinary convs on channel slices (same result).

    XLA:CPU runs grouped convs slowly: on a 2-core CPU, SiamFC's conv2 / conv4
    (groups 2) took 30 / 23 ms as one grouped conv and 18 / 9 ms split (batch 1);
    forward+backward at batch 8 went from 2162 / 610 ms to 715 / 160 ms.
    """
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


def max_pool_3x3_s2(x: jax.Array) -> jax.Array:
    """3x3 max-pool with stride 2, VALID: `[B, H, W, C]` -> `[B, (H-3)//2+1, ..., C]`."""
    return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


def feature_size(input_size: int) -> int:
    """Spatial size of the backbone output for a square input of `input_size`."""
    s = input_size
    for k, st, pool in zip(KERNELS, STRIDES, POOL_AFTER):
        s = (s - k) // st + 1
        if pool:
            s = (s - 3) // 2 + 1
    return s


class AlexNet(nn.Module):
    """AlexNet feature extractor; input `[B, H, W, 3]` in 0..255 (uint8 or float)."""

    channels: Sequence[int]
    groups: Sequence[int]
    final_bn: bool = False
    bn_eps: float = 1e-5
    bn_momentum: float = 0.9
    conv1_split: int | str = "auto"
    # Mesh axis over which BatchNorm averages batch statistics in train mode
    # (cross-device BN inside shard_map); None = statistics of the local batch.
    bn_axis_name: str | None = None
    # Train-mode variance as E[x^2] - E[x]^2 (Flax's fast default) or as E[(x - E[x])^2]
    # (False: no cancellation on raw 0..255 pixels; what the trainer uses).
    bn_fast_variance: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.astype(jnp.float32)
        last = len(self.channels) - 1
        for i, (c, g, k, st, pool) in enumerate(
            zip(self.channels, self.groups, KERNELS, STRIDES, POOL_AFTER)
        ):
            split = resolve_conv1_split(self.conv1_split, c) if i == 0 else 0
            x = Conv(c, (k, k), (st, st), g, split, name=f"conv{i + 1}")(x)
            if i < last or self.final_bn:
                x = nn.BatchNorm(
                    use_running_average=not train,
                    momentum=self.bn_momentum,
                    epsilon=self.bn_eps,
                    axis_name=self.bn_axis_name,
                    use_fast_variance=self.bn_fast_variance,
                    name=f"bn{i + 1}",
                )(x)
            if i < last:
                x = nn.relu(x)
            if pool:
                x = max_pool_3x3_s2(x)
        return x
