"""Host-side input checks: frames to RGB uint8, initial boxes validated and clipped.

Everything a user can get wrong (a grayscale or RGBA frame, a PIL image, a box
partly outside the frame, a zero-size box, a box string with a typo) is handled
here, before any JAX code runs, so that mistakes give one clear `TrackingInputError`
instead of a shape error deep inside a compiled function.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

import numpy as np

from dsiam_jax.errors import UserError


class TrackingInputError(UserError, ValueError):
    """A frame or box the tracker cannot use (the message says what and why)."""


def prepare_frame(frame: Any) -> np.ndarray:
    """Any image-like input -> RGB uint8 `[H, W, 3]`.

    Accepts PIL images (any mode), and arrays `[H, W]` (grayscale), `[H, W, 1]`,
    `[H, W, 2]` (gray + alpha), `[H, W, 3]` (RGB) or `[H, W, 4]` (RGBA; alpha is
    dropped). Float arrays are taken as 0..255 and clipped; bool as 0/255.
    """
    if hasattr(frame, "convert") and hasattr(frame, "mode"):  # PIL image
        frame = np.asarray(frame.convert("RGB"))
    arr = np.asarray(frame)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise TrackingInputError(
            f"frame of shape {arr.shape}: expected [H, W] (gray), [H, W, 1|2|3|4] (RGB[A])"
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise TrackingInputError(f"empty frame of shape {arr.shape}")
    if arr.shape[2] in (1, 2):
        arr = np.repeat(arr[:, :, :1], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.number):
            raise TrackingInputError(f"frame of dtype {arr.dtype}: expected numbers")
        arr = np.clip(np.nan_to_num(arr.astype(np.float64)), 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(arr)


def parse_box(text: str | Sequence[float]) -> np.ndarray:
    """ "(x,y,w,h)", "x,y,w,h", "x y w h" or a sequence of 4 numbers -> float64 `[4]`."""
    if isinstance(text, str):
        cleaned = text.strip()
        try:
            value = ast.literal_eval(cleaned)
        except (ValueError, SyntaxError):
            value = [p for p in cleaned.strip("()[]").replace(",", " ").split() if p]
        if isinstance(value, int | float):
            value = [value]
    else:
        value = text
    try:
        box = np.asarray([float(v) for v in value], np.float64)
    except (TypeError, ValueError):
        raise TrackingInputError(f"box {text!r}: expected 4 numbers x,y,w,h") from None
    if box.shape != (4,):
        raise TrackingInputError(f"box {text!r}: expected 4 numbers x,y,w,h, got {box.size}")
    return box


def check_init_box(box: Any, frame_hw: tuple[int, int]) -> np.ndarray:
    """Validates an initial `(x, y, w, h)` box and clips it to the frame.

    A box partly outside the frame is cut to its visible part; a box that is not
    finite, has zero or negative width or height, or lies wholly outside the frame
    raises `TrackingInputError`.
    """
    b = parse_box(box) if isinstance(box, str) else np.asarray(box, np.float64).reshape(-1)
    if b.shape != (4,):
        raise TrackingInputError(f"initial box {box!r}: expected 4 numbers x,y,w,h")
    if not np.all(np.isfinite(b)):
        raise TrackingInputError(f"initial box {b.tolist()} is not finite")
    x, y, w, h = b
    if w <= 0 or h <= 0:
        raise TrackingInputError(
            f"initial box {b.tolist()} has zero or negative size: width and height must be > 0"
        )
    height, width = frame_hw
    x0, y0 = max(x, 0.0), max(y, 0.0)
    x1, y1 = min(x + w, float(width)), min(y + h, float(height))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        raise TrackingInputError(
            f"initial box {b.tolist()} lies outside the {width}x{height} frame"
        )
    return np.asarray([x0, y0, x1 - x0, y1 - y0], np.float64)
