"""Networks: output shapes, hand-computed parameter counts, a NumPy reference forward."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from dsiam_jax import models as M
from dsiam_jax.models import alexnet
from dsiam_jax.models.alexnet import feature_size
from dsiam_jax.models.structure import structure

SMALL = (8, 16, 24, 24, 16)


def small_spec(kind="siamfc", head=None, **kw):
    if kind == "siamfc":
        return M.ModelSpec(channels=SMALL, **kw)
    return M.ModelSpec(
        kind="siamrpn", head=head, channels=SMALL, groups=(1,) * 5, final_bn=True, **kw
    )


@pytest.mark.parametrize(
    "kind,head", [("siamfc", "xcorr"), ("siamrpn", "upchannel"), ("siamrpn", "depthwise")]
)
def test_output_shapes_127_255(kind, head):
    spec = small_spec(kind, head)
    model = M.build(spec)
    v = M.init_variables(model, jax.random.PRNGKey(0))
    z = jnp.zeros((2, 127, 127, 3), jnp.uint8)
    x = jnp.zeros((2, 255, 255, 3), jnp.uint8)
    out = jax.jit(lambda v, z, x: M.forward(model, v, z, x))(v, z, x)
    assert out["features"].shape == (2, 22, 22, 16)
    assert M.search_branch(model, v, x).shape == (2, 22, 22, 16)
    if kind == "siamfc":
        assert M.template_branch(model, v, z).shape == (2, 6, 6, 16)
        assert out["response"].shape == (2, 17, 17)
    else:
        assert out["cls"].shape == (2, 17, 17, 10)  # 2k, k = 5
        assert out["reg"].shape == (2, 17, 17, 20)  # 4k


def test_feature_sizes():
    assert [feature_size(s) for s in (127, 255, 271, 287)] == [6, 22, 24, 26]


def test_branches_compose_to_forward():
    spec = small_spec("siamrpn", "upchannel")
    model = M.build(spec)
    v = M.init_variables(model, jax.random.PRNGKey(1))
    rng = np.random.default_rng(0)
    z = jnp.asarray(rng.uniform(0, 255, (2, 127, 127, 3)), jnp.float32)
    x = jnp.asarray(rng.uniform(0, 255, (2, 271, 271, 3)), jnp.float32)
    full = M.forward(model, v, z, x)
    kernels = M.template_branch(model, v, z)
    assert kernels["cls"].shape == (2, 4, 4, 16, 10)
    parts = M.head(model, v, kernels, M.search_branch(model, v, x))
    assert full["cls"].shape == (2, 19, 19, 10)
    np.testing.assert_allclose(parts["cls"], full["cls"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(parts["reg"], full["reg"], rtol=1e-5, atol=1e-5)


def conv_params(cin, cout, k, groups=1, bias=True):
    return cin // groups * cout * k * k + (cout if bias else 0)


def test_param_count_siamfc_hand_computed():
    # conv1 3->8 11x11; conv2 8->16 5x5 g2; conv3 16->24 3x3; conv4 24->24 g2; conv5 24->16 g2
    expected = (
        (3 * 8 * 121 + 8)
        + (4 * 16 * 25 + 16)
        + (16 * 24 * 9 + 24)
        + (12 * 24 * 9 + 24)
        + (12 * 16 * 9 + 16)
        + 2 * (8 + 16 + 24 + 24)  # BN scale + bias after conv1-4
        + 1  # response bias
    )
    v = M.init_variables(M.build(small_spec()), jax.random.PRNGKey(0))
    assert M.num_params(v["params"]) == expected


def test_param_count_rpn_heads_hand_computed():
    backbone = (
        conv_params(3, 8, 11)
        + conv_params(8, 16, 5)
        + conv_params(16, 24, 3)
        + conv_params(24, 24, 3)
        + conv_params(24, 16, 3)
        + 2 * sum(SMALL)  # BN after every conv (final_bn)
    )
    c, k = 16, 5
    upchannel = (
        conv_params(c, c * 2 * k, 3)
        + conv_params(c, c * 4 * k, 3)
        + 2 * conv_params(c, c, 3)
        + conv_params(4 * k, 4 * k, 1)
    )
    branch = lambda out: (
        (2 * conv_params(c, c, 3, bias=False) + conv_params(c, c, 1, bias=False) + 3 * 2 * c)
        + conv_params(c, out, 1)
    )
    depthwise = branch(2 * k) + branch(4 * k)
    for head, head_params in (("upchannel", upchannel), ("depthwise", depthwise)):
        v = M.init_variables(M.build(small_spec("siamrpn", head)), jax.random.PRNGKey(0))
        assert M.num_params(v["params"]) == backbone + head_params, head


# --- NumPy reference forward for SiamFC -------------------------------------------------


def np_conv(x, w, b, stride=1, groups=1):
    """x [H, W, Cin], w [kh, kw, Cin/g, Cout] (HWIO) -> [Ho, Wo, Cout], VALID."""
    kh, kw, cin_g, cout = w.shape
    cout_g = cout // groups
    outs = []
    for g in range(groups):
        xs = x[..., g * cin_g : (g + 1) * cin_g]
        win = sliding_window_view(xs, (kh, kw), axis=(0, 1))[::stride, ::stride]  # [Ho,Wo,C,kh,kw]
        wg = w[..., g * cout_g : (g + 1) * cout_g]  # [kh, kw, C, Og]
        outs.append(np.einsum("hwcuv,uvco->hwo", win, wg))
    return np.concatenate(outs, axis=-1) + b


def np_bn(x, p, s, eps):
    return (x - s["mean"]) / np.sqrt(s["var"] + eps) * p["scale"] + p["bias"]


def np_pool(x):
    win = sliding_window_view(x, (3, 3), axis=(0, 1))[::2, ::2]
    return win.max(axis=(-2, -1))


def np_alexnet(x, params, stats, spec):
    kernels = (11, 5, 3, 3, 3)
    x = x.astype(np.float64)
    for i in range(5):
        p = params[f"conv{i + 1}"]
        x = np_conv(x, p["kernel"], p["bias"], 2 if i == 0 else 1, spec.groups[i])
        assert p["kernel"].shape[0] == kernels[i]
        if i < 4 or spec.final_bn:
            x = np_bn(x, params[f"bn{i + 1}"], stats[f"bn{i + 1}"], spec.bn_eps)
        if i < 4:
            x = np.maximum(x, 0)
        if i < 2:
            x = np_pool(x)
    return x


def test_siamfc_forward_matches_numpy_reference():
    spec = small_spec()
    model = M.build(spec)
    v = M.init_variables(model, jax.random.PRNGKey(2))
    rng = np.random.default_rng(1)
    # Non-trivial BN statistics and bias, so every term is exercised.
    v = jax.tree_util.tree_map(np.asarray, v)
    for name, s in v["batch_stats"]["backbone"].items():
        s["mean"] = rng.normal(0, 0.5, s["mean"].shape)
        s["var"] = rng.uniform(0.5, 2.0, s["var"].shape)
        v["params"]["backbone"][name]["scale"] = rng.uniform(0.5, 1.5, s["var"].shape)
    v["params"]["head"]["bias"] = np.float32(0.25)
    z = rng.uniform(0, 255, (1, 127, 127, 3)).astype(np.float32)
    x = rng.uniform(0, 255, (1, 255, 255, 3)).astype(np.float32)
    out = M.forward(model, v, z, x)["response"][0]
    pb, sb = v["params"]["backbone"], v["batch_stats"]["backbone"]
    zf = np_alexnet(z[0], pb, sb, spec)
    xf = np_alexnet(x[0], pb, sb, spec)
    ref = np.zeros((17, 17))
    for i in range(17):
        for j in range(17):
            ref[i, j] = np.sum(zf * xf[i : i + 6, j : j + 6])
    ref = ref * spec.out_scale + 0.25
    np.testing.assert_allclose(out, ref, rtol=2e-3, atol=2e-3 * np.abs(ref).max())


def np_alexnet_train(xs, params, stats, spec, frozen):
    """Train-mode backbone on a batch `[N, H, W, 3]`: the first `frozen` layers normalise
    by the running statistics, the others by the batch's (biased variance)."""
    x = [xi.astype(np.float64) for xi in xs]
    for i in range(5):
        p = params[f"conv{i + 1}"]
        x = [np_conv(xi, p["kernel"], p["bias"], 2 if i == 0 else 1, spec.groups[i]) for xi in x]
        if i < 4 or spec.final_bn:
            a = np.stack(x)
            s = (
                stats[f"bn{i + 1}"]
                if i < frozen
                else {"mean": a.mean((0, 1, 2)), "var": a.var((0, 1, 2))}
            )
            x = [np_bn(xi, params[f"bn{i + 1}"], s, spec.bn_eps) for xi in x]
        if i < 4:
            x = [np.maximum(xi, 0) for xi in x]
        if i < 2:
            x = [np_pool(xi) for xi in x]
    return np.stack(x)


def test_frozen_convs_are_a_fixed_function_in_training():
    """`frozen_convs=2` in train mode: conv1-2 normalise by their running statistics
    (kept as they were), conv3-5 by the batch's (NumPy reference), and no gradient
    reaches conv1-2's parameters while conv3's gets one."""
    spec = small_spec("siamrpn", "depthwise")
    model = M.build(spec, frozen_convs=2)
    v = jax.tree_util.tree_map(np.asarray, M.init_variables(model, jax.random.PRNGKey(3), 127, 127))
    rng = np.random.default_rng(4)
    for s in v["batch_stats"]["backbone"].values():
        s["mean"] = rng.normal(0, 0.5, s["mean"].shape).astype(np.float32)
        s["var"] = rng.uniform(0.5, 2.0, s["var"].shape).astype(np.float32)
    xs = rng.uniform(0, 255, (2, 127, 127, 3)).astype(np.float32)

    def features(params):
        variables = {"params": params, "batch_stats": v["batch_stats"]}
        out, stats = M.forward(model, variables, xs, xs, train=True)
        return out["features"], stats

    feats, stats = features(v["params"])
    ref = np_alexnet_train(xs, v["params"]["backbone"], v["batch_stats"]["backbone"], spec, 2)
    np.testing.assert_allclose(feats, ref, rtol=2e-3, atol=2e-3 * np.abs(ref).max())
    for name in ("bn1", "bn2"):
        for k in ("mean", "var"):
            np.testing.assert_array_equal(
                stats["backbone"][name][k], v["batch_stats"]["backbone"][name][k]
            )
    assert not np.allclose(
        stats["backbone"]["bn3"]["mean"], v["batch_stats"]["backbone"]["bn3"]["mean"]
    )
    grads = jax.grad(lambda p: jnp.sum(features(p)[0] ** 2))(v["params"])["backbone"]
    for name in ("conv1", "bn1", "conv2", "bn2"):
        for g in jax.tree_util.tree_leaves(grads[name]):
            assert not np.any(np.asarray(g)), name
    assert np.abs(np.asarray(grads["conv3"]["kernel"])).max() > 0


def test_train_mode_updates_batch_stats():
    model = M.build(small_spec())
    v = M.init_variables(model, jax.random.PRNGKey(0))
    z = jnp.full((2, 127, 127, 3), 100.0)
    x = jnp.full((2, 255, 255, 3), 50.0)
    _, stats = M.forward(model, v, z, x, train=True)
    before = v["batch_stats"]["backbone"]["bn1"]["mean"]
    after = stats["backbone"]["bn1"]["mean"]
    assert not np.allclose(before, after)


def test_spec_validation_names_the_field():
    with pytest.raises(M.SpecError, match="model.groups"):
        M.ModelSpec(channels=(24, 63, 96, 96, 64))
    with pytest.raises(M.SpecError, match="model.head"):
        M.ModelSpec(kind="siamrpn", head="xcorr")
    with pytest.raises(M.SpecError, match="model.kind"):
        M.ModelSpec(kind="siamese")
    with pytest.raises(M.SpecError, match="5 conv widths"):
        M.ModelSpec(channels=(8, 16))


def test_spec_round_trips_through_dict():
    spec = M.teacher_spec("siamrpn", "depthwise").replace(channels=(8, 16, 16, 16, 16))
    assert M.ModelSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(M.SpecError, match="unknown"):
        M.ModelSpec.from_dict({**spec.to_dict(), "widths": 3})


@pytest.mark.parametrize("split,s2d", [(8, "off"), (16, "off"), (0, "on"), (16, "on")])
def test_conv1_lowerings_are_equal(split, s2d):
    """conv1 in chunks of outputs and/or on 2x2 pixel blocks: the search features equal
    one plain conv's (the gradient: `test_space_to_depth_conv_matches_a_numpy_loop`)."""
    spec = M.ModelSpec(channels=(24, 32, 32, 32, 32))
    plain = M.build(spec, lowering=M.Lowering("cpu", conv1_split=0, conv1_s2d="off"))
    lowered = M.build(spec, lowering=M.Lowering("cpu", conv1_split=split, conv1_s2d=s2d))
    v = M.init_variables(plain, jax.random.PRNGKey(3))
    x = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (2, 255, 255, 3)), jnp.float32)
    ref, out = (M.search_branch(net, v, x) for net in (plain, lowered))
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("kernel,stride,size", [(11, 2, 255), (11, 2, 128), (4, 2, 31), (5, 3, 20)])
def test_space_to_depth_conv_matches_a_numpy_loop(kernel, stride, size):
    """`conv1_lowered` on pixel blocks (odd and even kernels and inputs, strides 2 and 3)
    and its kernel gradient against direct NumPy sums over the kernel's taps."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, size, size + 1, 3)).astype(np.float32)
    w = rng.normal(size=(kernel, kernel, 3, 5)).astype(np.float32)
    oh, ow = (size - kernel) // stride + 1, (size + 1 - kernel) // stride + 1
    ref = np.zeros((2, oh, ow, 5))
    for u in range(kernel):
        for t in range(kernel):
            taps = x[
                :, u : u + stride * (oh - 1) + 1 : stride, t : t + stride * (ow - 1) + 1 : stride
            ]
            ref += taps.astype(np.float64) @ w[u, t].astype(np.float64)
    out = alexnet.conv1_lowered(jnp.asarray(x), jnp.asarray(w), stride, chunk=2, fold=True)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("widths", [(24, 24), (16, 24, 8)])
def test_shared_conv1_matches_numpy_conv_per_network(widths):
    """Several networks' conv1 as one conv over their kernels side by side (the students
    of a distillation, `alexnet.shared_conv1`), on training-batch lowerings (pixel blocks,
    chunks of 16 outputs): each network's slice equals a NumPy conv with its own kernel."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, (2, 39, 41, 3)).astype(np.float32)
    kernels = [rng.normal(0, 0.05, (11, 11, 3, w)).astype(np.float32) for w in widths]
    layer = structure(M.ModelSpec(channels=(8, 16, 16, 16, 16))).backbone[0]
    lowering = M.Lowering("cpu")
    assert lowering.conv1_chunk(sum(widths), 2) == 16 and lowering.shares_conv1
    kernels_j = [jnp.asarray(k) for k in kernels]
    outs = alexnet.shared_conv1(kernels_j, jnp.asarray(x), layer, lowering, jnp.float32)
    for k, out in zip(kernels, outs, strict=True):
        bias = np.zeros(k.shape[-1])
        ref = np.stack([np_conv(image, k.astype(np.float64), bias, stride=2) for image in x])
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3)


def test_forward_with_shared_conv1_equals_its_own():
    """`forward(..., conv1=...)` (conv1 computed outside, the bias added inside) gives
    the outputs and BatchNorm statistics of the network computing its own conv1."""
    spec = M.ModelSpec(channels=(8, 16, 16, 16, 16))
    net = M.build(spec, lowering=M.Lowering("cpu"))
    v = M.numpy_variables(spec, seed=4, random_batchnorm=True)
    rng = np.random.default_rng(5)
    z = jnp.asarray(rng.uniform(0, 255, (2, 103, 103, 3)), jnp.float32)
    x = jnp.asarray(rng.uniform(0, 255, (2, 151, 151, 3)), jnp.float32)
    layer = structure(spec).backbone[0]
    kernel = v["params"]["backbone"]["conv1"]["kernel"]
    (zc,), (xc,) = (
        alexnet.shared_conv1([kernel], a, layer, net.lowering, jnp.float32) for a in (z, x)
    )
    own, own_stats = M.forward(net, v, z, x, train=True)
    shared, shared_stats = M.forward(net, v, z, x, train=True, conv1=(zc, xc))
    for key in own:
        np.testing.assert_allclose(shared[key], own[key], rtol=1e-5, atol=1e-5)
    jax.tree_util.tree_map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5), shared_stats, own_stats
    )
