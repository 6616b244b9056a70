"""bfloat16 compute (`train.compute_dtype`): convs in bf16, everything kept in float32.

The stated tolerance: one SiamFC distillation step (teacher and student in bf16,
the default spatial soft loss) gives every loss term within 3% of the float32 step,
and a parameter update within 20% of the float32 update's norm and at a cosine above
0.98 to it (bf16 keeps 8 mantissa bits: 0.4% per rounding in the forward; the
backward's bf16 cotangents add more: measured 11% and cosine 0.99 on the first
update of this tiny random pair, where the update is small).
"""

import jax
import jax.extend.core
import numpy as np
import pytest

from dsiam_jax import models as M
from dsiam_jax import parallel
from dsiam_jax.errors import ConfigError
from dsiam_jax.train import state as S
from dsiam_jax.train import step as ST
from dsiam_jax.train import toy_pairs
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings

TEMPLATE, SEARCH = 103, 151
FAST_COMPILE = {"xla_backend_optimization_level": 0}


def plan_for(dtype: str) -> S.TrainPlan:
    teacher = M.teacher_spec("siamfc").replace(channels=(16, 32, 32, 32, 32))
    students = S.student_specs(teacher, [(8, 16, 16, 16, 16)])
    return S.TrainPlan(
        specs={f"student_{i}": s for i, s in enumerate(students)},
        loss=LossSettings(),
        optim=OptimSettings(num_steps=10, lr_start=1e-2, lr_end=1e-3),
        template_size=TEMPLATE,
        search_size=SEARCH,
        distill=DistillSettings(),
        teacher_spec=teacher,
        compute_dtype=dtype,
    )


def conv_dtypes(fn, *args) -> set[str]:
    """Operand dtypes of every convolution in the jaxpr of `fn(*args)`."""
    found = set()

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "conv_general_dilated":
                found.update(str(v.aval.dtype) for v in eqn.invars)
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return found


def test_bf16_forward_runs_convs_in_bf16_and_returns_float32():
    spec = M.teacher_spec("siamfc").replace(channels=(16, 32, 32, 32, 32))
    variables = M.numpy_variables(spec, random_batchnorm=True)
    rng = np.random.default_rng(0)
    z = rng.integers(0, 256, (2, TEMPLATE, TEMPLATE, 3)).astype(np.uint8)
    x = rng.integers(0, 256, (2, SEARCH, SEARCH, 3)).astype(np.uint8)
    out = {}
    for dtype in ("float32", "bfloat16"):
        model = M.build(spec, compute_dtype=dtype)
        fn = jax.jit(lambda v, z, x, m=model: M.forward(m, v, z, x))
        assert conv_dtypes(fn, variables, z, x) == {dtype}
        out[dtype] = fn.lower(variables, z, x).compile(FAST_COMPILE)(variables, z, x)
        assert {str(v.dtype) for v in out[dtype].values()} == {"float32"}
    a, b = np.asarray(out["float32"]["response"]), np.asarray(out["bfloat16"]["response"])
    assert np.linalg.norm(a - b) / np.linalg.norm(a) < 0.02


def test_bf16_step_within_tolerance_of_float32():
    mesh = parallel.data_mesh(1)
    make = jax.jit(lambda key: toy_pairs.toy_batch(key, 8, TEMPLATE, SEARCH, 24.0, 0.0))
    batch = jax.device_get(make.lower(jax.random.key(3)).compile(FAST_COMPILE)(jax.random.key(3)))
    teacher_spec = plan_for("float32").teacher_spec
    teacher_vars = M.numpy_variables(teacher_spec, seed=5, random_batchnorm=True)
    results = {}
    for dtype in ("float32", "bfloat16"):
        plan = plan_for(dtype)
        init = jax.jit(lambda p=plan: S.init_state(p, jax.random.key(0)))
        state = jax.device_get(init.lower().compile(FAST_COMPILE)())
        step = ST.make_train_step(plan, mesh, donate=False)
        new, metrics = step.lower(state, batch, teacher_vars).compile(FAST_COMPILE)(
            state, batch, teacher_vars
        )
        results[dtype] = (jax.device_get(state), jax.device_get(new), jax.device_get(metrics))
    (s0, s32, m32), (_, s16, m16) = results["float32"], results["bfloat16"]
    for key in ("student_0/gt", "student_0/soft", "loss"):
        assert m16[key] == pytest.approx(m32[key], rel=0.03), key
    # parameters, BatchNorm statistics and optimiser state stay float32
    for leaf in jax.tree_util.tree_leaves((s16.params, s16.batch_stats, s16.opt_state)):
        assert leaf.dtype in (np.float32, np.int32)
    d32 = jax.tree_util.tree_map(lambda a, b: b - a, s0.params, s32.params)
    d16 = jax.tree_util.tree_map(lambda a, b: b - a, s0.params, s16.params)
    flat32 = np.concatenate([np.ravel(v) for v in jax.tree_util.tree_leaves(d32)])
    flat16 = np.concatenate([np.ravel(v) for v in jax.tree_util.tree_leaves(d16)])
    relative = np.linalg.norm(flat16 - flat32) / np.linalg.norm(flat32)
    cosine = flat16 @ flat32 / (np.linalg.norm(flat16) * np.linalg.norm(flat32))
    assert relative < 0.2 and cosine > 0.98, (relative, cosine)


def test_unknown_compute_dtype_names_the_field():
    with pytest.raises(ConfigError, match="train.compute_dtype='float16'"):
        plan_for("float16")


def test_jax_bf16_tracking_backend():
    from dsiam_jax.tracking.tracker import build_tracker

    spec = M.teacher_spec("siamfc").replace(channels=(16, 32, 32, 32, 32))
    model = M.TrackerModel("net", spec, M.numpy_variables(spec, seed=1, random_batchnorm=True))
    rng = np.random.default_rng(0)
    z = rng.integers(0, 256, (1, 127, 127, 3)).astype(np.float32)
    x = rng.integers(0, 256, (3, 255, 255, 3)).astype(np.float32)
    response = {}
    for backend in ("jax", "jax_bf16"):
        net = build_tracker(model, backend=backend).network
        assert net.name == backend
        params = model.variables
        response[backend] = np.asarray(net.search(params, net.template(params, z), x)["response"])
    a, b = response["jax"], response["jax_bf16"]
    assert np.linalg.norm(a - b) / np.linalg.norm(a) < 0.02
