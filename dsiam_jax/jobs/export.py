"""mode=export: ONNX (and, where TensorFlow is installed, TFLite) graphs of a checkpoint.

    python -m dsiam_jax.main --config=configs/export.py --config.checkpoint=W2 --workdir=W6

Every model of `config.checkpoint` is exported from its recorded `ModelSpec`
(kind, head, channels) with BatchNorm folded. Files, for one model in WORKDIR,
for several in `WORKDIR/<name>/` (`workdir.safe_name`: a `/` in a name becomes `_`):

    template.onnx  track.onnx              float32 (parity with JAX below 1e-4)
    template_fp16.onnx  track_fp16.onnx    fp16 weight storage (float32 compute)
    template_int8.onnx  track_int8.onnx    int8 weight-only (float32 compute)
    template_qdq.onnx  track_qdq.onnx      int8 weights + activations (int8 compute)
    template.tflite  track.tflite          float32 TFLite (config.export.tflite)
    template_fp16.tflite  track_fp16.tflite  fp16 weight storage TFLite

and `WORKDIR/export.json` (see `export_model` for its fields). The float32
graphs must match the JAX outputs within `config.export.tolerance` (relative to
the output's largest magnitude) on random and real crops, or the job fails
after writing export.json.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Mapping
from typing import Any

import ml_collections
import numpy as np
import onnx
from absl import logging

from data_pipelines.sequences import read_sequences
from dsiam_jax import checkpoints, parallel
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.export import checks, onnx_graphs, quantize, samples
from dsiam_jax.export.fold import FoldedNet, fold
from dsiam_jax.export.runtime import OnnxNetwork
from dsiam_jax.models import TrackerModel
from dsiam_jax.tracking.tracker import crop_geometry
from dsiam_jax.workdir import safe_name

FORMAT = "dsiam_jax.export/1"
VARIANTS = ("fp32", "fp16", "int8", "qdq")
SUFFIX = {"fp32": "", "fp16": "_fp16", "int8": "_int8", "qdq": "_qdq"}


class ExportError(UserError, RuntimeError):
    """Exported graphs that do not reproduce the JAX outputs."""


def parse_variants(text: str) -> tuple[str, ...]:
    """'fp32,int8' -> ('fp32', 'int8'); fp32 is always included (the parity reference)."""
    names = [v.strip() for v in str(text).split(",") if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad:
        raise ConfigError(f"config.export.variants: unknown {bad}; expected some of {VARIANTS}")
    return tuple(v for v in VARIANTS if v in names or v == "fp32")


def graph_io(model: onnx.ModelProto) -> dict[str, list[dict[str, Any]]]:
    """Input / output names, shapes (ints, or axis names) and element types of a graph."""

    def describe(values):
        out = []
        for v in values:
            t = v.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
            out.append(
                {
                    "name": v.name,
                    "shape": dims,
                    "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                }
            )
        return out

    return {"inputs": describe(model.graph.input), "outputs": describe(model.graph.output)}


def synthetic_test_sequences(config: ml_collections.ConfigDict, num_sequences: int) -> list:
    """The first `num_sequences` sequences of the synthetic test split (no TensorFlow)."""
    s = config.data.synthetic
    return read_sequences(
        "synthetic",
        "",
        "test",
        num_sequences=int(num_sequences),
        sequence_length=int(s.sequence_length),
        frame_size=tuple(s.frame_size),
        seed=int(s.seed),
    )


def build_variants(
    net: FoldedNet,
    sizes: tuple[int, int, int],
    variants: tuple[str, ...],
    calibration: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, tuple[onnx.ModelProto, onnx.ModelProto]]:
    """`{variant: (template proto, track proto)}`."""
    z_size, x_size, _ = sizes
    out = {}
    for v in variants:
        if v == "qdq":
            continue
        out[v] = (
            onnx_graphs.template_graph(net, z_size, weights=v),
            onnx_graphs.track_graph(net, x_size, z_size, weights=v),
        )
    if "qdq" in variants:
        template32, track32 = out["fp32"]
        ref = OnnxNetwork.from_models(template32, track32, threads=1)
        t_feeds = [{"template": z} for z, _ in calibration]
        x_feeds = [{"search": x, **ref.template(z)} for z, x in calibration]
        out["qdq"] = (
            quantize.quantize_qdq(template32, t_feeds),
            quantize.quantize_qdq(track32, x_feeds),
        )
    return out


def export_model(
    model: TrackerModel,
    out_dir: pathlib.Path,
    config: ml_collections.ConfigDict,
) -> dict[str, Any]:
    """Writes one model's graphs to `out_dir`; returns its export.json entry.

    Fields: name, role, spec, params (after folding), template_size, search_size,
    scales, dir, graphs (input/output names, shapes, dtypes of template and track),
    jax ({template_ms, track_ms, fps}: network only, one frame of `scales` crops),
    variants ({variant: {files: {file: bytes}, bytes, megabytes, random / real:
    {output: {max_abs, max_rel}}, max_rel, template_ms, track_ms, fps}}),
    real_inputs (the photographs used, or why none), tracking (per backend on the
    synthetic test split: success_auc, precision_20, ao, their *_change against
    JAX, whole-step fps, max_box_diff_px against the JAX tracker), tflite.
    """
    ex = config.export
    spec = model.spec
    sizes = dataclasses.astuple(crop_geometry(spec.kind, config.tracker))
    z_size, x_size, scales = sizes
    net = fold(spec, model.variables)
    real = []
    if ex.real_inputs:
        real = samples.real_pairs(z_size, x_size, scales, config.tracker[spec.kind].context)
    rand = [samples.random_pair(z_size, x_size, scales, seed=s) for s in range(2)]
    calibration = real or rand
    protos = build_variants(net, sizes, parse_variants(ex.variants), calibration)

    out_dir.mkdir(parents=True, exist_ok=True)
    jax_net = checks.JaxNetwork(spec, model.variables)
    z, x = rand[0]
    repeats = int(ex.benchmark_repeats)
    entry: dict[str, Any] = {
        "name": model.name,
        "role": model.role,
        "spec": spec.to_dict(),
        "params": net.num_params(),
        "template_size": z_size,
        "search_size": x_size,
        "scales": scales,
        "dir": str(out_dir),
        "graphs": {
            "template": graph_io(protos["fp32"][0]),
            "track": graph_io(protos["fp32"][1]),
        },
        "real_inputs": (
            [name for name, _ in samples.PHOTO_TARGETS]
            if real
            else "none (off, or scikit-image not installed); qdq calibrated on random crops"
        ),
        "variants": {},
    }
    if repeats > 0:
        entry["jax"] = checks.time_network(jax_net, z, x, repeats)
    for variant, (template_proto, track_proto) in protos.items():
        files = {}
        for kind, proto in (("template", template_proto), ("track", track_proto)):
            path = out_dir / f"{kind}{SUFFIX[variant]}.onnx"
            onnx.save(proto, path)
            files[path.name] = path.stat().st_size
        onnx_net = OnnxNetwork.from_models(template_proto, track_proto, threads=ex.threads)
        row = checks.variant_row(jax_net, onnx_net, files, rand, real, z, x, repeats)
        entry["variants"][variant] = row
        logging.info("%s %s: %s", model.name, variant, _line(row))
    if int(ex.eval_sequences) > 0:
        from dsiam_jax.export import tracking_check

        backends = [tracking_check.BACKEND_OF_VARIANT[v] for v in protos]
        sequences = synthetic_test_sequences(config, int(ex.eval_sequences))
        entry["tracking"] = tracking_check.compare_backends(
            model, config.tracker, backends, sequences
        )
    if ex.tflite:
        from dsiam_jax.export import tflite_export

        entry["tflite"] = tflite_export.export_tflite(
            net, out_dir, sizes, jax_net, rand, real, repeats, int(ex.threads)
        )
    return entry


def _line(row: Mapping[str, Any]) -> str:
    speed = f", track {row['track_ms']:.1f} ms ({row['fps']:.1f} fps)" if "fps" in row else ""
    return f"{row['megabytes']:.3f} MB, max rel diff {row['max_rel']:.2e}{speed}"


def run(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
    """Exports every model of `config.checkpoint`; writes WORKDIR/export.json."""
    if not config.checkpoint:
        raise ConfigError("config.checkpoint is empty: name the workdir of a trained model")
    parse_variants(config.export.variants)
    loaded = checkpoints.load_many(config.checkpoint)
    root = pathlib.Path(workdir)
    report: dict[str, Any] = {
        "format": FORMAT,
        "checkpoint": config.checkpoint,
        "threads": int(config.export.threads),
        "tolerance": float(config.export.tolerance),
        "layout": "single model: WORKDIR/*.onnx; several: WORKDIR/<name>/*.onnx",
        "models": {},
    }
    for name, model in loaded.items():
        out_dir = root if len(loaded) == 1 else root / safe_name(name)
        report["models"][name] = export_model(model, out_dir, config)
    if parallel.is_main_process():
        (root / "export.json").write_text(json.dumps(report, indent=2) + "\n")
        for name, entry in report["models"].items():
            for variant, row in entry["variants"].items():
                print(f"{name:<24} {variant:<5} {_line(row)}")
    failed = {
        name: e["variants"]["fp32"]["max_rel"]
        for name, e in report["models"].items()
        if e["variants"]["fp32"]["max_rel"] > config.export.tolerance
    }
    if failed:
        raise ExportError(
            f"float32 ONNX outputs differ from JAX by more than "
            f"{config.export.tolerance} (relative): {failed}; see {root / 'export.json'}"
        )
    return report
