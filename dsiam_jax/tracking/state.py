"""The tracking state pytree and the box bookkeeping both trackers share (JAX).

Coordinates are continuous image pixels (`dsiam_jax.crops`): the frame covers
[0, W] x [0, H]; a box `(x, y, w, h)` has its centre at (x + w/2, y + h/2).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class TrackState(NamedTuple):
    """What a tracker carries from frame to frame (a pytree; vmappable).

    Attributes:
      center: `[2]` float32 target centre (cx, cy) in image pixels.
      size: `[2]` float32 target (w, h) in image pixels (not clipped to the frame).
      min_size: `[2]` float32 lower clamp of `size`: min(tracker min_size, initial size).
      fill: `[3]` float32 crop padding colour: the first frame's mean colour, kept for
        the whole sequence as siamfc-pytorch and pysot do (a per-frame mean of a
        1920x1080 frame cost 6.8 ms of a ~14 ms 3-scale crop on the 2-core CPU).
      kernels: the network's template output (any pytree), computed once at init.
    """

    center: jax.Array
    size: jax.Array
    min_size: jax.Array
    fill: jax.Array
    kernels: Any


def initial_state(frame: jax.Array, box: jax.Array, min_size: float) -> TrackState:
    """State (without kernels) for a first frame and its checked, clipped box `[4]`."""
    box = jnp.asarray(box, jnp.float32)
    size = box[2:]
    return TrackState(
        center=box[:2] + size / 2,
        size=size,
        min_size=jnp.minimum(jnp.float32(min_size), size),
        fill=jnp.mean(frame, axis=(0, 1), dtype=jnp.float32),
        kernels=None,
    )


def clamp(center: jax.Array, size: jax.Array, min_size: jax.Array, frame_hw) -> tuple:
    """Centre clipped into the frame, size clamped to [min_size, frame size]."""
    h, w = frame_hw
    limit = jnp.asarray([w, h], jnp.float32)
    center = jnp.clip(center, 0.0, limit)
    size = jnp.clip(size, jnp.minimum(min_size, limit), limit)
    return center, size


def output_box(center: jax.Array, size: jax.Array, frame_hw) -> jax.Array:
    """The reported box `[4]`: the state's box cut to the frame (x, y, w, h)."""
    h, w = frame_hw
    limit = jnp.asarray([w, h], jnp.float32)
    lo = jnp.clip(center - size / 2, 0.0, limit)
    hi = jnp.clip(center + size / 2, 0.0, limit)
    return jnp.concatenate([lo, hi - lo])


def keep_if_finite(new: TrackState, old: TrackState) -> TrackState:
    """`new`, or `old` where the update produced a NaN/inf centre or size."""
    ok = jnp.all(jnp.isfinite(new.center)) & jnp.all(jnp.isfinite(new.size))
    return new._replace(
        center=jnp.where(ok, new.center, old.center), size=jnp.where(ok, new.size, old.size)
    )


def first_argmax(x: jax.Array) -> jax.Array:
    """Flat index of the first maximum of `x` (`jnp.argmax`'s result, NaN first included).

    Two plain reductions (max, then the smallest matching index) instead of XLA's
    variadic argmax reduction, which is 2-3x slower on CPU for response-map sizes.
    Both must read the same values: under `jit`, XLA may fuse the computation of `x`
    into each reduction and round it differently in each (seen with traced tracker
    settings: no element equalled the max, and the index ran past the map), so `x` is
    materialised once behind an optimization barrier.
    """
    flat = jax.lax.optimization_barrier(x.reshape(-1))
    top = jnp.max(flat)
    match = (flat == top) | jnp.isnan(flat)
    iota = jnp.arange(flat.size, dtype=jnp.int32)
    return jnp.min(jnp.where(match, iota, flat.size))


def hann_window(n: int) -> np.ndarray:
    """Outer product of two Hann windows `[n, n]` (NumPy's `hanning`, as siamfc/pysot)."""
    h = np.hanning(n)
    return np.outer(h, h)


def cubic_resize_matrix(src: int, dst: int, a: float = -0.75) -> np.ndarray:
    """`[dst, src]` matrix of OpenCV's INTER_CUBIC resize along one axis.

    Half-pixel centres (source coordinate (i + 0.5) * src / dst - 0.5), Keys kernel
    with a = -0.75, replicated border: `M @ v` equals `cv2.resize` of a vector `v`,
    so `M @ R @ M.T` upsamples a response map as siamfc-pytorch does.
    """

    def keys(t: np.ndarray) -> np.ndarray:
        t = np.abs(t)
        return np.where(
            t <= 1,
            (a + 2) * t**3 - (a + 3) * t**2 + 1,
            np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0),
        )

    m = np.zeros((dst, src), np.float64)
    for i in range(dst):
        pos = (i + 0.5) * src / dst - 0.5
        base = int(np.floor(pos))
        for tap in range(base - 1, base + 3):
            m[i, min(max(tap, 0), src - 1)] += keys(pos - tap)
    return m.astype(np.float32)
