"""Winograd F(2x2, 3x3) convs (`dsiam_jax.models.winograd`) against NumPy loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import models as M
from dsiam_jax.models import winograd as W


def numpy_conv(x, kernel, groups=1):
    """VALID stride-1 grouped conv, NHWC x HWIO, as a float64 loop over kernel taps."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    b, h, w, c = x.shape
    kh, kw, cin, cout = kernel.shape
    out = np.zeros((b, h - kh + 1, w - kw + 1, cout))
    og = cout // groups
    for gi in range(groups):
        xs = x[..., gi * cin : (gi + 1) * cin]
        ks = kernel[..., gi * og : (gi + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, i : i + out.shape[1], j : j + out.shape[2]]
                out[..., gi * og : (gi + 1) * og] += patch @ ks[i, j]
    return out


def test_f23_matrices_compute_a_3_tap_correlation():
    at, g, bt = (np.array(m, np.float64) for m in (W.WINOGRAD_AT, W.WINOGRAD_G, W.WINOGRAD_BT))
    rng = np.random.default_rng(0)
    for _ in range(5):
        d, k = rng.standard_normal(4), rng.standard_normal(3)
        expected = [k[0] * d[i] + k[1] * d[i + 1] + k[2] * d[i + 2] for i in range(2)]
        np.testing.assert_allclose(at @ ((g @ k) * (bt @ d)), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "shape, cout, groups",
    [((2, 9, 9, 8), 6, 1), ((1, 10, 7, 8), 4, 2), ((1, 12, 12, 64), 32, 2), ((3, 5, 6, 3), 5, 1)],
)
def test_winograd_conv_equals_a_numpy_loop(shape, cout, groups):
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    kernel = rng.standard_normal((3, 3, shape[-1] // groups, cout)).astype(np.float32)
    out = np.asarray(W.winograd_conv(jnp.asarray(x), jnp.asarray(kernel), groups))
    ref = numpy_conv(x, kernel, groups)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_winograd_conv_gradients_equal_the_convs():
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.uniform(-1, 1, (2, 8, 9, 4)), jnp.float32)
    kernel = jnp.asarray(rng.standard_normal((3, 3, 2, 6)), jnp.float32)

    def conv(x, k):
        dims = ("NHWC", "HWIO", "NHWC")
        return jax.lax.conv_general_dilated(
            x, k, (1, 1), "VALID", dimension_numbers=dims, feature_group_count=2
        )

    loss = lambda f: lambda x, k: jnp.sum(jnp.sin(f(x, k)))  # noqa: E731
    got = jax.grad(loss(lambda x, k: W.winograd_conv(x, k, 2)), argnums=(0, 1))(x, kernel)
    want = jax.grad(loss(conv), argnums=(0, 1))(x, kernel)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_winograd_conv_rejects_other_kernels():
    with pytest.raises(ValueError, match="3x3"):
        W.winograd_conv(jnp.zeros((1, 9, 9, 2)), jnp.zeros((5, 5, 2, 2)))


def test_search_features_with_winograd_equal_the_convs():
    # 'auto' on YNNPACK takes Winograd for conv3 only (64 inputs, 18x18 outputs on a 191
    # crop; the grouped conv4 / conv5 have 48 per group); 'on' forces it on every 3x3 conv.
    spec = M.ModelSpec(channels=(16, 64, 96, 96, 64))
    cpu = M.Lowering.for_backend("cpu", conv_library="ynn")
    assert cpu.use_winograd(1, 64, 1, 3, 1, 18) and not cpu.use_winograd(1, 96, 2, 3, 1, 16)
    v = M.numpy_variables(spec, seed=4)
    x = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (1, 191, 191, 3)), jnp.float32)
    ref = M.search_branch(M.build(spec, lowering=cpu.replace(winograd="off")), v, x)
    for mode in ("auto", "on"):
        out = M.search_branch(M.build(spec, lowering=cpu.replace(winograd=mode)), v, x)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * float(jnp.abs(ref).max()))


def test_the_lowering_replaces_the_3x3_convs_it_picks():
    spec = M.ModelSpec(channels=(16, 64, 96, 96, 64))
    cpu = M.Lowering.for_backend("cpu", conv_library="ynn")  # Eigen ('auto' at batch 1): none
    v = M.numpy_variables(spec, seed=4)
    x = jnp.zeros((1, 191, 191, 3), jnp.float32)

    def convs(mode, lowering=cpu):  # conv_general_dilated ops in the search branch's program
        net = M.build(spec, lowering=lowering.replace(winograd=mode))
        jaxpr = str(jax.make_jaxpr(lambda v, x: M.search_branch(net, v, x))(v, x))
        return jaxpr.count("conv_general_dilated["), jaxpr.count("dot_general[")

    # off: conv1 (one conv: 16 outputs), conv2 / conv4 / conv5 one conv per group (x2),
    # conv3 one conv; auto: conv3 as Winograd; on: conv3-5 as Winograd.
    assert convs("off") == (8, 0)
    assert convs("auto") == (7, 1)
    assert convs("on") == (3, 3)
    assert convs("auto", M.Lowering.for_backend("cpu")) == (8, 0)  # batch 1 on Eigen
