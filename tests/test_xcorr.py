"""Cross-correlation lowerings against a NumPy double loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax.models import xcorr as X


def np_xcorr(z, x):
    """out[b, i, j] = sum_{u, v, c} z[b, u, v, c] * x[b, i + u, j + v, c]."""
    b, hz, wz, _ = z.shape
    ho, wo = x.shape[1] - hz + 1, x.shape[2] - wz + 1
    out = np.zeros((b, ho, wo))
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                out[n, i, j] = np.sum(z[n] * x[n, i : i + hz, j : j + wz])
    return out


def np_upchannel(k, x):
    b, hz, wz, _, o = k.shape
    ho, wo = x.shape[1] - hz + 1, x.shape[2] - wz + 1
    out = np.zeros((b, ho, wo, o))
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                patch = x[n, i : i + hz, j : j + wz]  # [hz, wz, C]
                out[n, i, j] = np.einsum("uvc,uvco->o", patch, k[n])
    return out


def np_depthwise(z, x):
    b, hz, wz, c = z.shape
    ho, wo = x.shape[1] - hz + 1, x.shape[2] - wz + 1
    out = np.zeros((b, ho, wo, c))
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                out[n, i, j] = np.sum(z[n] * x[n, i : i + hz, j : j + wz], axis=(0, 1))
    return out


IMPLS = ["vmap", "map", "shift", "taps", "auto"]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("impl", IMPLS)
def test_xcorr_matches_numpy_loop(impl, rng):
    z = rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
    x = rng.standard_normal((3, 11, 9, 6)).astype(np.float32)
    out = jax.jit(lambda z, x: X.xcorr(z, x, impl))(z, x)
    assert out.shape == (3, 8, 5)
    np.testing.assert_allclose(out, np_xcorr(z, x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def test_upchannel_matches_numpy_loop(impl, rng):
    k = rng.standard_normal((2, 3, 3, 4, 5)).astype(np.float32)
    x = rng.standard_normal((2, 8, 7, 4)).astype(np.float32)
    out = jax.jit(lambda k, x: X.xcorr_upchannel(k, x, impl))(k, x)
    assert out.shape == (2, 6, 5, 5)
    np.testing.assert_allclose(out, np_upchannel(k, x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def test_depthwise_matches_numpy_loop(impl, rng):
    z = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    x = rng.standard_normal((2, 9, 8, 5)).astype(np.float32)
    out = jax.jit(lambda z, x: X.xcorr_depthwise(z, x, impl))(z, x)
    assert out.shape == (2, 7, 5, 5)
    np.testing.assert_allclose(out, np_depthwise(z, x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("impl", IMPLS)
def test_one_template_broadcasts_over_scales(impl, rng):
    """A scale pyramid: one template against S search crops."""
    z = rng.standard_normal((1, 3, 3, 4)).astype(np.float32)
    x = rng.standard_normal((3, 7, 7, 4)).astype(np.float32)
    expected = np_xcorr(np.repeat(z, 3, axis=0), x)
    np.testing.assert_allclose(X.xcorr(z, x, impl), expected, rtol=1e-4, atol=1e-4)
    expected_dw = np_depthwise(np.repeat(z, 3, axis=0), x)
    np.testing.assert_allclose(X.xcorr_depthwise(z, x, impl), expected_dw, rtol=1e-4, atol=1e-4)


GRADIENT_CASES = {  # correlation, template shape, search shape
    "xcorr": (X.xcorr, (2, 3, 3, 4), (2, 8, 8, 4)),
    "upchannel": (X.xcorr_upchannel, (2, 3, 3, 4, 5), (2, 7, 7, 4)),
}


@pytest.mark.parametrize("op", sorted(GRADIENT_CASES))
@pytest.mark.parametrize("impl", ["map", "shift", "taps"])
def test_gradients_equal_vmap_definition(impl, op, rng):
    fn, z_shape, x_shape = GRADIENT_CASES[op]
    z = jnp.asarray(rng.standard_normal(z_shape), jnp.float32)
    x = jnp.asarray(rng.standard_normal(x_shape), jnp.float32)

    def loss(z, x, impl):
        return jnp.sum(jnp.sin(fn(z, x, impl)))

    g_ref = jax.grad(loss, argnums=(0, 1))(z, x, "vmap")
    g = jax.grad(loss, argnums=(0, 1))(z, x, impl)
    for a, b in zip(g, g_ref):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_auto_picks_fast_lowering_on_cpu():
    assert X.resolve_impl("auto", "xcorr") == "taps"
    assert X.resolve_impl("auto", "upchannel") == "taps"
    assert X.resolve_impl("auto", "depthwise") == "shift"
    with pytest.raises(ValueError, match="xcorr impl"):
        X.resolve_impl("bogus")


def test_batch_mismatch_is_an_error(rng):
    z = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    x = rng.standard_normal((3, 8, 8, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="batch mismatch"):
        X.xcorr(z, x)
