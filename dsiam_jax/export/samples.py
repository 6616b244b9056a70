"""Test inputs for export checks: random crops and crops of real photographs.

Real crops come from photographs that ship inside the scikit-image wheel (CC0 /
public domain: astronaut, chelsea, coffee, rocket), cut with the tracker's own
crop (`dsiam_jax.crops.crop_jax`) around hand-picked objects, with the search
crops shifted and scaled a little as they are when tracking. They serve as
"real inputs" for the parity numbers and as calibration data for the int8 QDQ
variant. Without scikit-image, `real_pairs` returns an empty list.
"""

from __future__ import annotations

import numpy as np

from dsiam_jax import crops

# (image name in skimage.data, object box x, y, w, h)
PHOTO_TARGETS = (
    ("astronaut", (170.0, 20.0, 130.0, 170.0)),  # face
    ("chelsea", (140.0, 40.0, 170.0, 160.0)),  # cat's head
    ("coffee", (190.0, 40.0, 240.0, 200.0)),  # cup
    ("rocket", (300.0, 60.0, 60.0, 300.0)),  # rocket
)


def random_pair(
    template_size: int, search_size: int, scales: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform 0..255 crops: template `[1, Z, Z, 3]`, search `[S, X, X, 3]` (float32)."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0, 255, (1, template_size, template_size, 3)).astype(np.float32)
    x = rng.uniform(0, 255, (scales, search_size, search_size, 3)).astype(np.float32)
    return z, x


def _load_photo(name: str) -> np.ndarray | None:
    try:
        import skimage.data
    except ImportError:
        return None
    return np.asarray(getattr(skimage.data, name)(), np.uint8)


def real_pairs(
    template_size: int,
    search_size: int,
    scales: int,
    context: float = 0.5,
    scale_step: float = 1.0375,
    limit: int | None = None,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Template / search crop pairs of real photographs (empty without scikit-image).

    Each pair: template `[1, Z, Z, 3]` centred on the object; search `[S, X, X, 3]`
    centred on a jittered point, a scale pyramid with ratio `scale_step`.
    """
    import jax
    import jax.numpy as jnp

    crop = jax.jit(crops.crop_jax, static_argnums=3)  # one compile per image and size
    rng = np.random.default_rng(seed)
    pairs = []
    for name, (x0, y0, w, h) in PHOTO_TARGETS[:limit]:
        image = _load_photo(name)
        if image is None:
            return []
        img = jnp.asarray(image)
        centre = np.array([x0 + w / 2, y0 + h / 2], np.float32)
        side_z = float(crops.context_side(w, h, context))
        z = crop(img, jnp.asarray(centre), side_z, template_size)
        side_x = side_z * search_size / template_size
        jitter = centre + rng.uniform(-0.15, 0.15, 2).astype(np.float32) * np.array([w, h])
        factors = scale_step ** (np.arange(scales) - (scales - 1) / 2)
        x = [crop(img, jnp.asarray(jitter), side_x * f, search_size) for f in factors]
        pairs.append((np.asarray(z)[None], np.stack([np.asarray(c) for c in x])))
    return pairs
