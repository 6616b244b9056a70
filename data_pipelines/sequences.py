"""Tracking sequences and the layout readers' common interface (no TensorFlow).

A `Sequence` is a list of frames (file paths, or an in-memory loader for the
synthetic data) with one `(x, y, w, h)` box per frame and a visibility flag.
`read_sequences(layout, root, split)` dispatches to `data_pipelines.layouts.<layout>`.

Boxes are float64 `[N, 4]`, NaN where a frame has no annotation (e.g. test
splits that only give the first box). Frames are decoded to RGB uint8
`[H, W, 3]` (grayscale and RGBA are converted).
"""

from __future__ import annotations

import dataclasses
import importlib
import pathlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from dsiam_jax.errors import InputFileError, UserError

LAYOUTS = ("got10k", "lasot", "otb", "trackingnet", "imagenet_vid", "vot", "folder", "synthetic")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


class DatasetError(UserError, ValueError):
    """Malformed dataset content (names the file and line)."""


class FrameReadError(InputFileError):
    """A frame that cannot be read or decoded (names its path)."""


@dataclasses.dataclass
class Sequence:
    """One video with its annotation."""

    name: str
    frames: list[str]  # file paths in order ([] when `loader` provides frames)
    boxes: np.ndarray  # [N, 4] float64 x, y, w, h (NaN = not annotated)
    visible: np.ndarray  # [N] bool
    dataset: str = ""
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    loader: Callable[[int], np.ndarray] | None = None  # in-memory frames (synthetic)
    # Known frame size (width, height), e.g. from GOT-10k meta_info.ini or VID XML;
    # None = only known once a frame is decoded.
    image_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.boxes)

    def load_frame(self, i: int) -> np.ndarray:
        """Frame `i` as RGB uint8 `[H, W, 3]`; raises FrameReadError naming the file."""
        if self.loader is not None:
            return self.loader(i)
        return load_image(self.frames[i])


def load_image(path: str | pathlib.Path) -> np.ndarray:
    """Decodes an image file to RGB uint8 `[H, W, 3]`."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as e:
        raise FrameReadError(f"cannot read frame {path}: {e}") from e


def parse_box_file(path: str | pathlib.Path, allow_empty_lines: bool = True) -> np.ndarray:
    """Reads `x,y,w,h` lines (separated by commas, tabs or spaces) -> float64 `[N, 4]`.

    'NaN' entries are kept as NaN. A malformed line raises DatasetError naming
    the file and the line number.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputFileError(f"annotation file not found: {path}")
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text:
            if allow_empty_lines:
                continue
            raise DatasetError(f"{path}:{lineno}: empty line")
        parts = [p for p in text.replace(",", " ").replace("\t", " ").split(" ") if p]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise DatasetError(
                f"{path}:{lineno}: expected 4 numbers x,y,w,h, got {text!r}"
            ) from None
        if len(values) != 4:
            raise DatasetError(f"{path}:{lineno}: expected 4 numbers x,y,w,h, got {text!r}")
        rows.append(values)
    return np.asarray(rows, np.float64).reshape(-1, 4)


def natural_key(path: str | pathlib.Path) -> list:
    """Sort key that orders '2.jpg' before '10.jpg' (digit runs compare as numbers)."""
    parts = re.split(r"(\d+)", pathlib.Path(path).name)
    return [int(p) if p.isdigit() else p for p in parts]


def list_frames(folder: pathlib.Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[str]:
    """Image files directly in `folder`, in natural (numeric-aware) order."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file()]
    return [str(p) for p in sorted(files, key=natural_key)]


def pad_boxes(boxes: np.ndarray, n: int, path: pathlib.Path) -> np.ndarray:
    """Boxes for `n` frames: a first-frame-only annotation is padded with NaN rows.

    Any other count mismatch raises DatasetError naming `path`.
    """
    if len(boxes) == 1 and n > 1:  # test splits annotate only the first frame
        return np.concatenate([boxes, np.full((n - 1, 4), np.nan)])
    if len(boxes) != n:
        raise DatasetError(f"{path}: {len(boxes)} boxes for {n} frames")
    return boxes


def sane_boxes(
    boxes: np.ndarray,
    image_size: tuple[int, int] | None = None,
    min_size: float = 1.0,
    max_aspect_ratio: float = 0.0,
) -> np.ndarray:
    """`[N]` bool: finite boxes at least `min_size` px wide and high, aspect within bounds.

    `max_aspect_ratio` > 0 rejects boxes with max(w/h, h/w) above it. With
    `image_size` (W, H), a box whose centre lies outside the image is rejected too.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    x, y, w, h = boxes.T
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(boxes).all(axis=1) & (w >= min_size) & (h >= min_size) & (w > 0) & (h > 0)
        if max_aspect_ratio > 0:
            ok &= np.maximum(w / h, h / w) <= max_aspect_ratio
        if image_size is not None:
            cx, cy = x + w / 2, y + h / 2
            ok &= (cx >= 0) & (cy >= 0) & (cx <= image_size[0]) & (cy <= image_size[1])
    return ok


def read_sequences(layout: str, root: str, split: str = "", **kwargs) -> list[Sequence]:
    """All sequences of a dataset folder in `layout` under `root` (and `split`)."""
    if layout not in LAYOUTS:
        raise UserError(f"unknown dataset layout {layout!r}: expected one of {LAYOUTS}")
    module = importlib.import_module(f"data_pipelines.layouts.{layout}")
    if layout != "synthetic":
        path = pathlib.Path(root).expanduser()
        if not str(root) or not path.exists():
            raise InputFileError(f"dataset root not found for layout {layout!r}: {root!r}")
    sequences = module.read(root, split, **kwargs)
    if not sequences:
        raise DatasetError(f"no sequences found for layout {layout!r} under {root!r} {split!r}")
    return sequences
