"""ONNX export: BatchNorm folding, parity with JAX (all heads), weight variants, CLI."""

from __future__ import annotations

import json

import onnx
import pytest

from configs import export as export_config
from dsiam_jax import models
from dsiam_jax.checkpoints import CheckpointStore
from dsiam_jax.errors import ConfigError
from dsiam_jax.export import checks, fold, onnx_graphs, quantize, samples
from dsiam_jax.export.runtime import OnnxNetwork
from dsiam_jax.jobs import export as export_job
from dsiam_jax.models import TrackerModel

CH = (8, 16, 16, 16, 16)
SPECS = {
    "siamfc": models.ModelSpec(channels=CH),
    "upchannel": models.ModelSpec(
        kind="siamrpn", head="upchannel", channels=CH, groups=(1,) * 5, final_bn=True
    ),
    "depthwise": models.ModelSpec(
        kind="siamrpn",
        head="depthwise",
        channels=CH,
        groups=(1,) * 5,
        final_bn=True,
        head_channels=12,
        bn_eps=1e-3,
    ),
}
# The depth-wise head with a padded 3x3 conv after the correlation (model.rpn_head_kernel).
SPECS["depthwise_head3"] = SPECS["depthwise"].replace(rpn_head_kernel=3)
# SiamFC's feature correlation added to the foreground logits (model.rpn_cls_xcorr).
SPECS["depthwise_cls_xcorr"] = SPECS["depthwise"].replace(rpn_cls_xcorr=True)
SPECS["upchannel_cls_xcorr"] = SPECS["upchannel"].replace(rpn_cls_xcorr=True)


def search_size(spec):
    return 255 if spec.kind == "siamfc" else 271


@pytest.mark.parametrize("head", sorted(SPECS))
def test_onnx_matches_jax_with_folded_batchnorm(head):
    spec = SPECS[head]
    v = models.numpy_variables(spec, random_batchnorm=True)
    net = fold.fold(spec, v)
    x_size = search_size(spec)
    template, track = onnx_graphs.template_graph(net), onnx_graphs.track_graph(net, x_size)
    for proto in (template, track):
        onnx.checker.check_model(proto, full_check=True)  # valid ONNX, shapes inferable
    onnx_net = OnnxNetwork.from_models(template, track)
    jax_net = checks.JaxNetwork(spec, v)
    # One template against several search crops (a scale pyramid).
    pairs = [samples.random_pair(127, x_size, 3 if spec.kind == "siamfc" else 2)]
    diffs = checks.compare(jax_net, onnx_net, pairs)
    assert set(diffs) == set(net.structure.kernel_names) | set(net.structure.output_names)
    assert checks.max_rel(diffs) < 1e-4, diffs
    assert net.num_params() < models.num_params(v)  # BatchNorm is gone


def test_weight_variants_are_smaller_and_close():
    spec = SPECS["siamfc"].replace(channels=(16, 32, 32, 32, 32))
    v = models.numpy_variables(spec, random_batchnorm=True)
    net = fold.fold(spec, v)
    jax_net = checks.JaxNetwork(spec, v)
    pairs = [samples.random_pair(127, 255, 3)]
    sizes, errors = {}, {}
    for w in onnx_graphs.WEIGHT_FORMATS:
        t, x = onnx_graphs.template_graph(net, weights=w), onnx_graphs.track_graph(net, weights=w)
        assert onnx_graphs.weight_format(x) == w
        sizes[w] = t.ByteSize() + x.ByteSize()
        errors[w] = checks.max_rel(checks.compare(jax_net, OnnxNetwork.from_models(t, x), pairs))
    assert sizes["fp16"] < 0.6 * sizes["fp32"] and sizes["int8"] < 0.35 * sizes["fp32"]
    assert errors["fp32"] < 1e-5 < errors["fp16"] < 5e-3 < errors["int8"] < 5e-2, errors


def test_qdq_variant_runs_int8_and_stays_close():
    spec = SPECS["depthwise"]
    v = models.numpy_variables(spec, random_batchnorm=True)
    net = fold.fold(spec, v)
    pairs = [samples.random_pair(127, 271, 1, seed=s) for s in range(2)]
    template, track = onnx_graphs.template_graph(net), onnx_graphs.track_graph(net, 271)
    ref = OnnxNetwork.from_models(template, track)
    q_track = quantize.quantize_qdq(track, [{"search": x, **ref.template(z)} for z, x in pairs])
    assert onnx_graphs.weight_format(q_track) == "qdq"
    ops = {n.op_type for n in q_track.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    # The correlations (weights = template kernels) stay float32.
    assert len(quantize.dynamic_weight_convs(q_track)) == 2
    diffs = checks.compare(
        checks.JaxNetwork(spec, v), OnnxNetwork.from_models(template, q_track), pairs
    )
    assert max(d["max_rel"] for k, d in diffs.items() if k in ("cls", "reg")) < 0.1, diffs


def make_checkpoint(workdir, names):
    tracked = {
        n: TrackerModel(
            n, SPECS[n], models.numpy_variables(SPECS[n], random_batchnorm=True), "student"
        )
        for n in names
    }
    CheckpointStore(workdir).save(3, tracked)


def test_export_cli_single_model(cli, tmp_path):
    make_checkpoint(tmp_path / "w2", ["siamfc"])
    w6 = tmp_path / "w6"
    cli(
        "--config=configs/export.py",
        f"--config.checkpoint={tmp_path / 'w2'}",
        f"--workdir={w6}",
        "--config.export.variants=fp32,fp16,int8",
        "--config.export.benchmark_repeats=1",
        "--config.export.tflite=False",
        "--config.export.eval_sequences=1",
        "--config.data.synthetic.sequence_length=5",
    )
    for name in ("template", "track"):
        for suffix in ("", "_fp16", "_int8"):
            assert (w6 / f"{name}{suffix}.onnx").is_file()
    report = json.loads((w6 / "export.json").read_text())
    entry = report["models"]["siamfc"]
    assert entry["spec"]["channels"] == list(CH) and entry["scales"] == 3
    track_io = entry["graphs"]["track"]
    assert [i["name"] for i in track_io["inputs"]] == ["search", "kernel"]
    assert track_io["inputs"][0]["shape"] == ["scales", 255, 255, 3]
    assert track_io["outputs"][0] == {
        "name": "response",
        "shape": ["scales", 17, 17],
        "dtype": "float32",
    }
    fp32 = entry["variants"]["fp32"]
    assert fp32["files"]["track.onnx"] == (w6 / "track.onnx").stat().st_size
    assert fp32["max_rel"] < 1e-4 and fp32["fps"] > 0 and entry["jax"]["fps"] > 0
    assert set(fp32["random"]) == {"kernel", "response"}
    if "real" in fp32:  # scikit-image photographs (the 'data' extra)
        assert entry["real_inputs"] == [name for name, _ in samples.PHOTO_TARGETS]
        assert fp32["real"]["response"]["max_rel"] < 1e-4
    assert entry["variants"]["int8"]["bytes"] < 0.35 * fp32["bytes"]
    tracking = entry["tracking"]
    assert tracking["sequences"] == 1 and tracking["frames"] == 5
    assert set(tracking) >= {"jax", "onnx", "onnx_fp16", "onnx_int8"}
    assert tracking["onnx"]["max_box_diff_px"] < 0.01
    assert tracking["onnx"]["success_auc_change"] == pytest.approx(0, abs=1e-6)


def test_export_job_several_models_one_folder_each(tmp_path):
    make_checkpoint(tmp_path / "w2", ["upchannel", "depthwise"])
    config = export_config.get_config()
    config.checkpoint = str(tmp_path / "w2")
    config.export.variants = "fp32"
    config.export.benchmark_repeats = 0
    config.export.tflite = False
    config.export.real_inputs = False
    config.export.eval_sequences = 0
    report = export_job.run(config, str(tmp_path / "w6"))
    for name in ("upchannel", "depthwise"):
        assert (tmp_path / "w6" / name / "track.onnx").is_file()
        outs = report["models"][name]["graphs"]["track"]["outputs"]
        assert [(o["name"], o["shape"][1:]) for o in outs] == [
            ("cls", [19, 19, 10]),
            ("reg", [19, 19, 20]),
        ]
        assert report["models"][name]["variants"]["fp32"]["max_rel"] < 1e-4
    assert not (tmp_path / "w6" / "track.onnx").exists()


def test_export_config_errors(tmp_path):
    config = export_config.get_config()
    with pytest.raises(ConfigError, match="config.checkpoint"):
        export_job.run(config, str(tmp_path))
    with pytest.raises(ConfigError, match="unknown"):
        export_job.parse_variants("fp32,bf16")
    assert export_job.parse_variants("int8") == ("fp32", "int8")


def test_tflite_export_matches_jax(tmp_path):
    pytest.importorskip("tensorflow")
    from dsiam_jax.export import tflite_export

    # SiamFC: grouped convs; depthwise head: a depthwise conv with a dynamic filter
    # (with rpn_cls_xcorr: plus SiamFC's correlation added to the foreground logits).
    cases = (("siamfc", ("fp32", "fp16")), ("depthwise_cls_xcorr", ("fp32",)))
    for head, variants in cases:
        spec = SPECS[head]
        v = models.numpy_variables(spec, random_batchnorm=True)
        sizes = (127, search_size(spec), 3 if head == "siamfc" else 1)
        pairs = [samples.random_pair(*sizes)]
        net, jax_net = fold.fold(spec, v), checks.JaxNetwork(spec, v)
        result = tflite_export.export_tflite(
            net, tmp_path / head, sizes, jax_net, pairs, [], repeats=0, variants=variants
        )
        assert result["variants"].keys() == set(variants)
        assert result["variants"]["fp32"]["max_rel"] < 1e-4, result
        if "fp16" in variants:
            assert result["variants"]["fp16"]["max_rel"] < 1e-2
        assert (tmp_path / head / "track.tflite").is_file()
