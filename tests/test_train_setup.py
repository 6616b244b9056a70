"""Optimiser by hand, settings == config defaults, training configs and clear config errors."""

import importlib

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import default
from dsiam_jax import jobs, model_summary
from dsiam_jax.errors import ConfigError, UserError
from dsiam_jax.jobs import train as train_job
from dsiam_jax.models.spec import ModelSpec
from dsiam_jax.train import optim, trainer
from dsiam_jax.train import state as state_lib
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings


def test_log_linear_decay_and_warmup():
    s = OptimSettings(num_steps=100, lr_start=1e-2, lr_end=1e-5)
    lr = optim.learning_rate_schedule(s)
    np.testing.assert_allclose([lr(0), lr(50), lr(100)], [1e-2, np.sqrt(1e-7), 1e-5], rtol=1e-5)
    w = optim.learning_rate_schedule(OptimSettings(num_steps=100, warmup_steps=4))
    np.testing.assert_allclose([w(0), w(3), w(4), w(100)], [2.5e-3, 1e-2, 1e-2, 1e-5], rtol=1e-5)


def test_sgd_momentum_weight_decay_by_hand():
    s = OptimSettings(num_steps=2, lr_start=0.1, lr_end=0.01, momentum=0.9, weight_decay=0.5)
    tx = optim.make_optimizer(s)
    p = {"w": jnp.asarray([1.0, -2.0])}
    st = tx.init(p)
    g = {"w": jnp.asarray([0.5, 0.5])}
    # PyTorch SGD: d = g + wd p; buf = m buf + d; p -= lr buf, with lr 0.1 then 0.1 * 0.1^(1/2)
    w, buf = np.array([1.0, -2.0]), np.zeros(2)
    for step in range(2):
        u, st = tx.update(g, st, p)
        p = optax.apply_updates(p, u)
        buf = 0.9 * buf + (0.5 + 0.5 * w)
        w = w - 0.1 * 0.1 ** (step / 2) * buf
        np.testing.assert_allclose(p["w"], w, rtol=1e-5)


@pytest.mark.parametrize("scale,frozen", [(0.0, 0), (0.1, 0), (0.1, 3), (1.0, 2)])
def test_backbone_lr_scale_by_hand(scale, frozen):
    """train.backbone_lr_scale: backbone updates (weight decay and momentum included) x
    scale; the head's and the adapters' as without it. train.frozen_convs: the first
    layers' updates (conv and BatchNorm) are zero."""
    s = OptimSettings(
        num_steps=2,
        lr_start=0.1,
        lr_end=0.01,
        momentum=0.9,
        weight_decay=0.5,
        backbone_lr_scale=scale,
        frozen_convs=frozen,
    )
    tx = optim.make_optimizer(s)
    w0 = np.array([1.0, -2.0])
    layers = {"conv1": "kernel", "bn2": "scale", "conv3": "bias", "conv4": "kernel"}
    p = {
        "models": {
            "m": {
                "backbone": {name: {leaf: jnp.asarray(w0)} for name, leaf in layers.items()},
                "head": {"b": jnp.asarray(w0)},
            }
        },
        "adapters": {"m": {"kernel": jnp.asarray(w0)}},
    }
    g = jax.tree_util.tree_map(lambda x: jnp.full_like(x, 0.5), p)
    st = tx.init(p)
    factors = {name: 0.0 if int(name[-1]) <= frozen else scale for name in layers}
    factors["other"] = 1.0
    ws = {part: w0.copy() for part in factors}
    bufs = {part: np.zeros(2) for part in factors}
    for step in range(2):
        u, st = tx.update(g, st, p)
        p = optax.apply_updates(p, u)
        for part, factor in factors.items():
            bufs[part] = 0.9 * bufs[part] + (0.5 + 0.5 * ws[part])
            ws[part] = ws[part] - factor * 0.1 * 0.1 ** (step / 2) * bufs[part]
        for name, leaf in layers.items():
            got = p["models"]["m"]["backbone"][name][leaf]
            np.testing.assert_allclose(got, ws[name], rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(p["models"]["m"]["head"]["b"], ws["other"], rtol=1e-5)
        np.testing.assert_allclose(p["adapters"]["m"]["kernel"], ws["other"], rtol=1e-5)
    with pytest.raises(ValueError, match="backbone_lr_scale=-1"):
        OptimSettings(backbone_lr_scale=-1.0)
    with pytest.raises(ValueError, match="frozen_convs=6"):
        OptimSettings(frozen_convs=6)


@pytest.mark.parametrize("cls_scale", [1.0, 2.0])
def test_tower_lr_scales_by_hand(cls_scale):
    """train.reg_lr_scale (3) and cls_lr_scale: the updates of an RPN model's regression
    tower (depth-wise `head/reg/conv_*`, `bn_*`, `head1`, `bn_head`; up-channel
    `head/reg_template`, `reg_search`) and classifier tower (depth-wise `head/cls/...`
    but `head2`; up-channel `cls_search`) x their factor, momentum and weight decay
    included; the output convs (depth-wise `head2`, up-channel `reg_adjust` and
    `cls_template`), the matcher's `cls_xcorr_weight`, a SiamFC model and the adapters
    unscaled."""
    s = OptimSettings(
        num_steps=2,
        lr_start=0.1,
        lr_end=0.01,
        weight_decay=0.5,
        reg_lr_scale=3.0,
        cls_lr_scale=cls_scale,
    )
    specs = {
        "d": ModelSpec(kind="siamrpn", head="depthwise"),
        "u": ModelSpec(kind="siamrpn", head="upchannel"),
        "f": ModelSpec(),
    }
    scaled = {
        ("d", "reg", "conv_kernel", "kernel"): 3.0,
        ("d", "reg", "bn_search", "scale"): 3.0,
        ("d", "reg", "head1", "kernel"): 3.0,
        ("d", "reg", "bn_head", "bias"): 3.0,
        ("d", "reg", "head2", "kernel"): 1.0,
        ("d", "reg", "head2", "bias"): 1.0,
        ("d", "cls", "conv_kernel", "kernel"): cls_scale,
        ("d", "cls", "bn_kernel", "scale"): cls_scale,
        ("d", "cls", "head1", "kernel"): cls_scale,
        ("d", "cls", "head2", "kernel"): 1.0,
        ("d", "cls_xcorr_weight"): 1.0,
        ("u", "reg_template", "kernel"): 3.0,
        ("u", "reg_search", "bias"): 3.0,
        ("u", "reg_adjust", "kernel"): 1.0,
        ("u", "cls_template", "kernel"): 1.0,
        ("u", "cls_search", "kernel"): cls_scale,
        ("f", "bias"): 1.0,
    }
    w0 = np.array([1.0, -2.0])
    flat = {("models", k[0], "head", *k[1:]): jnp.asarray(w0) for k in scaled}
    flat[("adapters", "d", "kernel")] = jnp.asarray(w0)
    p = flax.traverse_util.unflatten_dict(flat)
    tx = optim.make_optimizer(s, specs)
    st = tx.init(p)
    g = jax.tree_util.tree_map(lambda x: jnp.full_like(x, 0.5), p)
    factors = {("models", k[0], "head", *k[1:]): f for k, f in scaled.items()}
    factors[("adapters", "d", "kernel")] = 1.0
    ws = {k: w0.copy() for k in factors}
    bufs = {k: np.zeros(2) for k in factors}
    for step in range(2):
        u, st = tx.update(g, st, p)
        p = optax.apply_updates(p, u)
        got = flax.traverse_util.flatten_dict(p)
        for k, factor in factors.items():
            bufs[k] = 0.9 * bufs[k] + (0.5 + 0.5 * ws[k])
            ws[k] = ws[k] - factor * 0.1 * 0.1 ** (step / 2) * bufs[k]
            np.testing.assert_allclose(got[k], ws[k], rtol=1e-5, err_msg=str(k))
    for name in ("reg_lr_scale", "cls_lr_scale"):
        with pytest.raises(ValueError, match=f"{name}=-1"):
            OptimSettings(**{name: -1.0})


@pytest.mark.parametrize("head", ["depthwise", "upchannel"])
@pytest.mark.parametrize("matcher", [False, True])
def test_tower_params_counted_by_hand(head, matcher):
    """`tower_paths` picks exactly the towers of a real model's params: their count
    against the branch's convs before the output conv counted by hand (C in, H wide, k
    anchors); the matcher's correlation (`rpn_cls_xcorr`) adds nothing to them."""
    from dsiam_jax import models
    from dsiam_jax.models.structure import tower_paths

    spec = ModelSpec(
        kind="siamrpn",
        channels=(8, 16, 16, 16, 24),
        head=head,
        head_channels=12,
        rpn_cls_xcorr=matcher,
    )
    net = models.build(spec)
    shapes = jax.eval_shape(lambda: models.init_variables(net, jax.random.key(0)))["params"]
    leaves = jax.tree_util.tree_flatten_with_path(shapes)[0]
    counted = {}
    for output in ("cls", "reg"):
        layers = tower_paths(spec, output)
        counted[output] = sum(
            int(np.prod(leaf.shape))
            for path, leaf in leaves
            if any(tuple(k.key for k in path[: len(p)]) == p for p in layers)
        )
    c, h = 24, 12
    if head == "depthwise":  # 3x3 convs + BN on each side, 1x1 conv + BN (then the output)
        tower = 2 * (9 * c * h + 2 * h) + h * h + 2 * h
        assert counted == {"cls": tower, "reg": tower}
    else:  # cls: the 3x3 search conv (the template conv makes the map); reg: + template conv
        k = spec.num_anchors
        search = 9 * c * h + h
        assert counted == {"cls": search, "reg": search + 9 * c * h * 4 * k + h * 4 * k}


def test_gradient_clipping():
    tx = optim.make_optimizer(
        OptimSettings(
            num_steps=2, lr_start=1.0, lr_end=1.0, momentum=0, weight_decay=0, grad_clip=1.0
        )
    )
    p = {"w": jnp.zeros(2)}
    u, _ = tx.update({"w": jnp.asarray([3.0, 4.0])}, tx.init(p), p)
    np.testing.assert_allclose(u["w"], [-0.6, -0.8], rtol=1e-6)


def test_settings_defaults_match_the_config():
    assert LossSettings.from_config(default.loss_config()) == LossSettings()
    assert DistillSettings.from_config(default.distill_config()) == DistillSettings()
    t = default.train_config()
    assert OptimSettings.from_config(t) == OptimSettings(num_steps=t.num_steps)


@pytest.mark.parametrize(
    "name,mode",
    [
        ("siamfc_teacher", "train"),
        ("siamrpn_teacher", "train"),
        ("dstfc", "distill"),
        ("dstrpn", "distill"),
        ("siamrpn_matcher", "train"),
        ("dstrpn_matcher", "distill"),
    ],
)
def test_training_configs_load(name, mode):
    config = importlib.import_module(f"configs.{name}").get_config()
    assert config.mode == mode and jobs.resolve(mode) is train_job.run
    LossSettings.from_config(config.loss)
    DistillSettings.from_config(config.distill)
    OptimSettings.from_config(config.train)


def test_matcher_students_are_18x_smaller_than_their_teacher():
    """configs/dstrpn_matcher.py's students against configs/siamrpn_matcher.py's teacher
    (parameters, so fp32 megabytes), and one init_from source per student."""
    teacher_config = importlib.import_module("configs.siamrpn_matcher").get_config()
    config = importlib.import_module("configs.dstrpn_matcher").get_config()
    teacher = ModelSpec.from_config(teacher_config.model)
    students = state_lib.student_specs(
        teacher, config.distill.students, config.distill.student_head_channels
    )
    params = [model_summary.summarize(spec)["params"] for spec in (teacher, *students)]
    assert all(params[0] >= 18 * p for p in params[1:]), params
    assert len(config.model.init_from.split(",")) == len(students)


def test_config_errors_are_clear(tmp_path):
    config = importlib.import_module("configs.dstfc").get_config()
    with pytest.raises(ConfigError, match="teacher.checkpoint is empty"):
        train_job.build_plan(config)
    config.teacher.checkpoint = str(tmp_path / "nowhere")
    with pytest.raises(UserError, match="not found"):
        train_job.build_plan(config)
    config = importlib.import_module("configs.siamfc_teacher").get_config()
    config.train.lr_end = 0.0
    with pytest.raises(ConfigError, match="config.train"):
        train_job.build_plan(config)


def test_non_finite_check_names_step_and_term(tmp_path):
    trainer.check_finite(3, {"loss": 1.0}, None, tmp_path)
    with pytest.raises(trainer.NonFiniteLossError, match=r"step 7: student_1/soft=nan") as e:
        trainer.check_finite(7, {"loss": 1.0, "student_1/soft": float("nan")}, 5, tmp_path)
    assert "last good checkpoint (step 5)" in str(e.value)
