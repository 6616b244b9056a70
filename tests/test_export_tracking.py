"""The onnxruntime tracking backend gives the JAX tracker's boxes (synthetic test split)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data_pipelines.sequences import read_sequences
from dsiam_jax.checkpoints import CheckpointStore
from dsiam_jax.evaluation import metrics
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
    # pysot's centre rule: the boxes follow the best anchor, not the peak of a random
    # network's map between cells, which int8 rounding moves more
    rule = {"siamrpn": {"center": "regression"}}
    tracker = build_tracker(model, rule, "onnx_qdq")
    assert tracker.network.name == "onnx_qdq"
    seq = sequences[0]
    a, b = run_sequence(build_tracker(model, rule), seq), run_sequence(tracker, seq)
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


def test_auto_backend_uses_int8_only_for_a_recorded_small_accuracy_change():
    from dsiam_jax.tracking import network

    record = lambda change: {"backend_check": {"onnx_qdq": {"success_auc_change": change}}}
    assert network.resolve_backend("auto", "cpu", model_info=record(-0.004)) == "onnx_qdq"
    assert network.resolve_backend("auto", "cpu", model_info=record(0.005)) == "onnx_qdq"
    assert network.resolve_backend("auto", "cpu", model_info=record(-0.0051)) == "onnx"
    assert network.resolve_backend("auto", "cpu", model_info=record(0.02)) == "onnx"
    assert network.resolve_backend("auto", "cpu", model_info=record(float("nan"))) == "onnx"
    assert network.resolve_backend("auto", "cpu", model_info={}) == "onnx"
    assert network.resolve_backend("auto", "gpu", model_info=record(0.0)) == "jax"
    assert network.resolve_backend("auto", "cpu", True, record(0.0)) == "jax"  # traced
    assert network.resolve_backend("onnx", "cpu", model_info=record(0.0)) == "onnx"  # named


def test_publish_records_the_int8_check_and_auto_follows_it(tmp_path, sequences):
    """mode=publish tracks JAX vs int8, stores the change; auto reads it from the checkpoint."""
    from configs import publish as publish_config
    from dsiam_jax import checkpoints
    from dsiam_jax.jobs import publish
    from dsiam_jax.tracking import network

    spec = SPECS["siamfc"]
    model = TrackerModel("fc", spec, numpy_variables(spec, seed=1, random_batchnorm=True))
    store = CheckpointStore(tmp_path / "run")
    store.save(1, {"fc": model})
    store.close()
    config = publish_config.get_config()
    config.checkpoint = str(tmp_path / "run")
    config.publish.check_sequences = 2
    config.data.synthetic.sequence_length = 10
    publish.run(config, str(tmp_path / "zoo"))
    published = checkpoints.load_models(tmp_path / "zoo" / "fc")["fc"]
    row = published.info["backend_check"]["onnx_qdq"]
    assert row["sequences"] == 2 and row["frames"] == 20 and row["reference"] == "jax"
    # The stored change is what a separate run of both trackers gives.
    auc = {}
    for backend in ("jax", "onnx_qdq"):
        tracker = build_tracker(published, None, backend)
        boxes = [run_sequence(tracker, s).boxes for s in sequences]
        per_seq = [
            metrics.sequence_metrics(b, s.boxes, s.visible) for b, s in zip(boxes, sequences)
        ]
        auc[backend] = metrics.aggregate(per_seq)["success_auc"]
    assert row["success_auc_change"] == pytest.approx(auc["onnx_qdq"] - auc["jax"], abs=1e-9)
    within = abs(row["success_auc_change"]) <= network.QUANTIZED_AUC_TOLERANCE
    expected = "onnx_qdq" if within else "onnx"
    assert build_tracker(published, None, "auto").network.name == expected
