"""mode=track: track a video file or a folder of frames with one or more models, headless.

    python -m dsiam_jax.main --config=configs/track.py --config.checkpoint=W2 \\
        --config.video=clip.mp4 --config.init_box="(x,y,w,h)" --workdir=W4

Writes `W4/tracks/<model>.txt` (x,y,w,h per frame, frame 1 = the initial box),
`W4/tracks/<model>.csv` (frame,x,y,w,h,score), `W4/annotated.mp4` or `.gif`
(every model's box with its per-frame confidence) and `W4/track.json`.
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np

from dsiam_jax.errors import ConfigError
from dsiam_jax.evaluation.results_io import safe_name
from dsiam_jax.tracking import frames as F
from dsiam_jax.tracking.tracker import build_tracker
from dsiam_jax.tracking.video import AnnotatedWriter, FrameSource, draw_boxes

GROUNDTRUTH_NAMES = ("groundtruth.txt", "groundtruth_rect.txt")


def find_init_box(source: FrameSource) -> np.ndarray:
    """First box of a groundtruth file next to (or one level above) the frames."""
    from data_pipelines.sequences import parse_box_file  # no TensorFlow

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


def run(config, workdir: str) -> dict:
    """Tracks `config.video` from `config.init_box` with every model of `config.checkpoint`."""
    from dsiam_jax.checkpoints import load_many

    workdir_p = pathlib.Path(workdir)
    source = FrameSource(config.video)
    init_box = F.parse_box(config.init_box) if config.init_box else find_init_box(source)
    models = load_many(config.checkpoint)
    trackers = {n: build_tracker(m, config.tracker, config.backend) for n, m in models.items()}
    fmt = config.output.format
    writer = None
    if fmt != "none":
        writer = AnnotatedWriter(
            workdir_p / "annotated", fmt, config.output.fps or source.fps or 25
        )
    names = list(trackers)
    boxes = {n: [] for n in names}
    scores = {n: [] for n in names}
    times = {n: [] for n in names}
    states = {}
    count = 0
    for i, raw in enumerate(source):
        if config.max_frames and i >= config.max_frames:
            break
        frame = F.prepare_frame(raw)
        if i == 0:
            F.check_init_box(init_box, frame.shape[:2])  # bad boxes fail before compiling
        for n, tracker in trackers.items():
            tracker.warmup(frame.shape)  # compiles once per frame size, outside the timing
            t0 = time.perf_counter()
            if i == 0:
                states[n] = tracker.init(frame, init_box)
                box, score = np.asarray(init_box, np.float64), 1.0
            else:
                states[n], box, score = tracker.track_device(states[n], frame)
                box, score = np.asarray(box, np.float64), float(score)
            times[n].append(time.perf_counter() - t0)
            boxes[n].append(box)
            scores[n].append(score)
        if writer is not None:
            labels = [f"{n} {scores[n][-1]:.2f}" for n in names]
            writer.write(
                draw_boxes(frame, [boxes[n][-1] for n in names], labels, config.output.max_side)
            )
        count += 1
    if count == 0:
        raise F.TrackingInputError(f"no frames could be read from {config.video}")
    video_path = str(writer.close()) if writer is not None else None
    out_dir = workdir_p / "tracks"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"video": str(config.video), "frames": count, "annotated": video_path, "models": {}}
    for n in names:
        b = np.asarray(boxes[n])
        s = np.asarray(scores[n])
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
        t = np.asarray(times[n][1:])
        summary["models"][n] = {
            "boxes": f"{stem}.txt",
            "table": f"{stem}.csv",
            "fps": float(len(t) / t.sum()) if len(t) and t.sum() > 0 else None,
            "mean_score": float(s[1:].mean()) if count > 1 else None,
        }
        print(f"{n}: {count} frames, {summary['models'][n]['fps'] or 0:.1f} frames/s -> {stem}.txt")
    (workdir_p / "track.json").write_text(json.dumps(summary, indent=2) + "\n")
    if video_path:
        print(f"annotated video: {video_path}")
    return summary
