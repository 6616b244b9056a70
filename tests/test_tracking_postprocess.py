"""The SiamFC tracker's post-processing and the tracking crop against float64 NumPy loops.

The reference below follows siamfc-pytorch's `TrackerSiamFC.update` step by step
(upsample every scale, penalise the side scales, pick the scale with the highest
peak, min-shift and normalise its map, mix in the Hann window, move the centre by
the peak's displacement, damp the size), written independently of
`dsiam_jax.tracking.siamfc` so that its faster formulation is checked, not copied.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import crops
from dsiam_jax import models as M
from dsiam_jax.tracking.siamfc import SiamFCConfig, SiamFCTracking
from dsiam_jax.tracking.state import TrackState, cubic_resize_matrix, first_argmax, hann_window

FRAME_HW = (360, 480)


def reference_update(center, size, responses, cfg: SiamFCConfig):
    """`(center, size)` after one frame, float64, as siamfc-pytorch computes it."""
    r = responses.shape[-1]
    n_up = r * cfg.response_up
    u = cubic_resize_matrix(r, n_up).astype(np.float64)
    half = cfg.num_scales // 2
    factors = cfg.scale_step ** np.arange(-half, half + 1)
    maps = []
    for s in range(cfg.num_scales):
        m = u @ responses[s].astype(np.float64) @ u.T
        if s != half:
            m = m * cfg.scale_penalty
        maps.append(m)
    best = int(np.argmax([m.max() for m in maps]))
    m = maps[best] - maps[best].min()
    m = m / (m.sum() + 1e-16)
    window = np.outer(np.hanning(n_up), np.hanning(n_up))
    m = (1 - cfg.window_influence) * m + cfg.window_influence * window / window.sum()
    row, col = np.unravel_index(np.argmax(m), m.shape)
    disp = np.array([col, row], np.float64) - (n_up - 1) / 2  # upsampled px
    w, h = size
    p = cfg.context * (w + h)
    x_side = np.sqrt((w + p) * (h + p)) * cfg.search_size / cfg.template_size
    disp = disp * (8 / cfg.response_up) * x_side * factors[best] / cfg.search_size
    scale = (1 - cfg.scale_lr) + cfg.scale_lr * factors[best]
    return np.asarray(center) + disp, np.asarray(size) * scale, best, x_side * factors[best]


def _state(center, size):
    f32 = lambda v: jnp.asarray(v, jnp.float32)
    return TrackState(f32(center), f32(size), f32([10.0, 10.0]), f32([0, 0, 0]), None)


def _responses(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.normal(0, 1, (3, 17, 17)).astype(np.float32)
    # A peak per scale at a random cell, on noise (the usual shape of a response).
    out = rng.normal(0, 0.3, (3, 17, 17))
    yy, xx = np.mgrid[:17, :17]
    for s in range(3):
        cy, cx = rng.uniform(3, 13, 2)
        out[s] += rng.uniform(2, 6) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 4.0)
    return out.astype(np.float32)


@pytest.mark.parametrize("kind", ["noise", "peaks"])
@pytest.mark.parametrize("seed", range(4))
def test_siamfc_update_matches_numpy_reference(kind, seed):
    cfg = SiamFCConfig()
    algo = SiamFCTracking(M.teacher_spec("siamfc"), cfg)
    responses = _responses(kind, seed)
    center, size = np.array([240.0, 180.0]), np.array([40.0 + 7 * seed, 30.0])
    new, box, score = jax.jit(algo.update, static_argnums=2)(
        _state(center, size), {"response": jnp.asarray(responses)}, FRAME_HW
    )
    ref_center, ref_size, best, side = reference_update(center, size, responses, cfg)
    # float32 against float64: the argmax may flip between neighbouring upsampled
    # pixels at a flat peak, one of them is side * 8 / 16 / 255 image px.
    one_px = side * (8 / cfg.response_up) / cfg.search_size
    np.testing.assert_allclose(np.asarray(new.center), ref_center, atol=1.01 * one_px)
    np.testing.assert_allclose(np.asarray(new.size), ref_size, rtol=1e-5)
    lo = ref_center - ref_size / 2
    np.testing.assert_allclose(np.asarray(box), [*lo, *ref_size], atol=1.01 * one_px + 1e-3)
    assert 0.0 < float(score) < 1.0


def test_scale_penalty_picks_the_middle_scale_on_a_tie():
    cfg = SiamFCConfig()
    algo = SiamFCTracking(M.teacher_spec("siamfc"), cfg)
    same = np.tile(_responses("peaks", 0)[1:2], (3, 1, 1))
    new, _, _ = algo.update(_state([240.0, 180.0], [40.0, 30.0]), {"response": same}, FRAME_HW)
    np.testing.assert_allclose(np.asarray(new.size), [40.0, 30.0], rtol=1e-6)  # scale 1


def test_first_argmax_is_numpys_argmax():
    rng = np.random.default_rng(0)
    for shape in [(7,), (5, 9), (3, 4, 6)]:
        x = rng.integers(0, 4, shape).astype(np.float32)  # ties: the first one counts
        assert int(first_argmax(jnp.asarray(x))) == int(np.argmax(x))
    x = np.array([1.0, np.nan, 3.0, np.nan], np.float32)
    assert int(first_argmax(jnp.asarray(x))) == int(jnp.argmax(jnp.asarray(x))) == 1


def test_first_argmax_under_jit_with_traced_weights_finds_the_maximum():
    """SiamRPN's pscore mix with traced penalty / window weights (mode=tune's tracker),
    argmax-ed inside the same jit. XLA fused the mix into both of first_argmax's
    reductions and rounded it differently in each: no element matched the max and the
    index ran past the map (about 1 draw in 4 here). Reference: the mix computed by
    itself, argmax-ed by NumPy (equal up to float rounding of the mix)."""
    window = hann_window(19).astype(np.float32)[:, :, None]  # [19, 19, 1]

    def pscore(cls, wh, k, wi):  # [19, 19, 5]
        score = jax.nn.softmax(cls, axis=-1)[..., 1]
        change = jnp.maximum(wh[..., 0] / wh[..., 1], wh[..., 1] / wh[..., 0])
        return jnp.exp(-(change - 1.0) * k) * score * (1 - wi) + window * wi

    best = jax.jit(lambda *a: first_argmax(pscore(*a)))
    mixed = jax.jit(pscore)
    rng = np.random.default_rng(0)
    for _ in range(40):
        cls = rng.normal(0.0, 3.0, (19, 19, 5, 2)).astype(np.float32)
        wh = rng.uniform(10.0, 100.0, (19, 19, 5, 2)).astype(np.float32)
        k, wi = np.float32(rng.uniform(0.0, 0.6)), np.float32(rng.uniform(0.05, 0.65))
        ref = np.asarray(mixed(cls, wh, k, wi)).reshape(-1)
        index = int(best(cls, wh, k, wi))
        assert 0 <= index < ref.size
        assert ref[index] >= ref.max() - 1e-6


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_three_scale_crop_of_a_frame_matches_the_loop(dtype):
    """The scale pyramid as the tracker crops it (vmapped over sides), at a frame border."""
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (48, 64, 3)).astype(dtype)
    fill = frame.reshape(-1, 3).mean(0)
    center, sides = np.array([6.3, 40.2]), np.array([30.0, 31.1, 32.3])
    got = jax.jit(
        jax.vmap(lambda s: crops.crop_jax(jnp.asarray(frame), jnp.asarray(center), s, 21, fill))
    )(jnp.asarray(sides, jnp.float32))
    for i, side in enumerate(sides):
        ref = crops.crop_numpy(frame, center, side, 21, fill)
        np.testing.assert_allclose(np.asarray(got[i]), ref, atol=2e-3, rtol=1e-4)
