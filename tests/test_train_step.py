"""The data-parallel step: 4 fake devices give the same losses and update as 1 device.

A SiamRPN distillation step with every term on (ground truth with sampled anchors,
soft loss, bounded regression, hint adapter, conditional sharing) and cross-device
BatchNorm: the per-device step, its psum/pmean bookkeeping and the per-example
randomness must not depend on how the global batch is split.
"""

import dataclasses

import jax
import numpy as np

from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.train import state as S
from dsiam_jax.train import step as ST
from dsiam_jax.train import toy_pairs
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

TEMPLATE, SEARCH = 103, 151  # feature 3x3 and 9x9: a 7x7 response, fast on CPU
# Compile without LLVM optimisation: several times faster to build, same maths.
FAST_COMPILE = {"xla_backend_optimization_level": 0}
DATA = {
    "template_size": TEMPLATE,
    "search_size": SEARCH,
    "negative_prob": 0.25,
    "augment": {"search_shift": 24},
}


def tiny_plan():
    teacher = M.teacher_spec("siamrpn").replace(channels=(16, 32, 32, 32, 32), head_channels=16)
    students = S.student_specs(teacher, [(8, 16, 16, 16, 16), (8, 16, 16, 16, 8)], 8)
    plan = S.TrainPlan(
        specs={f"student_{i}": s for i, s in enumerate(students)},
        loss=LossSettings(),
        optim=OptimSettings(num_steps=10, lr_start=1e-2, lr_end=1e-3),
        template_size=TEMPLATE,
        search_size=SEARCH,
        distill=DistillSettings(lambda_hint=1e-3, alpha=0.5, soft_form="pointwise"),  # dstrpn.py
        teacher_spec=teacher,
    )
    init = jax.jit(lambda: M.init_variables(M.build(teacher), jax.random.key(7), 103, 103))
    return plan, init.lower().compile(FAST_COMPILE)()


def compiled(fn, *args):
    """`fn(*args)` compiled with FAST_COMPILE (fn is jitted)."""
    return fn.lower(*args).compile(FAST_COMPILE)


def run_steps(plan, teacher_vars, state, batches, mesh):
    state = jax.device_put(state, parallel.replicated(mesh))
    teacher_vars = jax.device_put(teacher_vars, parallel.replicated(mesh))
    first = jax.device_put(batches[0], parallel.batch_sharding(mesh))
    step = compiled(ST.make_train_step(plan, mesh, donate=False), state, first, teacher_vars)
    history = []
    for batch in batches:
        batch = jax.device_put(batch, parallel.batch_sharding(mesh))
        state, metrics = step(state, batch, teacher_vars)
        history.append(jax.device_get(metrics))  # blocks: no back-to-back collectives
    return jax.device_get(state), history


def test_four_devices_equal_one_device():
    plan, teacher_vars = tiny_plan()
    one, four = parallel.data_mesh(1), parallel.data_mesh(4)
    make = jax.jit(lambda key: toy_pairs.toy_batch(key, 8, TEMPLATE, SEARCH, 24.0, 0.25))
    keys = [jax.random.key(3), jax.random.key(4)]
    batches = [jax.device_get(compiled(make, keys[0])(k)) for k in keys]
    assert any(b["negative"].any() for b in batches)
    state = jax.device_get(compiled(jax.jit(lambda: S.init_state(plan, jax.random.key(0))))())

    s1, h1 = run_steps(plan, teacher_vars, state, batches, one)
    s4, h4 = run_steps(plan, teacher_vars, state, batches, four)

    for m1, m4 in zip(h1, h4):
        assert set(m1) == set(m4)
        for key in (
            "student_0/gt",
            "student_1/soft",
            "student_0/bound",
            "student_1/hint",
            "student_0/share",
            "student_1/share",
            "loss",
            "grad_norm",
        ):
            assert key in m1
        for key in m1:
            np.testing.assert_allclose(m4[key], m1[key], rtol=2e-4, atol=1e-6, err_msg=key)
    assert int(s1.step) == int(s4.step) == 2
    for tree in ("params", "batch_stats", "adapters", "opt_state"):
        a = jax.tree_util.tree_leaves(getattr(s1, tree))
        b = jax.tree_util.tree_leaves(getattr(s4, tree))
        # Conv biases before a BatchNorm get only rounding noise as gradient: compare
        # momentum buffers on the scale of the whole gradient, parameters per leaf.
        scale = max(float(np.abs(x).max()) for x in a)
        for x, y in zip(a, b):
            leaf = scale if tree == "opt_state" else float(np.abs(x).max())
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-4 * leaf + 1e-6, err_msg=tree)
    # The update really changed the students (a zero update would pass the above).
    moved = jax.tree_util.tree_map(lambda x, y: float(np.abs(x - y).max()), state.params, s1.params)
    assert min(jax.tree_util.tree_leaves(moved)) > 0


def test_students_conv1_as_one_conv_equals_their_own():
    """Two students' conv1 computed as one conv over both kernels (`shared_conv1_layer`,
    `Lowering.shared_conv1`): the same losses, gradients and updates on four devices as
    each student computing its own (the students differ after conv1: the last widths)."""
    plan, teacher_vars = tiny_plan()
    shared = dataclasses.replace(plan, lowering=plan.lowering.replace(shared_conv1="on"))
    own = dataclasses.replace(plan, lowering=plan.lowering.replace(shared_conv1="off"))
    assert ST.shared_conv1_layer(shared).path == ("backbone", "conv1")
    assert ST.shared_conv1_layer(own) is None
    alone = dataclasses.replace(shared, specs={"student_0": plan.specs["student_0"]})
    assert ST.shared_conv1_layer(alone) is None  # one network: nothing to share
    make = jax.jit(lambda key: toy_pairs.toy_batch(key, 8, TEMPLATE, SEARCH, 24.0, 0.25))
    batches = [jax.device_get(compiled(make, jax.random.key(k))(jax.random.key(k))) for k in (3, 4)]
    state = jax.device_get(compiled(jax.jit(lambda: S.init_state(plan, jax.random.key(0))))())
    four = parallel.data_mesh(4)
    s_own, h_own = run_steps(own, teacher_vars, state, batches, four)
    s_shared, h_shared = run_steps(shared, teacher_vars, state, batches, four)
    for m_own, m_shared in zip(h_own, h_shared, strict=True):
        for key in m_own:
            np.testing.assert_allclose(m_shared[key], m_own[key], rtol=1e-5, atol=1e-7, err_msg=key)
    for a, b in zip(
        jax.tree_util.tree_leaves(s_own.params), jax.tree_util.tree_leaves(s_shared.params)
    ):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * float(np.abs(a).max()) + 1e-7)


def test_moving_average_of_the_trained_variables():
    """train.ema_decay: after each update the state's average equals a NumPy
    recurrence over the raw variables (decay ramped as min(d, (1+n)/(10+n))), and
    keeping it leaves the raw training trajectory bit for bit unchanged."""
    teacher = M.teacher_spec("siamfc").replace(channels=(16, 32, 32, 32, 16))
    students = S.student_specs(teacher, [(8, 16, 16, 16, 8)])
    decay = 0.2  # below the ramp from step 2 on: both branches of the min are used

    def plan(ema_decay):
        return S.TrainPlan(
            specs={"student_0": students[0]},
            loss=LossSettings(),
            optim=OptimSettings(num_steps=10, lr_start=1e-1, lr_end=1e-2, ema_decay=ema_decay),
            template_size=TEMPLATE,
            search_size=SEARCH,
            distill=DistillSettings(),
            teacher_spec=teacher,
        )

    init_t = jax.jit(lambda: M.init_variables(M.build(teacher), jax.random.key(7), 103, 103))
    teacher_vars = compiled(init_t)()
    make = jax.jit(lambda key: toy_pairs.toy_batch(key, 8, TEMPLATE, SEARCH, 24.0, 0.25))
    batches = [
        jax.device_get(compiled(make, jax.random.key(k))(jax.random.key(k))) for k in (5, 6, 7)
    ]
    mesh = parallel.data_mesh(1)
    runs = {}
    for d in (0.0, decay):
        p = plan(d)
        state = jax.device_get(compiled(jax.jit(lambda p=p: S.init_state(p, jax.random.key(0))))())
        history = [state]
        for batch in batches:
            state, _ = run_steps(p, teacher_vars, state, [batch], mesh)
            history.append(state)
        runs[d] = history
    off, on = runs[0.0], runs[decay]
    assert off[-1].ema == {} and set(on[-1].ema) == {"student_0"}
    for a, b in zip(off, on):  # the same raw trajectory
        for x, y in zip(
            jax.tree_util.tree_leaves(a.variables("student_0")),
            jax.tree_util.tree_leaves(b.variables("student_0")),
        ):
            np.testing.assert_array_equal(y, x)
    expected = [
        np.asarray(x, np.float64) for x in jax.tree_util.tree_leaves(on[0].variables("student_0"))
    ]
    for n in (1, 2, 3):
        d_n = min(decay, (1 + n) / (10 + n))  # 2/11 at n=1, then 0.2
        raw = jax.tree_util.tree_leaves(on[n].variables("student_0"))
        expected = [e + (1 - d_n) * (np.asarray(v, np.float64) - e) for e, v in zip(expected, raw)]
        got = jax.tree_util.tree_leaves(on[n].ema["student_0"])
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    assert on[3].tracking_variables("student_0") is on[3].ema["student_0"]
    moved = [
        float(np.abs(np.asarray(g) - np.asarray(v)).max())
        for g, v in zip(
            jax.tree_util.tree_leaves(on[3].ema["student_0"]["params"]),
            jax.tree_util.tree_leaves(on[3].params["student_0"]),
        )
    ]
    assert max(moved) > 0  # the average is not the raw weights


def test_frozen_convs_stay_fixed_and_the_rest_moves():
    """train.frozen_convs=2 in a distillation step on four devices (weight decay and
    momentum on, the students' conv1 as one conv): the students' conv1-2 parameters and
    BatchNorm statistics are bit for bit those they started with, every other leaf moves."""
    plan, teacher_vars = tiny_plan()
    plan = dataclasses.replace(
        plan,
        optim=dataclasses.replace(plan.optim, frozen_convs=2),
        lowering=plan.lowering.replace(shared_conv1="on"),
    )
    make = jax.jit(lambda key: toy_pairs.toy_batch(key, 8, TEMPLATE, SEARCH, 24.0, 0.25))
    batches = [jax.device_get(compiled(make, jax.random.key(k))(jax.random.key(k))) for k in (3, 4)]
    state = jax.device_get(compiled(jax.jit(lambda: S.init_state(plan, jax.random.key(0))))())
    after, history = run_steps(plan, teacher_vars, state, batches, parallel.data_mesh(4))
    assert np.isfinite(history[-1]["loss"])
    frozen = {"conv1", "bn1", "conv2", "bn2"}
    for tree in ("params", "batch_stats"):
        before_leaves = jax.tree_util.tree_leaves_with_path(getattr(state, tree))
        after_leaves = jax.tree_util.tree_leaves(getattr(after, tree))
        for (path, a), b in zip(before_leaves, after_leaves, strict=True):
            keys = [getattr(k, "key", None) for k in path]
            name = "/".join(map(str, keys))
            if "backbone" in keys and keys[keys.index("backbone") + 1] in frozen:
                np.testing.assert_array_equal(b, a, err_msg=name)
            elif tree == "params" or "backbone" in keys:
                assert float(np.abs(np.asarray(b) - np.asarray(a)).max()) > 0, name
