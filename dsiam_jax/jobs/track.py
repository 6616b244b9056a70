"""mode=track: track a video file or a folder of frames with one or more models, headless.

    python -m dsiam_jax.main --config=configs/track.py --config.checkpoint=W2 \\
        --config.video=clip.mp4 --config.init_box="(x,y,w,h)" --workdir=W4

Writes `W4/tracks/<model>.txt` (x,y,w,h per frame, frame 1 = the initial box),
`W4/tracks/<model>.csv` (frame,x,y,w,h,score), `W4/annotated.mp4` or `.gif`
(every model's box with its per-frame confidence) and `W4/track.json`.
"""

from __future__ import annotations

import itertools
import json
import pathlib

import ml_collections
import numpy as np

from data_pipelines.sequences import parse_box_file
from dsiam_jax.checkpoints import load_many
from dsiam_jax.errors import ConfigError
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.runner import TrackResult, track_frames
from dsiam_jax.tracking.tracker import build_tracker
from dsiam_jax.tracking.tunable import tuned_tracker_config
from dsiam_jax.tracking.video import AnnotatedWriter, FrameSource, draw_boxes
from dsiam_jax.workdir import safe_name

GROUNDTRUTH_NAMES = ("groundtruth.txt", "groundtruth_rect.txt")


def find_init_box(source: FrameSource) -> np.ndarray:
    """First box of a groundtruth file next to (or one level above) the frames."""
    folder = source.path if source.path.is_dir() else source.path.parent
    for d in (folder, folder.parent):
        for name in GROUNDTRUTH_NAMES:
            if (d / name).is_file():
                boxes = parse_box_file(d / name)
                if len(boxes):
                    return boxes[0]
    raise ConfigError(
        f"config.init_box is empty and no {' / '.join(GROUNDTRUTH_NAMES)} was found near "
        f"{source.path}: pass --config.init_box='(x,y,w,h)'"
    )


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Tracks `config.video` from `config.init_box` with every model of `config.checkpoint`.

    Each model runs `runner.track_frames` over the frames (decoded again per model,
    outside the timing); the last model's pass also draws every model's boxes.
    """
    workdir_p = pathlib.Path(workdir)
    source = FrameSource(config.video)
    init_box = F.parse_box(config.init_box) if config.init_box else find_init_box(source)
    models = load_many(config.checkpoint)
    tracker_config = tuned_tracker_config(config.tracker, config.get("tracker_from", ""))
    trackers = {n: build_tracker(m, tracker_config, config.backend) for n, m in models.items()}
    fmt = config.output.format
    writer = None
    if fmt != "none":
        writer = AnnotatedWriter(
            workdir_p / "annotated", fmt, config.output.fps or source.fps or 25
        )
    if next(iter(source), None) is None:
        raise F.TrackingInputError(f"no frames could be read from {config.video}")
    names = list(trackers)
    results: dict[str, TrackResult] = {}

    def draw(i: int, frame: np.ndarray, box: np.ndarray, score: float) -> None:
        earlier = [(results[n].boxes[i], results[n].scores[i]) for n in names[:-1]]
        pairs = [*earlier, (box, score)]
        labels = [f"{n} {s:.2f}" for n, (_, s) in zip(names, pairs)]
        writer.write(draw_boxes(frame, [b for b, _ in pairs], labels, config.output.max_side))

    for n, tracker in trackers.items():
        frames = iter(source)
        if config.max_frames:
            frames = itertools.islice(frames, int(config.max_frames))
        on_frame = draw if writer is not None and n == names[-1] else None
        results[n] = track_frames(tracker, frames, init_box, on_frame=on_frame)
    count = len(results[names[0]].boxes)
    video_path = str(writer.close()) if writer is not None else None
    out_dir = workdir_p / "tracks"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"video": str(config.video), "frames": count, "annotated": video_path, "models": {}}
    for n in names:
        b, s = results[n].boxes, results[n].scores
        stem = out_dir / safe_name(n)
        np.savetxt(f"{stem}.txt", b, fmt="%.3f", delimiter=",")
        table = np.column_stack([np.arange(1, count + 1), b, s])
        np.savetxt(
            f"{stem}.csv",
            table,
            fmt=["%d", "%.3f", "%.3f", "%.3f", "%.3f", "%.4f"],
            delimiter=",",
            header="frame,x,y,w,h,score",
            comments="",
        )
        fps = results[n].fps
        summary["models"][n] = {
            "boxes": f"{stem}.txt",
            "table": f"{stem}.csv",
            "fps": fps if np.isfinite(fps) else None,
            "mean_score": float(s[1:].mean()) if count > 1 else None,
        }
        print(f"{n}: {count} frames, {summary['models'][n]['fps'] or 0:.1f} frames/s -> {stem}.txt")
    (workdir_p / "track.json").write_text(json.dumps(summary, indent=2) + "\n")
    if video_path:
        print(f"annotated video: {video_path}")
    return summary
