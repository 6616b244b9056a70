"""One description of a tracker network's layers, walked by every builder.

`structure(spec)` lists, for a `ModelSpec`, the backbone's convs in order and the
head's branches. Each `ConvLayer` names its params path in the Flax variables
tree and gives its kernel, stride, groups and channels, and what follows it:
BatchNorm (folded on export), ReLU, 3x3/2 max-pool. A head branch is

    template feature -> template convs -> kernel
    search feature   -> search convs -> correlation with the kernel -> after convs

The Flax modules (`alexnet.AlexNet`, `heads.Head`), BatchNorm folding
(`export.fold`), the ONNX and TFLite graph builders and `model_summary` all walk
this description, so a new head or a moved ReLU is one edit here;
`tests/test_structure.py` checks it against the initialised Flax params.

Correlations (`HeadBranch.correlation`, computed in `dsiam_jax.models.xcorr`):

- 'xcorr' (SiamFC): the template feature `[6, 6, C]` is the kernel; one response
  map, scaled by `spec.out_scale` plus a scalar bias (`response_bias`).
- 'upchannel' (SiamRPN): a template conv makes `bank` kernels of C channels
  (conv channel = kernel * C + c); the search feature correlates with each.
  The template convs' outputs are multiplied by 1/sqrt(16 C) (`ConvLayer.output_scale`).
- 'depthwise' (SiamRPN++): channel c of the kernel correlates with channel c of
  the search feature.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from dsiam_jax.models.spec import ModelSpec

CORRELATIONS = ("xcorr", "upchannel", "depthwise")

# AlexNet of SiamFC / SiamRPN: (kernel, stride, 3x3/2 max-pool after) of conv1..conv5.
# All convs are VALID with bias, as in siamfc-pytorch and DaSiamRPN.
ALEXNET = ((11, 2, True), (5, 1, True), (3, 1, False), (3, 1, False), (3, 1, False))
POOL = (3, 2)  # max-pool window and stride (VALID)


@dataclasses.dataclass(frozen=True)
class ConvLayer:
    """A conv (VALID unless `padding`) and what follows it, in this order: BatchNorm,
    ReLU, max-pool.

    Attributes:
      path: params path of the conv, e.g. ('backbone', 'conv1'), ('head', 'cls', 'head1').
      kernel: square kernel size.
      in_channels, out_channels: channels (in_channels is the full input width).
      stride: conv stride.
      padding: zero padding on every side (0: VALID; kernel // 2: the map keeps its size).
      groups: conv groups.
      bias: the conv has a bias.
      bn: name of the BatchNorm module beside the conv (same parent), or None.
      relu: ReLU after the conv (and its BatchNorm).
      pool: 3x3/2 max-pool after the ReLU.
      output_scale: a fixed (not trained) factor on the conv's output, bias
        included, before the BatchNorm: `output_scale * (conv(x, W) + b)`. Part
        of the function the weights compute (like SiamFC's `out_scale`): the
        exporters fold it into W and b, weight importers divide by it. Head
        convs only (the backbone's `AlexNet` has no such factor).
    """

    path: tuple[str, ...]
    kernel: int
    in_channels: int
    out_channels: int
    stride: int = 1
    groups: int = 1
    padding: int = 0
    bias: bool = True
    bn: str | None = None
    relu: bool = False
    pool: bool = False
    output_scale: float = 1.0

    @property
    def name(self) -> str:
        """'/'-joined params path ('backbone/conv1')."""
        return "/".join(self.path)

    @property
    def bn_path(self) -> tuple[str, ...] | None:
        """Params path of the BatchNorm, or None."""
        return (*self.path[:-1], self.bn) if self.bn else None

    @property
    def kernel_shape(self) -> tuple[int, int, int, int]:
        """Flax kernel shape (HWIO, I = in_channels / groups)."""
        k = self.kernel
        return (k, k, self.in_channels // self.groups, self.out_channels)

    def conv_size(self, size: int) -> int:
        """Spatial size after the conv (before any pool) for an input of `size`."""
        return conv_size(size + 2 * self.padding, self.kernel, self.stride)

    def output_size(self, size: int) -> int:
        """Spatial size after the conv and its pool."""
        s = self.conv_size(size)
        return pooled_size(s) if self.pool else s

    @property
    def num_params(self) -> int:
        """Trainable scalars: kernel, bias, BatchNorm scale and bias."""
        n = self.kernel * self.kernel * self.in_channels // self.groups * self.out_channels
        return n + self.out_channels * (int(self.bias) + 2 * int(self.bn is not None))

    @property
    def num_state(self) -> int:
        """BatchNorm running statistics (mean, var)."""
        return 2 * self.out_channels if self.bn else 0


@dataclasses.dataclass(frozen=True)
class HeadBranch:
    """One head output: template convs -> kernel; search convs -> correlation -> after convs.

    Attributes:
      output: key of the head output ('response' | 'cls' | 'reg').
      kernel: name of its kernel in exported graphs ('kernel' | 'cls_kernel' | ...).
      correlation: 'xcorr' | 'upchannel' | 'depthwise' (see the module docstring).
      template: convs from the backbone's template feature to the kernel.
      search: convs from the backbone's search feature to the correlated feature.
      after: convs from the correlation to the output.
      bank: up-channel only: kernels per bank (maps out of the correlation).
      response_bias: SiamFC only: params path of the scalar response bias; the
        output is one map (`[B, R, R]`), correlation * spec.out_scale + bias.
      foreground_of: the RPN output ('cls') whose k foreground logits this branch's
        one map is added to, times `correlation_scale` and the per-anchor weights `[k]`
        at `weight_path`; it is not an output itself.
      correlation_scale: fixed factor on the correlation (foreground_of branches).
    """

    output: str
    kernel: str
    correlation: str
    template: tuple[ConvLayer, ...] = ()
    search: tuple[ConvLayer, ...] = ()
    after: tuple[ConvLayer, ...] = ()
    bank: int = 0
    response_bias: tuple[str, ...] | None = None
    foreground_of: str | None = None
    correlation_scale: float = 1.0

    @property
    def convs(self) -> tuple[ConvLayer, ...]:
        return (*self.template, *self.search, *self.after)

    @property
    def weight_path(self) -> tuple[str, str]:
        """Params path of a `foreground_of` branch's per-anchor weights."""
        return ("head", f"{self.output}_weight")

    def correlation_maps(self, kernel_channels: int) -> int:
        """Maps out of the correlation, for a kernel of `kernel_channels` channels."""
        if self.correlation == "xcorr":
            return 1
        if self.correlation == "upchannel":
            return self.bank
        return kernel_channels

    def correlation_depth(self, kernel_channels: int) -> int:
        """Channels summed per correlation output (C; 1 for depthwise)."""
        if self.correlation == "upchannel":
            return kernel_channels // self.bank
        return 1 if self.correlation == "depthwise" else kernel_channels


@dataclasses.dataclass(frozen=True)
class NetStructure:
    """The layers of `SiameseNet(spec)`: backbone convs in order, then head branches."""

    spec: ModelSpec
    backbone: tuple[ConvLayer, ...]
    branches: tuple[HeadBranch, ...]

    @property
    def convs(self) -> tuple[ConvLayer, ...]:
        """Every conv: backbone first, then each branch's template, search, after convs."""
        return (*self.backbone, *(c for b in self.branches for c in b.convs))

    @property
    def kernel_names(self) -> tuple[str, ...]:
        return tuple(b.kernel for b in self.branches)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The head's outputs (branches added into another output are not among them)."""
        return tuple(b.output for b in self.branches if not b.foreground_of)

    @property
    def single_kernel(self) -> bool:
        """The head's kernels are one array (SiamFC), not a dict by branch output."""
        return len(self.branches) == 1

    @property
    def feature_channels(self) -> int:
        return self.backbone[-1].out_channels

    def feature_size(self, input_size: int) -> int:
        """Spatial size of the backbone output for a square input of `input_size`."""
        return walk_size(self.backbone, input_size)

    def kernel_geometry(self, branch: HeadBranch, template_size: int) -> tuple[int, int]:
        """(spatial size, channels) of `branch`'s kernel as the template convs make it."""
        size = walk_size(branch.template, self.feature_size(template_size))
        channels = branch.template[-1].out_channels if branch.template else self.feature_channels
        return size, channels

    def num_params(self) -> int:
        """Trainable scalars of `SiameseNet(spec)` (its `params` collection)."""
        biases = sum(1 for b in self.branches if b.response_bias)
        weights = sum(self.spec.num_anchors for b in self.branches if b.foreground_of)
        return sum(c.num_params for c in self.convs) + biases + weights

    def num_state(self) -> int:
        """BatchNorm statistics of `SiameseNet(spec)` (its `batch_stats` collection)."""
        return sum(c.num_state for c in self.convs)


def conv_size(size: int, kernel: int, stride: int = 1) -> int:
    """Spatial size after a VALID conv of `kernel` and `stride` on a `size` input."""
    return (size - kernel) // stride + 1


def pooled_size(size: int) -> int:
    """Spatial size after the max-pool (`POOL`: 3x3, stride 2, VALID) of a `size` input."""
    return conv_size(size, *POOL)


def walk_size(layers: tuple[ConvLayer, ...], size: int) -> int:
    """Spatial size after `layers` (convs and pools) for an input of `size`."""
    for layer in layers:
        size = layer.output_size(size)
    return size


def feature_size(input_size: int) -> int:
    """Spatial size of the AlexNet output for a square input: 127 -> 6, 255 -> 22, 271 -> 24.

    The backbone's geometry does not depend on its widths.
    """
    return structure(ModelSpec()).feature_size(input_size)


def _alexnet(spec: ModelSpec) -> tuple[ConvLayer, ...]:
    """conv1-4 + BN + ReLU (max-pool after conv1, conv2); conv5 (+ BN when `final_bn`)."""
    layers, cin, last = [], 3, len(ALEXNET) - 1
    for i, ((kernel, stride, pool), cout, groups) in enumerate(
        zip(ALEXNET, spec.channels, spec.groups, strict=True)
    ):
        bn = i < last or spec.final_bn
        layers.append(
            ConvLayer(
                ("backbone", f"conv{i + 1}"),
                kernel,
                cin,
                cout,
                stride,
                groups,
                bn=f"bn{i + 1}" if bn else None,
                relu=i < last,
                pool=pool,
            )
        )
        cin = cout
    return tuple(layers)


def _siamfc_head(spec: ModelSpec) -> tuple[HeadBranch, ...]:
    """Response = xcorr(template feature, search feature) * out_scale + bias."""
    del spec
    return (HeadBranch("response", "kernel", "xcorr", response_bias=("head", "bias")),)


def _upchannel_head(spec: ModelSpec) -> tuple[HeadBranch, ...]:
    """SiamRPN: 3x3 template convs make 2k cls and 4k reg kernels of C channels;
    3x3 search convs; a 1x1 conv adjusts the reg maps. All convs with bias."""
    c, k, cin = spec.rpn_channels, spec.num_anchors, spec.channels[-1]
    # The template convs generate correlation kernels that are summed over
    # 4 x 4 x C products: their outputs times 1/sqrt(16 C) keep He-initialised
    # responses near unit scale (unscaled, a random 48-128-192-192-128 network
    # starts at a cls loss near 80 instead of 2). A factor in the forward pass,
    # not on the initial weights: scaling only the initial draws left the
    # gradients unscaled, so each SGD step was huge relative to the weights and
    # the head diverged (issue 14). DaSiamRPN weights are divided by it on import.
    bank_scale = 1.0 / (16.0 * c) ** 0.5

    def branch(name: str, bank: int, adjust: bool) -> HeadBranch:
        template = ConvLayer(
            ("head", f"{name}_template"), 3, cin, c * bank, output_scale=bank_scale
        )
        search = ConvLayer(("head", f"{name}_search"), 3, cin, c)
        after = (ConvLayer(("head", f"{name}_adjust"), 1, bank, bank),) if adjust else ()
        return HeadBranch(name, f"{name}_kernel", "upchannel", (template,), (search,), after, bank)

    return branch("cls", 2 * k, adjust=False), branch("reg", 4 * k, adjust=True)


def _depthwise_head(spec: ModelSpec) -> tuple[HeadBranch, ...]:
    """SiamRPN++ (pysot's DepthwiseXCorr per output): 3x3 conv + BN + ReLU on each
    side, depthwise correlation, 1x1 conv + BN + ReLU (k x k, padded, for
    `spec.rpn_head_kernel=k`), 1x1 conv to 2k / 4k maps."""
    h, k, cin = spec.rpn_channels, spec.num_anchors, spec.channels[-1]
    kh = spec.rpn_head_kernel

    def branch(name: str, out: int) -> HeadBranch:
        p = ("head", name)
        return HeadBranch(
            name,
            f"{name}_kernel",
            "depthwise",
            template=(
                ConvLayer((*p, "conv_kernel"), 3, cin, h, bias=False, bn="bn_kernel", relu=True),
            ),
            search=(
                ConvLayer((*p, "conv_search"), 3, cin, h, bias=False, bn="bn_search", relu=True),
            ),
            after=(
                ConvLayer(
                    (*p, "head1"), kh, h, h, padding=kh // 2, bias=False, bn="bn_head", relu=True
                ),
                ConvLayer((*p, "head2"), 1, h, out),
            ),
        )

    return branch("cls", 2 * k), branch("reg", 4 * k)


def _cls_xcorr(spec: ModelSpec) -> HeadBranch:
    """`spec.rpn_cls_xcorr`: SiamFC's correlation of the backbone features (6x6 template
    feature over the search feature, no convs), scaled to about unit spread by
    1/sqrt(6 x 6 x C), added to the k foreground logits with a weight per anchor."""
    c = spec.channels[-1]
    return HeadBranch(
        "cls_xcorr",
        "cls_xcorr_kernel",
        "xcorr",
        foreground_of="cls",
        correlation_scale=1.0 / (36.0 * c) ** 0.5,
    )


def foreground_gains(branch: HeadBranch, weight, xp=np):
    """Per-channel factors `[2k]` that add a `foreground_of` branch's map to its output:
    0 for the k background logits, correlation_scale x weight `[k]` for the k
    foreground ones (cls channel = class * k + anchor). `xp`: numpy or jax.numpy."""
    weight = weight * branch.correlation_scale
    return xp.concatenate([xp.zeros_like(weight), weight])


def output_conv(spec: ModelSpec, output: str) -> ConvLayer:
    """The conv that makes the RPN's `output` map ('cls' or 'reg'): its branch's last conv
    after the correlation, else its template conv (the map is linear in its kernels)."""
    (branch,) = (b for b in structure(spec).branches if b.output == output)
    return branch.after[-1] if branch.after else branch.template[-1]


def tower_paths(spec: ModelSpec, output: str) -> tuple[tuple[str, ...], ...]:
    """Params paths (below the model) of the RPN `output` branch's tower: its convs
    before its output conv (`output_conv`) and their BatchNorm, e.g. depth-wise
    `('head', 'reg', 'conv_kernel')`, `('head', 'reg', 'bn_kernel')`, ... `('head', 'reg',
    'bn_head')`; up-channel `('head', 'reg_template')`, `('head', 'reg_search')`. Not the
    `foreground_of` branch added to 'cls' (`spec.rpn_cls_xcorr`), which has no convs."""
    last = output_conv(spec, output)
    (branch,) = (b for b in structure(spec).branches if b.output == output)
    paths = []
    for conv in branch.convs:
        if conv is not last:
            paths.append(conv.path)
            if conv.bn:
                paths.append((*conv.path[:-1], conv.bn))
    return tuple(paths)


# spec.head -> its branches (the one place that dispatches on the head type).
HEAD_LAYOUTS = {"xcorr": _siamfc_head, "upchannel": _upchannel_head, "depthwise": _depthwise_head}


@functools.lru_cache(maxsize=64)
def structure(spec: ModelSpec) -> NetStructure:
    """The layers of `SiameseNet(spec)`."""
    branches = HEAD_LAYOUTS[spec.head](spec)
    if spec.rpn_cls_xcorr:
        branches = (*branches, _cls_xcorr(spec))
    return NetStructure(spec, _alexnet(spec), branches)
