"""Synthetic tracking data from the photographs bundled in scikit-image / scikit-learn.

    seqs = make_sequences("train", num_sequences=64, sequence_length=40, seed=0)
    frame = seqs[0].load_frame(3)                  # RGB uint8 [240, 320, 3], rendered
    write_got10k("/tmp/synth", seed=0)             # the same data as a GOT-10k folder

Sequence `i` of split `s` is drawn from `np.random.default_rng([seed, code(s), i])`,
so the data is a pure function of (seed, split, index, frame size, length): the
train, val and test splits never share a scene, and a sequence does not change
when more sequences are asked for. NumPy/PIL only (no TensorFlow).
"""

from __future__ import annotations

import functools

import numpy as np

from data_pipelines.sequences import DatasetError, Sequence
from data_pipelines.synthetic import scene as scene_lib

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
# Sequences per split for `data.synthetic.num_sequences` = n: train n, val n // 8,
# test n // 4 (at least 1 each).
SPLIT_DIVISORS = {"train": 1, "val": 8, "test": 4}
GOT10K_FOLDER = "synthetic_got10k"  # what mode=write_synthetic writes under its workdir


def split_count(split: str, num_sequences: int) -> int:
    """How many sequences `split` holds for `data.synthetic.num_sequences`."""
    return max(1, int(num_sequences) // SPLIT_DIVISORS[split])


def num_sequences_for(split: str, count: int, num_sequences: int) -> int:
    """`data.synthetic.num_sequences` raised (never lowered) so that `split` holds at
    least `count` sequences; the first ones are the same whatever the count."""
    return max(int(num_sequences), SPLIT_DIVISORS[split] * int(count))


def make_scene(
    split: str, index: int, *, sequence_length: int, frame_size: tuple[int, int], seed: int
) -> scene_lib.Scene:
    """The scene of sequence `index` of `split` (deterministic)."""
    if split not in SPLIT_CODES:
        raise DatasetError(f"synthetic: unknown split {split!r}: expected {sorted(SPLIT_CODES)}")
    key = (int(seed), SPLIT_CODES[split], int(index))
    rng = np.random.default_rng(key)
    return scene_lib.make_scene(rng, key, tuple(frame_size), int(sequence_length))


def make_sequences(
    split: str = "train",
    *,
    num_sequences: int = 64,
    sequence_length: int = 40,
    frame_size: tuple[int, int] = (320, 240),
    seed: int = 0,
) -> list[Sequence]:
    """In-memory sequences whose frames are rendered on demand (`Sequence.loader`)."""
    if num_sequences < 1 or sequence_length < 1:
        raise DatasetError(
            f"synthetic: need num_sequences >= 1 and sequence_length >= 1, "
            f"got {num_sequences} and {sequence_length}"
        )
    w, h = (int(v) for v in frame_size)
    if w < 32 or h < 32:
        raise DatasetError(f"synthetic: frame_size {frame_size} is too small (min 32 x 32)")
    out = []
    for i in range(num_sequences):
        scene = make_scene(split, i, sequence_length=sequence_length, frame_size=(w, h), seed=seed)
        gt = scene_lib.annotate(scene)
        meta = {
            "cover": gt["cover"],
            "cut_by_image": gt["cut_by_image"],
            "background": scene.background,
            "target_source": scene.target_source,
            "target_shape": scene.target_shape,
            "scene": scene,
        }
        out.append(
            Sequence(
                name=f"synthetic_{split}_{i:05d}",
                frames=[],
                boxes=gt["boxes"],
                visible=gt["visible"],
                dataset="synthetic",
                meta=meta,
                loader=functools.partial(scene_lib.render, scene),
                image_size=(w, h),
            )
        )
    return out


# Imported last: the writer builds on make_sequences above.
from data_pipelines.synthetic.got10k_writer import write_got10k  # noqa: E402

__all__ = ["SPLIT_CODES", "make_scene", "make_sequences", "write_got10k"]
