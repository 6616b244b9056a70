"""The SiamRPN tracker's `center=upsampled` rule against a float64 NumPy loop.

The reference applies SiamFC's peak rule (siamfc-pytorch's `TrackerSiamFC.update`:
bicubic upsampling, min-shift, normalisation, Hann window, peak displacement) to the
RPN's penalised score map, written anchor by anchor with pysot's penalty, independently
of `dsiam_jax.tracking.siamrpn`. The upsampling matrix is checked against OpenCV's
INTER_CUBIC in tests/test_tracking.py; the anchor grid in tests/test_rpn_geometry.py.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dsiam_jax import anchors as A
from dsiam_jax import models as M
from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking.siamrpn import SiamRPNConfig, SiamRPNTracking
from dsiam_jax.tracking.state import TrackState, cubic_resize_matrix

FRAME_HW = (480, 640)


def padded(w, h):
    p = (w + h) / 2
    return math.sqrt((w + p) * (h + p))


def reference_update(center, size, cls, reg, anchors, cfg: SiamRPNConfig, factor=1.0):
    """`(center, size)` after one frame, float64; cls `[R, R, k, 2]`, reg `[R, R, k, 4]`
    of a search crop `factor` times the side of the current size's."""
    r, _, k, _ = anchors.shape
    x_side = padded(*size) * cfg.search_size / cfg.template_size * factor
    scale = cfg.search_size / x_side
    tw, th = size[0] * scale, size[1] * scale
    logit = cls[..., 1] - cls[..., 0]
    prob = 1 / (1 + np.exp(-logit))
    ranked = (logit - logit.min()) / (logit - logit.min()).sum()
    penalised = np.zeros((r, r, k))
    boxes = np.zeros((r, r, k, 4))
    penalty = np.zeros((r, r, k))
    for i in range(r):
        for j in range(r):
            for a in range(k):
                acx, acy, aw, ah = anchors[i, j, a]
                dx, dy, dw, dh = reg[i, j, a]
                w, h = aw * math.exp(dw), ah * math.exp(dh)
                boxes[i, j, a] = [acx + dx * aw, acy + dy * ah, w, h]
                s_c = padded(w, h) / padded(tw, th)
                r_c = (tw / th) / (w / h)
                s_c, r_c = max(s_c, 1 / s_c), max(r_c, 1 / r_c)
                penalty[i, j, a] = math.exp(-(r_c * s_c - 1) * cfg.penalty_k)
                penalised[i, j, a] = penalty[i, j, a] * ranked[i, j, a]
    n_up = r * cfg.response_up
    u = cubic_resize_matrix(r, n_up).astype(np.float64)
    fine = u @ penalised.max(axis=-1) @ u.T
    fine = fine - fine.min()
    fine = fine / fine.sum()
    window = np.outer(np.hanning(n_up), np.hanning(n_up))
    mixed = (1 - cfg.window_influence) * fine + cfg.window_influence * window / window.sum()
    row, col = np.unravel_index(np.argmax(mixed), mixed.shape)
    disp = (np.array([col, row]) - (n_up - 1) / 2) * 8 / cfg.response_up  # crop px
    # the cell under the peak: upsampled px i sits at cell (i + 0.5) / up - 0.5
    ci = min(max(round((row + 0.5) / cfg.response_up - 0.5), 0), r - 1)
    cj = min(max(round((col + 0.5) / cfg.response_up - 0.5), 0), r - 1)
    a = int(np.argmax(penalised[ci, cj]))
    lr = penalty[ci, cj, a] * prob[ci, cj, a] * cfg.lr
    new_size = np.asarray(size) * (1 - lr) + boxes[ci, cj, a, 2:] / scale * lr
    if cfg.aspect_rate != 1.0:  # same area, aspect ratio old^(1 - rate) * new^rate
        area = new_size[0] * new_size[1]
        aspect = (size[0] / size[1]) ** (1 - cfg.aspect_rate) * (
            new_size[0] / new_size[1]
        ) ** cfg.aspect_rate
        new_size = np.array([math.sqrt(area * aspect), math.sqrt(area / aspect)])
    return np.asarray(center) + disp / scale, new_size


def reference_pyramid_update(center, size, cls, reg, anchors, cfg: SiamRPNConfig):
    """SiamFC's scale choice on the RPN: per crop i (side times step^(i - n//2)) the
    highest foreground log-odds, the side crops' times the scale penalty; the first
    highest crop's update. cls `[S, R, R, k, 2]`, reg `[S, R, R, k, 4]`."""
    n = cfg.num_scales
    peaks = [
        (cls[i, ..., 1] - cls[i, ..., 0]).max() * (1.0 if i == n // 2 else cfg.scale_penalty)
        for i in range(n)
    ]
    best = int(np.argmax(peaks))
    factor = cfg.scale_step ** (best - n // 2)
    return reference_update(center, size, cls[best], reg[best], anchors, cfg, factor)


def _maps(seed: int, r: int, k: int):
    """A log-odds bump at a random sub-cell point on noise, random reg deltas."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:r, :r]
    cy, cx = rng.uniform(4, r - 5, 2)
    bump = rng.uniform(4, 8) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 3.0)
    cls = np.zeros((r, r, k, 2))
    cls[..., 1] = bump[..., None] + rng.normal(0, 0.5, (r, r, k)) - 3
    reg = rng.normal(0, 0.2, (r, r, k, 4))
    return cls, reg


def _update(cfg, center, size, cls, reg):
    """The library's update (the teacher's anchors) on per-crop maps `cls [S, R, R, k,
    2]`, `reg [S, R, R, k, 4]`, passed in the network's layout: channel c * k + a is
    class c (coordinate c) of anchor a."""
    alg = SiamRPNTracking(M.teacher_spec("siamrpn"), cfg)
    s, r, _, k, _ = cls.shape
    cls_net = np.moveaxis(cls, 4, 3).reshape(s, r, r, 2 * k).astype(np.float32)
    reg_net = np.moveaxis(reg, 4, 3).reshape(s, r, r, 4 * k).astype(np.float32)
    f32 = lambda v: jnp.asarray(v, jnp.float32)
    state = TrackState(f32(center), f32(size), f32([10.0, 10.0]), f32([0, 0, 0]), None)
    new, _, _ = jax.jit(alg.update, static_argnums=2)(
        state, {"cls": cls_net, "reg": reg_net}, FRAME_HW
    )
    return new


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("aspect_rate", [1.0, 0.5, 0.0])
def test_upsampled_centre_matches_numpy_reference(seed, aspect_rate):
    spec = M.teacher_spec("siamrpn")
    cfg = SiamRPNConfig(
        center="upsampled",
        response_up=8 if seed % 2 else 16,
        aspect_rate=aspect_rate,
        num_scales=1,
    )
    anchors = np.asarray(A.anchors_for(spec, cfg.template_size, cfg.search_size), np.float64)
    r, _, k, _ = anchors.shape
    cls, reg = _maps(seed, r, k)
    center, size = np.array([300.0, 220.0]), np.array([50.0 + 5 * seed, 40.0])
    new = _update(cfg, center, size, cls[None], reg[None])
    want_center, want_size = reference_update(center, size, cls, reg, anchors, cfg)
    np.testing.assert_allclose(new.center, want_center, rtol=1e-5)
    np.testing.assert_allclose(new.size, want_size, rtol=1e-4)
    if aspect_rate == 0.0:  # SiamFC's rule: the aspect ratio never changes
        np.testing.assert_allclose(new.size[0] / new.size[1], size[0] / size[1], rtol=1e-5)


def test_upsampling_factor_must_be_positive():
    with pytest.raises(ConfigError, match="tracker.siamrpn.response_up=0"):
        SiamRPNConfig(center="upsampled", response_up=0).check()


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_aspect_rate_must_be_a_share(rate):
    with pytest.raises(ConfigError, match=f"tracker.siamrpn.aspect_rate={rate}"):
        SiamRPNConfig(aspect_rate=rate).check()


@pytest.mark.parametrize("seed", range(4))
def test_scale_pyramid_matches_numpy_reference(seed):
    """Three crops with bumps of different heights: the crop the reference picks (the
    side crops' peaks penalised) is the one the update moves and sizes the box by."""
    cfg = SiamRPNConfig(num_scales=3, aspect_rate=0.0)
    spec = M.teacher_spec("siamrpn")
    anchors = np.asarray(A.anchors_for(spec, cfg.template_size, cfg.search_size), np.float64)
    r, _, k, _ = anchors.shape
    maps = [_maps(10 * seed + i, r, k) for i in range(3)]
    cls, reg = np.stack([m[0] for m in maps]), np.stack([m[1] for m in maps])
    center_xy, size = np.array([300.0, 220.0]), np.array([50.0 + 5 * seed, 40.0])
    new = _update(cfg, center_xy, size, cls, reg)
    want_center, want_size = reference_pyramid_update(center_xy, size, cls, reg, anchors, cfg)
    np.testing.assert_allclose(new.center, want_center, rtol=1e-5)
    np.testing.assert_allclose(new.size, want_size, rtol=1e-4)


def test_scale_pyramid_keeps_the_middle_crop_on_a_tie_and_needs_an_odd_count():
    """Equal maps in all three crops: the middle one (scale 1) is used, so the update
    equals the single crop's."""
    spec = M.teacher_spec("siamrpn")
    anchors = np.asarray(A.anchors_for(spec, 127, 271), np.float64)
    r, _, k, _ = anchors.shape
    cls, reg = _maps(0, r, k)
    center_xy, size = np.array([300.0, 220.0]), np.array([50.0, 40.0])
    three = _update(
        SiamRPNConfig(num_scales=3), center_xy, size, np.stack([cls] * 3), np.stack([reg] * 3)
    )
    one = _update(SiamRPNConfig(num_scales=1), center_xy, size, cls[None], reg[None])
    np.testing.assert_allclose(three.center, one.center, rtol=1e-6)
    np.testing.assert_allclose(three.size, one.size, rtol=1e-6)
    with pytest.raises(ConfigError, match="tracker.siamrpn.num_scales=2"):
        SiamRPNConfig(num_scales=2).check()
