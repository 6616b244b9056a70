"""On-device synthetic training pairs ("toy" input): no dataset, no TensorFlow.

For benchmarks on accelerator machines without TensorFlow and for fast tests. A
pair is a textured target (a random 4x4 colour grid stretched over a w x h box)
on a smooth random background: centred in the template crop, shifted by up to
`data.augment.search_shift` pixels in the search crop, with a second, different
patch as a distractor in half of the pairs. Target sizes are the same in both
crops, as with real context crops. A negative pair (probability
`data.negative_prob`) shows only other patterns in the search crop.

The batch of step k is a deterministic function of (seed, k) and does not depend
on the number of devices, like `data_pipelines.pairs.train_batches`, whose
signature `toy_batches` shares.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from dsiam_jax import parallel

PATTERN = 4  # the target texture is PATTERN x PATTERN colour cells
# Random stream of the toy data under key(seed) (0 and 1 are the initial variables and
# the per-step randomness, see dsiam_jax.train.state).
DATA_STREAM = 2


def _background(key: jax.Array, size: int) -> jax.Array:
    """A smooth random colour field `[size, size, 3]` in 0..255."""
    coarse = jax.random.uniform(key, (6, 6, 3), minval=20.0, maxval=235.0)
    return jax.image.resize(coarse, (size, size, 3), "linear")


def _paint(image: jax.Array, pattern: jax.Array, box: jax.Array) -> jax.Array:
    """Draws `pattern [P, P, 3]` stretched over `box` (x, y, w, h) into `image [S, S, 3]`."""
    u = jnp.arange(image.shape[0], dtype=jnp.float32) + 0.5  # pixel centres
    fx = (u - box[0]) / box[2]  # [S]
    fy = (u - box[1]) / box[3]
    inside = ((fy >= 0) & (fy < 1))[:, None] & ((fx >= 0) & (fx < 1))[None, :]
    ix = jnp.clip(jnp.floor(fx * PATTERN), 0, PATTERN - 1).astype(jnp.int32)
    iy = jnp.clip(jnp.floor(fy * PATTERN), 0, PATTERN - 1).astype(jnp.int32)
    colour = pattern[iy[:, None], ix[None, :]]  # [S, S, 3]
    return jnp.where(inside[..., None], colour, image)


def toy_pair(
    key: jax.Array, template_size: int, search_size: int, max_shift: float, negative_prob: float
) -> dict[str, jax.Array]:
    """One pair: `template` uint8, `search` uint8, `box` float32 (x, y, w, h), `negative`."""
    keys = jax.random.split(key, 9)
    wh = jax.random.uniform(keys[0], (2,), minval=24.0, maxval=72.0)
    pattern = jax.random.uniform(keys[1], (PATTERN, PATTERN, 3), maxval=255.0)
    other = jax.random.uniform(keys[2], (PATTERN, PATTERN, 3), maxval=255.0)
    negative = jax.random.uniform(keys[3]) < negative_prob

    # A quarter pixel off the crop centre, so that no pixel centre sits exactly on a
    # texture-cell edge (where float rounding could differ between compilations).
    t_center = jnp.full((2,), template_size / 2 + 0.25)
    template = _paint(_background(keys[4], template_size), pattern, jnp.r_[t_center - wh / 2, wh])

    lo, hi = wh / 2, search_size - wh / 2
    shift = jax.random.uniform(keys[5], (2,), minval=-max_shift, maxval=max_shift)
    center = jnp.clip(search_size / 2 + shift, lo, hi)
    box = jnp.r_[center - wh / 2, wh]
    search = _background(keys[6], search_size)
    d_wh = jax.random.uniform(keys[7], (2,), minval=24.0, maxval=72.0)
    d_center = jax.random.uniform(keys[8], (2,), minval=d_wh / 2, maxval=search_size - d_wh / 2)
    with_distractor = jax.random.uniform(jax.random.fold_in(key, 1)) < 0.5
    distracted = _paint(search, other[::-1], jnp.r_[d_center - d_wh / 2, d_wh])
    search = jnp.where(with_distractor | negative, distracted, search)
    search = _paint(search, jnp.where(negative, other, pattern), box)
    return {
        "template": jnp.round(template).astype(jnp.uint8),
        "search": jnp.round(search).astype(jnp.uint8),
        "box": box.astype(jnp.float32),
        "negative": negative,
    }


def toy_batch(
    key: jax.Array,
    batch_size: int,
    template_size: int = 127,
    search_size: int = 255,
    max_shift: float = 64.0,
    negative_prob: float = 0.0,
) -> dict[str, jax.Array]:
    """A batch of `toy_pair`s; example i uses `fold_in(key, i)`."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(batch_size))
    return jax.vmap(lambda k: toy_pair(k, template_size, search_size, max_shift, negative_prob))(
        keys
    )


def toy_batches(
    data_config: Mapping[str, Any],
    *,
    seed: int,
    global_batch_size: int,
    mesh: Mesh,
    start_step: int = 0,
) -> Iterator[dict[str, jax.Array]]:
    """Endless global batches sharded over `data`; batch k from `fold_in(stream, k)`,
    stream = `fold_in(key(seed), DATA_STREAM)`.

    Reads `template_size`, `search_size`, `negative_prob` and `augment.search_shift`
    from the data config (a ConfigDict or a plain dict).
    """
    make = jax.jit(
        lambda step: toy_batch(
            jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), DATA_STREAM), step),
            global_batch_size,
            int(data_config["template_size"]),
            int(data_config["search_size"]),
            float(data_config["augment"]["search_shift"]),
            float(data_config["negative_prob"]),
        ),
        out_shardings=parallel.batch_sharding(mesh),
    )
    step = start_step
    while True:
        yield make(jnp.int32(step))
        step += 1
