"""TrackingNet: `ROOT/TRAIN_<k>/{frames/<seq>/<i>.jpg, anno/<seq>.txt}` and `ROOT/TEST/...`.

Frames are numbered from 0 (`0.jpg, 1.jpg, ...`, sorted numerically); `anno/<seq>.txt`
holds x,y,w,h per frame (the test split only the first frame). TrackingNet has no
visibility flags: every annotated frame counts as visible (empty boxes are filtered
by the pair sampler).

Splits: `train` (every `TRAIN_<k>` chunk present), `TRAIN_<k>` or `train_<k>` (one
chunk), `test` (`TEST`). `root` may also be one chunk folder itself.
"""

from __future__ import annotations

import pathlib

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, list_frames, pad_boxes, parse_box_file


def chunk_dirs(root: pathlib.Path, split: str) -> list[pathlib.Path]:
    """The chunk folders (each with `frames/` and `anno/`) that make up `split`."""
    if (root / "anno").is_dir() and (root / "frames").is_dir():
        return [root]
    key = split.upper()
    if key == "TRAIN":
        chunks = [p for p in root.glob("TRAIN_*") if p.is_dir() and p.name[6:].isdigit()]
        return sorted(chunks, key=lambda p: int(p.name[6:]))
    if key in ("TEST",) or key.startswith("TRAIN_"):
        return [root / key] if (root / key).is_dir() else []
    raise DatasetError(f"TrackingNet: unknown split {split!r}: expected train, TRAIN_<k> or test")


def read_sequence(chunk: pathlib.Path, anno: pathlib.Path) -> Sequence:
    """One sequence of a chunk, from its annotation file."""
    frames = list_frames(chunk / "frames" / anno.stem, (".jpg",))
    if not frames:
        raise DatasetError(f"TrackingNet: no frames in {chunk / 'frames' / anno.stem}")
    boxes = pad_boxes(parse_box_file(anno), len(frames), anno)
    visible = np.ones(len(frames), bool)
    return Sequence(anno.stem, frames, boxes, visible, "trackingnet", {"chunk": chunk.name})


def read(root: str, split: str = "train", **kwargs) -> list[Sequence]:
    """Sequences of the chunks of `split`, chunk by chunk, in name order."""
    del kwargs
    out = []
    for chunk in chunk_dirs(pathlib.Path(root).expanduser(), split or "train"):
        for anno in sorted((chunk / "anno").glob("*.txt")):
            out.append(read_sequence(chunk, anno))
    return out
