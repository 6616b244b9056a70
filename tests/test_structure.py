"""The layer description (`models.structure`) against the Flax network, and `Lowering`.

Every conv of the description must exist in the initialised params with its
kernel shape, bias, stride and groups, every BatchNorm with its statistics, and
nothing else may be there: the guard that keeps the Flax modules, BatchNorm
folding, the ONNX / TFLite builders and the summary (which all walk the
description) on one structure.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError
from dsiam_jax.export.fold import fold
from dsiam_jax.models import alexnet, heads
from dsiam_jax.models.structure import NetStructure, feature_size, structure

SPECS = {
    "siamfc_teacher": M.teacher_spec("siamfc"),
    "siamfc_final_bn": M.ModelSpec(channels=(24, 64, 96, 96, 64), final_bn=True),
    "upchannel": M.teacher_spec("siamrpn").replace(channels=(16, 32, 48, 48, 32), head_channels=24),
    "depthwise": M.teacher_spec("siamrpn", "depthwise").replace(
        channels=(16, 32, 48, 48, 32), groups=(1, 2, 1, 2, 2), head_channels=12
    ),
    "depthwise_head3": M.teacher_spec("siamrpn", "depthwise").replace(
        channels=(16, 32, 48, 48, 32), head_channels=12, rpn_head_kernel=3
    ),
    "depthwise_cls_xcorr": M.teacher_spec("siamrpn", "depthwise").replace(
        channels=(16, 32, 48, 48, 32), head_channels=12, rpn_cls_xcorr=True
    ),
    "upchannel_cls_xcorr": M.teacher_spec("siamrpn").replace(
        channels=(16, 32, 48, 48, 32), head_channels=24, rpn_cls_xcorr=True
    ),
}


def leaves(tree) -> dict[tuple[str, ...], tuple[int, ...]]:
    """{params path: shape} of a variables collection."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {tuple(k.key for k in path): tuple(leaf.shape) for path, leaf in flat}


def described(s: NetStructure) -> tuple[dict, dict]:
    """{path: shape} of the params and batch_stats the description implies."""
    params, stats = {}, {}
    for conv in s.convs:
        params[(*conv.path, "kernel")] = conv.kernel_shape
        if conv.bias:
            params[(*conv.path, "bias")] = (conv.out_channels,)
        if conv.bn:
            for name in ("scale", "bias"):
                params[(*conv.bn_path, name)] = (conv.out_channels,)
            for name in ("mean", "var"):
                stats[(*conv.bn_path, name)] = (conv.out_channels,)
    for b in s.branches:
        if b.response_bias:
            params[b.response_bias] = ()
        if b.foreground_of:
            params[b.weight_path] = (s.spec.num_anchors,)
    return params, stats


def traced_convs(spec: M.ModelSpec) -> dict[tuple[str, ...], dict]:
    """Stride, groups and input channels of every conv the Flax network calls."""
    model = M.build(spec, lowering=M.Lowering.for_backend("gpu"))  # plain convs
    calls = {}

    def record(next_fun, args, kwargs, context):
        module = context.module
        if context.method_name == "__call__" and isinstance(module, nn.Conv | alexnet.Conv):
            pad = getattr(module, "padding", "VALID")
            calls[tuple(module.path)] = {
                "padding": 0 if pad == "VALID" else pad[0][0],
                "stride": tuple(module.strides),
                "groups": module.feature_group_count,
                "in_channels": args[0].shape[-1],
            }
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
        variables = jax.eval_shape(lambda: M.init_variables(model, jax.random.PRNGKey(0)))
    return calls, variables


@pytest.mark.parametrize("name", sorted(SPECS))
def test_description_matches_flax_params(name):
    spec = SPECS[name]
    s = structure(spec)
    calls, variables = traced_convs(spec)
    params, stats = described(s)
    assert leaves(variables["params"]) == params
    assert leaves(variables.get("batch_stats", {})) == stats
    assert M.num_params(variables["params"]) == s.num_params()
    assert M.num_params(variables.get("batch_stats", {})) == s.num_state()
    assert set(calls) == {c.path for c in s.convs}
    for conv in s.convs:
        got = calls[conv.path]
        assert got["stride"] == (conv.stride, conv.stride), conv.name
        assert got["groups"] == conv.groups, conv.name
        assert got["padding"] == conv.padding, conv.name
        assert got["in_channels"] == conv.in_channels, conv.name


@pytest.mark.parametrize("name", sorted(SPECS))
def test_described_output_shapes(name):
    """Sizes derived from the description equal the Flax network's output shapes."""
    spec = SPECS[name]
    s = structure(spec)
    model = M.build(spec)
    z, x = jnp.zeros((1, 127, 127, 3)), jnp.zeros((1, 271, 271, 3))
    variables = jax.eval_shape(lambda: M.init_variables(model, jax.random.PRNGKey(0), 127, 271))
    out = jax.eval_shape(lambda v: M.forward(model, v, z, x), variables)
    fx = s.feature_size(271)
    assert out["features"].shape == (1, fx, fx, s.feature_channels)
    kernels = jax.eval_shape(lambda v: M.template_branch(model, v, z), variables)
    assert set(out) == {*s.output_names, "features"}
    for b in s.branches:
        kz, channels = s.kernel_geometry(b, 127)
        k = kernels if s.single_kernel else kernels[b.output]
        assert k.shape[1:3] == (kz, kz)
        if b.foreground_of:  # one map, added to another output (see the cls_xcorr test)
            assert b.correlation_maps(channels) == 1
            continue
        maps = b.correlation_maps(channels)
        n_out = b.after[-1].out_channels if b.after else maps
        r = fx - feature_size(127) + 1
        assert out[b.output].shape == ((1, r, r) if b.response_bias else (1, r, r, n_out))


def test_upchannel_template_output_is_scaled_in_the_forward_pass():
    """Up-channel kernels = 1/sqrt(16 C) x (3x3 conv of the template feature + bias),
    computed here with NumPy from the stored (He-scale) weights; folding puts the
    factor into the exported weights."""
    spec = SPECS["upchannel"]  # conv5 32 channels, C = head_channels = 24, k = 5
    c, scale = 24, 1.0 / np.sqrt(16 * 24)
    v = M.numpy_variables(spec, seed=2, random_batchnorm=True)  # random biases too
    model = M.build(spec)
    z = np.random.default_rng(3).uniform(0, 255, (2, 127, 127, 3)).astype(np.float32)
    zf = np.asarray(M.search_branch(model, v, z), np.float64)  # backbone feature [2, 6, 6, 32]
    kernels = M.template_branch(model, v, z)
    folded = fold(spec, v)
    for name, bank in (("cls", 10), ("reg", 20)):
        conv = v["params"]["head"][f"{name}_template"]  # kernel [3, 3, 32, C * bank]
        win = sliding_window_view(zf, (3, 3), axis=(1, 2))  # [2, 4, 4, 32, 3, 3]
        ref = scale * (np.einsum("bhwcuv,uvco->bhwo", win, conv["kernel"]) + conv["bias"])
        ref = ref.reshape(2, 4, 4, bank, c).swapaxes(-1, -2)  # channel o*C + c -> [.., C, n]
        got = np.asarray(kernels[name])
        assert got.shape == (2, 4, 4, c, bank)
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        exported = folded.convs[f"head/{name}_template"]
        np.testing.assert_allclose(
            exported.weight, scale * conv["kernel"].transpose(3, 2, 0, 1), rtol=1e-6
        )
        np.testing.assert_allclose(exported.bias, scale * conv["bias"], rtol=1e-6)
    # The template convs start He-normal (std sqrt(2 / fan_in)), not shrunk by the factor.
    layer = structure(spec).branches[1].template[0]
    draws = heads._conv(layer, jnp.float32).kernel_init(jax.random.PRNGKey(0), layer.kernel_shape)
    assert abs(float(jnp.std(draws)) / np.sqrt(2 / (9 * 32)) - 1) < 0.05


def test_lowering_choices_per_backend():
    cpu, gpu = M.Lowering.for_backend("cpu"), M.Lowering.for_backend("gpu")
    assert [cpu.xcorr(op) for op in ("xcorr", "upchannel", "depthwise")] == [
        "taps",
        "taps",
        "shift",
    ]
    assert {gpu.xcorr(op) for op in ("xcorr", "upchannel", "depthwise")} == {"vmap"}
    # XLA:CPU kernels: YNNPACK at training batches, Eigen for batch-1 calls (one compile
    # option turns YNNPACK off); accelerators keep XLA's defaults.
    ynn, eigen = cpu.replace(conv_library="ynn"), cpu.replace(conv_library="eigen")
    assert (cpu.library(1), cpu.library(8), gpu.library(1)) == ("eigen", "ynn", "ynn")
    off_ynn = {"xla_cpu_experimental_ynn_fusion_type": ""}
    assert cpu.compiler_options(1) == off_ynn and eigen.compiler_options(8) == off_ynn
    assert cpu.compiler_options(8) is None and ynn.compiler_options(1) is None
    assert (
        gpu.compiler_options(1) is None and gpu.replace(conv_library="eigen").library(1) == "eigen"
    )
    with pytest.raises(ConfigError, match="model.conv_library='onednn'"):
        cpu.replace(conv_library="onednn")
    # Training steps: Eigen from a widest conv of 384 outputs, YNNPACK below; a frozen
    # teacher's forward on Eigen at any batch; forced choices kept.
    assert (cpu.training(768).library(8), cpu.training(384).library(8)) == ("eigen", "eigen")
    assert cpu.training(256).library(8) == "ynn" and gpu.training(768) is gpu
    assert ynn.training(768) is ynn and cpu.inference().library(8) == "eigen"
    assert (cpu.teacher_in_step, gpu.teacher_in_step) == (False, True)
    # conv1 on YNNPACK: chunks of 16 outputs and 2x2 pixel blocks at training batches (all
    # widths) and for batch-1 calls below 64 outputs; on Eigen one plain conv.
    assert (ynn.conv1_chunk(24), ynn.conv1_chunk(16), ynn.conv1_chunk(96)) == (16, 0, 0)
    assert (cpu.conv1_chunk(96, batch=8), cpu.conv1_chunk(16, batch=8)) == (16, 0)
    s2d = [ynn.conv1_space_to_depth(o, b, 2) for o, b in ((16, 1), (48, 1), (64, 1), (96, 8))]
    assert s2d == [True, True, False, True] and not cpu.conv1_space_to_depth(24, 8, 1)
    assert cpu.conv1_chunk(24) == 0 and not cpu.conv1_space_to_depth(24, 1, 2)
    assert cpu.conv1_space_to_depth(24, 8, 2) and not eigen.conv1_space_to_depth(24, 8, 2)
    assert not gpu.conv1_space_to_depth(24, 8, 2) and gpu.conv1_chunk(96, batch=8) == 0
    assert cpu.replace(conv1_s2d="off").conv1_space_to_depth(24, 8, 2) is False
    assert gpu.replace(conv1_s2d="on").conv1_space_to_depth(96, 1, 2) is True
    with pytest.raises(ConfigError, match="model.conv1_s2d='yes'"):
        cpu.replace(conv1_s2d="yes")
    assert gpu.conv1_chunk(24) == 0 and not gpu.split_grouped_convs and cpu.split_grouped_convs
    chunks = (ynn.input_chunk(1, 96, 5), ynn.input_chunk(2, 96, 5), gpu.input_chunk(1, 96, 5))
    assert chunks == (48, 0, 0) and cpu.input_chunk(1, 96, 5) == 0
    assert (cpu.search_scales(3), gpu.search_scales(3), cpu.search_scales(1)) == (
        "map",
        "batch",
        "batch",
    )
    assert (cpu.batched_tracking, gpu.batched_tracking) == ("map", "vmap")
    assert (cpu.overlap_train_steps, gpu.overlap_train_steps) == (False, True)
    # Config fields force a choice; None keeps 'auto'.
    forced = M.Lowering.for_backend("cpu", xcorr_impl="vmap", conv1_split="8", scales_impl=None)
    assert forced.xcorr("depthwise") == "vmap" and forced.conv1_chunk(96) == 8
    assert forced.search_scales(3) == "map"
    assert cpu.replace(batch_impl="vmap").batched_tracking == "vmap"
    # Winograd (YNNPACK only): batch-1 3x3 stride-1 convs of >= 64 inputs (>= 192 per
    # group when grouped) and >= 16x16 outputs; Eigen's plain conv beat it.
    assert ynn.use_winograd(1, 256, 1, 3, 1, 26) and ynn.use_winograd(1, 64, 1, 3, 1, 16)
    assert ynn.use_winograd(1, 384, 2, 3, 1, 24) and not ynn.use_winograd(1, 192, 2, 3, 1, 24)
    assert not ynn.use_winograd(8, 256, 1, 3, 1, 26)  # training batches keep the conv
    assert not ynn.use_winograd(1, 48, 1, 3, 1, 26) and not ynn.use_winograd(1, 256, 1, 3, 1, 8)
    assert not ynn.use_winograd(1, 256, 1, 5, 1, 57) and not ynn.use_winograd(1, 256, 1, 3, 2, 26)
    assert not gpu.use_winograd(1, 256, 1, 3, 1, 26) and not cpu.use_winograd(1, 256, 1, 3, 1, 26)
    on, off = cpu.replace(winograd="on"), cpu.replace(winograd="off")
    assert on.use_winograd(8, 3, 1, 3, 1, 4) and not off.use_winograd(1, 256, 1, 3, 1, 26)
    assert not on.use_winograd(1, 256, 1, 5, 1, 57)  # F(2x2, 3x3) only


@pytest.mark.parametrize(
    "field, value",
    [
        ("xcorr_impl", "fft"),
        ("conv1_split", "half"),
        ("conv1_split", -1),
        ("scales_impl", "loop"),
        ("batch_impl", "pmap"),
        ("winograd", "yes"),
        ("conv_library", "mkl"),
    ],
)
def test_lowering_rejects_unknown_choices(field, value):
    with pytest.raises(ConfigError, match=field):
        M.Lowering.for_backend("cpu", **{field: value})


@pytest.mark.parametrize("name", ["depthwise_cls_xcorr", "upchannel_cls_xcorr"])
def test_cls_xcorr_adds_the_feature_correlation_to_the_foreground_logits(name):
    """`rpn_cls_xcorr`: cls = the head's cls + [0 (k background), w_a r / sqrt(36 C)
    (k foreground)], r = SiamFC's correlation of the backbone features, computed here
    with a NumPy loop; the same network without the option gives the head's cls."""
    spec = SPECS[name]
    v = M.numpy_variables(spec, seed=4, random_batchnorm=True)  # random weights w_a too
    w = np.asarray(v["params"]["head"]["cls_xcorr_weight"], np.float64)
    assert w.shape == (5,) and np.ptp(w) > 0
    plain = spec.replace(rpn_cls_xcorr=False)
    v_plain = {**v, "params": {**v["params"], "head": dict(v["params"]["head"])}}
    del v_plain["params"]["head"]["cls_xcorr_weight"]
    rng = np.random.default_rng(5)
    z = rng.uniform(0, 255, (2, 127, 127, 3)).astype(np.float32)
    x = rng.uniform(0, 255, (2, 255, 255, 3)).astype(np.float32)
    model = M.build(spec)
    out = M.forward(model, v, z, x)
    base = M.forward(M.build(plain), v_plain, z, x)
    zf = np.asarray(M.search_branch(model, v, z), np.float64)  # [2, 6, 6, 32]
    xf = np.asarray(M.search_branch(model, v, x), np.float64)  # [2, 22, 22, 32]
    r = np.zeros((2, 17, 17))
    for b in range(2):
        for i in range(17):
            for j in range(17):
                r[b, i, j] = np.sum(zf[b] * xf[b, i : i + 6, j : j + 6])
    r /= np.sqrt(36 * 32)
    added = np.asarray(out["cls"], np.float64) - np.asarray(base["cls"], np.float64)
    scale = np.abs(r).max()
    np.testing.assert_allclose(added[..., :5], 0.0, atol=1e-5 * scale)
    np.testing.assert_allclose(added[..., 5:], r[..., None] * w, atol=1e-5 * scale)
    np.testing.assert_array_equal(out["reg"], base["reg"])


def test_a_jaxlib_without_the_eigen_option_keeps_xla_kernels(monkeypatch):
    # jax 0.10's XLA:CPU takes `xla_cpu_experimental_ynn_fusion_type`; where a jaxlib
    # rejects it (renamed, no YNNPACK), no program gets the option and the lowering
    # rules stay those of XLA's default kernels.
    from dsiam_jax.models import lowering

    monkeypatch.setattr(lowering, "eigen_option_supported", lambda: False)
    cpu = M.Lowering.for_backend("cpu")
    assert cpu.library(1) == "ynn" and cpu.compiler_options(1) is None
    assert cpu.inference() is cpu and cpu.training(768) is cpu
    assert cpu.conv1_space_to_depth(24, 1, 2)
    assert cpu.replace(conv_library="eigen").compiler_options(1) is None


def test_train_plan_picks_kernels_by_its_widest_trained_model():
    from dsiam_jax.models.lowering import eigen_option_supported
    from dsiam_jax.train import state as S
    from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

    eigen = "eigen" if eigen_option_supported() else "ynn"
    teacher = M.teacher_spec("siamfc")  # widest conv: 384 outputs
    common = dict(loss=LossSettings(), optim=OptimSettings(), lowering=M.Lowering("cpu"))
    alone = S.TrainPlan({"teacher": teacher}, **common)
    assert alone.train_lowering.library(8) == eigen
    students = S.TrainPlan(
        {"s": teacher.replace(channels=(24, 64, 96, 96, 64))},
        distill=DistillSettings(),
        teacher_spec=teacher,
        **common,
    )
    assert students.train_lowering.library(8) == "ynn"
    assert students.teacher_lowering.library(8) == eigen
