"""Tracker heads: SiamFC correlation, up-channel RPN (SiamRPN), depthwise RPN (SiamRPN++).

Each head has a template side (`template`, run once per sequence) and a search
side (`__call__(kernels, xf)`). Output channel orders follow the PyTorch
originals: RPN cls channel = class * k + anchor, reg channel = coord * k + anchor.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from dsiam_jax.models import xcorr as xcorr_lib
from dsiam_jax.models.alexnet import conv_init


def _scaled(init, factor: float):
    """`init` with its draws multiplied by `factor`."""

    def scaled(key, shape, dtype=jnp.float32):
        return init(key, shape, dtype) * factor

    return scaled


def _conv(
    features: int, kernel: int, name: str, use_bias: bool = True, init_scale: float = 1.0
) -> nn.Conv:
    return nn.Conv(
        features,
        (kernel, kernel),
        padding="VALID",
        use_bias=use_bias,
        kernel_init=conv_init if init_scale == 1.0 else _scaled(conv_init, init_scale),
        name=name,
    )


class SiamFCHead(nn.Module):
    """Response = xcorr(template feature, search feature) * out_scale + bias."""

    out_scale: float = 0.001
    xcorr_impl: str = "auto"

    def template(self, zf: jax.Array, train: bool = False) -> jax.Array:
        """The template feature is the kernel: `[B, 6, 6, C]`."""
        del train
        return zf

    @nn.compact
    def __call__(self, kernel: jax.Array, xf: jax.Array, train: bool = False) -> dict:
        del train
        bias = self.param("bias", nn.initializers.zeros, ())
        response = xcorr_lib.xcorr(kernel, xf, self.xcorr_impl)  # [B, 17, 17]
        return {"response": response * self.out_scale + bias}


class UpChannelRPN(nn.Module):
    """SiamRPN head: template convs produce 2k and 4k banks of C-channel kernels."""

    channels: int
    num_anchors: int = 5
    xcorr_impl: str = "auto"

    def setup(self):
        c, k = self.channels, self.num_anchors
        # The template convs generate correlation kernels that are summed over
        # 4 x 4 x C products: He-normal draws scaled by 1/sqrt(16 C) start the
        # responses near unit scale (unscaled, a random 48-128-192-192-128 network
        # starts at a cls loss near 80 instead of 2). Initialisation only: the
        # architecture and imported pysot weights are unchanged.
        bank_scale = 1.0 / (16.0 * c) ** 0.5
        self.cls_template = _conv(c * 2 * k, 3, "cls_template", init_scale=bank_scale)
        self.reg_template = _conv(c * 4 * k, 3, "reg_template", init_scale=bank_scale)
        self.cls_search = _conv(c, 3, "cls_search")
        self.reg_search = _conv(c, 3, "reg_search")
        self.reg_adjust = _conv(4 * k, 1, "reg_adjust")

    def _bank(self, out: jax.Array, n: int) -> jax.Array:
        # [B, h, w, n*C] (channel = o*C + c) -> [B, h, w, C, n]
        b, h, w, _ = out.shape
        return jnp.swapaxes(out.reshape(b, h, w, n, self.channels), -1, -2)

    def template(self, zf: jax.Array, train: bool = False) -> dict:
        """Kernel banks `cls [B, 4, 4, C, 2k]`, `reg [B, 4, 4, C, 4k]`."""
        del train
        k = self.num_anchors
        return {
            "cls": self._bank(self.cls_template(zf), 2 * k),
            "reg": self._bank(self.reg_template(zf), 4 * k),
        }

    def __call__(self, kernels: dict, xf: jax.Array, train: bool = False) -> dict:
        del train
        cls = xcorr_lib.xcorr_upchannel(kernels["cls"], self.cls_search(xf), self.xcorr_impl)
        reg = xcorr_lib.xcorr_upchannel(kernels["reg"], self.reg_search(xf), self.xcorr_impl)
        return {"cls": cls, "reg": self.reg_adjust(reg)}  # [B, 17, 17, 2k], [B, 17, 17, 4k]


class DepthwiseXCorr(nn.Module):
    """pysot's DepthwiseXCorr: conv+BN+ReLU on each side, depthwise xcorr, 1x1 head."""

    hidden: int
    out: int
    bn_eps: float = 1e-5
    xcorr_impl: str = "auto"
    bn_axis_name: str | None = None  # cross-device BatchNorm axis (see AlexNet)
    bn_fast_variance: bool = True  # see AlexNet

    def setup(self):
        bn = dict(
            momentum=0.9,
            epsilon=self.bn_eps,
            axis_name=self.bn_axis_name,
            use_fast_variance=self.bn_fast_variance,
        )
        self.conv_kernel = _conv(self.hidden, 3, "conv_kernel", use_bias=False)
        self.bn_kernel = nn.BatchNorm(**bn, name="bn_kernel")
        self.conv_search = _conv(self.hidden, 3, "conv_search", use_bias=False)
        self.bn_search = nn.BatchNorm(**bn, name="bn_search")
        self.head1 = _conv(self.hidden, 1, "head1", use_bias=False)
        self.bn_head = nn.BatchNorm(**bn, name="bn_head")
        self.head2 = _conv(self.out, 1, "head2")

    def template(self, zf: jax.Array, train: bool = False) -> jax.Array:
        k = self.conv_kernel(zf)
        return nn.relu(self.bn_kernel(k, use_running_average=not train))  # [B, 4, 4, H]

    def __call__(self, kernel: jax.Array, xf: jax.Array, train: bool = False) -> jax.Array:
        s = nn.relu(self.bn_search(self.conv_search(xf), use_running_average=not train))
        f = xcorr_lib.xcorr_depthwise(kernel, s, self.xcorr_impl)  # [B, 17, 17, H]
        f = nn.relu(self.bn_head(self.head1(f), use_running_average=not train))
        return self.head2(f)


class DepthwiseRPN(nn.Module):
    """SiamRPN++ style head: one depthwise branch for cls (2k) and one for reg (4k)."""

    channels: int
    num_anchors: int = 5
    bn_eps: float = 1e-5
    xcorr_impl: str = "auto"
    bn_axis_name: str | None = None  # cross-device BatchNorm axis (see AlexNet)
    bn_fast_variance: bool = True  # see AlexNet

    def setup(self):
        args = (self.bn_eps, self.xcorr_impl, self.bn_axis_name, self.bn_fast_variance)
        self.cls = DepthwiseXCorr(self.channels, 2 * self.num_anchors, *args, name="cls")
        self.reg = DepthwiseXCorr(self.channels, 4 * self.num_anchors, *args, name="reg")

    def template(self, zf: jax.Array, train: bool = False) -> dict:
        """Kernels `cls [B, 4, 4, H]`, `reg [B, 4, 4, H]`."""
        return {"cls": self.cls.template(zf, train), "reg": self.reg.template(zf, train)}

    def __call__(self, kernels: dict, xf: jax.Array, train: bool = False) -> dict:
        return {
            "cls": self.cls(kernels["cls"], xf, train),  # [B, 17, 17, 2k]
            "reg": self.reg(kernels["reg"], xf, train),  # [B, 17, 17, 4k]
        }
