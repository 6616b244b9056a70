"""ImageNet VID (ILSVRC2015): `ROOT/Data/VID/<split>/...` frames, per-frame XML annotations.

`ROOT/Annotations/VID/<split>/<video>/000000.xml` (train videos sit one level deeper,
in `ILSVRC2015_VID_train_000k/`) annotate frame `ROOT/Data/VID/<split>/<video>/000000.JPEG`:
`<size>` and one `<object>` per target with `<trackid>`, `<name>` (WordNet id) and
`<bndbox>` xmin/ymin/xmax/ymax (inclusive pixel indices). Each (video, trackid) is one
sequence named `<video>.<trackid>` spanning every frame of the video; the box is
`(xmin, ymin, xmax - xmin + 1, ymax - ymin + 1)` where the track is present and NaN
(not visible) elsewhere. Tracks present in fewer than 2 frames are dropped (as the
got10k toolkit does).

Splits: `train`, `val` (`test` has no annotations). Parsing ~1M XML files is slow:
prepare the TFDS records once (`data_pipelines.tfds_builders`) for repeated runs.
"""

from __future__ import annotations

import os
import pathlib
import xml.etree.ElementTree as ET

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence


def _int(node: ET.Element, tag: str, xml_path: pathlib.Path) -> int:
    child = node.find(tag)
    try:
        return int(float(child.text))  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        raise DatasetError(f"{xml_path}: missing or bad <{tag}>") from None


def parse_frame(xml_path: pathlib.Path) -> tuple[tuple[int, int], dict[str, tuple]]:
    """One annotation file -> ((width, height), {trackid: (xmin, ymin, xmax, ymax, name)})."""
    try:
        tree = ET.parse(xml_path)
    except ET.ParseError as e:
        raise DatasetError(f"{xml_path}: malformed XML ({e})") from None
    ann = tree.getroot()
    size = ann.find("size")
    if size is None:
        raise DatasetError(f"{xml_path}: missing <size>")
    wh = (_int(size, "width", xml_path), _int(size, "height", xml_path))
    tracks = {}
    for obj in ann.findall("object"):
        tid = (obj.findtext("trackid") or "").strip()
        box = obj.find("bndbox")
        if not tid or box is None:
            raise DatasetError(f"{xml_path}: <object> without <trackid> or <bndbox>")
        coords = tuple(_int(box, t, xml_path) for t in ("xmin", "ymin", "xmax", "ymax"))
        tracks[tid] = (*coords, (obj.findtext("name") or "").strip())
    return wh, tracks


def read_video(anno_dir: pathlib.Path, data_dir: pathlib.Path, name: str) -> list[Sequence]:
    """The track sequences of one video."""
    xmls = sorted(anno_dir.glob("*.xml"))
    frames = [str(data_dir / f"{x.stem}.JPEG") for x in xmls]
    n = len(xmls)
    per_track: dict[str, np.ndarray] = {}
    classes: dict[str, str] = {}
    image_size = None
    for i, xml_path in enumerate(xmls):
        wh, tracks = parse_frame(xml_path)
        image_size = image_size or wh
        for tid, (x0, y0, x1, y1, cls) in tracks.items():
            boxes = per_track.setdefault(tid, np.full((n, 4), np.nan))
            boxes[i] = (x0, y0, x1 - x0 + 1, y1 - y0 + 1)
            classes.setdefault(tid, cls)
    out = []
    for tid in sorted(per_track, key=lambda t: (len(t), t)):
        boxes = per_track[tid]
        visible = np.isfinite(boxes).all(axis=1)
        if visible.sum() < 2:
            continue
        meta = {"class": classes[tid], "trackid": tid}
        seq = Sequence(f"{name}.{tid}", frames, boxes, visible, "imagenet_vid", meta)
        seq.image_size = image_size
        out.append(seq)
    return out


def read(root: str, split: str = "train", **kwargs) -> list[Sequence]:
    """Track sequences of every annotated video of `split` (train/val)."""
    del kwargs
    split = split or "train"
    if split not in ("train", "val"):
        raise DatasetError(f"ImageNet VID: split {split!r} has no annotations: use train or val")
    root_path = pathlib.Path(root).expanduser()
    anno_root = root_path / "Annotations" / "VID" / split
    if not anno_root.is_dir():
        raise DatasetError(f"ImageNet VID: no annotation folder {anno_root}")
    out = []
    for dirpath, _, files in sorted(os.walk(anno_root)):
        if not any(f.endswith(".xml") for f in files):
            continue
        rel = pathlib.Path(dirpath).relative_to(anno_root)
        data_dir = root_path / "Data" / "VID" / split / rel
        out.extend(read_video(pathlib.Path(dirpath), data_dir, rel.name))
    return out
