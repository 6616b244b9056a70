"""VOT short-term (2013-2019): `ROOT/list.txt`, `ROOT/<seq>/groundtruth.txt`, frames in
`ROOT/<seq>/color/` (VOT2019 and later toolkit layouts) or in `ROOT/<seq>/` itself.

`groundtruth.txt` has one region per frame: 4 numbers `x,y,w,h` (an axis-aligned
box) or 8 numbers `x1,y1,...,x4,y4` (a rotated box's corners); a row of NaN or
zeros marks a frame without a target. Each sequence keeps the regions as
`meta["regions"]` (`[N, 8]` polygons, what the VOT protocol scores against) and
gets `boxes` (`[N, 4]`, what a tracker is initialised with): the line itself for
4 numbers, `axis_aligned_box` of the polygon for 8. Without `list.txt` every sub-folder with a
`groundtruth.txt` is a sequence. `split` is ignored. Segmentation-mask ground
truth (VOT2020 and later) is not read.
"""

from __future__ import annotations

import pathlib

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, list_frames


def axis_aligned_box(region: np.ndarray) -> np.ndarray:
    """The (x, y, w, h) box a tracker starts from, pysot's `get_axis_aligned_bbox`.

    For 8 numbers: the centre is the mean of the corners; the box has the
    corners' bounding box's aspect ratio, scaled by s = sqrt(A1 / A2) so its area
    matches the polygon's (A1 = product of the lengths of the first two sides,
    the area of a rectangle; A2 = the bounding box's area); pysot adds 1 px to the
    width and height and places the box at centre - (size - 1) / 2 (its
    inclusive-pixel convention), and so do we. 4 numbers are returned as given
    (pysot would shift them by half a pixel; the reader keeps 4-number boxes).
    NaN for an empty region.
    """
    r = np.asarray(region, np.float64).reshape(-1)
    if r.size == 4:
        return r.copy()
    if not np.all(np.isfinite(r)):
        return np.full(4, np.nan)
    xs, ys = r[0::2], r[1::2]
    cx, cy = xs.mean(), ys.mean()
    bw, bh = xs.max() - xs.min(), ys.max() - ys.min()
    a1 = np.linalg.norm(r[0:2] - r[2:4]) * np.linalg.norm(r[2:4] - r[4:6])
    a2 = bw * bh
    if a2 <= 0 or a1 <= 0:
        return np.full(4, np.nan)
    s = np.sqrt(a1 / a2)
    w, h = s * bw + 1, s * bh + 1
    return np.asarray([cx - (w - 1) / 2, cy - (h - 1) / 2, w, h], np.float64)


def parse_regions(path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    """`(regions [N, 8], boxes [N, 4])` from a VOT groundtruth.txt (4- or 8-number lines).

    A 4-number line is its own box and the rectangle's corners; an 8-number line
    is the polygon and its `axis_aligned_box`.
    """
    rows, boxes = [], []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        parts = [p for p in text.replace(",", " ").replace("\t", " ").split(" ") if p]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise DatasetError(f"{path}:{lineno}: expected 4 or 8 numbers, got {text!r}") from None
        if len(values) == 4:
            x, y, w, h = values
            boxes.append(values)
            values = [x, y, x + w, y, x + w, y + h, x, y + h]
        elif len(values) == 8:
            boxes.append(axis_aligned_box(values).tolist())
        else:
            raise DatasetError(
                f"{path}:{lineno}: expected 4 numbers x,y,w,h or 8 numbers (a rotated box's"
                f" corners), got {len(values)}: {text!r}"
            )
        rows.append(values)
    return np.asarray(rows, np.float64).reshape(-1, 8), np.asarray(boxes, np.float64).reshape(-1, 4)


def read_sequence(seq_dir: pathlib.Path) -> Sequence:
    """One VOT sequence folder."""
    gt = seq_dir / "groundtruth.txt"
    if not gt.is_file():
        raise DatasetError(f"VOT: no groundtruth.txt in {seq_dir}")
    frames = list_frames(seq_dir / "color") or list_frames(seq_dir)
    if not frames:
        raise DatasetError(f"VOT: no image files in {seq_dir / 'color'} or {seq_dir}")
    regions, boxes = parse_regions(gt)
    if len(regions) != len(frames):
        raise DatasetError(f"{gt}: {len(regions)} regions for {len(frames)} frames")
    with np.errstate(invalid="ignore"):
        empty = ~np.isfinite(regions).all(axis=1) | np.all(regions == 0, axis=1)
    boxes[empty] = np.nan  # [N, 4]
    meta = {"annotation": str(gt), "regions": regions}
    return Sequence(seq_dir.name, frames, boxes, ~empty, "vot", meta)


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """The sequences of `root/list.txt` (or every sequence folder under `root`)."""
    del split, kwargs
    base = pathlib.Path(root).expanduser()
    listing = base / "list.txt"
    if listing.is_file():
        names = [n.strip() for n in listing.read_text().splitlines() if n.strip()]
        missing = [n for n in names if not (base / n).is_dir()]
        if missing:
            raise DatasetError(f"{listing}: sequence folders not found: {missing[:5]}")
        dirs = [base / n for n in names]
    else:
        dirs = sorted(p for p in base.iterdir() if (p / "groundtruth.txt").is_file())
    return [read_sequence(d) for d in dirs]
