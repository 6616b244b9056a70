"""onnxruntime sessions for the exported graphs: `OnnxNetwork.template / .track`.

    net = OnnxNetwork.from_models(template_proto, track_proto)     # or .from_files(dir)
    kernels = net.template(z)          # z [1, 127, 127, 3] float32 NHWC
    out = net.track(x, kernels)        # x [S, X, X, 3] -> {'response'} or {'cls', 'reg'}

Sessions run on the CPU execution provider with `threads` intra-op threads
(2 by default: the phone-like budget the benchmarks use), one inter-op thread and
all graph optimisations.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

import numpy as np
import onnx
import onnxruntime as ort

from dsiam_jax.export.onnx_graphs import weight_format

DEFAULT_THREADS = 2


def session_options(
    threads: int = DEFAULT_THREADS, qdq: bool = False, spinning: bool = False
) -> ort.SessionOptions:
    """CPU session options: `threads` intra-op threads, sequential, full optimisation.

    Unless `qdq` (a statically quantised graph, whose QDQ pairs onnxruntime fuses
    into int8 kernels), `DequantizeLinear` of constant weights is folded at load,
    so weight-only int8 graphs run as fast as float32 ones (measured: 103 -> 75 ms).
    Idle worker threads sleep instead of spinning (`spinning=False`): in a tracker
    the network alternates with JAX's crop and post-processing on the same cores,
    and spinning onnxruntime threads slowed those down (whole step, 2 loaded
    cores: 180-257 ms without spinning vs 252-278 ms with it).
    """
    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.disable_quant_qdq", "0" if qdq else "1")
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


def make_session(
    model: onnx.ModelProto | str | os.PathLike, threads: int = DEFAULT_THREADS
) -> ort.InferenceSession:
    """An onnxruntime CPU session for a model proto or an `.onnx` path."""
    proto = model if isinstance(model, onnx.ModelProto) else onnx.load(str(model))
    opts = session_options(threads, qdq=weight_format(proto) == "qdq")
    return ort.InferenceSession(
        proto.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )


class OnnxNetwork:
    """The template and track graphs of one tracker network on onnxruntime."""

    def __init__(self, template: ort.InferenceSession, track: ort.InferenceSession):
        self.template_session = template
        self.track_session = track
        self.kernel_names = tuple(o.name for o in template.get_outputs())
        self.output_names = tuple(o.name for o in track.get_outputs())

    @classmethod
    def from_models(
        cls, template: onnx.ModelProto, track: onnx.ModelProto, threads: int = DEFAULT_THREADS
    ) -> OnnxNetwork:
        return cls(make_session(template, threads), make_session(track, threads))

    @classmethod
    def from_files(
        cls, directory: str | os.PathLike, suffix: str = "", threads: int = DEFAULT_THREADS
    ) -> OnnxNetwork:
        """`DIR/template{suffix}.onnx` and `DIR/track{suffix}.onnx`."""
        d = pathlib.Path(directory)
        return cls(
            make_session(d / f"template{suffix}.onnx", threads),
            make_session(d / f"track{suffix}.onnx", threads),
        )

    def template(self, z) -> dict[str, np.ndarray]:
        """Template crop `[1, Z, Z, 3]` -> kernels by name (ONNX layout)."""
        z = np.asarray(z, np.float32)
        outs = self.template_session.run(None, {"template": z})
        return dict(zip(self.kernel_names, outs))

    def track(self, x, kernels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Search crops `[S, X, X, 3]` + kernels -> `{'response'}` or `{'cls', 'reg'}`."""
        feeds = {"search": np.asarray(x, np.float32), **{k: kernels[k] for k in self.kernel_names}}
        outs = self.track_session.run(None, feeds)
        return dict(zip(self.output_names, outs))
