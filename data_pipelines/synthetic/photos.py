"""The real photographs the synthetic data is made of: files inside installed wheels.

Only images whose licence the packages state as CC0, public domain or CC-BY (and
"no known copyright restrictions") are used; none needs a download. Files are read
straight from the package folders with PIL (the packages are never imported), and
downscaled once per process to at most `MAX_SIDE` pixels.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import pathlib

import numpy as np
from PIL import Image

from dsiam_jax.errors import UserError

MAX_SIDE = 640


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclasses.dataclass(frozen=True)
class Photo:
    """One bundled photograph and where it comes from."""

    name: str
    package: str  # 'skimage' | 'sklearn'
    relpath: str  # inside the package folder
    licence: str
    credit: str


PHOTOS: tuple[Photo, ...] = (
    Photo("astronaut", "skimage", "data/astronaut.png", "public domain", "NASA (Eileen Collins)"),
    Photo("chelsea", "skimage", "data/chelsea.png", "CC0", "Stefan van der Walt"),
    Photo("coffee", "skimage", "data/coffee.png", "CC0", "Rachel Michetti"),
    Photo("rocket", "skimage", "data/rocket.jpg", "public domain", "SpaceX"),
    Photo("hubble_deep_field", "skimage", "data/hubble_deep_field.jpg", "public domain", "NASA"),
    Photo("camera", "skimage", "data/camera.png", "CC0", "Lav Varshney"),
    Photo("clock", "skimage", "data/clock_motion.png", "public domain", "Stefan van der Walt"),
    Photo(
        "coins", "skimage", "data/coins.png", "no known copyright restrictions", "Brooklyn Museum"
    ),
    Photo(
        "immunohistochemistry", "skimage", "data/ihc.png", "no known copyright restrictions", "CMMI"
    ),
    Photo("retina", "skimage", "data/retina.jpg", "CC0", "Wikimedia Commons"),
    Photo("brick", "skimage", "data/brick.png", "CC0", "CC0Textures (Bricks25)"),
    Photo("grass", "skimage", "data/grass.png", "CC0", "linolafett (DeviantArt)"),
    Photo("gravel", "skimage", "data/gravel.png", "CC0", "CC0Textures (Gravel04)"),
    Photo("cell", "skimage", "data/cell.png", "CC0", "qpformat data"),
    Photo("text", "skimage", "data/text.png", "public domain", "Wikipedia File:Corner.png"),
    Photo("horse", "skimage", "data/horse.png", "CC0", "Andreas Preuss (marauder)"),
    Photo("china", "sklearn", "datasets/images/china.jpg", "CC-BY 2.0", "danielbuechele (Flickr)"),
    Photo("flower", "sklearn", "datasets/images/flower.jpg", "CC-BY 2.0", "vultilion (Flickr)"),
)
BY_NAME = {p.name: p for p in PHOTOS}

# Roles: scenes the camera moves over, textures targets are cut from, occluder textures.
BACKGROUNDS = _names(
    "astronaut chelsea coffee rocket hubble_deep_field china flower camera clock coins "
    "brick grass gravel immunohistochemistry"
)
OBJECT_SOURCES = _names(
    "astronaut chelsea coffee rocket hubble_deep_field china flower retina "
    "immunohistochemistry coins camera"
)
OCCLUDERS = _names("brick grass gravel coins text cell")
SILHOUETTE = "horse"  # an RGBA cut-out: its alpha gives one of the target shapes


def _package_dir(package: str) -> pathlib.Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip = {"skimage": "scikit-image", "sklearn": "scikit-learn"}[package]
        raise UserError(f"synthetic data needs the photographs in {pip}: pip install {pip}")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def photo_path(name: str) -> pathlib.Path:
    """File of a bundled photograph."""
    photo = BY_NAME[name]
    return _package_dir(photo.package) / photo.relpath


@functools.cache
def load_rgba(name: str) -> Image.Image:
    """A photograph as an RGBA PIL image, at most MAX_SIDE px (cached per process)."""
    path = photo_path(name)
    if not path.is_file():
        raise UserError(f"synthetic data: bundled photograph missing: {path}")
    with Image.open(path) as img:
        img.load()
        rgba = img.convert("RGBA")
    scale = MAX_SIDE / max(rgba.size)
    if scale < 1:
        size = (round(rgba.width * scale), round(rgba.height * scale))
        rgba = rgba.resize(size, Image.Resampling.LANCZOS)
    return rgba


def load_rgb(name: str) -> Image.Image:
    """A photograph as an RGB PIL image (gray photographs become 3 equal channels)."""
    return load_rgba(name).convert("RGB")


@functools.lru_cache(maxsize=1)
def silhouette_mask() -> np.ndarray:
    """The horse cut-out's alpha, cropped to its bounding box: float32 `[h, w]` in [0, 1]."""
    alpha = np.asarray(load_rgba(SILHOUETTE))[..., 3].astype(np.float32) / 255.0
    rows, cols = np.nonzero(alpha > 0.5)
    return alpha[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def attribution() -> str:
    """Text crediting every photograph used (CC-BY requires it)."""
    lines = ["Synthetic tracking data rendered from these photographs:", ""]
    for p in PHOTOS:
        source = "scikit-image" if p.package == "skimage" else "scikit-learn"
        credit = f", {p.credit}" if p.credit else ""
        lines.append(f"- {p.name} ({source} {p.relpath}){credit}: {p.licence}")
    return "\n".join(lines) + "\n"
