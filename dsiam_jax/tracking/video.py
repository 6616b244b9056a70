"""Headless video input/output for the track job: frame sources, annotated MP4/GIF.

Reading: a folder of images (natural order: 2.jpg before 10.jpg) through PIL,
or a video file (mp4, avi, mov, mkv, webm, gif, ...) through PyAV (`av`, which
ships its own FFmpeg libraries); an animated GIF also reads without PyAV.
Writing: MP4 (H.264 through PyAV) or GIF (PIL, always available).
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dsiam_jax.errors import ConfigError, InputFileError
from dsiam_jax.tracking.frames import prepare_frame

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
COLORS = [
    (255, 60, 60),
    (60, 220, 60),
    (70, 140, 255),
    (255, 200, 0),
    (230, 80, 230),
    (0, 220, 220),
]


def have_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _natural_key(p: pathlib.Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


class FrameSource:
    """Frames of a video file or an image folder, decoded lazily in order.

    Attributes: `path`, `fps` (source frame rate; None when unknown), `files` (image
    paths for a folder, else None).
    """

    def __init__(self, path: str | pathlib.Path):
        self.path = pathlib.Path(str(path)).expanduser()
        self.fps: float | None = None
        self.files: list[pathlib.Path] | None = None
        if not str(path) or not self.path.exists():
            raise InputFileError(f"video not found: {str(path)!r} (a video file or a frame folder)")
        if self.path.is_dir():
            self.files = sorted(
                (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                key=_natural_key,
            )
            if not self.files:
                raise InputFileError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {self.path}")
        elif self.path.suffix.lower() in IMAGE_SUFFIXES:
            self.files = [self.path]
        else:
            self._probe_video()

    def _probe_video(self) -> None:
        if self.path.suffix.lower() == ".gif" and not have_pyav():
            return
        if not have_pyav():
            raise ConfigError(
                f"reading the video file {self.path} needs PyAV: pip install av "
                "(or pass a folder of frames)"
            )
        import av

        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise InputFileError(f"{self.path} has no video stream")
                rate = container.streams.video[0].average_rate
                self.fps = float(rate) if rate else None
        except av.error.FFmpegError as e:
            raise InputFileError(f"cannot read video {self.path}: {e}") from e

    def __iter__(self) -> Iterator[np.ndarray]:
        """RGB uint8 frames `[H, W, 3]`."""
        if self.files is not None:
            for f in self.files:
                try:
                    with Image.open(f) as img:
                        yield prepare_frame(img)
                except OSError as e:
                    raise InputFileError(f"cannot read frame {f}: {e}") from e
        elif have_pyav():
            import av

            try:
                with av.open(str(self.path)) as container:
                    for frame in container.decode(video=0):
                        yield frame.to_ndarray(format="rgb24")
            except av.error.FFmpegError as e:
                raise InputFileError(f"cannot decode video {self.path}: {e}") from e
        else:  # animated GIF without PyAV
            try:
                with Image.open(self.path) as img:
                    for i in range(getattr(img, "n_frames", 1)):
                        img.seek(i)
                        yield prepare_frame(img)
            except OSError as e:
                raise InputFileError(f"cannot read {self.path}: {e}") from e


def draw_boxes(
    frame: np.ndarray,
    boxes: Sequence[np.ndarray],
    labels: Sequence[str],
    max_side: int = 0,
) -> Image.Image:
    """The frame with each box (x, y, w, h) outlined and labelled, shrunk to `max_side`."""
    img = Image.fromarray(frame)
    scale = 1.0
    if max_side and max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    width = max(2, round(max(img.size) / 300))
    for k, (box, label) in enumerate(zip(boxes, labels)):
        color = COLORS[k % len(COLORS)]
        x, y, w, h = (float(v) * scale for v in box)
        draw.rectangle([x, y, x + w, y + h], outline=color, width=width)
        ty = max(0.0, y - 12) if k % 2 == 0 else min(img.height - 12.0, y + h + 2)
        draw.text((x + 1, ty), label, fill=color, font=font)
    return img


class AnnotatedWriter:
    """Writes annotated frames to `<stem>.mp4` (PyAV H.264) or `<stem>.gif` (PIL)."""

    GIF_MAX_SIDE = 480

    def __init__(self, stem: str | pathlib.Path, fmt: str = "auto", fps: float = 25.0):
        if fmt not in ("auto", "mp4", "gif"):
            raise ConfigError(f"config.output.format={fmt!r}: expected auto, mp4, gif or none")
        if fmt == "mp4" and not have_pyav():
            raise ConfigError("config.output.format='mp4' needs PyAV: pip install av (or use gif)")
        self.format = "mp4" if fmt == "mp4" or (fmt == "auto" and have_pyav()) else "gif"
        self.path = pathlib.Path(f"{stem}.{self.format}")
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self._container = self._stream = None
        self._gif: list[Image.Image] = []

    def write(self, img: Image.Image) -> None:
        if self.format == "gif":
            if max(img.size) > self.GIF_MAX_SIDE:
                s = self.GIF_MAX_SIDE / max(img.size)
                img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))))
            self._gif.append(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
            return
        import av

        arr = np.asarray(img.convert("RGB"))
        arr = arr[: arr.shape[0] // 2 * 2 or 2, : arr.shape[1] // 2 * 2 or 2]  # yuv420p: even
        if arr.shape[0] < 2 or arr.shape[1] < 2:
            arr = np.pad(arr, ((0, 2), (0, 2), (0, 0)))[:2, :2]
        if self._container is None:
            self._container = av.open(str(self.path), "w")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            self._stream = self._container.add_stream(codec, rate=round(self.fps))
            self._stream.width, self._stream.height = arr.shape[1], arr.shape[0]
            self._stream.pix_fmt = "yuv420p"
            self._size = arr.shape[:2]
        if arr.shape[:2] != self._size:  # frames changed size: fit to the first size
            arr = np.asarray(Image.fromarray(arr).resize((self._size[1], self._size[0])))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> pathlib.Path:
        if self.format == "gif":
            if self._gif:
                self._gif[0].save(
                    self.path,
                    save_all=True,
                    append_images=self._gif[1:],
                    duration=max(20, round(1000 / self.fps)),
                    loop=0,
                )
            self._gif = []
        elif self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
        return self.path
