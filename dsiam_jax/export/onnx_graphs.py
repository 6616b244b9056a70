"""ONNX graphs of a tracker, written node by node with `onnx.helper` from a `FoldedNet`.

Two graphs per network (the tracker's two network calls):

- `template.onnx`: `template` `[1, Z, Z, 3]` (NHWC float32, RGB 0..255) -> the
  head's kernels, already in the layout the track graph's correlation convs take
  as their (dynamic) weight input:
    SiamFC      `kernel`      `[1, C, 6, 6]`   (the template feature, NCHW = OIHW, O=1)
    up-channel  `cls_kernel`  `[2k, C, 4, 4]`  `reg_kernel` `[4k, C, 4, 4]` (OIHW)
    depthwise   `cls_kernel`  `[H, 1, 4, 4]`   `reg_kernel` `[H, 1, 4, 4]`  (group=H)
- `track.onnx`: `search` `[S, X, X, 3]` (S = scales, a dynamic axis) plus those
  kernels -> the head outputs in the JAX layout (NHWC):
    SiamFC `response` `[S, 17, 17]`; SiamRPN `cls` `[S, 17, 17, 2k]`, `reg` `[S, 17, 17, 4k]`.

Layouts are explicit: the graph transposes its NHWC input to NCHW once, runs
every conv in NCHW/OIHW (BatchNorm and a conv's `output_scale` folded into its
weights by `export.fold`: no extra node), and transposes the head output back.
The Siamese correlation takes the template kernel as an input: SiamFC's and the
up-channel head's as a `MatMul` plus a `Col2Im` (opset 18; `_GraphBuilder.xcorr`
says why), the depth-wise head's as a grouped `Conv` whose weight is the kernel.
One template against S search crops is an ordinary batch. Max-pooling is a
standard `MaxPool`.

Weight storage (`weights=`): 'fp32'; 'fp16' (fp16 initialisers + `Cast` to
float32: half the file, fp32 compute, onnxruntime folds the casts at load);
'int8' (weight-only, symmetric per-output-channel int8 + `DequantizeLinear`:
a quarter of the file). Biases stay float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from dsiam_jax.export.fold import FoldedConv, FoldedNet
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.models.structure import (
    ConvLayer,
    HeadBranch,
    foreground_gains,
    structure,
    walk_size,
)

OPSET = 18  # for Col2Im (the correlation, `_GraphBuilder.xcorr`): onnxruntime >= 1.14
IR_VERSION = 8  # widely supported (onnxruntime >= 1.10, mobile runtimes)
WEIGHT_FORMATS = ("fp32", "fp16", "int8")
SCALES_AXIS = "scales"  # name of the search batch axis
WEIGHTS_KEY = "dsiam_jax.weights"  # metadata: how the weights are stored


def set_weight_format(model: onnx.ModelProto, weights: str) -> None:
    """Records the weight storage ('fp32' | 'fp16' | 'int8' | 'qdq') in the model metadata."""
    for prop in model.metadata_props:
        if prop.key == WEIGHTS_KEY:
            prop.value = weights
            return
    model.metadata_props.add(key=WEIGHTS_KEY, value=weights)


def weight_format(model: onnx.ModelProto) -> str:
    """The weight storage recorded by `set_weight_format` ('fp32' when absent)."""
    return next((p.value for p in model.metadata_props if p.key == WEIGHTS_KEY), "fp32")


class _GraphBuilder:
    """Collects nodes and initialisers; names intermediate values uniquely."""

    def __init__(self, weights: str = "fp32"):
        if weights not in WEIGHT_FORMATS:
            raise ValueError(f"weights={weights!r}: expected one of {WEIGHT_FORMATS}")
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], hint: str = "", out: str = "", **attrs):
        out = out or self._name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def weight(self, name: str, w: np.ndarray) -> str:
        """A conv weight `[O, ...]` in the chosen storage format, as a float32 value."""
        w = np.asarray(w, np.float32)
        if self.weights == "fp32":
            return self.const(name, w)
        if self.weights == "fp16":
            stored = self.const(f"{name}_fp16", w.astype(np.float16))
            return self.op("Cast", [stored], out=name, to=TensorProto.FLOAT)
        amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(w / scale.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127)
        stored = self.const(f"{name}_int8", q.astype(np.int8))
        s = self.const(f"{name}_scale", scale)
        zp = self.const(f"{name}_zero_point", np.zeros(w.shape[0], np.int8))
        return self.op("DequantizeLinear", [stored, s, zp], out=name, axis=0)

    def conv(self, x: str, conv: FoldedConv, name: str, relu: bool = False) -> str:
        w = self.weight(f"{name}.weight", conv.weight)
        b = self.const(f"{name}.bias", conv.bias)
        kh, kw = conv.weight.shape[2:]
        y = self.op(
            "Conv",
            [x, w, b],
            hint=name,
            kernel_shape=[int(kh), int(kw)],
            strides=[conv.stride, conv.stride],
            pads=[conv.padding] * 4,
            group=conv.groups,
        )
        return self.op("Relu", [y], hint=f"{name}_relu") if relu else y

    def xcorr(
        self,
        x: str,
        kernel: str,
        kernel_shape: Sequence[int],
        feature: int,
        groups: int = 1,
        hint: str = "xcorr",
    ) -> str:
        """Correlation of NCHW `x` `[S, C, F, F]` (F = `feature`) with a dynamic OIHW
        `kernel` of `kernel_shape` `(maps, depth, k, k)` -> `[S, maps, R, R]`, R = F - k + 1.

        Grouped (depth-wise) correlations are a `Conv` with the kernel as its weight.
        Ungrouped ones (SiamFC, up-channel) are a matrix product and a `Col2Im`:
        P = kernel `[maps*k*k, C]` @ x `[S, C, F*F]` holds every tap's product at every
        search position, and output (i, j) sums P[(u, v), (i+u, j+v)] over the taps.
        `Col2Im` with pads k-1 sums P[(u', v'), (i+k-1-u', j+k-1-v')], the same sum
        once the taps are reversed (done on the kernel rows). onnxruntime runs a `Conv`
        with a non-constant weight through a full im2col; on 2 cores, 3 scales, this is
        5.9x / 9.4x faster for SiamFC C=64 / 256 (0.55 -> 0.09 ms, 2.1 -> 0.23 ms).
        """
        maps, depth, k, _ = (int(d) for d in kernel_shape)
        if groups != 1:
            return self.op("Conv", [x, kernel], hint=hint, kernel_shape=[k, k], group=groups)
        r = feature - k + 1
        km = self.op("Transpose", [kernel], hint=f"{hint}_kt", perm=[0, 2, 3, 1])
        km = self.op("Reshape", [km, self.const(f"{hint}_kshape", np.asarray([maps, -1, depth]))])
        reverse = self.const(f"{hint}_reverse", np.arange(k * k)[::-1].copy())
        km = self.op("Gather", [km, reverse], hint=f"{hint}_reversed", axis=1)  # [maps, kk, C]
        km = self.op("Reshape", [km, self.const(f"{hint}_kmshape", np.asarray([-1, depth]))])
        xm = self.op("Reshape", [x, self.const(f"{hint}_xshape", np.asarray([0, depth, -1]))])
        p = self.op("MatMul", [km, xm], hint=f"{hint}_taps")  # [S, maps*k*k, F*F]
        size = self.const(f"{hint}_size", np.asarray([r, r]))
        block = self.const(f"{hint}_block", np.asarray([k, k]))
        return self.op("Col2Im", [p, size, block], hint=hint, pads=[k - 1] * 4)

    def to_nchw(self, x: str) -> str:
        return self.op("Transpose", [x], hint="nchw", perm=[0, 3, 1, 2])

    def to_nhwc(self, x: str, out: str) -> str:
        return self.op("Transpose", [x], out=out, perm=[0, 2, 3, 1])

    def model(self, name: str, inputs, outputs, doc: str = "") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="dsiam_jax",
            doc_string=doc,
        )
        model.ir_version = IR_VERSION
        set_weight_format(model, self.weights)
        return model


def _walk(g: _GraphBuilder, net: FoldedNet, layers: Sequence[ConvLayer], x: str) -> str:
    """NCHW value `x` through `layers` (folded convs, ReLU, max-pool)."""
    for layer in layers:
        x = g.conv(x, net[layer], ".".join(layer.path), relu=layer.relu)
        if layer.pool:
            x = g.op(
                "MaxPool", [x], hint=f"{layer.path[-1]}_pool", kernel_shape=[3, 3], strides=[2, 2]
            )
    return x


def _value(name: str, shape: Sequence[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def kernel_shape(branch: HeadBranch, size: int, channels: int) -> tuple[int, int, int, int]:
    """OIHW weight of a branch's correlation conv, for a kernel `[size, size, channels]`.

    SiamFC `[1, C, 6, 6]`; up-channel `[n, C, 4, 4]`; depthwise `[H, 1, 4, 4]` (group=H).
    """
    maps = branch.correlation_maps(channels)
    return (maps, branch.correlation_depth(channels), size, size)


def kernel_shapes(net: FoldedNet, template_size: int = 127) -> dict[str, tuple[int, ...]]:
    """Shapes of the kernels the template graph produces."""
    s = net.structure
    return {b.kernel: kernel_shape(b, *s.kernel_geometry(b, template_size)) for b in s.branches}


def template_graph(
    net: FoldedNet, template_size: int = 127, weights: str = "fp32"
) -> onnx.ModelProto:
    """Template crop `[1, Z, Z, 3]` -> kernels (see the module docstring)."""
    spec, s = net.spec, net.structure
    g = _GraphBuilder(weights)
    zf = _walk(g, net, s.backbone, g.to_nchw("template"))
    shapes = kernel_shapes(net, template_size)
    for b in s.branches:
        k = _walk(g, net, b.template, zf)  # [1, maps * depth, h, w]
        maps, depth, h, w = shapes[b.kernel]
        if maps == 1:
            g.op("Identity", [k], out=b.kernel)
        else:  # up-channel channel = o*C + c -> [n, C, h, w]; depthwise -> [H, 1, h, w]
            shape = g.const(f"{b.kernel}_shape", np.asarray(shapes[b.kernel]))
            g.op("Reshape", [k, shape], out=b.kernel)
    inputs = [_value("template", (1, template_size, template_size, 3))]
    outputs = [_value(n, shapes[n]) for n in s.kernel_names]
    doc = f"dsiam_jax template branch: {spec.kind}/{spec.head} channels={list(spec.channels)}"
    return g.model("template", inputs, outputs, doc)


def track_graph(
    net: FoldedNet,
    search_size: int = 255,
    template_size: int = 127,
    weights: str = "fp32",
    batch: int | None = None,
) -> onnx.ModelProto:
    """Search crops `[S, X, X, 3]` + kernels -> head outputs (NHWC, as in JAX).

    `batch=None` leaves S dynamic (axis name 'scales'); an int fixes it.
    """
    spec, s = net.spec, net.structure
    g = _GraphBuilder(weights)
    xf = _walk(g, net, s.backbone, g.to_nchw("search"))
    shapes = kernel_shapes(net, template_size)
    s_dim: int | str = SCALES_AXIS if batch is None else batch
    x_size = s.feature_size(search_size)
    outputs, maps_nchw = [], {}
    for b in s.branches:
        maps, depth, kz, _ = shapes[b.kernel]
        f = _walk(g, net, b.search, xf)
        channels = b.search[-1].out_channels if b.search else s.feature_channels
        f_size = walk_size(b.search, x_size)
        f = g.xcorr(
            f,
            b.kernel,
            shapes[b.kernel],
            f_size,
            groups=channels // depth,
            hint=f"{b.output}_xcorr",
        )
        f = _walk(g, net, b.after, f)  # [S, n_out, R, R]
        size = walk_size(b.after, f_size - kz + 1)
        if b.response_bias:
            f = g.op("Mul", [f, g.const("out_scale", np.float32(spec.out_scale))], hint="scaled")
            f = g.op("Add", [f, g.const("response_bias", np.float32(net.response_bias))], hint="b")
            g.op("Squeeze", [f, g.const("squeeze_axes", np.asarray([1]))], out=b.output)
            outputs.append(_value(b.output, (s_dim, size, size)))
        elif b.foreground_of:  # [S, 1, R, R] x [1, 2k, 1, 1] added to the cls logits
            gains = foreground_gains(b, net.foreground_weights[b.output])[None, :, None, None]
            f = g.op("Mul", [f, g.const(f"{b.output}_gains", gains)], hint=f"{b.output}_fg")
            target = maps_nchw[b.foreground_of]
            maps_nchw[b.foreground_of] = g.op("Add", [target, f], hint=b.foreground_of)
        else:
            n_out = b.after[-1].out_channels if b.after else maps
            maps_nchw[b.output] = f
            outputs.append(_value(b.output, (s_dim, size, size, n_out)))
    for name, f in maps_nchw.items():
        g.to_nhwc(f, name)
    inputs = [_value("search", (s_dim, search_size, search_size, 3))]
    inputs += [_value(n, shapes[n]) for n in s.kernel_names]
    doc = f"dsiam_jax track step: {spec.kind}/{spec.head} channels={list(spec.channels)}"
    return g.model("track", inputs, outputs, doc)


def jax_kernels_to_onnx(spec: ModelSpec, kernels) -> dict[str, np.ndarray]:
    """JAX template-branch kernels (batch 1) in the ONNX layout (for parity checks).

    SiamFC `[1, 6, 6, C]` -> `[1, C, 6, 6]`; up-channel `[1, 4, 4, C, n]` -> `[n, C, 4, 4]`;
    depthwise `[1, 4, 4, H]` -> `[H, 1, 4, 4]`.
    """
    s = structure(spec)
    tree = {s.branches[0].output: kernels} if s.single_kernel else kernels
    out = {}
    for b in s.branches:
        k = np.asarray(tree[b.output], np.float32)[0]  # [h, w, C] or up-channel [h, w, C, n]
        if b.correlation == "upchannel":
            k = np.swapaxes(k, -1, -2)  # [h, w, n, C]: flat channel = o*C + c
        h, w = k.shape[:2]
        k = k.reshape(h, w, -1)
        shape = kernel_shape(b, h, k.shape[-1])
        out[b.kernel] = np.ascontiguousarray(k.transpose(2, 0, 1).reshape(shape))
    return out
