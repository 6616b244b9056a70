"""Max-pool lowerings against a NumPy loop: values, and gradients to each window's first max."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax.models.pooling import max_pool


def np_pool_and_grad(x, g):
    """3x3/2 VALID max-pool of x `[B, H, W, C]`, and the input gradient for output gradient g:
    each window passes its gradient to its first maximum in row-major window order."""
    b, h, w, c = x.shape
    ho, wo = (h - 3) // 2 + 1, (w - 3) // 2 + 1
    y = np.zeros((b, ho, wo, c), x.dtype)
    dx = np.zeros(x.shape, np.float64)
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                for ch in range(c):
                    window = x[n, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3, ch]
                    y[n, i, j, ch] = window.max()
                    u, v = np.unravel_index(np.argmax(window), (3, 3))  # first max
                    dx[n, 2 * i + u, 2 * j + v, ch] += g[n, i, j, ch]
    return y, dx


@pytest.mark.parametrize("by_slices", [False, True])
@pytest.mark.parametrize("shape", [(2, 9, 11, 3), (1, 10, 8, 2)])
def test_max_pool_and_gradient_match_numpy_loop(by_slices, shape):
    rng = np.random.default_rng(0)
    # After ReLU: many windows hold several equal maxima (zeros), where the rule matters.
    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
    x[0, :3, :3, 0] = 1.5  # a whole window of equal values
    out_shape = (shape[0], (shape[1] - 3) // 2 + 1, (shape[2] - 3) // 2 + 1, shape[3])
    g = rng.standard_normal(out_shape).astype(np.float32)
    y_ref, dx_ref = np_pool_and_grad(x, g)
    y, vjp = jax.vjp(lambda a: max_pool(a, by_slices), jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(y), y_ref)
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(g))[0]), dx_ref, rtol=1e-6, atol=1e-6)


def test_slices_under_jit_and_vmap_equal_reduce_window():
    x = jnp.asarray(np.random.default_rng(1).standard_normal((3, 2, 15, 15, 4)), jnp.float32)
    pool = jax.jit(jax.vmap(lambda a: max_pool(a, True)))
    ref = jax.vmap(lambda a: max_pool(a, False))(x)
    np.testing.assert_array_equal(np.asarray(pool(x)), np.asarray(ref))
    grad = jax.jit(jax.grad(lambda a: jnp.sum(jnp.sin(max_pool(a, True)))))
    grad_ref = jax.grad(lambda a: jnp.sum(jnp.sin(max_pool(a, False))))
    np.testing.assert_allclose(grad(x[0]), grad_ref(x[0]), rtol=1e-6, atol=1e-6)
