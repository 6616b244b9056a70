"""Per-layer conv timings, XLA:CPU against onnxruntime, on the tracker's search shapes.

    python -m benchmarks.conv_layers [--out FILE] [--repeats N]

Where does the JAX tracking path lose to onnxruntime (oneDNN / MLAS kernels)? Every
backbone conv of the SiamFC teacher and the quarter-width student is timed alone on
its search-branch input (3 scales of 255x255, the tracker's batch), as one jitted
`lax.conv_general_dilated` (NHWC, HWIO, groups as `feature_group_count`, the lowering
the Flax model uses) and as a one-node ONNX `Conv` graph (NCHW) on onnxruntime with the
tracker's session options; JAX also one scale at a time (times 3: the tracker's
default `lax.map` over scales, XLA:CPU being slower on batches), once as that one conv
and once as the model's `Conv` with this backend's `Lowering` at batch 1, compiled as
the tracker compiles it (on CPU: Eigen kernels, one conv per group; on YNNPACK also
conv1 on pixel blocks in chunks, Winograd F(2x2, 3x3), input-channel chunks). The
first two use XLA's default kernels (YNNPACK on CPU). Rows give milliseconds, GFLOP/s
and the JAX / onnxruntime time ratios; max-pools are left out (cheap). Weights are
random (speed does not depend on them).
"""

from __future__ import annotations

import jax
import numpy as np
import onnx
import onnxruntime as ort
from jax import lax
from onnx import TensorProto, helper

from benchmarks.timing import arguments, time_fn, write_json
from dsiam_jax import models as M
from dsiam_jax.export.runtime import session_options
from dsiam_jax.models.alexnet import layer_conv
from dsiam_jax.models.structure import structure

SCALES = 3
SEARCH = 255


def onnx_conv(x_shape, w: np.ndarray, stride: int, groups: int, out_shape) -> ort.InferenceSession:
    """A session running one NCHW `Conv` with constant weight `w` [O, I/g, kh, kw]."""
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], strides=[stride, stride], group=groups,
        kernel_shape=list(w.shape[2:]),
    )  # fmt: skip
    graph = helper.make_graph(
        [node],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    options = session_options()
    return ort.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )


def time_layer(
    layer, first: bool, size: int, rng: np.random.Generator, repeats: int
) -> tuple[float, float, float, float]:
    """Median milliseconds of `layer`'s conv on a `[SCALES, size, size, C]` input:
    (JAX as one batch, JAX one scale at a time (x SCALES), the same lowered as the
    model does (x SCALES; `first` = conv1), onnxruntime)."""
    cin, cout, k, g = layer.in_channels, layer.out_channels, layer.kernel, layer.groups
    x = rng.normal(size=(SCALES, size, size, cin)).astype(np.float32)  # NHWC
    w = rng.normal(size=(k, k, cin // g, cout)).astype(np.float32) * 0.05  # HWIO
    dims = ("NHWC", "HWIO", "NHWC")
    conv = jax.jit(
        lambda x, w: lax.conv_general_dilated(
            x, w, (layer.stride,) * 2, "VALID", dimension_numbers=dims, feature_group_count=g
        )
    )
    xd, wd, x1 = jax.device_put(x), jax.device_put(w), jax.device_put(x[:1])
    jax_ms = 1e3 * time_fn(lambda: conv(xd, wd), repeats)["median_s"]
    per_scale_ms = SCALES * 1e3 * time_fn(lambda: conv(x1, wd), repeats)["median_s"]
    lowering = M.Lowering.for_backend()
    module = layer_conv(layer, lowering, first)
    variables = {"params": {"kernel": wd, "bias": jax.device_put(np.zeros(cout, np.float32))}}
    lowered = jax.jit(module.apply, compiler_options=lowering.compiler_options(1))
    lowered_ms = SCALES * 1e3 * time_fn(lambda: lowered(variables, x1), repeats)["median_s"]
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = layer.conv_size(size)
    w_oihw = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
    sess = onnx_conv(x_nchw.shape, w_oihw, layer.stride, g, (SCALES, cout, out, out))
    ort_ms = 1e3 * time_fn(lambda: sess.run(None, {"x": x_nchw}), repeats)["median_s"]
    return jax_ms, per_scale_ms, lowered_ms, ort_ms


def layer_rows(name: str, spec: M.ModelSpec, repeats: int) -> list[dict]:
    """One row per backbone conv of `spec` on the search branch."""
    rng = np.random.default_rng(0)
    rows, size = [], SEARCH
    for i, layer in enumerate(structure(spec).backbone):
        jax_ms, per_scale_ms, lowered_ms, ort_ms = time_layer(layer, i == 0, size, rng, repeats)
        cin, cout, k, g = layer.in_channels, layer.out_channels, layer.kernel, layer.groups
        out = layer.conv_size(size)
        gflop = 2 * SCALES * out * out * cout * k * k * cin // g / 1e9
        row = {
            "model": name,
            "layer": layer.name,
            "input": [SCALES, size, size, cin],
            "kernel": k,
            "groups": g,
            "stride": layer.stride,
            "out_channels": cout,
            "gflop": gflop,
            "jax_ms": jax_ms,
            "jax_per_scale_ms": per_scale_ms,  # the tracker's default: lax.map over scales
            "jax_lowered_per_scale_ms": lowered_ms,  # + the model's Lowering on this backend
            "onnxruntime_ms": ort_ms,
            "jax_gflops": gflop / jax_ms * 1e3,
            "onnxruntime_gflops": gflop / ort_ms * 1e3,
            "jax_over_onnxruntime_time": jax_ms / ort_ms,
            "jax_per_scale_over_onnxruntime_time": per_scale_ms / ort_ms,
            "jax_lowered_per_scale_over_onnxruntime_time": lowered_ms / ort_ms,
        }
        rows.append(row)
        print(
            f"{name:<16} {layer.name:<16} k{k} g{g} {cin:>3}->{cout:<4} in {size:>3}  "
            f"JAX {jax_ms:7.2f} ms ({row['jax_gflops']:4.0f} GFLOP/s)  onnxruntime "
            f"{ort_ms:7.2f} ms ({row['onnxruntime_gflops']:4.0f})  ratio {jax_ms / ort_ms:.2f}, "
            f"per scale {per_scale_ms / ort_ms:.2f}, lowered {lowered_ms / ort_ms:.2f}",
            flush=True,
        )
        size = layer.output_size(size)
    return rows


def main() -> None:
    args = arguments(__doc__).parse_args()
    teacher = M.teacher_spec("siamfc")
    student = teacher.replace(channels=(24, 64, 96, 96, 64))
    rows = layer_rows("siamfc_teacher", teacher, args.repeats)
    rows += layer_rows("siamfc_student", student, args.repeats)
    totals = {
        n: {
            "jax_ms": sum(r["jax_ms"] for r in rows if r["model"] == n),
            "jax_per_scale_ms": sum(r["jax_per_scale_ms"] for r in rows if r["model"] == n),
            "jax_lowered_per_scale_ms": sum(
                r["jax_lowered_per_scale_ms"] for r in rows if r["model"] == n
            ),
            "onnxruntime_ms": sum(r["onnxruntime_ms"] for r in rows if r["model"] == n),
        }
        for n in ("siamfc_teacher", "siamfc_student")
    }
    print("convs only, totals:", totals)
    print("wrote", write_json("conv_layers", {"rows": rows, "totals": totals}, args.out))


if __name__ == "__main__":
    main()
