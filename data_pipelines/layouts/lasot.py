"""LaSOT: `ROOT/<class>/<class>-<n>/img/00000001.jpg ...` with per-sequence annotations.

Each sequence folder holds `groundtruth.txt` (x,y,w,h per line, commas),
`full_occlusion.txt` and `out_of_view.txt` (one line of comma-separated 0/1 flags),
`nlp.txt`. A frame is visible unless fully occluded or out of view.

Splits: `train` / `test` follow the official protocol-II split (the 280 test
sequences below, 4 per class, as listed by the LaSOT toolkit and the got10k
toolkit's `lasot.json`); `''` or `all` reads every sequence found. A split whose
sequences are only partly present reads those present (LaSOT is often downloaded
class by class).
"""

from __future__ import annotations

import pathlib

import numpy as np
from absl import logging

from data_pipelines.sequences import DatasetError, Sequence, list_frames, pad_boxes, parse_box_file

# Official test split: class -> sequence numbers (the other 16 of each class are train).
TEST_SEQUENCES: dict[str, tuple[int, ...]] = {
    "airplane": (1, 9, 13, 15),
    "basketball": (1, 6, 7, 11),
    "bear": (2, 4, 6, 17),
    "bicycle": (2, 7, 9, 18),
    "bird": (2, 3, 15, 17),
    "boat": (3, 4, 12, 17),
    "book": (3, 10, 11, 19),
    "bottle": (1, 12, 14, 18),
    "bus": (2, 5, 17, 19),
    "car": (2, 6, 9, 17),
    "cat": (1, 3, 18, 20),
    "cattle": (2, 7, 12, 13),
    "chameleon": (3, 6, 11, 20),
    "coin": (3, 6, 7, 18),
    "crab": (3, 6, 12, 18),
    "crocodile": (3, 4, 10, 14),
    "cup": (1, 4, 7, 17),
    "deer": (4, 8, 10, 14),
    "dog": (1, 7, 15, 19),
    "drone": (2, 7, 13, 15),
    "electricfan": (1, 10, 18, 20),
    "elephant": (1, 12, 16, 18),
    "flag": (2, 3, 5, 9),
    "fox": (2, 3, 5, 20),
    "frog": (3, 4, 9, 20),
    "gametarget": (1, 2, 7, 13),
    "gecko": (1, 5, 16, 19),
    "giraffe": (2, 10, 13, 15),
    "goldfish": (3, 7, 8, 10),
    "gorilla": (4, 6, 9, 13),
    "guitar": (3, 8, 10, 16),
    "hand": (2, 3, 9, 16),
    "hat": (1, 2, 5, 18),
    "helmet": (5, 11, 13, 19),
    "hippo": (1, 7, 9, 20),
    "horse": (1, 4, 12, 15),
    "kangaroo": (2, 5, 11, 14),
    "kite": (4, 6, 10, 15),
    "leopard": (1, 7, 16, 20),
    "licenseplate": (6, 12, 13, 15),
    "lion": (1, 5, 12, 20),
    "lizard": (1, 3, 6, 13),
    "microphone": (2, 6, 14, 16),
    "monkey": (3, 4, 9, 17),
    "motorcycle": (1, 3, 9, 18),
    "mouse": (1, 8, 9, 17),
    "person": (1, 5, 10, 12),
    "pig": (2, 10, 13, 18),
    "pool": (3, 7, 12, 15),
    "rabbit": (10, 13, 17, 19),
    "racing": (10, 15, 16, 20),
    "robot": (1, 5, 8, 19),
    "rubicCube": (1, 6, 14, 19),
    "sepia": (6, 8, 13, 16),
    "shark": (2, 3, 5, 6),
    "sheep": (3, 5, 7, 9),
    "skateboard": (3, 8, 16, 19),
    "spider": (14, 16, 18, 20),
    "squirrel": (8, 11, 13, 19),
    "surfboard": (4, 5, 8, 12),
    "swing": (10, 14, 17, 20),
    "tank": (6, 9, 14, 16),
    "tiger": (4, 6, 12, 18),
    "train": (1, 7, 11, 20),
    "truck": (3, 6, 7, 16),
    "turtle": (5, 8, 9, 16),
    "umbrella": (2, 9, 17, 19),
    "volleyball": (1, 13, 18, 19),
    "yoyo": (7, 15, 17, 19),
    "zebra": (10, 14, 16, 17),
}


def _read_flag_line(path: pathlib.Path, n: int) -> np.ndarray:
    if not path.is_file():
        return np.zeros(n, bool)
    parts = [t for t in path.read_text().replace(",", " ").split() if t]
    try:
        flags = np.asarray([int(float(t)) for t in parts]) != 0
    except ValueError as e:
        raise DatasetError(f"{path}: expected comma-separated 0/1 flags ({e})") from e
    if len(flags) != n:
        raise DatasetError(f"{path}: {len(flags)} flags for {n} frames")
    return flags


def read_sequence(seq_dir: pathlib.Path) -> Sequence:
    """One LaSOT sequence folder (`<class>-<n>`)."""
    frames = list_frames(seq_dir / "img", (".jpg",))
    if not frames:
        raise DatasetError(f"LaSOT: no frames (img/*.jpg) in {seq_dir}")
    n = len(frames)
    gt = seq_dir / "groundtruth.txt"
    boxes = pad_boxes(parse_box_file(gt), n, gt)
    occluded = _read_flag_line(seq_dir / "full_occlusion.txt", n)
    out_of_view = _read_flag_line(seq_dir / "out_of_view.txt", n)
    meta = {"class": seq_dir.parent.name, "full_occlusion": occluded, "out_of_view": out_of_view}
    nlp = seq_dir / "nlp.txt"
    if nlp.is_file():
        meta["nlp"] = nlp.read_text(errors="replace").strip()
    return Sequence(seq_dir.name, frames, boxes, ~(occluded | out_of_view), "lasot", meta)


def _in_split(name: str, split: str) -> bool:
    cls, _, num = name.rpartition("-")
    is_test = num.isdigit() and int(num) in TEST_SEQUENCES.get(cls, ())
    return is_test if split == "test" else not is_test


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """Sequences under `root` (class folders), filtered by `split` (train/test/all)."""
    del kwargs
    if split not in ("", "all", "train", "test"):
        raise DatasetError(f"LaSOT: unknown split {split!r}: expected train, test or all")
    root_path = pathlib.Path(root).expanduser()
    seq_dirs = sorted(p.parent for p in root_path.glob("*/*/groundtruth.txt"))
    if split in ("train", "test"):
        seq_dirs = [d for d in seq_dirs if _in_split(d.name, split)]
        expected = 280 if split == "test" else 1120
        if 0 < len(seq_dirs) < expected:
            logging.info("LaSOT %s: %d of %d sequences present", split, len(seq_dirs), expected)
    return [read_sequence(d) for d in seq_dirs]
