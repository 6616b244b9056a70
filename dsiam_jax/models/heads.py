"""The tracker head, built from the branches of `structure(spec)`.

One module for the three head types (SiamFC correlation, up-channel RPN of
SiamRPN, depthwise RPN of SiamRPN++): `Head.template(zf)` runs each branch's
template convs (once per sequence) and `Head(kernels, xf)` its search convs, the
correlation and the convs after it. A conv's `output_scale` (the up-channel
template convs' 1/sqrt(16 C)) multiplies its output in the forward pass, so the
kernels the template branch returns are scaled. The params sit at the paths the description
names (`head/cls_template`, `head/cls/conv_kernel`, `head/bias`, ...), so
checkpoints load unchanged. Output channel orders follow the PyTorch originals:
RPN cls channel = class * k + anchor, reg channel = coord * k + anchor.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dsiam_jax.models import xcorr as xcorr_lib
from dsiam_jax.models.alexnet import conv_init
from dsiam_jax.models.lowering import Lowering
from dsiam_jax.models.pooling import max_pool
from dsiam_jax.models.structure import ConvLayer, NetStructure, foreground_gains

# correlation kind -> batched correlation `fn(kernel, search feature, impl)`.
CORRELATE = {
    "xcorr": xcorr_lib.xcorr,  # [B, 6, 6, C] x [B, 22, 22, C] -> [B, 17, 17]
    "upchannel": xcorr_lib.xcorr_upchannel,  # [B, 4, 4, C, n] x ... -> [B, 17, 17, n]
    "depthwise": xcorr_lib.xcorr_depthwise,  # [B, 4, 4, H] x ... -> [B, 17, 17, H]
}


def _conv(layer: ConvLayer, dtype) -> nn.Conv:
    """The layer's conv (He-normal kernel, zero bias, float32 params computed in `dtype`);
    `Head._walk` applies its output_scale."""
    return nn.Conv(
        layer.out_channels,
        (layer.kernel, layer.kernel),
        strides=(layer.stride, layer.stride),
        padding=[(layer.padding, layer.padding)] * 2,
        feature_group_count=layer.groups,
        use_bias=layer.bias,
        kernel_init=conv_init,
        dtype=dtype,
    )


def _add_layers(module: nn.Module, layers: tuple[ConvLayer, ...]) -> None:
    """Creates each layer's conv (and BatchNorm) in `module.setup` under the layer's names.

    `module` has the BatchNorm fields `bn_eps`, `bn_axis_name`, `bn_fast_variance` and
    the compute `dtype`.
    """
    for layer in layers:
        setattr(module, layer.path[-1], _conv(layer, module.dtype))
        if layer.bn:
            batch_norm = nn.BatchNorm(
                momentum=0.9,
                epsilon=module.bn_eps,
                axis_name=module.bn_axis_name,
                use_fast_variance=module.bn_fast_variance,
                dtype=module.dtype,
            )
            setattr(module, layer.bn, batch_norm)


class LayerGroup(nn.Module):
    """The convs of one params scope below the head (e.g. `head/cls` of the depthwise head)."""

    layers: tuple[ConvLayer, ...]
    bn_eps: float = 1e-5
    bn_axis_name: str | None = None
    bn_fast_variance: bool = True
    dtype: jnp.dtype = jnp.float32

    def setup(self):
        _add_layers(self, self.layers)


class Head(nn.Module):
    """The head of a `NetStructure` (its `branches`; see `dsiam_jax.models.structure`).

    Kernels: one array for a one-branch head (SiamFC `[B, 6, 6, C]`), else a dict by
    branch output (up-channel `[B, 4, 4, C, n]`, depthwise `[B, 4, 4, H]`).
    Outputs: `{'response': [B, 17, 17]}` or `{'cls': [B, 17, 17, 2k], 'reg': [..., 4k]}`.
    """

    layers: NetStructure
    lowering: Lowering
    bn_eps: float = 1e-5
    bn_axis_name: str | None = None  # cross-device BatchNorm axis (see AlexNet)
    bn_fast_variance: bool = True  # see AlexNet
    dtype: jnp.dtype = jnp.float32  # compute dtype (see AlexNet)

    def setup(self):
        own, scoped = [], {}
        for layer in (c for b in self.layers.branches for c in b.convs):
            if len(layer.path) == 2:  # ('head', conv)
                own.append(layer)
            else:  # ('head', scope, conv)
                scoped.setdefault(layer.path[1], []).append(layer)
        _add_layers(self, tuple(own))
        for scope, layers in scoped.items():
            group = LayerGroup(
                tuple(layers), self.bn_eps, self.bn_axis_name, self.bn_fast_variance, self.dtype
            )
            setattr(self, scope, group)
        for b in self.layers.branches:
            if b.response_bias:  # ('head', name): a scalar
                name = b.response_bias[-1]
                setattr(self, name, self.param(name, nn.initializers.zeros, ()))
            if b.foreground_of:  # b.weight_path: one weight per anchor
                name, k = b.weight_path[-1], self.layers.spec.num_anchors
                setattr(self, name, self.param(name, nn.initializers.ones, (k,)))

    def _walk(self, layers: tuple[ConvLayer, ...], x: jax.Array, train: bool) -> jax.Array:
        for layer in layers:
            owner = self
            for scope in layer.path[1:-1]:
                owner = getattr(owner, scope)
            x = getattr(owner, layer.path[-1])(x)
            if layer.output_scale != 1.0:  # fixed factor (up-channel template convs)
                x = x * layer.output_scale
            if layer.bn:
                x = getattr(owner, layer.bn)(x, use_running_average=not train)
            if layer.relu:
                x = nn.relu(x)
            if layer.pool:
                x = max_pool(x, self.lowering.pool_by_slices)
        return x

    def template(self, zf: jax.Array, train: bool = False):
        """Backbone template feature `[B, 6, 6, C]` -> kernels (see the class docstring)."""
        kernels = {}
        for b in self.layers.branches:
            k = self._walk(b.template, zf, train)
            if b.correlation == "upchannel":
                # [B, h, w, n*C] (channel = o*C + c) -> [B, h, w, C, n]
                n, (bsz, h, w, nc) = b.bank, k.shape
                k = jnp.swapaxes(k.reshape(bsz, h, w, n, nc // n), -1, -2)
            kernels[b.output] = k
        return next(iter(kernels.values())) if self.layers.single_kernel else kernels

    def __call__(self, kernels, xf: jax.Array, train: bool = False) -> dict:
        """Kernels and backbone search features `[B, 22, 22, C]` -> the head outputs."""
        branches = self.layers.branches
        if self.layers.single_kernel:
            kernels = {branches[0].output: kernels}
        out = {}
        for b in branches:
            s = self._walk(b.search, xf, train)
            impl = self.lowering.xcorr(b.correlation)
            f = CORRELATE[b.correlation](kernels[b.output], s, impl)
            f = self._walk(b.after, f, train)
            if b.response_bias:
                f = f * self.layers.spec.out_scale + getattr(self, b.response_bias[-1])
            if b.foreground_of:  # [B, 17, 17] x [2k] added to the cls logits (made before)
                gains = foreground_gains(b, getattr(self, b.weight_path[-1]), jnp)
                out[b.foreground_of] = out[b.foreground_of] + f[..., None] * gains.astype(f.dtype)
            else:
                out[b.output] = f
        return out
