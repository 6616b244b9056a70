"""Synthetic: in-memory sequences rendered on demand (`data_pipelines.synthetic`).

`root` is ignored; `split` is train, val or test (different scenes for the same seed).
"""

from __future__ import annotations

from data_pipelines.sequences import Sequence


def read(
    root: str = "",
    split: str = "train",
    *,
    num_sequences: int = 64,
    sequence_length: int = 40,
    frame_size: tuple[int, int] = (320, 240),
    seed: int = 0,
    **kwargs,
) -> list[Sequence]:
    """`num_sequences` synthetic sequences of `split` (frames `[H, W, 3]`, W, H = frame_size)."""
    del root, kwargs
    from data_pipelines.synthetic import make_sequences

    return make_sequences(
        split or "train",
        num_sequences=num_sequences,
        sequence_length=sequence_length,
        frame_size=frame_size,
        seed=seed,
    )
