"""GOT-10k: `ROOT/<split>/list.txt`, `ROOT/<split>/<seq>/00000001.jpg ...`, groundtruth.txt.

`root` may be the dataset root (then `split` picks train/val/test) or a split
folder itself (it holds list.txt). Frames listed in `absence.label` (1 = absent)
are not visible. Test splits only annotate the first frame: the other boxes are NaN.
`meta_info.ini` (`resolution: (W, H)`) gives the frame size when present; the
`cover.label` / `cut_by_image.label` flags go to `Sequence.meta`.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, pad_boxes, parse_box_file
from dsiam_jax.errors import InputFileError


def split_dir(root: str | pathlib.Path, split: str) -> pathlib.Path:
    """The folder holding `list.txt`: `root` itself or `root/split`."""
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


def read_meta_info(path: pathlib.Path) -> dict[str, str]:
    """`meta_info.ini` as a dict (`key: value` lines after the `[METAINFO]` header)."""
    if not path.is_file():
        return {}
    meta = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def _resolution(meta: dict[str, str]) -> tuple[int, int] | None:
    found = re.findall(r"\d+", meta.get("resolution", ""))
    return (int(found[0]), int(found[1])) if len(found) == 2 else None


def read_sequence(seq_dir: pathlib.Path) -> Sequence:
    """One GOT-10k sequence folder."""
    frames = sorted(str(p) for p in seq_dir.glob("*.jpg"))
    if not frames:
        raise DatasetError(f"GOT-10k: no frames (*.jpg) in {seq_dir}")
    n = len(frames)
    boxes = pad_boxes(parse_box_file(seq_dir / "groundtruth.txt"), n, seq_dir / "groundtruth.txt")
    absent = _read_flags(seq_dir / "absence.label", n)
    visible = np.ones(n, bool) if absent is None else absent == 0
    meta: dict = {}
    for name in ("cover", "cut_by_image"):
        flags = _read_flags(seq_dir / f"{name}.label", n)
        if flags is not None:
            meta[name] = flags
    info = read_meta_info(seq_dir / "meta_info.ini")
    if info:
        meta["info"] = info
    return Sequence(
        seq_dir.name, frames, boxes, visible, "got10k", meta, image_size=_resolution(info)
    )


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """Sequences of a GOT-10k split, in list.txt order."""
    del kwargs
    base = split_dir(root, split)
    names = [t.strip() for t in (base / "list.txt").read_text().splitlines() if t.strip()]
    missing = [n for n in names if not (base / n).is_dir()]
    if missing:
        raise DatasetError(f"{base / 'list.txt'} lists missing folders: {missing[:5]}")
    return [read_sequence(base / n) for n in names]
