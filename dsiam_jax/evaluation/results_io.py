"""Result files in the layout the OTB / LaSOT / GOT-10k toolkits read.

    WORKDIR/results/<tracker>/<sequence>.txt        one "x,y,w,h" per frame (frame 1 = init box)
    WORKDIR/results/<tracker>/<sequence>_time.txt   seconds per frame
    WORKDIR/results/<tracker>/<sequence>_score.txt  confidence per frame

(names made path components by `dsiam_jax.workdir.safe_name`: 'a/b' -> 'a_b').

Boxes are written with 3 decimals (as the got10k toolkit writes them); metrics
are computed from the files as written, so any toolkit reading them agrees.
"""

from __future__ import annotations

import pathlib

import numpy as np

from dsiam_jax.errors import InputFileError
from dsiam_jax.workdir import safe_name


def tracker_dir(workdir: str | pathlib.Path, tracker: str) -> pathlib.Path:
    """`WORKDIR/results/<tracker>` (the name made a path component by `safe_name`)."""
    return pathlib.Path(workdir) / "results" / safe_name(tracker)


def write_sequence(
    directory: str | pathlib.Path,
    sequence: str,
    boxes: np.ndarray,
    times: np.ndarray | None = None,
    scores: np.ndarray | None = None,
) -> pathlib.Path:
    """Writes `<sequence>.txt` (+ `_time.txt`, `_score.txt`); returns the box file."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = safe_name(sequence)
    path = directory / f"{name}.txt"
    np.savetxt(path, np.asarray(boxes, np.float64).reshape(-1, 4), fmt="%.3f", delimiter=",")
    if times is not None:
        np.savetxt(directory / f"{name}_time.txt", np.asarray(times, np.float64), fmt="%.8f")
    if scores is not None:
        np.savetxt(directory / f"{name}_score.txt", np.asarray(scores, np.float64), fmt="%.6f")
    return path


def remove_sequence(directory: str | pathlib.Path, sequence: str) -> None:
    """Deletes the result files of `sequence` (if any) from `directory`."""
    name = safe_name(sequence)
    for suffix in (".txt", "_time.txt", "_score.txt"):
        (pathlib.Path(directory) / f"{name}{suffix}").unlink(missing_ok=True)


def read_boxes(path: str | pathlib.Path) -> np.ndarray:
    """`[N, 4]` float64 from a result file (commas, tabs or spaces)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputFileError(f"result file not found: {path}")
    rows = []
    for line in path.read_text().splitlines():
        parts = [p for p in line.replace(",", " ").replace("\t", " ").split() if p]
        if parts:
            rows.append([float(p) for p in parts[:4]])
    return np.asarray(rows, np.float64).reshape(-1, 4)


def read_values(path: str | pathlib.Path) -> np.ndarray:
    """`[N]` float64 from a one-number-per-line file (times, scores)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputFileError(f"file not found: {path}")
    return np.loadtxt(path, dtype=np.float64, ndmin=1)
