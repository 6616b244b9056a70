"""OTB: `ROOT/<Seq>/img/0001.jpg ...` with `groundtruth_rect.txt` (commas, tabs or spaces).

Sequences with several targets have `groundtruth_rect.1.txt`, `groundtruth_rect.2.txt`
(Jogging, Skating2): each becomes its own sequence, `Jogging.1`, `Jogging.2`. Empty
annotation files (Human4) are ignored. Five sequences annotate only part of their
frames (David 300-770, Diving 1-215, Football1 1-74, Freeman3 1-460, Freeman4
1-283, as in the OTB toolkit's configuration); any other count mismatch is an error.

Splits: `''` / `all` (every sequence found), `otb2013` (OTB-50 of CVPR 2013),
`otb2015` / `tb100`, `tb50`: only the listed sequences that are present.
"""

from __future__ import annotations

import pathlib

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence, list_frames, parse_box_file


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# 1-based inclusive frame ranges of the sequences whose annotation covers part of the video.
FRAME_RANGES: dict[str, tuple[int, int]] = {
    "david": (300, 770),
    "diving": (1, 215),
    "football1": (1, 74),
    "freeman3": (1, 460),
    "freeman4": (1, 283),
}

OTB2013 = _names(
    "Basketball Bolt Boy Car4 CarDark CarScale Coke Couple Crossing David David2 David3 "
    "Deer Dog1 Doll Dudek FaceOcc1 FaceOcc2 Fish FleetFace Football Football1 Freeman1 "
    "Freeman3 Freeman4 Girl Ironman Jogging Jumping Lemming Liquor Matrix Mhyang "
    "MotorRolling MountainBike Shaking Singer1 Singer2 Skating1 Skiing Soccer Subway Suv "
    "Sylvester Tiger1 Tiger2 Trellis Walking Walking2 Woman"
)
TB50 = _names(
    "Basketball Biker Bird1 BlurBody BlurCar2 BlurFace BlurOwl Bolt Box Car1 Car4 CarDark "
    "CarScale ClifBar Couple Crowds David Deer Diving DragonBaby Dudek Football Freeman4 "
    "Girl Human3 Human4 Human6 Human9 Ironman Jump Jumping Liquor Matrix MotorRolling "
    "Panda RedTeam Shaking Singer2 Skating1 Skating2 Skiing Soccer Surfer Sylvester "
    "Tiger2 Trellis Walking Walking2 Woman"
)
TB100 = TB50 + _names(
    "Bird2 BlurCar1 BlurCar3 BlurCar4 Board Bolt2 Boy Car2 Car24 Coke Coupon Crossing "
    "Dancer Dancer2 David2 David3 Dog Dog1 Doll FaceOcc1 FaceOcc2 Fish FleetFace "
    "Football1 Freeman1 Freeman3 Girl2 Gym Human2 Human5 Human7 Human8 Jogging KiteSurf "
    "Lemming Man Mhyang MountainBike Rubik Singer1 Skater Skater2 Subway Suv Tiger1 Toy "
    "Trans Twinnings Vase"
)
SPLITS = {"otb2013": OTB2013, "otb2015": TB100, "tb100": TB100, "tb50": TB50}


def _annotation_files(seq_dir: pathlib.Path) -> list[pathlib.Path]:
    files = sorted(seq_dir.glob("groundtruth_rect*.txt"))
    return [f for f in files if f.stat().st_size > 0 and f.read_text().strip()]


def read_sequence(seq_dir: pathlib.Path, anno: pathlib.Path, name: str) -> Sequence:
    """One target of an OTB sequence folder."""
    frames = list_frames(seq_dir / "img")
    if not frames:
        raise DatasetError(f"OTB: no frames in {seq_dir / 'img'}")
    boxes = parse_box_file(anno)
    span = FRAME_RANGES.get(seq_dir.name.lower())
    if span is not None and len(frames) != len(boxes):
        frames = frames[span[0] - 1 : span[1]]
    if len(frames) != len(boxes):
        raise DatasetError(f"{anno}: {len(boxes)} boxes for {len(frames)} frames")
    visible = np.ones(len(boxes), bool)
    return Sequence(name, frames, boxes, visible, "otb", {"annotation": str(anno)})


def read(root: str, split: str = "", **kwargs) -> list[Sequence]:
    """OTB sequences under `root`, optionally restricted to a benchmark list (`split`)."""
    del kwargs
    key = split.lower()
    if key not in ("", "all") and key not in SPLITS:
        raise DatasetError(f"OTB: unknown split {split!r}: expected all or one of {sorted(SPLITS)}")
    wanted = None if key in ("", "all") else set(SPLITS[key])
    out = []
    for seq_dir in sorted(p for p in pathlib.Path(root).expanduser().iterdir() if p.is_dir()):
        if wanted is not None and seq_dir.name not in wanted:
            continue
        annos = _annotation_files(seq_dir)
        if not annos or not (seq_dir / "img").is_dir():
            continue
        for k, anno in enumerate(annos, start=1):
            name = seq_dir.name if len(annos) == 1 else f"{seq_dir.name}.{k}"
            out.append(read_sequence(seq_dir, anno, name))
    return out
