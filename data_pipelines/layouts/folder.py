"""A plain folder of videos: one sub-folder per sequence, frames plus a groundtruth file.

    ROOT/<seq>/00001.jpg ...          (or ROOT/<seq>/img/00001.jpg ...)
    ROOT/<seq>/groundtruth.txt        (or groundtruth_rect.txt)

Frames are .jpg/.jpeg/.png/.bmp files in natural order (`2.jpg` before `10.jpg`). The
groundtruth has one `x,y,w,h` line per frame (commas, tabs or spaces), or only the
first frame's line (the rest is then unannotated). An optional `absence.label` (one
0/1 per frame, 1 = target absent) marks invisible frames. `ROOT` may itself be a
single sequence folder. `split` is ignored.
"""

from __future__ import annotations

import pathlib

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, list_frames, pad_boxes, parse_box_file

GROUNDTRUTH_NAMES = ("groundtruth.txt", "groundtruth_rect.txt")


def _groundtruth(seq_dir: pathlib.Path) -> pathlib.Path | None:
    for name in GROUNDTRUTH_NAMES:
        if (seq_dir / name).is_file():
            return seq_dir / name
    return None


def read_sequence(seq_dir: pathlib.Path) -> Sequence:
    """One sequence folder (frames directly in it or in `img/`)."""
    gt = _groundtruth(seq_dir)
    if gt is None:
        raise DatasetError(f"folder layout: no {' or '.join(GROUNDTRUTH_NAMES)} in {seq_dir}")
    frames = list_frames(seq_dir) or list_frames(seq_dir / "img")
    if not frames:
        raise DatasetError(f"folder layout: no image files in {seq_dir} or {seq_dir / 'img'}")
    boxes = pad_boxes(parse_box_file(gt), len(frames), gt)
    visible = np.ones(len(frames), bool)
    absence = seq_dir / "absence.label"
    if absence.is_file():
        flags = [t for t in absence.read_text().split() if t]
        if len(flags) != len(frames) or any(t not in ("0", "1") for t in flags):
            raise DatasetError(f"{absence}: expected {len(frames)} lines of 0 or 1")
        visible = np.asarray(flags) == "0"
    return Sequence(seq_dir.name, frames, boxes, visible, "folder")


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """Every sequence folder under `root` (or `root` itself when it is one)."""
    del split, kwargs
    base = pathlib.Path(root).expanduser()
    if _groundtruth(base) is not None:
        return [read_sequence(base)]
    dirs = sorted(p for p in base.iterdir() if p.is_dir() and _groundtruth(p) is not None)
    return [read_sequence(d) for d in dirs]
