"""The onnxruntime tracking backend gives the JAX tracker's boxes (synthetic test split)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data_pipelines.sequences import read_sequences
from dsiam_jax.checkpoints import CheckpointStore
from dsiam_jax.models import TrackerModel, numpy_variables
from dsiam_jax.tracking import build_tracker, run_sequence
from tests.test_export import SPECS

BOX_TOLERANCE_PX = 0.01  # fp32 graphs: boxes equal to JAX's within this (pixels)


@pytest.fixture(scope="module")
def sequences():
    return read_sequences("synthetic", "", "test", num_sequences=2, sequence_length=10)


@pytest.mark.parametrize("head", ["siamfc", "depthwise"])
def test_onnx_backend_tracks_like_jax(head, sequences):
    model = TrackerModel(
        head, SPECS[head], numpy_variables(SPECS[head], seed=1, random_batchnorm=True)
    )
    jax_tracker = build_tracker(model)
    onnx_tracker = build_tracker(model, None, "onnx")
    assert onnx_tracker.network.name == "onnx" and not onnx_tracker.network.jittable
    for seq in sequences:
        a, b = run_sequence(jax_tracker, seq), run_sequence(onnx_tracker, seq)
        np.testing.assert_allclose(b.boxes, a.boxes, atol=BOX_TOLERANCE_PX)
        np.testing.assert_allclose(b.scores, a.scores, atol=1e-4)


def test_evaluate_cli_with_onnx_backend(cli, tmp_path):
    spec = SPECS["upchannel"]
    model = TrackerModel(
        "rpn", spec, numpy_variables(spec, seed=2, random_batchnorm=True), "student"
    )
    CheckpointStore(tmp_path / "w2").save(1, {"rpn": model})
    common = [
        "--config=configs/evaluate.py",
        f"--config.checkpoint={tmp_path / 'w2'}",
        "--config.eval.layout=synthetic",
        "--config.eval.split=test",
        "--config.eval.max_sequences=1",
        "--config.eval.network_repeats=1",
        "--config.eval.plots=False",
    ]
    cli(*common, "--config.backend=onnx_int8", f"--workdir={tmp_path / 'int8'}")
    report = json.loads((tmp_path / "int8" / "eval.json").read_text())
    assert report["trackers"]["rpn"]["fps"] > 0
    boxes = np.loadtxt(
        next((tmp_path / "int8" / "results" / "rpn").glob("*[0-9].txt")), delimiter=","
    )
    assert boxes.shape[1] == 4 and np.isfinite(boxes).all()


def test_quantized_backend_tracks(sequences):
    """The int8 QDQ tracker (calibrated on real crops) runs and stays near the JAX boxes."""
    spec = SPECS["depthwise"]
    model = TrackerModel("dw", spec, numpy_variables(spec, seed=1, random_batchnorm=True))
    tracker = build_tracker(model, None, "onnx_qdq")
    assert tracker.network.name == "onnx_qdq"
    seq = sequences[0]
    a, b = run_sequence(build_tracker(model), seq), run_sequence(tracker, seq)
    assert np.isfinite(b.boxes).all() and b.boxes.shape == a.boxes.shape
    centres = lambda r: r.boxes[:, :2] + r.boxes[:, 2:] / 2
    assert np.abs(centres(a) - centres(b)).max() < 0.25 * a.boxes[0, 2:].max()


def test_auto_backend_picks_onnx_on_cpu_and_falls_back(monkeypatch):
    from dsiam_jax.tracking import network

    assert network.resolve_backend("auto", "cpu") == "onnx"  # onnxruntime is in requirements
    assert network.resolve_backend("auto", "gpu") == "jax"
    assert network.resolve_backend("auto", "tpu") == "jax"
    assert network.resolve_backend("auto", "cpu", jittable=True) == "jax"  # tune, batched
    assert network.resolve_backend("onnx_qdq", "cpu") == "onnx_qdq"  # named: as given
    model = TrackerModel("fc", SPECS["siamfc"], numpy_variables(SPECS["siamfc"], seed=1))
    assert build_tracker(model, None, "auto").network.name == "onnx"

    real = network.importlib.util.find_spec
    missing = lambda name, *a, **k: None if name == "onnxruntime" else real(name, *a, **k)
    monkeypatch.setattr(network.importlib.util, "find_spec", missing)
    assert network.resolve_backend("auto", "cpu") == "jax"
    assert build_tracker(model, None, "auto").network.name == "jax"
