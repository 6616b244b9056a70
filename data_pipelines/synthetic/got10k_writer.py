"""Writes the synthetic data as a GOT-10k folder any tracking toolkit can read (no TensorFlow).

    ROOT/ATTRIBUTION.txt                        credits of the photographs
    ROOT/<split>/list.txt                       one sequence name per line
    ROOT/<split>/GOT-10k_<Split>_000001/
        00000001.jpg ...                        frames (JPEG)
        groundtruth.txt                         x,y,w,h per frame (4 decimals)
        absence.label                           1 = target absent (< 5% visible)
        cover.label                             visible eighths, 0..8
        cut_by_image.label                      1 = box clipped by the frame border
        meta_info.ini                           [METAINFO] key: value lines

Unlike the official GOT-10k test split, the synthetic test split keeps every
frame's box (`full_test_annotation=True`) so it can be evaluated locally.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import shutil
from collections.abc import Mapping

import numpy as np
from PIL import Image

from data_pipelines import synthetic
from data_pipelines.sequences import Sequence
from data_pipelines.synthetic import photos
from dsiam_jax.errors import InputFileError

DEFAULT_COUNTS = {"train": 64, "val": 8, "test": 16}


def _meta_info(seq: Sequence, seed: int, split: str, index: int) -> str:
    w, h = seq.image_size or (0, 0)
    lines = [
        "[METAINFO]",
        f"url: synthetic://seed={seed}/{split}/{index}",
        "begin time: 0",
        f"end time: {len(seq) / 10:.1f}",
        "anno fps: 10Hz",
        f"object_class: synthetic {seq.meta['target_shape']}",
        "motion_class: synthetic",
        "major_class: synthetic",
        "root_class: object",
        "motion_adverb: smoothly",
        f"resolution: ({w}, {h})",
        f"background: {seq.meta['background']}",
        f"target_source: {seq.meta['target_source']}",
    ]
    return "\n".join(lines) + "\n"


def _write_sequence(
    seq: Sequence, folder: pathlib.Path, meta_info: str, quality: int, annotate_all: bool
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(len(seq)):
        Image.fromarray(seq.load_frame(i)).save(folder / f"{i + 1:08d}.jpg", quality=quality)
    boxes = seq.boxes if annotate_all else seq.boxes[:1]
    (folder / "groundtruth.txt").write_text(
        "".join(",".join(f"{v:.4f}" for v in box) + "\n" for box in boxes)
    )
    flags = {
        "absence": (~seq.visible).astype(int),
        "cover": seq.meta["cover"],
        "cut_by_image": np.asarray(seq.meta["cut_by_image"]).astype(int),
    }
    for name, values in flags.items():
        (folder / f"{name}.label").write_text("".join(f"{int(v)}\n" for v in values))
    (folder / "meta_info.ini").write_text(meta_info)


def write_got10k(
    root: str | os.PathLike,
    seed: int = 0,
    splits: tuple[str, ...] = ("train", "val", "test"),
    num_sequences: int | Mapping[str, int] | None = None,
    sequence_length: int = 40,
    frame_size: tuple[int, int] = (320, 240),
    jpeg_quality: int = 90,
    full_test_annotation: bool = True,
    overwrite: bool = False,
    num_threads: int | None = None,
) -> dict[str, list[str]]:
    """Renders the synthetic splits into `root` in the GOT-10k layout.

    `num_sequences`: one count for every split, or a split -> count mapping
    (default `DEFAULT_COUNTS`: train 64, val 8, test 16). The frames are exactly
    `make_sequences(split, ..., seed=seed)`'s (up to JPEG compression). An existing
    split folder is an error unless `overwrite`. Returns split -> sequence names.
    """
    root = pathlib.Path(root).expanduser()
    counts = dict(DEFAULT_COUNTS)
    if isinstance(num_sequences, Mapping):
        counts.update(num_sequences)
    elif num_sequences is not None:
        counts = dict.fromkeys(splits, int(num_sequences))
    written: dict[str, list[str]] = {}
    jobs = []
    for split in splits:
        split_dir = root / split
        if (split_dir / "list.txt").exists():
            if not overwrite:
                raise InputFileError(f"{split_dir} already holds a dataset (set overwrite=True)")
            shutil.rmtree(split_dir)
        seqs = synthetic.make_sequences(
            split,
            num_sequences=counts[split],
            sequence_length=sequence_length,
            frame_size=frame_size,
            seed=seed,
        )
        names = [f"GOT-10k_{split.capitalize()}_{i + 1:06d}" for i in range(len(seqs))]
        annotate_all = split != "test" or full_test_annotation
        for i, (seq, name) in enumerate(zip(seqs, names)):
            meta = _meta_info(seq, seed, split, i)
            jobs.append((seq, split_dir / name, meta, jpeg_quality, annotate_all))
        written[split] = names
    threads = num_threads or min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda job: _write_sequence(*job), jobs))
    root.mkdir(parents=True, exist_ok=True)
    (root / "ATTRIBUTION.txt").write_text(photos.attribution())
    for split, names in written.items():
        (root / split / "list.txt").write_text("".join(n + "\n" for n in names))
    return written
