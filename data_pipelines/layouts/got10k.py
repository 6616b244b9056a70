"""GOT-10k: `ROOT/<split>/list.txt`, `ROOT/<split>/<seq>/00000001.jpg ...`, groundtruth.txt.

`root` may be the dataset root (then `split` picks train/val/test) or a split
folder itself (it holds list.txt). Frames listed in `absence.label` (1 = absent)
are not visible. Test splits only annotate the first frame: the other boxes are NaN.
"""

from __future__ import annotations

import pathlib

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, parse_box_file
from dsiam_jax.errors import InputFileError


def split_dir(root: str | pathlib.Path, split: str) -> pathlib.Path:
    root = pathlib.Path(root).expanduser()
    if (root / "list.txt").is_file():
        return root
    if split and (root / split / "list.txt").is_file():
        return root / split
    raise InputFileError(f"GOT-10k: no list.txt in {root} or {root / (split or '<split>')}")


def _read_flags(path: pathlib.Path, n: int) -> np.ndarray | None:
    if not path.is_file():
        return None
    lines = [t.strip() for t in path.read_text().splitlines() if t.strip()]
    if len(lines) != n:
        raise DatasetError(f"{path}: {len(lines)} lines for {n} frames")
    try:
        return np.asarray([int(float(t)) for t in lines])
    except ValueError as e:
        raise DatasetError(f"{path}: expected one integer per line ({e})") from e


def read_sequence(seq_dir: pathlib.Path) -> Sequence:
    frames = sorted(str(p) for p in seq_dir.glob("*.jpg"))
    if not frames:
        raise DatasetError(f"GOT-10k: no frames (*.jpg) in {seq_dir}")
    boxes = parse_box_file(seq_dir / "groundtruth.txt")
    n = len(frames)
    if len(boxes) == 1 and n > 1:  # test split: first frame only
        boxes = np.concatenate([boxes, np.full((n - 1, 4), np.nan)])
    if len(boxes) != n:
        raise DatasetError(f"{seq_dir / 'groundtruth.txt'}: {len(boxes)} boxes for {n} frames")
    absent = _read_flags(seq_dir / "absence.label", n)
    visible = np.ones(n, bool) if absent is None else absent == 0
    cover = _read_flags(seq_dir / "cover.label", n)
    meta = {"cover": cover} if cover is not None else {}
    return Sequence(seq_dir.name, frames, boxes, visible, "got10k", meta)


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """Sequences of a GOT-10k split, in list.txt order."""
    del kwargs
    base = split_dir(root, split)
    names = [t.strip() for t in (base / "list.txt").read_text().splitlines() if t.strip()]
    missing = [n for n in names if not (base / n).is_dir()]
    if missing:
        raise DatasetError(f"{base / 'list.txt'} lists missing folders: {missing[:5]}")
    return [read_sequence(base / n) for n in names]
