"""Tiny dataset folders in each official layout, written by the data tests (no tests here).

Frames are small solid-grey JPEGs with the target drawn as a white rectangle, so a
crop can be checked against the box by thresholding.
"""

from __future__ import annotations

import pathlib

import ml_collections
import numpy as np
from PIL import Image

from configs import default

GREY = 90


def frame_with_box(size: tuple[int, int], box, value: int = 255) -> np.ndarray:
    """RGB uint8 `[H, W, 3]` grey frame with the pixels inside `box` (x, y, w, h) set to white."""
    w, h = size
    img = np.full((h, w, 3), GREY, np.uint8)
    if box is not None and np.all(np.isfinite(box)):
        x, y, bw, bh = box
        img[int(round(y)) : int(round(y + bh)), int(round(x)) : int(round(x + bw))] = value
    return img


def write_frames(folder: pathlib.Path, names: list[str], size, boxes) -> list[pathlib.Path]:
    """Writes one frame per name (PNG or JPEG by suffix; JPEG at quality 95)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, box in zip(names, boxes):
        path = folder / name
        Image.fromarray(frame_with_box(size, box)).save(path, quality=95)
        paths.append(path)
    return paths


def box_lines(boxes, sep: str = ",") -> str:
    return "".join(sep.join(f"{v:g}" for v in b) + "\n" for b in boxes)


def write_got10k(
    root: pathlib.Path,
    split: str = "train",
    sequences: dict[str, np.ndarray] | None = None,
    size: tuple[int, int] = (64, 48),
    absent: dict[str, list[int]] | None = None,
) -> dict[str, np.ndarray]:
    """A GOT-10k split under `root/split`; returns name -> boxes `[N, 4]`."""
    if sequences is None:
        sequences = {
            "GOT-10k_Train_000001": np.array(
                [[10, 8, 20, 16], [12, 9, 20, 15], [14, 10, 21, 15], [16, 11, 22, 16]], float
            ),
            "GOT-10k_Train_000002": np.array(
                [[30, 20, 12, 14], [28, 20, 12, 14], [26, 19, 13, 15]], float
            ),
        }
    absent = absent or {}
    base = root / split
    for name, boxes in sequences.items():
        seq = base / name
        n = len(boxes)
        write_frames(seq, [f"{i + 1:08d}.jpg" for i in range(n)], size, boxes)
        (seq / "groundtruth.txt").write_text(box_lines(boxes))
        flags = ["1" if i in absent.get(name, []) else "0" for i in range(n)]
        (seq / "absence.label").write_text("\n".join(flags) + "\n")
        (seq / "cover.label").write_text("\n".join("0" if f == "1" else "8" for f in flags) + "\n")
        (seq / "cut_by_image.label").write_text("0\n" * n)
        (seq / "meta_info.ini").write_text(
            f"[METAINFO]\nurl: fixture\nobject_class: box\nresolution: ({size[0]}, {size[1]})\n"
        )
    (base / "list.txt").write_text("".join(n + "\n" for n in sequences))
    return sequences


def small_config(**overrides) -> ml_collections.ConfigDict:
    """`config.data` with tiny crops and synthetic data; dotted keys override fields."""
    d = default.data_config()
    d.template_size, d.search_size = 31, 63
    d.augment.template_shift, d.augment.search_shift = 1, 16  # the defaults scaled to the crops
    d.synthetic.num_sequences, d.synthetic.sequence_length = 4, 8
    d.synthetic.frame_size = (96, 72)
    d.num_parallel_calls = 2
    for key, value in overrides.items():
        node = d
        *path, last = key.split(".")
        for p in path:
            node = node[p]
        node[last] = value
    return d
